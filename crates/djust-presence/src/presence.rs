//! The [`Presence`] handle: a synchronous, cheap-to-clone front to the pure state.
//!
//! Live views read presences and cursors while rendering, so every call is synchronous: it takes a
//! `parking_lot` mutex, applies its change to the state and hands the change to the backend, then
//! sends the resulting events under the lock of the key's fan-out shard only (bounded queues, never
//! blocking; see `subscription.rs` for why the order is kept). Nothing is held across an `.await`.

use std::fmt;
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, MutexGuard};
use serde_json::Value;

use crate::anchor::CursorAnchor;
use crate::backend::PresenceBackend;
use crate::builder::PresenceBuilder;
use crate::change::{ConnChange, MetaStamp, UntrackReason};
use crate::clock::{Clock, Timestamp};
use crate::config::PresenceConfig;
use crate::error::PresenceError;
use crate::event::PresenceEvent;
use crate::ids::{ConnId, NodeId};
use crate::meta::{Meta, validate_meta};
use crate::record::{Cursor, PresenceRecord};
use crate::state::{Outcome, State};
use crate::subscription::{Fanout, Snapshot, Subscription, Unsubscribe};
use crate::sweeper::{self, SweeperHandle};

/// The presence engine: who is on which key, their cursors, and the events between.
///
/// Clones share one engine. See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct Presence {
    pub(crate) shared: Arc<Shared>,
}

/// A handle that does not keep the engine alive (for backends and background tasks).
#[derive(Clone, Debug)]
pub struct WeakPresence {
    shared: Weak<Shared>,
}

impl WeakPresence {
    /// The engine, if any strong handle to it is still alive.
    pub fn upgrade(&self) -> Option<Presence> {
        self.shared.upgrade().map(|shared| Presence { shared })
    }
}

pub(crate) struct Shared {
    config: PresenceConfig,
    clock: Arc<dyn Clock>,
    backend: Arc<dyn PresenceBackend>,
    pub(crate) node: NodeId,
    pub(crate) inner: Mutex<Inner>,
    /// Subscribers, sharded by key (`subscription.rs`).
    pub(crate) fanout: Fanout,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence")
            .field("node", &self.node)
            .field("backend", &self.backend.name())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) state: State,
    /// Events produced under this lock, sent by [`Presence::release`] (after the lock is let go).
    pub(crate) pending: Vec<PresenceEvent>,
    last_stamp: MetaStamp,
}

impl Inner {
    /// The next meta stamp: never earlier than the previous one, even if the clock steps back.
    fn next_stamp(&mut self, now: Timestamp) -> MetaStamp {
        self.last_stamp = MetaStamp {
            at: now.max(self.last_stamp.at),
            seq: self.last_stamp.seq + 1,
        };
        self.last_stamp
    }
}

/// What a [`heartbeat`](Presence::heartbeat) found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// The connection is tracked; its timeout starts over.
    Alive,
    /// The connection had expired and was tracked again on this many keys (joins were emitted).
    Rejoined {
        /// How many keys.
        keys: usize,
    },
    /// The connection is not tracked and not remembered: the caller should track it again.
    Unknown,
}

/// What a [`sweep`](Presence::sweep) did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Connections removed for being silent longer than the timeout.
    pub expired: usize,
    /// Entries removed because their reconnect grace ended.
    pub lapsed: usize,
}

/// Sizes of the engine's state, for metrics and leak checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PresenceStats {
    /// Keys with at least one connection.
    pub keys: usize,
    /// Connections tracked on at least one key (local and remote).
    pub connections: usize,
    /// Open subscriptions.
    pub subscriptions: usize,
    /// Expired connections remembered for re-tracking.
    pub expired_remembered: usize,
}

impl Presence {
    /// An engine with `config`, the in-memory backend, the system clock and a random node id.
    pub fn new(config: PresenceConfig) -> Result<Self, PresenceError> {
        Self::builder().config(config).build()
    }

    /// A builder, to choose the clock, the backend or the node id.
    pub fn builder() -> PresenceBuilder {
        PresenceBuilder::default()
    }

    pub(crate) fn from_parts(
        config: PresenceConfig,
        clock: Arc<dyn Clock>,
        backend: Arc<dyn PresenceBackend>,
        node: NodeId,
    ) -> Self {
        let state = State::new(node, &config);
        let fanout = Fanout::new(config.subscriber_queue);
        Self {
            shared: Arc::new(Shared {
                config,
                clock,
                backend,
                node,
                inner: Mutex::new(Inner {
                    state,
                    pending: Vec::new(),
                    last_stamp: MetaStamp::default(),
                }),
                fanout,
            }),
        }
    }

    /// This process's node id (recorded on every connection it tracks).
    pub fn node_id(&self) -> NodeId {
        self.shared.node
    }

    /// The engine's settings.
    pub fn config(&self) -> &PresenceConfig {
        &self.shared.config
    }

    /// The backend's name (`"memory"` by default).
    pub fn backend_name(&self) -> &str {
        self.shared.backend.name()
    }

    /// The engine clock's current time.
    pub fn now(&self) -> Timestamp {
        self.shared.clock.now()
    }

    /// A handle that does not keep the engine alive.
    pub fn downgrade(&self) -> WeakPresence {
        WeakPresence {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Tracks connection `conn` of user `user_id` on `key` with `meta` (a JSON object). Tracking the same
    /// connection again replaces its meta. Emits a join if this is the user's first connection on the key,
    /// an update if the user's meta changed, nothing otherwise; within a reconnect grace the user's
    /// dropped connections are replaced silently.
    pub fn track(
        &self,
        key: &str,
        conn: ConnId,
        user_id: &str,
        meta: Value,
    ) -> Result<(), PresenceError> {
        if key.is_empty() {
            return Err(PresenceError::EmptyKey);
        }
        if user_id.is_empty() {
            return Err(PresenceError::EmptyUserId);
        }
        let meta = validate_meta(meta, self.shared.config.max_meta_bytes)?;
        let mut inner = self.lock();
        let now = self.now();
        let key = inner.state.interned_key(key).unwrap_or_else(|| key.into());
        self.track_locked(&mut inner, key, conn, user_id.into(), meta, now);
        self.release(inner);
        Ok(())
    }

    fn track_locked(
        &self,
        inner: &mut Inner,
        key: Arc<str>,
        conn: ConnId,
        user_id: Arc<str>,
        meta: Arc<Meta>,
        now: Timestamp,
    ) {
        let stamp = inner.next_stamp(now);
        // A tab joining a present user inherits the user's join time, so closing the first tab later does
        // not move the user in the list.
        let joined_at = inner
            .state
            .key(&key)
            .and_then(|ks| ks.user_joined_at(&user_id))
            .map_or(now, |t| t.min(now));
        let change = ConnChange::Track {
            node: self.shared.node,
            key,
            conn,
            user_id,
            meta,
            stamp,
            joined_at,
        };
        self.commit(inner, change, now);
    }

    /// Stops tracking `conn` on `key`. [`UntrackReason::Clean`] removes it now;
    /// [`UntrackReason::Abnormal`] keeps its user present for the reconnect grace. Returns whether this
    /// changed anything (`false` if the connection was not tracked there, or had already dropped).
    pub fn untrack(&self, key: &str, conn: ConnId, reason: UntrackReason) -> bool {
        let mut inner = self.lock();
        let now = self.now();
        let key = inner.state.interned_key(key).unwrap_or_else(|| key.into());
        let changed = self.untrack_locked(&mut inner, key, conn, reason, now);
        self.release(inner);
        changed
    }

    fn untrack_locked(
        &self,
        inner: &mut Inner,
        key: Arc<str>,
        conn: ConnId,
        reason: UntrackReason,
        now: Timestamp,
    ) -> bool {
        let change = ConnChange::Untrack {
            node: self.shared.node,
            key,
            conn,
            reason,
            at: now,
        };
        self.commit(inner, change, now) == Outcome::Applied
    }

    /// Stops tracking `conn` on every key (the connection closed). Returns on how many keys it was
    /// tracked.
    pub fn untrack_all(&self, conn: ConnId, reason: UntrackReason) -> usize {
        let mut inner = self.lock();
        let now = self.now();
        let keys = inner.state.keys_of(conn);
        let untracked = keys
            .into_iter()
            .filter(|key| self.untrack_locked(&mut inner, key.clone(), conn, reason, now))
            .count();
        inner.state.forget_expired(conn);
        self.release(inner);
        untracked
    }

    /// Replaces the meta of `conn` on `key` (a "typing" indicator, say). Emits an update if the user's
    /// meta changed.
    pub fn update_meta(&self, key: &str, conn: ConnId, meta: Value) -> Result<(), PresenceError> {
        let meta = validate_meta(meta, self.shared.config.max_meta_bytes)?;
        let mut inner = self.lock();
        let now = self.now();
        let not_tracked = || PresenceError::NotTracked {
            key: key.to_owned(),
            conn,
        };
        let interned = inner.state.interned_key(key).ok_or_else(not_tracked)?;
        let stamp = inner.next_stamp(now);
        let change = ConnChange::Meta {
            node: self.shared.node,
            key: interned,
            conn,
            meta,
            stamp,
        };
        let outcome = self.commit(&mut inner, change, now);
        self.release(inner);
        match outcome {
            Outcome::Applied => Ok(()),
            Outcome::NotTracked | Outcome::Stale => Err(not_tracked()),
        }
    }

    /// One record per present user, ordered by `joined_at`, then user id (stable across re-renders).
    pub fn list(&self, key: &str) -> Vec<PresenceRecord> {
        self.lock()
            .state
            .key(key)
            .map(|ks| ks.list())
            .unwrap_or_default()
    }

    /// Like [`Presence::list`], without a copy: the same `Arc` is handed to every caller until the
    /// key changes (a join, leave, meta update, tab opened or closed), so N viewers of one room
    /// share one listing and can tell by pointer that it did not change.
    pub fn list_shared(&self, key: &str) -> Arc<[PresenceRecord]> {
        self.lock()
            .state
            .key(key)
            .map_or_else(|| Arc::from(Vec::new()), |ks| ks.list_shared())
    }

    /// Every visible cursor on `key` in listing order, shared like [`Presence::list_shared`] (a
    /// new `Arc` after each change or cursor move). Above
    /// [`cursor_limit`](PresenceConfig::cursor_limit) cursors only the most recently moved ones
    /// are in it (what live views render); [`Presence::cursors`] has them all.
    pub fn cursors_shared(&self, key: &str) -> crate::record::SharedCursors {
        self.lock()
            .state
            .key(key)
            .map_or_else(|| Arc::from(Vec::new()), |ks| ks.cursors_shared())
    }

    /// How many users are present on `key` (users, not connections).
    pub fn count(&self, key: &str) -> usize {
        self.lock().state.key(key).map_or(0, |ks| ks.count())
    }

    /// Records that `conn` is alive, restarting its timeout on every key. A connection that had expired is
    /// tracked again on the keys it was on (with joins), if it is still remembered.
    pub fn heartbeat(&self, conn: ConnId) -> Heartbeat {
        let mut inner = self.lock();
        let now = self.now();
        let found = inner.state.heartbeat(conn, now);
        let rejoined = found.buried.len();
        for b in found.buried {
            self.track_locked(&mut inner, b.key, conn, b.user, b.meta, now);
        }
        self.release(inner);
        match (rejoined, found.alive) {
            (0, true) => Heartbeat::Alive,
            (0, false) => Heartbeat::Unknown,
            (keys, _) => Heartbeat::Rejoined { keys },
        }
    }

    /// Subscribes to `key`: the current state in [`Subscription::initial`], then every event after it.
    pub fn subscribe(&self, key: &str) -> Subscription {
        let inner = self.lock();
        let key = inner.state.interned_key(key).unwrap_or_else(|| key.into());
        let initial = match inner.state.key(&key) {
            Some(ks) => Snapshot {
                presences: ks.list_shared(),
                cursors: ks.cursors(None),
            },
            None => Snapshot::default(),
        };
        // Registered before the state lock is let go: no event is missed or seen twice.
        let (id, rx, dropped) = self.shared.fanout.add(inner, key.clone());
        let guard = Unsubscribe {
            shared: Arc::downgrade(&self.shared),
            key,
            id,
        };
        Subscription::new(initial, rx, dropped, guard)
    }

    /// Sends an application event to every subscriber of `key`, the sender's own subscription included
    /// (skip it on receipt if it should not see its own message).
    pub fn broadcast(&self, key: &str, event: &str, payload: Value) {
        let mut inner = self.lock();
        let now = self.now();
        let change = ConnChange::Broadcast {
            node: self.shared.node,
            key: inner.state.interned_key(key).unwrap_or_else(|| key.into()),
            event: event.into(),
            payload: Arc::new(payload),
        };
        self.commit(&mut inner, change, now);
        self.release(inner);
    }

    /// Moves the cursor of `conn`'s user on `key` to `(x, y)`. `seq` is the connection's own counter:
    /// an update whose `seq` is not above the last one applied for this connection is stale and ignored
    /// (`Ok(false)`). The connection must be tracked on the key.
    pub fn update_cursor(
        &self,
        key: &str,
        conn: ConnId,
        seq: u64,
        x: f64,
        y: f64,
    ) -> Result<bool, PresenceError> {
        self.cursor_change(key, conn, seq, x, y, None, false)
    }

    /// [`Presence::update_cursor`] with an anchor: where the cursor points in the page's content
    /// (peers resolve it on their own layout, falling back to `x`/`y`).
    ///
    /// # Errors
    /// As [`Presence::update_cursor`].
    pub fn update_cursor_anchored(
        &self,
        key: &str,
        conn: ConnId,
        seq: u64,
        (x, y): (f64, f64),
        anchor: Option<CursorAnchor>,
    ) -> Result<bool, PresenceError> {
        self.cursor_change(key, conn, seq, x, y, anchor.map(Arc::new), false)
    }

    /// Hides the cursor of `conn`'s user on `key` (the pointer left the area, the finger was
    /// lifted): it leaves every cursor listing, with a `CursorRemoved` event, until the next
    /// move; the user stays present. Sequenced like a move (`seq`).
    ///
    /// # Errors
    /// As [`Presence::update_cursor`].
    pub fn hide_cursor(&self, key: &str, conn: ConnId, seq: u64) -> Result<bool, PresenceError> {
        self.cursor_change(key, conn, seq, 0.0, 0.0, None, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn cursor_change(
        &self,
        key: &str,
        conn: ConnId,
        seq: u64,
        x: f64,
        y: f64,
        anchor: Option<Arc<CursorAnchor>>,
        hidden: bool,
    ) -> Result<bool, PresenceError> {
        if !x.is_finite() || !y.is_finite() {
            return Err(PresenceError::NonFiniteCursor { x, y });
        }
        let not_tracked = || PresenceError::NotTracked {
            key: key.to_owned(),
            conn,
        };
        let mut inner = self.lock();
        let now = self.now();
        let interned = inner.state.interned_key(key).ok_or_else(not_tracked)?;
        let change = ConnChange::Cursor {
            node: self.shared.node,
            key: interned,
            conn,
            seq,
            x,
            y,
            anchor,
            hidden,
        };
        let outcome = self.commit(&mut inner, change, now);
        self.release(inner);
        match outcome {
            Outcome::Applied => Ok(true),
            Outcome::Stale => Ok(false),
            Outcome::NotTracked => Err(not_tracked()),
        }
    }

    /// Every present user's cursor on `key`, in listing order.
    pub fn cursors(&self, key: &str) -> Vec<(Arc<str>, Cursor)> {
        self.lock()
            .state
            .key(key)
            .map(|ks| ks.cursors(None))
            .unwrap_or_default()
    }

    /// Other users' cursors: every cursor on `key` except `user_id`'s.
    pub fn cursors_except(&self, key: &str, user_id: &str) -> Vec<(Arc<str>, Cursor)> {
        self.lock()
            .state
            .key(key)
            .map(|ks| ks.cursors(Some(user_id)))
            .unwrap_or_default()
    }

    /// Expires connections silent for longer than `presence_timeout` and ends reconnect graces that are
    /// over, emitting the leaves. The background sweeper calls this every `sweep_interval`.
    pub fn sweep(&self) -> SweepReport {
        let mut inner = self.lock();
        let now = self.now();
        let mut events = Vec::new();
        let result = inner.state.sweep(now, &mut events);
        for change in &result.changes {
            self.shared.backend.publish(change);
        }
        self.shared.fanout.dispatch(inner, events);
        SweepReport {
            expired: result.expired,
            lapsed: result.lapsed,
        }
    }

    /// Starts the background sweeper on the current Tokio runtime.
    pub fn spawn_sweeper(&self) -> Result<SweeperHandle, PresenceError> {
        sweeper::spawn(self.downgrade(), self.shared.config.sweep_interval)
    }

    /// Sizes of the engine's state.
    pub fn stats(&self) -> PresenceStats {
        let inner = self.lock();
        let stats = PresenceStats {
            keys: inner.state.key_count(),
            connections: inner.state.conn_count(),
            subscriptions: 0,
            expired_remembered: inner.state.expired_count(),
        };
        drop(inner);
        PresenceStats {
            subscriptions: self.shared.fanout.count(),
            ..stats
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.inner.lock()
    }

    /// Lets the state lock go and sends the events produced under it (`subscription.rs`).
    pub(crate) fn release(&self, mut inner: MutexGuard<'_, Inner>) {
        let events = std::mem::take(&mut inner.pending);
        self.shared.fanout.dispatch(inner, events);
    }

    /// Applies a local change, queues its events for [`Self::release`], and publishes it if it
    /// changed anything.
    fn commit(&self, inner: &mut Inner, change: ConnChange, now: Timestamp) -> Outcome {
        let mut events = std::mem::take(&mut inner.pending);
        let outcome = inner.state.apply(&change, now, &mut events);
        inner.pending = events;
        if outcome == Outcome::Applied {
            self.shared.backend.publish(&change);
        }
        outcome
    }
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn conn(n: u128) -> ConnId {
        ConnId::from_u128(n)
    }

    /// Two keys in different fan-out shards.
    fn keys_in_two_shards(presence: &Presence) -> (String, String) {
        let first = "room:0".to_owned();
        let shard = presence.shared.fanout.shard(&first) as *const _;
        let other = (1..)
            .map(|i| format!("room:{i}"))
            .find(|k| !std::ptr::eq(presence.shared.fanout.shard(k), shard))
            .unwrap_or_default();
        (first, other)
    }

    #[test]
    fn a_busy_fan_out_holds_neither_the_state_nor_other_keys() {
        let presence = Presence::new(PresenceConfig::default()).unwrap();
        let (busy, other) = keys_in_two_shards(&presence);
        let _watch_busy = presence.subscribe(&busy);
        let _watch_other = presence.subscribe(&other);
        // Hold the busy key's shard as a long fan-out would.
        let shard = presence.shared.fanout.shard(&busy).lock();
        let (done_tx, done_rx) = mpsc::channel();
        let p = presence.clone();
        let (b, o) = (busy.clone(), other.clone());
        std::thread::spawn(move || {
            // Another key's changes, and reads of the busy key, go through.
            p.track(&o, conn(2), "bob", serde_json::json!({})).unwrap();
            let _ = p.list_shared(&b);
            done_tx.send("other").unwrap();
            // A change of the busy key waits for its fan-out (order is kept), then goes through.
            p.track(&b, conn(1), "ann", serde_json::json!({})).unwrap();
            done_tx.send("busy").unwrap();
        });
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok("other"));
        assert!(done_rx.recv_timeout(Duration::from_millis(50)).is_err());
        drop(shard);
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok("busy"));
        assert_eq!(presence.count(&busy), 1);
    }
}
