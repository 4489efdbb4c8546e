//! The per-connection [`Socket`] handed to every view callback, and the [`InfoSender`] through
//! which other tasks wake a view's `handle_info`.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::ViewError;
use crate::presence::PresenceLink;
use crate::session::Identity;

/// A connection's unique id: 128 random bits, the same id the presence engine tracks the
/// connection under (a multi-process presence backend shares these ids).
pub use djust_presence::ConnId;

/// A message for a view's `handle_info`: any `Send + 'static` value, recovered by type.
pub struct Info(Box<dyn Any + Send>);

impl Info {
    /// Wraps a message.
    pub fn new<T: Any + Send>(msg: T) -> Self {
        Self(Box::new(msg))
    }

    /// True if the message is a `T`.
    pub fn is<T: Any>(&self) -> bool {
        self.0.is::<T>()
    }

    /// A reference to the message if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }

    /// The message as a `T`, or the `Info` back if it is something else (so several types
    /// can be tried in turn).
    ///
    /// # Errors
    /// Returns `self` unchanged when the message is not a `T`.
    pub fn downcast<T: Any>(self) -> Result<T, Info> {
        self.0.downcast().map(|b| *b).map_err(Info)
    }
}

impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Info(..)")
    }
}

/// The connection has ended; the message was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the live-view connection has closed")]
pub struct Disconnected;

/// Why [`InfoSender::send`] did not deliver a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The connection has ended.
    #[error("the live-view connection has closed")]
    Disconnected,
    /// The connection's info queue is full: its view is not keeping up (a slow `handle_info`,
    /// or a client that does not read). The message was dropped, nothing else changed.
    #[error(
        "the live-view connection's info queue is full ({capacity} messages, `info_queue` / \
         DJUST_INFO_QUEUE); the message was dropped: send less often, or coalesce messages"
    )]
    Full {
        /// The queue's capacity.
        capacity: usize,
    },
}

impl From<Disconnected> for SendError {
    fn from(_: Disconnected) -> Self {
        Self::Disconnected
    }
}

/// One connection's queue sizes, for monitoring and tests ([`InfoSender::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ConnStats {
    /// Messages waiting in the info queue.
    pub info_queued: usize,
    /// The info queue's capacity ([`crate::DjustConfig::info_queue`]).
    pub info_capacity: usize,
    /// Messages refused because the info queue was full, since the connection opened.
    pub info_dropped: u64,
    /// Coalescible client events held back by the rate limit (at most one per event name
    /// the view handles).
    pub held_events: usize,
}

/// What a connection's senders and its task share besides the queue.
#[derive(Debug, Default)]
struct Shared {
    /// A disconnect was asked for (never lost, however full the queue is).
    disconnect: AtomicBool,
    wake: Notify,
    info_dropped: AtomicU64,
    held_events: AtomicUsize,
}

/// A cloneable handle that sends messages to one connection's `handle_info` from any task.
///
/// Sending never blocks. Messages sent while a render is pending are drained together at the
/// end of the tick, so a burst of N messages costs one render (see `docs/runtime.md`). The
/// queue is bounded ([`crate::DjustConfig::info_queue`]): when it is full, `send` refuses the
/// message with [`SendError::Full`] rather than letting one connection grow without bound.
#[derive(Clone)]
pub struct InfoSender {
    tx: djust_queue::Sender<Info>,
    shared: Arc<Shared>,
}

/// The connection task's end of the info queue.
pub(crate) struct InfoReceiver {
    rx: djust_queue::Receiver<Info>,
    shared: Arc<Shared>,
}

impl InfoSender {
    /// A queue of `capacity` messages (at least 1).
    pub(crate) fn channel(capacity: usize) -> (Self, InfoReceiver) {
        // Slots are allocated only while messages wait (`djust-queue`): most connections'
        // mailboxes are empty most of the time.
        let (tx, rx) = djust_queue::bounded(capacity.max(1));
        let shared = Arc::new(Shared::default());
        (
            Self {
                tx,
                shared: shared.clone(),
            },
            InfoReceiver { rx, shared },
        )
    }

    /// Delivers `msg` to the view's `handle_info`.
    ///
    /// # Errors
    /// [`SendError::Disconnected`] if the connection has ended, [`SendError::Full`] if its
    /// queue is full (the message is dropped).
    pub fn send<T: Any + Send>(&self, msg: T) -> Result<(), SendError> {
        match self.tx.try_send(Info::new(msg)) {
            Ok(()) => Ok(()),
            Err(djust_queue::TrySendError::Closed(_)) => Err(SendError::Disconnected),
            Err(djust_queue::TrySendError::Full(_)) => {
                self.shared.info_dropped.fetch_add(1, Ordering::Relaxed);
                Err(SendError::Full {
                    capacity: self.tx.capacity(),
                })
            }
        }
    }

    /// Asks the connection to close (code 1012, "server closed": the client reconnects and
    /// remounts). The view's `terminate` sees [`crate::CloseReason::Server`]. Delivered even
    /// when the info queue is full.
    ///
    /// # Errors
    /// [`Disconnected`] if the connection has already ended.
    pub fn disconnect(&self) -> Result<(), Disconnected> {
        if self.tx.is_closed() {
            return Err(Disconnected);
        }
        self.shared.disconnect.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// True once the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// The connection's queue sizes right now.
    pub fn stats(&self) -> ConnStats {
        let capacity = self.tx.capacity();
        ConnStats {
            info_queued: self.tx.len(),
            info_capacity: capacity,
            info_dropped: self.shared.info_dropped.load(Ordering::Relaxed),
            held_events: self.shared.held_events.load(Ordering::Relaxed),
        }
    }
}

impl InfoReceiver {
    /// The next message (`None` once every sender is gone).
    pub(crate) async fn recv(&mut self) -> Option<Info> {
        self.rx.recv().await
    }

    /// A queued message, if any.
    pub(crate) fn try_recv(&mut self) -> Option<Info> {
        self.rx.try_recv().ok()
    }

    /// Messages waiting.
    pub(crate) fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether a disconnect was asked for.
    pub(crate) fn disconnect_requested(&self) -> bool {
        self.shared.disconnect.load(Ordering::Acquire)
    }

    /// A handle that resolves on a disconnect request (polled beside `recv`).
    pub(crate) fn stop_signal(&self) -> StopSignal {
        StopSignal(self.shared.clone())
    }

    /// Publishes the number of held events (for [`InfoSender::stats`]).
    pub(crate) fn set_held_events(&self, n: usize) {
        self.shared.held_events.store(n, Ordering::Relaxed);
    }
}

/// Resolves once the connection is asked to disconnect ([`InfoSender::disconnect`]).
pub(crate) struct StopSignal(Arc<Shared>);

impl StopSignal {
    /// Resolves once a disconnect is asked for.
    pub(crate) async fn disconnected(&self) {
        loop {
            let notified = self.0.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.0.disconnect.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

impl fmt::Debug for InfoSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InfoSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// An event pushed to the client with [`Socket::push_event`].
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PushEvent {
    pub(crate) name: String,
    pub(crate) payload: Value,
}

/// The per-connection handle given to `mount`, `get_context_data`, `handle_info`, event
/// handlers and `terminate`.
pub struct Socket {
    conn_id: ConnId,
    identity: Identity,
    connected: bool,
    info: InfoSender,
    state: Arc<http::Extensions>,
    pushed: Vec<PushEvent>,
    disconnect_requested: bool,
    presence: PresenceLink,
    /// The view's shared-text fields (`crate::text`).
    text: crate::text::TextLink,
}

impl Socket {
    pub(crate) fn new(
        identity: Identity,
        connected: bool,
        info: InfoSender,
        state: Arc<http::Extensions>,
        presence: djust_presence::Presence,
    ) -> Self {
        let conn_id = ConnId::random();
        Self {
            presence: PresenceLink::new(presence, conn_id),
            conn_id,
            identity,
            connected,
            info,
            state,
            pushed: Vec::new(),
            disconnect_requested: false,
            text: crate::text::TextLink::new(conn_id.as_u128()),
        }
    }

    /// Sends the event `name` with `payload` to this connection's client: hooks registered
    /// with `this.handleEvent(name, cb)` run, and a `djust:<name>` `CustomEvent` fires on
    /// `window`. Events pushed during a tick travel in the same frame as that tick's patch and
    /// are dispatched after the patch is applied. During the HTTP render they are discarded.
    ///
    /// # Errors
    /// [`ViewError::Serialize`] if `payload` cannot be serialized to JSON.
    pub fn push_event(
        &mut self,
        name: impl Into<String>,
        payload: impl Serialize,
    ) -> Result<(), ViewError> {
        let payload = serde_json::to_value(payload)?;
        if self.connected {
            self.pushed.push(PushEvent {
                name: name.into(),
                payload,
            });
        }
        Ok(())
    }

    /// False while rendering the page for the HTTP GET, true over the WebSocket (Phoenix's
    /// `connected?`): start timers, subscriptions and presence tracking only when true.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Who is connected.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// This connection's unique id.
    pub fn conn_id(&self) -> ConnId {
        self.conn_id
    }

    /// A handle for other tasks to send messages to this view's `handle_info`.
    pub fn info_sender(&self) -> InfoSender {
        self.info.clone()
    }

    /// Shared application state registered with [`crate::DjustBuilder::state`].
    pub fn state<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.state.get::<T>()
    }

    /// Closes this connection after the current callback returns (close code 1012: the
    /// client reconnects and remounts).
    pub fn disconnect(&mut self) {
        self.disconnect_requested = true;
    }

    /// Binds the template field `dj-shared-text="<field>"` to the shared document `key`, loaded
    /// from `store` unless this process has it open already, and returns a handle on it (its
    /// [`SharedText::text`](crate::text::SharedText::text) is the text to render inside the
    /// `<textarea>`). Call it in `mount`: during the page GET it only reads the document; over
    /// the WebSocket it also makes the connection sync the field, apply the client's edits,
    /// send it everyone else's, and save to `store` (`docs/runtime.md`, *Shared text*).
    ///
    /// # Errors
    /// [`ViewError::Other`] if the document cannot be loaded (the store failed, or its stored
    /// state is not a Yjs update), or if the view is not served by an app from
    /// [`crate::Djust::builder`].
    pub async fn shared_text(
        &mut self,
        field: &str,
        key: &str,
        store: Arc<dyn crate::text::TextStore>,
    ) -> Result<crate::text::SharedText, ViewError> {
        let hub = self.state.get::<crate::text::Hub>().ok_or_else(|| {
            ViewError::other("shared text needs an app built with Djust::builder()")
        })?;
        let doc = hub
            .0
            .open(key, store)
            .await
            .map_err(|e| ViewError::other(format!("shared text `{field}`: {e}")))?;
        if self.connected {
            crate::text::relay::ensure(self.presence.engine(), &doc);
            self.text.bind(field, doc.clone());
        }
        Ok(crate::text::SharedText::new(field, doc))
    }

    pub(crate) fn text_link(&mut self) -> &mut crate::text::TextLink {
        &mut self.text
    }

    pub(crate) fn presence_link(&self) -> &PresenceLink {
        &self.presence
    }

    pub(crate) fn take_pushed(&mut self) -> Vec<PushEvent> {
        std::mem::take(&mut self.pushed)
    }

    pub(crate) fn disconnect_requested(&self) -> bool {
        self.disconnect_requested
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("conn_id", &self.conn_id)
            .field("user_id", &self.identity.user_id())
            .field("connected", &self.connected)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_downcasts_by_type() {
        let info = Info::new(42_u32);
        assert!(info.is::<u32>());
        let info = info.downcast::<String>().unwrap_err();
        assert_eq!(info.downcast::<u32>().unwrap(), 42);
    }

    #[test]
    fn pushes_are_dropped_while_not_connected() {
        let (tx, _rx) = InfoSender::channel(8);
        let id = Identity::new(None, "k".into());
        let engine = djust_presence::Presence::new(Default::default()).unwrap();
        let mut s = Socket::new(
            id.clone(),
            false,
            tx.clone(),
            Arc::default(),
            engine.clone(),
        );
        s.push_event("x", 1).unwrap();
        assert!(s.take_pushed().is_empty());
        let mut s = Socket::new(id, true, tx, Arc::default(), engine);
        s.push_event("x", serde_json::json!({"a": 1})).unwrap();
        assert_eq!(s.take_pushed()[0].payload["a"], 1);
    }

    #[test]
    fn a_full_queue_refuses_without_growing_and_a_disconnect_still_gets_through() {
        let (tx, mut rx) = InfoSender::channel(2);
        tx.send(1_u8).unwrap();
        tx.send(2_u8).unwrap();
        assert_eq!(tx.send(3_u8), Err(SendError::Full { capacity: 2 }));
        let stats = tx.stats();
        assert_eq!((stats.info_queued, stats.info_capacity), (2, 2));
        assert_eq!(stats.info_dropped, 1);
        tx.disconnect().unwrap();
        assert!(
            rx.disconnect_requested(),
            "a full queue does not lose the disconnect"
        );
        assert_eq!(rx.try_recv().and_then(|i| i.downcast::<u8>().ok()), Some(1));
        assert_eq!(rx.len(), 1);
        drop(rx);
        assert_eq!(tx.send(4_u8), Err(SendError::Disconnected));
        assert_eq!(tx.disconnect(), Err(Disconnected));
    }
}
