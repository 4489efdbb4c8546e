//! Engine settings: heartbeat and timeout, reconnect grace, meta size limit, sweeping.

use std::time::Duration;

use crate::error::ConfigError;

/// Settings of a [`Presence`](crate::Presence) engine.
///
/// Build one with [`PresenceConfig::default()`] and struct-update syntax, then let
/// [`Presence::builder`](crate::Presence::builder) (which calls [`validate`](Self::validate)) check it:
///
/// ```
/// use std::time::Duration;
/// use djust_presence::PresenceConfig;
///
/// let config = PresenceConfig {
///     presence_timeout: Duration::from_secs(90),
///     ..PresenceConfig::default()
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceConfig {
    /// How often a connection is expected to call [`heartbeat`](crate::Presence::heartbeat). The engine does
    /// not send heartbeats itself: the live-view layer uses this value to schedule them. Default 30 s.
    pub heartbeat_interval: Duration,
    /// A connection silent (no heartbeat, no track) for longer than this is removed by the sweeper.
    /// Must exceed `heartbeat_interval` so one late heartbeat does not drop a healthy connection.
    /// Default 60 s.
    pub presence_timeout: Duration,
    /// How long a connection untracked with [`UntrackReason::Abnormal`](crate::UntrackReason::Abnormal)
    /// keeps its user present, so a quick reconnect shows peers neither a leave nor a join. Zero turns the
    /// grace off (an abnormal untrack then removes at once). Default 5 s.
    pub reconnect_grace: Duration,
    /// Largest accepted meta, in bytes of its compact JSON form. Default 4096.
    pub max_meta_bytes: usize,
    /// How often the background sweeper (see [`Presence::spawn_sweeper`](crate::Presence::spawn_sweeper))
    /// looks for expired connections and lapsed graces. At most `presence_timeout`. Default 1 s.
    pub sweep_interval: Duration,
    /// How long an expired connection is remembered so that a late heartbeat from it tracks it again.
    /// Zero disables re-tracking after expiry. Default 5 min.
    pub expired_retention: Duration,
    /// At most this many expired connections are remembered (the oldest are forgotten first), which bounds
    /// memory when many clients vanish at once. Default 10 000.
    pub max_expired: usize,
    /// At most this many events wait in one subscription's queue; a subscriber further behind gets
    /// [`RecvError::Lagged`](crate::RecvError::Lagged) and re-reads the state, so a reader that
    /// stopped reading costs bounded memory. Default 1024.
    pub subscriber_queue: usize,
    /// At most this many cursors per key are listed for live views
    /// ([`Presence::cursors_shared`](crate::Presence::cursors_shared)): above it, the listed
    /// ones keep their places while they move (see [`cursor_linger`](Self::cursor_linger)),
    /// and a place goes to the most recently moved unlisted cursor when a listed one stops or
    /// leaves. Keeps a 1000-user room drawable in a browser. Default 200.
    pub cursor_limit: usize,
    /// Above [`cursor_limit`](Self::cursor_limit), a listed cursor keeps its place while it
    /// moved within this long before the key's latest move; only then can an unlisted cursor
    /// take it. Without it, in a room where more than `cursor_limit` users move, the listing
    /// would change on every move and every viewer would re-render on every tick. Zero gives
    /// each move to the most recent mover (no stickiness). Default 1 s.
    pub cursor_linger: Duration,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(30),
            presence_timeout: Duration::from_secs(60),
            reconnect_grace: Duration::from_secs(5),
            max_meta_bytes: 4096,
            sweep_interval: Duration::from_secs(1),
            expired_retention: Duration::from_secs(300),
            max_expired: 10_000,
            subscriber_queue: 1024,
            cursor_limit: 200,
            cursor_linger: Duration::from_secs(1),
        }
    }
}

impl PresenceConfig {
    /// Checks that the settings make sense together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.heartbeat_interval.is_zero() {
            return Err(ConfigError::ZeroDuration {
                field: "heartbeat_interval",
            });
        }
        if self.sweep_interval.is_zero() {
            return Err(ConfigError::ZeroDuration {
                field: "sweep_interval",
            });
        }
        if self.presence_timeout <= self.heartbeat_interval {
            return Err(ConfigError::TimeoutNotAboveHeartbeat {
                timeout: self.presence_timeout,
                heartbeat: self.heartbeat_interval,
            });
        }
        if self.sweep_interval > self.presence_timeout {
            return Err(ConfigError::SweepSlowerThanTimeout {
                sweep: self.sweep_interval,
                timeout: self.presence_timeout,
            });
        }
        if self.max_meta_bytes == 0 {
            return Err(ConfigError::ZeroMetaLimit);
        }
        if self.subscriber_queue == 0 {
            return Err(ConfigError::ZeroSubscriberQueue);
        }
        if self.cursor_limit == 0 {
            return Err(ConfigError::ZeroCursorLimit);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec_and_are_valid() {
        let c = PresenceConfig::default();
        assert_eq!(c.heartbeat_interval, Duration::from_secs(30));
        assert_eq!(c.presence_timeout, Duration::from_secs(60));
        assert_eq!(c.reconnect_grace, Duration::from_secs(5));
        assert_eq!(c.max_meta_bytes, 4096);
        assert_eq!(c.cursor_limit, 200);
        assert_eq!(c.validate(), Ok(()));
        let no_cursors = PresenceConfig {
            cursor_limit: 0,
            ..PresenceConfig::default()
        };
        assert_eq!(no_cursors.validate(), Err(ConfigError::ZeroCursorLimit));
    }

    #[test]
    fn timeout_must_exceed_heartbeat() {
        let c = PresenceConfig {
            presence_timeout: Duration::from_secs(30),
            ..PresenceConfig::default()
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::TimeoutNotAboveHeartbeat {
                timeout: Duration::from_secs(30),
                heartbeat: Duration::from_secs(30),
            })
        );
    }

    #[test]
    fn zero_values_are_rejected_by_name() {
        let zero_hb = PresenceConfig {
            heartbeat_interval: Duration::ZERO,
            ..PresenceConfig::default()
        };
        assert_eq!(
            zero_hb.validate(),
            Err(ConfigError::ZeroDuration {
                field: "heartbeat_interval"
            })
        );
        let zero_sweep = PresenceConfig {
            sweep_interval: Duration::ZERO,
            ..PresenceConfig::default()
        };
        assert_eq!(
            zero_sweep.validate(),
            Err(ConfigError::ZeroDuration {
                field: "sweep_interval"
            })
        );
        let zero_meta = PresenceConfig {
            max_meta_bytes: 0,
            ..PresenceConfig::default()
        };
        assert_eq!(zero_meta.validate(), Err(ConfigError::ZeroMetaLimit));
    }

    #[test]
    fn sweep_interval_cannot_exceed_timeout() {
        let c = PresenceConfig {
            sweep_interval: Duration::from_secs(61),
            ..PresenceConfig::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::SweepSlowerThanTimeout { .. })
        ));
    }

    #[test]
    fn zero_grace_and_zero_retention_are_allowed() {
        let c = PresenceConfig {
            reconnect_grace: Duration::ZERO,
            expired_retention: Duration::ZERO,
            max_expired: 0,
            ..PresenceConfig::default()
        };
        assert_eq!(c.validate(), Ok(()));
    }
}
