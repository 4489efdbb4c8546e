//! Answering a connection over the limits: one request, then close. A WebSocket handshake is
//! accepted and closed at once with 1013 "try again later" (what browsers report to scripts,
//! and what djust's client retries with backoff); any other request gets 503 with
//! `Retry-After`.

use std::time::Duration;

use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};

use super::limits::Refusal;

/// WebSocket close code 1013, "try again later": sent to a WebSocket over the connection
/// limits.
pub const TRY_AGAIN_LATER: u16 = 1013;

/// Seconds a refused client is told to wait (`Retry-After`).
const RETRY_AFTER_SECS: &str = "5";

/// Longest a refused connection is kept: to read one request and answer it.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves one request on `io` with the refusal, then closes.
pub(crate) async fn serve<IO>(io: IO, refusal: Refusal, header_read_timeout: Duration)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let reason = refusal.reason();
    let router = Router::new().fallback(
        move |ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>| {
            let reason = reason.clone();
            async move { answer(ws, reason) }
        },
    );
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout.min(REFUSAL_TIMEOUT));
    let conn = http
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(router))
        .with_upgrades();
    // The WebSocket close runs on its own task (axum spawns it) and holds the socket, and
    // with it the refusal's permit, until it is done.
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, conn).await;
}

fn answer(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>, reason: String) -> Response {
    match ws {
        Ok(ws) => ws.on_upgrade(move |mut socket| async move {
            let frame = CloseFrame {
                code: TRY_AGAIN_LATER,
                reason: reason.into(),
            };
            if socket.send(Message::Close(Some(frame))).await.is_ok() {
                // Wait briefly for the client's Close reply so it sees a clean close.
                let _ = tokio::time::timeout(REFUSAL_TIMEOUT, socket.recv()).await;
            }
        }),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, RETRY_AFTER_SECS),
                // One answer, then the socket is closed. (Not `keep_alive(false)` on the
                // connection: that would also mark a WebSocket's 101 `Connection: close`.)
                (header::CONNECTION, "close"),
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            ],
            reason,
        )
            .into_response(),
    }
}
