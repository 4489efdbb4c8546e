//! Runtime configuration: defaults, validation, and `DJUST_*` environment variables.

use std::time::Duration;

use crate::env;
use crate::error::BuildError;
use crate::presence::{PresenceBackendKind, PresenceSettings};

/// Minimum length of the session-cookie secret: HMAC-SHA256 wants at least 256 bits of key.
pub const MIN_SECRET_BYTES: usize = 32;

/// Tunables of the live-view runtime. Build with [`DjustConfig::default`] and the `with_*`
/// methods, or read from the environment with [`DjustConfig::from_env`].
///
/// Every default is documented in `docs/runtime.md` with the reason it was chosen.
#[derive(Clone)]
pub struct DjustConfig {
    /// Render coalescing window: all changes within one tick produce at most one render and one
    /// frame (a change after a quiet tick goes out at once). Default 10 ms: in a busy room every
    /// view is always inside a tick, so the tick is what a peer's update waits for at worst —
    /// 10 ms keeps the p99 of a cursor move under 20 ms, while a storm still costs a connection
    /// at most 100 frames a second (cursor moves of shown cursors need no render at all).
    pub tick: Duration,
    /// Largest client frame accepted, in bytes (default 64 KiB). A larger frame closes the
    /// connection with code 1009, because the WebSocket codec cannot skip an oversized frame.
    pub max_frame_bytes: usize,
    /// Event rate limit: tokens added per second (default 50).
    pub rate_per_sec: u32,
    /// Event rate limit: bucket size, i.e. the largest burst (default 100).
    pub rate_burst: u32,
    /// Frame rate limit: every client frame (events, heartbeats, resyncs, malformed and
    /// binary frames, repeated mounts) takes a token; tokens added per second (default 200).
    /// Frames over it are dropped unread. Keep it well above `rate_per_sec`: coalescible
    /// events over the event limit are held, not dropped, only if their frames get in.
    pub frame_rate_per_sec: u32,
    /// Frame rate limit: bucket size (default 400).
    pub frame_rate_burst: u32,
    /// A server frame the client does not take within this long (its socket stays full)
    /// closes the connection with 1008 "send timeout"; its presence then goes through the
    /// reconnect grace like any drop (default 5 s).
    pub send_timeout: Duration,
    /// Capacity of each connection's info queue ([`crate::InfoSender`], default 1024
    /// messages). When full, `InfoSender::send` refuses with [`crate::SendError::Full`].
    pub info_queue: usize,
    /// WebSocket read buffer per connection (default 512 B, at least 256; axum's default is 128
    /// KiB): client frames are small (a cursor move, a keystroke's update: 100–300 B), a longer
    /// one is read in pieces of this size into a buffer grown for it. `djust::Server`
    /// closes with a lingering close, so a frame far over `max_frame_bytes` still gets its
    /// visible 1009; behind your own `axum::serve` use 8 KiB or more (docs/runtime.md).
    pub ws_read_buffer: usize,
    /// The largest WebSocket frame written at once (default 2 KiB): a longer message goes out
    /// as continuation frames of this size, so a connection's write buffer stays at this size
    /// instead of keeping the capacity of the largest message it ever sent.
    pub ws_write_buffer: usize,
    /// Hard cap on buffered outgoing bytes per connection (default 4 MiB).
    pub ws_max_write_buffer: usize,
    /// Origins (`scheme://host[:port]`) allowed to open the WebSocket. Empty (the default) means
    /// "the same host as the request's `Host` header".
    pub allowed_origins: Vec<String>,
    /// How often the client sends a heartbeat (told to it in the `mounted` frame). Default 30 s.
    pub heartbeat_interval: Duration,
    /// The server closes a connection that sent nothing for this long (default 60 s: two
    /// missed heartbeats, the spec's presence timeout).
    pub idle_timeout: Duration,
    /// Secret for signing the session cookie (≥ 32 bytes). `None` generates a random key at
    /// start-up and logs a warning (sessions then do not survive a restart and are not shared
    /// between processes).
    pub secret_key: Option<Vec<u8>>,
    /// Adds `Secure` to the session cookie (set it when serving over HTTPS). Default false.
    pub secure_cookie: bool,
    /// Presence: backend, timeout, reconnect grace (see [`PresenceSettings`]). The client
    /// heartbeat interval above is also the presence heartbeat interval.
    pub presence: PresenceSettings,
    /// Dev mode (`docs/operations.md`): templates reloaded on change, the client script read
    /// fresh and never cached, render errors shown on the page. `None` (the default) follows
    /// `DJUST_DEV` if set, else the build: on in debug builds, off in release builds. Env
    /// `DJUST_DEV` (`1`/`true`/`yes` or `0`/`false`/`no`).
    pub dev: Option<bool>,
}

impl Default for DjustConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(10),
            max_frame_bytes: 64 * 1024,
            rate_per_sec: 50,
            rate_burst: 100,
            frame_rate_per_sec: 200,
            frame_rate_burst: 400,
            send_timeout: Duration::from_secs(5),
            info_queue: 1024,
            ws_read_buffer: 512,
            ws_write_buffer: 2 * 1024,
            ws_max_write_buffer: 4 * 1024 * 1024,
            allowed_origins: Vec::new(),
            heartbeat_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            secret_key: None,
            secure_cookie: false,
            presence: PresenceSettings::default(),
            dev: None,
        }
    }
}

impl std::fmt::Debug for DjustConfig {
    // Hand-written so the secret never ends up in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DjustConfig")
            .field("tick", &self.tick)
            .field("max_frame_bytes", &self.max_frame_bytes)
            .field("rate_per_sec", &self.rate_per_sec)
            .field("rate_burst", &self.rate_burst)
            .field("frame_rate_per_sec", &self.frame_rate_per_sec)
            .field("frame_rate_burst", &self.frame_rate_burst)
            .field("send_timeout", &self.send_timeout)
            .field("info_queue", &self.info_queue)
            .field("ws_read_buffer", &self.ws_read_buffer)
            .field("ws_write_buffer", &self.ws_write_buffer)
            .field("ws_max_write_buffer", &self.ws_max_write_buffer)
            .field("allowed_origins", &self.allowed_origins)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("idle_timeout", &self.idle_timeout)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("secure_cookie", &self.secure_cookie)
            .field("presence", &self.presence)
            .field("dev", &self.dev)
            .finish()
    }
}

impl DjustConfig {
    /// Sets [`DjustConfig::tick`].
    pub fn with_tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// Sets [`DjustConfig::max_frame_bytes`].
    pub fn with_max_frame_bytes(mut self, bytes: usize) -> Self {
        self.max_frame_bytes = bytes;
        self
    }

    /// Sets the event rate limit ([`DjustConfig::rate_per_sec`], [`DjustConfig::rate_burst`]).
    pub fn with_rate_limit(mut self, per_sec: u32, burst: u32) -> Self {
        self.rate_per_sec = per_sec;
        self.rate_burst = burst;
        self
    }

    /// Sets the frame rate limit ([`DjustConfig::frame_rate_per_sec`],
    /// [`DjustConfig::frame_rate_burst`]).
    pub fn with_frame_rate_limit(mut self, per_sec: u32, burst: u32) -> Self {
        self.frame_rate_per_sec = per_sec;
        self.frame_rate_burst = burst;
        self
    }

    /// Sets [`DjustConfig::send_timeout`].
    pub fn with_send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Sets [`DjustConfig::info_queue`].
    pub fn with_info_queue(mut self, capacity: usize) -> Self {
        self.info_queue = capacity;
        self
    }

    /// Sets [`DjustConfig::allowed_origins`].
    pub fn with_allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`DjustConfig::heartbeat_interval`].
    pub fn with_heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Sets the presence backend (the spec's `presence_backend`: memory or redis).
    pub fn with_presence_backend(mut self, backend: PresenceBackendKind) -> Self {
        self.presence.backend = backend;
        self
    }

    /// Sets the presence heartbeat interval (the spec's `presence_heartbeat_interval`; the same
    /// setting as [`DjustConfig::heartbeat_interval`]).
    pub fn with_presence_heartbeat_interval(self, interval: Duration) -> Self {
        self.with_heartbeat_interval(interval)
    }

    /// Sets the presence timeout (the spec's `presence_timeout`).
    pub fn with_presence_timeout(mut self, timeout: Duration) -> Self {
        self.presence.timeout = timeout;
        self
    }

    /// Sets the presence reconnect grace.
    pub fn with_presence_reconnect_grace(mut self, grace: Duration) -> Self {
        self.presence.reconnect_grace = grace;
        self
    }

    /// Sets the Redis URL of the `redis` presence backend.
    pub fn with_redis_url(mut self, url: impl Into<String>) -> Self {
        self.presence.redis_url = Some(url.into());
        self
    }

    /// Sets [`DjustConfig::idle_timeout`].
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Turns dev mode on or off whatever the build and `DJUST_DEV` say ([`DjustConfig::dev`]).
    pub fn with_dev(mut self, dev: bool) -> Self {
        self.dev = Some(dev);
        self
    }

    /// Whether dev mode is on: [`DjustConfig::dev`] if set, else `DJUST_DEV`, else the build.
    pub fn dev_mode(&self) -> bool {
        self.dev.unwrap_or_else(crate::dev::dev_mode)
    }

    /// Sets [`DjustConfig::secret_key`].
    pub fn with_secret_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.secret_key = Some(key.into());
        self
    }

    /// Reads the `DJUST_*` environment variables over the defaults (see `docs/runtime.md`).
    ///
    /// Durations follow one rule: `NAME` in seconds (fractions allowed) or `NAME_MS` in whole
    /// milliseconds, e.g. `DJUST_TICK_MS=10` or `DJUST_PRESENCE_TIMEOUT=60`; set only one.
    /// [`crate::DjustBuilder`] calls this itself when [`crate::DjustBuilder::config`] was not
    /// called.
    ///
    /// # Errors
    /// A variable that does not parse, or a combination that fails [`DjustConfig::validate`],
    /// is an error naming the variable.
    pub fn from_env() -> Result<Self, BuildError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`DjustConfig::from_env`] with an injectable lookup (tests, other config sources).
    ///
    /// # Errors
    /// As for [`DjustConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, BuildError> {
        let mut cfg = Self::default();
        if let Some(v) = env::duration(&lookup, env::TICK)? {
            cfg.tick = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_MAX_FRAME_BYTES")? {
            cfg.max_frame_bytes = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_RATE_PER_SEC")? {
            cfg.rate_per_sec = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_RATE_BURST")? {
            cfg.rate_burst = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_FRAME_RATE_PER_SEC")? {
            cfg.frame_rate_per_sec = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_FRAME_RATE_BURST")? {
            cfg.frame_rate_burst = v;
        }
        if let Some(v) = env::duration(&lookup, env::SEND_TIMEOUT)? {
            cfg.send_timeout = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_INFO_QUEUE")? {
            cfg.info_queue = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_WS_READ_BUFFER")? {
            cfg.ws_read_buffer = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_WS_WRITE_BUFFER")? {
            cfg.ws_write_buffer = v;
        }
        if let Some(v) = parse(&lookup, "DJUST_WS_MAX_WRITE_BUFFER")? {
            cfg.ws_max_write_buffer = v;
        }
        if let Some(v) = lookup("DJUST_ALLOWED_ORIGINS") {
            cfg.allowed_origins = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env::duration(&lookup, env::HEARTBEAT)? {
            cfg.heartbeat_interval = v;
        }
        if let Some(v) = env::duration(&lookup, env::IDLE_TIMEOUT)? {
            cfg.idle_timeout = v;
        }
        if let Some(v) = lookup("DJUST_SECRET_KEY") {
            if v.len() < MIN_SECRET_BYTES {
                return Err(BuildError::Config(format!(
                    "DJUST_SECRET_KEY is {} bytes long; it must be at least {MIN_SECRET_BYTES}",
                    v.len()
                )));
            }
            cfg.secret_key = Some(v.into_bytes());
        }
        if let Some(v) = parse(&lookup, "DJUST_SECURE_COOKIE")? {
            cfg.secure_cookie = v;
        }
        if let Some(raw) = lookup("DJUST_DEV") {
            cfg.dev = Some(crate::dev::parse_flag(&raw).ok_or_else(|| {
                BuildError::Config(format!(
                    "DJUST_DEV={raw:?}: use 1, true or yes (dev mode on) or 0, false or no (off)"
                ))
            })?);
        }
        cfg.read_presence_env(&lookup)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn read_presence_env(
        &mut self,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), BuildError> {
        if let Some(raw) = lookup("DJUST_PRESENCE_BACKEND") {
            self.presence.backend = raw
                .parse()
                .map_err(|e| BuildError::Config(format!("DJUST_PRESENCE_BACKEND={raw:?}: {e}")))?;
        }
        if let Some(v) = env::duration(lookup, env::PRESENCE_TIMEOUT)? {
            // Not the idle timeout: a silent client leaves presence at this timeout (plus one
            // sweep) whatever the idle timeout, which only closes its socket.
            self.presence.timeout = v;
        }
        if let Some(v) = env::duration(lookup, env::RECONNECT_GRACE)? {
            self.presence.reconnect_grace = v;
        }
        if let Some(v) = parse(lookup, "DJUST_PRESENCE_MAX_META_BYTES")? {
            self.presence.max_meta_bytes = v;
        }
        if let Some(v) = parse(lookup, "DJUST_PRESENCE_CURSOR_LIMIT")? {
            self.presence.cursor_limit = v;
        }
        if let Some(v) = env::duration(lookup, env::CURSOR_LINGER)? {
            self.presence.cursor_linger = v;
        }
        if let Some(v) = lookup("DJUST_REDIS_URL") {
            self.presence.redis_url = Some(v);
        }
        if let Some(v) = parse(lookup, "DJUST_PRESENCE_SUBSCRIBER_QUEUE")? {
            self.presence.subscriber_queue = v;
        }
        Ok(())
    }

    /// Checks the values make sense together.
    ///
    /// # Errors
    /// The first invalid setting, named as its field and its environment variable.
    pub fn validate(&self) -> Result<(), BuildError> {
        let fail = |msg: String| Err(BuildError::Config(msg));
        if self.tick.is_zero() || self.tick > Duration::from_secs(1) {
            return fail(format!(
                "tick (DJUST_TICK_MS) is {:?}; use 1 ms ..= 1000 ms (10 ms is the default)",
                self.tick
            ));
        }
        if self.max_frame_bytes < 1024 {
            return fail(format!(
                "max_frame_bytes (DJUST_MAX_FRAME_BYTES) is {}; it must be at least 1024",
                self.max_frame_bytes
            ));
        }
        if self.rate_per_sec == 0 || self.rate_burst == 0 {
            return fail(
                "rate_per_sec (DJUST_RATE_PER_SEC) and rate_burst (DJUST_RATE_BURST) must be > 0"
                    .into(),
            );
        }
        if self.frame_rate_per_sec == 0 || self.frame_rate_burst == 0 {
            return fail(
                "frame_rate_per_sec (DJUST_FRAME_RATE_PER_SEC) and frame_rate_burst \
                 (DJUST_FRAME_RATE_BURST) must be > 0"
                    .into(),
            );
        }
        if self.send_timeout.is_zero() {
            return fail(
                "send_timeout (DJUST_SEND_TIMEOUT) must be > 0 (5 s is the default)".into(),
            );
        }
        if self.info_queue == 0 {
            return fail(
                "info_queue (DJUST_INFO_QUEUE) must be at least 1 (1024 is the default)".into(),
            );
        }
        if self.ws_read_buffer < 256 {
            return fail(format!(
                "ws_read_buffer (DJUST_WS_READ_BUFFER) is {}; it must be at least 256 bytes \
                 (512 is the default)",
                self.ws_read_buffer
            ));
        }
        if self.ws_write_buffer < 1024 {
            return fail(format!(
                "ws_write_buffer (DJUST_WS_WRITE_BUFFER) is {}; it must be at least 1024 bytes",
                self.ws_write_buffer
            ));
        }
        if self.ws_max_write_buffer <= self.ws_write_buffer {
            return fail(format!(
                "ws_max_write_buffer (DJUST_WS_MAX_WRITE_BUFFER) is {}; it must exceed \
                 ws_write_buffer ({}), the largest frame the server writes at once",
                self.ws_max_write_buffer, self.ws_write_buffer
            ));
        }
        // Presence first: its message names the presence variables, which is what a user who
        // only set those needs to see.
        self.presence.engine_config(self.heartbeat_interval)?;
        if self.heartbeat_interval.is_zero() || self.idle_timeout <= self.heartbeat_interval {
            return fail(format!(
                "idle_timeout (DJUST_IDLE_TIMEOUT_MS, {:?}) must be longer than a non-zero \
                 heartbeat_interval (DJUST_PRESENCE_HEARTBEAT_INTERVAL or \
                 DJUST_HEARTBEAT_INTERVAL_MS, {:?})",
                self.idle_timeout, self.heartbeat_interval
            ));
        }
        if let Some(key) = &self.secret_key
            && key.len() < MIN_SECRET_BYTES
        {
            return fail(format!(
                "secret_key (DJUST_SECRET_KEY) is {} bytes long; it must be at least {MIN_SECRET_BYTES}",
                key.len()
            ));
        }
        Ok(())
    }
}

fn parse<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, BuildError>
where
    T::Err: std::fmt::Display,
{
    match lookup(name) {
        None => Ok(None),
        Some(raw) => raw.trim().parse().map(Some).map_err(|e| {
            BuildError::Config(format!(
                "{name}={raw:?} is not a valid {}: {e}",
                std::any::type_name::<T>()
            ))
        }),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
