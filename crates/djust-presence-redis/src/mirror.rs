//! This process's own connections as stored in its Redis hash, kept in step with what it publishes.
//!
//! The driver feeds every local change it takes from the engine, in order, through [`Mirror::apply`],
//! which follows the engine's rules for a process's own entries and says which hash fields to write. So
//! the hash always holds exactly the state after the changes published so far (the hash write and the
//! message go out in one script), which is what lets a receiver bootstrap from the hash and then apply the
//! messages numbered after it. The mirror is also what is written in full when the process (re)registers
//! after an outage, without taking the engine's lock.
//!
//! Hash fields (every value is a JSON array of [`ConnChange`]s that recreate it, so a reader needs no other
//! format):
//! - `e:{conn}:{key}` — one connection on one key: its `Track`, followed by an abnormal `Untrack` while
//!   it is within its reconnect grace;
//! - `c:["{key}","{user}"]` — the user's cursor as last moved from this process: a `Cursor`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use djust_presence::{ConnChange, ConnId, Timestamp, UntrackReason};

/// Hash fields to write (`Some`) or delete (`None`); later writes to a field replace earlier ones, since
/// only the final state is stored.
pub(crate) type HashOps = HashMap<String, Option<String>>;

/// One connection entry: its track, and since when it is pending, if it is.
struct Entry {
    track: ConnChange,
    user: Arc<str>,
    pending: Option<Timestamp>,
}

/// One user's entries on one key, and the cursor they last moved from here.
#[derive(Default)]
struct UserSide {
    conns: Vec<ConnId>,
    cursor: Option<ConnChange>,
}

/// See the [module documentation](self).
pub(crate) struct Mirror {
    grace: Duration,
    entries: HashMap<(Arc<str>, ConnId), Entry>,
    users: HashMap<(Arc<str>, Arc<str>), UserSide>,
}

impl Mirror {
    /// An empty mirror for an engine with this reconnect grace.
    pub(crate) fn new(grace: Duration) -> Self {
        Self {
            grace,
            entries: HashMap::new(),
            users: HashMap::new(),
        }
    }

    /// How many connection entries (connection × key) are stored.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Follows one change this process published, adding the hash writes it implies to `ops`.
    pub(crate) fn apply(&mut self, change: &ConnChange, ops: &mut HashOps) {
        match change {
            ConnChange::Track {
                key, conn, user_id, ..
            } => self.track(key, *conn, user_id, change, ops),
            ConnChange::Meta {
                key,
                conn,
                meta,
                stamp,
                ..
            } => {
                let id = (key.clone(), *conn);
                let Some(entry) = self.entries.get_mut(&id).filter(|e| e.pending.is_none()) else {
                    return;
                };
                if let ConnChange::Track {
                    meta: m, stamp: s, ..
                } = &mut entry.track
                {
                    *m = meta.clone();
                    *s = *stamp;
                }
                ops.insert(entry_field(key, *conn), Some(entry_value(entry)));
            }
            ConnChange::Untrack {
                key,
                conn,
                reason,
                at,
                ..
            } => {
                let id = (key.clone(), *conn);
                if *reason == UntrackReason::Clean || self.grace.is_zero() {
                    self.remove(&id, ops);
                } else if let Some(entry) = self.entries.get_mut(&id)
                    && entry.pending.is_none()
                {
                    // A second abnormal untrack keeps the first one's grace, as in the engine.
                    entry.pending = Some(*at);
                    ops.insert(entry_field(key, *conn), Some(entry_value(entry)));
                }
            }
            ConnChange::Cursor { key, conn, .. } => {
                let Some(entry) = self
                    .entries
                    .get(&(key.clone(), *conn))
                    .filter(|e| e.pending.is_none())
                else {
                    return;
                };
                let user = entry.user.clone();
                let side = self.users.entry((key.clone(), user.clone())).or_default();
                side.cursor = Some(change.clone());
                self.sync_cursor(key, &user, ops);
            }
            ConnChange::Broadcast { .. } => {}
        }
    }

    fn track(
        &mut self,
        key: &Arc<str>,
        conn: ConnId,
        user: &Arc<str>,
        change: &ConnChange,
        ops: &mut HashOps,
    ) {
        let id = (key.clone(), conn);
        // Tracked again under another user: it left as the old user first.
        if self.entries.get(&id).is_some_and(|e| e.user != *user) {
            self.remove(&id, ops);
        }
        let entry = Entry {
            track: change.clone(),
            user: user.clone(),
            pending: None,
        };
        ops.insert(entry_field(key, conn), Some(entry_value(&entry)));
        if self.entries.insert(id, entry).is_none() {
            self.users
                .entry((key.clone(), user.clone()))
                .or_default()
                .conns
                .push(conn);
        }
        // The user's connections within their grace on this key are superseded. The new connection is
        // in place first, so the user (and their cursor) never looks absent, exactly as in the engine.
        let superseded: Vec<ConnId> = self
            .users
            .get(&(key.clone(), user.clone()))
            .map(|side| {
                side.conns
                    .iter()
                    .copied()
                    .filter(|&c| {
                        c != conn
                            && self
                                .entries
                                .get(&(key.clone(), c))
                                .is_some_and(|e| e.pending.is_some())
                    })
                    .collect()
            })
            .unwrap_or_default();
        for c in superseded {
            self.remove(&(key.clone(), c), ops);
        }
        // The user's cursor may belong to this connection again (it came back within the user's stay).
        self.sync_cursor(key, user, ops);
    }

    /// Writes the user's cursor field if its connection is the user's here, deletes it otherwise. The
    /// engine keeps a user's cursor while the user stays, even after the connection that moved it is gone,
    /// but only re-creates it elsewhere through that connection: so does the hash.
    fn sync_cursor(&self, key: &Arc<str>, user: &Arc<str>, ops: &mut HashOps) {
        let has_cursor = self
            .users
            .get(&(key.clone(), user.clone()))
            .is_some_and(|side| side.cursor.is_some());
        if has_cursor {
            ops.insert(cursor_field(key, user), self.cursor_value(key, user));
        }
    }

    fn cursor_value(&self, key: &Arc<str>, user: &Arc<str>) -> Option<String> {
        let side = self.users.get(&(key.clone(), user.clone()))?;
        let cursor @ ConnChange::Cursor { conn, .. } = side.cursor.as_ref()? else {
            return None;
        };
        let owned = self
            .entries
            .get(&(key.clone(), *conn))
            .is_some_and(|e| e.user == *user);
        owned.then(|| json(&[cursor]))
    }

    /// Removes one entry, and its user's cursor with the user's last entry here.
    fn remove(&mut self, id: &(Arc<str>, ConnId), ops: &mut HashOps) {
        let Some(entry) = self.entries.remove(id) else {
            return;
        };
        let (key, conn) = id;
        ops.insert(entry_field(key, *conn), None);
        let user_id = (key.clone(), entry.user);
        if let Some(side) = self.users.get_mut(&user_id) {
            side.conns.retain(|c| c != conn);
            if side.conns.is_empty() {
                if side.cursor.is_some() {
                    ops.insert(cursor_field(key, &user_id.1), None);
                }
                self.users.remove(&user_id);
            } else if side.cursor.is_some() {
                self.sync_cursor(key, &user_id.1, ops);
            }
        }
    }

    /// Forgets entries whose reconnect grace ended before `now`. The engine removes those itself (and
    /// publishes the removal), except for a pending connection superseded by a track *from another
    /// process*, which it drops silently: without this, that entry would stay in the hash forever.
    pub(crate) fn prune(&mut self, now: Timestamp, ops: &mut HashOps) {
        let grace = self.grace;
        let over: Vec<(Arc<str>, ConnId)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.pending.is_some_and(|at| at.saturating_add(grace) < now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in over {
            self.remove(&id, ops);
        }
    }

    /// Every field, to write the hash from scratch.
    pub(crate) fn dump(&self) -> Vec<(String, String)> {
        let entries = self
            .entries
            .iter()
            .map(|((key, conn), e)| (entry_field(key, *conn), entry_value(e)));
        let cursors = self.users.keys().filter_map(|(key, user)| {
            Some((cursor_field(key, user), self.cursor_value(key, user)?))
        });
        entries.chain(cursors).collect()
    }
}

fn entry_field(key: &str, conn: ConnId) -> String {
    format!("e:{conn}:{key}")
}

fn cursor_field(key: &str, user: &str) -> String {
    format!("c:{}", json(&[key, user]))
}

fn entry_value(entry: &Entry) -> String {
    match (&entry.track, entry.pending) {
        (
            ConnChange::Track {
                node, key, conn, ..
            },
            Some(at),
        ) => {
            let untrack = ConnChange::Untrack {
                node: *node,
                key: key.clone(),
                conn: *conn,
                reason: UntrackReason::Abnormal,
                at,
            };
            json(&[&entry.track, &untrack])
        }
        _ => json(&[&entry.track]),
    }
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Plain data (string-keyed maps, strings, finite numbers): serializing cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Whether a hash field is bookkeeping (`~epoch`, `~seq`) rather than a stored change list.
pub(crate) fn is_meta_field(field: &str) -> bool {
    field.starts_with('~')
}

#[cfg(test)]
#[path = "mirror_tests.rs"]
mod tests;
