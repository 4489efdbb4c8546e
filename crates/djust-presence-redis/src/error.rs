//! [`RedisPresenceError`]: what can go wrong setting the backend up, each message saying what to fix.
//!
//! Once running, the backend never fails its caller: Redis errors are logged and lead to reconnecting.

use std::time::Duration;

/// Why the Redis presence backend could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisPresenceError {
    /// No URL was given.
    #[error("no Redis URL: set the {var} environment variable (e.g. redis://127.0.0.1:6379/0)")]
    MissingUrl {
        /// The environment variable that was read.
        var: &'static str,
    },
    /// The URL does not parse.
    #[error(
        "invalid Redis URL `{url}` (from redis_url / DJUST_REDIS_URL): {reason}; expected \
         redis://[user:password@]host:port[/db]"
    )]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// What the parser said.
        reason: String,
    },
    /// Redis did not answer when first contacted.
    #[error(
        "cannot reach Redis at `{url}` (from redis_url / DJUST_REDIS_URL): {reason}; is redis-server \
         running and reachable from this host?"
    )]
    Unreachable {
        /// The URL, password redacted.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The key prefix is empty or has whitespace.
    #[error("invalid Redis key prefix `{prefix}`: it must be non-empty and without whitespace")]
    InvalidPrefix {
        /// The prefix given.
        prefix: String,
    },
    /// A duration that must be positive is zero.
    #[error("RedisConfig::{field} must be greater than zero")]
    ZeroDuration {
        /// The field's name.
        field: &'static str,
    },
    /// The reconnection delays are the wrong way round.
    #[error(
        "RedisConfig::reconnect_max_delay ({max:?}) must be at least reconnect_min_delay ({min:?})"
    )]
    BackoffOrder {
        /// `reconnect_min_delay`.
        min: Duration,
        /// `reconnect_max_delay`.
        max: Duration,
    },
    /// The liveness interval does not fit the engine's timeout.
    #[error(
        "RedisConfig::liveness_interval ({interval:?}) must be above zero and at most a third of \
         presence_timeout ({presence_timeout:?}), so one late heartbeat does not declare a process dead"
    )]
    LivenessInterval {
        /// The interval asked for (or derived).
        interval: Duration,
        /// The engine's `presence_timeout`.
        presence_timeout: Duration,
    },
    /// `start` was called twice for one backend.
    #[error("this Redis backend was already started; create one RedisPresence per Presence")]
    AlreadyStarted,
    /// `start` was called outside a Tokio runtime.
    #[error("the Redis presence driver must be started inside a Tokio runtime")]
    NoRuntime,
    /// `start` was given an engine built with another backend.
    #[error(
        "the Presence was built with the `{found}` backend: pass RedisPresence::backend() to \
         Presence::builder().backend(..) before starting"
    )]
    WrongBackend {
        /// The engine's backend name.
        found: String,
    },
    /// The engine could not be built (from [`build_presence`](crate::build_presence)).
    #[error(transparent)]
    Presence(#[from] djust_presence::PresenceError),
}
