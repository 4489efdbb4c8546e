//! `/`: the document list, with a form to start a new document.

use djust::{Context, LiveView, MountRequest, Socket, ViewError};

use super::db;
use crate::db::{Db, Document};
use crate::people::Person;

/// Longest document title accepted, in characters.
const MAX_TITLE_CHARS: usize = 120;

/// Every document, linking to the editor and to the spec's two smaller views.
pub(crate) struct DocumentList {
    documents: Vec<Document>,
    error: Option<String>,
    me: Person,
    db: Db,
}

impl LiveView for DocumentList {
    const TEMPLATE: &'static str = "index.html";

    async fn mount(req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        let db = db(req)?;
        let documents = db.documents().await.map_err(ViewError::other)?;
        Ok(Self {
            documents,
            error: None,
            me: Person::of(&req.identity),
            db,
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("documents", &self.documents)?
            .insert("error", &self.error)?
            .insert("me", &self.me)?
            .insert("here", &"/")?
            .insert("page_title", &"Documents · collab")?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl DocumentList {
    /// The "new document" form: creates it and refreshes the list.
    #[event_handler]
    async fn create_document(&mut self, title: String) -> Result<(), ViewError> {
        let title = title.trim();
        let chars = title.chars().count();
        if title.is_empty() || chars > MAX_TITLE_CHARS {
            self.error = Some(format!(
                "A title needs 1 to {MAX_TITLE_CHARS} characters (this one has {chars})."
            ));
            return Ok(());
        }
        self.error = None;
        self.db
            .create_document(title)
            .await
            .map_err(ViewError::other)?;
        self.documents = self.db.documents().await.map_err(ViewError::other)?;
        Ok(())
    }
}
