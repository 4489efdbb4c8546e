//! The render budget: connections whose renders are expensive render less often, so one huge
//! room cannot starve the others.
//!
//! Each connection may render at most once per `interval = max(tick, cost × live / cores)`,
//! where `cost` is how long its last render took and `live` the number of mounted views in
//! the process: if every connection spends its share, rendering uses the machine's cores and
//! no more. A view of a 1000-user room (renders of a few hundred µs, a thousand viewers)
//! converges at a few renders per second instead of queueing a render per tick per viewer,
//! while a small room's cheap renders keep the plain tick. Cursor moves on the fast path and
//! events are not renders: they keep the tick. Capped at [`MAX_INTERVAL`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The longest a connection waits between renders, however expensive they are.
pub(crate) const MAX_INTERVAL: Duration = Duration::from_millis(250);

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Counts a mounted view for as long as it lives.
pub(crate) struct LiveGuard(());

impl LiveGuard {
    pub(crate) fn new() -> Self {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

fn cores() -> u32 {
    static CORES: OnceLock<u32> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok())
            .unwrap_or(1)
    })
}

/// The minimum time between two renders of a connection whose last render took `cost`.
pub(crate) fn render_interval(cost: Duration, tick: Duration) -> Duration {
    interval(cost, tick, LIVE.load(Ordering::Relaxed), cores())
}

fn interval(cost: Duration, tick: Duration, live: usize, cores: u32) -> Duration {
    let live = u32::try_from(live.max(1)).unwrap_or(u32::MAX);
    let share = cost.saturating_mul(live) / cores.max(1);
    share.clamp(tick, MAX_INTERVAL.max(tick))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(10);

    #[test]
    fn cheap_renders_keep_the_tick_and_expensive_ones_share_the_cores() {
        // A small room: 20 µs renders, 200 connections, 2 cores → 2 ms share: the tick wins.
        assert_eq!(interval(Duration::from_micros(20), TICK, 200, 2), TICK);
        // A 1000-user room: 300 µs renders, 1000 connections → 150 ms between renders.
        assert_eq!(
            interval(Duration::from_micros(300), TICK, 1000, 2),
            Duration::from_millis(150)
        );
        // Never longer than the cap, never shorter than the tick.
        assert_eq!(
            interval(Duration::from_secs(1), TICK, 10_000, 2),
            MAX_INTERVAL
        );
        assert_eq!(interval(Duration::ZERO, TICK, 0, 0), TICK);
        let long_tick = Duration::from_secs(1);
        assert_eq!(
            interval(Duration::from_secs(5), long_tick, 10, 1),
            long_tick
        );
    }

    #[test]
    fn the_guard_counts_live_views() {
        let before = LIVE.load(Ordering::Relaxed);
        let g = LiveGuard::new();
        assert!(LIVE.load(Ordering::Relaxed) > before.saturating_sub(1));
        drop(g);
    }
}
