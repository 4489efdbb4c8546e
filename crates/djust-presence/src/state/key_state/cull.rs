//! The cursor limit of a key: which cursors the listing for live views holds above
//! `cursor_limit`, and whether a move's cursor is in it.
//!
//! Why sticky: "the N most recently moved" changes on every move in a room where more users
//! move than the limit allows, and every change of the listing is a render for every viewer.
//! So a listed cursor keeps its place while it moves (within `cursor_linger` of the key's latest
//! move); a place goes to the most recent other mover only when a listed cursor stops, hides or
//! leaves.

use std::collections::HashSet;
use std::sync::Arc;

use super::KeyState;
use crate::record::Cursor;

/// How many cursors a key lists for live views, and how long a listed one keeps its place
/// ([`PresenceConfig::cursor_limit`](crate::PresenceConfig::cursor_limit) and `cursor_linger`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CursorCap {
    pub(crate) limit: usize,
    pub(crate) linger_ms: u64,
}

impl KeyState {
    /// Above the limit, keeps the listed cursors that still move and fills the free places with
    /// the most recently moved others (moves have distinct counts, so exactly `limit` remain).
    pub(super) fn cull(&self, all: &mut Vec<(Arc<str>, Cursor)>) {
        let mut listed = self.listed.borrow_mut();
        let limit = self.cap.limit;
        if all.len() <= limit {
            // Everyone is listed; remembered so that when the key goes above the limit, the
            // cursors already on the pages keep their places.
            listed.clear();
            listed.extend(all.iter().map(|(id, _)| id.clone()));
            return;
        }
        let mut chosen: HashSet<Arc<str>> = all
            .iter()
            .filter(|(id, _)| listed.contains(id) && !self.is_stale(id))
            .map(|(id, _)| id.clone())
            .collect();
        let free = limit.saturating_sub(chosen.len());
        let mut rest: Vec<(u64, &Arc<str>)> = all
            .iter()
            .filter(|(id, _)| !chosen.contains(id))
            .map(|(id, c)| (c.last_active(), id))
            .collect();
        if rest.len() > free && free > 0 {
            rest.select_nth_unstable_by(free - 1, |a, b| b.0.cmp(&a.0));
        }
        rest.truncate(free);
        chosen.extend(rest.into_iter().map(|(_, id)| id.clone()));
        all.retain(|(id, _)| chosen.contains(id));
        *listed = chosen;
    }

    /// Whether the next listing would hold `user`'s cursor (which just moved): when it is listed
    /// already, a place is free (as of the last listing), or a listed cursor stopped moving.
    pub(super) fn would_list(&self, user: &str) -> bool {
        let listed = self.listed.borrow();
        if listed.contains(user) || listed.len() < self.cap.limit {
            return true;
        }
        listed.iter().any(|id| self.is_stale(id))
    }

    /// A listed cursor may give its place: it is hidden or gone, or has not moved for
    /// `cursor_linger` before the key's latest move (with no linger: it is not the latest move).
    fn is_stale(&self, user: &str) -> bool {
        let Some(c) = self
            .users
            .get(user)
            .and_then(|u| u.cursor.as_ref())
            .filter(|c| !c.hidden)
        else {
            return true;
        };
        if self.cap.linger_ms == 0 {
            c.active < self.moves
        } else {
            c.at.saturating_add(self.cap.linger_ms) < self.last_move_at
        }
    }
}
