//! The spec's Quick Start as one app: who is viewing the page, and everyone's live cursor.
//! `cargo run -p hello`, then open http://127.0.0.1:8000/ in two browser windows.

use djust::presence::{LiveCursorMixin, LivePresence, PresenceMixin};
use djust::{Context, Djust, LiveView, MountRequest, Socket, ViewError};

#[derive(serde::Serialize)]
struct DocumentView {
    doc_id: i64,
    #[serde(skip)]
    presence: LivePresence,
}

impl PresenceMixin for DocumentView {
    const PRESENCE_KEY: &'static str = "document:{doc_id}"; // group users by document

    fn presence(&self) -> &LivePresence {
        &self.presence
    }
}

impl LiveCursorMixin for DocumentView {}

impl LiveView for DocumentView {
    const TEMPLATE: &'static str = "document.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let doc_id = req.params.get_opt("doc_id")?.unwrap_or(1);
        let view = Self {
            doc_id,
            presence: LivePresence::new(socket),
        };
        // No login needed: a visitor is `anon_{session key}`, shown as "Guest 3f2a" in a colour
        // of their own (pass {"name": ..., "color": ...} to choose yourself).
        view.track_presence(djust::serde_json::json!({}))?;
        Ok(view)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("presences", &self.list_presences())?
            .insert("presence_count", &self.presence_count())?
            .insert("cursors", &self.get_cursors())?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl DocumentView {
    /// The mouse moved over `#canvas`: peers see this user's cursor move.
    #[event_handler(render = false)]
    fn cursor_move(&mut self, x: i64, y: i64) -> Result<(), ViewError> {
        Ok(self.update_cursor_position(x, y)?)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = Djust::builder()
        // `templates/` of this crate, from any directory (`cargo run` sets CARGO_MANIFEST_DIR);
        // in debug builds an edit shows on open pages at once, no rebuild.
        .templates_dir("templates")
        .live::<DocumentView>("/")
        .live::<DocumentView>("/doc/{doc_id}")
        .into_router()?;
    let addr = std::env::var("HELLO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("hello: serving http://{}/", listener.local_addr()?);
    djust::axum::serve(listener, router).await?;
    Ok(())
}
