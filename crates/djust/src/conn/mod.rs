//! The per-connection task: waits for the `mount` frame, routes it to the view type, then runs
//! the view's event loop ([`live`]).

mod budget;
mod io;
pub(crate) mod live;
mod rate;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::extract::ws::Message;
use http::HeaderMap;
use serde_json::Value;

use crate::app::App;
use crate::params::Params;
use crate::protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame, close, code};
use crate::routes::Routes;
use crate::session::Identity;

pub(crate) use io::Transport;

/// What the WebSocket upgrade request told us about the client.
pub(crate) struct ConnInit {
    pub(crate) identity: Identity,
    pub(crate) headers: HeaderMap,
}

/// The `mount` frame after routing.
pub(crate) struct MountTarget {
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) params: Params,
    pub(crate) reference: Option<Value>,
}

/// Serves one WebSocket connection from upgrade to close.
pub(crate) async fn run<T: Transport>(
    mut io: T,
    app: Arc<App>,
    routes: Arc<Routes<T>>,
    init: ConnInit,
) {
    let max = app.config.max_frame_bytes;
    loop {
        // Before mount nothing but the first frame is expected, so one timer per frame is fine.
        let next = tokio::time::timeout(app.config.idle_timeout, io.recv()).await;
        let msg = match next {
            Err(_elapsed) => {
                io::close(&mut io, close::GOING_AWAY, "idle timeout").await;
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                if io::is_too_big(&e) {
                    io::refuse_too_big(&mut io, max).await;
                }
                return;
            }
            Ok(Some(Ok(msg))) => msg,
        };
        let text = match msg {
            Message::Text(text) => text,
            Message::Close(_) => {
                io.flush().await;
                return;
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Binary(_) => {
                let msg = "binary frames are not part of the protocol; send JSON text";
                if !io::send_error(&mut io, None, code::BINARY_UNSUPPORTED, msg).await {
                    return;
                }
                continue;
            }
        };
        if text.len() > max {
            io::refuse_too_big(&mut io, max).await;
            return;
        }
        let sent = match serde_json::from_str::<ClientFrame>(&text) {
            Err(e) => {
                tracing::warn!(error = %e, "djust: malformed frame before mount");
                let msg = format!("malformed frame: {e}");
                io::send_error(&mut io, None, code::BAD_JSON, &msg).await
            }
            Ok(ClientFrame::Heartbeat { reference }) => {
                let frame = ServerFrame::Heartbeat {
                    reference: reference.as_ref(),
                };
                io::send_frame(&mut io, &frame).await
            }
            Ok(ClientFrame::Event { reference, .. }) => {
                let msg = "send a mount frame before events";
                io::send_error(&mut io, reference.as_ref(), code::NOT_MOUNTED, msg).await
            }
            Ok(ClientFrame::Resync { .. } | ClientFrame::Text(_)) => {
                let msg = "send a mount frame before resync or shared-text frames";
                io::send_error(&mut io, None, code::NOT_MOUNTED, msg).await
            }
            Ok(ClientFrame::Mount {
                v,
                path,
                query,
                reference,
            }) => {
                if v != PROTOCOL_VERSION {
                    let msg = format!(
                        "protocol version {v} is not supported; this server speaks {PROTOCOL_VERSION}"
                    );
                    io::send_error(&mut io, reference.as_ref(), code::UNSUPPORTED_VERSION, &msg)
                        .await;
                    io::close(&mut io, close::MOUNT_REFUSED, "unsupported version").await;
                    return;
                }
                let Some((entry, params)) = routes.lookup(&path) else {
                    tracing::info!(%path, "djust: mount of an unknown path");
                    let msg = format!("no live view is mounted at {path:?}");
                    io::send_error(&mut io, reference.as_ref(), code::NOT_FOUND, &msg).await;
                    io::close(&mut io, close::MOUNT_REFUSED, "not found").await;
                    return;
                };
                let target = MountTarget {
                    path,
                    query,
                    params,
                    reference,
                };
                return entry.serve(io, app, init, target).await;
            }
        };
        if !sent {
            return;
        }
    }
}
