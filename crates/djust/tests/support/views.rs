//! Test-only live views and the router that mounts them.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use djust::{
    AuthUser, CloseReason, Context, Djust, DjustConfig, Info, InfoSender, LiveView, MountRequest,
    Socket, ViewError,
};
use serde_json::json;

use super::browser_views;

/// What the views report back to the tests (registered as app state).
#[derive(Clone, Default)]
pub struct Probe(Arc<Mutex<ProbeLog>>);

#[derive(Default)]
pub struct ProbeLog {
    /// Info senders of connected views, in mount order.
    pub senders: Vec<InfoSender>,
    /// `terminate` reasons, in order.
    pub closes: Vec<CloseReason>,
    /// Mounts over the WebSocket.
    pub connected_mounts: usize,
    /// Heartbeats seen by views.
    pub heartbeats: usize,
    /// Identities seen by `mount`: (user id, authenticated, connected).
    pub identities: Vec<(String, bool, bool)>,
    /// `handle_info` calls.
    pub infos: usize,
}

impl Probe {
    pub fn log(&self) -> MutexGuard<'_, ProbeLog> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The info sender of the `n`-th connected mount.
    pub fn sender(&self, n: usize) -> InfoSender {
        self.log().senders[n].clone()
    }

    pub fn on_mount(&self, req: &MountRequest, socket: &Socket) {
        let mut log = self.log();
        log.identities.push((
            req.identity.user_id().to_owned(),
            req.identity.is_authenticated(),
            req.connected,
        ));
        if socket.connected() {
            log.connected_mounts += 1;
            log.senders.push(socket.info_sender());
        }
    }
}

pub fn probe(socket: &Socket) -> Probe {
    socket.state::<Probe>().cloned().unwrap_or_default()
}

/// Server-side messages understood by the test views.
pub struct Bump(pub i64);
pub struct PushMsg(pub &'static str);

// ---------------------------------------------------------------- Counter

/// `/counter/{doc_id}`: a counter with typed handlers, push events and server messages.
pub struct Counter {
    doc_id: i64,
    count: i64,
    name: String,
    user: String,
}

impl LiveView for Counter {
    const TEMPLATE: &'static str = "counter.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let doc_id: i64 = req.params.get("doc_id")?;
        if doc_id == 404 {
            return Err(ViewError::not_found(format!("document {doc_id}")));
        }
        probe(socket).on_mount(req, socket);
        Ok(Counter {
            doc_id,
            count: req.query.get_opt("start")?.unwrap_or(0),
            name: String::new(),
            user: req.identity.user_id().to_owned(),
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("doc_id", &self.doc_id)?
            .insert("count", &self.count)?
            .insert("name", &self.name)?
            .insert("user", &self.user)?;
        Ok(ctx)
    }

    async fn handle_info(&mut self, msg: Info, socket: &mut Socket) -> Result<(), ViewError> {
        probe(socket).log().infos += 1;
        let msg = match msg.downcast::<Bump>() {
            Ok(Bump(n)) => {
                self.count += n;
                return Ok(());
            }
            Err(msg) => msg,
        };
        if let Ok(PushMsg(name)) = msg.downcast::<PushMsg>() {
            socket.push_event(name, json!({ "count": self.count }))?;
        }
        Ok(())
    }

    fn handle_heartbeat(&mut self, socket: &mut Socket) {
        probe(socket).log().heartbeats += 1;
    }

    async fn terminate(&mut self, reason: &CloseReason, socket: &mut Socket) {
        probe(socket).log().closes.push(reason.clone());
    }
}

#[djust::event_handlers]
impl Counter {
    #[event_handler]
    fn inc(&mut self, by: i64) {
        self.count += by;
    }

    #[event_handler]
    async fn set_name(&mut self, name: String, suffix: Option<String>) -> Result<(), ViewError> {
        self.name = format!("{name}{}", suffix.unwrap_or_default());
        Ok(())
    }

    #[event_handler]
    fn fail(&mut self) -> Result<(), ViewError> {
        Err(ViewError::bad_request("this handler always fails"))
    }

    #[event_handler]
    fn push(&mut self, socket: &mut Socket, name: String) -> Result<(), ViewError> {
        socket.push_event(name, json!({ "count": self.count }))
    }

    #[event_handler(name = "kick")]
    fn disconnect_me(&mut self, socket: &mut Socket) {
        socket.disconnect();
    }
}

const COUNTER_HTML: &str = r#"<h1>Doc {{ doc_id }}</h1>
<p id="count">{{ count }}</p>
<p id="name">{{ name }}</p>
<p id="user">{{ user }}</p>
<button id="inc" dj-click="inc" dj-value-by="1">+1</button>"#;

// ---------------------------------------------------------------- Cursor

/// `/cursor`: records cursor moves.
pub struct Cursor {
    x: i64,
    y: i64,
    moves: u64,
}

impl LiveView for Cursor {
    const TEMPLATE: &'static str = "cursor.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        probe(socket).on_mount(req, socket);
        Ok(Cursor {
            x: -1,
            y: -1,
            moves: 0,
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        djust::context! { x => self.x, y => self.y, moves => self.moves }
    }
}

#[djust::event_handlers]
impl Cursor {
    #[event_handler]
    fn cursor_move(&mut self, x: i64, y: i64) {
        self.x = x;
        self.y = y;
        self.moves += 1;
    }
}

const CURSOR_HTML: &str = r#"<div id="canvas" dj-mousemove="cursor_move" dj-throttle="100"
     style="position:absolute;left:40px;top:60px;width:400px;height:300px;background:#eee">
<span id="pos">{{ x }},{{ y }}</span> <span id="moves">{{ moves }}</span>
</div>"#;

// ---------------------------------------------------------------- the spec's templates

fn sample_presences() -> serde_json::Value {
    json!([
        {"id": "user_1", "name": "Alice", "color": "#ff6b6b"},
        {"id": "user_2", "name": "Bob", "color": "#4ecdc4"},
    ])
}

fn sample_cursors() -> serde_json::Value {
    json!({
        "user_1": {"x": 150, "y": 300, "meta": {"name": "Alice", "color": "#ff6b6b"}},
        "user_2": {"x": 400, "y": 200, "meta": {"name": "Bob", "color": "#4ecdc4"}},
    })
}

fn sample_document() -> serde_json::Value {
    json!({"content": "Hello <b>world</b> & friends"})
}

/// The spec's `document.html` with sample data.
pub struct SpecDocument;

impl LiveView for SpecDocument {
    const TEMPLATE: &'static str = "document.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(SpecDocument)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("presences", &sample_presences())?
            .insert("presence_count", &2)?
            .insert("document", &sample_document())?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl SpecDocument {}

/// The spec's `collab_doc.html` with sample data.
pub struct SpecCollab;

impl LiveView for SpecCollab {
    const TEMPLATE: &'static str = "collab_doc.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(SpecCollab)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("cursors", &sample_cursors())?
            .insert("document", &sample_document())?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl SpecCollab {
    #[event_handler]
    fn cursor_move(&mut self, x: i64, y: i64) {
        let _ = (x, y);
    }
}

/// The spec's `editor.html` with sample data.
pub struct SpecEditor {
    content: String,
}

impl LiveView for SpecEditor {
    const TEMPLATE: &'static str = "editor.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(SpecEditor {
            content: "Draft <one>".to_owned(),
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("presences", &sample_presences())?
            .insert("cursors", &sample_cursors())?
            .insert("my_color", &"#ff6b6b")?
            .insert("content", &self.content)?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl SpecEditor {
    #[event_handler]
    fn update_content(&mut self, value: String) {
        self.content = value;
    }
}

// ---------------------------------------------------------------- router

/// Test middleware: `x-test-user: 7:alice` makes the request authenticated.
pub async fn auth_from_header(mut req: Request, next: Next) -> Response {
    let user = req
        .headers()
        .get("x-test-user")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(':'))
        .and_then(|(id, name)| {
            Some(AuthUser {
                id: id.parse().ok()?,
                username: name.to_owned(),
            })
        });
    if let Some(user) = user {
        req.extensions_mut().insert(user);
    }
    next.run(req).await
}

/// Every test view, mounted, with the spec templates loaded from `tests/templates/`.
pub fn router(config: DjustConfig, probe: Probe) -> axum::Router {
    let templates_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/templates");
    Djust::builder()
        .config(config)
        .templates_dir(templates_dir)
        .templates_embedded([
            ("counter.html", COUNTER_HTML),
            ("cursor.html", CURSOR_HTML),
            ("input.html", browser_views::INPUT_HTML),
            ("hooks.html", browser_views::HOOKS_HTML),
            ("gap.html", browser_views::GAP_HTML),
        ])
        .state(probe)
        .live::<Counter>("/counter/{doc_id}")
        .live::<Cursor>("/cursor")
        .live::<SpecDocument>("/spec/document/{doc_id}")
        .live::<SpecCollab>("/spec/collab/{doc_id}")
        .live::<SpecEditor>("/spec/editor/{doc_id}")
        .live::<browser_views::InputView>("/browser/input")
        .live::<browser_views::HooksView>("/browser/hooks")
        .live::<browser_views::GapView>("/browser/gap")
        .into_router()
        .expect("test app builds")
        .layer(middleware::from_fn(auth_from_header))
}
