//! The WebSocket opening handshake (RFC 6455 §4.2.2) on hyper's connection upgrade.
//!
//! Done here rather than with axum's `WebSocketUpgrade` because the connection needs the
//! tungstenite stream itself (`conn/ws.rs` writes long messages as fragments so its write buffer
//! stays small), which axum's `WebSocket` does not give out. The checks and refusals are the
//! same as axum's.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::conn::WsTransport;

/// A valid WebSocket upgrade request, ready to be accepted.
pub(crate) struct Upgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Whether the comma-separated header `name` lists `token` (case-insensitive).
fn lists(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn refuse(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let h = &parts.headers;
        if !lists(h, header::CONNECTION, "upgrade") {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "Connection header did not include 'upgrade'",
            ));
        }
        if !lists(h, header::UPGRADE, "websocket") {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "`Upgrade` header did not include 'websocket'",
            ));
        }
        if h.get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Version` header did not include '13'",
            ));
        }
        let Some(key) = h.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Key` header missing",
            ));
        };
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return Err(refuse(
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            ));
        };
        Ok(Self { key, on_upgrade })
    }
}

impl Upgrade {
    /// Answers 101 and, once hyper hands the connection over, runs `serve` on it in a task of
    /// its own. `fragment` is the largest frame written at once (`ws_write_buffer`).
    pub(crate) fn accept<F, Fut>(
        self,
        config: WebSocketConfig,
        fragment: usize,
        serve: F,
    ) -> Response
    where
        F: FnOnce(WsTransport) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            // The upgrade and the handshake run in a box of their own, freed once the
            // connection runs: inline, their state (the pending upgrade, the config, `serve`
            // and its captures, the WebSocket being set up) would size the connection's task
            // for its whole life, ~0.5 KiB of every idle connection.
            let setup = Box::pin(async move {
                let upgraded = match on_upgrade.await {
                    Ok(upgraded) => upgraded,
                    Err(err) => {
                        tracing::debug!(error = %err, "djust: WebSocket upgrade failed");
                        return None;
                    }
                };
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                // `serve`'s future only, not its arguments.
                Some(serve(WsTransport::new(ws, fragment)))
            });
            if let Some(run) = setup.await {
                run.await;
            }
        });
        let accept = derive_accept_key(self.key.as_bytes());
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        response
    }
}
