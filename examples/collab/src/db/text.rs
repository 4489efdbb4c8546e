//! The documents' shared text: the merged Yjs state of each document (table `document_text`),
//! loaded and saved by djust's shared-text field (`docs/runtime.md`, *Shared text*). Every save
//! also writes the plain text into `documents.content`, so the list, the other views and a
//! reader of the database see the text without decoding Yjs.

use std::sync::Arc;

use djust::text::{Loaded, StoreError, StoreFuture, StoredText, TextStore};
use rusqlite::{OptionalExtension, params};

use super::{Db, DbError, now_ms};

/// The shared-text key of document `id`.
pub fn text_key(id: i64) -> String {
    format!("doc:{id}")
}

impl Db {
    /// Document `id`'s Yjs state if it has one, else its plain content; `None` if there is no
    /// such document.
    ///
    /// # Errors
    /// [`DbError`] if the query fails.
    pub async fn text_state(&self, id: i64) -> Result<Option<Loaded>, DbError> {
        self.run(move |c| {
            let row: Option<(Option<Vec<u8>>, String)> = c
                .query_row(
                    "SELECT t.state, d.content FROM documents d \
                     LEFT JOIN document_text t ON t.doc_id = d.id WHERE d.id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(row.map(|(state, content)| match state {
                Some(state) => Loaded::State(state),
                None => Loaded::Text(content),
            }))
        })
        .await
    }

    /// Stores document `id`'s Yjs state and its text, in one transaction; false if there is no
    /// such document.
    ///
    /// # Errors
    /// [`DbError`] if the write fails.
    pub async fn save_text(&self, id: i64, state: Vec<u8>, text: String) -> Result<bool, DbError> {
        self.run(move |c| {
            let tx = c.unchecked_transaction()?;
            let n = tx.execute(
                "UPDATE documents SET content = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, text, now_ms()],
            )?;
            if n == 1 {
                tx.execute(
                    "INSERT INTO document_text (doc_id, state) VALUES (?1, ?2) \
                     ON CONFLICT(doc_id) DO UPDATE SET state = excluded.state",
                    params![id, state],
                )?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    /// Records `by` as the last editor of document `id`.
    ///
    /// # Errors
    /// [`DbError`] if the write fails.
    pub async fn set_updated_by(&self, id: i64, by: &str) -> Result<(), DbError> {
        let by = by.to_owned();
        self.run(move |c| {
            c.execute(
                "UPDATE documents SET updated_by = ?2 WHERE id = ?1",
                params![id, by],
            )?;
            Ok(())
        })
        .await
    }

    /// The [`TextStore`] of the documents' shared text (keys from [`text_key`]).
    pub fn text_store(&self) -> Arc<dyn TextStore> {
        Arc::new(DocTextStore { db: self.clone() })
    }
}

/// Documents' shared text in this database.
struct DocTextStore {
    db: Db,
}

fn doc_id(key: &str) -> Result<i64, StoreError> {
    key.strip_prefix("doc:")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| {
            StoreError::new(format!(
                "`{}` is not a document key (doc:<id>)",
                key.escape_debug()
            ))
        })
}

impl TextStore for DocTextStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Loaded>> {
        Box::pin(async move {
            let id = doc_id(key)?;
            self.db.text_state(id).await.map_err(StoreError::new)
        })
    }

    fn save<'a>(&'a self, key: &'a str, doc: &'a StoredText) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let id = doc_id(key)?;
            let saved = self
                .db
                .save_text(id, doc.state.clone(), doc.text.clone())
                .await
                .map_err(StoreError::new)?;
            if saved {
                Ok(())
            } else {
                Err(StoreError::new(format!("document {id} was deleted")))
            }
        })
    }
}
