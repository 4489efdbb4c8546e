//! The end of a tick: drain what was queued, render once if anything but cursor positions
//! changed, and send one frame.

use djust_diff::Tree;

use super::{Flow, Live};
use crate::conn::io::Transport;
use crate::protocol::{CursorMove, ServerFrame, code};
use crate::socket::Control;
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
        for _ in 0..self.info_rx.len() {
            match self.info_rx.try_recv() {
                Ok(Control::Info(info)) => {
                    self.handle_info(info).await;
                    self.dirty = true;
                }
                Ok(Control::Disconnect) => return Flow::Close(CloseReason::Server),
                Err(_) => break,
            }
        }
        self.sync_presence();
        self.drain_presence();
        if !(resync || self.dirty) {
            return self.send_cursors().await;
        }
        self.dirty = false;
        let html = match crate::render::render_view(&self.app.templates, &self.view, &self.socket) {
            Ok((_, html)) => html,
            Err(err) => {
                tracing::error!(conn = %self.socket.conn_id(), error = %err, "djust: render failed");
                return self
                    .send_error(None, code::RENDER_FAILED, &err.to_string())
                    .await;
            }
        };
        let hash = html_hash(&html);
        if !resync && hash == self.html_hash {
            // Same page as last time (e.g. the sender's own cursor move, which its page does not
            // show): no parse, no diff.
            return self.send_cursors().await;
        }
        self.html_hash = hash;
        let tree = Tree::parse(&html);
        let cursors = self.cursors.rendered(&tree);
        let events = self.socket.take_pushed();
        if resync {
            // The full render carries every position: no cursor moves needed.
            self.tree = tree;
            let frame = ServerFrame::Render {
                ver: self.ver,
                html: &html,
                events: &events,
            };
            return self.send(&frame).await;
        }
        let ops = djust_diff::diff(&self.tree, &tree);
        self.tree = tree;
        if !ops.is_empty() {
            self.ver += 1;
            let frame = ServerFrame::Patch {
                ver: self.ver,
                ops: &ops,
                events: &events,
                cursors: &cursors,
            };
            self.send(&frame).await
        } else {
            self.send_moves(&cursors, &events).await
        }
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

/// A hash of a rendered page, to skip parsing and diffing a render identical to the last one.
/// 64 bits of SipHash: a collision (which would skip one real update) is not a practical
/// concern, and a hash keeps the per-connection memory at 8 bytes instead of a page copy.
pub(super) fn html_hash(html: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(html)
}
