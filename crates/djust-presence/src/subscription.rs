//! Subscriptions: the current state of a key, then every event on it, with no gap and no duplicate.
//!
//! The snapshot is taken and the subscriber registered under the same lock that every mutation holds
//! while it applies its change and sends its events, so each event is either already in the snapshot or
//! delivered after it, never both and never neither.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

pub use tokio::sync::mpsc::error::TryRecvError;

use crate::event::PresenceEvent;
use crate::presence::Shared;
use crate::record::{Cursor, PresenceRecord};

/// The state of a key at the moment of subscribing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Present users, in listing order (as [`Presence::list`](crate::Presence::list)).
    pub presences: Vec<PresenceRecord>,
    /// Users' cursors, in listing order (as [`Presence::cursors`](crate::Presence::cursors)).
    pub cursors: Vec<(Arc<str>, Cursor)>,
}

/// A subscription to one key: [`initial`](Self::initial), then the events after it.
///
/// Dropping the subscription unsubscribes. Events queue without bound until read, so the owner should
/// keep reading (a live view does, from its socket task).
#[derive(Debug)]
pub struct Subscription {
    /// The key's state when the subscription started.
    pub initial: Snapshot,
    rx: UnboundedReceiver<Arc<PresenceEvent>>,
    guard: Unsubscribe,
}

impl Subscription {
    pub(crate) fn new(
        initial: Snapshot,
        rx: UnboundedReceiver<Arc<PresenceEvent>>,
        guard: Unsubscribe,
    ) -> Self {
        Self { initial, rx, guard }
    }

    /// The subscribed key.
    pub fn key(&self) -> &str {
        &self.guard.key
    }

    /// The next event; `None` once the presence engine is gone.
    pub async fn recv(&mut self) -> Option<Arc<PresenceEvent>> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Result<Arc<PresenceEvent>, TryRecvError> {
        self.rx.try_recv()
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
            shared.inner.lock().subs.remove(&self.key, self.id);
        }
    }
}

struct Slot {
    id: u64,
    tx: UnboundedSender<Arc<PresenceEvent>>,
}

/// Subscribers by key.
#[derive(Default)]
pub(crate) struct Subscribers {
    by_key: HashMap<Arc<str>, Vec<Slot>>,
    next_id: u64,
}

impl Subscribers {
    pub(crate) fn add(&mut self, key: Arc<str>, tx: UnboundedSender<Arc<PresenceEvent>>) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.by_key.entry(key).or_default().push(Slot { id, tx });
        id
    }

    pub(crate) fn remove(&mut self, key: &str, id: u64) {
        if let Some(slots) = self.by_key.get_mut(key) {
            slots.retain(|s| s.id != id);
            if slots.is_empty() {
                self.by_key.remove(key);
            }
        }
    }

    /// Sends each event to its key's subscribers. Sends never block (unbounded channels); a subscriber
    /// whose receiver is gone is dropped here.
    pub(crate) fn dispatch(&mut self, events: Vec<PresenceEvent>) {
        for event in events {
            let Some(slots) = self.by_key.get_mut(&*event.key) else {
                continue;
            };
            let key = event.key.clone();
            // One allocation per event; each subscriber gets a pointer.
            let event = Arc::new(event);
            slots.retain(|s| s.tx.send(event.clone()).is_ok());
            if slots.is_empty() {
                self.by_key.remove(&key);
            }
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }
}
