//! The driver: one Tokio task per process that carries the engine's changes to Redis and other processes'
//! changes back, and survives Redis going away.
//!
//! Its life is a loop of *sessions*. A session subscribes to the channel, registers this process (writing
//! its whole hash from the [`Mirror`] under a new epoch), reads every other live process's hash and
//! reconciles the engine with it, then replicates until Redis fails. Between sessions the driver is
//! *offline*: it keeps following the engine's changes in the mirror (nothing is sent; the next
//! registration writes the state in full), and waits with backoff before trying again. Everything a
//! session does is idempotent, so a session can fail at any point and the next one starts over.

mod session;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use djust_presence::{ConnChange, NodeId, WeakPresence};
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::config::{Liveness, RedisConfig, redact};
use crate::echo::Echoes;
use crate::keys::Keys;
use crate::mirror::{HashOps, Mirror};
use crate::observer::Observer;
use crate::outgoing::Outgoing;
use crate::peers::Peers;
use crate::status::{Counters, RedisStatus};

/// Why a session ended without being asked to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Lost {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the subscription connection closed")]
    SubscriptionClosed,
    #[error("no command connection yet")]
    NoConnection,
}

/// How a session ended.
enum End {
    /// Asked to stop, or the engine is gone.
    Stop,
    /// Redis failed; `was_connected` if the session had caught up before.
    Lost { error: Lost, was_connected: bool },
}

/// Everything the driver task owns.
pub(crate) struct Driver {
    pub presence: WeakPresence,
    pub node: NodeId,
    pub keys: Keys,
    pub config: RedisConfig,
    pub liveness: Liveness,
    pub client: redis::Client,
    /// The command connection; created by the first session, then reconnecting by itself.
    pub conn: Option<ConnectionManager>,
    pub outbox: mpsc::UnboundedReceiver<ConnChange>,
    pub mirror: Mirror,
    pub outgoing: Outgoing,
    pub peers: Peers,
    /// Processes that were missing from Redis when we (re)connected: they may be about to re-register
    /// (Redis restarted and lost everything), so they are removed only if still missing at this time.
    pub suspects: HashMap<NodeId, Instant>,
    /// The epoch of the current registration.
    pub epoch: u64,
    pub status: watch::Sender<RedisStatus>,
    pub stop: watch::Receiver<bool>,
    pub counters: Arc<Counters>,
    /// This process's publications waiting for their echo (the lag measurement).
    pub echoes: Echoes,
    pub observer: Observer,
}

impl Driver {
    /// Runs until stopped or until the engine is dropped.
    pub(crate) async fn run(mut self) {
        let mut backoff = Backoff::new(
            self.config.reconnect_min_delay,
            self.config.reconnect_max_delay,
        );
        let mut outage: Option<Instant> = None;
        loop {
            match self.session(&mut outage).await {
                End::Stop => break,
                End::Lost {
                    error,
                    was_connected,
                } => {
                    if was_connected {
                        backoff.reset();
                    }
                    if outage.is_none() {
                        outage = Some(Instant::now());
                        tracing::warn!(
                            node = %self.node,
                            url = %redact(&self.config.url),
                            error = %error,
                            "presence lost Redis: serving local users only, other processes' presence \
                             is frozen until Redis is back; reconnecting with backoff"
                        );
                    } else {
                        tracing::debug!(node = %self.node, error = %error, "Redis still unreachable");
                    }
                    self.status.send_replace(RedisStatus::Disconnected);
                    let delay = backoff.next_delay(&mut rand::rng());
                    if !self.wait_offline(delay).await {
                        tracing::warn!(
                            node = %self.node,
                            "presence stopped while Redis was unreachable: other processes will remove \
                             this process's users once its liveness expires"
                        );
                        break;
                    }
                }
            }
        }
        self.status.send_replace(RedisStatus::Stopped);
    }

    /// Follows local changes in the mirror for `delay`. Returns `false` if the driver must stop.
    async fn wait_offline(&mut self, delay: Duration) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                change = self.outbox.recv() => match change {
                    // Nothing is sent: the next registration writes the mirror in full.
                    Some(change) => self.mirror.apply(&change, &mut HashOps::new()),
                    None => return false,
                },
                () = stop_requested(&mut self.stop) => return false,
            }
        }
    }

    /// Redis just answered a command: the stats and the observer learn when.
    fn note_round_trip(&self) {
        self.counters.round_trip();
        self.observer.round_trip(std::time::SystemTime::now());
    }

    /// Takes every change already queued into the mirror, without sending them.
    fn drain_outbox_into_mirror(&mut self) {
        let mut ops = HashOps::new();
        while let Ok(change) = self.outbox.try_recv() {
            self.mirror.apply(&change, &mut ops);
        }
    }

    /// Forgets a remote process and removes its connections from the engine (with the leaves).
    fn drop_peer(&mut self, node: NodeId, why: &str) {
        self.peers.forget(node);
        self.suspects.remove(&node);
        if let Some(presence) = self.presence.upgrade() {
            let removed = presence.remove_node(node);
            if removed > 0 {
                tracing::info!(node = %self.node, peer = %node, removed, "{why}: removed its connections");
            }
        }
    }
}

/// Resolves once a stop is requested; never if the handle was dropped without asking (the driver then
/// runs until the engine is dropped).
async fn stop_requested(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
