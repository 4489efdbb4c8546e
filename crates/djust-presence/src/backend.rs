//! The replication seam: where a multi-process backend (Redis, in a later issue) plugs in.
//!
//! The engine's state lives in each process. A backend's job is to carry connection-level changes between
//! processes: the engine calls [`PresenceBackend::publish`] for every change made locally, and the backend
//! delivers changes from other processes with [`Presence::apply_remote`](crate::Presence::apply_remote).
//! When a process dies, the backend notices and calls [`Presence::remove_node`](crate::Presence::remove_node)
//! on the survivors; after an outage it re-publishes
//! [`Presence::local_changes_snapshot`](crate::Presence::local_changes_snapshot).

use std::fmt;

use crate::change::ConnChange;

/// Carries local changes to other processes.
///
/// `publish` is called while the engine's lock is held, in exactly the order the changes were applied, so
/// a backend that forwards them in order keeps every replica consistent. It must therefore be quick and
/// must not block (a networked backend queues the change and sends it from its own task) and must never
/// call back into the [`Presence`](crate::Presence) (that would deadlock).
pub trait PresenceBackend: Send + Sync + fmt::Debug + 'static {
    /// A short name for logs and diagnostics (`"memory"`, `"redis"`).
    fn name(&self) -> &str;

    /// Hands one local change to the backend.
    fn publish(&self, change: &ConnChange);
}
