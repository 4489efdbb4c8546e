//! Shared text for djust: one document per key holding one `Y.Text`, merged without loss.
//!
//! The browser edits a [Yjs](https://yjs.dev) document; this crate keeps the server's copy with
//! [`yrs`], the Rust port of Yjs (the same update format, v1). Concurrent edits from any number
//! of clients merge: updates are commutative and idempotent, so nothing typed is lost and every
//! copy converges to the same text.
//!
//! - [`SharedDoc`] — the pure document: apply an update (refused updates leave it untouched),
//!   state-vector sync ([`SharedDoc::state_vector`], [`SharedDoc::diff`]), encode for storage.
//! - [`TextHub`] / [`Document`] — documents shared by the connections of one process: fan-out of
//!   applied updates, saves to a [`TextStore`] with a bounded delay, a watermark of what is
//!   durable (so a client's update is acknowledged only once saved), and [`TextHub::flush_all`]
//!   for shutdown.
//! - [`Caret`] — who is where: each connection's caret and selection (Yjs relative positions),
//!   fanned out beside the document and never saved ([`Document::set_caret`]).
//!
//! The runtime (`djust`) carries updates over the WebSocket and between processes; see
//! `docs/runtime.md`, *Shared text*.

mod carets;
mod doc;
mod error;
mod hub;
mod store;

pub use carets::{CARET_REFRESH, CARET_TTL, Caret, CaretChange, CaretEvent, MAX_CARETS};
pub use doc::{SEED_CLIENT_ID, SharedDoc, TEXT_NAME, TextLimits};
pub use error::{StoreError, TextError};
pub use hub::{Document, Origin, TextConfig, TextHub, TextUpdate, WeakDocument};
pub use store::{Loaded, MemoryStore, StoreFuture, StoredText, TextStore};
