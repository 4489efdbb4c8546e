//! The connection's limits: the frame bucket every client frame passes, the event bucket with
//! its holding area for coalescible events (capped to the view's own event names), and the
//! rate-limit error frame (at most one a second).

use serde_json::Value;
use tokio::time::Instant;

use super::{Flow, Live};
use crate::conn::io::Transport;
use crate::conn::rate::HeldEvent;
use crate::conn::warn::{client_warn, clip};
use crate::error::EventError;
use crate::protocol::code;
use crate::view::LiveView;

impl<V: LiveView, T: Transport> Live<V, T> {
    /// Takes a frame token for one client frame; without one the frame is dropped unread
    /// (answered by the rate-limit error, at most once a second).
    pub(super) async fn admit_frame(&mut self) -> Option<Flow> {
        if self.frames.try_take(Instant::now()) {
            return None;
        }
        Some(self.rate_limited("frames").await)
    }

    pub(super) async fn on_event(
        &mut self,
        reference: Option<Value>,
        name: String,
        payload: Value,
        coalesce: bool,
    ) -> Flow {
        if coalesce && !V::EVENTS.contains(&name.as_str()) {
            // Only the view's own events are held (one slot per name): a client-chosen name
            // would open a new slot each time.
            let err = EventError::unknown(&clip(&name));
            return self.event_error(reference.as_ref(), &err).await;
        }
        let now = Instant::now();
        if self.bucket.try_take(now) {
            if coalesce {
                // Anything held under this name is older than this event.
                self.held.superseded(&name);
                self.info_rx.set_held_events(self.held.len());
            }
            return self.dispatch(reference.as_ref(), &name, payload).await;
        }
        crate::metrics::rate_limited();
        if coalesce {
            self.held.hold(name, HeldEvent { reference, payload });
            self.info_rx.set_held_events(self.held.len());
            let at = self.bucket.ready_at(now);
            self.rate_wake.reset(at);
            return Flow::Continue;
        }
        self.rate_limited(&name).await
    }

    pub(super) async fn rate_limited(&mut self, what: &str) -> Flow {
        let now = Instant::now();
        let recent = self
            .last_rate_error
            .is_some_and(|t| now.duration_since(t) < std::time::Duration::from_secs(1));
        if recent {
            return Flow::Continue;
        }
        self.last_rate_error = Some(now);
        client_warn!(
            self.warnings,
            self.socket.conn_id(),
            what,
            "djust: rate limit hit"
        );
        let cfg = &self.app.config;
        let msg = format!(
            "too many events (limit {}/s, burst {}) or frames (limit {}/s, burst {}): `{}` was \
             dropped",
            cfg.rate_per_sec,
            cfg.rate_burst,
            cfg.frame_rate_per_sec,
            cfg.frame_rate_burst,
            clip(what)
        );
        self.send_error(None, code::RATE_LIMITED, &msg).await
    }

    /// Delivers a held resync, then held coalescible events, as tokens become available.
    pub(super) async fn release_held(&mut self) -> Flow {
        let now = Instant::now();
        if self.resync_held {
            if !self.bucket.try_take(now) {
                let at = self.bucket.ready_at(now);
                self.rate_wake.reset(at);
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
                self.rate_wake.reset(at);
                break;
            }
            let Some((name, event)) = self.held.pop_front() else {
                break;
            };
            self.info_rx.set_held_events(self.held.len());
            let flow = self
                .dispatch(event.reference.as_ref(), &name, event.payload)
                .await;
            if let Flow::Close(reason) = flow {
                return Flow::Close(reason);
            }
        }
        Flow::Continue
    }

    pub(super) async fn event_error(
        &mut self,
        reference: Option<&Value>,
        err: &EventError,
    ) -> Flow {
        client_warn!(
            self.warnings,
            self.socket.conn_id(),
            err.to_string(),
            "djust: event rejected"
        );
        self.send_error(reference, err.code(), &err.to_string())
            .await
    }
}
