//! The application builder: templates, configuration, state and the mounted views, turned into
//! an axum `Router`.

use std::path::PathBuf;
use std::sync::Arc;

use djust_presence::{Presence, SweeperHandle};
#[cfg(feature = "redis")]
use djust_presence_redis::{RedisConfig, RedisHandle, RedisPresence};

/// Without the `redis` feature there is no Redis driver to hold.
#[cfg(not(feature = "redis"))]
#[derive(Debug)]
pub(crate) enum RedisHandle {}

use crate::config::DjustConfig;
use crate::error::BuildError;
use crate::http::PageRoute;
use crate::presence::PresenceBackendKind;
use crate::routes::{Routes, ViewEntry};
use crate::session::Sessions;
use crate::shutdown::LiveConnections;
use crate::template::{DEFAULT_LAYOUT, TemplateSources, Templates};
use crate::view::LiveView;

/// What every connection and page render shares.
pub(crate) struct App {
    pub(crate) config: DjustConfig,
    pub(crate) templates: Templates,
    pub(crate) sessions: Sessions,
    pub(crate) state: Arc<http::Extensions>,
    pub(crate) layout: String,
    pub(crate) presence: Presence,
    /// Keeps the presence sweeper running for as long as the router lives (it stops when
    /// dropped). `None` when the app supplied its own engine.
    #[allow(dead_code)] // held for its Drop
    pub(crate) sweeper: Option<SweeperHandle>,
}

/// Entry point: `Djust::builder()`.
///
/// See the crate documentation for a complete example.
#[derive(Debug, Clone, Copy)]
pub struct Djust;

impl Djust {
    /// Starts configuring a djust application.
    pub fn builder() -> DjustBuilder {
        DjustBuilder::default()
    }
}

/// One `.live()` registration, kept until `into_router` knows the shared state.
struct LiveRoute {
    pattern: String,
    view: &'static str,
    template: &'static str,
    page: PageRoute,
    entry: Arc<dyn crate::routes::ServeView<crate::conn::WsTransport>>,
}

/// Configures templates, settings, state and live views; [`DjustBuilder::into_router`] builds
/// the axum router.
#[derive(Default)]
pub struct DjustBuilder {
    sources: TemplateSources,
    config: Option<DjustConfig>,
    layout: Option<String>,
    state: http::Extensions,
    views: Vec<LiveRoute>,
    presence: Option<Presence>,
    without_ops_routes: bool,
    without_fallback: bool,
    text_config: djust_text::TextConfig,
    reload_dirs: Vec<PathBuf>,
}

impl DjustBuilder {
    /// Loads templates from this directory (names are paths relative to it).
    pub fn templates_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sources.dir = Some(dir.into());
        self
    }

    /// Adds templates from memory, e.g. `[("editor.html", include_str!("editor.html"))]`.
    /// They take precedence over files of the same name in `templates_dir`.
    pub fn templates_embedded<I, N, S>(mut self, templates: I) -> Self
    where
        I: IntoIterator<Item = (N, S)>,
        N: Into<String>,
        S: Into<String>,
    {
        self.sources.embedded.extend(
            templates
                .into_iter()
                .map(|(name, src)| (name.into(), src.into())),
        );
        self
    }

    /// Sets the runtime configuration. Without this call the builder reads the `DJUST_*`
    /// environment variables ([`DjustConfig::from_env`]), and a bad value fails
    /// [`DjustBuilder::into_router`] naming the variable.
    pub fn config(mut self, config: DjustConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Replaces the page layout with the template `name`. It receives the view's context plus
    /// `djust.root` (the mount point with the server-rendered view — required), `djust.script`
    /// (the client script tag — required, in `<head>`), `djust.username` and `djust.user_id`.
    pub fn layout(mut self, name: impl Into<String>) -> Self {
        self.layout = Some(name.into());
        self
    }

    /// Shares a value with every view (`req.state::<T>()`, `socket.state::<T>()`).
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Uses `engine` for presence instead of building one from [`DjustConfig::presence`]:
    /// to share one engine between routers, to read it directly (tests), or to plug in a
    /// multi-process backend. The caller then runs its sweeper
    /// ([`Presence::spawn_sweeper`]).
    pub fn presence(mut self, engine: Presence) -> Self {
        self.presence = Some(engine);
        self
    }

    /// Settings of shared-text documents (`docs/runtime.md`, *Shared text*): size limits, the
    /// save delay, the fan-out buffer. Defaults: [`crate::text::TextConfig::default`].
    pub fn shared_text_config(mut self, config: djust_text::TextConfig) -> Self {
        self.text_config = config;
        self
    }

    /// Leaves out `GET /healthz`, `/readyz` and `/metrics` (`docs/operations.md`), e.g. when the
    /// application serves its own under those paths.
    pub fn without_ops_routes(mut self) -> Self {
        self.without_ops_routes = true;
        self
    }

    /// Leaves out djust's fallback: the favicon at `/favicon.ico` and the styled 404 page for
    /// every path no route matches (`docs/operations.md`). Needed when the application's own
    /// router has a fallback, because axum refuses to merge two routers that both have one.
    pub fn without_fallback(mut self) -> Self {
        self.without_fallback = true;
        self
    }

    /// Dev mode: open pages reload as soon as a file under `dir` changes — for the
    /// application's own static files (CSS, JS), which no view render covers. Templates and
    /// djust's client script are watched without this (`docs/operations.md`, *Development
    /// mode*). Does nothing outside dev mode.
    pub fn reload_pages_on_change(mut self, dir: impl Into<PathBuf>) -> Self {
        self.reload_dirs.push(dir.into());
        self
    }

    /// Mounts the live view `V` at `path` (axum syntax, e.g. `/doc/{doc_id}`): a GET renders
    /// the page, and the client's WebSocket `mount` of that path runs `V`.
    pub fn live<V: LiveView>(mut self, path: &str) -> Self {
        self.views.push(LiveRoute {
            pattern: path.to_owned(),
            view: std::any::type_name::<V>(),
            template: V::TEMPLATE,
            page: crate::http::page_route::<V>,
            entry: Arc::new(ViewEntry::<V>::new()),
        });
        self
    }

    /// Validates everything (configuration, templates of every view, routes) and returns the
    /// router to merge into the application (`app.merge(djust_router)`).
    ///
    /// With the Redis presence backend, prefer [`DjustBuilder::into_parts`] and call
    /// [`DjustHandle::shutdown`] when the server stops, so the other processes drop this
    /// process's users at once instead of after `presence_timeout`.
    ///
    /// # Errors
    /// [`BuildError`] naming the setting, template or path at fault.
    pub fn into_router(self) -> Result<axum::Router, BuildError> {
        // Dropping the handle detaches the Redis driver; it keeps running with the engine.
        self.into_parts().map(|(router, _handle)| router)
    }

    /// Like [`DjustBuilder::into_router`], plus a [`DjustHandle`] for the presence engine and
    /// a clean shutdown.
    ///
    /// # Errors
    /// [`BuildError`] naming the setting, template or path at fault.
    pub fn into_parts(self) -> Result<(axum::Router, DjustHandle), BuildError> {
        crate::env::warn_unknown_variables();
        let mut config = match self.config {
            Some(config) => config,
            None => DjustConfig::from_env()?,
        };
        config.validate()?;
        // Decided once, so every page and connection of this router agrees.
        config.dev = Some(config.dev_mode());
        let layout = self.layout.unwrap_or_else(|| DEFAULT_LAYOUT.to_owned());
        let views = self.views.iter().map(|v| (v.template, v.view));
        let mut sources = self.sources;
        if let Some(dir) = sources.dir.take() {
            sources.dir = Some(crate::template_path::resolve(&dir)?);
        }
        let templates_dir = sources.dir.clone();
        let templates = Templates::build(sources, &layout, views, config.dev_mode())?;
        let mut routes = Routes::new();
        let mut pages = Vec::new();
        for view in self.views {
            routes.insert(&view.pattern, view.entry)?;
            pages.push((view.pattern, view.page));
        }
        let sessions = Sessions::new(config.secret_key.as_deref(), config.secure_cookie);
        let (presence, sweeper, redis) = match self.presence {
            Some(engine) => (engine, None, None),
            None => build_presence(&config)?,
        };
        let ops = crate::ops::Ops {
            presence: presence.clone(),
            ready: readiness(redis.as_ref()),
        };
        let live = Arc::new(LiveConnections::default());
        let mut state = self.state;
        // Reached by each connection through the state (`shutdown::register`).
        state.insert(crate::shutdown::Registry(live.clone()));
        if config.dev_mode() {
            let mut pages = self.reload_dirs;
            pages.push(PathBuf::from(crate::http::ASSETS_DIR));
            let spec = crate::dev::WatchSpec {
                templates: templates_dir
                    .filter(|_| templates.reloads())
                    .map(|dir| (dir, templates.clone())),
                layout: layout.clone(),
                pages,
            };
            // Kept with the application's state: the watch stops with the router.
            if let Some(watch) = crate::dev::start_watch(spec, live.clone()) {
                state.insert(watch);
            }
        }
        let texts = djust_text::TextHub::new(self.text_config);
        state.insert(crate::text::Hub(texts.clone()));
        // Event sequence ids already handled, shared by the process's connections (`replay.rs`).
        state.insert(crate::replay::Replays::default());
        let handle = DjustHandle {
            texts,
            presence: presence.clone(),
            redis,
            live: live.clone(),
        };
        let app = Arc::new(App {
            config,
            templates,
            sessions,
            state: Arc::new(state),
            layout,
            presence,
            sweeper,
        });
        let fallback = !self.without_fallback;
        let mut router = crate::http::router(app, Arc::new(routes), pages, fallback);
        if !self.without_ops_routes {
            // Install the recorder now, so what happens before the first scrape is counted.
            let _ = crate::metrics::prometheus();
            router = router.merge(crate::ops::router(ops));
        }
        Ok((router.layer(crate::ops::access_log()), handle))
    }
}

/// The presence engine of a built application, and its clean shutdown.
#[derive(Debug)]
pub struct DjustHandle {
    texts: djust_text::TextHub,
    presence: Presence,
    redis: Option<RedisHandle>,
    live: Arc<LiveConnections>,
}

impl DjustHandle {
    /// The application's presence engine (to read presence from outside a view).
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// The number of WebSocket connections with a mounted view right now.
    pub fn live_connections(&self) -> usize {
        self.live.len()
    }

    pub(crate) fn live_connections_registry(&self) -> Arc<LiveConnections> {
        self.live.clone()
    }

    /// Stops the Redis driver after removing this process's connections from Redis, so the
    /// other processes emit their leaves at once. Call it after the server stopped serving.
    /// Nothing to do for the memory backend.
    pub async fn shutdown(self) {
        self.flush_shared_text(SHUTDOWN_FLUSH_TIMEOUT).await;
        #[cfg(feature = "redis")]
        if let Some(redis) = self.redis {
            redis.shutdown().await;
        }
        #[cfg(not(feature = "redis"))]
        if let Some(never) = self.redis {
            match never {}
        }
    }
}

/// How long [`DjustHandle::shutdown`] waits for unsaved shared text.
const SHUTDOWN_FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl DjustHandle {
    /// Saves every shared-text document with unsaved edits now and waits, at most `timeout`
    /// (the first step of [`DjustHandle::shutdown`]). Returns how many could not be saved;
    /// each is logged.
    pub async fn flush_shared_text(&self, timeout: std::time::Duration) -> usize {
        let failed = self.texts.flush_all(timeout).await;
        for (key, error) in &failed {
            tracing::error!(key = %key.escape_debug(), %error, "djust: shared text not saved at shutdown");
        }
        failed.len()
    }
}

/// The presence engine for `config` (memory, or Redis-replicated), with its tasks running.
///
/// The Redis backend is started without waiting for Redis: a process can start while Redis is
/// down, serves its own users meanwhile, and publishes its state once Redis is reachable (the
/// driver logs the outage and retries with backoff).
fn build_presence(
    config: &DjustConfig,
) -> Result<(Presence, Option<SweeperHandle>, Option<RedisHandle>), BuildError> {
    let engine_config = config.presence.engine_config(config.heartbeat_interval)?;
    let runtime_hint = "build the router inside the Tokio runtime, e.g. in #[tokio::main]";
    let fail = |what: &str, e: &dyn std::fmt::Display| BuildError::Config(format!("{what}: {e}"));
    let (engine, redis) = match config.presence.backend {
        PresenceBackendKind::Memory => {
            let engine = Presence::new(engine_config).map_err(|e| fail("presence", &e))?;
            (engine, None)
        }
        #[cfg(not(feature = "redis"))]
        PresenceBackendKind::Redis => {
            return Err(BuildError::Config(
                "DJUST_PRESENCE_BACKEND=redis, but this build of djust has no Redis support: \
                 enable the `redis` feature of the `djust` dependency (on by default)"
                    .into(),
            ));
        }
        #[cfg(feature = "redis")]
        PresenceBackendKind::Redis => {
            let url = config.presence.redis_url.clone().unwrap_or_default();
            let redis = RedisPresence::new(RedisConfig::new(url))
                .map_err(|e| fail("presence backend redis (DJUST_REDIS_URL)", &e))?
                .observe(Arc::new(crate::metrics::RedisMetrics));
            let engine = Presence::builder()
                .config(engine_config)
                .backend(redis.backend())
                .build()
                .map_err(|e| fail("presence", &e))?;
            let handle = redis
                .start(&engine)
                .map_err(|e| fail("presence backend redis", &format!("{e} ({runtime_hint})")))?;
            (engine, Some(handle))
        }
    };
    let sweeper = engine
        .spawn_sweeper()
        .map_err(|e| fail("presence", &format!("{e} ({runtime_hint})")))?;
    Ok((engine, Some(sweeper), redis))
}

/// `/readyz`: ready while the Redis driver is connected; always with the memory backend.
#[cfg(feature = "redis")]
fn readiness(redis: Option<&RedisHandle>) -> Option<crate::ops::Readiness> {
    use djust_presence_redis::RedisStatus;
    let status = redis?.watch_status();
    Some(Arc::new(move || match *status.borrow() {
        RedisStatus::Connected => Ok(()),
        other => Err(format!("the Redis presence backend is {other:?}")),
    }))
}

/// `/readyz` without the `redis` feature: always ready.
#[cfg(not(feature = "redis"))]
fn readiness(_redis: Option<&RedisHandle>) -> Option<crate::ops::Readiness> {
    None
}
