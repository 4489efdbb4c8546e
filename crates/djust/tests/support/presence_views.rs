//! A presence + cursors test view ("room") and the router that mounts it on a given engine.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::middleware;
use djust::presence::{LiveCursorMixin, LivePresence, Presence, PresenceMixin, PresenceRecord};
use djust::{Context, Djust, DjustConfig, LiveView, MountRequest, Socket, ViewError};
use djust_presence::{ManualClock, PresenceConfig};
use serde::Serialize;
use serde_json::{Value, json};

use super::views::auth_from_header;

pub const ROOM_HTML: &str = r#"<p id="count">{{ presence_count }}</p>
<ul>{% for p in presences %}<li data-id="{{ p.id }}">{{ p.name }}{% if p.typing %} typing{% endif %}</li>{% endfor %}</ul>
{% for user_id, cursor in cursors.items %}<b class="cursor" data-user="{{ user_id }}" dj-cursor="{{ cursor.dom_id }}" dj-cursor-anchor="{{ cursor.anchor }}" style="left: {{ cursor.x }}px; top: {{ cursor.y }}px;">{{ cursor.meta.name }}@{{ cursor.x }},{{ cursor.y }}</b>{% endfor %}
<i id="me">{{ my_name }}</i>"#;

/// Renders per presence user id (tests use distinct ids, so parallel tests don't mix).
static RENDERS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// How many times a `Room` of `user_id` has been rendered.
pub fn renders_of(user_id: &str) -> usize {
    RENDERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(user_id)
        .copied()
        .unwrap_or(0)
}

#[derive(Serialize)]
pub struct Room {
    room: String,
    #[serde(skip)]
    presence: LivePresence,
    #[serde(skip)]
    name: String,
}

impl PresenceMixin for Room {
    const PRESENCE_KEY: &'static str = "room:{room}";
    fn presence(&self) -> &LivePresence {
        &self.presence
    }
}

impl LiveCursorMixin for Room {}

impl LiveView for Room {
    const TEMPLATE: &'static str = "room.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let name = match req.query.get_opt::<String>("name")? {
            Some(name) => name,
            None => req.identity.username().unwrap_or("anon").to_owned(),
        };
        let view = Room {
            room: req.params.get("room")?,
            presence: LivePresence::new(socket),
            name,
        };
        view.track_presence(json!({"name": view.name}))?;
        Ok(view)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        *RENDERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(self.get_presence_user_id())
            .or_default() += 1;
        let mut ctx = Context::new();
        ctx.insert("presences", &self.list_presences())?
            .insert("presence_count", &self.presence_count())?
            .insert("cursors", &self.get_cursors())?
            .insert(
                "my_name",
                &self.presence_meta().and_then(|m| m.get("name").cloned()),
            )?;
        Ok(ctx)
    }

    fn handle_presence_join(&mut self, presence: &PresenceRecord, socket: &mut Socket) {
        let _ = socket.push_event("joined", json!({"name": presence.get_str("name")}));
    }

    fn handle_presence_leave(&mut self, presence: &PresenceRecord, socket: &mut Socket) {
        let _ = socket.push_event("left", json!({"name": presence.get_str("name")}));
    }
}

#[djust::event_handlers]
impl Room {
    // The own page never shows the own cursor: nothing to re-render here (peers still update).
    #[event_handler(render = false)]
    fn cursor_move(&mut self, x: i64, y: i64) -> Result<(), ViewError> {
        Ok(self.update_cursor_position(x, y)?)
    }

    #[event_handler]
    fn typing(&mut self, typing: bool) -> Result<(), ViewError> {
        Ok(self.update_presence(json!({"name": self.name, "typing": typing}))?)
    }

    #[event_handler]
    fn retrack(&mut self, meta: Value) -> Result<(), ViewError> {
        Ok(self.track_presence(meta)?)
    }

    #[event_handler]
    fn go_invisible(&mut self) {
        self.untrack_presence();
    }

    #[event_handler]
    fn move_to(&mut self, room: String) -> Result<(), ViewError> {
        self.room = room;
        Ok(self.track_presence(json!({"name": self.name}))?)
    }

    /// Keeps this connection's task busy for `ms` (a server that stops answering for a
    /// moment: the client's heartbeat then times out and it reconnects).
    #[event_handler(render = false)]
    async fn stall(&mut self, ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }

    #[event_handler]
    fn shout(&mut self, message: String) -> Result<(), ViewError> {
        Ok(self.broadcast_to_presence("shout", json!({"message": message, "from": self.name}))?)
    }
}

/// An engine on a manual clock (timeouts advance only when the test says so) with a 5 s
/// reconnect grace and the default 30 s / 60 s heartbeat and timeout.
pub fn manual_engine() -> (Presence, ManualClock) {
    let clock = ManualClock::new(djust_presence::Timestamp::from_millis(1_700_000_000_000));
    let engine = Presence::builder()
        .config(PresenceConfig::default())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("engine");
    (engine, clock)
}

pub fn presence_router(config: DjustConfig, engine: Presence) -> axum::Router {
    room_router(config, Some(engine))
}

/// The room app; with `engine: None` the runtime builds the engine from `config`.
pub fn room_router(config: DjustConfig, engine: Option<Presence>) -> axum::Router {
    room_parts(config, engine).0
}

/// [`room_router`] with its [`djust::DjustHandle`].
pub fn room_parts(
    config: DjustConfig,
    engine: Option<Presence>,
) -> (axum::Router, djust::DjustHandle) {
    let builder = Djust::builder()
        .config(config)
        .templates_embedded([("room.html", ROOM_HTML)]);
    let builder = match engine {
        Some(engine) => builder.presence(engine),
        None => builder,
    };
    let (router, handle) = builder
        .live::<Room>("/room/{room}")
        .into_parts()
        .expect("presence test app builds");
    (router.layer(middleware::from_fn(auth_from_header)), handle)
}
