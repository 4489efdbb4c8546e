//! The cursor fast path: a peer's cursor move is sent as `["<dom id>", x, y]` instead of a
//! render, when the client already shows that cursor (an element with
//! `dj-cursor="{{ cursor.dom_id }}"`; see `crate::presence::dom_id`).
//!
//! Why: with U users moving at 20 Hz every peer would otherwise re-render (template, parse,
//! diff) up to once per tick just to move a dot. A render happens only when a cursor appears or
//! disappears, or anything else in the page changes. Templates without `dj-cursor` (like the
//! spec's) keep the plain path: every move re-renders, coalesced per tick.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use djust_presence::CursorAnchor;

use crate::protocol::CursorMove;

/// Keys are dom hashes already (keyed SipHash of the user id): hashing them again is waste.
#[derive(Default)]
struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type ByHash<V> = HashMap<u64, V, BuildHasherDefault<U64Hasher>>;

/// Cursors are keyed by their dom hash (see `crate::presence::dom_hash`).
#[derive(Default)]
pub(crate) struct CursorState {
    /// Cursors with a `dj-cursor` element in the client's DOM, as of the last render.
    shown: HashSet<u64, BuildHasherDefault<U64Hasher>>,
    /// Latest fast-path position of each cursor moved since the last render; `fresh` when not
    /// yet sent.
    moved: ByHash<Moved>,
    /// The cursors whose move is fresh, in the order they first moved in this tick: a tick
    /// sends these, without walking every cursor moved since the last render.
    fresh: Vec<u64>,
}

struct Moved {
    x: f64,
    y: f64,
    anchor: Option<Arc<CursorAnchor>>,
    fresh: bool,
}

impl CursorState {
    /// Records a peer's move. Returns false when the client has no element for that cursor:
    /// the caller must render instead.
    pub(crate) fn moved(
        &mut self,
        cursor: u64,
        x: f64,
        y: f64,
        anchor: Option<&Arc<CursorAnchor>>,
    ) -> bool {
        if !self.shown.contains(&cursor) {
            return false;
        }
        let anchor = anchor.cloned();
        let prev = self.moved.insert(
            cursor,
            Moved {
                x,
                y,
                anchor,
                fresh: true,
            },
        );
        if !prev.is_some_and(|p| p.fresh) {
            self.fresh.push(cursor);
        }
        true
    }

    /// Moves not yet sent (and marks them sent).
    pub(crate) fn take_fresh(&mut self) -> Vec<CursorMove> {
        let mut out = Vec::with_capacity(self.fresh.len());
        for hash in self.fresh.drain(..) {
            if let Some(m) = self.moved.get_mut(&hash) {
                m.fresh = false;
                out.push(CursorMove {
                    hash,
                    x: m.x,
                    y: m.y,
                    anchor: m.anchor.clone(),
                });
            }
        }
        out
    }

    /// A render happened; `markers` are the `dj-cursor` values of the page (parsed dom
    /// hashes). The client now shows the render *plus* positions moved on the fast path
    /// since the previous render only where the render did not touch them: returns every
    /// such move, to send with the patch so the client ends on the latest positions; then
    /// starts over.
    pub(crate) fn rendered(&mut self, markers: &[u64]) -> Vec<CursorMove> {
        self.shown.clear();
        self.shown.extend(markers.iter().copied());
        self.fresh.clear();
        self.moved
            .drain()
            .map(|(hash, m)| CursorMove {
                hash,
                x: m.x,
                y: m.y,
                anchor: m.anchor,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presence::{dom_hash, dom_id, parse_dom_id};

    fn move_of(user: &str, x: f64, y: f64) -> CursorMove {
        CursorMove {
            hash: dom_hash(user),
            x,
            y,
            anchor: None,
        }
    }

    #[test]
    fn only_shown_cursors_take_the_fast_path_and_a_render_resends_the_moved_ones() {
        let mut state = CursorState::default();
        let (alice, bob) = (dom_hash("1"), dom_hash("2"));
        assert!(!state.moved(alice, 1.0, 1.0, None), "nothing shown yet");
        assert!(state.rendered(&[alice]).is_empty());
        assert!(state.moved(alice, 5.0, 6.0, None));
        assert!(state.moved(alice, 7.0, 8.0, None));
        assert!(
            !state.moved(bob, 1.0, 1.0, None),
            "bob has no element: render"
        );
        assert_eq!(state.take_fresh(), vec![move_of("1", 7.0, 8.0)]);
        assert!(state.take_fresh().is_empty(), "sent once");
        // The next render resends alice's fast-path position: the server's tree still has 0px.
        assert_eq!(state.rendered(&[alice, bob]), vec![move_of("1", 7.0, 8.0)]);
        assert!(state.moved(bob, 3.0, 4.0, None), "bob is shown now");
        assert_eq!(state.take_fresh(), vec![move_of("2", 3.0, 4.0)]);
        // Several moves in one tick: one entry each, in first-move order, latest position.
        assert!(state.moved(alice, 9.0, 9.0, None));
        assert!(state.moved(bob, 5.0, 5.0, None));
        assert!(state.moved(alice, 10.0, 11.0, None));
        assert_eq!(
            state.take_fresh(),
            vec![move_of("1", 10.0, 11.0), move_of("2", 5.0, 5.0)]
        );
    }

    #[test]
    fn dom_id_buffer_matches_the_formatted_id() {
        for h in [0, 1, 0xdead_beef, u64::MAX, dom_hash("x")] {
            assert_eq!(
                crate::presence::DomIdBuf::new(h).as_str(),
                format!("c{h:016x}")
            );
        }
    }

    #[test]
    fn dom_ids_round_trip_and_hide_the_user_id() {
        let id = dom_id("anon_secret-session-key");
        assert!(!id.contains("secret"));
        assert_eq!(parse_dom_id(&id), Some(dom_hash("anon_secret-session-key")));
        assert_eq!(parse_dom_id("c123"), None);
        assert_eq!(parse_dom_id("x0000000000000000"), None);
    }
}
