//! The WebSocket endpoint: origin check, identity, buffer sizes, then the connection task.

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::upgrade::Upgrade;
use super::{HttpState, origin};
use crate::conn::{self, ConnInit};
use crate::session::{AuthUser, Identity, random_key};

pub(crate) async fn upgrade(
    State(st): State<HttpState>,
    ws: Upgrade,
    uri: Uri,
    headers: HeaderMap,
    auth: Option<Extension<AuthUser>>,
) -> Response {
    let config = &st.app.config;
    let origin_hdr = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    if !origin::allowed(origin_hdr, host, &config.allowed_origins) {
        tracing::warn!(
            origin = origin_hdr.unwrap_or(""),
            host = host.unwrap_or(""),
            "djust: WebSocket refused: Origin not allowed (configure allowed_origins / DJUST_ALLOWED_ORIGINS)"
        );
        return (StatusCode::FORBIDDEN, "WebSocket origin not allowed").into_response();
    }
    // A client without a valid session cookie (a load generator, say) gets a key for this
    // connection only: its identity is unique but does not survive a reconnect.
    let session_key = st.app.sessions.read(&headers).unwrap_or_else(random_key);
    let init = ConnInit {
        identity: Identity::new(auth.map(|Extension(user)| user), session_key),
        headers,
    };
    // Frames are written (and the buffer flushed) one at a time: `conn/ws.rs`.
    let ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(config.ws_read_buffer)
        .write_buffer_size(0)
        .max_write_buffer_size(config.ws_max_write_buffer)
        .max_message_size(Some(config.max_frame_bytes))
        .max_frame_size(Some(config.max_frame_bytes));
    ws.accept(ws_config, config.ws_write_buffer, move |socket| {
        let open = crate::metrics::ConnectionGuard::open();
        // Built outside the async block: moved in as arguments, the socket and the request's
        // headers would stay part of the connection's task for its life.
        let run = conn::run(socket, st.app, st.routes, init);
        async move {
            let _open = open;
            run.await;
        }
    })
}
