//! The production [`Transport`]: a tungstenite WebSocket on the upgraded connection, writing
//! long messages as continuation frames of at most `ws_write_buffer` bytes.
//!
//! Why fragment: tungstenite formats every frame into one write buffer that never shrinks, so
//! a connection would keep the capacity of the largest message it ever sent — the mount frame
//! of a big page, a full render in a room of a thousand — for its whole life. Written a
//! fragment at a time (the write buffer flushes after each frame: `write_buffer_size` 0), the
//! buffer stays at one fragment. Browsers (and every WebSocket client) reassemble fragmented
//! messages; control frames (a pong) may go between fragments, as RFC 6455 §5.4 allows.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame as WsClose, Frame};

use super::io::Transport;

/// A WebSocket connection as the connection task sees it.
pub(crate) struct WsTransport<S = hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
    inner: WebSocketStream<S>,
    /// The largest frame payload written at once.
    fragment: usize,
}

impl<S> WsTransport<S> {
    /// Wraps a handshaken stream; messages longer than `fragment` bytes go out in pieces.
    pub(crate) fn new(inner: WebSocketStream<S>, fragment: usize) -> Self {
        Self {
            inner,
            fragment: fragment.max(125),
        }
    }
}

impl<S> WsTransport<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// `data` as one text message, in frames of at most `self.fragment` bytes.
    async fn send_text(&mut self, data: Bytes) -> Result<(), axum::Error> {
        let step = self.fragment;
        if data.len() <= step {
            let frame = Frame::message(data, OpCode::Data(Data::Text), true);
            return self
                .inner
                .send(Ws::Frame(frame))
                .await
                .map_err(axum::Error::new);
        }
        let mut at = 0;
        while at < data.len() {
            let end = (at + step).min(data.len());
            let opcode = if at == 0 { Data::Text } else { Data::Continue };
            let frame =
                Frame::message(data.slice(at..end), OpCode::Data(opcode), end == data.len());
            // `feed` waits until the previous fragment is written (`poll_ready`), so the write
            // buffer holds one fragment at a time.
            self.inner
                .feed(Ws::Frame(frame))
                .await
                .map_err(axum::Error::new)?;
            at = end;
        }
        self.inner.flush().await.map_err(axum::Error::new)
    }
}

impl<S> Transport for WsTransport<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        loop {
            let msg = match self.inner.next().await? {
                Ok(msg) => msg,
                Err(e) => return Some(Err(axum::Error::new(e))),
            };
            let msg = match msg {
                // No copy: the same bytes, checked as UTF-8 again (tungstenite did already).
                Ws::Text(t) => match Utf8Bytes::try_from(Bytes::from(t)) {
                    Ok(t) => Message::Text(t),
                    Err(e) => return Some(Err(axum::Error::new(e))),
                },
                Ws::Binary(b) => Message::Binary(b),
                Ws::Ping(b) => Message::Ping(b),
                Ws::Pong(b) => Message::Pong(b),
                Ws::Close(frame) => Message::Close(frame.map(|f| CloseFrame {
                    code: f.code.into(),
                    reason: f.reason.as_str().into(),
                })),
                // Only ever produced for writing.
                Ws::Frame(_) => continue,
            };
            return Some(Ok(msg));
        }
    }

    async fn send(&mut self, msg: Message) -> Result<(), axum::Error> {
        let msg = match msg {
            Message::Text(t) => return self.send_text(Bytes::from(t)).await,
            Message::Binary(b) => Ws::Binary(b),
            Message::Ping(b) => Ws::Ping(b),
            Message::Pong(b) => Ws::Pong(b),
            Message::Close(frame) => Ws::Close(frame.map(|f| WsClose {
                code: f.code.into(),
                reason: f.reason.as_str().into(),
            })),
        };
        self.inner.send(msg).await.map_err(axum::Error::new)
    }

    async fn flush(&mut self) {
        // Best effort: the peer may already be gone.
        let _ = self.inner.flush().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::tungstenite::protocol::Role;

    /// Reads one unmasked server frame: (FIN, opcode, payload).
    async fn frame(raw: &mut tokio::io::DuplexStream) -> (bool, u8, Vec<u8>) {
        let mut head = [0u8; 2];
        raw.read_exact(&mut head).await.unwrap();
        let len = match head[1] & 0x7f {
            126 => usize::from(raw.read_u16().await.unwrap()),
            127 => usize::try_from(raw.read_u64().await.unwrap()).unwrap(),
            n => usize::from(n),
        };
        let mut payload = vec![0; len];
        raw.read_exact(&mut payload).await.unwrap();
        (head[0] & 0x80 != 0, head[0] & 0x0f, payload)
    }

    #[tokio::test]
    async fn long_messages_go_out_as_continuation_frames_of_the_fragment_size() {
        let (server, mut raw) = tokio::io::duplex(1 << 20);
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .write_buffer_size(0);
        let ws = WebSocketStream::from_raw_socket(server, Role::Server, Some(config)).await;
        let mut ws = WsTransport::new(ws, 1000);
        // Multi-byte characters straddle the cuts: fragments need not be valid UTF-8 alone.
        let long: String = "é-djust-".repeat(400);
        ws.send(Message::Text(long.clone().into())).await.unwrap();
        let mut got = Vec::new();
        let mut frames = Vec::new();
        loop {
            let (fin, opcode, payload) = frame(&mut raw).await;
            frames.push((opcode, payload.len()));
            got.extend(payload);
            if fin {
                break;
            }
        }
        assert_eq!(String::from_utf8(got).unwrap(), long);
        assert_eq!(frames.len(), long.len().div_ceil(1000), "{frames:?}");
        assert_eq!(frames[0].0, 1, "the first frame is a text frame");
        assert!(frames[1..].iter().all(|(op, _)| *op == 0), "{frames:?}");
        assert!(frames.iter().all(|(_, len)| *len <= 1000), "{frames:?}");
        // A short one is a single text frame.
        ws.send(Message::Text("short".into())).await.unwrap();
        assert_eq!(frame(&mut raw).await, (true, 1, b"short".to_vec()));
    }
}
