//! [`RedisPresence`]: checking the settings, handing the backend to the engine, starting the driver.

use std::collections::HashMap;
use std::sync::Arc;

use djust_presence::{ConnChange, Presence, PresenceBackend, PresenceConfig};
use tokio::sync::{mpsc, watch};

use crate::backend::RedisBackend;
use crate::config::{RedisConfig, redact};
use crate::driver::Driver;
use crate::echo::Echoes;
use crate::error::RedisPresenceError;
use crate::handle::RedisHandle;
use crate::keys::Keys;
use crate::mirror::Mirror;
use crate::observer::{Observer, RedisObserver};
use crate::outgoing::Outgoing;
use crate::peers::Peers;
use crate::status::{Counters, RedisStatus};

/// The Redis presence backend, before it is started. See the [crate documentation](crate) for the
/// sequence: [`connect`](Self::connect), build the engine with [`backend`](Self::backend), then
/// [`start`](Self::start).
#[derive(Debug)]
pub struct RedisPresence {
    config: RedisConfig,
    client: redis::Client,
    backend: Arc<RedisBackend>,
    outbox: mpsc::UnboundedReceiver<ConnChange>,
    observer: Observer,
}

impl RedisPresence {
    /// Checks the settings and that Redis answers. Fails fast on a wrong URL or an unreachable Redis; to
    /// start even while Redis is down (the driver then keeps retrying), use [`new`](Self::new).
    pub async fn connect(config: RedisConfig) -> Result<Self, RedisPresenceError> {
        let this = Self::new(config)?;
        let unreachable = |reason: String| RedisPresenceError::Unreachable {
            url: redact(&this.config.url),
            reason,
        };
        let ping = async {
            let mut conn = this.client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut conn).await
        };
        match tokio::time::timeout(this.config.command_timeout, ping).await {
            Ok(Ok(_)) => Ok(this),
            Ok(Err(error)) => Err(unreachable(error.to_string())),
            Err(_) => Err(unreachable(format!(
                "no answer within {:?}",
                this.config.command_timeout
            ))),
        }
    }

    /// Checks the settings without contacting Redis.
    pub fn new(config: RedisConfig) -> Result<Self, RedisPresenceError> {
        config.validate()?;
        let invalid = |reason: String| RedisPresenceError::InvalidUrl {
            url: redact(&config.url),
            reason,
        };
        if !config.url.starts_with("redis://") && !config.url.starts_with("redis+unix://") {
            return Err(invalid(
                "the scheme must be redis:// (or redis+unix://)".to_owned(),
            ));
        }
        let client =
            redis::Client::open(config.url.as_str()).map_err(|e| invalid(e.to_string()))?;
        let (backend, outbox) = RedisBackend::new();
        Ok(Self {
            config,
            client,
            backend: Arc::new(backend),
            outbox,
            observer: Observer::default(),
        })
    }

    /// Reports the driver's reconnections and publish-to-receive lags to `observer` as they happen
    /// (e.g. to record metrics); the counters of [`RedisHandle::stats`] are kept either way.
    pub fn observe(mut self, observer: Arc<dyn RedisObserver>) -> Self {
        self.observer = Observer::new(observer);
        self
    }

    /// The backend to build the engine with: `Presence::builder().backend(redis.backend())`.
    pub fn backend(&self) -> Arc<dyn PresenceBackend> {
        self.backend.clone()
    }

    /// Starts the driver for `presence` (which must have been built with [`backend`](Self::backend)) on
    /// the current Tokio runtime. Changes made between building the engine and starting are not lost.
    pub fn start(self, presence: &Presence) -> Result<RedisHandle, RedisPresenceError> {
        if presence.backend_name() != "redis" {
            return Err(RedisPresenceError::WrongBackend {
                found: presence.backend_name().to_owned(),
            });
        }
        let liveness = self.config.liveness(presence.config().presence_timeout)?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| RedisPresenceError::NoRuntime)?;
        let (status_tx, status) = watch::channel(RedisStatus::Connecting);
        let (stop, stop_rx) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let node = presence.node_id();
        let driver = Driver {
            presence: presence.downgrade(),
            node,
            keys: Keys::new(&self.config.prefix),
            liveness,
            client: self.client,
            conn: None,
            outbox: self.outbox,
            mirror: Mirror::new(presence.config().reconnect_grace),
            outgoing: Outgoing::default(),
            peers: Peers::default(),
            suspects: HashMap::new(),
            epoch: 0,
            status: status_tx,
            stop: stop_rx,
            counters: counters.clone(),
            echoes: Echoes::default(),
            observer: self.observer,
            config: self.config,
        };
        let task = runtime.spawn(driver.run());
        Ok(RedisHandle {
            node,
            status,
            stop,
            task,
            counters,
        })
    }
}

/// Connects to Redis, builds an engine replicated through it, and starts the driver: the whole setup in
/// one call. The engine's sweeper is not started (call [`Presence::spawn_sweeper`] and keep its handle).
pub async fn build_presence(
    redis: RedisConfig,
    config: PresenceConfig,
) -> Result<(Presence, RedisHandle), RedisPresenceError> {
    let redis = RedisPresence::connect(redis).await?;
    let presence = Presence::builder()
        .config(config)
        .backend(redis.backend())
        .build()?;
    let handle = redis.start(&presence)?;
    Ok((presence, handle))
}
