//! `/doc/{doc_id}`: the spec's "Full Example: Collaborative Editing" (`CollaborativeEditor`).

use djust::presence::{LiveCursorMixin, LivePresence, PresenceMixin, PresenceRecord};
use djust::{Context, LiveView, MountRequest, Socket, ViewError};
use serde::Serialize;
use serde_json::json;

use super::remembered::Remembered;
use super::roster::{RoomLimits, Roster};
use super::{Flashes, db, display_name, load_document};
use crate::db::{Db, text_key};
use crate::people::Person;

/// The shared editor: presence sidebar, remote cursors, the textarea as a lossless shared-text
/// field (`dj-shared-text="content"`, merged with Yjs, saved to SQLite), join/leave messages
/// and a typing indicator.
///
/// The spec's simple variant — the textarea's debounced `dj-input="update_content"` saving the
/// whole text and broadcasting `content_changed` (last writer wins) — is still served by
/// [`CollaborativeEditor::update_content`]; `docs/presence.md` shows both.
#[derive(Serialize)]
pub(crate) struct CollaborativeEditor {
    doc_id: i64,
    title: String,
    content: String,
    /// The spec's simple variant (`?simple=true`): `dj-input="update_content"`, last writer wins.
    simple: bool,
    #[serde(skip)]
    me: Person,
    /// How many faces and names the page shows ([`RoomLimits`], from the app state).
    #[serde(skip)]
    limits: RoomLimits,
    /// "Go invisible": untracked (absent from everyone's list, count and cursors), still
    /// editing and still seeing the others.
    #[serde(skip)]
    invisible: bool,
    #[serde(skip)]
    flashes: Flashes,
    #[serde(skip)]
    presence: LivePresence,
    #[serde(skip)]
    db: Db,
}

impl PresenceMixin for CollaborativeEditor {
    const PRESENCE_KEY: &'static str = "editor:{doc_id}";

    fn presence(&self) -> &LivePresence {
        &self.presence
    }
}

impl LiveCursorMixin for CollaborativeEditor {}

impl LiveView for CollaborativeEditor {
    const TEMPLATE: &'static str = "editor.html";

    async fn authorize(req: &MountRequest) -> Result<(), ViewError> {
        super::authorize_document(req).await
    }

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let db = db(req)?;
        let doc = load_document(&db, req).await?;
        let mut me = Person::of(&req.identity);
        // What this browser remembers (the Editor hook's cookies): invisible, and the colour
        // shown here before a reconnect or reload, asked for again where it is free.
        let remembered = Remembered::read(&req.headers, &me.uid, doc.id);
        if let Some(color) = remembered.color {
            me.preferred = color;
            me.color = color;
        }
        // `?simple=true`: the spec's simple variant (see `update_content`).
        let simple = req.query.get_opt::<bool>("simple")?.unwrap_or(false);
        let content = if simple {
            doc.content
        } else {
            // The textarea's text: the shared document (everyone's edits merged, in SQLite).
            let text = socket
                .shared_text("content", &text_key(doc.id), db.text_store())
                .await?;
            text.text()
        };
        let mut view = Self {
            doc_id: doc.id,
            title: doc.title,
            content,
            simple,
            presence: LivePresence::new(socket),
            flashes: Flashes::default(),
            limits: req.state::<RoomLimits>().copied().unwrap_or_default(),
            invisible: remembered.invisible,
            db,
            me,
        };
        // A no-op during the page GET; over the WebSocket this joins "editor:{doc_id}" —
        // unless the person went invisible and has not become visible since.
        if !view.invisible {
            view.me.color = super::track_in_room(&view, view.me.preferred, view.me.meta())?;
        }
        Ok(view)
    }

    fn get_context_data(&self, socket: &Socket) -> Result<Context, ViewError> {
        let my_color = self
            .presence_meta()
            .and_then(|m| m.get("color").and_then(|c| c.as_str()).map(str::to_owned))
            .unwrap_or_else(|| self.me.color.to_owned());
        // The first faces and names only: a room of 1000 renders a handful of elements.
        let me = self.get_presence_user_id();
        let roster = Roster::new(&self.list_presences(), Some(&me), self.limits);
        let mut ctx = Context::new();
        ctx.insert("doc_id", &self.doc_id)?
            .insert("title", &self.title)?
            .insert("content", &self.content)?
            .insert("simple", &self.simple)?
            .insert("roster", &roster)?
            .insert("invisible", &self.invisible)?
            .insert("cursors", &self.get_cursors())?
            .insert("my_color", &my_color)?
            .insert("me", &self.me)?
            .insert("flashes", &self.flashes.items())?
            // The hook compares broadcasts' `origin` with this to skip its own edits.
            .insert("conn", &socket.conn_id().to_string())?
            .insert("here", &format!("/doc/{}", self.doc_id))?
            .insert("page_title", &format!("{} · collab", self.title))?;
        Ok(ctx)
    }

    fn handle_heartbeat(&mut self, _socket: &mut Socket) {
        super::settle(self, |v| &mut v.me);
    }

    fn handle_presence_join(&mut self, presence: &PresenceRecord, socket: &mut Socket) {
        super::settle_on_join(self, presence, |v| &mut v.me);
        self.flashes.joined(presence);
        let payload = json!({ "name": display_name(presence), "color": presence.get_str("color") });
        if let Err(e) = socket.push_event("user_joined", payload) {
            tracing::warn!(error = %e, "collab: user_joined not sent");
        }
    }

    fn handle_presence_leave(&mut self, presence: &PresenceRecord, socket: &mut Socket) {
        self.flashes.left(presence);
        if let Err(e) = socket.push_event("user_left", json!({ "name": display_name(presence) })) {
            tracing::warn!(error = %e, "collab: user_left not sent");
        }
    }
}

#[djust::event_handlers]
impl CollaborativeEditor {
    /// `dj-mousemove` on the editor area (throttled to 20 Hz by `dj-throttle="50"`).
    // The own page never shows the own cursor: nothing to re-render here (peers still update).
    #[event_handler(render = false)]
    fn cursor_move(&mut self, x: i64, y: i64) -> Result<(), ViewError> {
        if self.invisible {
            return Ok(()); // nobody sees an invisible user's cursor
        }
        self.update_cursor_position(x, y)?;
        Ok(())
    }

    /// The "Go invisible" toggle: the spec's `untrack_presence()` (everyone else sees this
    /// user leave: list, count, cursor), and back with `track_presence` in a colour the room
    /// has free. The view stays subscribed, so an invisible user still sees the others; the
    /// shared text is not presence, so they still edit. The choice outlives the connection:
    /// the Editor hook keeps it in a cookie ([`Remembered`]), so a reconnect, a reload or a
    /// new tab opens invisible too, and tells the browser's other open tabs, which follow
    /// ([`CollaborativeEditor::set_invisible`]).
    #[event_handler]
    fn toggle_visibility(&mut self) -> Result<(), ViewError> {
        if self.invisible {
            self.me.color = super::track_in_room(self, self.me.preferred, self.me.meta())?;
            self.invisible = false;
        } else {
            self.untrack_presence();
            self.invisible = true;
        }
        Ok(())
    }

    /// The Editor hook's sync between tabs: another tab of this browser made this person
    /// invisible (or visible again); this tab follows, so no forgotten tab keeps them present.
    #[event_handler]
    fn set_invisible(&mut self, invisible: bool) -> Result<(), ViewError> {
        if invisible != self.invisible {
            self.toggle_visibility()?;
        }
        Ok(())
    }

    /// The spec's simple variant (a textarea with `dj-input="update_content"`, its
    /// `name="content"` putting the text under `content`): save the whole text, then tell
    /// everyone on the document, this connection included (its hook skips its own `origin`).
    /// Last writer wins; the editor's template uses the lossless `dj-shared-text` instead.
    #[event_handler]
    async fn update_content(
        &mut self,
        socket: &mut Socket,
        content: String,
    ) -> Result<(), ViewError> {
        let saved = self
            .db
            .save_content(self.doc_id, &content, &self.me.name)
            .await
            .map_err(ViewError::other)?;
        if !saved {
            return Err(ViewError::not_found(format!(
                "document {} was deleted; copy your text elsewhere",
                self.doc_id
            )));
        }
        self.content = content;
        self.broadcast_to_presence(
            "content_changed",
            json!({
                "content": self.content,
                "by": self.me.name,
                "origin": socket.conn_id().to_string(),
            }),
        )?;
        Ok(())
    }

    /// The hook's typing indicator: `{typing: true}` on input, `{typing: false}` after a pause
    /// or on blur. Shown in everyone's sidebar through the presence meta. The start of typing
    /// also makes this user the document's last editor (the list's "last edited by"; the
    /// shared text itself is saved by the runtime, which does not know who typed what).
    #[event_handler]
    async fn typing(&mut self, typing: bool) -> Result<(), ViewError> {
        if typing && !self.simple {
            self.db
                .set_updated_by(self.doc_id, &self.me.name)
                .await
                .map_err(ViewError::other)?;
        }
        if self.invisible {
            return Ok(()); // not present: nobody to tell
        }
        let mut meta = self.presence_meta().unwrap_or_else(|| self.me.meta());
        if let Some(obj) = meta.as_object_mut() {
            if obj.get("typing").and_then(serde_json::Value::as_bool) == Some(typing) {
                return Ok(());
            }
            obj.insert("typing".into(), json!(typing));
        }
        self.update_presence(meta)?;
        Ok(())
    }
}
