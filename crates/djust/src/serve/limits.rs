//! Connection counting: a global cap and a cap per client address, with permits released on
//! drop (a permit travels with the socket, through a WebSocket upgrade, until it closes).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The server holds `limit` connections already.
    Total { limit: usize },
    /// This client address holds `limit` connections already.
    PerClient { limit: usize },
}

impl Refusal {
    /// The reason sent to the client (at most 123 bytes, so it fits a Close frame).
    pub(crate) fn reason(self) -> String {
        match self {
            Refusal::Total { limit } => {
                format!("server busy: at its limit of {limit} connections; retry later")
            }
            Refusal::PerClient { limit } => {
                format!("too many connections from your address (limit {limit}); close some")
            }
        }
    }
}

/// The counters behind [`ConnLimits::try_acquire`].
#[derive(Debug)]
pub(crate) struct ConnLimits {
    max_total: usize,
    /// 0: unlimited.
    max_per_client: usize,
    state: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

impl ConnLimits {
    pub(crate) fn new(max_total: usize, max_per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_client,
            state: Mutex::new(Counts::default()),
        })
    }

    /// Counts one more connection from `ip`, or says which limit it would exceed.
    pub(crate) fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnPermit, Refusal> {
        let client = client_key(ip);
        let mut state = self.state.lock();
        if state.total >= self.max_total {
            return Err(Refusal::Total {
                limit: self.max_total,
            });
        }
        let mine = state.per_client.entry(client).or_insert(0);
        if self.max_per_client > 0 && *mine >= self.max_per_client {
            return Err(Refusal::PerClient {
                limit: self.max_per_client,
            });
        }
        *mine += 1;
        state.total += 1;
        Ok(ConnPermit {
            limits: self.clone(),
            client,
        })
    }

    /// Connections counted now.
    pub(crate) fn total(&self) -> usize {
        self.state.lock().total
    }

    fn release(&self, client: IpAddr) {
        let mut state = self.state.lock();
        state.total = state.total.saturating_sub(1);
        if let Some(n) = state.per_client.get_mut(&client) {
            *n -= 1;
            if *n == 0 {
                state.per_client.remove(&client);
            }
        }
    }
}

/// One counted connection; uncounted on drop.
#[derive(Debug)]
pub(crate) struct ConnPermit {
    limits: Arc<ConnLimits>,
    client: IpAddr,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        self.limits.release(self.client);
    }
}

/// The address a limit is kept for: IPv4 as is (IPv4-mapped IPv6 included), IPv6 by its /64
/// (one host usually holds a whole /64).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// A socket that holds a permit (any value released on drop) for as long as it lives.
pub(crate) struct Held<IO, P> {
    io: IO,
    _permit: P,
}

impl<IO, P> Held<IO, P> {
    pub(crate) fn new(io: IO, permit: P) -> Self {
        Self {
            io,
            _permit: permit,
        }
    }
}

impl<IO: AsyncRead + Unpin, P: Unpin> AsyncRead for Held<IO, P> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin, P: Unpin> AsyncWrite for Held<IO, P> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_per_client_limit_counts_each_address_apart() {
        let limits = ConnLimits::new(100, 2);
        let a1 = limits.try_acquire(ip("10.0.0.1")).unwrap();
        let _a2 = limits.try_acquire(ip("10.0.0.1")).unwrap();
        assert_eq!(
            limits.try_acquire(ip("10.0.0.1")).unwrap_err(),
            Refusal::PerClient { limit: 2 }
        );
        let _b = limits.try_acquire(ip("10.0.0.2")).unwrap();
        drop(a1);
        let _a3 = limits
            .try_acquire(ip("10.0.0.1"))
            .expect("a slot was freed");
        assert_eq!(limits.total(), 3);
    }

    #[test]
    fn the_global_limit_wins_and_frees_on_drop() {
        let limits = ConnLimits::new(2, 0);
        let a = limits.try_acquire(ip("10.0.0.1")).unwrap();
        let _b = limits.try_acquire(ip("10.0.0.2")).unwrap();
        assert_eq!(
            limits.try_acquire(ip("10.0.0.3")).unwrap_err(),
            Refusal::Total { limit: 2 }
        );
        drop(a);
        assert!(limits.try_acquire(ip("10.0.0.3")).is_ok());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let limits = ConnLimits::new(100, 1);
        let _a = limits.try_acquire(ip("2001:db8:1:2::1")).unwrap();
        assert!(limits.try_acquire(ip("2001:db8:1:2::ffff")).is_err());
        assert!(limits.try_acquire(ip("2001:db8:1:3::1")).is_ok());
        let _v4 = limits.try_acquire(ip("192.0.2.1")).unwrap();
        assert!(limits.try_acquire(ip("::ffff:192.0.2.1")).is_err());
    }

    #[test]
    fn refusal_reasons_fit_a_close_frame() {
        for r in [
            Refusal::Total { limit: usize::MAX },
            Refusal::PerClient { limit: usize::MAX },
        ] {
            assert!(r.reason().len() <= 123, "{}", r.reason());
        }
    }
}
