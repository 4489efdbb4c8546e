//! The live views, one per file, and what they share: loading documents, flash messages.

pub(crate) mod canvas;
pub(crate) mod directory;
pub(crate) mod document;
pub(crate) mod editor;
pub(crate) mod list;
pub(crate) mod remembered;
pub(crate) mod roster;

use std::collections::VecDeque;

use djust::presence::{PresenceError, PresenceMixin, PresenceRecord};
use djust::{MountRequest, ViewError};
use serde::Serialize;
use serde_json::Value;

use crate::db::{Db, Document};
use crate::people;

/// The database the app registered with `DjustBuilder::state`.
pub(crate) fn db(req: &MountRequest) -> Result<Db, ViewError> {
    req.state::<Db>()
        .cloned()
        .ok_or_else(|| ViewError::other("collab: no Db registered as djust state"))
}

/// The document named by the `{doc_id}` path parameter (404 if there is none).
pub(crate) async fn load_document(db: &Db, req: &MountRequest) -> Result<Document, ViewError> {
    let doc_id: i64 = req.params.get("doc_id")?;
    db.document(doc_id)
        .await
        .map_err(ViewError::other)?
        .ok_or_else(|| ViewError::not_found(format!("there is no document {doc_id}")))
}

/// `LiveView::authorize` of every view of one document: a private document only for its
/// owner. Runs before `mount`, so a refused socket never joins the document's presence group
/// (HTTP 403, or over the WebSocket `forbidden` and close 4403). A missing document is left
/// to `mount`'s 404.
pub(crate) async fn authorize_document(req: &MountRequest) -> Result<(), ViewError> {
    let doc_id: i64 = req.params.get("doc_id")?;
    let doc = db(req)?.document(doc_id).await.map_err(ViewError::other)?;
    let viewer = req.identity.auth_user().map(|u| u.id);
    match doc {
        Some(doc) if !doc.visible_to(viewer) => Err(ViewError::forbidden(format!(
            "document {doc_id} is private to its owner; log in as them to open it"
        ))),
        _ => Ok(()),
    }
}

/// How many join/leave messages a page keeps (older ones are dropped; all fade out via CSS).
const MAX_FLASHES: usize = 4;

/// One join/leave message.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Flash {
    /// Increasing per view: the element's `dj-key`, so a new message is an insert, not a
    /// rewrite of every message's text (which would restart their fade-out).
    pub(crate) id: u64,
    /// `join` or `leave` (CSS class).
    pub(crate) kind: &'static str,
    /// The message; rendered by the template, so escaped.
    pub(crate) text: String,
}

/// The last few join/leave messages of one view, newest last.
#[derive(Debug, Default)]
pub(crate) struct Flashes {
    next_id: u64,
    items: VecDeque<Flash>,
}

impl Flashes {
    /// Records "`name` joined" for `presence`.
    pub(crate) fn joined(&mut self, presence: &PresenceRecord) {
        self.push("join", format!("{} joined", display_name(presence)));
    }

    /// Records "`name` left" for `presence`.
    pub(crate) fn left(&mut self, presence: &PresenceRecord) {
        self.push("leave", format!("{} left", display_name(presence)));
    }

    fn push(&mut self, kind: &'static str, text: String) {
        self.next_id += 1;
        self.items.push_back(Flash {
            id: self.next_id,
            kind,
            text,
        });
        while self.items.len() > MAX_FLASHES {
            self.items.pop_front();
        }
    }

    /// The messages, oldest first.
    pub(crate) fn items(&self) -> impl Serialize + '_ {
        &self.items
    }
}

/// The `name` in a presence's meta (every view here tracks one), else a neutral word.
pub(crate) fn display_name(presence: &PresenceRecord) -> &str {
    presence.get_str("name").unwrap_or("someone")
}

/// Tracks `view` in its room with `meta` (a [`Person::meta`]) in the colour the room gives
/// them ([`people::room_color`]: the one they already show through another tab, else
/// `preferred` or the next one nobody shows), then settles a clash with someone who joined at
/// the same moment ([`settle_color`]). Returns the colour shown.
pub(crate) fn track_in_room<V: PresenceMixin>(
    view: &V,
    preferred: &'static str,
    mut meta: Value,
) -> Result<&'static str, PresenceError> {
    let key = view.get_presence_key()?;
    let records = view.presence().engine().list_shared(&key);
    let color = people::room_color(preferred, &view.get_presence_user_id(), &records);
    if let Some(map) = meta.as_object_mut() {
        map.insert("color".into(), Value::from(color));
    }
    view.track_presence(meta)?;
    Ok(settle_color(view, preferred)?.unwrap_or(color))
}

/// If someone who joined earlier shows this user's colour (both picked it at the same moment,
/// or on two processes), moves them to a free one ([`people::yielded_color`]), updates the
/// presence meta and returns the new colour. Called after tracking, on heartbeats and (through
/// [`settle_on_join`]) on the join of someone showing this user's colour, so a room converges.
pub(crate) fn settle_color<V: PresenceMixin>(
    view: &V,
    preferred: &'static str,
) -> Result<Option<&'static str>, PresenceError> {
    if !view.presence().is_tracked() {
        return Ok(None);
    }
    let key = view.get_presence_key()?;
    let records = view.presence().engine().list_shared(&key);
    let Some(color) = people::yielded_color(preferred, &view.get_presence_user_id(), &records)
    else {
        return Ok(None);
    };
    let Some(mut meta) = view.presence_meta() else {
        return Ok(None);
    };
    if let Some(map) = meta.as_object_mut() {
        map.insert("color".into(), Value::from(color));
    }
    view.update_presence(meta)?;
    Ok(Some(color))
}

/// [`settle`] for a join: only a newcomer who shows this user's colour can make them move, so
/// any other join costs nothing (with N viewers and N joins, settling on every join would read
/// the whole listing N² times: 80 % of the server's CPU in a 1000-user join storm).
pub(crate) fn settle_on_join<V: PresenceMixin>(
    view: &mut V,
    joined: &PresenceRecord,
    me: impl Fn(&mut V) -> &mut crate::people::Person,
) {
    let mine = me(view).color;
    if joined
        .get_str("color")
        .is_some_and(|c| c.eq_ignore_ascii_case(mine))
        && joined_before_me(view, joined)
    {
        settle(view, me);
    }
}

/// Whether `joined` came before this view's user in the order [`people::yielded_color`]
/// settles clashes by (join time, then user id): only then can their colour make this user
/// move. A newcomer who picked this user's colour yields themselves, so in a join storm
/// nearly every join costs this one lookup of the user's own record.
fn joined_before_me<V: PresenceMixin>(view: &V, joined: &PresenceRecord) -> bool {
    let Ok(key) = view.get_presence_key() else {
        return false;
    };
    let me = view.get_presence_user_id();
    let records = view.presence().engine().list_shared(&key);
    records
        .iter()
        .find(|r| r.id() == me)
        .is_some_and(|mine| (joined.joined_at(), joined.id()) < (mine.joined_at(), mine.id()))
}

/// [`settle_color`] from a view callback (which cannot fail): the new colour goes into the
/// view's person (`me`), a refusal into the log.
pub(crate) fn settle<V: PresenceMixin>(
    view: &mut V,
    me: impl Fn(&mut V) -> &mut crate::people::Person,
) {
    let preferred = me(view).preferred;
    match settle_color(view, preferred) {
        Ok(Some(color)) => me(view).color = color,
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "collab: colour not changed"),
    }
}
