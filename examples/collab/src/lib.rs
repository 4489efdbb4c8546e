//! collab: the spec's "Full Example: Collaborative Editing" as a real application on djust.
//!
//! Documents live in SQLite. `/` lists them; `/doc/{id}` is the shared editor with a presence
//! sidebar, remote cursors (name and colour), the textarea synced through `content_changed`
//! broadcasts, join/leave messages and a typing indicator. The spec's smaller `DocumentView`
//! (`/document/{id}`) and `CollaborativeDocView` (`/canvas/{id}`) are routes too. `/login` logs
//! in by name (a POST from this site; a server-side session named by a signed, expiring
//! cookie); everyone else is a guest with a generated name. Every response carries security
//! headers (`headers.rs`).
//!
//! ```no_run
//! use collab::{AppOptions, app};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let router = app(AppOptions::new("collab.sqlite3"))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, router).await?;
//! # Ok(()) }
//! ```
//!
//! Run it with `cargo run --release -p collab` (options: `--db`, `--port`, `--host`); the
//! design is described in `docs/presence.md`, section "The collab example".

#![warn(missing_docs)]

mod auth;
pub mod db;
mod headers;
mod login;
pub mod people;
pub mod rate;
pub mod same_site;
mod server;
mod views;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use djust::{Djust, DjustConfig};

pub use auth::{AUTH_COOKIE, DEFAULT_LOGIN_TTL, MAX_NAME_CHARS, NameError, validate_name};
pub use headers::CSP;
pub use server::serve;
pub use views::list::PAGE_SIZE;
pub use views::roster::RoomLimits;

use crate::auth::{AuthCookies, AuthState};
use crate::db::{Db, DbError};
use crate::views::canvas::CollaborativeDocView;
use crate::views::document::DocumentView;
use crate::views::editor::CollaborativeEditor;
use crate::views::list::DocumentList;

/// The templates, compiled into the binary.
const TEMPLATES: [(&str, &str); 7] = [
    ("layout.html", include_str!("../templates/layout.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("editor.html", include_str!("../templates/editor.html")),
    ("document.html", include_str!("../templates/document.html")),
    (
        "document_page.html",
        include_str!("../templates/document_page.html"),
    ),
    (
        "collab_doc.html",
        include_str!("../templates/collab_doc.html"),
    ),
    (
        "canvas_page.html",
        include_str!("../templates/canvas_page.html"),
    ),
];

const COLLAB_JS: &str = include_str!("../assets/collab.js");
const COLLAB_CSS: &str = include_str!("../assets/collab.css");

/// How to build the app.
#[derive(Debug)]
pub struct AppOptions {
    /// The SQLite file (created and seeded if missing).
    pub db_path: PathBuf,
    /// The djust runtime configuration (its secret key also signs the login cookie).
    pub config: DjustConfig,
    /// A presence engine to use instead of the one djust builds from `config` (tests pass
    /// one to read it directly).
    pub presence: Option<djust::presence::Presence>,
    /// How long a login lasts (cookie `Max-Age`, checked server-side too); default
    /// [`DEFAULT_LOGIN_TTL`], 7 days.
    pub login_ttl: Duration,
    /// Shared-text settings (size limits, save delay); djust's defaults if `None`.
    pub text: Option<djust::text::TextConfig>,
    /// How many faces and names a room shows before it only counts (default 5 and 12).
    pub room_limits: RoomLimits,
}

impl AppOptions {
    /// Default configuration with the database at `db_path`.
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self {
            db_path: db_path.into(),
            config: DjustConfig::default(),
            presence: None,
            login_ttl: DEFAULT_LOGIN_TTL,
            text: None,
            room_limits: RoomLimits::default(),
        }
    }

    /// Sets [`AppOptions::room_limits`].
    pub fn room_limits(mut self, limits: RoomLimits) -> Self {
        self.room_limits = limits;
        self
    }

    /// Sets [`AppOptions::login_ttl`].
    pub fn login_ttl(mut self, ttl: Duration) -> Self {
        self.login_ttl = ttl;
        self
    }

    /// Sets [`AppOptions::text`].
    pub fn text(mut self, config: djust::text::TextConfig) -> Self {
        self.text = Some(config);
        self
    }

    /// Sets [`AppOptions::config`].
    pub fn config(mut self, config: DjustConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets [`AppOptions::presence`].
    pub fn presence(mut self, presence: djust::presence::Presence) -> Self {
        self.presence = Some(presence);
        self
    }
}

/// Why the app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CollabError {
    /// The database could not be opened or prepared.
    #[error(transparent)]
    Db(#[from] DbError),
    /// djust refused the configuration, a template or a route.
    #[error(transparent)]
    Djust(#[from] djust::BuildError),
    /// The login page template is broken.
    #[error("login page template: {0}")]
    Template(#[from] minijinja::Error),
}

/// Builds the whole application: live views, login routes, static assets, and the middleware
/// that authenticates every request from the login cookie. Call it inside a Tokio runtime
/// (the presence engine starts its sweeper task).
///
/// # Errors
/// [`CollabError`] if the database cannot be opened or djust rejects the setup.
pub fn app(opts: AppOptions) -> Result<Router, CollabError> {
    app_parts(opts).map(|(router, _handle)| router)
}

/// [`app`], plus djust's handle: call [`djust::DjustHandle::shutdown`] once the server has
/// stopped, so that with the Redis backend the other processes drop this one's users at once.
///
/// # Errors
/// As for [`app`].
pub fn app_parts(opts: AppOptions) -> Result<(Router, djust::DjustHandle), CollabError> {
    let db = Db::open(&opts.db_path)?;
    let cookies = Arc::new(AuthCookies::new(
        opts.config.secret_key.as_deref(),
        opts.config.secure_cookie,
        opts.login_ttl,
    ));
    let allowed_origins = opts.config.allowed_origins.clone();
    let mut live = Djust::builder()
        .config(opts.config)
        .templates_embedded(TEMPLATES)
        .layout("layout.html")
        .state(db.clone())
        .state(rate::CreationLimiter::default())
        .state(opts.room_limits)
        .live::<DocumentList>("/")
        .live::<CollaborativeEditor>("/doc/{doc_id}")
        .live::<DocumentView>("/document/{doc_id}")
        .live::<CollaborativeDocView>("/canvas/{doc_id}");
    if let Some(presence) = opts.presence {
        live = live.presence(presence);
    }
    if let Some(text) = opts.text {
        live = live.shared_text_config(text);
    }
    let (router, handle) = live.into_parts()?;
    let router = router
        .merge(login::routes(
            db.clone(),
            cookies.clone(),
            &allowed_origins,
        )?)
        .route("/static/collab.js", get(script))
        .route("/static/collab.css", get(stylesheet))
        .layer(axum::middleware::from_fn_with_state(
            AuthState { cookies, db },
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(headers::security_headers));
    Ok((router, handle))
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        COLLAB_JS,
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        COLLAB_CSS,
    )
}
