//! One shared document: a `yrs::Doc` holding one `Y.Text`, the updates that change it, and the
//! state-vector sync of the Yjs protocol. Pure: no locks, no IO, no clock.
//!
//! An update that is refused (not decodable, over a limit, or failing to integrate) leaves the
//! document exactly as it was: the document remembers its encoded state at the last
//! [`SharedDoc::encode_state`] plus the updates applied since, and rebuilds itself from them if
//! an integration fails half-way.

use std::panic::{AssertUnwindSafe, catch_unwind};

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, TextRef, Transact, Update};

use crate::error::TextError;

/// The name of the `Y.Text` inside each document: the browser binds `ydoc.getText("text")`.
pub const TEXT_NAME: &str = "text";

/// The Yjs client id under which a document's initial text is inserted ([`SharedDoc::from_text`]).
/// Fixed, so that two processes seeding the same document from the same plain text produce the
/// same items, which merge into one copy instead of two.
pub const SEED_CLIENT_ID: u64 = 1;

/// Size limits of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimits {
    /// The largest update accepted, in bytes (default 48 KiB: a 64 KiB frame holds it in base64).
    pub max_update_bytes: usize,
    /// The largest encoded document, in bytes (default 1 MiB).
    pub max_document_bytes: usize,
}

impl Default for TextLimits {
    fn default() -> Self {
        Self {
            max_update_bytes: 48 * 1024,
            max_document_bytes: 1024 * 1024,
        }
    }
}

/// A document with one shared text. See the module documentation.
pub struct SharedDoc {
    doc: Doc,
    text: TextRef,
    /// The encoded state when the log was last compacted.
    base: Vec<u8>,
    /// Updates applied since `base`, in order.
    log: Vec<Vec<u8>>,
    /// An upper bound of the encoded size: `base` plus the log.
    size: usize,
    limits: TextLimits,
}

impl std::fmt::Debug for SharedDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDoc")
            .field("size", &self.size)
            .field("log", &self.log.len())
            .finish_non_exhaustive()
    }
}

fn fresh() -> (Doc, TextRef) {
    let doc = Doc::new();
    let text = doc.get_or_insert_text(TEXT_NAME);
    (doc, text)
}

impl SharedDoc {
    /// An empty document.
    pub fn new(limits: TextLimits) -> Self {
        let (doc, text) = fresh();
        Self {
            doc,
            text,
            base: Vec::new(),
            log: Vec::new(),
            size: 0,
            limits,
        }
    }

    /// A document whose text is `initial`, inserted by [`SEED_CLIENT_ID`] (for documents that
    /// exist only as plain text so far).
    pub fn from_text(initial: &str, limits: TextLimits) -> Self {
        let mut doc = Self::new(limits);
        if initial.is_empty() {
            return doc;
        }
        let seed = Doc::with_client_id(SEED_CLIENT_ID);
        let text = seed.get_or_insert_text(TEXT_NAME);
        let update = {
            let mut txn = seed.transact_mut();
            text.insert(&mut txn, 0, initial);
            txn.encode_update_v1()
        };
        // A fresh update of our own always integrates; the limit check does not apply to it.
        if let Ok(decoded) = Update::decode_v1(&update) {
            let _ = doc.doc.transact_mut().apply_update(decoded);
        }
        doc.compact();
        doc
    }

    /// A document from its encoded state ([`SharedDoc::encode_state`]).
    ///
    /// # Errors
    /// [`TextError::BadUpdate`] if `state` is not a Yjs update.
    pub fn from_state(state: &[u8], limits: TextLimits) -> Result<Self, TextError> {
        let mut doc = Self::new(limits);
        if !state.is_empty() {
            doc.integrate(state)?;
        }
        doc.compact();
        Ok(doc)
    }

    /// Applies a client's update (Yjs update format v1). Applying an update twice, or updates in
    /// any order, gives the same document (updates whose predecessors are missing wait inside
    /// the document until those arrive).
    ///
    /// # Errors
    /// [`TextError::UpdateTooLarge`], [`TextError::DocumentTooLarge`] or
    /// [`TextError::BadUpdate`]; the document is then unchanged.
    pub fn apply(&mut self, update: &[u8]) -> Result<(), TextError> {
        let max = self.limits.max_update_bytes;
        if update.len() > max {
            return Err(TextError::UpdateTooLarge {
                size: update.len(),
                max,
            });
        }
        let grown = self.size + update.len();
        if grown > self.limits.max_document_bytes && self.diff_is_new(update) {
            return Err(TextError::DocumentTooLarge {
                size: grown,
                max: self.limits.max_document_bytes,
            });
        }
        self.integrate(update)?;
        self.size = grown;
        self.log.push(update.to_vec());
        Ok(())
    }

    /// Merges a whole stored state (another process's save) without the update-size limit.
    /// Returns the update that brought this document forward (empty when nothing changed).
    ///
    /// # Errors
    /// [`TextError::BadUpdate`] if `state` is not a Yjs update; the document is unchanged.
    pub fn merge(&mut self, state: &[u8]) -> Result<Vec<u8>, TextError> {
        let sv = self.doc.transact().state_vector();
        let text = self.text();
        self.integrate(state)?;
        if self.doc.transact().state_vector() == sv && self.text() == text {
            return Ok(Vec::new());
        }
        let delta = self.doc.transact().encode_diff_v1(&sv);
        self.compact();
        Ok(delta)
    }

    /// Whether a stored state lacks something this document has: an item it does not know, or
    /// a deletion (then its text differs). For a state already merged into this document.
    ///
    /// # Errors
    /// [`TextError::BadUpdate`] if `state` is not a Yjs update.
    pub fn is_ahead_of(&self, state: &[u8]) -> Result<bool, TextError> {
        let other = Self::from_state(state, self.limits)?;
        Ok(other.state_vector() != self.state_vector() || other.text() != self.text())
    }

    /// Whether `update` inserts content this document does not have (checked only near the
    /// size limit). Deletions and updates the document already has always pass, so a user at
    /// the limit can still delete text, and a re-sent update is not refused for size.
    fn diff_is_new(&self, update: &[u8]) -> bool {
        let Ok(decoded) = Update::decode_v1(update) else {
            return true;
        };
        let sv = self.doc.transact().state_vector();
        decoded
            .state_vector_lower()
            .iter()
            .any(|(client, lowest)| *lowest >= sv.get(client))
    }

    /// Decodes and integrates `bytes`; on any failure the document is rebuilt as it was.
    fn integrate(&mut self, bytes: &[u8]) -> Result<(), TextError> {
        let update = Update::decode_v1(bytes).map_err(|e| TextError::BadUpdate(e.to_string()))?;
        let doc = &self.doc;
        let outcome = catch_unwind(AssertUnwindSafe(|| doc.transact_mut().apply_update(update)));
        let reason = match outcome {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "the update could not be integrated".to_owned(),
        };
        self.rebuild();
        Err(TextError::BadUpdate(reason))
    }

    /// Restores the document from `base` and the log (after a failed integration).
    fn rebuild(&mut self) {
        let (doc, text) = fresh();
        for bytes in std::iter::once(&self.base).chain(&self.log) {
            if bytes.is_empty() {
                continue;
            }
            if let Ok(update) = Update::decode_v1(bytes) {
                let _ = doc.transact_mut().apply_update(update);
            }
        }
        self.doc = doc;
        self.text = text;
    }

    /// This document's state vector (v1): what a peer needs to compute what we miss.
    pub fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    /// The update a peer whose state vector is `state_vector` is missing (v1). An empty state
    /// vector gives the whole document.
    ///
    /// # Errors
    /// [`TextError::BadStateVector`] if the bytes are not a state vector.
    pub fn diff(&self, state_vector: &[u8]) -> Result<Vec<u8>, TextError> {
        let sv = if state_vector.is_empty() {
            StateVector::default()
        } else {
            StateVector::decode_v1(state_vector)
                .map_err(|e| TextError::BadStateVector(e.to_string()))?
        };
        Ok(self.doc.transact().encode_diff_v1(&sv))
    }

    /// The whole document as one update (v1), for storage; also compacts the internal log.
    pub fn encode_state(&mut self) -> Vec<u8> {
        self.compact();
        self.base.clone()
    }

    fn compact(&mut self) {
        self.base = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        self.log.clear();
        self.size = self.base.len();
    }

    /// The current text.
    pub fn text(&self) -> String {
        self.text.get_string(&self.doc.transact())
    }

    /// An upper bound of the encoded size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The limits this document enforces.
    pub fn limits(&self) -> TextLimits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client document like the browser's: edits produce updates.
    struct Client {
        doc: Doc,
        text: TextRef,
    }

    impl Client {
        fn new(id: u64) -> Self {
            let doc = Doc::with_client_id(id);
            let text = doc.get_or_insert_text(TEXT_NAME);
            Self { doc, text }
        }
        fn sync_from(&self, server: &SharedDoc) {
            let sv = self.doc.transact().state_vector().encode_v1();
            let update = server.diff(&sv).unwrap();
            let update = Update::decode_v1(&update).unwrap();
            self.doc.transact_mut().apply_update(update).unwrap();
        }
        fn insert(&self, at: u32, s: &str) -> Vec<u8> {
            let mut txn = self.doc.transact_mut();
            self.text.insert(&mut txn, at, s);
            txn.encode_update_v1()
        }
        fn delete(&self, at: u32, n: u32) -> Vec<u8> {
            let mut txn = self.doc.transact_mut();
            self.text.remove_range(&mut txn, at, n);
            txn.encode_update_v1()
        }
        fn text(&self) -> String {
            self.text.get_string(&self.doc.transact())
        }
    }

    #[test]
    fn concurrent_updates_from_two_clients_merge() {
        let mut server = SharedDoc::from_text("hello world", TextLimits::default());
        let (a, b) = (Client::new(100), Client::new(200));
        a.sync_from(&server);
        b.sync_from(&server);
        // Both edit the same version at once.
        let ua = a.insert(5, " big");
        let ub = b.insert(11, "!");
        let ub2 = b.delete(0, 1);
        server.apply(&ub).unwrap();
        server.apply(&ua).unwrap();
        server.apply(&ub2).unwrap();
        assert_eq!(server.text(), "ello big world!");
        // Each client gets the other's edit through state-vector sync and converges.
        a.sync_from(&server);
        b.sync_from(&server);
        assert_eq!(a.text(), server.text());
        assert_eq!(b.text(), server.text());
        // Re-applying an update changes nothing.
        server.apply(&ua).unwrap();
        assert_eq!(server.text(), "ello big world!");
    }

    #[test]
    fn out_of_order_updates_wait_for_their_predecessors() {
        let mut server = SharedDoc::new(TextLimits::default());
        let a = Client::new(7);
        let u1 = a.insert(0, "ab");
        let u2 = a.insert(2, "cd");
        server.apply(&u2).unwrap();
        assert_eq!(server.text(), "");
        server.apply(&u1).unwrap();
        assert_eq!(server.text(), "abcd");
    }

    #[test]
    fn malformed_or_oversized_updates_are_refused_and_change_nothing() {
        let limits = TextLimits {
            max_update_bytes: 100,
            max_document_bytes: 300,
        };
        let mut server = SharedDoc::from_text("keep me", limits);
        let a = Client::new(9);
        a.sync_from(&server);
        server.apply(&a.insert(7, "!")).unwrap();
        let good = (server.text(), server.state_vector());
        let err = server.apply(&[0xff, 0x01, 0x02]).unwrap_err();
        assert!(matches!(err, TextError::BadUpdate(_)), "{err}");
        let err = server.apply(&[0u8; 101]).unwrap_err();
        assert_eq!(
            err,
            TextError::UpdateTooLarge {
                size: 101,
                max: 100
            }
        );
        assert_eq!((server.text(), server.state_vector()), good);
        // Fill the document towards its limit: the update that would cross it is refused.
        let mut accepted = 0;
        let refused = loop {
            let update = a.insert(0, &"x".repeat(60));
            match server.apply(&update) {
                Ok(()) => accepted += 1,
                Err(e) => break e,
            }
            assert!(accepted < 10, "the limit never hit");
        };
        assert!(accepted >= 1);
        assert!(
            matches!(refused, TextError::DocumentTooLarge { max: 300, .. }),
            "{refused}"
        );
        let text = server.text();
        assert_eq!(text.len(), "keep me!".len() + 60 * accepted);
        // After the refusals the document encodes and reloads to the last good text.
        let state = server.encode_state();
        assert_eq!(SharedDoc::from_state(&state, limits).unwrap().text(), text);
        // At the limit, deleting still works, and so does re-sending an update it has.
        let b = Client::new(10);
        b.sync_from(&server);
        server.apply(&b.delete(0, 10)).unwrap();
        assert_eq!(server.text().len(), text.len() - 10);
    }

    #[test]
    fn a_refused_update_leaves_text_and_state_vector_unchanged() {
        let mut server = SharedDoc::from_text("abc", TextLimits::default());
        let before = (server.text(), server.state_vector(), server.encode_state());
        // A valid header followed by garbage: decodable prefix, broken body.
        let a = Client::new(5);
        a.sync_from(&server);
        let mut update = a.insert(1, "zz");
        update.truncate(update.len() - 3);
        assert!(server.apply(&update).is_err());
        assert!(server.apply(b"").is_err());
        assert_eq!(
            (server.text(), server.state_vector(), server.encode_state()),
            before
        );
    }

    #[test]
    fn two_processes_seeding_the_same_text_merge_into_one_copy() {
        let mut one = SharedDoc::from_text("same", TextLimits::default());
        let two = SharedDoc::from_text("same", TextLimits::default());
        let update = two.diff(&[]).unwrap();
        one.apply(&update).unwrap();
        assert_eq!(one.text(), "same");
    }

    #[test]
    fn bad_state_vectors_and_stored_states_are_typed_errors() {
        let server = SharedDoc::new(TextLimits::default());
        assert!(matches!(
            server.diff(&[0xff, 0xff]),
            Err(TextError::BadStateVector(_))
        ));
        assert!(matches!(
            SharedDoc::from_state(&[0xff, 0x00], TextLimits::default()),
            Err(TextError::BadUpdate(_))
        ));
    }
}
