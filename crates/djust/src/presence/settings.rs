//! Presence settings of [`crate::DjustConfig`]: the spec's `DJUST_CONFIG` keys
//! `presence_backend`, `presence_heartbeat_interval` and `presence_timeout`, plus the
//! reconnect grace, from a builder or `DJUST_PRESENCE_*` environment variables.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use djust_presence::PresenceConfig;

use crate::error::BuildError;

/// Where presence state lives (the spec's `presence_backend`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PresenceBackendKind {
    /// In this process (the default; one server process).
    #[default]
    Memory,
    /// Shared through Redis between several server processes (`redis_url`).
    Redis,
}

impl FromStr for PresenceBackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "memory" => Ok(Self::Memory),
            "redis" => Ok(Self::Redis),
            other => Err(format!(
                "unknown presence backend {other:?}; use \"memory\" or \"redis\""
            )),
        }
    }
}

impl fmt::Display for PresenceBackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
        })
    }
}

/// Presence settings. The client heartbeat interval is [`crate::DjustConfig::heartbeat_interval`]
/// (the spec's `presence_heartbeat_interval`): one setting, because the client's heartbeat is
/// what keeps its presence alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceSettings {
    /// `memory` (default) or `redis`. Env `DJUST_PRESENCE_BACKEND`.
    pub backend: PresenceBackendKind,
    /// A connection silent for longer than this is removed (default 60 s; the spec's
    /// `presence_timeout`). Env `DJUST_PRESENCE_TIMEOUT` (seconds).
    pub timeout: Duration,
    /// After an abnormal drop a user stays present this long, so a quick reconnect shows peers
    /// no leave/join (default 5 s). Env `DJUST_PRESENCE_RECONNECT_GRACE` (seconds).
    pub reconnect_grace: Duration,
    /// Largest meta accepted, in bytes of JSON (default 4096). Env `DJUST_PRESENCE_MAX_META_BYTES`.
    pub max_meta_bytes: usize,
    /// At most this many cursors per presence key reach a page (default 200). Above it, the
    /// cursors on the page keep their places while they move (see `cursor_linger`); a place
    /// goes to the most recently moved other cursor when one stops, hides or leaves. Env
    /// `DJUST_PRESENCE_CURSOR_LIMIT`.
    pub cursor_limit: usize,
    /// Above `cursor_limit`, a cursor on the page keeps its place while it moved within this
    /// long before the key's latest move (default 1 s; zero: every move goes to the most recent
    /// mover, and in a room where more users move than the limit allows every viewer re-renders
    /// on every tick). Env `DJUST_PRESENCE_CURSOR_LINGER` (seconds) or `_MS`.
    pub cursor_linger: Duration,
    /// Redis URL for the `redis` backend. Env `DJUST_REDIS_URL`.
    pub redis_url: Option<String>,
    /// Presence events waiting for one live view at most (default 1024). A view further behind
    /// (its connection task stalled) is told it lagged and re-renders from the current state
    /// instead of replaying every event, so a stalled view costs bounded memory. Env
    /// `DJUST_PRESENCE_SUBSCRIBER_QUEUE`.
    pub subscriber_queue: usize,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        let engine = PresenceConfig::default();
        Self {
            backend: PresenceBackendKind::Memory,
            timeout: engine.presence_timeout,
            reconnect_grace: engine.reconnect_grace,
            max_meta_bytes: engine.max_meta_bytes,
            cursor_limit: engine.cursor_limit,
            cursor_linger: engine.cursor_linger,
            redis_url: None,
            subscriber_queue: engine.subscriber_queue,
        }
    }
}

impl PresenceSettings {
    /// The engine configuration for these settings and the client heartbeat interval.
    ///
    /// # Errors
    /// The combination is inconsistent (e.g. the timeout is not longer than the heartbeat
    /// interval); the message names the variables.
    pub fn engine_config(
        &self,
        heartbeat_interval: Duration,
    ) -> Result<PresenceConfig, BuildError> {
        let config = PresenceConfig {
            heartbeat_interval,
            presence_timeout: self.timeout,
            reconnect_grace: self.reconnect_grace,
            max_meta_bytes: self.max_meta_bytes,
            subscriber_queue: self.subscriber_queue,
            cursor_limit: self.cursor_limit,
            cursor_linger: self.cursor_linger,
            ..PresenceConfig::default()
        };
        config.validate().map_err(|e| {
            BuildError::Config(format!(
                "presence settings (DJUST_PRESENCE_HEARTBEAT_INTERVAL, DJUST_PRESENCE_TIMEOUT, \
                 DJUST_PRESENCE_RECONNECT_GRACE, DJUST_PRESENCE_MAX_META_BYTES, \
                 DJUST_PRESENCE_SUBSCRIBER_QUEUE, DJUST_PRESENCE_CURSOR_LIMIT): {e}"
            ))
        })?;
        if self.backend == PresenceBackendKind::Redis {
            match self.redis_url.as_deref() {
                None => {
                    return Err(BuildError::Config(
                        "DJUST_PRESENCE_BACKEND=redis needs DJUST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)"
                            .into(),
                    ));
                }
                Some(url) if !(url.starts_with("redis://") || url.starts_with("redis+unix://")) => {
                    return Err(BuildError::Config(
                        "DJUST_REDIS_URL must start with redis:// or redis+unix:// \
                         (e.g. redis://127.0.0.1:6379/0)"
                            .into(),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(config)
    }
}

/// Parses seconds as the spec writes them (`30`, also fractional `0.5`).
pub(crate) fn parse_secs(name: &str, raw: &str) -> Result<Duration, BuildError> {
    let bad = || {
        BuildError::Config(format!(
            "{name}={raw:?} is not a number of seconds (e.g. \"30\" or \"0.5\")"
        ))
    };
    let secs: f64 = raw.trim().parse().map_err(|_| bad())?;
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}
