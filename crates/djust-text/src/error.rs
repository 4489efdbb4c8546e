//! Typed errors: what a client sent that cannot be applied, and what the store failed to do.

/// Why an update, a state vector or a stored state was refused. The document is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The bytes are not a Yjs update (format v1).
    #[error(
        "not a Yjs update (v1 encoding): {0}; send the bytes of `Y.encodeStateAsUpdate` or an `update` event"
    )]
    BadUpdate(String),
    /// The bytes are not a Yjs state vector (format v1).
    #[error("not a Yjs state vector (v1 encoding): {0}; send the bytes of `Y.encodeStateVector`")]
    BadStateVector(String),
    /// One update is larger than the configured limit.
    #[error(
        "update of {size} bytes is over the limit of {max} bytes; send smaller updates (type or paste less at once)"
    )]
    UpdateTooLarge {
        /// The update's size in bytes.
        size: usize,
        /// [`crate::TextLimits::max_update_bytes`].
        max: usize,
    },
    /// Applying the update would make the document larger than the configured limit.
    #[error(
        "the document would grow to about {size} bytes, over the limit of {max} bytes; the edit was not saved: shorten the text or split it into several documents"
    )]
    DocumentTooLarge {
        /// The document's encoded size with the update, in bytes (an upper bound).
        size: usize,
        /// [`crate::TextLimits::max_document_bytes`].
        max: usize,
    },
    /// The stored state of the document cannot be read.
    #[error("the stored state of document `{key}` is not a Yjs update: {reason}")]
    BadStoredState {
        /// The document key.
        key: String,
        /// The decoder's message.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TextError {
    /// A short machine-readable code for error frames (`docs/protocol.md`).
    pub fn code(&self) -> &'static str {
        match self {
            TextError::BadUpdate(_) | TextError::BadStateVector(_) => "text_bad_update",
            TextError::UpdateTooLarge { .. } => "text_update_too_large",
            TextError::DocumentTooLarge { .. } => "text_too_large",
            TextError::BadStoredState { .. } | TextError::Store(_) => "text_store_failed",
        }
    }
}

/// A failure of a [`crate::TextStore`] (the application's storage).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("text store: {message}")]
pub struct StoreError {
    /// What went wrong, for the log and the editing user.
    pub message: String,
}

impl StoreError {
    /// A store error with this message (e.g. the database's error as text).
    pub fn new(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }
}
