//! One connection's shared-text fields: the documents its view declared, the updates of other
//! connections to forward, and the client's updates waiting to be acknowledged.

use std::collections::VecDeque;
use std::sync::Arc;

use djust_text::{CaretChange, CaretEvent, Document, Origin, TextUpdate};
use futures_util::future::{FutureExt, select_all};
use serde_json::Value;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, watch};

/// Unacknowledged updates kept per field; a client with more in flight gets `text_error`s
/// (the reference client has at most 16).
pub(crate) const MAX_PENDING_ACKS: usize = 256;

/// What woke the connection on the shared-text side.
#[derive(Debug)]
pub(crate) enum TextEvent {
    /// Another connection's update, to forward.
    Update { field: Arc<str>, update: Arc<[u8]> },
    /// The fan-out dropped updates for this connection: send the whole document.
    Lagged { field: Arc<str> },
    /// The client's updates with these ids are durable.
    Acks { field: Arc<str>, ids: Vec<Value> },
    /// Another connection's caret moved or left.
    Caret { field: Arc<str>, event: CaretEvent },
    /// Caret changes were dropped for this connection: send them all again.
    CaretsLagged { field: Arc<str> },
}

pub(crate) struct Field {
    pub(crate) name: Arc<str>,
    pub(crate) doc: Document,
    updates: broadcast::Receiver<TextUpdate>,
    carets: broadcast::Receiver<CaretChange>,
    saved: watch::Receiver<u64>,
    /// (generation, client id) of applied updates not yet durable, in order.
    acks: VecDeque<(u64, Value)>,
    /// The client has synced: forward other connections' updates from now on.
    synced: bool,
}

impl Field {
    /// Acks whose generation is durable, taken off the queue.
    fn ready(&mut self) -> Vec<Value> {
        let saved = *self.saved.borrow_and_update();
        let mut ids = Vec::new();
        while self.acks.front().is_some_and(|(g, _)| *g <= saved) {
            if let Some((_, id)) = self.acks.pop_front() {
                ids.push(id);
            }
        }
        ids
    }

    async fn next(&mut self, own: Origin) -> TextEvent {
        loop {
            let ready = self.ready();
            if !ready.is_empty() {
                return TextEvent::Acks {
                    field: self.name.clone(),
                    ids: ready,
                };
            }
            tokio::select! {
                got = self.updates.recv(), if self.synced => match got {
                    Ok(u) if u.origin == own => continue,
                    Ok(u) => return TextEvent::Update { field: self.name.clone(), update: u.update },
                    Err(RecvError::Lagged(_)) => return TextEvent::Lagged { field: self.name.clone() },
                    // The document outlives its subscribers; this cannot happen while we hold it.
                    Err(RecvError::Closed) => std::future::pending::<()>().await,
                },
                got = self.carets.recv(), if self.synced => match got {
                    Ok(c) if c.origin == own => continue,
                    Ok(c) => return TextEvent::Caret { field: self.name.clone(), event: c.event },
                    Err(RecvError::Lagged(_)) => return TextEvent::CaretsLagged { field: self.name.clone() },
                    Err(RecvError::Closed) => std::future::pending::<()>().await,
                },
                changed = self.saved.changed(), if !self.acks.is_empty() => {
                    if changed.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                else => std::future::pending::<()>().await,
            }
        }
    }
}

/// The shared-text side of one connection (held by its `Socket`).
pub(crate) struct TextLink {
    own: Origin,
    /// This connection's public id among carets.
    peer: Arc<str>,
    fields: Vec<Field>,
}

impl Drop for TextLink {
    /// The connection ended: its carets leave every document at once.
    fn drop(&mut self) {
        for f in &self.fields {
            f.doc.remove_caret(self.own, &self.peer);
        }
    }
}

impl TextLink {
    pub(crate) fn new(conn: u128) -> Self {
        // Half of the random connection id: unique among a document's carets, and not the id
        // the connection's own client knows itself by.
        let peer = format!("p{:016x}", (conn >> 64) as u64);
        Self {
            own: Origin::Client(conn),
            peer: peer.into(),
            fields: Vec::new(),
        }
    }

    /// This connection's public id among carets.
    pub(crate) fn peer(&self) -> Arc<str> {
        self.peer.clone()
    }

    /// This connection as an update origin.
    pub(crate) fn origin(&self) -> Origin {
        self.own
    }

    /// Declares (or re-declares) `name` as bound to `doc`.
    pub(crate) fn bind(&mut self, name: &str, doc: Document) {
        let own = self.own;
        let peer = self.peer.clone();
        self.fields.retain(|f| {
            if &*f.name == name {
                f.doc.remove_caret(own, &peer);
            }
            &*f.name != name
        });
        self.fields.push(Field {
            name: name.into(),
            updates: doc.subscribe(),
            carets: doc.subscribe_carets(),
            saved: doc.saved(),
            doc,
            acks: VecDeque::new(),
            synced: false,
        });
    }

    pub(crate) fn field(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| &*f.name == name)
    }

    /// The next event of any field; never resolves while there is none.
    pub(crate) async fn next(&mut self) -> TextEvent {
        if self.fields.is_empty() {
            return std::future::pending().await;
        }
        let own = self.own;
        let futures = self.fields.iter_mut().map(|f| f.next(own).boxed());
        select_all(futures).await.0
    }
}

impl Field {
    /// The client synced: from now on forward other connections' updates and carets. Drops
    /// what was queued before (the sync's diff and caret snapshot, taken after this, contain
    /// it).
    pub(crate) fn start_forwarding(&mut self) {
        while let Ok(_) | Err(TryRecvError::Lagged(_)) = self.updates.try_recv() {}
        while let Ok(_) | Err(TryRecvError::Lagged(_)) = self.carets.try_recv() {}
        self.synced = true;
    }

    /// Remembers an applied update to acknowledge once `generation` is durable. False when
    /// too many are waiting already.
    pub(crate) fn expect_ack(&mut self, generation: u64, id: Value) -> bool {
        if self.acks.len() >= MAX_PENDING_ACKS {
            return false;
        }
        self.acks.push_back((generation, id));
        true
    }
}
