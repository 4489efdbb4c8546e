//! Presence and live cursors in live views: the spec's `PresenceMixin` and `LiveCursorMixin`.
//!
//! ```no_run
//! use djust::presence::{LiveCursorMixin, LivePresence, PresenceMixin, PresenceRecord};
//! use djust::{Context, LiveView, MountRequest, Socket, ViewError};
//! use serde_json::json;
//!
//! #[derive(serde::Serialize)]
//! struct CollaborativeDocView {
//!     doc_id: i64,
//!     #[serde(skip)]
//!     presence: LivePresence,
//! }
//!
//! impl PresenceMixin for CollaborativeDocView {
//!     const PRESENCE_KEY: &'static str = "doc:{doc_id}";
//!     fn presence(&self) -> &LivePresence {
//!         &self.presence
//!     }
//! }
//! impl LiveCursorMixin for CollaborativeDocView {}
//!
//! impl LiveView for CollaborativeDocView {
//!     const TEMPLATE: &'static str = "collab_doc.html";
//!
//!     async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
//!         let view = Self { doc_id: req.params.get("doc_id")?, presence: LivePresence::new(socket) };
//!         let name = req.identity.username().unwrap_or("guest");
//!         view.track_presence(json!({"name": name, "color": "#ff6b6b"}))?;
//!         Ok(view)
//!     }
//!
//!     fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
//!         let mut ctx = Context::new();
//!         ctx.insert("cursors", &self.get_cursors())?;
//!         ctx.insert("presences", &self.list_presences())?;
//!         Ok(ctx)
//!     }
//!
//!     fn handle_presence_join(&mut self, presence: &PresenceRecord, socket: &mut Socket) {
//!         let _ = socket.push_event("flash", json!({"message": format!("{} joined", presence.get_str("name").unwrap_or("?"))}));
//!     }
//! }
//!
//! #[djust::event_handlers]
//! impl CollaborativeDocView {
//!     #[event_handler]
//!     fn cursor_move(&mut self, x: i64, y: i64) -> Result<(), ViewError> {
//!         Ok(self.update_cursor_position(x, y)?)
//!     }
//! }
//! ```
//!
//! The runtime owns the engine ([`djust_presence::Presence`], memory backend by default, built
//! from [`crate::DjustConfig::presence`]); every connection gets a [`LivePresence`]. The
//! connection task polls the view's subscription with the WebSocket in one `select!`, calls
//! `handle_presence_join` / `handle_presence_leave` on every *other* user's join or leave,
//! delivers `broadcast_to_presence` events as push events (sender included), re-renders on
//! presence and cursor changes coalesced per tick, forwards client heartbeats, and untracks on
//! close: at once after a clean close, after the reconnect grace after a drop.

mod cursors;
mod link;
mod mixin;
mod settings;
mod shared;

pub use cursors::Cursors;
#[cfg(test)]
pub(crate) use cursors::dom_id;
pub(crate) use cursors::{Coord, CursorExtras, DomIdBuf, dom_hash, parse_dom_id};
pub use djust_presence::{
    ConnId, Cursor, EventKind, Presence, PresenceConfig, PresenceError, PresenceEvent,
    PresenceRecord,
};
pub use link::LivePresence;
pub(crate) use link::PresenceLink;
pub use mixin::{LiveCursorMixin, PresenceMixin};
pub(crate) use settings::parse_secs;
pub use settings::{PresenceBackendKind, PresenceSettings};
pub use shared::PresenceList;
