//! What the driver reports about itself: its connection status and counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    /// Connections after the first: times the driver got Redis back after losing it.
    pub reconnects: u64,
    /// When a command last got its answer from Redis (a publish, a liveness tick, a registration);
    /// `None` before the first. An idle process still refreshes it every liveness interval.
    pub last_round_trip: Option<SystemTime>,
    /// Times this process found it had been declared dead (or Redis had lost its data) and registered again.
    pub reregistrations: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub published: AtomicU64,
    pub received: AtomicU64,
    pub resyncs: AtomicU64,
    pub connects: AtomicU64,
    pub reconnects: AtomicU64,
    pub reregistrations: AtomicU64,
    /// Unix time in milliseconds of the last answer from Redis; 0 = none yet.
    pub last_round_trip_ms: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    /// Redis just answered a command.
    pub(crate) fn round_trip(&self) {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.last_round_trip_ms.store(ms.max(1), Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RedisStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RedisStats {
            published: get(&self.published),
            received: get(&self.received),
            resyncs: get(&self.resyncs),
            connects: get(&self.connects),
            reconnects: get(&self.reconnects),
            last_round_trip: match get(&self.last_round_trip_ms) {
                0 => None,
                ms => Some(UNIX_EPOCH + Duration::from_millis(ms)),
            },
            reregistrations: get(&self.reregistrations),
        }
    }
}
