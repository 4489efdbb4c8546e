//! Who is where in a document: each editing connection's caret and selection (Yjs relative
//! positions, opaque here), shared with the other connections of the document — the
//! "awareness" of y-protocols, kept beside the document rather than in it (carets are not
//! saved and never merged into the text).
//!
//! Each caret records where it came from: set by a client of this process (its *own* carets,
//! [`Carets::own`]), or relayed from another process, named by its node id. A caret lives as
//! long as its connection: the runtime removes it when the connection ends. A relayed caret is
//! removed when its process says so — a single removal ([`CaretEvent::Gone`]), or a *sync*,
//! the full set of that process's carets, which it re-sends periodically like y-protocols
//! re-broadcasts its awareness state ([`Carets::sync_relayed`]): a removal lost on the way is
//! made good by the next sync. A caret that came in a sync and is no longer refreshed by them
//! (its process closed the document or died, or the link to it is down) is removed by
//! [`Carets::drop_stale_relayed`]. Any other caret unrefreshed for [`CARET_TTL`] expires
//! (clients refresh theirs every [`CARET_REFRESH`]), like y-protocols' awareness timeout.

use std::collections::{HashMap, HashSet};
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

/// Where a caret came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A client of this process.
    Local,
    /// Another process: its node id (`None`: not named, as with [`Carets::set`] and
    /// [`Origin::Remote`]), and whether one of its syncs carried the caret (it then keeps
    /// the caret alive by syncing).
    Relayed {
        node: Option<Arc<str>>,
        synced: bool,
    },
}

impl Source {
    fn is_from(&self, node: &str) -> bool {
        matches!(self, Source::Relayed { node: Some(n), .. } if &**n == node)
    }
}

/// A caret, when it was last set or refreshed, and where it came from.
struct Entry {
    caret: Arc<Caret>,
    at: Instant,
    from: Source,
}

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

    /// Sets (or refreshes) `caret`; false when the document has [`MAX_CARETS`] others. With
    /// [`Origin::Remote`] it counts as relayed from an unnamed process, else as set here.
    pub(crate) fn set(&self, origin: Origin, caret: Caret) -> bool {
        let from = match origin {
            Origin::Remote => Source::Relayed {
                node: None,
                synced: false,
            },
            Origin::Client(_) | Origin::Store => Source::Local,
        };
        let mut state = self.state.lock();
        self.insert(&mut state, origin, Arc::new(caret), from, Instant::now())
    }

    /// Sets (or moves) `caret` as relayed from the process `node` ([`Origin::Remote`]).
    pub(crate) fn set_relayed(&self, node: &str, caret: Caret) -> bool {
        let mut state = self.state.lock();
        let synced = state.get(&caret.peer).is_some_and(|e| {
            e.from.is_from(node) && matches!(e.from, Source::Relayed { synced: true, .. })
        });
        let from = Source::Relayed {
            node: Some(node.into()),
            synced,
        };
        self.insert(
            &mut state,
            Origin::Remote,
            Arc::new(caret),
            from,
            Instant::now(),
        )
    }

    /// Stores `caret` and fans it out (under the lock, so every receiver sees one order).
    fn insert(
        &self,
        state: &mut HashMap<Arc<str>, Entry>,
        origin: Origin,
        caret: Arc<Caret>,
        from: Source,
        now: Instant,
    ) -> bool {
        if !state.contains_key(&caret.peer) {
            state.retain(|_, e| now.duration_since(e.at) < CARET_TTL);
            if state.len() >= MAX_CARETS {
                return false;
            }
        }
        let entry = Entry {
            caret: caret.clone(),
            at: now,
            from,
        };
        state.insert(caret.peer.clone(), entry);
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
            self.gone(origin, peer.into());
        }
    }

    fn gone(&self, origin: Origin, peer: Arc<str>) {
        let _ = self.changes.send(CaretChange {
            origin,
            event: CaretEvent::Gone(peer),
        });
    }

    /// `node`'s carets are now `carets`, all of them: removes each caret relayed from `node`
    /// that is not among them and sets the others ([`Origin::Remote`]). A caret equal to the one
    /// held is only refreshed, not fanned out again (a sync comes every few seconds; the
    /// clients refresh their timers with the carets' own refreshes). A caret set here is never
    /// touched by a sync.
    pub(crate) fn sync_relayed(&self, node: &str, carets: Vec<Caret>) {
        let now = Instant::now();
        let mut state = self.state.lock();
        let listed: HashSet<&str> = carets.iter().map(|c| &*c.peer).collect();
        let missing: Vec<Arc<str>> = state
            .iter()
            .filter(|(peer, e)| e.from.is_from(node) && !listed.contains(&***peer))
            .map(|(peer, _)| peer.clone())
            .collect();
        for peer in missing {
            state.remove(&peer);
            self.gone(Origin::Remote, peer);
        }
        let node: Arc<str> = node.into();
        let from = Source::Relayed {
            node: Some(node),
            synced: true,
        };
        for caret in carets {
            match state.get_mut(&caret.peer) {
                Some(e) if e.from == Source::Local => {}
                // Held and still fresh on the clients (they expire it after CARET_TTL too).
                Some(e) if *e.caret == caret && now.duration_since(e.at) < CARET_TTL => {
                    e.at = now;
                    e.from = from.clone();
                }
                _ => {
                    self.insert(
                        &mut state,
                        Origin::Remote,
                        Arc::new(caret),
                        from.clone(),
                        now,
                    );
                }
            }
        }
    }

    /// Removes ([`Origin::Remote`]) every caret that came in a sync and was not refreshed for
    /// `max_age`: its process stopped syncing (it closed the document or died, or the link to
    /// it is down; its next sync brings the caret back).
    pub(crate) fn drop_stale_relayed(&self, max_age: Duration) {
        let now = Instant::now();
        let mut state = self.state.lock();
        let stale: Vec<Arc<str>> = state
            .iter()
            .filter(|(_, e)| {
                matches!(e.from, Source::Relayed { synced: true, .. })
                    && now.duration_since(e.at) >= max_age
            })
            .map(|(peer, _)| peer.clone())
            .collect();
        for peer in stale {
            state.remove(&peer);
            self.gone(Origin::Remote, peer);
        }
    }

    /// The carets refreshed within [`CARET_TTL`].
    pub(crate) fn snapshot(&self) -> Vec<Arc<Caret>> {
        self.fresh(|_| true)
    }

    /// The carets set by this process's clients, refreshed within [`CARET_TTL`].
    pub(crate) fn own(&self) -> Vec<Arc<Caret>> {
        self.fresh(|from| *from == Source::Local)
    }

    fn fresh(&self, pick: impl Fn(&Source) -> bool) -> Vec<Arc<Caret>> {
        let now = Instant::now();
        let mut state = self.state.lock();
        state.retain(|_, e| now.duration_since(e.at) < CARET_TTL);
        state
            .values()
            .filter(|e| pick(&e.from))
            .map(|e| e.caret.clone())
            .collect()
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

    /// What `rx` got since last asked, as "moved <peer> <head>" / "gone <peer>".
    fn events(rx: &mut broadcast::Receiver<CaretChange>) -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(c) = rx.try_recv() {
            assert_eq!(c.origin, Origin::Remote, "{c:?}");
            seen.push(match c.event {
                CaretEvent::Moved(c) => format!("moved {} {}", c.peer, c.head),
                CaretEvent::Gone(p) => format!("gone {p}"),
            });
        }
        seen
    }

    fn peers(carets: Vec<Arc<Caret>>) -> Vec<String> {
        let mut peers: Vec<_> = carets.iter().map(|c| c.peer.to_string()).collect();
        peers.sort();
        peers
    }

    #[tokio::test(start_paused = true)]
    async fn a_sync_removes_the_nodes_missing_carets_and_nothing_else() {
        let carets = Carets::new(16);
        assert!(carets.set(Origin::Client(1), caret("mine", "m")));
        assert!(carets.set_relayed("n1", caret("a", "x")));
        assert!(carets.set_relayed("n1", caret("b", "x")));
        assert!(carets.set_relayed("n2", caret("c", "x")));
        assert!(carets.set(Origin::Remote, caret("unnamed", "x")));
        let mut rx = carets.subscribe();
        // n1 has only `a` now (unchanged), and says nothing of the others' carets.
        carets.sync_relayed("n1", vec![caret("a", "x"), caret("mine", "stolen")]);
        assert_eq!(events(&mut rx), ["gone b"]);
        assert_eq!(
            peers(carets.snapshot()),
            ["a", "c", "mine", "unnamed"],
            "other nodes' and local carets stay"
        );
        assert_eq!(peers(carets.own()), ["mine"]);
        assert_eq!(
            carets.own()[0].head.as_ref(),
            "m",
            "a sync never sets a local caret"
        );
        // A sync of nothing removes the rest of n1's; a new or moved caret is fanned out.
        carets.sync_relayed("n2", vec![caret("c", "moved"), caret("d", "new")]);
        carets.sync_relayed("n1", Vec::new());
        assert_eq!(events(&mut rx), ["moved c moved", "moved d new", "gone a"]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unchanged_caret_in_a_sync_is_refreshed_without_a_fan_out() {
        let carets = Carets::new(16);
        assert!(carets.set_relayed("n1", caret("a", "x")));
        let mut rx = carets.subscribe();
        tokio::time::advance(CARET_TTL - Duration::from_secs(1)).await;
        carets.sync_relayed("n1", vec![caret("a", "x")]);
        assert!(events(&mut rx).is_empty(), "no frame per caret per sync");
        tokio::time::advance(CARET_TTL - Duration::from_secs(1)).await;
        assert_eq!(peers(carets.snapshot()), ["a"], "the sync refreshed it");
        // Unrefreshed past the TTL, the clients have dropped it: the next sync shows it again.
        tokio::time::advance(CARET_TTL).await;
        carets.sync_relayed("n1", vec![caret("a", "x")]);
        assert_eq!(events(&mut rx), ["moved a x"]);
    }

    #[tokio::test(start_paused = true)]
    async fn carets_no_longer_synced_are_dropped_with_a_fan_out() {
        let carets = Carets::new(16);
        assert!(carets.set(Origin::Client(1), caret("mine", "m")));
        assert!(carets.set_relayed("n1", caret("a", "x")));
        carets.sync_relayed("n1", vec![caret("a", "x")]);
        // Moved after the sync: still kept alive by the node's syncs.
        assert!(carets.set_relayed("n1", caret("a", "y")));
        // From a node that never synced (an older version): left to CARET_TTL.
        assert!(carets.set_relayed("old", caret("o", "x")));
        let mut rx = carets.subscribe();
        let max_age = Duration::from_secs(10);
        tokio::time::advance(max_age - Duration::from_secs(1)).await;
        carets.drop_stale_relayed(max_age);
        assert!(events(&mut rx).is_empty());
        tokio::time::advance(Duration::from_secs(1)).await;
        carets.drop_stale_relayed(max_age);
        assert_eq!(events(&mut rx), ["gone a"]);
        assert_eq!(peers(carets.snapshot()), ["mine", "o"]);
    }
}
