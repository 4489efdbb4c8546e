//! Connection-level changes: the unit of replication between processes.
//!
//! Every local operation is turned into a [`ConnChange`], applied to this process's state, and handed to
//! the [`PresenceBackend`](crate::PresenceBackend). Another process applies the same change with
//! [`Presence::apply_remote`](crate::Presence::apply_remote) and, because local and remote changes go
//! through the same code, derives the same user-level state and events. Changes carry every value that must
//! agree across processes (timestamps, meta stamps), so nothing is recomputed from a remote clock.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::anchor::CursorAnchor;
use crate::clock::Timestamp;
use crate::ids::{ConnId, NodeId};
use crate::meta::Meta;

/// Why a connection stops being tracked on a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UntrackReason {
    /// The user left on purpose (navigated away, closed the socket cleanly, went invisible): removed at
    /// once.
    Clean,
    /// The connection dropped (network loss, server-side error): the user stays present for
    /// [`reconnect_grace`](crate::PresenceConfig::reconnect_grace), so a quick reconnect shows peers no
    /// leave and no join.
    Abnormal,
}

/// Orders the meta writes of one user's connections: the record shows the meta with the greatest stamp
/// (ties broken by connection id). `at` is the writer's clock, made monotonic per process; `seq` counts
/// writes within one process, so two writes in the same millisecond still have an order.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct MetaStamp {
    /// When the meta was written.
    pub at: Timestamp,
    /// The writing process's write counter.
    pub seq: u64,
}

/// One connection-level change, local or received from another process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ConnChange {
    /// A connection is tracked on a key (or tracked again, replacing its meta).
    Track {
        /// The process owning the connection.
        node: NodeId,
        /// The presence key.
        key: Arc<str>,
        /// The connection.
        conn: ConnId,
        /// The connection's user.
        user_id: Arc<str>,
        /// The connection's meta (validated by the owning process).
        meta: Arc<Meta>,
        /// Orders this meta against the user's other connections.
        stamp: MetaStamp,
        /// The connection's join time: the user's `joined_at` when the user was already present (a second
        /// tab inherits it), otherwise the time of the track.
        joined_at: Timestamp,
    },
    /// A tracked connection's meta changes.
    Meta {
        /// The process owning the connection.
        node: NodeId,
        /// The presence key.
        key: Arc<str>,
        /// The connection.
        conn: ConnId,
        /// The new meta.
        meta: Arc<Meta>,
        /// Orders this meta against the user's other connections.
        stamp: MetaStamp,
    },
    /// A connection stops being tracked on a key (clean: now; abnormal: after the reconnect grace).
    Untrack {
        /// The process owning the connection.
        node: NodeId,
        /// The presence key.
        key: Arc<str>,
        /// The connection.
        conn: ConnId,
        /// Clean or abnormal.
        reason: UntrackReason,
        /// When it happened; an abnormal untrack's grace ends at `at + reconnect_grace` on every process.
        at: Timestamp,
    },
    /// A connection's user moved their cursor.
    Cursor {
        /// The process owning the connection.
        node: NodeId,
        /// The presence key.
        key: Arc<str>,
        /// The connection.
        conn: ConnId,
        /// The connection's cursor sequence number; an update not above the last one seen is stale.
        seq: u64,
        /// Horizontal position.
        x: f64,
        /// Vertical position.
        y: f64,
        /// Where the cursor points in the page's content (peers fall back to `x`/`y` without it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anchor: Option<Arc<CursorAnchor>>,
        /// The pointer left the cursor area (or the finger was lifted): peers hide the cursor until
        /// the next move. The user stays present.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        hidden: bool,
    },
    /// An application message for every subscriber of a key.
    Broadcast {
        /// The sending process.
        node: NodeId,
        /// The presence key.
        key: Arc<str>,
        /// The application's event name.
        event: Arc<str>,
        /// The application's payload.
        payload: Arc<Value>,
    },
}

impl ConnChange {
    /// The process the change comes from.
    pub fn node(&self) -> NodeId {
        match self {
            Self::Track { node, .. }
            | Self::Meta { node, .. }
            | Self::Untrack { node, .. }
            | Self::Cursor { node, .. }
            | Self::Broadcast { node, .. } => *node,
        }
    }

    /// The presence key the change is about.
    pub fn key(&self) -> &Arc<str> {
        match self {
            Self::Track { key, .. }
            | Self::Meta { key, .. }
            | Self::Untrack { key, .. }
            | Self::Cursor { key, .. }
            | Self::Broadcast { key, .. } => key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_round_trip_through_json() {
        let mut meta = Meta::new();
        meta.insert("name".into(), json!("Alice"));
        let changes = [
            ConnChange::Track {
                node: NodeId::from_u128(1),
                key: "doc:1".into(),
                conn: ConnId::from_u128(2),
                user_id: "u1".into(),
                meta: Arc::new(meta.clone()),
                stamp: MetaStamp {
                    at: Timestamp::from_millis(10),
                    seq: 3,
                },
                joined_at: Timestamp::from_millis(9),
            },
            ConnChange::Untrack {
                node: NodeId::from_u128(1),
                key: "doc:1".into(),
                conn: ConnId::from_u128(2),
                reason: UntrackReason::Abnormal,
                at: Timestamp::from_millis(11),
            },
            ConnChange::Cursor {
                node: NodeId::from_u128(1),
                key: "doc:1".into(),
                conn: ConnId::from_u128(2),
                seq: 4,
                x: 1.5,
                y: 2.0,
                anchor: None,
                hidden: false,
            },
            ConnChange::Cursor {
                node: NodeId::from_u128(1),
                key: "doc:1".into(),
                conn: ConnId::from_u128(2),
                seq: 5,
                x: 1.0,
                y: 2.0,
                anchor: Some(Arc::new(
                    serde_json::from_value(json!({"n": "content", "i": 4, "dx": 2})).unwrap(),
                )),
                hidden: true,
            },
        ];
        for change in changes {
            let json = serde_json::to_string(&change).unwrap();
            let back: ConnChange = serde_json::from_str(&json).unwrap();
            assert_eq!(back, change);
            assert_eq!(back.key().as_ref(), "doc:1");
            assert_eq!(back.node(), NodeId::from_u128(1));
        }
    }

    #[test]
    fn a_change_with_non_object_meta_does_not_decode() {
        let json = json!({"op": "meta", "node": "0".repeat(32), "key": "k", "conn": "0".repeat(32),
                          "meta": [1, 2], "stamp": {"at": 1, "seq": 1}});
        assert!(serde_json::from_value::<ConnChange>(json).is_err());
    }
}
