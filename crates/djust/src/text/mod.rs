//! Shared text: a `<textarea dj-shared-text="field">` bound to a document that merges the
//! edits of everyone on it without loss (Yjs in the browser, `yrs` here; `djust-text` keeps the
//! documents). A view declares the field in `mount` with [`Socket::shared_text`](crate::Socket::shared_text),
//! naming the document's key and the [`TextStore`] that loads and saves it; the runtime then
//! syncs the field over the connection (`conn/live/text.rs`), fans updates out to the other
//! connections of this process, relays them to other processes through the presence backend
//! (`relay.rs`; the carets in `caret_relay.rs`), saves with a bounded delay and acknowledges a
//! client's update once saved. See `docs/runtime.md`, *Shared text*.

mod caret_relay;
mod link;
pub(crate) mod relay;

use std::sync::Arc;

pub(crate) use link::{TextEvent, TextLink};

pub use djust_text::{
    Loaded, MemoryStore, StoreError, StoreFuture, StoredText, TextConfig, TextError, TextLimits,
    TextStore,
};

/// The process's open documents, kept in the application state (a private type, so no
/// application value can take its place).
#[derive(Clone, Debug)]
pub(crate) struct Hub(pub(crate) djust_text::TextHub);

/// A view's handle on one shared-text field (from [`Socket::shared_text`](crate::Socket::shared_text)).
/// Cheap to clone; reading the text takes the document's lock for a moment.
#[derive(Clone, Debug)]
pub struct SharedText {
    field: Arc<str>,
    doc: djust_text::Document,
}

impl SharedText {
    pub(crate) fn new(field: &str, doc: djust_text::Document) -> Self {
        Self {
            field: field.into(),
            doc,
        }
    }

    /// The document's current text (everyone's edits merged), e.g. for the template's
    /// initial `<textarea>` content or a preview.
    pub fn text(&self) -> String {
        self.doc.text()
    }

    /// The document key given to `shared_text`.
    pub fn key(&self) -> &str {
        self.doc.key()
    }

    /// The field name (the `dj-shared-text` attribute's value).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Saves what is not saved yet and waits for it, at most `timeout` (e.g. before an
    /// export). Unsaved edits are saved by themselves within the save delay anyway.
    ///
    /// # Errors
    /// [`TextError::Store`] if the save did not complete in time.
    pub async fn flush(&self, timeout: std::time::Duration) -> Result<(), TextError> {
        self.doc.flush(timeout).await
    }
}
