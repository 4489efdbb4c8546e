//! Reconnection delays: doubling from a minimum to a cap, with jitter so that many processes losing the
//! same Redis do not all knock on it at the same instant when it comes back.

use std::time::Duration;

use rand::Rng;

/// The delays between reconnection attempts.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// The next delay: uniformly between half and all of `min · 2^attempt`, capped at `max`.
    pub(crate) fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self
            .min
            .saturating_mul(2u32.saturating_pow(self.attempt))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let floor = ceiling / 2;
        floor + (ceiling - floor).mul_f64(rng.random::<f64>())
    }

    /// Starts again from the minimum (after a successful connection).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn delays_double_then_stay_under_the_cap_with_jitter() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let d: Vec<Duration> = (0..8).map(|_| b.next_delay(&mut rng)).collect();
        let ms = |d: Duration| d.as_millis();
        assert!((50..=100).contains(&ms(d[0])), "{d:?}");
        assert!((100..=200).contains(&ms(d[1])), "{d:?}");
        assert!((200..=400).contains(&ms(d[2])), "{d:?}");
        for later in &d[4..] {
            assert!((500..=1000).contains(&ms(*later)), "{d:?}");
        }
        let distinct: std::collections::HashSet<_> = d[4..].iter().collect();
        assert!(distinct.len() > 1, "jittered: {d:?}");
        b.reset();
        assert!(b.next_delay(&mut rng) <= Duration::from_millis(100));
    }

    #[test]
    fn many_attempts_never_overflow() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        for _ in 0..200 {
            assert!(b.next_delay(&mut rng) <= Duration::from_secs(5));
        }
    }
}
