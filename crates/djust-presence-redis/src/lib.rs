//! Redis backend for djust presence: presence, cursors and broadcasts shared across any number of server
//! processes through one Redis (7 or later).
//!
//! ```no_run
//! use djust_presence::{ConnId, Presence, PresenceConfig};
//! use djust_presence_redis::{RedisConfig, RedisPresence, RedisStatus};
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = RedisPresence::connect(RedisConfig::from_env()?).await?; // DJUST_REDIS_URL
//! let presence = Presence::builder()
//!     .config(PresenceConfig::default())
//!     .backend(redis.backend())
//!     .build()?;
//! let handle = redis.start(&presence)?; // the driver task, on the current Tokio runtime
//! let _sweeper = presence.spawn_sweeper()?;
//! handle.wait_for(RedisStatus::Connected).await;
//!
//! // From here on, every process sees this user, and this process sees everyone else's.
//! presence.track("document:42", ConnId::random(), "alice", json!({"name": "Alice"}))?;
//! let everyone = presence.list("document:42");
//! # drop(everyone);
//!
//! handle.shutdown().await; // removes this process's users everywhere at once
//! # Ok(()) }
//! ```
//!
//! How it works (details and limits in `docs/deployment.md`):
//!
//! - Every process keeps the whole presence state in memory (the engine of `djust-presence`); Redis
//!   carries the connection-level changes between processes and stores each process's own connections
//!   so that a process starting, or coming back after an outage, can catch up.
//! - [`RedisBackend`] queues each local change; the driver task sends it with a Lua script that writes the
//!   process's hash and publishes the change on one channel in a single atomic step, numbering it. A
//!   receiver applies the next number, skips what it has, and re-reads the sender's hash on a gap.
//! - Each process refreshes its liveness (a sorted set scored by Redis's clock); a process silent for the
//!   presence timeout is reaped atomically by whichever survivor sees it first, and every survivor
//!   removes its connections with leaves, within `presence_timeout`.
//! - Cursor moves are coalesced: one message per key per tick (default 20 ms) with each connection's
//!   latest position.
//! - If Redis goes away, local presence keeps working, the outage is logged, and the driver reconnects
//!   with jittered backoff, then re-publishes this process's state and re-reads everyone else's.

#![warn(missing_docs)]

mod backend;
mod backoff;
mod config;
mod driver;
mod echo;
mod error;
mod handle;
mod keys;
mod mirror;
mod observer;
mod outgoing;
mod peers;
mod scripts;
mod setup;
mod status;
mod wire;

pub use backend::RedisBackend;
pub use config::{REDIS_URL_ENV, RedisConfig};
pub use error::RedisPresenceError;
pub use handle::RedisHandle;
pub use observer::RedisObserver;
pub use setup::{RedisPresence, build_presence};
pub use status::{RedisStats, RedisStatus};
