//! Serving a djust application: HTTP/1.1 with timeouts and connection limits, and a graceful
//! shutdown on SIGTERM / SIGINT.
//!
//! ```no_run
//! # async fn run(router: axum::Router, handle: djust::DjustHandle) -> Result<(), djust::ServeError> {
//! // Reads DJUST_* serve settings, installs a log subscriber if there is none, raises the
//! // open-file limit, binds with TCP_NODELAY and serves until SIGTERM or Ctrl-C.
//! djust::serve("0.0.0.0:8000", router, handle).await
//! # }
//! ```
//!
//! Or, to print the bound address or choose the options and the stop signal:
//!
//! ```no_run
//! # async fn run(router: axum::Router, handle: djust::DjustHandle) -> Result<(), djust::ServeError> {
//! use djust::{ServeOptions, Server};
//!
//! let options = ServeOptions::from_env()?;
//! let server = Server::bind_with_backlog("127.0.0.1:0", options.listen_backlog)
//!     .await?
//!     .options(options);
//! println!("listening on {}", server.local_addr()?);
//! server.run(router, handle).await
//! # }
//! ```
//!
//! **Shutdown.** On the signal the server stops accepting, tells every live view to close
//! (each runs `LiveView::terminate`, leaves presence at once and sends Close 1012 "service
//! restart", so browsers reconnect immediately — to another process behind a load balancer),
//! lets in-flight HTTP requests finish, then removes this process's presence from Redis
//! ([`DjustHandle::shutdown`]). It returns within [`ServeOptions::shutdown_timeout`]; whatever
//! is still open then is dropped.

mod limits;
mod linger;
mod options;
mod os;
mod refuse;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::app::DjustHandle;
use limits::{ConnLimits, Held};
use linger::Lingering;

pub use options::{DEFAULT_LISTEN_BACKLOG, ServeOptions};
pub use os::{FdLimit, raise_fd_limit};
pub use refuse::TRY_AGAIN_LATER as CLOSE_TRY_AGAIN_LATER;

/// Refused connections answered at once; beyond this they are closed without an answer, so a
/// flood over the limits costs nothing but the accept.
const MAX_REFUSALS_IN_FLIGHT: usize = 64;

/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting is out of range.
    #[error("{var}={value:?}: {reason}")]
    Config {
        /// The environment variable (or the setting it stands for).
        var: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        reason: &'static str,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source} (is another process using it? choose another port)")]
    Bind {
        /// The address as given.
        addr: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The SIGTERM / SIGINT handlers could not be installed.
    #[error(
        "cannot install the SIGTERM/SIGINT handlers: {0} (run inside a Tokio runtime with signals enabled, e.g. #[tokio::main])"
    )]
    Signals(std::io::Error),
    /// A log setting is wrong (`RUST_LOG`, `DJUST_LOG_FORMAT`).
    #[error(transparent)]
    Logging(#[from] crate::BuildError),
    /// Reading the listener's address failed.
    #[error("cannot read the listening address: {0}")]
    LocalAddr(#[from] std::io::Error),
}

impl ServeError {
    pub(crate) fn config(var: &'static str, value: &str, reason: &'static str) -> Self {
        Self::Config {
            var,
            value: value.to_owned(),
            reason,
        }
    }
}

/// Serves `router` on `addr` until SIGTERM or SIGINT, with [`ServeOptions::from_env`]; first
/// installs a log subscriber unless the application installed one
/// ([`crate::ops::init_tracing`]: `RUST_LOG`, `DJUST_LOG_FORMAT`). See the
/// [module documentation](self) for what a shutdown does.
///
/// # Errors
/// A bad `DJUST_*` serve or log setting, an address that cannot be bound, or signal handlers
/// that cannot be installed.
pub async fn serve(
    addr: impl ToSocketAddrs + std::fmt::Display,
    router: Router,
    handle: DjustHandle,
) -> Result<(), ServeError> {
    crate::ops::init_tracing()?;
    let options = ServeOptions::from_env()?;
    let server = Server::bind_with_backlog(addr, options.listen_backlog)
        .await?
        .options(options);
    tracing::info!(addr = %server.local_addr()?, "djust: serving");
    server.run(router, handle).await
}

/// A listening socket on `addr`, set up as Tokio's `TcpListener::bind` does (`SO_REUSEADDR`,
/// so a restarted server can bind while the old connections linger) but with `backlog`.
fn listen_on(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

type StopSignal = Pin<Box<dyn Future<Output = &'static str> + Send>>;

/// An HTTP/1.1 server for a djust router; see the [module documentation](self).
pub struct Server {
    listener: TcpListener,
    options: ServeOptions,
    stop: Option<StopSignal>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `addr` (e.g. `"0.0.0.0:8000"`; port 0 picks a free one), with
    /// [`ServeOptions::default`] and a listen backlog of [`DEFAULT_LISTEN_BACKLOG`].
    ///
    /// # Errors
    /// [`ServeError::Bind`] naming the address.
    pub async fn bind(addr: impl ToSocketAddrs + std::fmt::Display) -> Result<Self, ServeError> {
        Self::bind_with_backlog(addr, DEFAULT_LISTEN_BACKLOG).await
    }

    /// [`Server::bind`] with another listen backlog ([`ServeOptions::listen_backlog`]): how
    /// many connections the kernel queues until the server accepts them. Tokio's own
    /// `TcpListener::bind` uses 128, which a thousand users arriving at once overflow: the
    /// kernel then drops their SYNs and they retry seconds later.
    ///
    /// # Errors
    /// [`ServeError::Bind`] naming the address.
    pub async fn bind_with_backlog(
        addr: impl ToSocketAddrs + std::fmt::Display,
        backlog: u32,
    ) -> Result<Self, ServeError> {
        let shown = addr.to_string();
        let failed = |source| ServeError::Bind {
            addr: shown.clone(),
            source,
        };
        let mut last = None;
        for candidate in tokio::net::lookup_host(addr).await.map_err(failed)? {
            match listen_on(candidate, backlog) {
                Ok(listener) => return Ok(Self::from_listener(listener)),
                Err(e) => last = Some(e),
            }
        }
        Err(failed(last.unwrap_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the address resolved to no socket address",
            )
        })))
    }

    /// Serves on a listener the application bound itself.
    pub fn from_listener(listener: TcpListener) -> Self {
        Self {
            listener,
            options: ServeOptions::default(),
            stop: None,
        }
    }

    /// Replaces the options.
    pub fn options(mut self, options: ServeOptions) -> Self {
        self.options = options;
        self
    }

    /// Stops when `signal` resolves instead of on SIGTERM / SIGINT (tests, or an application
    /// with its own stop logic).
    pub fn shutdown_signal(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.stop = Some(Box::pin(async move {
            signal.await;
            "shutdown signal"
        }));
        self
    }

    /// The address the server listens on.
    ///
    /// # Errors
    /// The operating system could not say.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until the stop signal, then shuts down (see the [module documentation](self)).
    /// Raises the open-file limit first.
    ///
    /// # Errors
    /// Invalid options, or signal handlers that cannot be installed.
    pub async fn run(self, router: Router, handle: DjustHandle) -> Result<(), ServeError> {
        self.options.validate()?;
        let stop = match self.stop {
            Some(stop) => stop,
            None => Box::pin(os::stop_signals().map_err(ServeError::Signals)?),
        };
        let fd = raise_fd_limit();
        let max = self
            .options
            .max_connections
            .unwrap_or_else(|| os::default_max_connections(fd));
        let accept = Accept {
            limits: ConnLimits::new(max, self.options.max_connections_per_ip),
            listener: self.listener,
            options: self.options,
            refusals: Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT)),
        };
        accept.run(router, handle, stop, max).await;
        Ok(())
    }
}

struct Accept {
    listener: TcpListener,
    options: ServeOptions,
    limits: Arc<ConnLimits>,
    refusals: Arc<Semaphore>,
}

impl Accept {
    async fn run(self, router: Router, handle: DjustHandle, mut stop: StopSignal, max: usize) {
        tracing::info!(
            max_connections = max,
            max_connections_per_ip = self.options.max_connections_per_ip,
            header_read_timeout = ?self.options.header_read_timeout,
            shutdown_timeout = ?self.options.shutdown_timeout,
            "djust: limits"
        );
        let (drain_tx, drain_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let signal = loop {
            tokio::select! {
                biased;
                name = &mut stop => break name,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((tcp, peer)) => self.admit(tcp, peer, &router, &drain_rx, &mut tasks),
                    Err(e) => {
                        tracing::warn!(
                            error = %e,
                            "djust: accept failed (out of file descriptors? lower DJUST_MAX_CONNECTIONS or raise `ulimit -n`)"
                        );
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                },
            }
        };
        drop(self.listener);
        tracing::info!(
            signal,
            open_connections = self.limits.total(),
            "djust: stopped accepting"
        );
        let deadline = Instant::now() + self.options.shutdown_timeout;
        drain(signal, deadline, handle, &drain_tx, &mut tasks).await;
    }

    fn admit(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        router: &Router,
        drain: &watch::Receiver<bool>,
        tasks: &mut JoinSet<()>,
    ) {
        if self.options.nodelay
            && let Err(e) = tcp.set_nodelay(true)
        {
            tracing::debug!(error = %e, "djust: could not set TCP_NODELAY");
        }
        let header_timeout = self.options.header_read_timeout;
        match self.limits.try_acquire(peer.ip()) {
            Ok(permit) => {
                let io = Held::new(Lingering::new(tcp), permit);
                let conn =
                    serve_connection(io, peer, router.clone(), header_timeout, drain.clone());
                tasks.spawn(conn);
            }
            Err(refusal) => {
                let Ok(slot) = self.refusals.clone().try_acquire_owned() else {
                    tracing::debug!(%peer, "djust: connection over the limits dropped");
                    return;
                };
                tracing::debug!(%peer, ?refusal, "djust: connection refused");
                tasks.spawn(refuse::serve(Held::new(tcp, slot), refusal, header_timeout));
            }
        }
    }
}

/// One HTTP/1.1 connection (and, through an upgrade, its WebSocket) until it ends or the
/// server drains.
async fn serve_connection<IO>(
    io: IO,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    mut drain: watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = router.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    // Also closes a connection that stays silent before its first request, or between two
    // keep-alive requests, for that long.
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let conn = http
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(%peer, error = %e, "djust: HTTP connection ended");
            }
        }
        () = async { let _ = drain.wait_for(|draining| *draining).await; } => {
            // Finish the request in flight, then close.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// The shutdown: every live view closed with 1012, HTTP connections finished, Redis told —
/// all by `deadline`.
async fn drain(
    signal: &'static str,
    deadline: Instant,
    handle: DjustHandle,
    drain_tx: &watch::Sender<bool>,
    tasks: &mut JoinSet<()>,
) {
    let started = Instant::now();
    let live = handle.live_connections_registry();
    let views = live.disconnect_all();
    let _ = drain_tx.send(true);
    tracing::info!(
        signal,
        live_views = views,
        http_connections = tasks.len(),
        "djust: shutting down: closing every connection (1012 service restart)"
    );
    // Keep part of the time for Redis: removing this process's users is what the other
    // processes wait for.
    let remaining = deadline.saturating_duration_since(started);
    let reserve = (remaining / 4).min(Duration::from_secs(2));
    let drained = tokio::time::timeout_at(deadline - reserve, async {
        live.wait_empty().await;
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            live_views = live.len(),
            http_connections = tasks.len(),
            "djust: shutdown deadline: dropping the connections still open"
        );
        tasks.abort_all();
    }
    if tokio::time::timeout_at(deadline, handle.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("djust: shutdown deadline: Redis presence cleanup did not finish");
    }
    tracing::info!(took = ?started.elapsed(), "djust: stopped");
}
