//! The documents of one process: opened once per key and shared by every connection editing
//! them, with in-process fan-out, saves with a bounded delay and a durable watermark.
//!
//! Saving: the first update applied to a clean document starts a save cycle (a task) that waits
//! `save_delay`, then saves everything applied so far — merged with what the store holds, so
//! several processes sharing a store never overwrite each other — and repeats while updates
//! keep coming. So an update is saved at most `save_delay` plus one save after it was applied,
//! and a burst of typing costs one save per `save_delay`, not one per keystroke. The cycle owns
//! the document while anything is unsaved: a document no connection holds any more is still
//! saved before it is dropped. A failing store is retried with backoff (up to 5 s apart).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, broadcast, watch};

use crate::carets::{Caret, CaretChange, Carets};
use crate::doc::{SharedDoc, TextLimits};
use crate::error::TextError;
use crate::store::{Loaded, StoredText, TextStore};

/// Settings of a [`TextHub`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextConfig {
    /// Size limits of each document.
    pub limits: TextLimits,
    /// How long an applied update waits before its save starts (default 100 ms): the bound on
    /// how much typing a crash can take with it beyond what was acknowledged — nothing, since
    /// acknowledgements wait for the save — and the rate of writes under continuous typing.
    pub save_delay: Duration,
    /// Updates (and, apart, caret changes) buffered per document for the in-process fan-out
    /// (default 64); a receiver that falls further behind is told it lagged and re-syncs with
    /// the whole document, which it merges (carets: all of them again), so a lag costs bytes,
    /// never text. The buffers are allocated in full per open document (a Tokio broadcast
    /// channel, ~80 bytes a slot): with 1024 they were 164 KB per document, 16 KiB per
    /// connection in rooms of 10 (heaptrack, `idle`); with 64, 10 KB per document. 64 holds a
    /// burst of 20 users typing for over half a second between two turns of a connection's loop.
    pub fanout_capacity: usize,
    /// Caret changes buffered per document (default 16), apart from the updates: a receiver
    /// that falls further behind gets every caret of the document again, so a lag costs one
    /// frame, and only the latest caret of each user matters anyway. Smaller than
    /// `fanout_capacity` because the slots are allocated in full per open document.
    pub caret_fanout_capacity: usize,
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            limits: TextLimits::default(),
            save_delay: Duration::from_millis(100),
            fanout_capacity: 64,
            caret_fanout_capacity: 16,
        }
    }
}

/// Who an update came from, so that receivers can skip their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A client connection of this process (its connection id).
    Client(u128),
    /// Another process (relayed, e.g. through the presence backend).
    Remote,
    /// The store: another process's save, merged in before a save of ours.
    Store,
}

/// An update applied to a [`Document`], as fanned out to its subscribers.
#[derive(Debug, Clone)]
pub struct TextUpdate {
    /// Where it came from.
    pub origin: Origin,
    /// The update (Yjs v1).
    pub update: Arc<[u8]>,
}

/// The documents of one process, by key. Cheap to clone.
#[derive(Clone)]
pub struct TextHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    config: TextConfig,
    docs: tokio::sync::Mutex<HashMap<String, Weak<DocInner>>>,
}

impl std::fmt::Debug for TextHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextHub")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl TextHub {
    /// A hub with these settings.
    pub fn new(config: TextConfig) -> Self {
        Self {
            inner: Arc::new(HubInner {
                config,
                docs: tokio::sync::Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The hub's settings.
    pub fn config(&self) -> TextConfig {
        self.inner.config
    }

    /// The document `key`: the open one if a connection of this process holds it, else loaded
    /// from `store` (an empty document if the store has none).
    ///
    /// # Errors
    /// [`TextError::Store`] if loading fails, [`TextError::BadStoredState`] if the stored state
    /// is not a Yjs update.
    pub async fn open(&self, key: &str, store: Arc<dyn TextStore>) -> Result<Document, TextError> {
        let mut docs = self.inner.docs.lock().await;
        if let Some(doc) = docs.get(key).and_then(Weak::upgrade) {
            return Ok(Document(doc));
        }
        let limits = self.inner.config.limits;
        let shared = match store.load(key).await? {
            None => SharedDoc::new(limits),
            Some(Loaded::Text(text)) => SharedDoc::from_text(&text, limits),
            Some(Loaded::State(state)) => {
                SharedDoc::from_state(&state, limits).map_err(|e| TextError::BadStoredState {
                    key: key.to_owned(),
                    reason: e.to_string(),
                })?
            }
        };
        let (updates, _) = broadcast::channel(self.inner.config.fanout_capacity.max(1));
        let inner = Arc::new(DocInner {
            key: key.into(),
            store,
            save_delay: self.inner.config.save_delay,
            state: Mutex::new(DocState {
                doc: shared,
                generation: 0,
                cycle: false,
            }),
            saved: watch::channel(0).0,
            flush_now: Notify::new(),
            updates,
            relayed: AtomicBool::new(false),
            carets: Carets::new(self.inner.config.caret_fanout_capacity),
        });
        docs.retain(|_, weak| weak.strong_count() > 0);
        docs.insert(key.to_owned(), Arc::downgrade(&inner));
        Ok(Document(inner))
    }

    /// Saves every open document that has unsaved updates, now (shutdown), waiting at most
    /// `timeout` in all. Returns the documents that could not be saved in time, with why.
    pub async fn flush_all(&self, timeout: Duration) -> Vec<(String, TextError)> {
        let open: Vec<Document> = {
            let docs = self.inner.docs.lock().await;
            docs.values()
                .filter_map(Weak::upgrade)
                .map(Document)
                .collect()
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut failed = Vec::new();
        for doc in open {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if let Err(e) = doc.flush(left).await {
                failed.push((doc.key().to_owned(), e));
            }
        }
        failed
    }
}

struct DocInner {
    key: Arc<str>,
    store: Arc<dyn TextStore>,
    save_delay: Duration,
    state: Mutex<DocState>,
    /// The last generation known durable.
    saved: watch::Sender<u64>,
    /// Cuts the save delay short (flush).
    flush_now: Notify,
    updates: broadcast::Sender<TextUpdate>,
    /// Set by the first [`Document::claim_relay`].
    relayed: AtomicBool,
    /// Who is where (not saved).
    carets: Carets,
}

struct DocState {
    doc: SharedDoc,
    /// Counts applied updates; the save watermark compares against it.
    generation: u64,
    /// A save cycle is scheduled or running.
    cycle: bool,
}

/// One open shared document. Cheap to clone; the document stays open while a clone lives (or
/// while it has unsaved updates).
#[derive(Clone)]
pub struct Document(Arc<DocInner>);

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("key", &self.0.key)
            .finish_non_exhaustive()
    }
}

impl Document {
    /// The document's key.
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// The current text.
    pub fn text(&self) -> String {
        self.0.state.lock().doc.text()
    }

    /// The server's state vector (v1).
    pub fn state_vector(&self) -> Vec<u8> {
        self.0.state.lock().doc.state_vector()
    }

    /// What a peer with `state_vector` is missing (v1).
    ///
    /// # Errors
    /// [`TextError::BadStateVector`].
    pub fn diff(&self, state_vector: &[u8]) -> Result<Vec<u8>, TextError> {
        self.0.state.lock().doc.diff(state_vector)
    }

    /// Applies an update, fans it out to every subscriber and schedules its save. Returns the
    /// generation to wait for with [`Document::saved`] before acknowledging it.
    ///
    /// # Errors
    /// See [`SharedDoc::apply`]; the document is then unchanged and nothing is fanned out.
    pub fn apply(&self, update: &[u8], origin: Origin) -> Result<u64, TextError> {
        let mut state = self.0.state.lock();
        state.doc.apply(update)?;
        state.generation += 1;
        let generation = state.generation;
        // Sent under the lock, so every subscriber sees updates in the order they were applied.
        let _ = self.0.updates.send(TextUpdate {
            origin,
            update: update.into(),
        });
        if !state.cycle {
            state.cycle = true;
            tokio::spawn(save_cycle(self.0.clone()));
        }
        Ok(generation)
    }

    /// The updates applied from now on (from any origin; skip your own).
    pub fn subscribe(&self) -> broadcast::Receiver<TextUpdate> {
        self.0.updates.subscribe()
    }

    /// Sets or moves the caret of `caret.peer` and tells the other subscribers of
    /// [`Document::carets`]. False (nothing changed) when the document has
    /// [`MAX_CARETS`](crate::MAX_CARETS) carets already.
    pub fn set_caret(&self, origin: Origin, caret: Caret) -> bool {
        self.0.carets.set(origin, caret)
    }

    /// Removes the caret of `peer` (its connection ended), telling the subscribers.
    pub fn remove_caret(&self, origin: Origin, peer: &str) {
        self.0.carets.remove(origin, peer);
    }

    /// The carets now (each refreshed within [`CARET_TTL`](crate::CARET_TTL)).
    pub fn carets(&self) -> Vec<Arc<Caret>> {
        self.0.carets.snapshot()
    }

    /// Sets or moves a caret relayed from the process `node` ([`Origin::Remote`]), as
    /// [`Document::set_caret`] does.
    pub fn set_relayed_caret(&self, node: &str, caret: Caret) -> bool {
        self.0.carets.set_relayed(node, caret)
    }

    /// The carets set by this process's clients (each refreshed within
    /// [`CARET_TTL`](crate::CARET_TTL)): what a relay re-sends to the other processes.
    pub fn own_carets(&self) -> Vec<Arc<Caret>> {
        self.0.carets.own()
    }

    /// The process `node` has exactly `carets` now: removes each caret relayed from it that is
    /// not among them and sets the others, fanning out what changed ([`Origin::Remote`]); an
    /// unchanged caret is only refreshed. Carets set here or relayed from other processes are
    /// left alone.
    pub fn sync_relayed_carets(&self, node: &str, carets: Vec<Caret>) {
        self.0.carets.sync_relayed(node, carets);
    }

    /// Removes, fanning it out ([`Origin::Remote`]), every relayed caret that came in a
    /// [`Document::sync_relayed_carets`] and was not refreshed for `max_age`: its process
    /// stopped re-sending its carets (it closed the document or died, or the link is down).
    pub fn drop_stale_relayed_carets(&self, max_age: Duration) {
        self.0.carets.drop_stale_relayed(max_age);
    }

    /// The caret changes from now on (from any origin; skip your own).
    pub fn subscribe_carets(&self) -> broadcast::Receiver<CaretChange> {
        self.0.carets.subscribe()
    }

    /// The durable watermark: every update whose generation is at most this value is saved.
    pub fn saved(&self) -> watch::Receiver<u64> {
        self.0.saved.subscribe()
    }

    /// Merges the stored state (what other processes saved) into this document and fans out
    /// what it brought. Returns whether anything changed. A runtime calls it periodically to
    /// heal what a broken relay between processes dropped.
    ///
    /// If the store lacks something this document has, a save starts too: two processes
    /// saving at the same moment (each loads, merges and writes) can overwrite each other's
    /// write, and without this the lost part would reach the store — and through it the other
    /// process, while the relay is down — only with the next edit here.
    ///
    /// # Errors
    /// [`TextError::Store`] if loading fails; [`TextError::BadUpdate`] if the stored state is
    /// not a Yjs update (the document is unchanged).
    pub async fn refresh(&self) -> Result<bool, TextError> {
        let Some(Loaded::State(stored)) = self.0.store.load(&self.0.key).await? else {
            return Ok(false);
        };
        let mut state = self.0.state.lock();
        let delta = state.doc.merge(&stored)?;
        if !state.cycle && state.doc.is_ahead_of(&stored)? {
            state.cycle = true;
            tokio::spawn(save_cycle(self.0.clone()));
        }
        if delta.is_empty() {
            return Ok(false);
        }
        let _ = self.0.updates.send(TextUpdate {
            origin: Origin::Store,
            update: delta.into(),
        });
        Ok(true)
    }

    /// True for the first caller only: lets a runtime start one relay (to other processes)
    /// per open document.
    pub fn claim_relay(&self) -> bool {
        !self.0.relayed.swap(true, Ordering::SeqCst)
    }

    /// A handle that does not keep the document open.
    pub fn downgrade(&self) -> WeakDocument {
        WeakDocument(Arc::downgrade(&self.0))
    }

    /// The generation of the last applied update.
    pub fn generation(&self) -> u64 {
        self.0.state.lock().generation
    }

    /// Saves now what is unsaved and waits for it, at most `timeout`.
    ///
    /// # Errors
    /// [`TextError::Store`] if the save did not complete in time.
    pub async fn flush(&self, timeout: Duration) -> Result<(), TextError> {
        let target = self.generation();
        let mut saved = self.saved();
        if *saved.borrow() >= target {
            return Ok(());
        }
        self.0.flush_now.notify_one();
        let wait = saved.wait_for(|&g| g >= target);
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(TextError::Store(crate::StoreError::new(format!(
                "document `{}` was not saved within {timeout:?}; its last updates may be lost",
                self.key()
            )))),
        }
    }
}

/// A [`Document`] that may have been closed ([`Document::downgrade`]).
#[derive(Clone)]
pub struct WeakDocument(Weak<DocInner>);

impl std::fmt::Debug for WeakDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakDocument").finish_non_exhaustive()
    }
}

impl WeakDocument {
    /// The document, if it is still open.
    pub fn upgrade(&self) -> Option<Document> {
        self.0.upgrade().map(Document)
    }
}

const MAX_RETRY: Duration = Duration::from_secs(5);

/// Saves until nothing is unsaved; owns the document meanwhile (see the module docs).
async fn save_cycle(doc: Arc<DocInner>) {
    let mut retry = doc.save_delay.max(Duration::from_millis(50));
    loop {
        tokio::select! {
            () = tokio::time::sleep(doc.save_delay) => {}
            () = doc.flush_now.notified() => {}
        }
        let generation = match save_once(&doc).await {
            Ok(generation) => {
                doc.saved.send_replace(generation);
                retry = doc.save_delay.max(Duration::from_millis(50));
                generation
            }
            Err(e) => {
                tracing::warn!(key = %doc.key.escape_debug(), error = %e, "djust-text: save failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(retry) => {}
                    () = doc.flush_now.notified() => {}
                }
                retry = (retry * 2).min(MAX_RETRY);
                continue;
            }
        };
        let mut state = doc.state.lock();
        if state.generation == generation {
            state.cycle = false;
            return;
        }
    }
}

/// One save: merge the stored state in (fanning out what it brought), then write ours.
async fn save_once(doc: &DocInner) -> Result<u64, TextError> {
    if let Some(Loaded::State(stored)) = doc.store.load(&doc.key).await? {
        let mut state = doc.state.lock();
        match state.doc.merge(&stored) {
            Ok(delta) if !delta.is_empty() => {
                let _ = doc.updates.send(TextUpdate {
                    origin: Origin::Store,
                    update: delta.into(),
                });
            }
            Ok(_) => {}
            Err(e) => {
                // Ours is good: overwrite the unreadable stored state with it.
                tracing::warn!(key = %doc.key.escape_debug(), error = %e, "djust-text: stored state unreadable; replacing it");
            }
        }
    }
    let (generation, stored) = {
        let mut state = doc.state.lock();
        let text = state.doc.text();
        let stored = StoredText {
            state: state.doc.encode_state(),
            text,
        };
        (state.generation, stored)
    };
    doc.store.save(&doc.key, &stored).await?;
    Ok(generation)
}

#[cfg(test)]
mod tests;
