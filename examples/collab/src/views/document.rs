//! `/document/{doc_id}`: the spec's Quick Start `DocumentView` — a presence bar over a
//! read-only document, with the spec's join/leave `flash` events. The bar shows the first
//! [`RoomLimits::avatars`] people (in join order) and `+N` for the rest, so a room of 1000
//! renders a handful of avatars.

use djust::presence::{LivePresence, PresenceMixin, PresenceRecord};
use djust::{Context, LiveView, MountRequest, Socket, ViewError};
use serde::Serialize;
use serde_json::json;

use super::roster::{RoomLimits, Roster};
use super::{Flashes, db, display_name, load_document};
use crate::db::Document;
use crate::people::Person;

/// Who is viewing a document.
#[derive(Serialize)]
pub(crate) struct DocumentView {
    doc_id: i64,
    #[serde(skip)]
    document: Document,
    #[serde(skip)]
    me: Person,
    /// How many avatars the bar shows ([`RoomLimits`], from the app state).
    #[serde(skip)]
    limits: RoomLimits,
    #[serde(skip)]
    flashes: Flashes,
    #[serde(skip)]
    presence: LivePresence,
}

impl PresenceMixin for DocumentView {
    const PRESENCE_KEY: &'static str = "document:{doc_id}";

    fn presence(&self) -> &LivePresence {
        &self.presence
    }
}

impl LiveView for DocumentView {
    const TEMPLATE: &'static str = "document_page.html";

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
            flashes: Flashes::default(),
            limits: req.state::<RoomLimits>().copied().unwrap_or_default(),
            me,
        };
        view.me.color = super::track_in_room(&view, view.me.preferred, view.me.meta())?;
        Ok(view)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        // The spec's `presences` loop gets the first faces only; `more_faces` counts the rest.
        let roster = Roster::new(&self.list_presences(), None, self.limits);
        let mut ctx = Context::new();
        ctx.insert("doc_id", &self.doc_id)?
            .insert("document", &self.document)?
            .insert("presences", &roster.faces)?
            .insert("more_faces", &roster.more_faces)?
            .insert("presence_count", &self.presence_count())?
            .insert("flashes", &self.flashes.items())?
            .insert("me", &self.me)?
            .insert("here", &format!("/document/{}", self.doc_id))?
            .insert(
                "page_title",
                &format!("{} · DocumentView", self.document.title),
            )?;
        Ok(ctx)
    }

    fn handle_heartbeat(&mut self, _socket: &mut Socket) {
        super::settle(self, |v| &mut v.me);
    }

    fn handle_presence_join(&mut self, presence: &PresenceRecord, socket: &mut Socket) {
        super::settle_on_join(self, presence, |v| &mut v.me);
        self.flashes.joined(presence);
        let message = format!("{} joined", display_name(presence));
        if let Err(e) = socket.push_event("flash", json!({ "message": message, "type": "info" })) {
            tracing::warn!(error = %e, "collab: flash not sent");
        }
    }

    fn handle_presence_leave(&mut self, presence: &PresenceRecord, socket: &mut Socket) {
        self.flashes.left(presence);
        let message = format!("{} left", display_name(presence));
        if let Err(e) = socket.push_event("flash", json!({ "message": message, "type": "info" })) {
            tracing::warn!(error = %e, "collab: flash not sent");
        }
    }
}

#[djust::event_handlers]
impl DocumentView {}
