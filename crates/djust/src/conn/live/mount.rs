//! The mount of one view on a connection: authorization, the view's `mount`, the first render
//! and the `mounted` frame; then the loop state ([`Live`]) is built. Nothing of the mount is
//! kept for the connection's life (see [`super::run_view`]).

use std::sync::Arc;

use djust_render::{Output, ViewState};
use tokio::time::Instant;

use super::{Live, cursors, end, millis};
use crate::app::App;
use crate::conn::io::{self, SendFailure, Transport};
use crate::conn::rate::{HeldEvents, TokenBucket};
use crate::conn::warn::Warnings;
use crate::conn::{ConnInit, MountTarget};
use crate::error::ViewError;
use crate::params::Params;
use crate::protocol::{PROTOCOL_VERSION, ServerFrame, code};
use crate::socket::{InfoReceiver, InfoSender, Socket};
use crate::view::{CloseReason, LiveView, MountRequest};

/// Mounts `V` on the connection: authorizes, mounts, renders and sends the first page.
/// Returns the connection's loop state and whether the first frames went out; `None` when the
/// mount was refused or failed (the client has been told and the socket closed).
pub(super) async fn mount<V: LiveView, T: Transport>(
    mut io: T,
    app: Arc<App>,
    init: ConnInit,
    target: MountTarget,
    (info, info_rx): (InfoSender, InfoReceiver),
) -> Option<(Live<V, T>, Result<(), SendFailure>)> {
    // Counted until the first page is out: expensive re-renders elsewhere yield to mounts
    // while they queue (`budget.rs`).
    let _mounting = crate::conn::budget::MountingGuard::new();
    let mut socket = Socket::new(
        init.identity.clone(),
        true,
        info,
        app.state.clone(),
        app.presence.clone(),
    );
    let req = MountRequest {
        path: target.path,
        params: target.params,
        query: Params::from_query(&target.query),
        headers: init.headers,
        identity: init.identity,
        connected: true,
        state: app.state.clone(),
    };
    let reference = target.reference.as_ref();
    let mounted = match V::authorize(&req).await {
        // Boxed: the mount future is gone once mounted, not kept inside the connection's task.
        Ok(()) => Box::pin(V::mount(&req, &mut socket)).await,
        Err(err) => Err(err),
    };
    let mut view = match mounted {
        Ok(view) => view,
        Err(err) => {
            end::refuse_mount(&mut io, &app, &req.path, reference, &err).await;
            // `mount` may have tracked presence before failing.
            socket.presence_link().terminate(true);
            return None;
        }
    };
    let templates = app.templates.current().generation;
    let first = crate::render::compiled::<V>(&templates).and_then(|compiled| {
        let mut state = ViewState::new();
        match crate::render::render_live(&templates, &compiled, &view, &socket, &mut state)? {
            Output::Full { rendered, statics } => Ok((compiled, state, rendered, statics)),
            Output::Diff { .. } => Err(ViewError::other("first render was not a full render")),
        }
    });
    let deadline = app.config.send_timeout;
    let (compiled, state, rendered, statics) = match first {
        Ok(first) => first,
        Err(err) => {
            tracing::error!(path = %req.path, error = %err, "djust: first render failed");
            let msg = err.to_string();
            let _ = io::send_error(&mut io, reference, code::RENDER_FAILED, &msg, deadline).await;
            io::close(
                &mut io,
                crate::protocol::close::MOUNT_ERROR,
                "render failed",
            )
            .await;
            Box::pin(view.terminate(&CloseReason::Server, &mut socket)).await;
            socket.presence_link().terminate(true);
            return None;
        }
    };
    let mounted = ServerFrame::Mounted {
        v: PROTOCOL_VERSION,
        reference,
        ver: 0,
        rendered: &rendered,
        statics: &statics,
        conn: socket.conn_id().to_string(),
        heartbeat_ms: millis(app.config.heartbeat_interval),
        max_frame_bytes: app.config.max_frame_bytes,
    };
    let mut sent = io::send_frame(&mut io, &mounted, deadline).await;
    let events = socket.take_pushed();
    if sent.is_ok() && !events.is_empty() {
        sent = io::send_frame(&mut io, &ServerFrame::Push { events: &events }, deadline).await;
    }
    let now = Instant::now();
    let config = &app.config;
    // Nothing of the mount is kept for the connection's life: not the rendered tree and
    // statics (the state holds fingerprints), not the upgrade request's headers.
    drop((rendered, statics, req));
    let mut live = Live {
        rendered: state,
        templates,
        compiled,
        template_error: None,
        ver: 0,
        armed: false,
        dirty: false,
        last_flush: now - config.tick,
        next_render: now,
        _live: crate::conn::budget::LiveGuard::new(),
        cursors: cursors::CursorState::default(),
        tick: Box::pin(tokio::time::sleep_until(now)),
        bucket: TokenBucket::new(config.rate_per_sec, config.rate_burst, now),
        frames: TokenBucket::new(config.frame_rate_per_sec, config.frame_rate_burst, now),
        warnings: Warnings::new(now),
        held: HeldEvents::default(),
        resync_held: false,
        rate_wake: crate::conn::lazy_sleep::LazySleep::default(),
        last_rate_error: None,
        last_seen: now,
        idle: Box::pin(tokio::time::sleep_until(now + config.idle_timeout)),
        info_open: true,
        presence_sub: None,
        own_user: None,
        view,
        socket,
        io,
        stop: info_rx.stop_signal(),
        info_rx,
        app: app.clone(),
    };
    live.note_rendered();
    Some((live, sent))
}
