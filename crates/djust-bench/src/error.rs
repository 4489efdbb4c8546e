//! The bench's error type: every variant says what to check or change.

use std::path::PathBuf;

/// Why a benchmark run could not be carried out (as opposed to a run that measured errors,
/// which are counted in the report).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The server process could not be started.
    #[error("cannot start the server {bin}: {source} (build it, or pass --server-bin / --url)")]
    Spawn {
        /// The executable that was started.
        bin: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The server started but exited or never printed the URL it listens on.
    #[error(
        "the server did not report its URL within {secs} s (did it exit?); end of its log {log}"
    )]
    ServerStart {
        /// How long we waited.
        secs: u64,
        /// The path and last lines of the server's log.
        log: String,
    },
    /// `redis-server` could not be started (the `multi-node` scenario needs it).
    #[error("cannot start redis-server: {0} (install it, e.g. `apt-get install redis-server`)")]
    Redis(String),
    /// A `--url` that is not `http://host:port`.
    #[error("--url {0:?} is not of the form http://127.0.0.1:8000")]
    BadUrl(String),
    /// A `--server-env` that is not `KEY=VALUE`.
    #[error("--server-env {0:?} is not of the form KEY=VALUE")]
    BadEnv(String),
    /// Parameters that cannot make a run (zero users, ...).
    #[error("invalid parameters: {0}")]
    Params(String),
    /// An HTTP request of the set-up (login, page) failed.
    #[error("HTTP {what} failed: {detail}")]
    Http {
        /// Which request.
        what: String,
        /// What went wrong.
        detail: String,
    },
    /// The WebSocket set-up (connect, mount) failed for a connection the run cannot do without.
    #[error("WebSocket {what} failed: {detail}")]
    Ws {
        /// Which step.
        what: String,
        /// What went wrong.
        detail: String,
    },
    /// Too few connections could be set up to measure anything.
    #[error("only {mounted} of {wanted} connections mounted; first error: {first_error}")]
    TooFewConnections {
        /// Connections that mounted.
        mounted: usize,
        /// Connections wanted.
        wanted: usize,
        /// The first failure seen.
        first_error: String,
    },
    /// A local I/O operation (temporary directory, /proc) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl BenchError {
    /// An [`BenchError::Io`] saying what was being done.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
        let what = what.into();
        move |source| BenchError::Io { what, source }
    }
}
