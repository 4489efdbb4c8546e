//! The per-connection task: waits for the `mount` frame, routes it to the view type, then runs
//! the view's event loop ([`live`]).

mod budget;
mod io;
mod lazy_sleep;
pub(crate) mod live;
mod rate;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_limits;
pub(crate) mod warn;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Message;
use http::HeaderMap;
use serde_json::Value;
use tokio::time::Instant;

use crate::app::App;
use crate::params::Params;
use crate::protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame, close, code};
use crate::routes::Routes;
use crate::session::Identity;

pub(crate) use io::Transport;
use rate::TokenBucket;
use warn::{Warnings, client_warn};
pub(crate) use ws::WsTransport;

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
///
/// Not an `async fn`: the wait for the `mount` frame runs in a box that is freed once the view
/// runs (its locals and this function's arguments would otherwise stay part of the
/// connection's future for its whole life); what remains is the view's own boxed future.
pub(crate) fn run<T: Transport>(
    io: T,
    app: Arc<App>,
    routes: Arc<Routes<T>>,
    init: ConnInit,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let before_mount = Box::pin(until_mount(io, app, routes, init));
    async move {
        if let Some(view) = before_mount.await {
            view.await;
        }
    }
}

/// Answers frames until a valid `mount`; returns the mounted view's future (`None`: the
/// connection ended or was refused before that).
async fn until_mount<T: Transport>(
    mut io: T,
    app: Arc<App>,
    routes: Arc<Routes<T>>,
    init: ConnInit,
) -> Option<futures_util::future::BoxFuture<'static, ()>> {
    let max = app.config.max_frame_bytes;
    let deadline = app.config.send_timeout;
    let now = Instant::now();
    // Before mount every frame takes a frame token too, and warnings share the same budget.
    let mut frames = TokenBucket::new(
        app.config.frame_rate_per_sec,
        app.config.frame_rate_burst,
        now,
    );
    let mut warnings = Warnings::new(now);
    let mut last_refusal: Option<Instant> = None;
    let conn = "(not mounted)";
    loop {
        // Before mount nothing but the first frame is expected, so one timer per frame is fine.
        let next = tokio::select! {
            next = tokio::time::timeout(app.config.idle_timeout, io.recv()) => next,
            () = crate::shutdown::shutdown_started(&app) => {
                io::close(&mut io, close::SERVER_CLOSE, "service restart").await;
                return None;
            }
        };
        let msg = match next {
            Err(_elapsed) => {
                io::close(&mut io, close::GOING_AWAY, "idle timeout").await;
                return None;
            }
            Ok(None) => return None,
            Ok(Some(Err(e))) => {
                if let Some(violation) = io::classify(&e) {
                    client_warn!(warnings, conn, e.to_string(), "djust: protocol violation");
                    io::refuse(&mut io, violation, max).await;
                }
                return None;
            }
            Ok(Some(Ok(msg))) => msg,
        };
        if let Message::Close(_) = msg {
            io.flush().await;
            return None;
        }
        let now = Instant::now();
        if !frames.try_take(now) {
            // Dropped unread; one error a second at most.
            if last_refusal.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
                continue;
            }
            last_refusal = Some(now);
            client_warn!(warnings, conn, "frames", "djust: rate limit hit");
            let msg = "too many frames before mount; slow down";
            if io::send_error(&mut io, None, code::RATE_LIMITED, msg, deadline)
                .await
                .is_err()
            {
                return None;
            }
            continue;
        }
        let text = match msg {
            Message::Text(text) => text,
            Message::Close(_) | Message::Ping(_) | Message::Pong(_) => continue,
            Message::Binary(_) => {
                let msg = "binary frames are not part of the protocol; send JSON text";
                let sent = io::send_error(&mut io, None, code::BINARY_UNSUPPORTED, msg, deadline);
                if sent.await.is_err() {
                    return None;
                }
                continue;
            }
        };
        crate::metrics::frame_in(text.len());
        if text.len() > max {
            io::refuse_too_big(&mut io, max).await;
            return None;
        }
        let sent = match serde_json::from_str::<ClientFrame>(&text) {
            Err(e) => {
                client_warn!(
                    warnings,
                    conn,
                    e.to_string(),
                    "djust: malformed frame before mount"
                );
                let msg = format!("malformed frame: {}", warn::clip(&e.to_string()));
                io::send_error(&mut io, None, code::BAD_JSON, &msg, deadline).await
            }
            Ok(ClientFrame::Heartbeat { reference }) => {
                let frame = ServerFrame::Heartbeat {
                    reference: reference.as_ref(),
                };
                io::send_frame(&mut io, &frame, deadline).await
            }
            Ok(ClientFrame::Event { reference, .. }) => {
                let msg = "send a mount frame before events";
                io::send_error(
                    &mut io,
                    reference.as_ref(),
                    code::NOT_MOUNTED,
                    msg,
                    deadline,
                )
                .await
            }
            Ok(
                ClientFrame::Resync { .. }
                | ClientFrame::TextSync { .. }
                | ClientFrame::TextUpdate { .. }
                | ClientFrame::TextCaret { .. },
            ) => {
                let msg = "send a mount frame before resync or shared-text frames";
                io::send_error(&mut io, None, code::NOT_MOUNTED, msg, deadline).await
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
                    let code = code::UNSUPPORTED_VERSION;
                    let _ = io::send_error(&mut io, reference.as_ref(), code, &msg, deadline).await;
                    io::close(&mut io, close::MOUNT_REFUSED, "unsupported version").await;
                    return None;
                }
                let Some((entry, params)) = routes.lookup(&path) else {
                    tracing::info!(path = ?warn::clip(&path), "djust: mount of an unknown path");
                    let msg = format!("no live view is mounted at {:?}", warn::clip(&path));
                    let _ = io::send_error(
                        &mut io,
                        reference.as_ref(),
                        code::NOT_FOUND,
                        &msg,
                        deadline,
                    )
                    .await;
                    io::close(&mut io, close::MOUNT_REFUSED, "not found").await;
                    return None;
                };
                let target = MountTarget {
                    path,
                    query,
                    params,
                    reference,
                };
                return Some(entry.serve(io, app, init, target));
            }
        };
        if sent.is_err() {
            return None;
        }
    }
}
