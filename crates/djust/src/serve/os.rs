//! What the server asks of the operating system: a higher open-file limit, and the stop
//! signals (SIGTERM from systemd, Docker and Kubernetes; SIGINT from Ctrl-C).

use std::future::Future;

/// File descriptors kept out of [`default_max_connections`]: the listener, the database,
/// Redis, logs, and the sockets of refused clients (see `refuse.rs`).
pub(crate) const FD_RESERVE: u64 = 128;

/// The open-file limit before and after [`raise_fd_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    /// The soft limit the process started with.
    pub before: u64,
    /// The soft limit now.
    pub soft: u64,
    /// The hard limit (the most the soft one can be raised to without privileges).
    pub hard: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, and logs both. Every connection is a
/// file descriptor: with the common default of 1024, a thousand idle sockets would lock out
/// every new user (`accept: Too many open files`). Returns `None` where there is no such limit
/// (not Unix) or it cannot be read.
pub fn raise_fd_limit() -> Option<FdLimit> {
    #[cfg(unix)]
    {
        let (before, hard) = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
            Ok(limits) => limits,
            Err(e) => {
                tracing::warn!(error = %e, "djust: cannot read the open-file limit (RLIMIT_NOFILE)");
                return None;
            }
        };
        let soft = match rlimit::increase_nofile_limit(rlimit::INFINITY) {
            Ok(soft) => soft,
            Err(e) => {
                tracing::warn!(
                    error = %e, soft = before, hard,
                    "djust: cannot raise the open-file limit; raise it with `ulimit -n` or LimitNOFILE="
                );
                before
            }
        };
        tracing::info!(
            before,
            soft,
            hard,
            "djust: open-file limit (RLIMIT_NOFILE): soft {before} -> {soft}, hard {hard}"
        );
        Some(FdLimit { before, soft, hard })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection cap when none is configured: what the open-file limit leaves after
/// [`FD_RESERVE`] (10 000 where the limit is unknown).
pub(crate) fn default_max_connections(limit: Option<FdLimit>) -> usize {
    let Some(limit) = limit else {
        return 10_000;
    };
    let usable = limit.soft.saturating_sub(FD_RESERVE).max(16);
    usize::try_from(usable).unwrap_or(usize::MAX)
}

/// Installs the SIGTERM and SIGINT handlers now (so a signal right after start-up is not
/// lost) and returns a future that resolves with the signal's name when one arrives.
///
/// # Errors
/// The handlers cannot be installed (no signal driver in the runtime).
pub(crate) fn stop_signals() -> std::io::Result<impl Future<Output = &'static str> + Send> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_a_reserve_of_descriptors() {
        let limit = |soft| {
            Some(FdLimit {
                before: 1024,
                soft,
                hard: soft,
            })
        };
        assert_eq!(default_max_connections(limit(1024)), 1024 - 128);
        assert_eq!(default_max_connections(limit(100)), 16);
        assert_eq!(default_max_connections(None), 10_000);
    }
}
