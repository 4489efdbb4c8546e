//! Expired connections, remembered for a while so a late heartbeat can track them again.
//!
//! A connection is expired when it was silent for longer than the timeout, but "silent" may only mean a
//! stalled event loop or a slow network: when it heartbeats again, the user should reappear without the
//! client re-sending its meta. Memory is bounded twice: entries older than the retention period are
//! dropped on every sweep, and past `max` connections the oldest are dropped first.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::clock::Timestamp;
use crate::ids::ConnId;
use crate::meta::Meta;

/// One key an expired connection was tracked on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Buried {
    pub key: Arc<str>,
    pub user: Arc<str>,
    pub meta: Arc<Meta>,
}

struct Tomb {
    at: Timestamp,
    entries: Vec<Buried>,
}

pub(crate) struct Tombstones {
    by_conn: HashMap<ConnId, Tomb>,
    /// Burial order, for retention and eviction. May hold stale pairs (the connection was exhumed or
    /// buried again since); a pair only counts while `by_conn` holds a tomb with the same time.
    fifo: VecDeque<(Timestamp, ConnId)>,
    retention_ms: u64,
    max: usize,
}

impl Tombstones {
    pub(crate) fn new(retention_ms: u64, max: usize) -> Self {
        Self {
            by_conn: HashMap::new(),
            fifo: VecDeque::new(),
            retention_ms,
            max,
        }
    }

    /// Remembers the keys `conn` was tracked on when it expired at `at`, adding to what it already had.
    pub(crate) fn bury(&mut self, conn: ConnId, at: Timestamp, entries: Vec<Buried>) {
        if self.max == 0 || self.retention_ms == 0 || entries.is_empty() {
            return;
        }
        let tomb = self.by_conn.entry(conn).or_insert(Tomb {
            at,
            entries: Vec::new(),
        });
        tomb.at = at;
        for entry in entries {
            tomb.entries.retain(|e| e.key != entry.key);
            tomb.entries.push(entry);
        }
        self.fifo.push_back((at, conn));
        while self.by_conn.len() > self.max {
            let Some((at, conn)) = self.fifo.pop_front() else {
                break;
            };
            self.drop_if_current(at, conn);
        }
    }

    /// Takes `conn`'s remembered keys, if any.
    pub(crate) fn exhume(&mut self, conn: ConnId) -> Option<Vec<Buried>> {
        self.by_conn.remove(&conn).map(|t| t.entries)
    }

    /// Forgets `conn` entirely (it was untracked everywhere on purpose).
    pub(crate) fn forget(&mut self, conn: ConnId) {
        self.by_conn.remove(&conn);
    }

    /// Forgets `conn`'s entry for one key (it was tracked or untracked there since it expired).
    pub(crate) fn forget_key(&mut self, conn: ConnId, key: &str) {
        if let Some(tomb) = self.by_conn.get_mut(&conn) {
            tomb.entries.retain(|e| &*e.key != key);
            if tomb.entries.is_empty() {
                self.by_conn.remove(&conn);
            }
        }
    }

    /// Drops everything buried before `now - retention`.
    pub(crate) fn prune(&mut self, now: Timestamp) {
        while let Some(&(at, conn)) = self.fifo.front() {
            if at.as_millis().saturating_add(self.retention_ms) >= now.as_millis() {
                break;
            }
            self.fifo.pop_front();
            self.drop_if_current(at, conn);
        }
        if self.by_conn.is_empty() {
            // Only stale pairs can remain; drop them so the queue does not outgrow the live tombs.
            self.fifo.clear();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_conn.len()
    }

    fn drop_if_current(&mut self, at: Timestamp, conn: ConnId) {
        if self.by_conn.get(&conn).is_some_and(|t| t.at == at) {
            self.by_conn.remove(&conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buried(key: &str) -> Buried {
        Buried {
            key: key.into(),
            user: "u".into(),
            meta: Arc::default(),
        }
    }

    fn t(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn exhume_returns_what_was_buried_once() {
        let mut tombs = Tombstones::new(1_000, 10);
        let c = ConnId::from_u128(1);
        tombs.bury(c, t(0), vec![buried("a"), buried("b")]);
        assert_eq!(tombs.exhume(c).map(|e| e.len()), Some(2));
        assert_eq!(tombs.exhume(c), None);
    }

    #[test]
    fn prune_drops_after_retention_only() {
        let mut tombs = Tombstones::new(1_000, 10);
        let c = ConnId::from_u128(1);
        tombs.bury(c, t(0), vec![buried("a")]);
        tombs.prune(t(1_000));
        assert_eq!(tombs.len(), 1, "kept at exactly the retention");
        tombs.prune(t(1_001));
        assert_eq!(tombs.len(), 0);
        assert!(tombs.fifo.is_empty());
    }

    #[test]
    fn the_oldest_are_evicted_past_the_bound() {
        let mut tombs = Tombstones::new(1_000, 2);
        for i in 0..3u128 {
            tombs.bury(ConnId::from_u128(i), t(i as u64), vec![buried("a")]);
        }
        assert_eq!(tombs.len(), 2);
        assert!(tombs.exhume(ConnId::from_u128(0)).is_none());
        assert!(tombs.exhume(ConnId::from_u128(2)).is_some());
    }

    #[test]
    fn a_reburied_connection_is_not_evicted_by_its_stale_pair() {
        let mut tombs = Tombstones::new(1_000, 10);
        let c = ConnId::from_u128(1);
        tombs.bury(c, t(0), vec![buried("a")]);
        tombs.bury(c, t(900), vec![buried("b")]);
        tombs.prune(t(1_500));
        assert_eq!(tombs.exhume(c).map(|e| e.len()), Some(2));
    }

    #[test]
    fn forget_key_and_zero_bounds() {
        let mut tombs = Tombstones::new(1_000, 10);
        let c = ConnId::from_u128(1);
        tombs.bury(c, t(0), vec![buried("a"), buried("b")]);
        tombs.forget_key(c, "a");
        assert_eq!(tombs.exhume(c), Some(vec![buried("b")]));
        let mut off = Tombstones::new(0, 10);
        off.bury(c, t(0), vec![buried("a")]);
        assert_eq!(off.len(), 0);
    }
}
