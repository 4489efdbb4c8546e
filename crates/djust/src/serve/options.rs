//! [`ServeOptions`]: the HTTP server's limits and timeouts, with their `DJUST_*` variables.

use std::time::Duration;

use super::ServeError;

/// Settings of [`Server`](super::Server): timeouts, connection limits, shutdown deadline.
///
/// Durations read from the environment are in seconds and accept fractions (`2.5`), like the
/// presence settings. See `docs/deployment.md`, *Limits and defaults*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// How long a client may take to send a request's headers, and how long a connection may
    /// stay silent before its first request or between two keep-alive requests; then it is
    /// closed (slowloris, silent sockets). `DJUST_HEADER_READ_TIMEOUT`, default 10 s.
    /// WebSockets are not affected once upgraded (they have `idle_timeout`).
    pub header_read_timeout: Duration,
    /// Most TCP connections open at once (HTTP and WebSocket). `None` (the default) derives
    /// it from the open-file limit after raising it (`soft limit − 128`, so the process never
    /// runs out of file descriptors). `DJUST_MAX_CONNECTIONS`.
    pub max_connections: Option<usize>,
    /// Most TCP connections open at once from one client address (IPv6: one /64).
    /// 0 disables the check (behind a reverse proxy every client has the proxy's address).
    /// `DJUST_MAX_CONNECTIONS_PER_IP`, default 1024.
    pub max_connections_per_ip: usize,
    /// How long a shutdown may take from the signal to the return of
    /// [`Server::run`](super::Server::run): closing every WebSocket with 1012, running every
    /// view's `terminate`, finishing in-flight requests, and removing this process's presence
    /// from Redis. What is still open then is dropped. `DJUST_SHUTDOWN_TIMEOUT`, default 10 s.
    pub shutdown_timeout: Duration,
    /// Set `TCP_NODELAY` on every accepted socket (default true): live views send many small
    /// frames, and with Nagle's algorithm each would wait for the client's delayed ACK.
    pub nodelay: bool,
    /// How many connections the kernel queues before the server accepts them (the `listen`
    /// backlog), used by [`Server::bind_with_backlog`](super::Server::bind_with_backlog) and
    /// [`serve`](super::serve). `DJUST_LISTEN_BACKLOG`, default [`DEFAULT_LISTEN_BACKLOG`];
    /// Linux caps it at `net.core.somaxconn`. When the queue is full the kernel drops new SYNs
    /// and clients retry after 1 s, 3 s, 7 s…: a room whose users all arrive at once (a
    /// restart, a class starting) then takes several seconds longer to fill.
    pub listen_backlog: u32,
}

/// The default [`ServeOptions::listen_backlog`]: a thousand users arriving at once (a
/// restart of the process with every browser reconnecting) wait in the queue instead of
/// losing their SYN. The standard library and Tokio use 128.
pub const DEFAULT_LISTEN_BACKLOG: u32 = 1024;

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: None,
            max_connections_per_ip: 1024,
            shutdown_timeout: Duration::from_secs(10),
            nodelay: true,
            listen_backlog: DEFAULT_LISTEN_BACKLOG,
        }
    }
}

impl ServeOptions {
    /// Sets [`ServeOptions::header_read_timeout`].
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServeOptions::max_connections`].
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = Some(max);
        self
    }

    /// Sets [`ServeOptions::max_connections_per_ip`] (0: no per-address limit).
    pub fn with_max_connections_per_ip(mut self, max: usize) -> Self {
        self.max_connections_per_ip = max;
        self
    }

    /// Sets [`ServeOptions::shutdown_timeout`].
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets [`ServeOptions::listen_backlog`].
    pub fn with_listen_backlog(mut self, backlog: u32) -> Self {
        self.listen_backlog = backlog;
        self
    }

    /// Reads `DJUST_HEADER_READ_TIMEOUT`, `DJUST_MAX_CONNECTIONS`,
    /// `DJUST_MAX_CONNECTIONS_PER_IP`, `DJUST_SHUTDOWN_TIMEOUT` and `DJUST_LISTEN_BACKLOG`
    /// over the defaults.
    ///
    /// # Errors
    /// [`ServeError::Config`] naming the variable, its value and what is accepted.
    pub fn from_env() -> Result<Self, ServeError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ServeOptions::from_env`] with another source of variables (tests).
    ///
    /// # Errors
    /// As for [`ServeOptions::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ServeError> {
        let mut opts = Self::default();
        if let Some(v) = seconds(&lookup, "DJUST_HEADER_READ_TIMEOUT")? {
            opts.header_read_timeout = v;
        }
        if let Some(v) = count(&lookup, "DJUST_MAX_CONNECTIONS")? {
            opts.max_connections = Some(v);
        }
        if let Some(v) = count(&lookup, "DJUST_MAX_CONNECTIONS_PER_IP")? {
            opts.max_connections_per_ip = v;
        }
        if let Some(v) = seconds(&lookup, "DJUST_SHUTDOWN_TIMEOUT")? {
            opts.shutdown_timeout = v;
        }
        if let Some(v) = count(&lookup, "DJUST_LISTEN_BACKLOG")? {
            opts.listen_backlog = u32::try_from(v).unwrap_or(u32::MAX);
        }
        opts.validate()?;
        Ok(opts)
    }

    /// Checks the combination.
    ///
    /// # Errors
    /// [`ServeError::Config`] naming the setting and what is accepted.
    pub fn validate(&self) -> Result<(), ServeError> {
        if self.header_read_timeout.is_zero() {
            return Err(ServeError::config(
                "DJUST_HEADER_READ_TIMEOUT",
                "0",
                "must be above 0 seconds (10 is the default)",
            ));
        }
        if self.max_connections == Some(0) {
            return Err(ServeError::config(
                "DJUST_MAX_CONNECTIONS",
                "0",
                "must be at least 1; leave it unset to derive it from the open-file limit",
            ));
        }
        if self.listen_backlog == 0 || self.listen_backlog > MAX_LISTEN_BACKLOG {
            return Err(ServeError::config(
                "DJUST_LISTEN_BACKLOG",
                &self.listen_backlog.to_string(),
                "must be between 1 and 65535 (1024 is the default; Linux caps it at net.core.somaxconn)",
            ));
        }
        if self.shutdown_timeout.is_zero() {
            return Err(ServeError::config(
                "DJUST_SHUTDOWN_TIMEOUT",
                "0",
                "must be above 0 seconds (10 is the default)",
            ));
        }
        Ok(())
    }
}

/// The largest backlog accepted: Linux keeps it in 16 bits on older kernels, and a queue
/// longer than this only hides an overloaded server.
const MAX_LISTEN_BACKLOG: u32 = 65_535;

fn seconds(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Duration>, ServeError> {
    let Some(raw) = lookup(name) else {
        return Ok(None);
    };
    let secs: f64 = raw.trim().parse().map_err(|_| {
        ServeError::config(name, &raw, "expected a number of seconds, e.g. 10 or 2.5")
    })?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
        return Err(ServeError::config(
            name,
            &raw,
            "must be above 0 and at most 86400 seconds",
        ));
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

fn count(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<usize>, ServeError> {
    let Some(raw) = lookup(name) else {
        return Ok(None);
    };
    raw.trim()
        .parse()
        .map(Some)
        .map_err(|_| ServeError::config(name, &raw, "expected a whole number, e.g. 1000"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults_are_valid_and_env_overrides_them() {
        assert_eq!(
            ServeOptions::from_lookup(lookup(&[])).unwrap(),
            ServeOptions::default()
        );
        let opts = ServeOptions::from_lookup(lookup(&[
            ("DJUST_HEADER_READ_TIMEOUT", "2.5"),
            ("DJUST_MAX_CONNECTIONS", "500"),
            ("DJUST_MAX_CONNECTIONS_PER_IP", "0"),
            ("DJUST_SHUTDOWN_TIMEOUT", "30"),
            ("DJUST_LISTEN_BACKLOG", "4096"),
        ]))
        .unwrap();
        assert_eq!(opts.header_read_timeout, Duration::from_millis(2500));
        assert_eq!(opts.max_connections, Some(500));
        assert_eq!(opts.max_connections_per_ip, 0);
        assert_eq!(opts.shutdown_timeout, Duration::from_secs(30));
        assert_eq!(opts.listen_backlog, 4096);
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        for (var, value) in [
            ("DJUST_HEADER_READ_TIMEOUT", "soon"),
            ("DJUST_HEADER_READ_TIMEOUT", "0"),
            ("DJUST_SHUTDOWN_TIMEOUT", "-1"),
            ("DJUST_SHUTDOWN_TIMEOUT", "NaN"),
            ("DJUST_MAX_CONNECTIONS", "0"),
            ("DJUST_MAX_CONNECTIONS", "lots"),
            ("DJUST_MAX_CONNECTIONS_PER_IP", "-3"),
            ("DJUST_LISTEN_BACKLOG", "0"),
            ("DJUST_LISTEN_BACKLOG", "100000"),
            ("DJUST_LISTEN_BACKLOG", "many"),
        ] {
            let err = ServeOptions::from_lookup(lookup(&[(var, value)])).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(var) && msg.contains(value),
                "{var}={value}: {msg}"
            );
        }
    }
}
