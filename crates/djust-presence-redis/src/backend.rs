//! [`RedisBackend`]: the engine's side of the backend, a queue to the driver.

use djust_presence::{ConnChange, PresenceBackend};
use tokio::sync::mpsc;

/// The [`PresenceBackend`] half of the Redis backend: it queues each local change for the driver task.
///
/// The engine calls `publish` under its lock, so it must not block: the queue is unbounded, and never
/// holds more than what the driver has not taken yet (while Redis is unreachable the driver keeps taking
/// changes into its own record of this process's state, so nothing piles up). Get one from
/// [`RedisPresence::backend`](crate::RedisPresence::backend).
#[derive(Debug)]
pub struct RedisBackend {
    queue: mpsc::UnboundedSender<ConnChange>,
}

impl RedisBackend {
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<ConnChange>) {
        let (queue, outbox) = mpsc::unbounded_channel();
        (Self { queue }, outbox)
    }
}

impl PresenceBackend for RedisBackend {
    fn name(&self) -> &str {
        "redis"
    }

    fn publish(&self, change: &ConnChange) {
        // Fails only once the driver has stopped, when there is nobody left to tell.
        let _ = self.queue.send(change.clone());
    }
}
