//! A bounded multi-producer, single-consumer async queue that holds no buffer while empty.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (tx, mut rx) = djust_queue::bounded::<u32>(2);
//! tx.try_send(1).unwrap();
//! tx.try_send(2).unwrap();
//! assert!(matches!(tx.try_send(3), Err(djust_queue::TrySendError::Full(3))));
//! assert_eq!(rx.recv().await, Some(1));
//! drop(tx);
//! assert_eq!(rx.recv().await, Some(2));
//! assert_eq!(rx.recv().await, None); // every sender is gone
//! # }
//! ```
//!
//! Why not `tokio::sync::mpsc`: a live-view server keeps a few queues per connection (its
//! `handle_info` mailbox, its presence subscription) and most connections are idle most of
//! the time. A tokio channel allocates its first block of 32 slots and two cache-line-padded
//! halves up front — about 0.8 to 1.1 KiB per queue, for the connection's whole life. This
//! queue is a `VecDeque` behind a mutex plus a [`Notify`]: about a hundred bytes while empty,
//! because the slots are allocated when messages arrive and released when the queue drains.
//! The cost is a lock per message, which is nothing next to rendering or writing it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// Why [`Sender::try_send`] did not queue a message; the message is handed back.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrySendError<T> {
    /// The queue holds its capacity already.
    #[error("the queue is full")]
    Full(T),
    /// The receiver is gone.
    #[error("the queue's receiver is gone")]
    Closed(T),
}

/// Why [`Receiver::try_recv`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// Nothing is queued.
    #[error("the queue is empty")]
    Empty,
    /// Nothing is queued and every sender is gone.
    #[error("the queue is empty and every sender is gone")]
    Disconnected,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Woken on every send and when the last sender goes.
    ready: Notify,
    capacity: usize,
    senders: AtomicUsize,
}

struct State<T> {
    items: VecDeque<T>,
    receiver_alive: bool,
}

/// A queue of at most `capacity` messages (at least 1).
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            receiver_alive: true,
        }),
        ready: Notify::new(),
        capacity: capacity.max(1),
        senders: AtomicUsize::new(1),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Shared<T> {
    /// Takes the next message; on draining the queue, frees its slots.
    fn take(&self) -> Result<T, TryRecvError> {
        let mut state = self.state.lock();
        match state.items.pop_front() {
            Some(msg) => {
                if state.items.is_empty() {
                    // Drained: give the slots back, so an idle queue costs nothing.
                    state.items = VecDeque::new();
                }
                Ok(msg)
            }
            None if self.senders.load(Ordering::Acquire) == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }
}

/// The sending half; cloneable. Sending never waits.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Queues `msg`, or hands it back when the queue is full or its receiver is gone.
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        {
            let mut state = self.shared.state.lock();
            if !state.receiver_alive {
                return Err(TrySendError::Closed(msg));
            }
            if state.items.len() >= self.shared.capacity {
                return Err(TrySendError::Full(msg));
            }
            state.items.push_back(msg);
        }
        self.shared.ready.notify_one();
        Ok(())
    }

    /// True once the receiver is gone.
    pub fn is_closed(&self) -> bool {
        !self.shared.state.lock().receiver_alive
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Messages waiting to be received.
    pub fn len(&self) -> usize {
        self.shared.state.lock().items.len()
    }

    /// True when no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last one: a waiting `recv` must see the end.
            self.shared.ready.notify_one();
        }
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

/// The receiving half.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// The next message; `None` once the queue is empty and every sender is gone.
    ///
    /// Cancel-safe: a message is taken off the queue only when this returns it.
    pub async fn recv(&mut self) -> Option<T> {
        let shared = &*self.shared;
        loop {
            // Interest is registered before the queue is looked at, so a message sent in
            // between wakes this wait instead of being missed.
            let notified = shared.ready.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            match shared.take() {
                Ok(msg) => return Some(msg),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => notified.await,
            }
        }
    }

    /// The next message if one is queued.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.shared.take()
    }

    /// Messages waiting to be received.
    pub fn len(&self) -> usize {
        self.shared.state.lock().items.len()
    }

    /// True when no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Queued messages go now, not when the last sender does.
        let items = {
            let mut state = self.shared.state.lock();
            state.receiver_alive = false;
            std::mem::take(&mut state.items)
        };
        drop(items);
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.shared.capacity)
            .field("queued", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
