//! Errors of the test kit.

use std::time::Duration;

/// Anything that can go wrong driving the browser or serving files.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// A helper binary could not be started.
    #[error("could not start `{binary}`: {source} (is it installed and executable?)")]
    Spawn {
        /// Path of the binary.
        binary: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// ChromeDriver did not accept connections in time.
    #[error(
        "chromedriver did not listen on port {port} within {waited:?}; run it by hand to see why"
    )]
    DriverNotReady {
        /// The port it was told to use.
        port: u16,
        /// How long we waited.
        waited: Duration,
    },
    /// Creating a WebDriver session (a browser context) failed.
    /// (Boxed: the WebDriver error types are large and would bloat every `Result` here.)
    #[error("could not start a Chromium session via chromedriver: {0}")]
    Session(#[from] Box<fantoccini::error::NewSessionError>),
    /// A WebDriver command failed.
    #[error("webdriver command `{what}` failed: {source}")]
    Command {
        /// What was being done (`goto http://…`, `click #save`, …).
        what: String,
        /// The WebDriver error.
        #[source]
        source: Box<fantoccini::error::CmdError>,
    },
    /// A JavaScript predicate did not become truthy in time.
    #[error("timed out after {timeout:?} waiting for `{predicate}`; last value: {last}")]
    Timeout {
        /// The JavaScript expression.
        predicate: String,
        /// The timeout.
        timeout: Duration,
        /// The last value it evaluated to (or the last error).
        last: String,
    },
    /// Local I/O (binding a port, creating a temp dir) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl TestkitError {
    pub(crate) fn command(
        what: impl Into<String>,
    ) -> impl FnOnce(fantoccini::error::CmdError) -> Self {
        let what = what.into();
        move |source| TestkitError::Command {
            what,
            source: Box::new(source),
        }
    }

    pub(crate) fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        move |source| TestkitError::Io { what, source }
    }
}
