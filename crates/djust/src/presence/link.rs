//! [`LivePresence`]: one connection's presence state, shared between the view (which calls
//! `track_presence` & co. through [`super::PresenceMixin`]) and the connection task (which
//! polls the subscription, forwards heartbeats and untracks on close).
//!
//! Why a shared link rather than a subscription owned by the view: the connection task must
//! poll the subscription in the same `select!` as the WebSocket and the info channel, without
//! an extra task per connection (a forwarding task would be woken once per event — at 200
//! users × 20 Hz that is 800k wake-ups a second). The view hands a new subscription over
//! through the link; the task takes it after every callback.

use std::fmt;
use std::sync::Arc;

use djust_presence::{ConnId, Presence, PresenceError, Subscription, UntrackReason};
use parking_lot::Mutex;
use serde_json::Value;

use super::cursors::{CursorExtras, Cursors};
use super::shared::PresenceList;
use crate::socket::Socket;

/// What the view and the connection task share.
#[derive(Default)]
struct LinkState {
    /// The key this connection is subscribed to (and tracked on, if `tracked`).
    key: Option<String>,
    tracked: bool,
    user_id: Option<Arc<str>>,
    /// The meta last tracked with, as compact JSON: read rarely (the spec's `_presence_meta`,
    /// a caret's label), while a `Value` object (an index map, a string per key and value)
    /// would be ~0.8 KiB of every connection's memory next to the engine's own copy.
    meta: Option<StoredMeta>,
    /// Cursor sequence number: the engine ignores a move older than the last one applied.
    seq: u64,
    /// A subscription made by the view that the connection task has not taken yet.
    handover: Option<Subscription>,
    /// The `_cursor` extras of the event being handled (anchor, hidden), for its
    /// `update_cursor_position`.
    cursor_extras: Option<CursorExtras>,
}

/// A meta kept as its compact JSON text.
struct StoredMeta(Box<str>);

impl StoredMeta {
    fn new(meta: &Value) -> Self {
        Self(meta.to_string().into_boxed_str())
    }

    /// The meta again. Parsing JSON that `Value` wrote gives the same `Value` back (object
    /// order kept, numbers exactly: serde_json writes the shortest form that reads back equal).
    fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

/// One connection's link to the presence engine (kept in its [`Socket`]).
#[derive(Clone)]
pub(crate) struct PresenceLink {
    state: Arc<Mutex<LinkState>>,
    engine: Presence,
    conn: ConnId,
}

impl PresenceLink {
    pub(crate) fn new(engine: Presence, conn: ConnId) -> Self {
        Self {
            state: Arc::default(),
            engine,
            conn,
        }
    }

    /// The engine this connection is tracked in.
    pub(crate) fn engine(&self) -> &Presence {
        &self.engine
    }

    /// The meta this connection was last tracked with (the caret label of shared text).
    pub(crate) fn meta(&self) -> Option<Value> {
        self.state.lock().meta.as_ref().map(StoredMeta::value)
    }

    /// What the view changed since the last call, in one lock: a subscription it made (track or
    /// key move), if any, and the presence user id this connection is now tracked as (the view
    /// is not told about its own user's joins and leaves, nor re-rendered for its own cursor).
    pub(crate) fn sync(&self) -> (Option<Subscription>, Option<Arc<str>>) {
        let mut state = self.state.lock();
        let own = if state.tracked {
            state.user_id.clone()
        } else {
            None
        };
        (state.handover.take(), own)
    }

    /// Sets (`Some`) or clears (`None`) the `_cursor` extras of the event about to be handled.
    pub(crate) fn set_cursor_extras(&self, extras: Option<CursorExtras>) {
        self.state.lock().cursor_extras = extras;
    }

    /// The client's heartbeat: keeps this connection's entries alive (and re-tracks them if
    /// they had expired).
    pub(crate) fn heartbeat(&self) {
        if self.state.lock().tracked {
            self.engine.heartbeat(self.conn);
        }
    }

    /// The connection ended: a clean close untracks at once, a drop after the reconnect grace.
    pub(crate) fn terminate(&self, clean: bool) {
        let reason = if clean {
            UntrackReason::Clean
        } else {
            UntrackReason::Abnormal
        };
        let mut state = self.state.lock();
        if state.tracked {
            self.engine.untrack_all(self.conn, reason);
            state.tracked = false;
        }
        state.handover = None;
    }

    /// The connection was closed for silence (idle timeout): its entries are left to the
    /// engine, which expires them `presence_timeout` after their last heartbeat — so a
    /// silent client leaves peers at the presence timeout (plus one sweep), whatever the
    /// idle timeout, instead of at the idle timeout plus the reconnect grace.
    pub(crate) fn abandon(&self) {
        let mut state = self.state.lock();
        state.tracked = false;
        state.handover = None;
    }
}

/// A view's handle on presence for its connection: the state behind the spec's
/// `PresenceMixin`. Create it in `mount` with [`LivePresence::new`], keep it in a
/// `#[serde(skip)]` field, and return it from [`super::PresenceMixin::presence`].
///
/// During the HTTP GET's static render (`socket.connected() == false`) tracking is remembered
/// (so the key and meta are known) but not sent to the engine: only a live WebSocket
/// connection makes a user present.
#[derive(Clone)]
pub struct LivePresence {
    link: PresenceLink,
    connected: bool,
    default_user_id: Arc<str>,
    default_name: Arc<str>,
    default_color: &'static str,
}

impl fmt::Debug for LivePresence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.link.state.lock();
        f.debug_struct("LivePresence")
            .field("conn", &self.link.conn)
            .field("key", &state.key)
            .field("tracked", &state.tracked)
            .finish_non_exhaustive()
    }
}

impl LivePresence {
    /// The presence handle of the connection behind `socket`.
    pub fn new(socket: &Socket) -> Self {
        Self {
            link: socket.presence_link().clone(),
            connected: socket.connected(),
            default_user_id: Arc::from(socket.identity().user_id()),
            default_name: Arc::from(socket.identity().display_name()),
            default_color: socket.identity().color(),
        }
    }

    /// `meta` with the identity's defaults for what it leaves out: `"name"`
    /// ([`crate::Identity::display_name`], e.g. `Guest 3f2a`) and `"color"`
    /// ([`crate::Identity::color`], or the next free palette colour if it is in `taken_colors`,
    /// see [`crate::guest::free_color`]). `null` counts as `{}`; keys the meta sets are kept,
    /// and a meta that is not an object is returned as it is (tracking then reports it).
    pub fn with_default_meta(&self, meta: Value, taken_colors: &[String]) -> Value {
        let mut meta = match meta {
            Value::Null => Value::Object(serde_json::Map::new()),
            other => other,
        };
        if let Value::Object(map) = &mut meta {
            map.entry("name")
                .or_insert_with(|| Value::from(&*self.default_name));
            map.entry("color").or_insert_with(|| {
                Value::from(crate::guest::free_color(self.default_color, taken_colors))
            });
        }
        meta
    }

    /// The default presence user id: the authenticated user's id, else `anon_{session_key}`.
    pub fn default_user_id(&self) -> &str {
        &self.default_user_id
    }

    /// The application's presence engine, for what the mixins don't cover.
    pub fn engine(&self) -> &Presence {
        &self.link.engine
    }

    /// This connection's id in the presence engine.
    pub fn conn_id(&self) -> ConnId {
        self.link.conn
    }

    /// The key this connection is tracked on or subscribed to, if any.
    pub fn key(&self) -> Option<String> {
        self.link.state.lock().key.clone()
    }

    /// The meta last passed to `track_presence` / `update_presence` (the spec's
    /// `_presence_meta`).
    pub fn meta(&self) -> Option<Value> {
        self.link.meta()
    }

    /// True while this connection is tracked in the engine.
    pub fn is_tracked(&self) -> bool {
        self.link.state.lock().tracked
    }

    /// Tracks this connection on `key` as `user_id` (moving it if it was tracked on another
    /// key) and subscribes the view to the key's events.
    pub(crate) fn track(
        &self,
        key: String,
        user_id: &str,
        meta: Value,
    ) -> Result<(), PresenceError> {
        let engine = &self.link.engine;
        let mut state = self.link.state.lock();
        if !self.connected {
            // Static render: nothing is tracked, but validate so the error shows up on the
            // page request already rather than only over the WebSocket.
            djust_presence::check_meta(&meta, engine.config().max_meta_bytes)?;
            state.key = Some(key);
            state.user_id = Some(Arc::from(user_id));
            state.meta = Some(StoredMeta::new(&meta));
            return Ok(());
        }
        let old_key = state.key.clone();
        let moving = old_key.as_deref().is_some_and(|old| old != key);
        let stored = StoredMeta::new(&meta);
        // Track first so a bad meta leaves everything as it was.
        engine.track(&key, self.link.conn, user_id, meta)?;
        if moving
            && state.tracked
            && let Some(old) = old_key.as_deref()
        {
            engine.untrack(old, self.link.conn, UntrackReason::Clean);
        }
        if moving || old_key.is_none() {
            // Subscribe after tracking: the own join is part of the snapshot, not an event.
            let mut sub = engine.subscribe(&key);
            // Views read the key's state from the engine (shared lists), not from the
            // snapshot: its copy of every cursor would stay with the connection for its life.
            sub.initial = djust_presence::Snapshot::default();
            state.handover = Some(sub);
        }
        state.key = Some(key);
        state.tracked = true;
        state.user_id = Some(Arc::from(user_id));
        state.meta = Some(stored);
        Ok(())
    }

    /// Stops tracking; the view stays subscribed and keeps seeing the others.
    pub(crate) fn untrack(&self) {
        let mut state = self.link.state.lock();
        if let (true, Some(key)) = (state.tracked, state.key.as_deref()) {
            self.link
                .engine
                .untrack(key, self.link.conn, UntrackReason::Clean);
        }
        state.tracked = false;
    }

    /// Replaces this connection's meta (e.g. a typing flag).
    pub(crate) fn update(&self, meta: Value) -> Result<(), PresenceError> {
        let mut state = self.link.state.lock();
        let stored = StoredMeta::new(&meta);
        match (self.connected && state.tracked, state.key.as_deref()) {
            (true, Some(key)) => self.link.engine.update_meta(key, self.link.conn, meta)?,
            (false, Some(_)) => {
                djust_presence::check_meta(&meta, self.link.engine.config().max_meta_bytes)?
            }
            (_, None) => return Err(PresenceError::NoKey),
        }
        state.meta = Some(stored);
        Ok(())
    }

    /// The key to read from: the tracked/subscribed one, else `fallback` (e.g. during a render
    /// before `track_presence` was called).
    fn read_key(
        &self,
        fallback: impl FnOnce() -> Result<String, PresenceError>,
    ) -> Result<String, PresenceError> {
        match self.key() {
            Some(key) => Ok(key),
            None => fallback(),
        }
    }

    pub(crate) fn list(
        &self,
        fallback: impl FnOnce() -> Result<String, PresenceError>,
    ) -> Result<PresenceList, PresenceError> {
        let key = self.read_key(fallback)?;
        let records = self.link.engine.list_shared(&key);
        Ok(PresenceList::new(&key, records))
    }

    pub(crate) fn count(
        &self,
        fallback: impl FnOnce() -> Result<String, PresenceError>,
    ) -> Result<usize, PresenceError> {
        Ok(self.link.engine.count(&self.read_key(fallback)?))
    }

    pub(crate) fn broadcast(&self, event: &str, payload: Value) -> Result<(), PresenceError> {
        let key = self.key().ok_or(PresenceError::NoKey)?;
        if self.connected {
            self.link.engine.broadcast(&key, event, payload);
        }
        Ok(())
    }

    pub(crate) fn update_cursor(&self, x: f64, y: f64) -> Result<(), PresenceError> {
        let mut state = self.link.state.lock();
        let Some(key) = state.key.clone() else {
            return Err(PresenceError::NoKey);
        };
        if !self.connected {
            return Ok(());
        }
        state.seq += 1;
        let seq = state.seq;
        let extras = state.cursor_extras.take().unwrap_or_default();
        drop(state);
        let engine = &self.link.engine;
        let conn = self.link.conn;
        if extras.hidden {
            engine.hide_cursor(&key, conn, seq).map(|_| ())
        } else {
            engine
                .update_cursor_anchored(&key, conn, seq, (x, y), extras.anchor)
                .map(|_| ())
        }
    }

    pub(crate) fn cursors_except(
        &self,
        user_id: &str,
        fallback: impl FnOnce() -> Result<String, PresenceError>,
    ) -> Result<Cursors, PresenceError> {
        let key = self.read_key(fallback)?;
        let all = self.link.engine.cursors_shared(&key);
        Ok(Cursors::new(&key, all, user_id))
    }
}

#[cfg(test)]
mod tests {
    use super::StoredMeta;
    use serde_json::json;

    #[test]
    fn a_stored_meta_reads_back_equal_in_order() {
        let meta = json!({
            "name": "Zoë \"Z\" <b>",
            "color": "#e11d48",
            "x": 0.1,
            "big": u64::MAX,
            "neg": -3,
            "tags": ["a", {"b": null, "a": true}],
        });
        let back = StoredMeta::new(&meta).value();
        assert_eq!(back, meta);
        let keys: Vec<_> = back.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["name", "color", "x", "big", "neg", "tags"]);
    }
}
