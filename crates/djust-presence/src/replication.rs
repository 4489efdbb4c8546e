//! The replication half of the [`Presence`] API: what a multi-process backend calls.
//!
//! See [`PresenceBackend`](crate::PresenceBackend) for how the pieces fit: local changes go out through
//! `publish`, remote ones come in through [`Presence::apply_remote`], a dead process's connections are
//! dropped with [`Presence::remove_node`], and [`Presence::local_changes_snapshot`] is re-published after
//! an outage. A backend that keeps each process's connections in shared storage brings a replica up to
//! date with [`Presence::reconcile_node`] (on start-up, after an outage, after missed messages).

use std::collections::HashSet;
use std::sync::Arc;

use crate::change::{ConnChange, UntrackReason};
use crate::error::PresenceError;
use crate::ids::{ConnId, NodeId};
use crate::meta::check_reserved;
use crate::presence::Presence;
use crate::state::Outcome;

impl Presence {
    /// Applies a change published by another process. Changes from this process (a backend echo) are
    /// ignored, as are changes about connections this process does not know. Returns whether the state
    /// changed.
    ///
    /// The change is checked (reserved meta keys, finite cursor, non-empty key and user) because it came
    /// over the network; meta size is the sending process's limit to enforce.
    pub fn apply_remote(&self, change: ConnChange) -> Result<bool, PresenceError> {
        if change.node() == self.shared.node {
            return Ok(false);
        }
        check_remote(&change)?;
        let mut inner = self.lock();
        let now = self.now();
        let mut events = Vec::new();
        let outcome = inner.state.apply(&change, now, &mut events);
        self.shared.fanout.dispatch(inner, events);
        Ok(outcome == Outcome::Applied)
    }

    /// Removes every connection of process `node` (it died), emitting the leaves. Returns how many
    /// connections were removed. Nothing is published: each process decides this for itself.
    pub fn remove_node(&self, node: NodeId) -> usize {
        let mut inner = self.lock();
        let now = self.now();
        let mut events = Vec::new();
        let removed = inner.state.remove_node(node, now, &mut events);
        self.shared.fanout.dispatch(inner, events);
        removed
    }

    /// The changes that recreate this process's own connections (tracks, then cursors and pending
    /// untracks), to re-publish after a backend outage. Applying them to a replica is idempotent.
    pub fn local_changes_snapshot(&self) -> Vec<ConnChange> {
        self.lock().state.local_changes()
    }

    /// The changes that recreate the connections of process `node` as this process sees them (for
    /// diagnostics and for checking that replicas agree; `node_changes_snapshot(self.node_id())` is
    /// [`local_changes_snapshot`](Self::local_changes_snapshot)).
    pub fn node_changes_snapshot(&self, node: NodeId) -> Vec<ConnChange> {
        self.lock().state.node_changes(node)
    }

    /// Replaces everything this process holds for remote process `node` with the connections `changes`
    /// recreate (a `Track` per connection and key, optionally its `Cursor` and, for a connection within its
    /// reconnect grace, its abnormal `Untrack`), emitting only the user-level differences: a user present
    /// before and after sees at most an `update` (or a cursor move), a connection that vanished is removed
    /// (a leave if it was its user's last), a new one is added (a join if its user was absent).
    ///
    /// This is how a backend catches a replica up from stored state (on start-up, after an outage, after
    /// missing messages) without the flicker of `remove_node` followed by re-applying. It is idempotent:
    /// reconciling the same set twice changes nothing the second time. Tracks are applied before cursors
    /// and untracks whatever the order given, so a user's live connection never supersedes the same user's
    /// pending one. Changes from other processes, and broadcasts, are ignored; reconciling this process's
    /// own node does nothing. Every change is checked first, and if one is malformed nothing is applied.
    /// Returns how many connection entries (connection × key) the set holds.
    pub fn reconcile_node(
        &self,
        node: NodeId,
        changes: Vec<ConnChange>,
    ) -> Result<usize, PresenceError> {
        if node == self.shared.node {
            return Ok(0);
        }
        let mut changes: Vec<ConnChange> = changes
            .into_iter()
            .filter(|c| c.node() == node && !matches!(c, ConnChange::Broadcast { .. }))
            .collect();
        for change in &changes {
            check_remote(change)?;
        }
        changes.sort_by_key(apply_rank); // stable: each kind keeps the order given
        let keep: HashSet<(ConnId, Arc<str>)> = changes
            .iter()
            .filter_map(|c| match c {
                ConnChange::Track { conn, key, .. } => Some((*conn, key.clone())),
                _ => None,
            })
            .collect();
        let mut inner = self.lock();
        let now = self.now();
        let stale: Vec<ConnChange> = inner
            .state
            .node_changes(node)
            .into_iter()
            .filter_map(|c| match c {
                ConnChange::Track { conn, key, .. } if !keep.contains(&(conn, key.clone())) => {
                    Some(ConnChange::Untrack {
                        node,
                        key,
                        conn,
                        reason: UntrackReason::Clean,
                        at: now,
                    })
                }
                _ => None,
            })
            .collect();
        let mut events = Vec::new();
        // New and kept entries first, removals last: a user who moved from one connection to another
        // is never seen absent in between.
        for change in changes.iter().chain(&stale) {
            inner.state.apply(change, now, &mut events);
        }
        self.shared.fanout.dispatch(inner, events);
        Ok(keep.len())
    }
}

/// The order [`Presence::reconcile_node`] applies a stored set in: every track before any cursor (which
/// needs its connection) and before any abnormal untrack (a later track of the same user would otherwise
/// supersede the pending connection, which the owner still has).
fn apply_rank(change: &ConnChange) -> u8 {
    match change {
        ConnChange::Track { .. } => 0,
        ConnChange::Meta { .. } => 1,
        ConnChange::Cursor { .. } => 2,
        ConnChange::Untrack { .. } | ConnChange::Broadcast { .. } => 3,
    }
}

/// Checks what a remote process could have got wrong (or a hostile peer could send).
fn check_remote(change: &ConnChange) -> Result<(), PresenceError> {
    if change.key().is_empty() {
        return Err(PresenceError::EmptyKey);
    }
    match change {
        ConnChange::Track { user_id, meta, .. } => {
            if user_id.is_empty() {
                return Err(PresenceError::EmptyUserId);
            }
            check_reserved(meta)
        }
        ConnChange::Meta { meta, .. } => check_reserved(meta),
        ConnChange::Cursor { x, y, .. } if !x.is_finite() || !y.is_finite() => {
            Err(PresenceError::NonFiniteCursor { x: *x, y: *y })
        }
        _ => Ok(()),
    }
}
