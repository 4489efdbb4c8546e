//! The registry of live connections, so that a shutdown can close every one of them cleanly.
//!
//! Each mounted view's connection registers its [`InfoSender`] for as long as it runs (the
//! guard returned by [`LiveConnections::register`] deregisters on drop). A shutdown
//! ([`LiveConnections::disconnect_all`]) asks every registered connection to disconnect: its
//! loop then ends with `CloseReason::Server`, runs `LiveView::terminate`, untracks its
//! presence at once and sends Close 1012 "service restart" (the client reconnects without
//! delay, to another process behind a load balancer). Connections that register after the
//! shutdown began are disconnected at once; connections that have not mounted yet watch
//! [`shutdown_started`] and close with the same 1012.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::app::App;
use crate::socket::InfoSender;

/// The application's registry, kept in its state extensions (a private type, so no
/// application value can take its place).
#[derive(Debug, Clone)]
pub(crate) struct Registry(pub(crate) Arc<LiveConnections>);

/// Registers a connection of `app` until the guard drops (`None` for an `App` built without
/// a registry, as in unit tests).
pub(crate) fn register(app: &App, sender: InfoSender) -> Option<Registration<'_>> {
    app.state
        .get::<Registry>()
        .map(|registry| registry.0.register(sender))
}

/// Resolves once a shutdown of `app` began (never for an `App` without a registry).
pub(crate) async fn shutdown_started(app: &App) {
    match app.state.get::<Registry>() {
        Some(registry) => {
            let mut rx = registry.0.started.subscribe();
            // The sender lives in the registry, which `app` keeps alive.
            let _ = rx.wait_for(|started| *started).await;
        }
        None => std::future::pending().await,
    }
}

/// Whether a shutdown of `app` began (the reason text of a 1012 close depends on it).
pub(crate) fn is_shutting_down(app: &App) -> bool {
    app.state
        .get::<Registry>()
        .is_some_and(|registry| *registry.0.started.borrow())
}

/// Every live connection of one application.
#[derive(Debug)]
pub(crate) struct LiveConnections {
    inner: Mutex<Inner>,
    /// The number of registered connections, for [`LiveConnections::wait_empty`].
    count: watch::Sender<usize>,
    /// True once the shutdown began (watched by connections that have not mounted yet).
    started: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    senders: HashMap<u64, InfoSender>,
    shutting_down: bool,
}

impl Default for LiveConnections {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            count: watch::Sender::new(0),
            started: watch::Sender::new(false),
        }
    }
}

impl LiveConnections {
    /// Registers one connection until the returned guard is dropped. After
    /// [`LiveConnections::disconnect_all`], the connection is told to disconnect at once.
    pub(crate) fn register(&self, sender: InfoSender) -> Registration<'_> {
        let mut inner = self.inner.lock();
        if inner.shutting_down {
            // Its loop sees the disconnect as soon as it starts polling.
            let _ = sender.disconnect();
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.senders.insert(id, sender);
        self.count.send_replace(inner.senders.len());
        Registration { registry: self, id }
    }

    /// Tells every registered connection (and every later one) to close with 1012. Returns
    /// how many were told.
    pub(crate) fn disconnect_all(&self) -> usize {
        let mut inner = self.inner.lock();
        inner.shutting_down = true;
        self.started.send_replace(true);
        for sender in inner.senders.values() {
            // An error means its loop has already ended; it deregisters itself.
            let _ = sender.disconnect();
        }
        inner.senders.len()
    }

    /// Puts `msg` on every registered connection's info queue (dev mode's reloads,
    /// `dev/push.rs`); returns how many took it (a full queue drops it, as for any message).
    pub(crate) fn send_all<T: Clone + Send + 'static>(&self, msg: T) -> usize {
        let inner = self.inner.lock();
        inner
            .senders
            .values()
            .filter(|sender| sender.send(msg.clone()).is_ok())
            .count()
    }

    /// The number of live connections.
    pub(crate) fn len(&self) -> usize {
        *self.count.borrow()
    }

    /// Whether [`LiveConnections::disconnect_all`] was called.
    #[cfg(test)]
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.inner.lock().shutting_down
    }

    /// Resolves once no connection is registered.
    pub(crate) async fn wait_empty(&self) {
        let mut rx = self.count.subscribe();
        // `wait_for` checks the current value first; the sender lives in `self`, so it
        // cannot be closed while we borrow it.
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    fn deregister(&self, id: u64) {
        let mut inner = self.inner.lock();
        inner.senders.remove(&id);
        self.count.send_replace(inner.senders.len());
    }
}

/// A registered connection; deregisters on drop.
#[must_use = "the connection is deregistered when this guard is dropped"]
pub(crate) struct Registration<'a> {
    registry: &'a LiveConnections,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.registry.deregister(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disconnect_all_reaches_current_and_later_connections() {
        let live = LiveConnections::default();
        let (a, a_rx) = InfoSender::channel(4);
        let guard_a = live.register(a);
        assert_eq!(live.len(), 1);
        assert!(!a_rx.disconnect_requested(), "nothing before the shutdown");

        assert_eq!(live.disconnect_all(), 1);
        assert!(a_rx.disconnect_requested());
        assert!(live.is_shutting_down());
        assert!(*live.started.borrow(), "unmounted connections are told too");

        let (b, b_rx) = InfoSender::channel(4);
        let guard_b = live.register(b);
        assert!(b_rx.disconnect_requested());
        assert_eq!(live.len(), 2);
        drop(guard_a);
        drop(guard_b);
        assert_eq!(live.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_empty_resolves_when_the_last_connection_deregisters() {
        let live = std::sync::Arc::new(LiveConnections::default());
        let (a, _a_rx) = InfoSender::channel(4);
        let waiter = {
            let live = live.clone();
            tokio::spawn(async move { live.wait_empty().await })
        };
        {
            let _guard = live.register(a);
            tokio::task::yield_now().await;
            assert!(!waiter.is_finished(), "one connection is still registered");
        }
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .expect("resolves once empty")
            .expect("no panic");
    }
}
