//! The transport seam: the connection task talks to a [`Transport`] (`ws.rs`'s `WsTransport` in
//! production, an in-memory channel pair in the unit tests, which run on paused tokio time).

use std::future::Future;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
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

/// Why a frame was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendFailure {
    /// The transport failed: the peer is gone.
    Lost,
    /// The client did not take the frame within the send deadline (it does not read).
    Timeout,
}

/// Sends a frame, giving up after `deadline` (a client that stopped reading must not hold
/// the connection task, and with it its queues, forever).
pub(crate) async fn send_frame<T: Transport>(
    io: &mut T,
    frame: &ServerFrame<'_>,
    deadline: Duration,
) -> Result<(), SendFailure> {
    let text = frame.to_json();
    crate::metrics::frame_out(frame.kind(), text.len());
    match tokio::time::timeout(deadline, io.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "djust: send failed; dropping the connection");
            Err(SendFailure::Lost)
        }
        Err(_elapsed) => Err(SendFailure::Timeout),
    }
}

/// Sends an `error` frame (see [`send_frame`]).
pub(crate) async fn send_error<T: Transport>(
    io: &mut T,
    reference: Option<&Value>,
    code: &str,
    message: &str,
    deadline: Duration,
) -> Result<(), SendFailure> {
    let frame = ServerFrame::Error {
        reference,
        code,
        message,
    };
    send_frame(io, &frame, deadline).await
}

/// How long a Close frame may take to go out: the peer may not read at all.
const CLOSE_DEADLINE: Duration = Duration::from_secs(1);

/// Sends a Close frame (best effort: the peer may already be gone).
pub(crate) async fn close<T: Transport>(io: &mut T, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_DEADLINE, io.send(Message::Close(Some(frame)))).await;
}

/// A receive error that breaks the protocol, with the close code it deserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A message over `max_message_size` (1009).
    TooBig,
    /// A text frame that is not UTF-8 (1007).
    InvalidUtf8,
    /// A malformed frame: bad control frame, reserved bits, unknown opcode… (1002).
    Protocol,
}

/// Classifies a receive error; `None` for a transport failure (the peer is gone, nothing to
/// tell it).
///
/// axum wraps tungstenite's errors in an opaque `axum::Error`; their messages are stable
/// ("Space limit exceeded: …", "UTF-8 encoding error: …", "WebSocket protocol error: …"), and
/// tests pin each one down.
pub(crate) fn classify(err: &axum::Error) -> Option<Violation> {
    let msg = err.to_string();
    if is_too_big(err) {
        Some(Violation::TooBig)
    } else if msg.contains("UTF-8 encoding error") {
        Some(Violation::InvalidUtf8)
    } else if msg.contains("WebSocket protocol error")
        // A reset or anything after a close is the peer gone, not a malformed frame.
        && !msg.contains("without closing handshake")
        && !msg.contains("after")
    {
        Some(Violation::Protocol)
    } else {
        None
    }
}

/// Answers a protocol violation: an `error` frame where one helps, then the Close code.
pub(crate) async fn refuse<T: Transport>(io: &mut T, violation: Violation, max_frame: usize) {
    use crate::protocol::close;
    match violation {
        Violation::TooBig => refuse_too_big(io, max_frame).await,
        Violation::InvalidUtf8 => {
            close(io, close::INVALID_DATA, "text frame is not valid UTF-8").await;
        }
        Violation::Protocol => {
            close(io, close::PROTOCOL_ERROR, "WebSocket protocol error").await;
        }
    }
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
    let _ = send_error(io, None, code::FRAME_TOO_LARGE, &msg, CLOSE_DEADLINE).await;
    close(io, crate::protocol::close::TOO_BIG, "frame too large").await;
}
