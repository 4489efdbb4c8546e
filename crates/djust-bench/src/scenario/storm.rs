//! The measured cursor phase shared by `cursor-storm` and `multi-node`: everyone moves at H Hz
//! for T s, then late frames drain; afterwards the (move, peer) pairs are tallied.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Crowd, Windows, WindowsReport, progress, ratio};
use crate::client::{ClientOutcome, Phase};
use crate::latency::{ClassStats, LatencyMs, RoomLog};
use crate::procfs::round3;

/// Where client `i` sits: its room and index in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    pub room: usize,
    pub index: usize,
}

/// One room's send log, sized for `hz` x `secs`.
pub(crate) fn room_log(users: usize, hz: f64, secs: f64) -> Arc<RoomLog> {
    let moves = (hz * secs).ceil() as u32 + 2;
    Arc::new(RoomLog::new(users, moves))
}

/// What the load phase measured.
pub(crate) struct LoadResult {
    pub windows: WindowsReport,
    /// Wall seconds of moving + draining.
    pub window_s: f64,
    pub drain_s: f64,
    pub frames: u64,
    pub bytes: u64,
}

/// Moves everyone's cursor at `hz` for `secs`, then waits up to `drain` s for the remaining
/// pairs, measuring `pids` and the bench meanwhile.
pub(crate) async fn run_load(
    crowd: &Crowd,
    hz: f64,
    secs: f64,
    drain: f64,
    pids: &[u32],
    threads: usize,
) -> LoadResult {
    let run = &crowd.run;
    let frames0 = run.frames.load(Ordering::Relaxed);
    let bytes0 = run.bytes.load(Ordering::Relaxed);
    let windows = Windows::open(pids, threads);
    let t0 = run.epoch.nanos();
    // A short lead so every client has the phase before its first move is due.
    let start_ns = t0 + 20_000_000;
    let end_ns = start_ns + (secs * 1e9) as u64;
    crowd.set_phase(Phase::Load {
        start_ns,
        end_ns,
        hz,
    });
    progress!("moving for {secs} s at {hz} Hz");
    tokio::time::sleep_until(tokio::time::Instant::from_std(run.epoch.instant(end_ns))).await;
    let drain_start = run.epoch.nanos();
    super::wait_for(Duration::from_secs_f64(drain), || {
        run.resolved_pairs.load(Ordering::Relaxed) >= run.expected_pairs.load(Ordering::Relaxed)
    })
    .await;
    let t1 = run.epoch.nanos();
    let windows = windows.close();
    crowd.set_phase(Phase::Hold);
    LoadResult {
        windows,
        window_s: (t1 - t0) as f64 / 1e9,
        drain_s: (t1 - drain_start) as f64 / 1e9,
        frames: run.frames.load(Ordering::Relaxed) - frames0,
        bytes: run.bytes.load(Ordering::Relaxed) - bytes0,
    }
}

/// (move, peer) pairs of one class: expected, delivered, latencies.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pairs {
    pub expected: u64,
    pub stats: ClassStats,
}

impl Pairs {
    pub fn json(&self) -> Value {
        json!({
            "expected": self.expected,
            "delivered_within_1s": self.stats.within_deadline,
            "late": self.stats.late,
            "missing": self.expected.saturating_sub(self.stats.within_deadline + self.stats.late),
            "delivery_ratio": self.ratio(),
            "latency_ms": LatencyMs::of(&self.stats.hist),
        })
    }

    pub fn ratio(&self) -> Option<f64> {
        if self.expected == 0 {
            return None;
        }
        Some((self.stats.within_deadline as f64 / self.expected as f64 * 1e4).round() / 1e4)
    }
}

/// Tallies pairs per class: every move of a mounted sender is expected at every other mounted
/// member of its room, in the class `class(peer, sender)`.
pub(crate) fn tally(
    outcomes: &[ClientOutcome],
    members: &[Member],
    classes: usize,
    class: impl Fn(usize, usize) -> u8,
) -> Vec<Pairs> {
    let mut out = vec![Pairs::default(); classes.max(1)];
    for (p, po) in outcomes.iter().enumerate() {
        if !po.mounted {
            continue;
        }
        for (s, so) in outcomes.iter().enumerate() {
            if s == p || !so.mounted || members[s].room != members[p].room {
                continue;
            }
            if let Some(slot) = out.get_mut(usize::from(class(p, s))) {
                slot.expected += u64::from(so.moves_sent);
            }
        }
        if let Some(t) = &po.tracker {
            for (c, stats) in t.classes().iter().enumerate() {
                if let Some(slot) = out.get_mut(c) {
                    slot.stats.merge(stats);
                }
            }
        }
    }
    out
}

/// The report fields of a load phase.
pub(crate) fn load_fields(
    into: &mut serde_json::Map<String, Value>,
    load: &LoadResult,
    all: &Pairs,
    mounted: usize,
    moves: u64,
) {
    let cpu = load.windows.server_cpu_s();
    let delivered = all.stats.within_deadline as f64;
    into.insert("events_sent".into(), json!(moves));
    into.insert(
        "events_per_s".into(),
        json!(ratio(moves as f64, load.window_s - load.drain_s)),
    );
    into.insert("updates_delivered".into(), json!(all.stats.within_deadline));
    into.insert(
        "updates_delivered_per_s".into(),
        json!(ratio(delivered, load.window_s)),
    );
    into.insert(
        "updates_per_server_cpu_s".into(),
        json!(cpu.and_then(|c| ratio(delivered, c))),
    );
    into.insert("delivery_ratio".into(), json!(all.ratio()));
    into.insert("latency_ms".into(), json!(LatencyMs::of(&all.stats.hist)));
    into.insert("pairs".into(), all.json());
    let per_client_s = mounted as f64 * load.window_s;
    into.insert(
        "frames_per_client_per_s".into(),
        json!(ratio(load.frames as f64, per_client_s)),
    );
    into.insert(
        "bytes_per_client_per_s".into(),
        json!(ratio(load.bytes as f64, per_client_s).map(f64::round)),
    );
    into.insert("load_s".into(), json!(round3(load.window_s - load.drain_s)));
    into.insert("drain_s".into(), json!(round3(load.drain_s)));
    load.windows.fields(into);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::{PeerTracker, encode};
    use crate::scenario::errors::tests::outcome;

    #[test]
    fn pairs_are_expected_per_room_and_class_and_resolved_from_trackers() {
        // Room 0: clients 0, 1, 2 (client 2 never mounted); room 1: client 3 alone.
        let members = [
            Member { room: 0, index: 0 },
            Member { room: 0, index: 1 },
            Member { room: 0, index: 2 },
            Member { room: 1, index: 0 },
        ];
        let log = RoomLog::new(3, 10);
        for seq in 1..=4 {
            log.record_send(1, seq, 0);
        }
        let mut outcomes = vec![outcome(3), outcome(4), outcome(5), outcome(7)];
        outcomes[2].mounted = false;
        // Client 0 saw client 1's 4th move (resolving all 4) at 10 ms.
        let mut t = PeerTracker::with_classes(0, 3, vec![0, 1, 0]);
        t.observe(&log, encode(1, 4), 10_000_000);
        outcomes[0].tracker = Some(t);
        // Class: 1 when sender 1 is seen by peer 0 (say, another process).
        let pairs = tally(&outcomes, &members, 2, |p, s| u8::from(p == 0 && s == 1));
        // Expected: 0 sees 1's 4 moves (class 1); 1 sees 0's 3 moves (class 0). The unmounted
        // client and the lone room add nothing.
        assert_eq!(pairs[0].expected, 3);
        assert_eq!(pairs[1].expected, 4);
        assert_eq!(pairs[1].stats.within_deadline, 4);
        assert_eq!(pairs[1].ratio(), Some(1.0));
        assert_eq!(pairs[0].ratio(), Some(0.0));
        let json = pairs[0].json();
        assert_eq!(json["missing"], 3);
    }
}
