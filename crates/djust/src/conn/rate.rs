//! Per-connection event rate limit: a token bucket, plus a "latest wins" holding area for
//! coalescible events (cursor moves) so the final position always arrives.
//!
//! Pure: time is passed in, so the tests need no clock.

use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;
use tokio::time::Instant;

/// A classic token bucket: `capacity` tokens, refilled at `per_sec`, one token per event.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(per_sec: u32, burst: u32, now: Instant) -> Self {
        Self {
            capacity: f64::from(burst),
            per_sec: f64::from(per_sec),
            tokens: f64::from(burst),
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.last = now;
    }

    /// Takes one token if available.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token will be available (`now` if one already is).
    pub(crate) fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 {
            return now;
        }
        let wait = (1.0 - self.tokens) / self.per_sec;
        // Round up to whole microseconds so the token is really there when we wake.
        now + Duration::from_micros((wait * 1e6).ceil() as u64)
    }
}

/// A rate-limited coalescible event waiting for a token.
#[derive(Debug)]
pub(crate) struct HeldEvent {
    pub(crate) reference: Option<Value>,
    pub(crate) payload: Value,
}

/// Coalescible events held back by the rate limit: one per event name, the latest wins.
#[derive(Debug, Default)]
pub(crate) struct HeldEvents {
    by_name: IndexMap<String, HeldEvent>,
}

impl HeldEvents {
    /// Holds `event`, replacing an older held event of the same name.
    pub(crate) fn hold(&mut self, name: String, event: HeldEvent) {
        // Re-inserting moves the name to the end, so delivery follows arrival order.
        self.by_name.shift_remove(&name);
        self.by_name.insert(name, event);
    }

    /// Forgets the held event of `name`: a newer one of that name was just delivered.
    pub(crate) fn superseded(&mut self, name: &str) {
        self.by_name.shift_remove(name);
    }

    /// The oldest held event.
    pub(crate) fn pop_front(&mut self) -> Option<(String, HeldEvent)> {
        self.by_name.shift_remove_index(0)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The number of held events (one per name at most).
    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bucket_allows_burst_then_refills_at_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, 3, t0);
        assert!(b.try_take(t0) && b.try_take(t0) && b.try_take(t0));
        assert!(!b.try_take(t0));
        let ready = b.ready_at(t0);
        assert_eq!(ready - t0, Duration::from_millis(100));
        assert!(!b.try_take(t0 + Duration::from_millis(99)));
        assert!(b.try_take(t0 + Duration::from_millis(100)));
        // A long pause refills only up to the burst size.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(
            (0..10).filter(|_| b.try_take(later)).count(),
            3,
            "refill is capped at the burst"
        );
    }

    #[test]
    fn held_events_keep_only_the_latest_per_name() {
        let mut h = HeldEvents::default();
        let ev = |x: i64| HeldEvent {
            reference: None,
            payload: json!({ "x": x }),
        };
        h.hold("cursor_move".into(), ev(1));
        h.hold("other".into(), ev(9));
        h.hold("cursor_move".into(), ev(2));
        let (name, first) = h.pop_front().unwrap();
        assert_eq!(
            (name.as_str(), first.payload["x"].as_i64()),
            ("other", Some(9))
        );
        let (name, second) = h.pop_front().unwrap();
        assert_eq!(
            (name.as_str(), second.payload["x"].as_i64()),
            ("cursor_move", Some(2))
        );
        assert!(h.is_empty());
        h.hold("a".into(), ev(1));
        h.superseded("a");
        assert!(h.is_empty());
    }
}
