//! Where this process stands in every other process's message sequence.
//!
//! A message is applied only if it is the next one of the sender's current epoch. An older one was already
//! covered by a hash read (skip it); a gap means messages were lost (our subscription dropped, Redis killed
//! a slow subscriber) and a new epoch means the sender registered again (after an outage, or after being
//! declared dead): in both cases the receiver re-reads the sender's hash and reconciles, which is exact
//! whatever was missed.

use std::collections::HashMap;

use djust_presence::NodeId;

use crate::wire::Header;

/// What to do with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It is the sender's next message: apply it.
    Apply,
    /// Already reflected in what we hold: ignore it.
    Skip,
    /// We cannot tell what we missed: re-read the sender's hash.
    Resync,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Position {
    epoch: u64,
    seq: u64,
}

/// Every remote process this one holds state for, with its position.
#[derive(Debug, Default)]
pub(crate) struct Peers {
    known: HashMap<NodeId, Position>,
}

impl Peers {
    /// Judges a message from another process.
    pub(crate) fn judge(&self, header: &Header) -> Verdict {
        match self.known.get(&header.node) {
            Some(p) if p.epoch == header.epoch && header.seq <= p.seq => Verdict::Skip,
            Some(p) if p.epoch == header.epoch && header.seq == p.seq + 1 => Verdict::Apply,
            _ => Verdict::Resync,
        }
    }

    /// Records that the message was applied.
    pub(crate) fn applied(&mut self, header: &Header) {
        self.synced(header.node, header.epoch, header.seq);
    }

    /// Records that the process's hash was read at this position.
    pub(crate) fn synced(&mut self, node: NodeId, epoch: u64, seq: u64) {
        self.known.insert(node, Position { epoch, seq });
    }

    /// Forgets a process (it left or died). Returns whether it was known.
    pub(crate) fn forget(&mut self, node: NodeId) -> bool {
        self.known.remove(&node).is_some()
    }

    /// Whether we hold state for `node`.
    pub(crate) fn knows(&self, node: NodeId) -> bool {
        self.known.contains_key(&node)
    }

    /// Every known process.
    pub(crate) fn nodes(&self) -> Vec<NodeId> {
        self.known.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(epoch: u64, seq: u64) -> Header {
        Header {
            node: NodeId::from_u128(1),
            epoch,
            seq,
        }
    }

    #[test]
    fn an_unknown_sender_is_read_first() {
        assert_eq!(Peers::default().judge(&h(1, 1)), Verdict::Resync);
    }

    #[test]
    fn only_the_next_message_applies() {
        let mut peers = Peers::default();
        peers.synced(NodeId::from_u128(1), 7, 10);
        assert_eq!(peers.judge(&h(7, 9)), Verdict::Skip);
        assert_eq!(peers.judge(&h(7, 10)), Verdict::Skip);
        assert_eq!(peers.judge(&h(7, 11)), Verdict::Apply);
        assert_eq!(peers.judge(&h(7, 12)), Verdict::Resync, "a gap");
        peers.applied(&h(7, 11));
        assert_eq!(peers.judge(&h(7, 12)), Verdict::Apply);
    }

    #[test]
    fn a_new_epoch_is_read_again_even_at_seq_zero() {
        let mut peers = Peers::default();
        peers.synced(NodeId::from_u128(1), 7, 10);
        assert_eq!(peers.judge(&h(8, 0)), Verdict::Resync);
        assert_eq!(peers.judge(&h(8, 11)), Verdict::Resync);
    }

    #[test]
    fn a_forgotten_sender_is_unknown_again() {
        let mut peers = Peers::default();
        peers.synced(NodeId::from_u128(1), 7, 10);
        assert!(peers.knows(NodeId::from_u128(1)));
        assert!(peers.forget(NodeId::from_u128(1)));
        assert!(!peers.forget(NodeId::from_u128(1)));
        assert_eq!(peers.judge(&h(7, 11)), Verdict::Resync);
        assert!(peers.nodes().is_empty());
    }
}
