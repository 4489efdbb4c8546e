//! Lingering close: a socket the server is done with is not closed while the client may still
//! be sending.
//!
//! Closing a TCP socket with unread input makes the kernel send a reset, and a reset makes the
//! client's kernel discard what it had received but not yet read — e.g. the `error` frame and
//! the 1009 Close the server just sent about an oversized frame the client is still writing.
//! So a dropped connection first sends FIN after everything written (`shutdown(Write)`), then
//! reads and discards the client's input until it closes too, for at most [`LINGER`] and
//! [`DRAIN_LIMIT`] bytes, as HTTP servers do, so that refusing a frame does not depend on the
//! WebSocket read buffer (`ws_read_buffer`) having taken all of it. The reset itself is tested
//! here at the TCP level; `tests/serve.rs`' late-reader test shows the data it loses through
//! `djust::Server` (a client whose receive window is shut when the server refuses its frame: it
//! fails with a reset before any frame when this module's drop closes at once).
//!
//! Bounded: at most [`MAX_LINGERING`] sockets linger at once; beyond that a socket is closed at
//! once (a flood of connections that never close cannot pile up tasks).

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// The longest a closed connection keeps draining the client's input.
pub(crate) const LINGER: Duration = Duration::from_secs(2);
/// The most input a closed connection reads (and discards) before it gives up.
pub(crate) const DRAIN_LIMIT: usize = 1 << 20;
/// Sockets lingering at once, at most.
pub(crate) const MAX_LINGERING: usize = 4096;

static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// A TCP stream that lingers when dropped (module docs).
#[derive(Debug)]
pub(crate) struct Lingering(Option<TcpStream>);

impl Lingering {
    pub(crate) fn new(tcp: TcpStream) -> Self {
        Self(Some(tcp))
    }

    fn io(&mut self) -> std::io::Result<&mut TcpStream> {
        self.0
            .as_mut()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotConnected))
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(tcp) = self.0.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if LINGERING.fetch_add(1, Ordering::Relaxed) >= MAX_LINGERING {
            LINGERING.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        rt.spawn(async move {
            let _ = tokio::time::timeout(LINGER, drain(tcp)).await;
            LINGERING.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// FIN after what was written, then discard input until EOF, an error or [`DRAIN_LIMIT`].
async fn drain(mut tcp: TcpStream) {
    if tcp.shutdown().await.is_err() {
        return;
    }
    let mut buf = [0u8; 2048];
    let mut read = 0;
    while read < DRAIN_LIMIT {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => read += n,
        }
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.0.as_ref().is_some_and(|io| io.is_write_vectored())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that writes a reply and drops the socket while the client is still sending:
    /// with the lingering close, the client reads the whole reply (no reset) and then EOF.
    #[tokio::test]
    async fn a_reply_survives_a_client_still_sending() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut s = Lingering::new(tcp);
            let mut first = [0u8; 16];
            s.read_exact(&mut first).await.unwrap();
            s.write_all(b"refused: too big").await.unwrap();
            drop(s); // with ~1 MB of the client's input unread
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let junk = vec![b'x'; 900 * 1024];
        let (mut rd, mut wr) = client.split();
        let send = async {
            let _ = wr.write_all(&junk).await;
        };
        let recv = async {
            let mut got = Vec::new();
            let r = rd.read_to_end(&mut got).await;
            (r.map_err(|e| e.kind()), got)
        };
        let ((), (r, got)) = tokio::join!(send, recv);
        server.await.unwrap();
        assert_eq!(
            r,
            Ok(16),
            "the client must see the reply then EOF, not a reset"
        );
        assert_eq!(got, b"refused: too big");
    }
}
