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
//!
//! **Mounts first.** While more views are mounting than there are cores (a join storm: a
//! thousand users arriving at once), renders that are over the tick anyway wait the longest
//! interval. Mounts are not budgeted (a newcomer needs its page), and without this the
//! already-mounted viewers' re-renders — one per interval each, every one of an O(N) page —
//! took most of the machine, the mounts trickled in, the storm lasted longer and the viewers
//! re-rendered all the longer: a thousand users took 5–20 s to arrive instead of under 2.
//! Cheap renders (small rooms elsewhere) keep the tick.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The longest a connection waits between renders, however expensive they are.
pub(crate) const MAX_INTERVAL: Duration = Duration::from_millis(250);

static LIVE: AtomicUsize = AtomicUsize::new(0);

static MOUNTING: AtomicUsize = AtomicUsize::new(0);

/// Counts a view being mounted (from the connection's mount request to its first page) for
/// as long as it lives.
pub(crate) struct MountingGuard(());

impl MountingGuard {
    pub(crate) fn new() -> Self {
        MOUNTING.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for MountingGuard {
    fn drop(&mut self) {
        MOUNTING.fetch_sub(1, Ordering::Relaxed);
    }
}

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
    let load = Load {
        live: LIVE.load(Ordering::Relaxed),
        mounting: MOUNTING.load(Ordering::Relaxed),
        cores: cores(),
    };
    interval(cost, tick, load)
}

/// What the process is doing, as the budget sees it.
#[derive(Clone, Copy)]
struct Load {
    /// Mounted views.
    live: usize,
    /// Views being mounted.
    mounting: usize,
    /// The machine's cores.
    cores: u32,
}

fn interval(cost: Duration, tick: Duration, load: Load) -> Duration {
    let cap = MAX_INTERVAL.max(tick);
    let live = u32::try_from(load.live.max(1)).unwrap_or(u32::MAX);
    let cores = load.cores.max(1);
    let share = cost.saturating_mul(live) / cores;
    let mounts_queue = load.mounting > cores as usize;
    if mounts_queue && share > tick {
        return cap;
    }
    share.clamp(tick, cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(10);

    fn load(live: usize, cores: u32) -> Load {
        Load {
            live,
            mounting: 0,
            cores,
        }
    }

    #[test]
    fn cheap_renders_keep_the_tick_and_expensive_ones_share_the_cores() {
        // A small room: 20 µs renders, 200 connections, 2 cores → 2 ms share: the tick wins.
        assert_eq!(
            interval(Duration::from_micros(20), TICK, load(200, 2)),
            TICK
        );
        // A 1000-user room: 300 µs renders, 1000 connections → 150 ms between renders.
        assert_eq!(
            interval(Duration::from_micros(300), TICK, load(1000, 2)),
            Duration::from_millis(150)
        );
        // Never longer than the cap, never shorter than the tick.
        assert_eq!(
            interval(Duration::from_secs(1), TICK, load(10_000, 2)),
            MAX_INTERVAL
        );
        assert_eq!(interval(Duration::ZERO, TICK, load(0, 0)), TICK);
        let long_tick = Duration::from_secs(1);
        assert_eq!(
            interval(Duration::from_secs(5), long_tick, load(10, 1)),
            long_tick
        );
    }

    #[test]
    fn expensive_renders_wait_while_mounts_queue_and_cheap_ones_do_not() {
        let storm = |mounting| Load {
            live: 400,
            mounting,
            cores: 2,
        };
        // A 400-user room's 100 µs renders: 20 ms apart normally …
        let big = Duration::from_micros(100);
        assert_eq!(interval(big, TICK, storm(0)), Duration::from_millis(20));
        assert_eq!(interval(big, TICK, storm(2)), Duration::from_millis(20));
        // … the longest while more views mount than there are cores.
        assert_eq!(interval(big, TICK, storm(3)), MAX_INTERVAL);
        // A small room's renders keep the tick during the storm.
        assert_eq!(interval(Duration::from_micros(20), TICK, storm(600)), TICK);
    }

    #[test]
    fn the_guards_count_mounting_views() {
        let before = MOUNTING.load(Ordering::Relaxed);
        let g = MountingGuard::new();
        assert!(MOUNTING.load(Ordering::Relaxed) > before.saturating_sub(1));
        drop(g);
    }

    #[test]
    fn the_guard_counts_live_views() {
        let before = LIVE.load(Ordering::Relaxed);
        let g = LiveGuard::new();
        assert!(LIVE.load(Ordering::Relaxed) > before.saturating_sub(1));
        drop(g);
    }
}
