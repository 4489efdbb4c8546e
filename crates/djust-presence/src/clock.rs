//! Time as the engine sees it: a millisecond [`Timestamp`] read from an injectable [`Clock`].
//!
//! The engine never reads the system time directly. Every timeout (heartbeat expiry, reconnect grace,
//! tombstone retention) is computed from a `Clock`, so tests drive time by hand ([`ManualClock`]) or
//! through Tokio's paused test clock ([`TokioClock`]) instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the UNIX epoch.
///
/// Serializes as a plain integer, so `joined_at` reaches templates and JavaScript as a number.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The timestamp `ms` milliseconds after the UNIX epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the UNIX epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the far future instead of overflowing.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(duration_millis(d)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// A duration in whole milliseconds, saturating (a `Duration` of centuries must not wrap around).
pub(crate) fn duration_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A source of the current time. Implementations must be cheap: the engine reads the clock on every
/// operation.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // A system clock set before 1970 is a broken host; treating it as the epoch keeps the engine running.
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(duration_millis)
            .unwrap_or(0);
        Timestamp(ms)
    }
}

/// A clock that only moves when told to. Clones share the same time, so a test keeps one clone and hands
/// another to the engine.
#[derive(Clone, Debug)]
pub struct ManualClock {
    ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            ms: Arc::new(AtomicU64::new(start.0)),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let step = duration_millis(d);
        // `fetch_update` so concurrent advances never lose a step and never wrap around.
        let _ = self
            .ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ms| {
                Some(ms.saturating_add(step))
            });
    }

    /// Sets the clock to `t` (it may move backwards; the engine tolerates that).
    pub fn set(&self, t: Timestamp) {
        self.ms.store(t.0, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    /// A clock standing at a fixed, recognisable instant (2024-01-01T00:00:00Z).
    fn default() -> Self {
        Self::new(Timestamp(1_704_067_200_000))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.ms.load(Ordering::SeqCst))
    }
}

/// A clock that follows Tokio's time source, anchored at the wall clock when it was created.
///
/// Under `#[tokio::test(start_paused = true)]` Tokio's time only moves when the test sleeps or calls
/// `tokio::time::advance`, so the background sweeper (which ticks on Tokio time) and this clock move
/// together, and a 60 s timeout is tested without waiting 60 s.
#[derive(Clone, Debug)]
pub struct TokioClock {
    start: tokio::time::Instant,
    offset: Timestamp,
}

impl TokioClock {
    /// A clock reading the current wall time now, then advancing with Tokio's clock.
    pub fn new() -> Self {
        Self {
            start: tokio::time::Instant::now(),
            offset: SystemClock.now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        self.offset.saturating_add(self.start.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_time() {
        let clock = ManualClock::new(Timestamp::from_millis(1_000));
        let other = clock.clone();
        assert_eq!(clock.now(), Timestamp::from_millis(1_000));
        other.advance(Duration::from_millis(250));
        assert_eq!(clock.now(), Timestamp::from_millis(1_250));
        clock.set(Timestamp::from_millis(10));
        assert_eq!(other.now(), Timestamp::from_millis(10));
    }

    #[test]
    fn timestamps_saturate_instead_of_wrapping() {
        let t = Timestamp::from_millis(u64::MAX - 1);
        assert_eq!(
            t.saturating_add(Duration::from_secs(10)).as_millis(),
            u64::MAX
        );
        assert_eq!(duration_millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > Timestamp::from_millis(1_577_836_800_000));
    }
}
