//! Event sequence ids: the reference client numbers its `dj-*` events (`client`, `seq`) and
//! keeps each one until the server answers it with an `ack`, re-sending the unanswered ones
//! after a reconnect (an event sent over a socket that died may or may not have been handled).
//! This registry remembers, per identity and client id, the highest `seq` this process has
//! claimed, so a re-sent duplicate is acknowledged without running its handler again
//! (`docs/protocol.md`, *Event sequence ids*).
//!
//! It lives in the process's memory and is bounded ([`MAX_CLIENTS`], oldest forgotten first):
//! after a server restart, on another process, or for a client forgotten meanwhile, a re-sent
//! event is handled again (at least once). The registry is shared by every connection of the
//! process, so an old connection still reading its last frames and the new one never both run
//! the same event.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;

/// Client ids remembered per process, at most; the oldest is forgotten first.
pub(crate) const MAX_CLIENTS: usize = 65_536;

/// The longest accepted client id (longer ones are handled without deduplication).
pub(crate) const MAX_CLIENT_LEN: usize = 64;

/// The highest claimed event sequence id of each client (kept in the application state).
#[derive(Clone)]
pub(crate) struct Replays(Arc<Mutex<Inner>>);

struct Inner {
    capacity: usize,
    last: HashMap<Box<str>, u64>,
    /// Keys in the order they were first seen (for eviction).
    order: VecDeque<Box<str>>,
}

impl Default for Replays {
    fn default() -> Self {
        Self::with_capacity(MAX_CLIENTS)
    }
}

impl Replays {
    /// A registry remembering at most `capacity` clients.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self(Arc::new(Mutex::new(Inner {
            capacity: capacity.max(1),
            last: HashMap::new(),
            order: VecDeque::new(),
        })))
    }

    /// Claims event `seq` of `client` (a client id of identity `user`): true if it is newer than
    /// every event of that client claimed so far (handle it), false for a duplicate (it was
    /// handled, or is being handled, already). Events of one client arrive in order, so "newer
    /// than the highest" is "not seen yet".
    pub(crate) fn claim(&self, user: &str, client: &str, seq: u64) -> bool {
        let key: Box<str> = format!("{user}\n{client}").into();
        let mut inner = self.0.lock();
        if let Some(last) = inner.last.get_mut(&key) {
            if seq <= *last {
                return false;
            }
            *last = seq;
            return true;
        }
        if inner.last.len() >= inner.capacity
            && let Some(old) = inner.order.pop_front()
        {
            inner.last.remove(&old);
        }
        inner.order.push_back(key.clone());
        inner.last.insert(key, seq);
        true
    }
}

/// Whether `client` is usable as a client id.
pub(crate) fn valid_client(client: &str) -> bool {
    !client.is_empty() && client.len() <= MAX_CLIENT_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_claimed_once_and_older_ones_are_duplicates() {
        let r = Replays::default();
        assert!(r.claim("u1", "c1", 1));
        assert!(!r.claim("u1", "c1", 1), "the same event again");
        assert!(r.claim("u1", "c1", 2));
        assert!(!r.claim("u1", "c1", 1), "an older one");
        // Another client, or the same client id of another identity, is its own sequence.
        assert!(r.claim("u1", "c2", 1));
        assert!(r.claim("u2", "c1", 1));
        // Gaps are fine: the client numbers every event, sends only some of them here.
        assert!(r.claim("u1", "c1", 9));
        assert!(!r.claim("u1", "c1", 5));
    }

    #[test]
    fn the_oldest_client_is_forgotten_beyond_the_capacity() {
        let r = Replays::with_capacity(2);
        assert!(r.claim("u", "a", 3));
        assert!(r.claim("u", "b", 3));
        assert!(r.claim("u", "c", 3));
        // `a` was forgotten: its re-sent event is handled again (at least once).
        assert!(r.claim("u", "a", 3));
        // `c` is still known.
        assert!(!r.claim("u", "c", 3));
    }

    #[test]
    fn client_ids_are_bounded() {
        assert!(valid_client("k3f9"));
        assert!(!valid_client(""));
        assert!(!valid_client(&"x".repeat(MAX_CLIENT_LEN + 1)));
    }
}
