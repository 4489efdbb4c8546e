//! [`RedisObserver`]: the driver's measurements as they happen, for an application's metrics.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Receives the driver's measurements as they happen (djust records them as Prometheus metrics).
/// Every method has an empty default; they are called on the driver's task, so keep them quick.
pub trait RedisObserver: Send + Sync + 'static {
    /// The driver is connected again after it had lost Redis (not called for the first connection).
    fn reconnected(&self) {}

    /// Redis answered a command (a publish, a liveness tick, a registration) `at`: an idle process
    /// still gets one every liveness interval, so a stale time means Redis stopped answering.
    fn round_trip(&self, at: SystemTime) {
        let _ = at;
    }

    /// One of this process's own messages came back through the channel `lag` after the driver
    /// started publishing it: the publish-to-receive lag every other process sees too (plus the network
    /// between it and Redis), measured on this process's clock alone.
    fn lag(&self, lag: Duration) {
        let _ = lag;
    }
}

/// The optional observer of a driver.
#[derive(Clone, Default)]
pub(crate) struct Observer(Option<Arc<dyn RedisObserver>>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer(Some)"
        } else {
            "Observer(None)"
        })
    }
}

impl Observer {
    pub(crate) fn new(observer: Arc<dyn RedisObserver>) -> Self {
        Self(Some(observer))
    }

    pub(crate) fn reconnected(&self) {
        if let Some(o) = &self.0 {
            o.reconnected();
        }
    }

    pub(crate) fn round_trip(&self, at: SystemTime) {
        if let Some(o) = &self.0 {
            o.round_trip(at);
        }
    }

    pub(crate) fn lag(&self, lag: Duration) {
        if let Some(o) = &self.0 {
            o.lag(lag);
        }
    }
}
