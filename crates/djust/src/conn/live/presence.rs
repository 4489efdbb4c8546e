//! The connection loop's presence side: polling the view's subscription, calling the join and
//! leave hooks, delivering broadcasts, and marking the view dirty for a coalesced re-render.

use std::sync::Arc;

use djust_presence::{EventKind, PresenceEvent, RecvError, Subscription, TryRecvError};

use super::{Flow, Live};
use crate::conn::io::Transport;
use crate::view::LiveView;

/// The next event of `sub`, or never if there is no subscription (a disabled `select!` arm).
pub(super) async fn recv(sub: &mut Option<Subscription>) -> Result<Arc<PresenceEvent>, RecvError> {
    match sub {
        Some(sub) => sub.recv().await,
        None => std::future::pending().await,
    }
}

impl<V: LiveView, T: Transport> Live<V, T> {
    /// Takes a subscription the view made during its last callback (track or a key move).
    /// Replacing the old one drops it, which unsubscribes.
    /// Also refreshes the own user id, so handling an event takes no lock.
    pub(super) fn sync_presence(&mut self) {
        let (sub, own) = self.socket.presence_link().sync();
        if let Some(sub) = sub {
            self.presence_sub = Some(sub);
        }
        self.own_user = own;
    }

    /// One event woke the loop: handle it and arm the render; the rest of the tick's events
    /// are drained at the deadline.
    pub(super) fn on_presence(&mut self, event: Result<Arc<PresenceEvent>, RecvError>) -> Flow {
        match event {
            Ok(event) => {
                if self.handle_presence(&event) {
                    self.mark_dirty();
                } else {
                    self.arm();
                }
            }
            Err(RecvError::Lagged(missed)) => self.lagged(missed),
            // The engine is gone (shutdown): stop polling.
            Err(RecvError::Closed) => self.presence_sub = None,
        }
        Flow::Continue
    }

    /// The subscription's queue overflowed (this connection fell behind its room): the missed
    /// events are not replayed — the render reads the current listing and cursors, which are the
    /// truth — and the join/leave hooks of the missed events do not run.
    fn lagged(&mut self, missed: u64) {
        tracing::debug!(conn = %self.socket.conn_id(), missed, "djust: presence events dropped; re-rendering from the current state");
        self.mark_dirty();
    }

    /// Handles the events queued during the tick, at most as many as were queued when the
    /// drain started (a producer faster than this loop must not keep it from rendering).
    pub(super) fn drain_presence(&mut self) {
        // Taken out so the hooks can borrow `self`; a hook that subscribes anew (a key move)
        // puts its subscription in place, and the old one is then dropped.
        let Some(mut sub) = self.presence_sub.take() else {
            return;
        };
        for _ in 0..MAX_DRAIN {
            let event = match sub.try_recv() {
                Ok(event) => event,
                Err(TryRecvError::Lagged(missed)) => {
                    self.lagged(missed);
                    continue;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            };
            if self.handle_presence(&event) {
                self.dirty = true;
            }
            if self.presence_sub.is_some() {
                return;
            }
        }
        self.presence_sub = Some(sub);
    }

    /// Handles one event; returns whether the view needs a render (a move of a cursor the
    /// client already shows only needs the fast path).
    fn handle_presence(&mut self, event: &PresenceEvent) -> bool {
        let own = self.own_user.clone();
        let is_own = |id: &str| own.as_deref() == Some(id);
        if let EventKind::CursorMoved { user_id, cursor } = &event.kind {
            // The own cursor is never on the own page (`get_cursors` leaves it out); a culled
            // one (above the cursor limit) is on no page; another user's shown cursor only
            // needs the fast path.
            if is_own(user_id)
                || cursor.is_culled()
                || self.cursors.moved(
                    crate::presence::dom_hash(user_id),
                    cursor.x(),
                    cursor.y(),
                    cursor.anchor(),
                )
            {
                return false;
            }
        }
        match &event.kind {
            EventKind::Join(record) if !is_own(record.id()) => {
                self.view.handle_presence_join(record, &mut self.socket);
                // The hook may have moved or dropped the presence.
                self.sync_presence();
            }
            EventKind::Leave(record) if !is_own(record.id()) => {
                self.view.handle_presence_leave(record, &mut self.socket);
                self.sync_presence();
            }
            EventKind::Broadcast { event, payload } => {
                if let Err(err) = self.socket.push_event(event.as_ref(), &**payload) {
                    tracing::warn!(conn = %self.socket.conn_id(), error = %err, "djust: broadcast not delivered");
                }
                // A push event goes out with the next flush; nothing to re-render.
                return false;
            }
            // Updates and cursor moves only need the re-render the caller arms.
            _ => {}
        }
        true
    }
}

/// Upper bound of events handled per render, so a flood cannot starve the WebSocket.
const MAX_DRAIN: usize = 100_000;
