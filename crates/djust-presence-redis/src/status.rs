//! What the driver reports about itself: its connection status and counters.

use std::sync::atomic::{AtomicU64, Ordering};

/// Where the driver stands with Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedisStatus {
    /// Started, not connected yet.
    Connecting,
    /// Registered, caught up with every other process, replicating.
    Connected,
    /// Redis is unreachable: local presence keeps working, remote presence is frozen as it was, and the
    /// driver retries with backoff.
    Disconnected,
    /// Shut down (or the engine was dropped): this process's connections were removed from Redis.
    Stopped,
}

/// Counters since the driver started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RedisStats {
    /// Messages this process published (one per batch of changes, one per key per cursor tick).
    pub published: u64,
    /// Messages received from other processes.
    pub received: u64,
    /// Times another process's state was re-read from its hash (on start-up, on a new epoch, on a gap).
    pub resyncs: u64,
    /// Successful (re)connections.
    pub connects: u64,
    /// Times this process found it had been declared dead (or Redis had lost its data) and registered again.
    pub reregistrations: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub published: AtomicU64,
    pub received: AtomicU64,
    pub resyncs: AtomicU64,
    pub connects: AtomicU64,
    pub reregistrations: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RedisStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RedisStats {
            published: get(&self.published),
            received: get(&self.received),
            resyncs: get(&self.resyncs),
            connects: get(&self.connects),
            reregistrations: get(&self.reregistrations),
        }
    }
}
