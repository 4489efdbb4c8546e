//! Matching cursor moves to the peer frames that show them.
//!
//! Every move is made decodable: sender `s` (its index in the room) sends its `n`-th move
//! (`n` = 1, 2, ...) as `x = X_BASE + n`, `y = Y_BASE + s`. A peer frame showing `(x, y)`
//! therefore names the sender and the sequence number, and resolves **every** earlier
//! unresolved move of that sender for that peer: renders are coalesced, so a peer
//! legitimately sees only the newest position, and the skipped ones are not losses. Each
//! resolved (move, peer) pair gives one latency sample: the frame's arrival minus the move's
//! send time.
//!
//! Send times live in one lock-free table per room (`[sender][seq]` of atomics), written by the
//! sender before the move leaves and read by every peer; each peer keeps its own "resolved up
//! to" per sender and its own histogram, so the hot path takes no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::matcher::Position;

/// Offset of the sequence number in `x` (keeps positions away from 0, the default cursor).
pub const X_BASE: i64 = 100;
/// Offset of the sender index in `y`.
pub const Y_BASE: i64 = 100;
/// A (move, peer) pair counts as delivered if shown within this many nanoseconds.
pub const DELIVERY_DEADLINE_NS: u64 = 1_000_000_000;

/// Nanoseconds since the start of the run: the one clock of the bench's measurements.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(Instant);

impl Epoch {
    /// Starts the clock now.
    pub fn now() -> Self {
        Self(Instant::now())
    }

    /// Nanoseconds elapsed since the epoch.
    pub fn nanos(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The instant `ns` nanoseconds after the epoch.
    pub fn instant(&self, ns: u64) -> Instant {
        self.0 + std::time::Duration::from_nanos(ns)
    }
}

/// The position that encodes move `seq` (1-based) of sender `sender`.
pub fn encode(sender: usize, seq: u32) -> Position {
    Position {
        x: X_BASE + i64::from(seq),
        y: Y_BASE + i64::try_from(sender).unwrap_or(i64::MAX - Y_BASE),
    }
}

/// The (sender, seq) a position encodes, if it is one of ours.
pub fn decode(pos: Position) -> Option<(usize, u32)> {
    let seq = u32::try_from(pos.x - X_BASE).ok().filter(|s| *s > 0)?;
    let sender = usize::try_from(pos.y - Y_BASE).ok()?;
    Some((sender, seq))
}

/// Send times of every move in one room.
#[derive(Debug)]
pub struct RoomLog {
    /// `[sender][seq - 1]`: send time in ns since the epoch + 1; 0 = not sent.
    sent: Vec<Box<[AtomicU64]>>,
}

impl RoomLog {
    /// A log for `senders` senders of at most `max_moves` moves each.
    pub fn new(senders: usize, max_moves: u32) -> Self {
        let sent = (0..senders)
            .map(|_| (0..max_moves).map(|_| AtomicU64::new(0)).collect())
            .collect();
        Self { sent }
    }

    /// Number of senders.
    pub fn senders(&self) -> usize {
        self.sent.len()
    }

    /// Most moves one sender may make.
    pub fn max_moves(&self) -> u32 {
        self.sent
            .first()
            .map_or(0, |s| u32::try_from(s.len()).unwrap_or(u32::MAX))
    }

    /// Records that `sender` sends move `seq` at `at_ns`. Call before the frame leaves, so any
    /// peer that sees the move finds its time.
    pub fn record_send(&self, sender: usize, seq: u32, at_ns: u64) {
        if let Some(slot) = self.slot(sender, seq) {
            slot.store(at_ns.saturating_add(1), Ordering::Release);
        }
    }

    fn sent_at(&self, sender: usize, seq: u32) -> Option<u64> {
        let v = self.slot(sender, seq)?.load(Ordering::Acquire);
        v.checked_sub(1)
    }

    fn slot(&self, sender: usize, seq: u32) -> Option<&AtomicU64> {
        let idx = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.sent.get(sender)?.get(idx)
    }
}

/// Latencies and delivery counts of one class of (move, peer) pairs.
#[derive(Debug, Clone)]
pub struct ClassStats {
    /// Latency histogram (microseconds).
    pub hist: Histogram<u64>,
    /// Pairs resolved within [`DELIVERY_DEADLINE_NS`].
    pub within_deadline: u64,
    /// Pairs resolved later than that.
    pub late: u64,
}

impl Default for ClassStats {
    fn default() -> Self {
        Self {
            hist: new_histogram(),
            within_deadline: 0,
            late: 0,
        }
    }
}

impl ClassStats {
    /// Adds `other`'s samples and counts.
    pub fn merge(&mut self, other: &ClassStats) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
        self.within_deadline += other.within_deadline;
        self.late += other.late;
    }
}

/// One peer's view: which moves of each sender it has seen, and their latencies, kept apart
/// per class of sender (e.g. same process / other process).
#[derive(Debug)]
pub struct PeerTracker {
    me: usize,
    resolved: Vec<u32>,
    class_of: Vec<u8>,
    classes: Vec<ClassStats>,
}

/// What [`PeerTracker::observe`] resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Pairs resolved within [`DELIVERY_DEADLINE_NS`].
    pub within_deadline: u64,
    /// Pairs resolved later than that.
    pub late: u64,
}

impl PeerTracker {
    /// The tracker of the peer with index `me` in a room of `senders`, one class.
    pub fn new(me: usize, senders: usize) -> Self {
        Self::with_classes(me, senders, Vec::new())
    }

    /// Like [`PeerTracker::new`], with `class_of[sender]` choosing the class of each sender's
    /// pairs (missing entries: class 0).
    pub fn with_classes(me: usize, senders: usize, class_of: Vec<u8>) -> Self {
        let n = class_of
            .iter()
            .copied()
            .max()
            .map_or(1, |m| usize::from(m) + 1);
        Self {
            me,
            resolved: vec![0; senders],
            class_of,
            classes: vec![ClassStats::default(); n],
        }
    }

    /// The peer saw `pos` at `now_ns`: resolves that move and every earlier unresolved move of
    /// the same sender. Positions that are not ours, our own, or already resolved do nothing.
    pub fn observe(&mut self, log: &RoomLog, pos: Position, now_ns: u64) -> Resolved {
        let mut out = Resolved::default();
        let Some((sender, seq)) = decode(pos) else {
            return out;
        };
        if sender == self.me {
            return out;
        }
        let Some(done) = self.resolved.get_mut(sender) else {
            return out;
        };
        let class = usize::from(self.class_of.get(sender).copied().unwrap_or(0));
        let Some(stats) = self.classes.get_mut(class) else {
            return out;
        };
        let mut next = *done + 1;
        while next <= seq {
            // A move we have no send time for (a stale position from another run) ends the
            // walk: nothing after it can be matched reliably.
            let Some(sent) = log.sent_at(sender, next) else {
                break;
            };
            let latency = now_ns.saturating_sub(sent);
            stats.hist.saturating_record(latency / 1_000);
            if latency <= DELIVERY_DEADLINE_NS {
                out.within_deadline += 1;
            } else {
                out.late += 1;
            }
            next += 1;
        }
        *done = next - 1;
        stats.within_deadline += out.within_deadline;
        stats.late += out.late;
        out
    }

    /// Per-class statistics (index = class).
    pub fn classes(&self) -> &[ClassStats] {
        &self.classes
    }

    /// All classes together.
    pub fn total(&self) -> ClassStats {
        let mut all = ClassStats::default();
        self.classes.iter().for_each(|c| all.merge(c));
        all
    }

    /// The class of `sender`'s pairs for this peer.
    pub fn class_of(&self, sender: usize) -> u8 {
        self.class_of.get(sender).copied().unwrap_or(0)
    }
}

/// An empty microsecond histogram (1 µs .. 1 h, 3 significant digits).
pub fn new_histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram documents as valid (low >= 1, high >= 2 * low, sigfig <= 5).
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid constant histogram bounds")
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatencyMs {
    /// Number of samples.
    pub n: u64,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

impl LatencyMs {
    /// Percentiles of a microsecond histogram (all `None` when it is empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| Some(us as f64 / 1000.0);
        if h.is_empty() {
            return Self {
                n: 0,
                p50: None,
                p95: None,
                p99: None,
                max: None,
            };
        }
        Self {
            n: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn positions_round_trip() {
        assert_eq!(decode(encode(7, 42)), Some((7, 42)));
        assert_eq!(
            decode(Position { x: 0, y: 0 }),
            None,
            "the default cursor is not a move"
        );
        assert_eq!(
            decode(Position {
                x: X_BASE,
                y: Y_BASE
            }),
            None,
            "seq 0 is not a move"
        );
    }

    #[test]
    fn a_newer_position_resolves_the_skipped_moves() {
        let log = RoomLog::new(2, 10);
        for seq in 1..=3 {
            log.record_send(1, seq, u64::from(seq) * 10 * MS);
        }
        let mut peer = PeerTracker::new(0, 2);
        // The peer sees only move 3 (1 and 2 were coalesced away) at 45 ms.
        let r = peer.observe(&log, encode(1, 3), 45 * MS);
        assert_eq!(
            r,
            Resolved {
                within_deadline: 3,
                late: 0
            }
        );
        assert_eq!(peer.total().hist.len(), 3);
        assert_eq!(peer.total().hist.max() / 1000, 35, "move 1 waited 35 ms");
        // Seeing it again (or an older one) resolves nothing more.
        assert_eq!(
            peer.observe(&log, encode(1, 3), 50 * MS),
            Resolved::default()
        );
        assert_eq!(
            peer.observe(&log, encode(1, 2), 50 * MS),
            Resolved::default()
        );
    }

    #[test]
    fn own_and_foreign_positions_are_ignored() {
        let log = RoomLog::new(2, 10);
        log.record_send(0, 1, 0);
        let mut peer = PeerTracker::new(0, 2);
        assert_eq!(
            peer.observe(&log, encode(0, 1), MS),
            Resolved::default(),
            "own cursor"
        );
        assert_eq!(
            peer.observe(&log, encode(5, 1), MS),
            Resolved::default(),
            "no such sender"
        );
        assert_eq!(
            peer.observe(&log, Position { x: 3, y: 4 }, MS),
            Resolved::default()
        );
    }

    #[test]
    fn unsent_moves_stop_the_walk_and_late_pairs_are_counted_apart() {
        let log = RoomLog::new(2, 10);
        log.record_send(1, 1, 0);
        let mut peer = PeerTracker::new(0, 2);
        // Move 2 was never sent by this run: only move 1 resolves, and it is 1.5 s late.
        let r = peer.observe(&log, encode(1, 2), 1500 * MS);
        assert_eq!(
            r,
            Resolved {
                within_deadline: 0,
                late: 1
            }
        );
        log.record_send(1, 2, 1600 * MS);
        let r = peer.observe(&log, encode(1, 2), 1610 * MS);
        assert_eq!(
            r,
            Resolved {
                within_deadline: 1,
                late: 0
            }
        );
        assert_eq!((peer.total().within_deadline, peer.total().late), (1, 1));
    }

    #[test]
    fn classes_keep_senders_apart() {
        let log = RoomLog::new(3, 10);
        log.record_send(1, 1, 0);
        log.record_send(2, 1, 0);
        // Sender 1 is in class 0, sender 2 in class 1.
        let mut peer = PeerTracker::with_classes(0, 3, vec![0, 0, 1]);
        peer.observe(&log, encode(1, 1), 5 * MS);
        peer.observe(&log, encode(2, 1), 40 * MS);
        assert_eq!(peer.classes().len(), 2);
        assert_eq!(peer.classes()[0].hist.max() / 1000, 5);
        assert_eq!(peer.classes()[1].hist.max() / 1000, 40);
        assert_eq!(peer.total().within_deadline, 2);
        assert_eq!(peer.class_of(2), 1);
    }

    #[test]
    fn percentiles_come_out_in_milliseconds() {
        let mut h = new_histogram();
        for ms in 1..=100_u64 {
            h.record(ms * 1000).unwrap();
        }
        let l = LatencyMs::of(&h);
        assert_eq!(l.n, 100);
        assert!((l.p50.unwrap() - 50.0).abs() < 0.1, "{l:?}");
        assert!((l.p99.unwrap() - 99.0).abs() < 0.1, "{l:?}");
        assert!((l.max.unwrap() - 100.0).abs() < 0.1, "{l:?}");
        assert_eq!(LatencyMs::of(&new_histogram()).p50, None);
    }
}
