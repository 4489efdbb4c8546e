//! Subscriptions: the current state of a key, then every event on it, with no gap and no duplicate
//! — or, for a subscriber that falls too far behind, an explicit [`RecvError::Lagged`].
//!
//! Ordering. Every mutation applies its change under the engine's state lock, then takes the lock
//! of the fan-out shard of each key it touched *before* releasing the state lock, and sends the
//! events under the shard lock only (hand-over-hand). Two changes on one key therefore reach the
//! shard in the order they were applied, while the fan-out itself — O(subscribers) sends — runs
//! outside the global lock, in parallel with changes on keys of other shards (as Phoenix's tracker
//! pool shards by topic). A subscription takes its snapshot and registers the same way, so each
//! event is either already in the snapshot or delivered after it, never both and never neither.
//!
//! Bounds. Each subscriber's queue holds at most `subscriber_queue` events
//! ([`PresenceConfig`](crate::PresenceConfig)). A full queue does not grow and does not block the
//! sender: the event is dropped for that subscriber and counted, and its next receive returns
//! [`RecvError::Lagged`] once the events queued before the drop are read. The state is never lost
//! — the engine holds it — so a lagging subscriber re-reads the current listing
//! ([`Presence::list_shared`](crate::Presence::list_shared)) instead of replaying.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use djust_queue::{Receiver, Sender, TrySendError};
use parking_lot::{Mutex, MutexGuard};

use crate::event::PresenceEvent;
use crate::presence::Shared;
use crate::record::{Cursor, PresenceRecord};

/// The state of a key at the moment of subscribing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Present users, in listing order (as [`Presence::list`](crate::Presence::list)); shared
    /// with the engine's listing of the key (every subscriber of a room points at one list
    /// instead of holding a copy of it for as long as it is subscribed).
    pub presences: Arc<[PresenceRecord]>,
    /// Users' cursors, in listing order (as [`Presence::cursors`](crate::Presence::cursors)).
    pub cursors: Vec<(Arc<str>, Cursor)>,
}

/// Why [`Subscription::recv`] returned no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The subscriber's queue was full and this many events were dropped for it. Re-read the key's
    /// current state (e.g. [`Presence::list_shared`](crate::Presence::list_shared)); the events
    /// after this one are delivered as usual.
    #[error(
        "the subscription fell behind and {0} presence events were dropped; re-read the key's state"
    )]
    Lagged(u64),
    /// The presence engine is gone.
    #[error("the presence engine is gone")]
    Closed,
}

/// Why [`Subscription::try_recv`] returned no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// No event is queued.
    #[error("no presence event is queued")]
    Empty,
    /// As [`RecvError::Lagged`].
    #[error(
        "the subscription fell behind and {0} presence events were dropped; re-read the key's state"
    )]
    Lagged(u64),
    /// As [`RecvError::Closed`].
    #[error("the presence engine is gone")]
    Disconnected,
}

/// A subscription to one key: [`initial`](Self::initial), then the events after it.
///
/// Dropping the subscription unsubscribes. At most `subscriber_queue` events wait to be read (see
/// the [module documentation](self)); a reader that falls further behind gets
/// [`RecvError::Lagged`] instead of unbounded memory.
#[derive(Debug)]
pub struct Subscription {
    /// The key's state when the subscription started.
    pub initial: Snapshot,
    rx: Receiver<Arc<PresenceEvent>>,
    dropped: Arc<AtomicU64>,
    guard: Unsubscribe,
}

impl Subscription {
    pub(crate) fn new(
        initial: Snapshot,
        rx: Receiver<Arc<PresenceEvent>>,
        dropped: Arc<AtomicU64>,
        guard: Unsubscribe,
    ) -> Self {
        Self {
            initial,
            rx,
            dropped,
            guard,
        }
    }

    /// The subscribed key.
    pub fn key(&self) -> &str {
        &self.guard.key
    }

    /// How many events are waiting to be read.
    pub fn queued(&self) -> usize {
        self.rx.len()
    }

    /// The next event; [`RecvError::Lagged`] after events were dropped for this subscriber,
    /// [`RecvError::Closed`] once the presence engine is gone.
    pub async fn recv(&mut self) -> Result<Arc<PresenceEvent>, RecvError> {
        match self.try_recv() {
            Ok(event) => return Ok(event),
            Err(TryRecvError::Lagged(n)) => return Err(RecvError::Lagged(n)),
            Err(TryRecvError::Disconnected) => return Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {}
        }
        // An event is only dropped while the queue is full, so a drop that happens while this
        // waits is noticed by the `try_recv` after the queued events are read.
        self.rx.recv().await.ok_or(RecvError::Closed)
    }

    /// The next event if one is queued (events queued before a drop come before the `Lagged`).
    pub fn try_recv(&mut self) -> Result<Arc<PresenceEvent>, TryRecvError> {
        use djust_queue::TryRecvError as Queue;
        match self.rx.try_recv() {
            Ok(event) => Ok(event),
            Err(empty_or_closed) => {
                let missed = self.dropped.swap(0, Ordering::AcqRel);
                if missed > 0 {
                    return Err(TryRecvError::Lagged(missed));
                }
                Err(match empty_or_closed {
                    Queue::Empty => TryRecvError::Empty,
                    Queue::Disconnected => TryRecvError::Disconnected,
                })
            }
        }
    }
}

/// Removes the subscriber from the engine when the subscription is dropped.
#[derive(Debug)]
pub(crate) struct Unsubscribe {
    pub(crate) shared: Weak<Shared>,
    pub(crate) key: Arc<str>,
    pub(crate) id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared
                .fanout
                .shard(&self.key)
                .lock()
                .remove(&self.key, self.id);
        }
    }
}

struct Slot {
    id: u64,
    tx: Sender<Arc<PresenceEvent>>,
    dropped: Arc<AtomicU64>,
}

/// Subscribers of the keys of one shard.
#[derive(Default)]
pub(crate) struct Subscribers {
    by_key: HashMap<Arc<str>, Vec<Slot>>,
}

impl Subscribers {
    fn remove(&mut self, key: &str, id: u64) {
        if let Some(slots) = self.by_key.get_mut(key) {
            slots.retain(|s| s.id != id);
            if slots.is_empty() {
                self.by_key.remove(key);
            }
        }
    }

    /// Sends `event` to its key's subscribers without blocking: a full queue counts a drop, a
    /// subscriber whose receiver is gone is removed.
    fn send(&mut self, event: PresenceEvent) {
        let Some(slots) = self.by_key.get_mut(&*event.key) else {
            return;
        };
        let key = event.key.clone();
        // One allocation per event; each subscriber gets a pointer.
        let event = Arc::new(event);
        slots.retain(|s| match s.tx.try_send(event.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                s.dropped.fetch_add(1, Ordering::AcqRel);
                true
            }
            Err(TrySendError::Closed(_)) => false,
        });
        if slots.is_empty() {
            self.by_key.remove(&key);
        }
    }

    fn count(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }
}

/// How many fan-out shards an engine has (a power of two, so a key's shard is a mask).
const SHARDS: usize = 64;

/// The subscribers of every key, split into [`SHARDS`] independently locked shards.
pub(crate) struct Fanout {
    shards: Box<[Mutex<Subscribers>]>,
    next_id: AtomicU64,
    capacity: usize,
}

impl Fanout {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Subscribers::default()))
                .collect(),
            next_id: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    fn index(key: &str) -> usize {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        (h.finish() as usize) & (SHARDS - 1)
    }

    pub(crate) fn shard(&self, key: &str) -> &Mutex<Subscribers> {
        &self.shards[Self::index(key)]
    }

    /// Registers a subscriber of `key` while `state` (the engine's state lock, under which the
    /// caller took the snapshot) is held, then releases it.
    pub(crate) fn add<G>(
        &self,
        state: G,
        key: Arc<str>,
    ) -> (u64, Receiver<Arc<PresenceEvent>>, Arc<AtomicU64>) {
        // A queue allocates its slots only while events wait (`djust-queue`): an idle
        // subscriber costs a small header, not a tokio channel's ~1 KiB.
        let (tx, rx) = djust_queue::bounded(self.capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut shard = self.shard(&key).lock();
        drop(state);
        let slot = Slot {
            id,
            tx,
            dropped: dropped.clone(),
        };
        shard.by_key.entry(key).or_default().push(slot);
        (id, rx, dropped)
    }

    /// Sends `events` to their keys' subscribers. `state` is the engine's state lock under which
    /// the events were produced: it is released once the shards concerned are locked, so the
    /// sends run outside it but in the order the changes were applied (module documentation).
    pub(crate) fn dispatch<G>(&self, state: G, events: Vec<PresenceEvent>) {
        match events.len() {
            0 => drop(state),
            1 => {
                let Some(event) = events.into_iter().next() else {
                    return;
                };
                let mut shard = self.shard(&event.key).lock();
                drop(state);
                shard.send(event);
            }
            _ => self.dispatch_many(state, events),
        }
    }

    fn dispatch_many<G>(&self, state: G, events: Vec<PresenceEvent>) {
        let mut indices: Vec<usize> = events.iter().map(|e| Self::index(&e.key)).collect();
        let mut wanted = indices.clone();
        wanted.sort_unstable();
        wanted.dedup();
        // Locks in ascending order; only a holder of the state lock takes shard locks, so this
        // cannot deadlock with another dispatch.
        let mut guards: Vec<(usize, MutexGuard<'_, Subscribers>)> = wanted
            .into_iter()
            .map(|i| (i, self.shards[i].lock()))
            .collect();
        drop(state);
        for (event, index) in events.into_iter().zip(indices.drain(..)) {
            if let Ok(at) = guards.binary_search_by_key(&index, |(i, _)| *i) {
                guards[at].1.send(event);
            }
        }
    }

    /// Open subscriptions, all shards.
    pub(crate) fn count(&self) -> usize {
        self.shards.iter().map(|s| s.lock().count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    fn broadcast(key: &str, n: u64) -> PresenceEvent {
        PresenceEvent {
            key: key.into(),
            kind: EventKind::Broadcast {
                event: "n".into(),
                payload: Arc::new(serde_json::json!(n)),
            },
        }
    }

    fn number(event: &PresenceEvent) -> u64 {
        match &event.kind {
            EventKind::Broadcast { payload, .. } => payload.as_u64().unwrap_or(u64::MAX),
            _ => u64::MAX,
        }
    }

    fn subscription(fanout: &Fanout, key: &str) -> Subscription {
        let (id, rx, dropped) = fanout.add((), key.into());
        let guard = Unsubscribe {
            shared: Weak::new(),
            key: key.into(),
            id,
        };
        Subscription::new(Snapshot::default(), rx, dropped, guard)
    }

    #[test]
    fn a_full_queue_drops_and_reports_lag_after_the_queued_events() {
        let fanout = Fanout::new(3);
        let mut sub = subscription(&fanout, "k");
        for n in 0..10 {
            fanout.dispatch((), vec![broadcast("k", n)]);
        }
        let got: Vec<u64> = (0..3).map(|_| number(&sub.try_recv().unwrap())).collect();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(sub.try_recv(), Err(TryRecvError::Lagged(7)));
        assert_eq!(sub.try_recv(), Err(TryRecvError::Empty));
        // Delivery resumes after the lag.
        fanout.dispatch((), vec![broadcast("k", 10)]);
        assert_eq!(number(&sub.try_recv().unwrap()), 10);
    }

    #[test]
    fn events_of_many_keys_reach_each_keys_subscribers_in_order() {
        let fanout = Fanout::new(1000);
        let keys: Vec<String> = (0..200).map(|k| format!("room:{k}")).collect();
        let mut subs: Vec<Subscription> = keys.iter().map(|k| subscription(&fanout, k)).collect();
        for round in 0..5 {
            let events = keys.iter().map(|k| broadcast(k, round)).collect();
            fanout.dispatch((), events);
        }
        for sub in &mut subs {
            let got: Vec<u64> = std::iter::from_fn(|| sub.try_recv().ok())
                .map(|e| number(&e))
                .collect();
            assert_eq!(got, [0, 1, 2, 3, 4], "key {}", sub.key());
        }
        assert_eq!(fanout.count(), 200);
    }

    #[test]
    fn a_dropped_receiver_is_removed_on_the_next_send() {
        let fanout = Fanout::new(4);
        let sub = subscription(&fanout, "k");
        assert_eq!(fanout.count(), 1);
        // The guard's engine is gone (Weak::new), so only the next send notices.
        drop(sub);
        fanout.dispatch((), vec![broadcast("k", 1)]);
        assert_eq!(fanout.count(), 0);
    }
}
