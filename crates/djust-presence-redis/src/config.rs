//! [`RedisConfig`]: where Redis is and how the backend paces itself.

use std::time::Duration;

use crate::error::RedisPresenceError;

/// The environment variable [`RedisConfig::from_env`] reads the Redis URL from.
pub const REDIS_URL_ENV: &str = "DJUST_REDIS_URL";

/// Settings of the Redis presence backend.
///
/// Every process sharing presence must use the same `url`, the same `prefix` and the same
/// `presence_timeout` (in [`PresenceConfig`](djust_presence::PresenceConfig)): the timeout decides when a
/// silent process is declared dead.
///
/// ```
/// use std::time::Duration;
/// use djust_presence_redis::RedisConfig;
///
/// let config = RedisConfig {
///     cursor_tick: Duration::from_millis(25),
///     ..RedisConfig::new("redis://127.0.0.1:6379/0")
/// };
/// assert_eq!(config.prefix, "djust:presence");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (or `redis+unix:///path`; `rediss://` is refused: TLS is
    /// not built in).
    pub url: String,
    /// Prefix of every Redis key and of the channel, so several applications can share one Redis.
    /// Default `djust:presence`.
    pub prefix: String,
    /// How often this process refreshes its liveness in Redis and looks for dead processes. `None`
    /// (the default) is a sixth of `presence_timeout`; it may be at most a third of it. A process silent
    /// for `presence_timeout - liveness_interval` is dead, so survivors remove its connections within
    /// `presence_timeout` of its death.
    pub liveness_interval: Option<Duration>,
    /// Cursor moves are coalesced: every tick, one message per key carries the latest position of each of
    /// this process's connections that moved. Default 20 ms (50 Hz).
    pub cursor_tick: Duration,
    /// First delay before reconnecting after Redis is lost (then doubling, with jitter). Default 100 ms.
    pub reconnect_min_delay: Duration,
    /// Longest delay between reconnection attempts. Default 5 s.
    pub reconnect_max_delay: Duration,
    /// How long one Redis command or connection attempt may take before Redis counts as unreachable.
    /// Default 2 s.
    pub command_timeout: Duration,
}

impl RedisConfig {
    /// Default settings for the Redis at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "djust:presence".to_owned(),
            liveness_interval: None,
            cursor_tick: Duration::from_millis(20),
            reconnect_min_delay: Duration::from_millis(100),
            reconnect_max_delay: Duration::from_secs(5),
            command_timeout: Duration::from_secs(2),
        }
    }

    /// Default settings for the Redis named by the `DJUST_REDIS_URL` environment variable.
    pub fn from_env() -> Result<Self, RedisPresenceError> {
        Self::from_env_value(std::env::var(REDIS_URL_ENV).ok())
    }

    fn from_env_value(value: Option<String>) -> Result<Self, RedisPresenceError> {
        match value {
            Some(url) if !url.trim().is_empty() => Ok(Self::new(url.trim())),
            _ => Err(RedisPresenceError::MissingUrl { var: REDIS_URL_ENV }),
        }
    }

    /// Checks the settings that do not depend on the engine (the URL is parsed when connecting).
    pub fn validate(&self) -> Result<(), RedisPresenceError> {
        if self.prefix.is_empty() || self.prefix.contains(char::is_whitespace) {
            return Err(RedisPresenceError::InvalidPrefix {
                prefix: self.prefix.clone(),
            });
        }
        for (field, value) in [
            ("cursor_tick", self.cursor_tick),
            ("reconnect_min_delay", self.reconnect_min_delay),
            ("command_timeout", self.command_timeout),
        ] {
            if value.is_zero() {
                return Err(RedisPresenceError::ZeroDuration { field });
            }
        }
        if self.reconnect_max_delay < self.reconnect_min_delay {
            return Err(RedisPresenceError::BackoffOrder {
                min: self.reconnect_min_delay,
                max: self.reconnect_max_delay,
            });
        }
        Ok(())
    }

    /// The liveness timing for an engine whose connections time out after `presence_timeout`.
    pub(crate) fn liveness(
        &self,
        presence_timeout: Duration,
    ) -> Result<Liveness, RedisPresenceError> {
        let interval = self.liveness_interval.unwrap_or(presence_timeout / 6);
        if interval.is_zero() || interval > presence_timeout / 3 {
            return Err(RedisPresenceError::LivenessInterval {
                interval,
                presence_timeout,
            });
        }
        Ok(Liveness {
            interval,
            dead_after: presence_timeout - interval,
        })
    }
}

/// When this process proves it is alive, and when a silent process is dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Liveness {
    /// Heartbeat and reaping period.
    pub interval: Duration,
    /// A process whose last heartbeat is older than this (by Redis's clock) is dead.
    pub dead_after: Duration,
}

/// `d` in whole milliseconds, saturating.
pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `url` with any password replaced by `***`, for error messages and logs.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let user = userinfo.split(':').next().unwrap_or_default();
    let hidden = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        "***".to_owned()
    };
    format!("{}{hidden}{}", &url[..scheme_end], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_defaults_to_a_sixth_of_the_timeout_and_declares_death_before_it() {
        let l = RedisConfig::new("redis://x")
            .liveness(Duration::from_secs(60))
            .unwrap();
        assert_eq!(l.interval, Duration::from_secs(10));
        assert_eq!(l.dead_after, Duration::from_secs(50));
    }

    #[test]
    fn a_liveness_interval_above_a_third_of_the_timeout_is_refused() {
        let config = RedisConfig {
            liveness_interval: Some(Duration::from_secs(21)),
            ..RedisConfig::new("redis://x")
        };
        let err = config.liveness(Duration::from_secs(60)).unwrap_err();
        assert!(err.to_string().contains("liveness_interval"), "{err}");
        let ok = RedisConfig {
            liveness_interval: Some(Duration::from_secs(20)),
            ..config
        };
        assert!(ok.liveness(Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn validation_names_the_field_to_fix() {
        let zero = RedisConfig {
            cursor_tick: Duration::ZERO,
            ..RedisConfig::new("redis://x")
        };
        assert!(
            zero.validate()
                .unwrap_err()
                .to_string()
                .contains("cursor_tick")
        );
        let prefix = RedisConfig {
            prefix: "a b".into(),
            ..RedisConfig::new("redis://x")
        };
        assert!(
            prefix
                .validate()
                .unwrap_err()
                .to_string()
                .contains("prefix")
        );
        let backoff = RedisConfig {
            reconnect_max_delay: Duration::from_millis(1),
            ..RedisConfig::new("redis://x")
        };
        assert!(
            backoff
                .validate()
                .unwrap_err()
                .to_string()
                .contains("reconnect_max_delay")
        );
        assert!(RedisConfig::new("redis://x").validate().is_ok());
    }

    #[test]
    fn the_url_comes_from_djust_redis_url() {
        let err = RedisConfig::from_env_value(None).unwrap_err();
        assert!(err.to_string().contains("DJUST_REDIS_URL"), "{err}");
        assert!(RedisConfig::from_env_value(Some("  ".into())).is_err());
        let config = RedisConfig::from_env_value(Some(" redis://h:1/2 ".into())).unwrap();
        assert_eq!(config.url, "redis://h:1/2");
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("redis://user:s3cret@host:6379/1"),
            "redis://user:***@host:6379/1"
        );
        assert_eq!(redact("redis://s3cret@host/0"), "redis://***@host/0");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
        assert_eq!(redact("not a url"), "not a url");
    }
}
