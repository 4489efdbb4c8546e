//! Publish-to-receive lag: every message a process publishes comes back to it on the channel it
//! subscribed to. The driver notes when it started publishing each batch (by the number of its last
//! message) and, when that message comes back, the time it took.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// At most this many publications wait for their echo (a lost echo is dropped when a later one arrives;
/// this bounds a subscription that stopped delivering).
const MAX_PENDING: usize = 1024;

/// This process's publications still waiting for their own message to come back.
#[derive(Debug, Default)]
pub(crate) struct Echoes {
    epoch: u64,
    /// `(seq of the batch's last message, when publishing started)`, oldest first.
    pending: VecDeque<(u64, Instant)>,
}

impl Echoes {
    /// A new registration (epoch): numbers start again, earlier publications will not be matched.
    pub(crate) fn reset(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.pending.clear();
    }

    /// A publication whose last message is number `seq` was started at `sent`.
    pub(crate) fn published(&mut self, seq: u64, sent: Instant) {
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back((seq, sent));
    }

    /// Our own message `(epoch, seq)` arrived at `now`: the lag of its publication, if it ends one.
    pub(crate) fn received(&mut self, epoch: u64, seq: u64, now: Instant) -> Option<Duration> {
        if epoch != self.epoch {
            return None;
        }
        while let Some(&(first, sent)) = self.pending.front() {
            if first > seq {
                return None;
            }
            self.pending.pop_front();
            if first == seq {
                return Some(now.saturating_duration_since(sent));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_message_of_a_batch_ends_it_and_lost_echoes_are_dropped() {
        let t0 = Instant::now();
        let mut echoes = Echoes::default();
        echoes.reset(7);
        echoes.published(3, t0);
        echoes.published(5, t0 + Duration::from_millis(10));
        assert_eq!(echoes.received(7, 1, t0), None, "an earlier message");
        assert_eq!(echoes.received(7, 2, t0), None, "inside the first batch");
        assert_eq!(
            echoes.received(7, 3, t0 + Duration::from_millis(4)),
            Some(Duration::from_millis(4))
        );
        assert_eq!(echoes.received(8, 5, t0), None, "another epoch");
        echoes.published(9, t0 + Duration::from_millis(20));
        // 5's echo was lost: 9's drops it.
        assert_eq!(
            echoes.received(7, 9, t0 + Duration::from_millis(21)),
            Some(Duration::from_millis(1))
        );
        assert_eq!(echoes.received(7, 9, t0), None, "each publication once");
        echoes.reset(8);
        echoes.published(1, t0);
        assert_eq!(echoes.received(7, 1, t0), None, "the old epoch");
    }

    #[test]
    fn pending_publications_are_bounded() {
        let t0 = Instant::now();
        let mut echoes = Echoes::default();
        for seq in 0..(MAX_PENDING as u64 + 10) {
            echoes.published(seq, t0);
        }
        assert_eq!(echoes.pending.len(), MAX_PENDING);
    }
}
