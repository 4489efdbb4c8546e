//! The document list kept live: who is in each listed document, and documents created by
//! others, without a reload.
//!
//! A connected list page starts a [`Watch`]: one task that subscribes (without tracking) to
//! the presence key of every document on the page (`editor:{id}`) and to [`DOCUMENTS_KEY`],
//! where a new document is announced with `Presence::broadcast`. On a join, leave or meta
//! update it sends the view a [`Refresh`] through the connection's `InfoSender`, at most one
//! waiting at a time (a busy room costs one re-render per tick, not one per event); cursor
//! moves are ignored. Being presence subscriptions and broadcasts, both also work across
//! processes with the Redis backend. The task ends with the connection (or a new page's
//! watch replaces it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use djust::InfoSender;
use djust::presence::{EventKind, Presence};
use djust_presence::RecvError;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

/// The key on which new documents are announced (nobody is tracked on it).
pub(crate) const DOCUMENTS_KEY: &str = "collab:documents";

/// The broadcast event of a new document (payload `{"id": …}`).
pub(crate) const CREATED: &str = "document_created";

/// What the watch tells the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// Someone joined, left or changed in a listed document: re-render.
    Rooms,
    /// A document was created: reload the page's documents (and watch them).
    Documents,
}

/// A running watch; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct Watch {
    task: tokio::task::JoinHandle<()>,
    /// True while a [`Refresh::Rooms`] waits in the view's queue.
    pending: Arc<AtomicBool>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watch {
    /// Watches `keys` (presence keys of the listed documents) and [`DOCUMENTS_KEY`] for the
    /// view behind `info`.
    pub(crate) fn start(engine: &Presence, keys: &[String], info: InfoSender) -> Self {
        let pending = Arc::new(AtomicBool::new(false));
        // Subscribed here, before the view's first render is sent: nothing is missed between.
        let rooms = keys
            .iter()
            .map(|k| events(engine.subscribe(k), false))
            .chain(std::iter::once(events(
                engine.subscribe(DOCUMENTS_KEY),
                true,
            )));
        let mut all = stream::select_all(rooms);
        let flag = pending.clone();
        let task = tokio::spawn(async move {
            while let Some(refresh) = all.next().await {
                let Some(refresh) = refresh else { break };
                if refresh == Refresh::Rooms && flag.swap(true, Ordering::AcqRel) {
                    continue; // one is already waiting
                }
                match info.send(refresh) {
                    Ok(()) | Err(djust::SendError::Full { .. }) => {}
                    Err(djust::SendError::Disconnected) => break,
                }
            }
        });
        Self { task, pending }
    }

    /// Called by the view when it handles a [`Refresh::Rooms`]: the next change sends another.
    pub(crate) fn handled(&self) {
        self.pending.store(false, Ordering::Release);
    }
}

/// A subscription's events as refreshes (`None`: the engine is gone). Cursor moves are
/// dropped; a lag (events dropped for a slow reader) is a refresh like any other change.
fn events(
    sub: djust_presence::Subscription,
    documents: bool,
) -> BoxStream<'static, Option<Refresh>> {
    stream::unfold(Some(sub), move |sub| async move {
        let mut sub = sub?;
        loop {
            match sub.recv().await {
                Ok(ev) => match &ev.kind {
                    EventKind::CursorMoved { .. } | EventKind::CursorRemoved { .. } => continue,
                    EventKind::Broadcast { event, .. } if documents && &**event == CREATED => {
                        return Some((Some(Refresh::Documents), Some(sub)));
                    }
                    EventKind::Broadcast { .. } => continue,
                    _ => return Some((Some(Refresh::Rooms), Some(sub))),
                },
                Err(RecvError::Lagged(_)) => {
                    let r = if documents {
                        Refresh::Documents
                    } else {
                        Refresh::Rooms
                    };
                    return Some((Some(r), Some(sub)));
                }
                Err(RecvError::Closed) => return Some((None, None)),
            }
        }
    })
    .boxed()
}
