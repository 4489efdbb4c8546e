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
use djust_render::{View, ViewState};
use serde_json::{Map, Value};
use tokio::time::{Instant, Sleep};

mod cursors;
mod end;
mod flush;
mod limits;
mod mount;
mod presence;
mod reload;
mod text;

use super::io::{self, SendFailure, Transport};
use super::rate::{HeldEvents, TokenBucket};
use super::warn::{Warnings, client_warn};
use super::{ConnInit, MountTarget};
use crate::app::App;
use crate::context::json_type;
use crate::error::EventError;
use crate::presence::CursorExtras;
use crate::protocol::{ClientFrame, ServerFrame, code};
use crate::socket::{Info, InfoReceiver, InfoSender, Socket, StopSignal};
use crate::view::{CloseReason, LiveView};

/// Mounts `V` on the connection and runs it until the connection ends.
///
/// Not an `async fn`: the mount (its request, headers, first render and the view's own
/// `mount` future) runs in a box of its own that is freed once mounted. A future is as large
/// as its largest state, and its arguments stay part of it, so inline they would be part of
/// every connection's memory for its whole life; this way the connection keeps the `Live`
/// state and the loop's future only.
pub(crate) fn run_view<V: LiveView, T: Transport>(
    io: T,
    app: Arc<App>,
    init: ConnInit,
    target: MountTarget,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let view = crate::metrics::ViewGuard::mounted(std::any::type_name::<V>());
    let (info, info_rx) = InfoSender::channel(app.config.info_queue);
    let registered = (app.clone(), info.clone());
    let mount = Box::pin(mount::mount::<V, T>(io, app, init, target, (info, info_rx)));
    async move {
        let _view = view;
        // A shutdown closes this connection with 1012 (`shutdown.rs`), also while it mounts;
        // deregistered on return.
        let (app, info) = registered;
        let _registered = crate::shutdown::register(&app, info);
        let Some((mut live, sent)) = mount.await else {
            return;
        };
        let reason = match sent {
            Ok(()) => live.run().await,
            Err(failure) => failure_reason(failure),
        };
        live.end(reason).await;
    }
}

/// The close reason of a failed send.
fn failure_reason(failure: SendFailure) -> CloseReason {
    match failure {
        SendFailure::Lost => CloseReason::ConnectionLost,
        SendFailure::Timeout => CloseReason::SendTimeout,
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
    info_rx: InfoReceiver,
    /// Resolves when [`InfoSender::disconnect`] is called (shutdown included).
    stop: StopSignal,
    info_open: bool,
    /// The view's presence subscription (see `presence.rs`), polled like `info_rx`.
    presence_sub: Option<djust_presence::Subscription>,
    /// The presence user id this connection is tracked as (refreshed by `sync_presence`).
    own_user: Option<Arc<str>>,
    app: Arc<App>,
    /// Fingerprints of what the client has (as of the last frame sent; `djust-render`).
    rendered: ViewState,
    /// The template generation `compiled` belongs to (dev mode replaces both, `reload.rs`).
    templates: Arc<crate::template::Generation>,
    /// The view's compiled template.
    compiled: View,
    /// Dev mode: the template error this client was last told about (`reload.rs`).
    template_error: Option<Arc<str>>,
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
    /// Every client frame takes a token of this bucket (`frame_rate_per_sec`).
    frames: TokenBucket,
    /// The budget of warnings about this client's input (`warn.rs`).
    warnings: Warnings,
    held: HeldEvents,
    /// A `resync` is waiting for a token.
    resync_held: bool,
    /// When the next token is due, while `held` is not empty.
    rate_wake: super::lazy_sleep::LazySleep,
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
                // The handlers' futures (a render, the view's own async handlers) are boxed:
                // inline, the largest of them would be part of every idle connection's task.
                () = &mut self.tick, if self.armed => Box::pin(self.flush(false)).await,
                msg = self.io.recv() => Box::pin(self.on_message(msg)).await,
                ctl = self.info_rx.recv(), if !self.armed && self.info_open => {
                    Box::pin(self.on_control(ctl)).await
                }
                ev = presence::recv(&mut self.presence_sub), if !self.armed && self.presence_sub.is_some() => {
                    self.on_presence(ev)
                }
                () = &mut self.rate_wake, if self.resync_held || !self.held.is_empty() => {
                    Box::pin(self.release_held()).await
                }
                () = &mut self.idle => self.on_idle(),
                () = self.stop.disconnected() => Flow::Close(CloseReason::Server),
                ev = text::recv(&mut self.socket) => self.on_text_event(ev).await,
            };
            if let Flow::Close(reason) = flow {
                return reason;
            }
            if self.socket.disconnect_requested() || self.info_rx.disconnect_requested() {
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
        match io::send_frame(&mut self.io, frame, self.app.config.send_timeout).await {
            Ok(()) => Flow::Continue,
            Err(failure) => Flow::Close(failure_reason(failure)),
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
                if let Some(violation) = io::classify(&err) {
                    client_warn!(
                        self.warnings,
                        self.socket.conn_id(),
                        err.to_string(),
                        "djust: protocol violation"
                    );
                    io::refuse(&mut self.io, violation, self.app.config.max_frame_bytes).await;
                    return Flow::Close(CloseReason::ProtocolViolation);
                }
                tracing::debug!(error = ?err.to_string(), "djust: receive failed");
                return Flow::Close(CloseReason::ConnectionLost);
            }
            Some(Ok(msg)) => msg,
        };
        self.last_seen = Instant::now();
        if !matches!(msg, Message::Close(_))
            && let Some(flow) = self.admit_frame().await
        {
            return flow;
        }
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
        crate::metrics::frame_in(text.len());
        let max = self.app.config.max_frame_bytes;
        if text.len() > max {
            io::refuse_too_big(&mut self.io, max).await;
            return Flow::Close(CloseReason::ProtocolViolation);
        }
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(err) => {
                client_warn!(
                    self.warnings,
                    self.socket.conn_id(),
                    err.to_string(),
                    "djust: malformed frame"
                );
                let msg = format!("malformed frame: {}", super::warn::clip(&err.to_string()));
                return self.send_error(None, code::BAD_JSON, &msg).await;
            }
        };
        match frame {
            ClientFrame::Event {
                reference,
                name,
                payload,
                coalesce,
                seq,
                client,
            } => {
                // A numbered event is answered with an `ack`; a re-sent duplicate of one already
                // handled gets only that (`crate::replay`). Coalescible events are never numbered.
                let numbered = seq
                    .zip(client)
                    .filter(|(_, c)| !coalesce && crate::replay::valid_client(c));
                let Some((seq, client)) = numbered else {
                    return self.on_event(reference, name, payload, coalesce).await;
                };
                let user = self.socket.identity().user_id();
                let replays = self.app.state.get::<crate::replay::Replays>();
                if replays.is_none_or(|r| r.claim(user, &client, seq))
                    && let Flow::Close(reason) =
                        self.on_event(reference, name, payload, coalesce).await
                {
                    return Flow::Close(reason);
                }
                self.send(&ServerFrame::Ack {
                    client: &client,
                    seq,
                })
                .await
            }
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
                    self.rate_wake.reset(at);
                    Flow::Continue
                }
            }
            frame @ (ClientFrame::TextSync { .. }
            | ClientFrame::TextUpdate { .. }
            | ClientFrame::TextCaret { .. }) => match frame.into_text() {
                Some(text) => self.on_shared_text(text).await,
                None => Flow::Continue,
            },
            ClientFrame::Mount { reference, .. } => {
                let msg = "this connection already has a mounted view; open a new connection";
                self.send_error(reference.as_ref(), code::ALREADY_MOUNTED, msg)
                    .await
            }
        }
    }

    async fn dispatch(&mut self, reference: Option<&Value>, name: &str, payload: Value) -> Flow {
        let mut payload = match payload {
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
        // A pointer-based cursor event's anchor / hidden flag: for the runtime, not the handler.
        let extras = match payload.remove(CursorExtras::FIELD) {
            None => None,
            Some(value) => match CursorExtras::decode(value) {
                Ok(extras) => Some(extras),
                Err(message) => {
                    let err = EventError::BadParam {
                        event: name.to_owned(),
                        param: CursorExtras::FIELD.to_owned(),
                        message,
                    };
                    return self.event_error(reference, &err).await;
                }
            },
        };
        let with_extras = extras.is_some();
        if with_extras {
            self.socket.presence_link().set_cursor_extras(extras);
        }
        let result = self
            .view
            .handle_event(name, &payload, &mut self.socket)
            .await;
        if with_extras {
            self.socket.presence_link().set_cursor_extras(None);
        }
        match result {
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

    async fn on_control(&mut self, info: Option<Info>) -> Flow {
        match info {
            Some(info) => {
                self.handle_info(info).await;
                self.mark_dirty();
            }
            // Unreachable while `socket` holds a sender; disable the branch regardless.
            None => self.info_open = false,
        }
        Flow::Continue
    }

    async fn handle_info(&mut self, info: Info) {
        let Err(info) = self.on_dev_reload(info).await else {
            return;
        };
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
