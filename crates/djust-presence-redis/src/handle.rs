//! [`RedisHandle`]: watching and stopping the driver.

use std::sync::Arc;

use djust_presence::NodeId;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::status::{Counters, RedisStats, RedisStatus};

/// The running driver of a [`RedisPresence`](crate::RedisPresence).
///
/// Dropping the handle leaves the driver running (it stops by itself, removing this process from Redis,
/// when the engine is dropped); [`shutdown`](Self::shutdown) stops it now.
#[derive(Debug)]
pub struct RedisHandle {
    pub(crate) node: NodeId,
    pub(crate) status: watch::Receiver<RedisStatus>,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) task: JoinHandle<()>,
    pub(crate) counters: Arc<Counters>,
}

impl RedisHandle {
    /// The node id this process is registered under.
    pub fn node_id(&self) -> NodeId {
        self.node
    }

    /// The driver's current status.
    pub fn status(&self) -> RedisStatus {
        *self.status.borrow()
    }

    /// Waits until the driver reaches `wanted` (returns at once if it is there). Returns `false` if the
    /// driver ended without reaching it. Useful for readiness checks: [`RedisStatus::Connected`] means
    /// this process is registered and has caught up with every other.
    pub async fn wait_for(&self, wanted: RedisStatus) -> bool {
        let mut status = self.status.clone();
        status.wait_for(|s| *s == wanted).await.is_ok()
    }

    /// A receiver of status changes (for health endpoints and metrics).
    pub fn watch_status(&self) -> watch::Receiver<RedisStatus> {
        self.status.clone()
    }

    /// Counters since the driver started.
    pub fn stats(&self) -> RedisStats {
        self.counters.snapshot()
    }

    /// Stops the driver: if Redis is reachable, this process's connections are removed from it at once
    /// and every other process emits the leaves; otherwise the others remove them once its liveness
    /// expires. The engine itself keeps working, unreplicated.
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the Redis presence driver panicked");
        }
    }
}
