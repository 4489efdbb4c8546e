//! What goes out to Redis, and when: batching and cursor coalescing.
//!
//! Every local change updates the [`Mirror`] at once (so the hash, whenever written, is exact). Cursor
//! moves are not sent one by one: the latest move of each connection is kept per key and, every cursor
//! tick, each key with moves becomes *one* message. Any other change on a key first flushes that key's
//! pending moves, so per key the order of changes is the order the engine applied them. Hash writes
//! accumulate until the next [`Publication`], which carries them in the same Lua script as its messages.

use std::collections::HashMap;
use std::sync::Arc;

use djust_presence::{ConnChange, ConnId};

use crate::mirror::{HashOps, Mirror};
use crate::wire::encode_changes;

/// One atomic write: hash fields, then one message per payload (each numbered by the script).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Publication {
    /// Message payloads, in order.
    pub payloads: Vec<String>,
    /// `(field, value)`; an empty value deletes the field.
    pub ops: Vec<(String, String)>,
}

/// See the [module documentation](self).
#[derive(Default)]
pub(crate) struct Outgoing {
    ops: HashOps,
    /// Per key, per connection: the latest move and when it was taken (to keep the moves' order).
    cursors: HashMap<Arc<str>, HashMap<ConnId, (u64, ConnChange)>>,
    taken: u64,
}

impl Outgoing {
    /// Takes a batch of local changes, in the engine's order. Returns what to send now: everything but
    /// the cursor moves (which wait for [`flush_cursors`](Self::flush_cursors)), as one message.
    pub(crate) fn take_batch(
        &mut self,
        mirror: &mut Mirror,
        batch: impl IntoIterator<Item = ConnChange>,
    ) -> Option<Publication> {
        let mut now = Vec::new();
        for change in batch {
            mirror.apply(&change, &mut self.ops);
            if let ConnChange::Cursor { key, conn, .. } = &change {
                self.taken += 1;
                self.cursors
                    .entry(key.clone())
                    .or_default()
                    .insert(*conn, (self.taken, change));
            } else {
                if let Some(moves) = self.cursors.remove(change.key()) {
                    now.extend(in_order(moves));
                }
                now.push(change);
            }
        }
        if now.is_empty() {
            return None;
        }
        Some(Publication {
            payloads: vec![encode_changes(&now)],
            ops: self.take_ops(),
        })
    }

    /// The pending cursor moves, one message per key, with every pending hash write. `None` if there is
    /// nothing to write.
    pub(crate) fn flush_cursors(&mut self) -> Option<Publication> {
        if self.cursors.is_empty() && self.ops.is_empty() {
            return None;
        }
        let mut keys: Vec<_> = self.cursors.drain().collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let payloads = keys
            .into_iter()
            .map(|(_, moves)| encode_changes(&in_order(moves)))
            .collect();
        Some(Publication {
            payloads,
            ops: self.take_ops(),
        })
    }

    /// Hash writes to send with the next publication.
    pub(crate) fn add_ops(&mut self, ops: HashOps) {
        self.ops.extend(ops);
    }

    /// Drops everything pending: the process is about to write its whole hash anew.
    pub(crate) fn clear(&mut self) {
        self.ops.clear();
        self.cursors.clear();
    }

    fn take_ops(&mut self) -> Vec<(String, String)> {
        self.ops
            .drain()
            .map(|(field, value)| (field, value.unwrap_or_default()))
            .collect()
    }
}

fn in_order(moves: HashMap<ConnId, (u64, ConnChange)>) -> Vec<ConnChange> {
    let mut moves: Vec<(u64, ConnChange)> = moves.into_values().collect();
    moves.sort_unstable_by_key(|(taken, _)| *taken);
    moves.into_iter().map(|(_, change)| change).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use djust_presence::{MetaStamp, NodeId, Timestamp, UntrackReason};
    use std::time::Duration;

    use crate::wire::{Payload, decode};

    const NODE: NodeId = NodeId::from_u128(1);

    fn track(key: &str, conn: u128) -> ConnChange {
        ConnChange::Track {
            node: NODE,
            key: key.into(),
            conn: ConnId::from_u128(conn),
            user_id: format!("u{conn}").into(),
            meta: Arc::new(serde_json::Map::new()),
            stamp: MetaStamp::default(),
            joined_at: Timestamp::from_millis(0),
        }
    }

    fn cursor(key: &str, conn: u128, seq: u64) -> ConnChange {
        ConnChange::Cursor {
            node: NODE,
            key: key.into(),
            conn: ConnId::from_u128(conn),
            seq,
            x: seq as f64,
            y: 0.0,
            anchor: None,
            hidden: false,
        }
    }

    fn changes(payload: &str) -> Vec<ConnChange> {
        let message = format!("{NODE} 1 1 {payload}");
        match decode(message.as_bytes()).unwrap().1 {
            Payload::Changes { changes } => changes,
            other => panic!("{other:?}"),
        }
    }

    fn setup() -> (Outgoing, Mirror) {
        let mut out = Outgoing::default();
        let mut mirror = Mirror::new(Duration::from_secs(5));
        let batch = [track("a", 1), track("a", 2), track("b", 3)];
        let p = out.take_batch(&mut mirror, batch).unwrap();
        assert_eq!(p.payloads.len(), 1);
        assert_eq!(p.ops.len(), 3);
        (out, mirror)
    }

    #[test]
    fn a_thousand_moves_become_one_message_per_key_with_the_latest_positions() {
        let (mut out, mut mirror) = setup();
        for seq in 1..=500 {
            let moves = [
                cursor("a", 1, seq),
                cursor("a", 2, seq),
                cursor("b", 3, seq),
            ];
            assert_eq!(
                out.take_batch(&mut mirror, moves),
                None,
                "nothing sent per move"
            );
        }
        let p = out.flush_cursors().unwrap();
        assert_eq!(p.payloads.len(), 2, "one message per key");
        assert_eq!(
            changes(&p.payloads[0]),
            [cursor("a", 1, 500), cursor("a", 2, 500)]
        );
        assert_eq!(changes(&p.payloads[1]), [cursor("b", 3, 500)]);
        assert_eq!(p.ops.len(), 3, "one cursor field per user, written once");
        assert_eq!(out.flush_cursors(), None, "nothing left");
    }

    #[test]
    fn another_change_on_a_key_flushes_its_moves_first() {
        let (mut out, mut mirror) = setup();
        out.take_batch(
            &mut mirror,
            [cursor("a", 2, 1), cursor("a", 1, 1), cursor("b", 3, 1)],
        );
        let untrack = ConnChange::Untrack {
            node: NODE,
            key: "a".into(),
            conn: ConnId::from_u128(1),
            reason: UntrackReason::Clean,
            at: Timestamp::from_millis(1),
        };
        let p = out.take_batch(&mut mirror, [untrack.clone()]).unwrap();
        assert_eq!(
            changes(&p.payloads[0]),
            [cursor("a", 2, 1), cursor("a", 1, 1), untrack],
            "moves in the order taken, then the untrack"
        );
        // Key b's move still waits for the tick.
        let p = out.flush_cursors().unwrap();
        assert_eq!(changes(&p.payloads[0]), [cursor("b", 3, 1)]);
    }

    #[test]
    fn clearing_drops_pending_moves_and_writes() {
        let (mut out, mut mirror) = setup();
        out.take_batch(&mut mirror, [cursor("a", 1, 1)]);
        out.clear();
        assert_eq!(out.flush_cursors(), None);
        let mut ops = HashOps::new();
        ops.insert("f".into(), None);
        out.add_ops(ops);
        let p = out.flush_cursors().unwrap();
        assert!(p.payloads.is_empty());
        assert_eq!(p.ops, [("f".to_owned(), String::new())]);
    }
}
