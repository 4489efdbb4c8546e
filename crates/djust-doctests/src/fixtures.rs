//! Stand-ins for what the guide's samples leave to the application: a document store, a user
//! lookup, a page handler and a small view.

use djust::{Context, LiveView, MountRequest, Socket, ViewError};
use serde::Serialize;

/// A stored document.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Document {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its text.
    pub content: String,
}

/// Loads a document (always found here).
///
/// # Errors
/// Never; an application's store would report a missing document as `ViewError::NotFound`.
pub async fn load_document(doc_id: i64) -> Result<Document, ViewError> {
    Ok(Document {
        id: doc_id,
        ..Document::default()
    })
}

/// The application's database handle.
#[derive(Debug, Clone, Default)]
pub struct Db;

impl Db {
    /// The content of document `id`.
    pub fn load(&self, id: i64) -> Option<String> {
        Some(format!("document {id}"))
    }

    /// Document `id`.
    ///
    /// # Errors
    /// Never here; a real store reports I/O errors.
    pub async fn document(&self, id: i64) -> Result<Option<Document>, std::io::Error> {
        Ok(Some(load_document(id).await.unwrap_or_default()))
    }

    /// Saves the content of document `id`.
    ///
    /// # Errors
    /// Never here; a real store reports I/O errors.
    pub async fn save_content(
        &self,
        _id: i64,
        _content: &str,
        _by: &str,
    ) -> Result<(), std::io::Error> {
        Ok(())
    }
}

/// A signed-in user as the application's auth knows them.
#[derive(Debug, Clone)]
pub struct User {
    /// Their id.
    pub id: i64,
    /// Their name.
    pub name: String,
}

/// The application's session lookup (nobody is signed in here).
pub fn lookup_user<B>(_req: &djust::axum::http::Request<B>) -> Option<User> {
    None
}

/// A plain page handler.
pub async fn index() -> &'static str {
    "index"
}

/// A minimal live view for samples that only mount one.
pub struct CollaborativeEditor;

impl LiveView for CollaborativeEditor {
    const TEMPLATE: &'static str = "editor.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Self)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Ok(Context::new())
    }
}

#[djust::event_handlers]
impl CollaborativeEditor {}
