//! [`PresenceMixin`] and [`LiveCursorMixin`]: the spec's mixins as traits with provided
//! methods, so a view calls `self.track_presence(meta)` exactly as the spec writes it.

use djust_presence::PresenceError;
use serde::Serialize;
use serde_json::Value;

use super::cursors::Cursors;
use super::link::LivePresence;
use super::shared::PresenceList;

/// Presence for a live view (the spec's `PresenceMixin`).
///
/// Implement [`PresenceMixin::presence`] (return the view's [`LivePresence`] field) and set
/// [`PresenceMixin::PRESENCE_KEY`]; everything else is provided. The key may be a template
/// such as `"document:{doc_id}"`, filled from the view's serialized fields when
/// `track_presence` is called (a missing field is an error naming it).
///
/// The join/leave callbacks (`handle_presence_join` / `handle_presence_leave`) are methods of
/// [`crate::LiveView`], because the runtime calls them.
pub trait PresenceMixin: Serialize {
    /// The presence group: a static key (`"document_editors"`) or a template
    /// (`"document:{doc_id}"`). Leave it empty only if you override `get_presence_key`.
    const PRESENCE_KEY: &'static str = "";

    /// The view's presence handle (a `#[serde(skip)]` field set with `LivePresence::new(socket)`).
    fn presence(&self) -> &LivePresence;

    /// The key of this view's presence group. Override for keys a template can't express.
    ///
    /// # Errors
    /// A missing or non-scalar template field, or an empty key.
    fn get_presence_key(&self) -> Result<String, PresenceError> {
        if Self::PRESENCE_KEY.is_empty() {
            return Err(PresenceError::EmptyKey);
        }
        Ok(djust_presence::key::resolve(Self::PRESENCE_KEY, self)?)
    }

    /// Who this connection is present as. Default: the authenticated user's id, else
    /// `anon_{session_key}` (tabs of one browser session are one user).
    fn get_presence_user_id(&self) -> String {
        self.presence().default_user_id().to_owned()
    }

    /// Starts tracking this connection in the presence group with `meta` (any JSON object:
    /// name, colour, avatar, …) and subscribes the view to the group. Called again with a
    /// different key (after the key's fields changed), it moves the presence.
    ///
    /// A `"name"` or `"color"` the meta leaves out is filled with the identity's default
    /// ([`LivePresence::with_default_meta`]): `track_presence(json!({}))` (or `Value::Null`)
    /// shows an anonymous user as e.g. `Guest 3f2a` in a colour of their own.
    ///
    /// # Errors
    /// Bad meta (not an object, reserved key, too large) or a key that can't be resolved.
    fn track_presence(&self, meta: Value) -> Result<(), PresenceError> {
        let key = self.get_presence_key()?;
        let user_id = self.get_presence_user_id();
        let taken = if meta.get("color").is_none() {
            colors_of_others(self.presence(), &key, &user_id)
        } else {
            Vec::new()
        };
        let meta = self.presence().with_default_meta(meta, &taken);
        self.presence().track(key, &user_id, meta)
    }

    /// Stops tracking (also automatic when the connection closes). The view keeps receiving
    /// the group's updates.
    fn untrack_presence(&self) {
        self.presence().untrack();
    }

    /// Replaces this connection's meta, e.g. `{"typing": true}` for a typing indicator; peers
    /// see an update (not a leave and join). A missing `"name"` / `"color"` is filled as in
    /// [`PresenceMixin::track_presence`].
    ///
    /// # Errors
    /// Bad meta, or `track_presence` was never called.
    fn update_presence(&self, meta: Value) -> Result<(), PresenceError> {
        let mine = self.presence().meta();
        let mine = mine.as_ref().and_then(|m| m.get("color")).cloned();
        let mut meta = meta;
        if let (Some(color), Value::Object(map)) = (mine, &mut meta) {
            // Keep the colour chosen at tracking time rather than choosing again.
            map.entry("color").or_insert(color);
        }
        self.presence()
            .update(self.presence().with_default_meta(meta, &[]))
    }

    /// Everyone in the group, one record per user (`p.name` and `p.meta.name` both work in
    /// templates), in join order. Empty if the key can't be resolved.
    fn list_presences(&self) -> PresenceList {
        self.presence()
            .list(|| self.get_presence_key())
            .unwrap_or_default()
    }

    /// The number of users in the group.
    fn presence_count(&self) -> usize {
        self.presence()
            .count(|| self.get_presence_key())
            .unwrap_or_default()
    }

    /// Sends the event `event` with `payload` to every client in the group, the sender
    /// included (its hooks' `handleEvent(event, ...)` and a `djust:<event>` window event).
    ///
    /// # Errors
    /// The payload can't be serialized, or `track_presence` was never called.
    fn broadcast_to_presence(
        &self,
        event: &str,
        payload: impl Serialize,
    ) -> Result<(), PresenceError>
    where
        Self: Sized,
    {
        let payload =
            serde_json::to_value(payload).map_err(|e| PresenceError::Payload(e.to_string()))?;
        self.presence().broadcast(event, payload)
    }

    /// The meta last tracked or updated by this connection (the spec's `_presence_meta`).
    fn presence_meta(&self) -> Option<Value> {
        self.presence().meta()
    }
}

/// Live cursors for a view (the spec's `LiveCursorMixin`): implement it with an empty
/// `impl LiveCursorMixin for MyView {}` on a view that implements [`PresenceMixin`].
pub trait LiveCursorMixin: PresenceMixin {
    /// Moves this user's cursor; peers re-render (coalesced per tick). Positions are in pixels
    /// relative to the element carrying `dj-mousemove`. Called from an event whose payload had
    /// `_cursor` (the reference client's pointer events), it also applies that: the anchor
    /// travels with the cursor, and `hidden` hides the cursor for peers until the next move.
    ///
    /// # Errors
    /// `track_presence` was never called (or the connection was untracked).
    fn update_cursor_position(&self, x: i64, y: i64) -> Result<(), PresenceError> {
        // i64 → f64 is exact for any pixel coordinate a screen has.
        #[allow(clippy::cast_precision_loss)]
        self.presence().update_cursor(x as f64, y as f64)
    }

    /// The other users' cursors, each with its user's meta:
    /// `{"user_1": {"x": 150, "y": 300, "meta": {"name": "Alice", ...}}, ...}`.
    fn get_cursors(&self) -> Cursors {
        let me = self.get_presence_user_id();
        self.presence()
            .cursors_except(&me, || self.get_presence_key())
            .unwrap_or_default()
    }
}

/// The colours other users of `key` show (for choosing a default colour nobody has).
fn colors_of_others(presence: &LivePresence, key: &str, user_id: &str) -> Vec<String> {
    presence
        .engine()
        .list(key)
        .iter()
        .filter(|p| p.id() != user_id)
        .filter_map(|p| p.get_str("color").map(str::to_owned))
        .collect()
}
