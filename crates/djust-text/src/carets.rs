//! Who is where in a document: each editing connection's caret and selection (Yjs relative
//! positions, opaque here), shared with the other connections of the document — the
//! "awareness" of y-protocols, kept beside the document rather than in it (carets are not
//! saved and never merged into the text).
//!
//! A caret lives as long as its connection: the runtime removes it when the connection ends.
//! Carets relayed from another process are removed when that process says so; if it dies
//! without a word they expire [`CARET_TTL`] after their last refresh (clients refresh theirs
//! every [`CARET_REFRESH`]), like y-protocols' awareness timeout.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::hub::Origin;

/// How long a caret is kept without a refresh (y-protocols' awareness uses 30 s too).
pub const CARET_TTL: Duration = Duration::from_secs(30);

/// How often a client re-sends an unchanged caret, so peers keep it past [`CARET_TTL`].
pub const CARET_REFRESH: Duration = Duration::from_secs(15);

/// At most this many carets per document; further ones are not shown (the document still
/// works).
pub const MAX_CARETS: usize = 256;

/// One connection's caret and selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caret {
    /// The connection's public id (stable for the connection, unique per document).
    pub peer: Arc<str>,
    /// The name drawn next to the caret.
    pub name: Arc<str>,
    /// The CSS colour of the caret and its selection.
    pub color: Arc<str>,
    /// Where the selection starts (where the mouse went down): an encoded Yjs relative
    /// position (`Y.encodeRelativePosition`), base64.
    pub anchor: Arc<str>,
    /// Where the caret is (the selection's moving end), likewise.
    pub head: Arc<str>,
}

/// A change of a document's carets, as fanned out.
#[derive(Debug, Clone)]
pub struct CaretChange {
    /// Where it came from (receivers skip their own).
    pub origin: Origin,
    /// What changed.
    pub event: CaretEvent,
}

/// What happened to a caret.
#[derive(Debug, Clone)]
pub enum CaretEvent {
    /// Set or moved.
    Moved(Arc<Caret>),
    /// Its connection left.
    Gone(Arc<str>),
}

/// A caret and when it was last set.
type Entry = (Arc<Caret>, Instant);

/// The carets of one document and their fan-out.
pub(crate) struct Carets {
    state: Mutex<HashMap<Arc<str>, Entry>>,
    changes: broadcast::Sender<CaretChange>,
}

impl Carets {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(HashMap::new()),
            changes: broadcast::channel(capacity.max(1)).0,
        }
    }

    /// Sets (or refreshes) `caret`; false when the document has [`MAX_CARETS`] others.
    pub(crate) fn set(&self, origin: Origin, caret: Caret) -> bool {
        let caret = Arc::new(caret);
        let now = Instant::now();
        let mut state = self.state.lock();
        if !state.contains_key(&caret.peer) {
            state.retain(|_, (_, at)| now.duration_since(*at) < CARET_TTL);
            if state.len() >= MAX_CARETS {
                return false;
            }
        }
        state.insert(caret.peer.clone(), (caret.clone(), now));
        let _ = self.changes.send(CaretChange {
            origin,
            event: CaretEvent::Moved(caret),
        });
        true
    }

    /// Removes the caret of `peer` (its connection ended); nothing if it had none.
    pub(crate) fn remove(&self, origin: Origin, peer: &str) {
        let mut state = self.state.lock();
        if state.remove(peer).is_some() {
            let _ = self.changes.send(CaretChange {
                origin,
                event: CaretEvent::Gone(peer.into()),
            });
        }
    }

    /// The carets refreshed within [`CARET_TTL`].
    pub(crate) fn snapshot(&self) -> Vec<Arc<Caret>> {
        let now = Instant::now();
        let mut state = self.state.lock();
        state.retain(|_, (_, at)| now.duration_since(*at) < CARET_TTL);
        state.values().map(|(c, _)| c.clone()).collect()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<CaretChange> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caret(peer: &str, head: &str) -> Caret {
        Caret {
            peer: peer.into(),
            name: "Ann".into(),
            color: "#f00".into(),
            anchor: head.into(),
            head: head.into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn carets_move_leave_and_expire() {
        let carets = Carets::new(16);
        let mut rx = carets.subscribe();
        assert!(carets.set(Origin::Client(1), caret("a", "x")));
        assert!(carets.set(Origin::Client(1), caret("a", "y")));
        assert!(carets.set(Origin::Remote, caret("b", "z")));
        let heads: Vec<_> = {
            let mut s = carets.snapshot();
            s.sort_by(|a, b| a.peer.cmp(&b.peer));
            s.iter().map(|c| c.head.to_string()).collect()
        };
        assert_eq!(heads, ["y", "z"]);
        carets.remove(Origin::Client(1), "a");
        carets.remove(Origin::Client(1), "a");
        let mut seen = Vec::new();
        while let Ok(c) = rx.try_recv() {
            seen.push(match c.event {
                CaretEvent::Moved(c) => format!("moved {} {}", c.peer, c.head),
                CaretEvent::Gone(p) => format!("gone {p}"),
            });
        }
        assert_eq!(seen, ["moved a x", "moved a y", "moved b z", "gone a"]);
        tokio::time::advance(CARET_TTL).await;
        assert!(carets.snapshot().is_empty(), "unrefreshed carets expire");
    }

    #[tokio::test(start_paused = true)]
    async fn the_number_of_carets_is_bounded() {
        let carets = Carets::new(4);
        for i in 0..MAX_CARETS {
            assert!(carets.set(Origin::Remote, caret(&i.to_string(), "h")));
        }
        assert!(!carets.set(Origin::Remote, caret("one more", "h")));
        assert!(
            carets.set(Origin::Remote, caret("0", "moved")),
            "a known caret still moves"
        );
        tokio::time::advance(CARET_TTL).await;
        assert!(carets.set(Origin::Remote, caret("one more", "h")));
    }
}
