//! The production [`Transport`]: a tungstenite WebSocket on the upgraded connection, reading
//! through tungstenite and writing text messages itself, as frames of at most
//! `ws_write_buffer` bytes.
//!
//! Why write by hand: tungstenite formats every frame into one write buffer that never
//! shrinks, so a connection would keep the capacity of the largest frame it ever sent for its
//! whole life — 2 KiB per idle connection even with fragments of 2 KiB. Here a frame (header
//! and payload, at most one fragment) is formatted into a buffer that lives only until it is
//! written; tungstenite's own buffer only ever holds its pongs and the close frame (a few
//! bytes). Before a frame goes out, tungstenite's pending output is flushed, so a pong it
//! queued while reading is never cut by a data frame.
//!
//! Why fragment: a mount frame of a big page or a full render in a room of a thousand would
//! otherwise need one buffer of its size. Browsers (and every WebSocket client) reassemble
//! fragmented messages; control frames (a pong) may go between fragments (RFC 6455 §5.4).

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::error::{Error, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame as WsClose;

use super::io::Transport;

/// A WebSocket connection as the connection task sees it.
pub(crate) struct WsTransport<S = hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
    inner: WebSocketStream<S>,
    /// The largest frame payload written at once.
    fragment: usize,
    /// A Close was received or sent: no data frame may follow (RFC 6455 §5.5.1). tungstenite
    /// enforces it for what it writes; text frames bypass it, so it is checked here too.
    closing: bool,
}

impl<S> WsTransport<S> {
    /// Wraps a handshaken stream; messages longer than `fragment` bytes go out in pieces.
    pub(crate) fn new(inner: WebSocketStream<S>, fragment: usize) -> Self {
        Self {
            inner,
            fragment: fragment.max(125),
            closing: false,
        }
    }
}

impl<S> WsTransport<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// `data` as one text message, in frames of at most `self.fragment` bytes.
    async fn send_text(&mut self, data: Bytes) -> Result<(), axum::Error> {
        if self.closing {
            return Err(axum::Error::new(Error::Protocol(
                ProtocolError::SendAfterClosing,
            )));
        }
        // tungstenite's queued output (a pong, written while reading) goes out first.
        self.inner.flush().await.map_err(axum::Error::new)?;
        let stream = self.inner.get_mut();
        let step = self.fragment;
        let mut at = 0;
        loop {
            let end = (at + step).min(data.len());
            let opcode = if at == 0 {
                OPCODE_TEXT
            } else {
                OPCODE_CONTINUE
            };
            let frame = server_frame(opcode, end == data.len(), &data[at..end]);
            stream.write_all(&frame).await.map_err(axum::Error::new)?;
            at = end;
            if at == data.len() {
                break;
            }
        }
        stream.flush().await.map_err(axum::Error::new)
    }
}

const OPCODE_CONTINUE: u8 = 0x0;
const OPCODE_TEXT: u8 = 0x1;

/// One unmasked frame (RFC 6455 §5.2: servers never mask) in a buffer of exactly its size.
fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut frame = Vec::with_capacity(len + 10);
    frame.push(if fin { 0x80 } else { 0 } | opcode);
    match len {
        0..=125 => frame.push(len as u8),
        126..=0xffff => {
            frame.push(126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            frame.push(127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
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
                Ws::Close(frame) => {
                    self.closing = true;
                    Message::Close(frame.map(|f| CloseFrame {
                        code: f.code.into(),
                        reason: f.reason.as_str().into(),
                    }))
                }
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
            Message::Close(frame) => {
                self.closing = true;
                Ws::Close(frame.map(|f| WsClose {
                    code: f.code.into(),
                    reason: f.reason.as_str().into(),
                }))
            }
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

    /// A server transport of `fragment`-byte frames on an in-memory pipe of `capacity` bytes,
    /// and the client's raw end of the pipe.
    async fn transport(
        capacity: usize,
        fragment: usize,
    ) -> (
        WsTransport<tokio::io::DuplexStream>,
        tokio::io::DuplexStream,
    ) {
        let (server, raw) = tokio::io::duplex(capacity);
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .write_buffer_size(0);
        let ws = WebSocketStream::from_raw_socket(server, Role::Server, Some(config)).await;
        (WsTransport::new(ws, fragment), raw)
    }

    /// A masked client frame (FIN set) of `opcode` with `payload`.
    fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() <= 125);
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        frame
    }

    #[tokio::test]
    async fn long_messages_go_out_as_continuation_frames_of_the_fragment_size() {
        let (mut ws, mut raw) = transport(1 << 20, 1000).await;
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

    /// A pong tungstenite owes (queued while reading a ping) goes out whole before the next
    /// text frame, which is written outside tungstenite.
    #[tokio::test]
    async fn a_pong_owed_goes_out_before_the_next_text_frame() {
        let (mut ws, mut raw) = transport(1 << 16, 1000).await;
        raw.write_all(&client_frame(0x9, b"hi")).await.unwrap();
        assert!(matches!(ws.recv().await, Some(Ok(Message::Ping(p))) if p.as_ref() == b"hi"));
        ws.send(Message::Text("after".into())).await.unwrap();
        assert_eq!(frame(&mut raw).await, (true, 0xA, b"hi".to_vec()));
        assert_eq!(frame(&mut raw).await, (true, 1, b"after".to_vec()));
        // Lengths that need the 16- and 64-bit length forms, and the empty message.
        for len in [125, 126, 65_535, 65_536, 0] {
            let header = server_frame(OPCODE_TEXT, true, "x".repeat(len).as_bytes()).len() - len;
            assert_eq!(
                header,
                if len <= 125 {
                    2
                } else if len <= 0xffff {
                    4
                } else {
                    10
                }
            );
            let (mut ws, mut raw) = transport(1 << 18, usize::MAX).await;
            ws.send(Message::Text("x".repeat(len).into()))
                .await
                .unwrap();
            assert_eq!(
                frame(&mut raw).await,
                (true, 1, "x".repeat(len).into_bytes())
            );
        }
    }

    /// After the client's Close, a text message is refused and nothing more than the Close
    /// reply goes out; the same after the server's own Close.
    #[tokio::test]
    async fn no_text_frame_follows_a_close() {
        let (mut ws, mut raw) = transport(1 << 16, 1000).await;
        raw.write_all(&client_frame(0x8, &1000u16.to_be_bytes()))
            .await
            .unwrap();
        assert!(matches!(ws.recv().await, Some(Ok(Message::Close(Some(f)))) if f.code == 1000));
        assert!(ws.send(Message::Text("late".into())).await.is_err());
        ws.flush().await;
        assert_eq!(
            frame(&mut raw).await,
            (true, 0x8, 1000u16.to_be_bytes().to_vec())
        );
        drop(ws);
        let mut rest = Vec::new();
        raw.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "after the Close reply: {rest:?}");

        let (mut ws, _raw) = transport(1 << 16, 1000).await;
        ws.send(Message::Close(None)).await.unwrap();
        assert!(ws.send(Message::Text("late".into())).await.is_err());
    }
}
