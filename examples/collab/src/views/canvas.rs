//! `/canvas/{doc_id}`: the spec's `CollaborativeDocView` — live cursors over a document.

use djust::presence::{LiveCursorMixin, LivePresence, PresenceMixin, PresenceRecord};
use djust::{Context, LiveView, MountRequest, Socket, ViewError};
use serde::Serialize;

use super::{db, load_document};
use crate::db::Document;
use crate::people::Person;

/// Everyone's cursor over the document, except one's own.
#[derive(Serialize)]
pub(crate) struct CollaborativeDocView {
    doc_id: i64,
    #[serde(skip)]
    document: Document,
    #[serde(skip)]
    me: Person,
    #[serde(skip)]
    presence: LivePresence,
}

impl PresenceMixin for CollaborativeDocView {
    const PRESENCE_KEY: &'static str = "doc:{doc_id}";

    fn presence(&self) -> &LivePresence {
        &self.presence
    }
}

impl LiveCursorMixin for CollaborativeDocView {}

impl LiveView for CollaborativeDocView {
    const TEMPLATE: &'static str = "canvas_page.html";

    async fn authorize(req: &MountRequest) -> Result<(), ViewError> {
        super::authorize_document(req).await
    }

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let document = load_document(&db(req)?, req).await?;
        let me = Person::of(&req.identity);
        let mut view = Self {
            doc_id: document.id,
            document,
            presence: LivePresence::new(socket),
            me,
        };
        view.me.color = super::track_in_room(&view, view.me.preferred, view.me.meta())?;
        Ok(view)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("doc_id", &self.doc_id)?
            .insert("document", &self.document)?
            .insert("cursors", &self.get_cursors())?
            .insert("me", &self.me)?
            .insert("here", &format!("/canvas/{}", self.doc_id))?
            .insert(
                "page_title",
                &format!("{} · CollaborativeDocView", self.document.title),
            )?;
        Ok(ctx)
    }

    fn handle_presence_join(&mut self, presence: &PresenceRecord, _socket: &mut Socket) {
        super::settle_on_join(self, presence, |v| &mut v.me);
    }

    fn handle_heartbeat(&mut self, _socket: &mut Socket) {
        super::settle(self, |v| &mut v.me);
    }
}

#[djust::event_handlers]
impl CollaborativeDocView {
    /// Called when the user moves their cursor over `#canvas`.
    // The own page never shows the own cursor: nothing to re-render here (peers still update).
    #[event_handler(render = false)]
    fn cursor_move(&mut self, x: i64, y: i64) -> Result<(), ViewError> {
        self.update_cursor_position(x, y)?;
        Ok(())
    }
}
