//! Document creation limits: per user, and for everyone together. The global limit is what
//! bounds a flood: logins are free and a socket without a cookie is a new guest, so one
//! person can have any number of identities.
//!
//! Token buckets: `capacity` creations at once, then one more every `refill`. Time is an
//! argument, so the tests move it instead of sleeping.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Per user: 20 documents, then one every 3 s (20 a minute).
pub const PER_USER: (u32, Duration) = (20, Duration::from_secs(3));
/// Everyone together: 100 documents, then two a second (120 a minute). (A benchmark creating
/// its 50 rooms at once stays under both.)
pub const GLOBAL: (u32, Duration) = (100, Duration::from_millis(500));

/// Users whose bucket is kept; past this, full (idle) buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One token bucket per key.
#[derive(Debug)]
struct Buckets {
    capacity: u32,
    refill: Duration,
    map: HashMap<String, Bucket>,
}

impl Buckets {
    fn new((capacity, refill): (u32, Duration)) -> Self {
        Self {
            capacity,
            refill,
            map: HashMap::new(),
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> Bucket {
        let gained =
            now.saturating_duration_since(bucket.at).as_secs_f64() / self.refill.as_secs_f64();
        Bucket {
            tokens: (bucket.tokens + gained).min(f64::from(self.capacity)),
            at: now,
        }
    }

    /// `Ok` if `key` has a token now (not taken yet), else how long until it has one.
    fn check(&self, key: &str, now: Instant) -> Result<Bucket, Duration> {
        let full = Bucket {
            tokens: f64::from(self.capacity),
            at: now,
        };
        let bucket = self.map.get(key).map_or(full, |b| self.refilled(*b, now));
        if bucket.tokens >= 1.0 {
            Ok(bucket)
        } else {
            Err(self.refill.mul_f64(1.0 - bucket.tokens))
        }
    }

    fn take(&mut self, key: &str, mut bucket: Bucket) {
        bucket.tokens -= 1.0;
        if self.map.len() >= MAX_TRACKED && !self.map.contains_key(key) {
            let (capacity, refill) = (f64::from(self.capacity), self.refill.as_secs_f64());
            let at = bucket.at;
            self.map.retain(|_, b| {
                b.tokens + at.saturating_duration_since(b.at).as_secs_f64() / refill < capacity
            });
        }
        self.map.insert(key.to_owned(), bucket);
    }
}

/// Too many documents created: wait this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreateLimited {
    /// This user's limit.
    #[error(
        "you are creating documents too fast (at most {limit} a minute); try again in {}s", .retry_after.as_secs().max(1)
    )]
    User {
        /// Documents per minute.
        limit: u32,
        /// How long until one more is allowed.
        retry_after: Duration,
    },
    /// Everyone's limit.
    #[error(
        "too many documents are being created right now; try again in {}s", .retry_after.as_secs().max(1)
    )]
    Global {
        /// How long until one more is allowed.
        retry_after: Duration,
    },
}

/// The creation limits, shared by every connection (djust app state).
#[derive(Debug, Clone)]
pub struct CreationLimiter {
    inner: Arc<Mutex<(Buckets, Buckets)>>,
}

impl Default for CreationLimiter {
    fn default() -> Self {
        Self::new(PER_USER, GLOBAL)
    }
}

impl CreationLimiter {
    /// Limits of `(capacity, refill)` per user and for everyone.
    pub fn new(per_user: (u32, Duration), global: (u32, Duration)) -> Self {
        Self {
            inner: Arc::new(Mutex::new((Buckets::new(per_user), Buckets::new(global)))),
        }
    }

    /// Takes one creation for `user` at `now`, or says how long to wait. Nothing is taken
    /// when refused.
    ///
    /// # Errors
    /// [`CreateLimited`] naming the limit hit.
    pub fn try_create(&self, user: &str, now: Instant) -> Result<(), CreateLimited> {
        let mut guard = self.inner.lock();
        let (users, global) = &mut *guard;
        let per_minute = |b: &Buckets| {
            let per_sec = 1.0 / b.refill.as_secs_f64();
            // Whole documents per minute, for the message.
            (per_sec * 60.0).round() as u32
        };
        let mine = users
            .check(user, now)
            .map_err(|retry_after| CreateLimited::User {
                limit: per_minute(users),
                retry_after,
            })?;
        let all = global
            .check("", now)
            .map_err(|retry_after| CreateLimited::Global { retry_after })?;
        users.take(user, mine);
        global.take("", all);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_a_burst_then_one_per_refill() {
        let limiter =
            CreationLimiter::new((3, Duration::from_secs(10)), (100, Duration::from_secs(1)));
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.try_create("7", t0).unwrap();
        }
        let err = limiter.try_create("7", t0).unwrap_err();
        assert_eq!(
            err,
            CreateLimited::User {
                limit: 6,
                retry_after: Duration::from_secs(10)
            }
        );
        assert!(err.to_string().contains("at most 6 a minute"), "{err}");
        limiter
            .try_create("8", t0)
            .expect("another user has their own bucket");
        assert!(
            limiter
                .try_create("7", t0 + Duration::from_secs(9))
                .is_err()
        );
        limiter
            .try_create("7", t0 + Duration::from_secs(10))
            .expect("refilled");
    }

    #[test]
    fn the_global_limit_holds_across_users_and_refusals_take_nothing() {
        let limiter =
            CreationLimiter::new((5, Duration::from_secs(12)), (2, Duration::from_secs(1)));
        let t0 = Instant::now();
        limiter.try_create("a", t0).unwrap();
        limiter.try_create("b", t0).unwrap();
        assert!(matches!(
            limiter.try_create("c", t0),
            Err(CreateLimited::Global { .. })
        ));
        // c's refusal did not cost c a token: after the global refill c still has 5.
        let t1 = t0 + Duration::from_secs(2);
        limiter.try_create("c", t1).unwrap();
        limiter.try_create("c", t1).unwrap();
    }
}
