//! The pure presence state: connection-level changes in, user-level events out.
//!
//! No locks, no IO, no clock: every function that depends on time takes `now`. The [`Presence`] handle
//! owns one `State` behind its mutex, turns its calls into [`ConnChange`]s, applies them here and fans the
//! resulting events out. Keeping this module pure is what makes every timeout testable without sleeping,
//! and what lets a remote process apply the very same changes and reach the very same state.
//!
//! [`Presence`]: crate::Presence

mod key_state;
mod tombstones;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::change::{ConnChange, UntrackReason};
use crate::clock::{Timestamp, duration_millis};
use crate::config::PresenceConfig;
use crate::event::{EventKind, PresenceEvent};
use crate::ids::{ConnId, NodeId};

pub(crate) use key_state::{KeyState, NewEntry, Status, Transition};
pub(crate) use tombstones::Buried;
use tombstones::Tombstones;

/// What applying a change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The state changed (or, for a broadcast, the message went out).
    Applied,
    /// The change names a connection that has no live entry on the key.
    NotTracked,
    /// A cursor update older than one already applied.
    Stale,
}

/// What a heartbeat found.
pub(crate) struct HeartbeatFound {
    /// The connection has live entries (their timeout was just reset).
    pub alive: bool,
    /// Keys the connection was tracked on when it expired, to track again.
    pub buried: Vec<Buried>,
}

/// What a sweep did.
#[derive(Default)]
pub(crate) struct SweepResult {
    /// Local changes to publish, in the order they were applied.
    pub changes: Vec<ConnChange>,
    /// Connections removed for silence.
    pub expired: usize,
    /// Entries removed because their reconnect grace ended.
    pub lapsed: usize,
}

/// Per-connection bookkeeping across keys: which keys it is on, and when it times out.
struct ConnInfo {
    node: NodeId,
    /// Keys with an entry (live or pending) for this connection.
    keys: Vec<Arc<str>>,
    /// How many of those entries are live.
    live: usize,
    /// Set for local connections with a live entry: silent past this time, they expire.
    deadline: Option<Timestamp>,
}

/// The whole presence state of one process: every key, plus the indexes that make heartbeats, sweeps and
/// disconnects cost what they touch rather than a scan.
pub(crate) struct State {
    local: NodeId,
    timeout: Duration,
    grace: Duration,
    keys: HashMap<Arc<str>, KeyState>,
    conns: HashMap<ConnId, ConnInfo>,
    /// `(deadline, conn)` of every local connection with a live entry.
    timeouts: BTreeSet<(Timestamp, ConnId)>,
    /// `(grace end, conn, key)` of every pending entry, local or remote.
    graces: BTreeSet<(Timestamp, ConnId, Arc<str>)>,
    tombs: Tombstones,
    cursor_cap: key_state::CursorCap,
}

impl State {
    pub(crate) fn new(local: NodeId, config: &PresenceConfig) -> Self {
        Self {
            local,
            timeout: config.presence_timeout,
            grace: config.reconnect_grace,
            cursor_cap: key_state::CursorCap {
                limit: config.cursor_limit,
                linger_ms: duration_millis(config.cursor_linger),
            },
            keys: HashMap::new(),
            conns: HashMap::new(),
            timeouts: BTreeSet::new(),
            graces: BTreeSet::new(),
            tombs: Tombstones::new(
                duration_millis(config.expired_retention),
                config.max_expired,
            ),
        }
    }

    /// Applies one change, local or remote, appending the events it causes to `out`.
    pub(crate) fn apply(
        &mut self,
        change: &ConnChange,
        now: Timestamp,
        out: &mut Vec<PresenceEvent>,
    ) -> Outcome {
        let mut tr = Vec::new();
        match change {
            ConnChange::Track {
                node,
                key,
                conn,
                user_id,
                meta,
                stamp,
                joined_at,
            } => {
                let ks = self
                    .keys
                    .entry(key.clone())
                    .or_insert_with(|| KeyState::new(key.clone(), self.cursor_cap));
                let entry = NewEntry {
                    conn: *conn,
                    node: *node,
                    user: user_id.clone(),
                    meta: meta.clone(),
                    stamp: *stamp,
                    joined_at: *joined_at,
                };
                ks.track(entry, out, &mut tr);
                self.settle(key, &tr, now);
                if *node == self.local {
                    // A track is a sign of life, and supersedes what was remembered for this key.
                    self.refresh_deadline(*conn, now);
                    self.tombs.forget_key(*conn, key);
                }
                Outcome::Applied
            }
            ConnChange::Meta {
                key,
                conn,
                meta,
                stamp,
                ..
            } => match self.keys.get_mut(&**key) {
                Some(ks) => ks.set_meta(*conn, meta.clone(), *stamp, out),
                None => Outcome::NotTracked,
            },
            ConnChange::Untrack {
                node,
                key,
                conn,
                reason,
                at,
            } => {
                if *node == self.local {
                    self.tombs.forget_key(*conn, key);
                }
                let changed = match self.keys.get_mut(&**key) {
                    Some(ks) => ks.untrack(*conn, *reason, *at, self.grace, out, &mut tr),
                    None => false,
                };
                self.settle(key, &tr, now);
                if changed {
                    Outcome::Applied
                } else {
                    Outcome::NotTracked
                }
            }
            ConnChange::Cursor {
                key,
                conn,
                seq,
                x,
                y,
                anchor,
                hidden,
                ..
            } => match self.keys.get_mut(&**key) {
                Some(ks) => {
                    let update = key_state::CursorUpdate {
                        conn: *conn,
                        seq: *seq,
                        x: *x,
                        y: *y,
                        anchor,
                        hidden: *hidden,
                        now,
                    };
                    ks.move_cursor(&update, out)
                }
                None => Outcome::NotTracked,
            },
            ConnChange::Broadcast {
                key,
                event,
                payload,
                ..
            } => {
                out.push(PresenceEvent {
                    key: key.clone(),
                    kind: EventKind::Broadcast {
                        event: event.clone(),
                        payload: payload.clone(),
                    },
                });
                Outcome::Applied
            }
        }
    }

    /// Keeps the per-connection indexes in step with entry transitions on `key`, and drops the key's state
    /// once it is empty (a key with nobody on it costs nothing).
    fn settle(&mut self, key: &Arc<str>, transitions: &[Transition], now: Timestamp) {
        for t in transitions {
            if let Status::Pending(until) = t.from {
                self.graces.remove(&(until, t.conn, key.clone()));
            }
            if let Status::Pending(until) = t.to {
                self.graces.insert((until, t.conn, key.clone()));
            }
            let info = self.conns.entry(t.conn).or_insert_with(|| ConnInfo {
                node: t.node,
                keys: Vec::new(),
                live: 0,
                deadline: None,
            });
            if t.from == Status::Absent {
                info.keys.push(key.clone());
            }
            if t.to == Status::Absent {
                info.keys.retain(|k| k != key);
            }
            if t.from == Status::Live {
                info.live = info.live.saturating_sub(1);
            }
            if t.to == Status::Live {
                info.live += 1;
            }
            if info.node == self.local {
                if info.live == 0 {
                    if let Some(deadline) = info.deadline.take() {
                        self.timeouts.remove(&(deadline, t.conn));
                    }
                } else if info.deadline.is_none() {
                    let deadline = now.saturating_add(self.timeout);
                    info.deadline = Some(deadline);
                    self.timeouts.insert((deadline, t.conn));
                }
            }
            if info.keys.is_empty() {
                self.conns.remove(&t.conn);
            }
        }
        if self.keys.get(key).is_some_and(KeyState::is_empty) {
            self.keys.remove(key);
        }
    }

    /// Restarts a local connection's timeout from `now`, if it has a live entry.
    fn refresh_deadline(&mut self, conn: ConnId, now: Timestamp) -> bool {
        let Some(info) = self.conns.get_mut(&conn) else {
            return false;
        };
        if info.node != self.local || info.live == 0 {
            return false;
        }
        if let Some(old) = info.deadline {
            self.timeouts.remove(&(old, conn));
        }
        let deadline = now.saturating_add(self.timeout);
        info.deadline = Some(deadline);
        self.timeouts.insert((deadline, conn));
        true
    }

    /// A heartbeat from a local connection: restarts its timeout and hands back what it was tracked on if
    /// it had expired (the caller tracks those keys again).
    pub(crate) fn heartbeat(&mut self, conn: ConnId, now: Timestamp) -> HeartbeatFound {
        HeartbeatFound {
            alive: self.refresh_deadline(conn, now),
            buried: self.tombs.exhume(conn).unwrap_or_default(),
        }
    }

    /// Forgets what an expired connection was tracked on (it was untracked everywhere on purpose).
    pub(crate) fn forget_expired(&mut self, conn: ConnId) {
        self.tombs.forget(conn);
    }

    /// Expires local connections silent for longer than the timeout (`deadline < now`) and ends the
    /// reconnect graces that are over, appending events to `out`.
    pub(crate) fn sweep(&mut self, now: Timestamp, out: &mut Vec<PresenceEvent>) -> SweepResult {
        let mut result = SweepResult::default();
        while let Some(&(deadline, conn)) = self.timeouts.first() {
            if deadline >= now {
                break;
            }
            self.timeouts.pop_first();
            let keys = match self.conns.get_mut(&conn) {
                Some(info) => {
                    info.deadline = None;
                    info.keys.clone()
                }
                None => continue,
            };
            let mut buried = Vec::new();
            for key in keys {
                // Entries within a reconnect grace are not live; their grace decides when they go.
                let Some((user, meta)) = self.keys.get(&key).and_then(|ks| ks.live_entry(conn))
                else {
                    continue;
                };
                let change = ConnChange::Untrack {
                    node: self.local,
                    key: key.clone(),
                    conn,
                    reason: UntrackReason::Clean,
                    at: now,
                };
                self.apply(&change, now, out);
                result.changes.push(change);
                buried.push(Buried { key, user, meta });
            }
            self.tombs.bury(conn, now, buried);
            result.expired += 1;
        }
        while let Some((until, conn, key)) = self.graces.first().cloned() {
            if until >= now {
                break;
            }
            self.graces.pop_first();
            let node = self.conns.get(&conn).map_or(self.local, |info| info.node);
            let change = ConnChange::Untrack {
                node,
                key,
                conn,
                reason: UntrackReason::Clean,
                at: now,
            };
            self.apply(&change, now, out);
            // Every process ends remote graces too (so a crashed owner cannot leave a ghost), but only the
            // owner publishes the removal.
            if node == self.local {
                result.changes.push(change);
            }
            result.lapsed += 1;
        }
        self.tombs.prune(now);
        result
    }

    /// Removes every connection `node` owns, with the leaves this causes. Returns how many connections.
    pub(crate) fn remove_node(
        &mut self,
        node: NodeId,
        now: Timestamp,
        out: &mut Vec<PresenceEvent>,
    ) -> usize {
        let mut victims: Vec<(ConnId, Vec<Arc<str>>)> = self
            .conns
            .iter()
            .filter(|(_, info)| info.node == node)
            .map(|(conn, info)| (*conn, info.keys.clone()))
            .collect();
        // Deterministic event order, whatever the hash map's.
        victims.sort_unstable_by_key(|(conn, _)| *conn);
        for (conn, keys) in &victims {
            for key in keys {
                let mut tr = Vec::new();
                if let Some(ks) = self.keys.get_mut(key) {
                    ks.remove(*conn, out, &mut tr);
                }
                self.settle(key, &tr, now);
            }
            if node == self.local {
                self.tombs.forget(*conn);
            }
        }
        victims.len()
    }

    /// The changes that recreate this process's own entries, key by key in key order.
    pub(crate) fn local_changes(&self) -> Vec<ConnChange> {
        self.node_changes(self.local)
    }

    /// The changes that recreate the entries `node` owns in this state, key by key in key order.
    pub(crate) fn node_changes(&self, node: NodeId) -> Vec<ConnChange> {
        let mut keys: Vec<&KeyState> = self.keys.values().collect();
        keys.sort_unstable_by(|a, b| a.key().cmp(b.key()));
        let mut out = Vec::new();
        for ks in keys {
            ks.changes_of(node, &mut out);
        }
        out
    }

    pub(crate) fn key(&self, key: &str) -> Option<&KeyState> {
        self.keys.get(key)
    }

    /// Keys `conn` has an entry on (live or pending).
    pub(crate) fn keys_of(&self, conn: ConnId) -> Vec<Arc<str>> {
        self.conns
            .get(&conn)
            .map(|i| i.keys.clone())
            .unwrap_or_default()
    }

    pub(crate) fn key_count(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn conn_count(&self) -> usize {
        self.conns.len()
    }

    pub(crate) fn expired_count(&self) -> usize {
        self.tombs.len()
    }

    /// The state's own `Arc` for `key`, so hot paths (cursor moves) need not allocate one.
    pub(crate) fn interned_key(&self, key: &str) -> Option<Arc<str>> {
        self.keys.get(key).map(|ks| ks.key().clone())
    }
}
