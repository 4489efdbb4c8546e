//! The replication half of the [`Presence`] API: what a multi-process backend calls.
//!
//! See [`PresenceBackend`](crate::PresenceBackend) for how the pieces fit: local changes go out through
//! `publish`, remote ones come in through [`Presence::apply_remote`], a dead process's connections are
//! dropped with [`Presence::remove_node`], and [`Presence::local_changes_snapshot`] is re-published after
//! an outage.

use crate::change::ConnChange;
use crate::error::PresenceError;
use crate::ids::NodeId;
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
        inner.subs.dispatch(events);
        Ok(outcome == Outcome::Applied)
    }

    /// Removes every connection of process `node` (it died), emitting the leaves. Returns how many
    /// connections were removed. Nothing is published: each process decides this for itself.
    pub fn remove_node(&self, node: NodeId) -> usize {
        let mut inner = self.lock();
        let now = self.now();
        let mut events = Vec::new();
        let removed = inner.state.remove_node(node, now, &mut events);
        inner.subs.dispatch(events);
        removed
    }

    /// The changes that recreate this process's own connections (tracks, then cursors and pending
    /// untracks), to re-publish after a backend outage. Applying them to a replica is idempotent.
    pub fn local_changes_snapshot(&self) -> Vec<ConnChange> {
        self.lock().state.local_changes()
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
