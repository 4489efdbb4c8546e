//! [`LazySleep`]: a timer whose `Sleep` exists only once it was first set.
//!
//! Why: a tokio `Sleep` is a 112-byte allocation of its own when boxed; a connection's rate
//! timer is only ever armed when the client goes over its event rate, so most connections
//! never need one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

/// A deadline that is pending forever until [`LazySleep::reset`] first sets it.
#[derive(Debug, Default)]
pub(crate) struct LazySleep(Option<Pin<Box<Sleep>>>);

impl LazySleep {
    /// (Re)arms the timer for `at`, creating it on first use.
    pub(crate) fn reset(&mut self, at: Instant) {
        match &mut self.0 {
            Some(sleep) => sleep.as_mut().reset(at),
            None => self.0 = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }
}

impl Future for LazySleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.0 {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn it_waits_forever_until_set_then_like_a_sleep() {
        let mut timer = LazySleep::default();
        let never = tokio::time::timeout(Duration::from_secs(3600), &mut timer).await;
        assert!(never.is_err(), "an unset timer never fires");
        let start = Instant::now();
        timer.reset(start + Duration::from_millis(250));
        (&mut timer).await;
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        // Reset again after it fired: it fires at the new deadline.
        timer.reset(Instant::now() + Duration::from_secs(2));
        (&mut timer).await;
        assert_eq!(start.elapsed(), Duration::from_millis(2250));
    }
}
