//! The transport seam: the connection task talks to a [`Transport`] (an axum `WebSocket` in
//! production, an in-memory channel pair in the unit tests, which run on paused tokio time).

use std::future::Future;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde_json::Value;

use crate::protocol::{ServerFrame, code};

/// A bidirectional message stream.
pub(crate) trait Transport: Send + 'static {
    /// The next message; `None` when the peer is gone. Must be cancel-safe (it is raced in
    /// `select!`).
    fn recv(&mut self) -> impl Future<Output = Option<Result<Message, axum::Error>>> + Send;
    /// Sends (and flushes) one message.
    fn send(&mut self, msg: Message) -> impl Future<Output = Result<(), axum::Error>> + Send;
    /// Writes out anything the codec queued by itself, e.g. the reply to a client's Close
    /// (tungstenite queues it and sends it only on the next read or flush).
    fn flush(&mut self) -> impl Future<Output = ()> + Send;
}

impl Transport for WebSocket {
    async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        WebSocket::recv(self).await
    }

    async fn send(&mut self, msg: Message) -> Result<(), axum::Error> {
        WebSocket::send(self, msg).await
    }

    async fn flush(&mut self) {
        // Best effort: the peer may already be gone.
        let _ = futures_util::SinkExt::flush(self).await;
    }
}

/// Sends a frame; false if the transport failed (the connection is then lost).
pub(crate) async fn send_frame<T: Transport>(io: &mut T, frame: &ServerFrame<'_>) -> bool {
    match io.send(Message::Text(frame.to_json().into())).await {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "djust: send failed; dropping the connection");
            false
        }
    }
}

/// Sends an `error` frame; false if the transport failed.
pub(crate) async fn send_error<T: Transport>(
    io: &mut T,
    reference: Option<&Value>,
    code: &str,
    message: &str,
) -> bool {
    send_frame(
        io,
        &ServerFrame::Error {
            reference,
            code,
            message,
        },
    )
    .await
}

/// Sends a Close frame (best effort: the peer may already be gone).
pub(crate) async fn close<T: Transport>(io: &mut T, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = io.send(Message::Close(Some(frame))).await;
}

/// True if a receive error is the codec refusing a message over `max_message_size`.
///
/// axum wraps tungstenite's `Error::Capacity` in an opaque `axum::Error`; its message is
/// the stable "Space limit exceeded: Message too long: N > M" (a test pins this down).
pub(crate) fn is_too_big(err: &axum::Error) -> bool {
    let msg = err.to_string();
    msg.contains("Space limit exceeded") || msg.contains("too long")
}

/// Answers an oversized frame: an `error` frame, then Close 1009.
pub(crate) async fn refuse_too_big<T: Transport>(io: &mut T, limit: usize) {
    let msg = format!("frame larger than the {limit}-byte limit (max_frame_bytes)");
    send_error(io, None, code::FRAME_TOO_LARGE, &msg).await;
    close(io, crate::protocol::close::TOO_BIG, "frame too large").await;
}
