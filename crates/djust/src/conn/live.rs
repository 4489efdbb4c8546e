//! The event loop of one mounted view: client frames, server-side messages, coalesced renders,
//! rate limiting and the idle timeout, all in one task.
//!
//! Coalescing: any change marks the view dirty and arms a deadline `tick` ahead. While armed,
//! the info channel is NOT polled; at the deadline the queued messages are drained, the view is
//! rendered once, diffed against the last tree and one frame goes out. A burst of N messages
//! therefore wakes the task O(1) times per tick, and an idle connection has no timer but the
//! idle deadline (re-armed lazily, not on every frame).

use std::pin::Pin;
use std::sync::Arc;

use axum::extract::ws::Message;
use djust_render::{Output, View, ViewState};
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, Sleep};

mod cursors;
mod flush;
mod presence;
mod text;

use super::io::{self, Transport};
use super::rate::{HeldEvent, HeldEvents, TokenBucket};
use super::{ConnInit, MountTarget};
use crate::app::App;
use crate::context::json_type;
use crate::error::{EventError, ViewError};
use crate::params::Params;
use crate::protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame, close, code};
use crate::socket::{Control, Info, InfoSender, Socket};
use crate::view::{CloseReason, LiveView, MountRequest};

/// Mounts `V` on the connection and runs it until the connection ends.
pub(crate) async fn run_view<V: LiveView, T: Transport>(
    mut io: T,
    app: Arc<App>,
    init: ConnInit,
    target: MountTarget,
) {
    let (info, info_rx) = InfoSender::channel();
    let mut socket = Socket::new(
        init.identity.clone(),
        true,
        info,
        app.state.clone(),
        app.presence.clone(),
    );
    // A shutdown closes this connection with 1012 (`shutdown.rs`); deregistered on return.
    let _registered = crate::shutdown::register(&app, socket.info_sender());
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
    let mut view = match V::mount(&req, &mut socket).await {
        Ok(view) => view,
        Err(err) => {
            let (code, close_code) = match &err {
                ViewError::NotFound(_) => (code::NOT_FOUND, close::MOUNT_REFUSED),
                ViewError::BadRequest(_) | ViewError::Param(_) => {
                    (code::MOUNT_FAILED, close::MOUNT_REFUSED)
                }
                _ => (code::MOUNT_FAILED, close::MOUNT_ERROR),
            };
            tracing::warn!(path = %req.path, error = %err, "djust: mount failed");
            io::send_error(&mut io, reference, code, &err.to_string()).await;
            io::close(&mut io, close_code, "mount failed").await;
            // `mount` may have tracked presence before failing.
            socket.presence_link().terminate(true);
            return;
        }
    };
    let first = crate::render::compiled::<V>(&app.templates).and_then(|compiled| {
        let mut state = ViewState::new();
        match crate::render::render_live(&app.templates, &compiled, &view, &socket, &mut state)? {
            Output::Full { rendered, statics } => Ok((compiled, state, rendered, statics)),
            Output::Diff { .. } => Err(ViewError::other("first render was not a full render")),
        }
    });
    let (compiled, state, rendered, statics) = match first {
        Ok(first) => first,
        Err(err) => {
            tracing::error!(path = %req.path, error = %err, "djust: first render failed");
            io::send_error(&mut io, reference, code::RENDER_FAILED, &err.to_string()).await;
            io::close(&mut io, close::MOUNT_ERROR, "render failed").await;
            view.terminate(&CloseReason::Server, &mut socket).await;
            socket.presence_link().terminate(true);
            return;
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
    let mut ok = io::send_frame(&mut io, &mounted).await;
    let events = socket.take_pushed();
    if ok && !events.is_empty() {
        ok = io::send_frame(&mut io, &ServerFrame::Push { events: &events }).await;
    }
    let now = Instant::now();
    let config = &app.config;
    // Nothing of the mount is kept for the connection's life: not the rendered tree and
    // statics (the state holds fingerprints), not the upgrade request's headers.
    drop((rendered, statics, req));
    let mut live = Live {
        rendered: state,
        compiled,
        ver: 0,
        armed: false,
        dirty: false,
        last_flush: now - config.tick,
        next_render: now,
        _live: super::budget::LiveGuard::new(),
        cursors: cursors::CursorState::default(),
        tick: Box::pin(tokio::time::sleep_until(now)),
        bucket: TokenBucket::new(config.rate_per_sec, config.rate_burst, now),
        held: HeldEvents::default(),
        resync_held: false,
        rate_wake: Box::pin(tokio::time::sleep_until(now)),
        last_rate_error: None,
        last_seen: now,
        idle: Box::pin(tokio::time::sleep_until(now + config.idle_timeout)),
        info_open: true,
        presence_sub: None,
        own_user: None,
        view,
        socket,
        io,
        info_rx,
        app: app.clone(),
    };
    live.note_rendered();
    let reason = if ok {
        live.run().await
    } else {
        CloseReason::ConnectionLost
    };
    tracing::debug!(conn = %live.socket.conn_id(), ?reason, "djust: connection closed");
    live.view.terminate(&reason, &mut live.socket).await;
    live.socket.presence_link().terminate(reason.is_clean());
    match reason {
        CloseReason::Server => {
            io::close(&mut live.io, close::SERVER_CLOSE, "closed by server").await;
        }
        CloseReason::IdleTimeout => {
            io::close(&mut live.io, close::GOING_AWAY, "idle timeout").await;
        }
        // Send the Close reply the codec queued.
        CloseReason::Client { .. } => live.io.flush().await,
        // The peer is gone, or 1009 was sent already.
        CloseReason::ConnectionLost | CloseReason::ProtocolViolation => {}
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What the loop does after handling one wake-up.
enum Flow {
    Continue,
    Close(CloseReason),
}

struct Live<V, T> {
    view: V,
    socket: Socket,
    io: T,
    info_rx: UnboundedReceiver<Control>,
    info_open: bool,
    /// The view's presence subscription (see `presence.rs`), polled like `info_rx`.
    presence_sub: Option<djust_presence::Subscription>,
    /// The presence user id this connection is tracked as (refreshed by `sync_presence`).
    own_user: Option<Arc<str>>,
    app: Arc<App>,
    /// Fingerprints of what the client has (as of the last frame sent; `djust-render`).
    rendered: ViewState,
    /// The view's compiled template.
    compiled: View,
    /// Version of the last patch sent (0 = the mounted render).
    ver: u64,
    /// A flush is pending and `tick` holds its deadline.
    armed: bool,
    /// The pending flush must render (else it only sends cursor moves and events).
    dirty: bool,
    /// When the last flush ran: the next is due one tick later (leading + trailing throttle).
    last_flush: Instant,
    /// The earliest time the next render may run (the render budget, `budget.rs`).
    next_render: Instant,
    _live: super::budget::LiveGuard,
    /// The cursor fast path (see `cursors.rs`).
    cursors: cursors::CursorState,
    tick: Pin<Box<Sleep>>,
    bucket: TokenBucket,
    held: HeldEvents,
    /// A `resync` is waiting for a token.
    resync_held: bool,
    /// When the next token is due, while `held` is not empty.
    rate_wake: Pin<Box<Sleep>>,
    last_rate_error: Option<Instant>,
    last_seen: Instant,
    idle: Pin<Box<Sleep>>,
}

impl<V: LiveView, T: Transport> Live<V, T> {
    async fn run(&mut self) -> CloseReason {
        loop {
            self.sync_presence();
            let flow = tokio::select! {
                // The render deadline goes first so a flood of frames cannot postpone it.
                biased;
                () = &mut self.tick, if self.armed => self.flush(false).await,
                msg = self.io.recv() => self.on_message(msg).await,
                ctl = self.info_rx.recv(), if !self.armed && self.info_open => {
                    self.on_control(ctl).await
                }
                ev = presence::recv(&mut self.presence_sub), if !self.armed && self.presence_sub.is_some() => {
                    self.on_presence(ev)
                }
                () = &mut self.rate_wake, if self.resync_held || !self.held.is_empty() => {
                    self.release_held().await
                }
                () = &mut self.idle => self.on_idle(),
                ev = text::recv(&mut self.socket) => self.on_text_event(ev).await,
            };
            if let Flow::Close(reason) = flow {
                return reason;
            }
            if self.socket.disconnect_requested() {
                return CloseReason::Server;
            }
        }
    }

    fn mark_dirty(&mut self) {
        self.dirty = true;
        self.arm();
    }

    /// Schedules a flush: at once if the last one is a tick ago (so a lone change goes out
    /// without delay), else when that tick ends — at most one frame per tick either way.
    fn arm(&mut self) {
        if !self.armed {
            let deadline = (self.last_flush + self.app.config.tick).max(Instant::now());
            self.arm_at(deadline);
        }
    }

    fn arm_at(&mut self, deadline: Instant) {
        self.armed = true;
        self.tick.as_mut().reset(deadline);
    }

    async fn send(&mut self, frame: &ServerFrame<'_>) -> Flow {
        if io::send_frame(&mut self.io, frame).await {
            Flow::Continue
        } else {
            Flow::Close(CloseReason::ConnectionLost)
        }
    }

    async fn send_error(&mut self, reference: Option<&Value>, code: &str, message: &str) -> Flow {
        let frame = ServerFrame::Error {
            reference,
            code,
            message,
        };
        self.send(&frame).await
    }

    async fn on_message(&mut self, msg: Option<Result<Message, axum::Error>>) -> Flow {
        let msg = match msg {
            None => return Flow::Close(CloseReason::ConnectionLost),
            Some(Err(err)) => {
                if io::is_too_big(&err) {
                    tracing::warn!(conn = %self.socket.conn_id(), "djust: oversized frame");
                    io::refuse_too_big(&mut self.io, self.app.config.max_frame_bytes).await;
                    return Flow::Close(CloseReason::ProtocolViolation);
                }
                tracing::debug!(error = %err, "djust: receive failed");
                return Flow::Close(CloseReason::ConnectionLost);
            }
            Some(Ok(msg)) => msg,
        };
        self.last_seen = Instant::now();
        match msg {
            Message::Text(text) => self.on_text(&text).await,
            Message::Binary(_) => {
                let msg = "binary frames are not part of the protocol; send JSON text";
                self.send_error(None, code::BINARY_UNSUPPORTED, msg).await
            }
            Message::Ping(_) | Message::Pong(_) => Flow::Continue,
            Message::Close(frame) => Flow::Close(CloseReason::Client {
                code: frame.map(|f| f.code),
            }),
        }
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        let max = self.app.config.max_frame_bytes;
        if text.len() > max {
            io::refuse_too_big(&mut self.io, max).await;
            return Flow::Close(CloseReason::ProtocolViolation);
        }
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(err) => {
                tracing::warn!(conn = %self.socket.conn_id(), error = %err, "djust: malformed frame");
                let msg = format!("malformed frame: {err}");
                return self.send_error(None, code::BAD_JSON, &msg).await;
            }
        };
        match frame {
            ClientFrame::Event {
                reference,
                name,
                payload,
                coalesce,
            } => self.on_event(reference, name, payload, coalesce).await,
            ClientFrame::Heartbeat { reference } => {
                self.socket.presence_link().heartbeat();
                self.view.handle_heartbeat(&mut self.socket);
                let frame = ServerFrame::Heartbeat {
                    reference: reference.as_ref(),
                };
                self.send(&frame).await
            }
            ClientFrame::Resync { ver } => {
                tracing::debug!(conn = %self.socket.conn_id(), client_ver = ?ver, "djust: resync");
                // A resync costs a full render, so it takes a token like an event; but it is
                // never dropped (the client ignores patches until the render comes): without
                // a token it waits for one.
                let now = Instant::now();
                if self.bucket.try_take(now) {
                    self.flush(true).await
                } else {
                    self.resync_held = true;
                    let at = self.bucket.ready_at(now);
                    self.rate_wake.as_mut().reset(at);
                    Flow::Continue
                }
            }
            ClientFrame::Text(frame) => self.on_shared_text(frame).await,
            ClientFrame::Mount { reference, .. } => {
                let msg = "this connection already has a mounted view; open a new connection";
                self.send_error(reference.as_ref(), code::ALREADY_MOUNTED, msg)
                    .await
            }
        }
    }

    async fn on_event(
        &mut self,
        reference: Option<Value>,
        name: String,
        payload: Value,
        coalesce: bool,
    ) -> Flow {
        let now = Instant::now();
        if self.bucket.try_take(now) {
            if coalesce {
                // Anything held under this name is older than this event.
                self.held.superseded(&name);
            }
            return self.dispatch(reference.as_ref(), &name, payload).await;
        }
        if coalesce {
            self.held.hold(name, HeldEvent { reference, payload });
            let at = self.bucket.ready_at(now);
            self.rate_wake.as_mut().reset(at);
            return Flow::Continue;
        }
        self.rate_limited(&name).await
    }

    async fn rate_limited(&mut self, what: &str) -> Flow {
        let now = Instant::now();
        tracing::debug!(conn = %self.socket.conn_id(), what, "djust: rate limited");
        let recent = self
            .last_rate_error
            .is_some_and(|t| now.duration_since(t) < std::time::Duration::from_secs(1));
        if recent {
            return Flow::Continue;
        }
        self.last_rate_error = Some(now);
        tracing::warn!(conn = %self.socket.conn_id(), what, "djust: event rate limit hit");
        let cfg = &self.app.config;
        let msg = format!(
            "too many events (limit {}/s, burst {}): `{what}` was dropped",
            cfg.rate_per_sec, cfg.rate_burst
        );
        self.send_error(None, code::RATE_LIMITED, &msg).await
    }

    /// Delivers a held resync, then held coalescible events, as tokens become available.
    async fn release_held(&mut self) -> Flow {
        let now = Instant::now();
        if self.resync_held {
            if !self.bucket.try_take(now) {
                let at = self.bucket.ready_at(now);
                self.rate_wake.as_mut().reset(at);
                return Flow::Continue;
            }
            self.resync_held = false;
            if let Flow::Close(reason) = self.flush(true).await {
                return Flow::Close(reason);
            }
        }
        while !self.held.is_empty() {
            if !self.bucket.try_take(now) {
                let at = self.bucket.ready_at(now);
                self.rate_wake.as_mut().reset(at);
                break;
            }
            let Some((name, event)) = self.held.pop_front() else {
                break;
            };
            let flow = self
                .dispatch(event.reference.as_ref(), &name, event.payload)
                .await;
            if let Flow::Close(reason) = flow {
                return Flow::Close(reason);
            }
        }
        Flow::Continue
    }

    async fn dispatch(&mut self, reference: Option<&Value>, name: &str, payload: Value) -> Flow {
        let payload = match payload {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                let err = EventError::BadPayload {
                    event: name.to_owned(),
                    got: json_type(&other),
                };
                return self.event_error(reference, &err).await;
            }
        };
        match self
            .view
            .handle_event(name, &payload, &mut self.socket)
            .await
        {
            Ok(()) => {
                if V::NO_RENDER.contains(&name) {
                    // Nothing to re-render, but the handler may have pushed events.
                    self.arm();
                } else {
                    self.mark_dirty();
                }
                Flow::Continue
            }
            Err(err) => {
                if matches!(err, EventError::Handler { .. }) {
                    // The handler ran and may have changed state before failing.
                    self.mark_dirty();
                }
                self.event_error(reference, &err).await
            }
        }
    }

    async fn event_error(&mut self, reference: Option<&Value>, err: &EventError) -> Flow {
        tracing::warn!(conn = %self.socket.conn_id(), error = %err, "djust: event rejected");
        self.send_error(reference, err.code(), &err.to_string())
            .await
    }

    async fn on_control(&mut self, ctl: Option<Control>) -> Flow {
        match ctl {
            Some(Control::Info(info)) => {
                self.handle_info(info).await;
                self.mark_dirty();
                Flow::Continue
            }
            Some(Control::Disconnect) => Flow::Close(CloseReason::Server),
            None => {
                // Unreachable while `socket` holds a sender; disable the branch regardless.
                self.info_open = false;
                Flow::Continue
            }
        }
    }

    async fn handle_info(&mut self, info: Info) {
        if let Err(err) = self.view.handle_info(info, &mut self.socket).await {
            tracing::error!(conn = %self.socket.conn_id(), error = %err, "djust: handle_info failed");
        }
    }

    fn on_idle(&mut self) -> Flow {
        let deadline = self.last_seen + self.app.config.idle_timeout;
        if Instant::now() >= deadline {
            return Flow::Close(CloseReason::IdleTimeout);
        }
        // Activity since the timer was set: re-arm once, instead of on every frame.
        self.idle.as_mut().reset(deadline);
        Flow::Continue
    }
}
