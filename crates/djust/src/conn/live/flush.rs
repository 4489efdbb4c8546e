//! The end of a tick: drain what was queued, render once if anything but cursor positions
//! changed (only the slots whose inputs changed are evaluated), and send one frame.

use djust_render::Output;

use super::{Flow, Live};
use crate::conn::io::Transport;
use crate::protocol::{CursorMove, ServerFrame, code};
use crate::socket::PushEvent;
use crate::view::{CloseReason, LiveView};

impl<V: LiveView, T: Transport> Live<V, T> {
    /// Handles everything queued during the tick and sends one frame: a `patch` (with the
    /// tick's events and cursor moves), a `cursors` frame when only shown cursors moved, a
    /// `push` when only events are pending, or a full `render` when `resync`.
    pub(super) async fn flush(&mut self, resync: bool) -> Flow {
        self.armed = false;
        self.last_flush = tokio::time::Instant::now();
        // Drain what was queued during the tick, but not what arrives meanwhile: a producer
        // faster than `handle_info` must not keep this loop from rendering.
        let queued = self.info_rx.len();
        crate::metrics::queue_depth("info", queued);
        for _ in 0..queued {
            let Some(info) = self.info_rx.try_recv() else {
                break;
            };
            self.handle_info(info).await;
            self.dirty = true;
        }
        if self.info_rx.disconnect_requested() {
            return Flow::Close(CloseReason::Server);
        }
        self.sync_presence();
        self.drain_presence();
        if !(resync || self.dirty) {
            return self.send_cursors().await;
        }
        let now = tokio::time::Instant::now();
        if !resync && now < self.next_render {
            // Over the render budget: send what needs no render now, render when allowed.
            let flow = self.send_cursors().await;
            let at = self.next_render;
            self.arm_at(at);
            return flow;
        }
        self.dirty = false;
        if resync {
            // The client's DOM cannot be trusted: forget what it has, send everything.
            self.rendered.reset();
        }
        if self.app.templates.reloads()
            && let Flow::Close(reason) = self.follow_templates().await
        {
            return Flow::Close(reason);
        }
        let started = std::time::Instant::now();
        let out = match crate::render::render_live(
            &self.templates,
            &self.compiled,
            &self.view,
            &self.socket,
            &mut self.rendered,
        ) {
            Ok(out) => out,
            Err(err) => {
                // Nothing was sent and the render state is reset: the client keeps the last
                // good page, and the next successful render is a full `render`.
                self.rendered.reset();
                tracing::error!(conn = %self.socket.conn_id(), error = %err, "djust: render failed");
                return self
                    .send_error(None, code::RENDER_FAILED, &err.to_string())
                    .await;
            }
        };
        let took = started.elapsed();
        crate::metrics::render_time(took);
        let interval = super::super::budget::render_interval(took, self.app.config.tick);
        self.next_render = now + interval;
        let cursors = self.note_rendered();
        let events = self.socket.take_pushed();
        match out {
            // A full render carries every position: no cursor moves needed.
            Output::Full { rendered, statics } => {
                let frame = ServerFrame::Render {
                    ver: self.ver,
                    rendered: &rendered,
                    statics: &statics,
                    events: &events,
                };
                self.send(&frame).await
            }
            // Nothing the page shows changed (e.g. the sender's own cursor move).
            Output::Diff { diff, .. } if diff.is_empty() => {
                self.send_moves(&cursors, &events).await
            }
            Output::Diff { diff, statics } => {
                self.ver += 1;
                let frame = ServerFrame::Patch {
                    ver: self.ver,
                    diff: &diff,
                    statics: &statics,
                    events: &events,
                    cursors: &cursors,
                };
                self.send(&frame).await
            }
        }
    }

    /// A render happened: note which cursors the page now shows (its `dj-cursor` markers)
    /// and take the fast-path moves made since the previous render.
    pub(super) fn note_rendered(&mut self) -> Vec<CursorMove> {
        let mut markers = Vec::new();
        self.rendered.markers(&mut markers);
        self.cursors.rendered(&markers)
    }

    /// Nothing needs a render: send the tick's fast-path cursor moves and events, if any.
    async fn send_cursors(&mut self) -> Flow {
        let cursors = self.cursors.take_fresh();
        let events = self.socket.take_pushed();
        self.send_moves(&cursors, &events).await
    }

    /// A frame for cursor moves and events without DOM changes: `cursors`, `push`, or nothing.
    async fn send_moves(&mut self, cursors: &[CursorMove], events: &[PushEvent]) -> Flow {
        if !cursors.is_empty() {
            self.send(&ServerFrame::Cursors { cursors, events }).await
        } else if !events.is_empty() {
            self.send(&ServerFrame::Push { events }).await
        } else {
            Flow::Continue
        }
    }
}
