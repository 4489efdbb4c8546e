//! The embedded default backend: one process, nothing to replicate.

use crate::backend::PresenceBackend;
use crate::change::ConnChange;

/// The single-process backend, and the default.
///
/// All presence state already lives in the engine's memory, so there is nothing to send anywhere: like
/// Phoenix's tracker on a single node, `publish` drops the change. Users of several server processes need
/// a replicating backend (Redis, a later issue), or each process only sees its own connections.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryBackend;

impl PresenceBackend for MemoryBackend {
    fn name(&self) -> &str {
        "memory"
    }

    fn publish(&self, _change: &ConnChange) {}
}
