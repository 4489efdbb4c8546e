//! `/`: the document list, one page at a time (`/?page=N`), with a form to start a new
//! document (rate-limited: `rate.rs`). Live: who is in each document, and documents others
//! create (`directory.rs`).

use std::time::Instant;

use djust::presence::{LivePresence, Presence};
use djust::{Context, Info, InfoSender, LiveView, MountRequest, Socket, ViewError};
use serde::Serialize;
use serde_json::json;

use super::db;
use super::directory::{CREATED, DOCUMENTS_KEY, Refresh, Watch};
use super::roster::{RoomLimits, Roster};
use crate::db::{Db, Document};
use crate::people::Person;
use crate::rate::CreationLimiter;

/// Longest document title accepted, in characters.
const MAX_TITLE_CHARS: usize = 120;

/// Documents per page.
pub const PAGE_SIZE: u32 = 50;

/// Where the list is: page `number` of `count` (both from 1).
#[derive(Debug, Clone, Copy, Serialize)]
struct Page {
    number: u64,
    count: u64,
    /// More than one page (the template shows the page links).
    several: bool,
    prev: Option<u64>,
    next: Option<u64>,
}

impl Page {
    /// Page `asked` clamped to the pages `total` documents fill.
    fn of(asked: u64, total: u64) -> Self {
        let count = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
        let number = asked.clamp(1, count);
        Self {
            number,
            count,
            several: count > 1,
            prev: (number > 1).then(|| number - 1),
            next: (number < count).then(|| number + 1),
        }
    }

    fn offset(self) -> u64 {
        (self.number - 1) * u64::from(PAGE_SIZE)
    }
}

/// One page of documents, linking to the editor and to the spec's two smaller views.
pub(crate) struct DocumentList {
    documents: Vec<Document>,
    page: Page,
    error: Option<String>,
    me: Person,
    /// The presence user id: whose creation budget a new document uses.
    user_id: String,
    /// The logged-in user's id (`None`: a guest): whose private documents are listed.
    viewer: Option<i64>,
    db: Db,
    limiter: CreationLimiter,
    /// The presence engine: who is in each listed document.
    engine: Presence,
    /// How many faces a row shows.
    limits: RoomLimits,
    /// This connection's info channel (`None` during the page GET: nothing to keep live).
    info: Option<InfoSender>,
    /// Watches the listed documents' rooms and new documents (replaced when the page changes).
    watch: Option<Watch>,
}

/// One row of the list: the document and who is in its editor.
#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    doc: &'a Document,
    room: Roster,
}

/// The presence key of a document's editor (`CollaborativeEditor::PRESENCE_KEY`).
fn editor_key(doc_id: i64) -> String {
    format!("editor:{doc_id}")
}

impl DocumentList {
    /// Loads page `asked` (clamped to the last page).
    async fn load(&mut self, asked: u64) -> Result<(), ViewError> {
        let (_, total) = self
            .db
            .documents_page(self.viewer, 0, 0)
            .await
            .map_err(ViewError::other)?;
        let page = Page::of(asked, total);
        let (documents, _) = self
            .db
            .documents_page(self.viewer, PAGE_SIZE, page.offset())
            .await
            .map_err(ViewError::other)?;
        self.documents = documents;
        self.page = page;
        if let Some(info) = &self.info {
            let keys: Vec<String> = self.documents.iter().map(|d| editor_key(d.id)).collect();
            // The old watch stops when dropped; the new one starts before the next render.
            self.watch = Some(Watch::start(&self.engine, &keys, info.clone()));
        }
        Ok(())
    }
}

impl LiveView for DocumentList {
    const TEMPLATE: &'static str = "index.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let asked: u64 = req.query.get_opt("page")?.unwrap_or(1);
        let mut list = Self {
            documents: Vec::new(),
            page: Page::of(1, 0),
            error: None,
            me: Person::of(&req.identity),
            user_id: req.identity.user_id().to_owned(),
            viewer: req.identity.auth_user().map(|u| u.id),
            db: db(req)?,
            limiter: req.state::<CreationLimiter>().cloned().unwrap_or_default(),
            engine: LivePresence::new(socket).engine().clone(),
            limits: req.state::<RoomLimits>().copied().unwrap_or_default(),
            info: socket.connected().then(|| socket.info_sender()),
            watch: None,
        };
        list.load(asked).await?;
        Ok(list)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let limits = RoomLimits {
            avatars: self.limits.avatars,
            names: 0,
        };
        let rows: Vec<Row<'_>> = self
            .documents
            .iter()
            .map(|doc| Row {
                doc,
                room: Roster::new(
                    &self.engine.list_shared(&editor_key(doc.id)),
                    Some(&self.user_id),
                    limits,
                ),
            })
            .collect();
        let mut ctx = Context::new();
        ctx.insert("documents", &rows)?
            .insert("page", &self.page)?
            .insert("error", &self.error)?
            .insert("me", &self.me)?
            .insert("here", &"/")?
            .insert("page_title", &"Documents · collab")?;
        Ok(ctx)
    }

    async fn handle_info(&mut self, msg: Info, _socket: &mut Socket) -> Result<(), ViewError> {
        match msg.downcast::<Refresh>() {
            // The render that follows reads the rooms afresh.
            Ok(Refresh::Rooms) => {
                if let Some(watch) = &self.watch {
                    watch.handled();
                }
            }
            Ok(Refresh::Documents) => self.load(self.page.number).await?,
            Err(_) => {}
        }
        Ok(())
    }
}

#[djust::event_handlers]
impl DocumentList {
    /// The "new document" form: creates it and shows the page it is on (the last). With
    /// `private` checked the document is visible only to its creator (logged-in users only).
    #[event_handler]
    async fn create_document(
        &mut self,
        title: String,
        private: Option<String>,
    ) -> Result<(), ViewError> {
        let owner = match (private.is_some(), self.viewer) {
            (false, _) => None,
            (true, Some(me)) => Some(me),
            (true, None) => {
                self.error = Some("Log in to create a private document.".to_owned());
                return Ok(());
            }
        };
        let title = title.trim();
        let chars = title.chars().count();
        if title.is_empty() || chars > MAX_TITLE_CHARS {
            self.error = Some(format!(
                "A title needs 1 to {MAX_TITLE_CHARS} characters (this one has {chars})."
            ));
            return Ok(());
        }
        if let Err(limited) = self.limiter.try_create(&self.user_id, Instant::now()) {
            self.error = Some(format!("Not created: {limited}."));
            return Ok(());
        }
        self.error = None;
        let id = self
            .db
            .create_document(title, owner)
            .await
            .map_err(ViewError::other)?;
        // Everyone's list reloads its page (a private document shows only for its owner).
        self.engine
            .broadcast(DOCUMENTS_KEY, CREATED, json!({ "id": id }));
        self.load(u64::MAX).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_clamped_and_linked() {
        let p = Page::of(1, 0);
        assert_eq!((p.number, p.count, p.prev, p.next), (1, 1, None, None));
        assert!(!p.several);
        let p = Page::of(2, 101);
        assert_eq!(
            (p.number, p.count, p.prev, p.next),
            (2, 3, Some(1), Some(3))
        );
        assert!(p.several);
        assert_eq!(p.offset(), 50);
        let p = Page::of(99, 100);
        assert_eq!((p.number, p.prev, p.next), (2, Some(1), None));
        assert_eq!(Page::of(0, 100).number, 1);
    }
}
