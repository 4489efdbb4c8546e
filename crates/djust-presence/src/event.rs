//! User-level events delivered to subscribers of a key.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::record::{Cursor, PresenceRecord};

/// One change on a presence key, as a subscriber sees it.
///
/// Serializes as `{"key": "doc:1", "type": "join", "data": {..}}` (see [`EventKind`]); the payload sits
/// under `data` so meta keys can never collide with `key` or `type`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PresenceEvent {
    /// The presence key the event happened on.
    pub key: Arc<str>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened on a key. Presence events are user-level: a second tab of a present user is not a join,
/// closing one of two tabs is not a leave.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum EventKind {
    /// A user's first connection on the key was tracked.
    Join(PresenceRecord),
    /// A user's last connection on the key went away (untrack, disconnect, timeout, lapsed grace). The
    /// record is the user's as it was last listed.
    Leave(PresenceRecord),
    /// A present user's meta changed (a tab tracked or updated different meta, or the tab whose meta was
    /// shown went away and an older tab's meta now shows).
    Update(PresenceRecord),
    /// A user's cursor moved.
    CursorMoved {
        /// The cursor's owner.
        user_id: Arc<str>,
        /// The new position, with the owner's meta.
        cursor: Cursor,
    },
    /// A user's cursor is gone (emitted right after the user's leave).
    CursorRemoved {
        /// The cursor's former owner.
        user_id: Arc<str>,
    },
    /// An application message sent with [`Presence::broadcast`](crate::Presence::broadcast).
    Broadcast {
        /// The application's event name (`"content_changed"`).
        event: Arc<str>,
        /// The application's payload.
        payload: Arc<Value>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use serde_json::json;

    #[test]
    fn events_serialize_with_type_and_data() {
        let record = PresenceRecord::new("u1".into(), Timestamp::from_millis(1), 1, Arc::default());
        let join = PresenceEvent {
            key: "doc:1".into(),
            kind: EventKind::Join(record),
        };
        assert_eq!(
            serde_json::to_value(&join).unwrap(),
            json!({"key": "doc:1", "type": "join",
                   "data": {"id": "u1", "joined_at": 1, "connections": 1, "meta": {}}})
        );
        let removed = PresenceEvent {
            key: "doc:1".into(),
            kind: EventKind::CursorRemoved {
                user_id: "u1".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&removed).unwrap(),
            json!({"key": "doc:1", "type": "cursor_removed", "data": {"user_id": "u1"}})
        );
        let broadcast = PresenceEvent {
            key: "doc:1".into(),
            kind: EventKind::Broadcast {
                event: "ping".into(),
                payload: Arc::new(json!({"n": 1})),
            },
        };
        assert_eq!(
            serde_json::to_value(&broadcast).unwrap(),
            json!({"key": "doc:1", "type": "broadcast", "data": {"event": "ping", "payload": {"n": 1}}})
        );
    }
}
