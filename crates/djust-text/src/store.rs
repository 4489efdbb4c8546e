//! Where documents live between processes and restarts: the application's storage, behind
//! [`TextStore`]. [`MemoryStore`] keeps them in memory (tests, apps without storage).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use parking_lot::Mutex;

use crate::error::StoreError;

/// The future a [`TextStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What a store holds for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// The merged Yjs state (an update, v1), as saved by [`TextStore::save`].
    State(Vec<u8>),
    /// Only plain text so far (a document created before it was shared, or by other code):
    /// the document starts with this text, inserted by [`crate::SEED_CLIENT_ID`].
    Text(String),
}

/// One save: the merged state and its plain text (for search, lists, exports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredText {
    /// The whole document as one Yjs update (v1); load it back as [`Loaded::State`].
    pub state: Vec<u8>,
    /// The document's text.
    pub text: String,
}

/// The application's storage of shared documents, by key.
///
/// `save` must be durable when its future completes: the runtime acknowledges a client's
/// update only after the save that contains it returned `Ok`. Several processes may share one
/// store: before each save the runtime loads the stored state and merges it in, so a process
/// never overwrites what another one saved (updates are commutative).
pub trait TextStore: Send + Sync + 'static {
    /// The stored document `key`, or `None` if there is none.
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Loaded>>;
    /// Replaces the stored document `key`.
    fn save<'a>(&'a self, key: &'a str, doc: &'a StoredText) -> StoreFuture<'a, ()>;
}

/// A [`TextStore`] in memory: documents live as long as the store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    docs: Mutex<HashMap<String, Loaded>>,
    saves: Mutex<usize>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts a plain-text document in the store (as an app's existing content would be).
    pub fn insert_text(&self, key: &str, text: &str) {
        self.docs
            .lock()
            .insert(key.to_owned(), Loaded::Text(text.to_owned()));
    }

    /// What the store holds for `key`.
    pub fn get(&self, key: &str) -> Option<Loaded> {
        self.docs.lock().get(key).cloned()
    }

    /// How many saves completed.
    pub fn saves(&self) -> usize {
        *self.saves.lock()
    }
}

impl TextStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Loaded>> {
        Box::pin(async move { Ok(self.get(key)) })
    }

    fn save<'a>(&'a self, key: &'a str, doc: &'a StoredText) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.docs
                .lock()
                .insert(key.to_owned(), Loaded::State(doc.state.clone()));
            *self.saves.lock() += 1;
            Ok(())
        })
    }
}
