//! The connections, users and cursors of one presence key, and the user-level events their changes cause.
//!
//! Connection entries go in; user-level events come out. A user is present while they have at least one
//! entry (live or within its reconnect grace); their record is derived from those entries alone (earliest
//! `joined_at`, meta with the greatest stamp), so two processes holding the same entries show the same
//! record whatever order the entries arrived in.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::anchor::CursorAnchor;
use crate::change::{ConnChange, MetaStamp, UntrackReason};
use crate::clock::Timestamp;
use crate::event::{EventKind, PresenceEvent};
use crate::ids::{ConnId, NodeId};
use crate::meta::Meta;
use crate::record::{Cursor, PresenceRecord, SharedCursors};

use super::Outcome;
pub(crate) use cull::CursorCap;

mod cull;

/// Where one connection entry stands on a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Absent,
    Live,
    /// Untracked abnormally; removed when the grace ends at this time.
    Pending(Timestamp),
}

/// A change of an entry's status, reported so the owner can keep its per-connection indexes in step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transition {
    pub conn: ConnId,
    pub node: NodeId,
    pub from: Status,
    pub to: Status,
}

/// A connection to track, with everything its entry records.
pub(crate) struct NewEntry {
    pub conn: ConnId,
    pub node: NodeId,
    pub user: Arc<str>,
    pub meta: Arc<Meta>,
    pub stamp: MetaStamp,
    pub joined_at: Timestamp,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    since: Timestamp,
    until: Timestamp,
}

struct ConnEntry {
    user: Arc<str>,
    node: NodeId,
    meta: Arc<Meta>,
    stamp: MetaStamp,
    joined_at: Timestamp,
    pending: Option<Pending>,
    /// The last cursor sequence number accepted from this connection.
    cursor_seq: Option<u64>,
}

impl ConnEntry {
    fn status(&self) -> Status {
        match self.pending {
            Some(p) => Status::Pending(p.until),
            None => Status::Live,
        }
    }
}

struct UserEntry {
    /// Live and pending connections; a handful per user, so a `Vec` beats a set.
    conns: Vec<ConnId>,
    joined_at: Timestamp,
    meta: Arc<Meta>,
    cursor: Option<CursorPos>,
}

#[derive(Clone, Debug)]
struct CursorPos {
    x: f64,
    y: f64,
    conn: ConnId,
    seq: u64,
    anchor: Option<Arc<CursorAnchor>>,
    /// The pointer left the area: listed nowhere until the next move (the user stays present).
    hidden: bool,
    /// The key's move counter at this move (recency, for the cursor limit).
    active: u64,
    /// When this move was applied (ms): a listed cursor lingers on this (the cursor limit).
    at: u64,
}

/// One cursor update as [`KeyState::move_cursor`] applies it.
pub(crate) struct CursorUpdate<'a> {
    pub(crate) conn: ConnId,
    pub(crate) seq: u64,
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) anchor: &'a Option<Arc<CursorAnchor>>,
    pub(crate) hidden: bool,
    /// When the update is applied.
    pub(crate) now: Timestamp,
}

/// A user's record before a change, to diff against afterwards.
struct Observed {
    record: PresenceRecord,
    had_cursor: bool,
}

/// One key's presence state.
pub(crate) struct KeyState {
    key: Arc<str>,
    conns: HashMap<ConnId, ConnEntry>,
    users: HashMap<Arc<str>, UserEntry>,
    /// Users in listing order. `list()` runs on every render, so the order is kept rather than sorted.
    order: BTreeSet<(Timestamp, Arc<str>)>,
    /// The listing as of the last change, shared by every reader until the next change (N viewers
    /// of a room read one list, not N copies). Reset by every mutating method.
    list_cache: OnceCell<Arc<[PresenceRecord]>>,
    /// Every cursor in listing order, likewise (also reset by cursor moves).
    cursor_cache: OnceCell<SharedCursors>,
    /// Counts applied cursor moves: each visible cursor remembers the count of its last move.
    moves: u64,
    /// When the latest move was applied (ms).
    last_move_at: u64,
    cap: CursorCap,
    /// The users whose cursors the last listing held (all of them while the key has no more
    /// cursors than the limit). Above the limit, a listed cursor keeps its place while it
    /// moves (`cursor_linger`), so a room where more users move than the limit allows does not
    /// change its listing — and re-render every viewer — on every move.
    listed: RefCell<HashSet<Arc<str>>>,
}

impl KeyState {
    pub(crate) fn new(key: Arc<str>, cap: CursorCap) -> Self {
        Self {
            key,
            conns: HashMap::new(),
            users: HashMap::new(),
            order: BTreeSet::new(),
            list_cache: OnceCell::new(),
            cursor_cache: OnceCell::new(),
            moves: 0,
            last_move_at: 0,
            cap,
            listed: RefCell::new(HashSet::new()),
        }
    }

    /// Forgets the shared snapshots: called first by every method that changes the key.
    fn changed(&mut self) {
        self.list_cache = OnceCell::new();
        self.cursor_cache = OnceCell::new();
    }

    pub(crate) fn key(&self) -> &Arc<str> {
        &self.key
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// The user and meta of a live entry (what a re-track after expiry needs).
    pub(crate) fn live_entry(&self, conn: ConnId) -> Option<(Arc<str>, Arc<Meta>)> {
        self.conns
            .get(&conn)
            .filter(|e| e.pending.is_none())
            .map(|e| (e.user.clone(), e.meta.clone()))
    }

    pub(crate) fn user_joined_at(&self, user: &str) -> Option<Timestamp> {
        self.users.get(user).map(|u| u.joined_at)
    }

    /// Tracks a connection, or tracks it again with new meta. The user's entries within their reconnect
    /// grace are superseded: removed without a leave, the user never having looked absent.
    pub(crate) fn track(
        &mut self,
        new: NewEntry,
        out: &mut Vec<PresenceEvent>,
        tr: &mut Vec<Transition>,
    ) {
        self.changed();
        // A connection tracked again under another user first leaves as its old user.
        if self
            .conns
            .get(&new.conn)
            .is_some_and(|e| e.user != new.user)
        {
            self.remove(new.conn, out, tr);
        }
        let before = self.observe(&new.user);
        self.drop_superseded(&new.user, new.conn, tr);
        let from = match self.conns.get_mut(&new.conn) {
            Some(entry) => {
                let from = entry.status();
                entry.meta = new.meta;
                entry.stamp = new.stamp;
                entry.joined_at = new.joined_at;
                entry.pending = None;
                from
            }
            None => {
                let user = self.users.entry(new.user.clone()).or_insert_with(|| {
                    self.order.insert((new.joined_at, new.user.clone()));
                    UserEntry {
                        conns: Vec::new(),
                        joined_at: new.joined_at,
                        meta: new.meta.clone(),
                        cursor: None,
                    }
                });
                user.conns.push(new.conn);
                self.conns.insert(
                    new.conn,
                    ConnEntry {
                        user: new.user.clone(),
                        node: new.node,
                        meta: new.meta,
                        stamp: new.stamp,
                        joined_at: new.joined_at,
                        pending: None,
                        cursor_seq: None,
                    },
                );
                Status::Absent
            }
        };
        if from != Status::Live {
            tr.push(Transition {
                conn: new.conn,
                node: new.node,
                from,
                to: Status::Live,
            });
        }
        self.refresh_user(&new.user);
        self.emit_diff(&new.user, before, out);
    }

    /// Removes `user`'s entries that are within their reconnect grace, except `keep`.
    fn drop_superseded(&mut self, user: &Arc<str>, keep: ConnId, tr: &mut Vec<Transition>) {
        let Some(u) = self.users.get_mut(user) else {
            return;
        };
        let conns = &mut self.conns;
        u.conns.retain(|&c| {
            let superseded = c != keep && conns.get(&c).is_some_and(|e| e.pending.is_some());
            if superseded && let Some(e) = conns.remove(&c) {
                tr.push(Transition {
                    conn: c,
                    node: e.node,
                    from: e.status(),
                    to: Status::Absent,
                });
            }
            !superseded
        });
    }

    /// Untracks a connection: at once when clean (or when there is no grace), else marks it pending until
    /// `at + grace`. Returns whether anything changed.
    pub(crate) fn untrack(
        &mut self,
        conn: ConnId,
        reason: UntrackReason,
        at: Timestamp,
        grace: Duration,
        out: &mut Vec<PresenceEvent>,
        tr: &mut Vec<Transition>,
    ) -> bool {
        self.changed();
        if reason == UntrackReason::Clean || grace.is_zero() {
            return self.remove(conn, out, tr);
        }
        let Some(entry) = self.conns.get_mut(&conn) else {
            return false;
        };
        if entry.pending.is_some() {
            // Already dropped: the first drop's grace stands.
            return false;
        }
        let until = at.saturating_add(grace);
        entry.pending = Some(Pending { since: at, until });
        tr.push(Transition {
            conn,
            node: entry.node,
            from: Status::Live,
            to: Status::Pending(until),
        });
        true
    }

    /// Removes a connection's entry now, live or pending. Returns whether it existed.
    pub(crate) fn remove(
        &mut self,
        conn: ConnId,
        out: &mut Vec<PresenceEvent>,
        tr: &mut Vec<Transition>,
    ) -> bool {
        self.changed();
        let Some(user) = self.conns.get(&conn).map(|e| e.user.clone()) else {
            return false;
        };
        let before = self.observe(&user);
        if let Some(entry) = self.conns.remove(&conn) {
            tr.push(Transition {
                conn,
                node: entry.node,
                from: entry.status(),
                to: Status::Absent,
            });
        }
        if let Some(u) = self.users.get_mut(&user) {
            u.conns.retain(|&c| c != conn);
        }
        self.refresh_user(&user);
        self.emit_diff(&user, before, out);
        true
    }

    /// Replaces a live connection's meta.
    pub(crate) fn set_meta(
        &mut self,
        conn: ConnId,
        meta: Arc<Meta>,
        stamp: MetaStamp,
        out: &mut Vec<PresenceEvent>,
    ) -> Outcome {
        self.changed();
        let live_user = self
            .conns
            .get(&conn)
            .filter(|e| e.pending.is_none())
            .map(|e| e.user.clone());
        let Some(user) = live_user else {
            return Outcome::NotTracked;
        };
        let before = self.observe(&user);
        if let Some(entry) = self.conns.get_mut(&conn) {
            entry.meta = meta;
            entry.stamp = stamp;
        }
        self.refresh_user(&user);
        self.emit_diff(&user, before, out);
        Outcome::Applied
    }

    /// Moves the cursor of a live connection's user, unless `seq` is not newer than the connection's last.
    /// A hidden update (the pointer left) takes the cursor off every listing, with a
    /// `CursorRemoved`; the next move brings it back.
    pub(crate) fn move_cursor(
        &mut self,
        update: &CursorUpdate<'_>,
        out: &mut Vec<PresenceEvent>,
    ) -> Outcome {
        let CursorUpdate {
            conn,
            seq,
            x,
            y,
            anchor,
            hidden,
            now,
        } = *update;
        // Moves change no record: the listing stays shared.
        self.cursor_cache = OnceCell::new();
        let Some(entry) = self.conns.get_mut(&conn).filter(|e| e.pending.is_none()) else {
            return Outcome::NotTracked;
        };
        if entry.cursor_seq.is_some_and(|last| seq <= last) {
            return Outcome::Stale;
        }
        entry.cursor_seq = Some(seq);
        let Some(user) = self.users.get_mut(&entry.user) else {
            return Outcome::NotTracked;
        };
        let was_visible = user.cursor.as_ref().is_some_and(|c| !c.hidden);
        self.moves += 1;
        self.last_move_at = self.last_move_at.max(now.as_millis());
        user.cursor = Some(CursorPos {
            x,
            y,
            conn,
            seq,
            anchor: anchor.clone(),
            hidden,
            active: self.moves,
            at: now.as_millis(),
        });
        let meta = user.meta.clone();
        let kind = if hidden {
            if !was_visible {
                return Outcome::Applied;
            }
            EventKind::CursorRemoved {
                user_id: entry.user.clone(),
            }
        } else {
            let user_id = entry.user.clone();
            let culled = !self.would_list(&user_id);
            EventKind::CursorMoved {
                cursor: Cursor::new(x, y, meta)
                    .with_anchor(anchor.clone(), self.moves)
                    .with_culled(culled),
                user_id,
            }
        };
        out.push(PresenceEvent {
            key: self.key.clone(),
            kind,
        });
        Outcome::Applied
    }

    /// Every present user, ordered by `joined_at`, then user id.
    pub(crate) fn list(&self) -> Vec<PresenceRecord> {
        self.list_shared().to_vec()
    }

    /// The listing, shared until the key changes (pointer-equal between changes).
    pub(crate) fn list_shared(&self) -> Arc<[PresenceRecord]> {
        self.list_cache
            .get_or_init(|| {
                self.order
                    .iter()
                    .filter_map(|(_, user)| self.record(user))
                    .collect()
            })
            .clone()
    }

    /// Every visible cursor in listing order — at most `cursor_limit` (see [`Self::cull`]) —
    /// shared until the key changes or a cursor moves.
    pub(crate) fn cursors_shared(&self) -> SharedCursors {
        self.cursor_cache
            .get_or_init(|| {
                let mut all = self.cursors(None);
                self.cull(&mut all);
                all.into()
            })
            .clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.users.len()
    }

    /// Cursors in listing order, leaving out `except`'s.
    pub(crate) fn cursors(&self, except: Option<&str>) -> Vec<(Arc<str>, Cursor)> {
        self.order
            .iter()
            .filter(|(_, user)| Some(&**user) != except)
            .filter_map(|(_, user)| {
                let u = self.users.get(user)?;
                let c = u.cursor.as_ref().filter(|c| !c.hidden)?;
                let cursor =
                    Cursor::new(c.x, c.y, u.meta.clone()).with_anchor(c.anchor.clone(), c.active);
                Some((user.clone(), cursor))
            })
            .collect()
    }

    /// The changes that recreate the entries `node` owns here (and their cursors), in connection order.
    pub(crate) fn changes_of(&self, node: NodeId, out: &mut Vec<ConnChange>) {
        let mut conns: Vec<(&ConnId, &ConnEntry)> =
            self.conns.iter().filter(|(_, e)| e.node == node).collect();
        conns.sort_unstable_by_key(|(c, _)| **c);
        for &(&conn, e) in &conns {
            out.push(ConnChange::Track {
                node,
                key: self.key.clone(),
                conn,
                user_id: e.user.clone(),
                meta: e.meta.clone(),
                stamp: e.stamp,
                joined_at: e.joined_at,
            });
            let cursor = self
                .users
                .get(&e.user)
                .and_then(|u| u.cursor.as_ref())
                .filter(|c| c.conn == conn);
            if let Some(c) = cursor {
                out.push(ConnChange::Cursor {
                    node,
                    key: self.key.clone(),
                    conn,
                    seq: c.seq,
                    x: c.x,
                    y: c.y,
                    anchor: c.anchor.clone(),
                    hidden: c.hidden,
                });
            }
        }
        // Pending (dropped, within the grace) conns go pending only after every track: a track
        // by the same user replaces that user's pending conns, so replaying "pending P, then
        // live L" in that order would lose P.
        for &(&conn, e) in &conns {
            if let Some(p) = e.pending {
                out.push(ConnChange::Untrack {
                    node,
                    key: self.key.clone(),
                    conn,
                    reason: UntrackReason::Abnormal,
                    at: p.since,
                });
            }
        }
    }

    fn record(&self, user: &str) -> Option<PresenceRecord> {
        let (id, u) = self.users.get_key_value(user)?;
        Some(PresenceRecord::new(
            id.clone(),
            u.joined_at,
            u.conns.len(),
            u.meta.clone(),
        ))
    }

    fn observe(&self, user: &str) -> Option<Observed> {
        let had_cursor = self
            .users
            .get(user)?
            .cursor
            .as_ref()
            .is_some_and(|c| !c.hidden);
        Some(Observed {
            record: self.record(user)?,
            had_cursor,
        })
    }

    /// Re-derives a user's `joined_at` and meta from their entries, or forgets a user with none left.
    fn refresh_user(&mut self, user: &Arc<str>) {
        let Some(u) = self.users.get_mut(user) else {
            return;
        };
        let mut joined_at: Option<Timestamp> = None;
        let mut newest: Option<(MetaStamp, ConnId, &Arc<Meta>)> = None;
        for c in &u.conns {
            let Some(e) = self.conns.get(c) else { continue };
            joined_at = Some(joined_at.map_or(e.joined_at, |j| j.min(e.joined_at)));
            if newest.is_none_or(|(stamp, conn, _)| (e.stamp, *c) > (stamp, conn)) {
                newest = Some((e.stamp, *c, &e.meta));
            }
        }
        match (joined_at, newest) {
            (Some(joined_at), Some((_, _, meta))) => {
                u.meta = meta.clone();
                if joined_at != u.joined_at {
                    self.order.remove(&(u.joined_at, user.clone()));
                    self.order.insert((joined_at, user.clone()));
                    u.joined_at = joined_at;
                }
            }
            _ => {
                let old = u.joined_at;
                self.users.remove(user);
                self.order.remove(&(old, user.clone()));
            }
        }
    }

    /// Emits the user-level events between `before` and the user's current record.
    fn emit_diff(&self, user: &Arc<str>, before: Option<Observed>, out: &mut Vec<PresenceEvent>) {
        let after = self.record(user);
        let event = |kind| PresenceEvent {
            key: self.key.clone(),
            kind,
        };
        match (before, after) {
            (None, Some(after)) => out.push(event(EventKind::Join(after))),
            (Some(before), None) => {
                out.push(event(EventKind::Leave(before.record)));
                if before.had_cursor {
                    out.push(event(EventKind::CursorRemoved {
                        user_id: user.clone(),
                    }));
                }
            }
            (Some(before), Some(after)) => {
                let same = Arc::ptr_eq(before.record.meta_arc(), after.meta_arc())
                    || before.record.meta() == after.meta();
                if !same {
                    out.push(event(EventKind::Update(after)));
                }
            }
            (None, None) => {}
        }
    }
}
