//! djust: server-rendered live views for axum (Phoenix LiveView style).
//!
//! A view is plain Rust state plus a template. A GET renders the whole page on the server
//! (readable without JavaScript); the page's script then opens one WebSocket, mounts the view
//! again, and from then on every event (`dj-click`, `dj-input`, `dj-mousemove`, ...) or
//! server-side message re-renders the view and sends the browser only what changed.
//!
//! ```no_run
//! use djust::{Context, Djust, LiveView, MountRequest, Socket, ViewError};
//!
//! struct Counter {
//!     count: i64,
//! }
//!
//! impl LiveView for Counter {
//!     const TEMPLATE: &'static str = "counter.html";
//!
//!     async fn mount(req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
//!         Ok(Counter { count: req.query.get_opt("start")?.unwrap_or(0) })
//!     }
//!
//!     fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
//!         let mut ctx = Context::new();
//!         ctx.insert("count", &self.count)?;
//!         Ok(ctx)
//!     }
//! }
//!
//! #[djust::event_handlers]
//! impl Counter {
//!     #[event_handler]
//!     fn add(&mut self, by: i64) {
//!         self.count += by;
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let router = Djust::builder()
//!     .templates_embedded([(
//!         "counter.html",
//!         r#"<p>{{ count }}</p><button dj-click="add" dj-value-by="1">+1</button>"#,
//!     )])
//!     .live::<Counter>("/counter")
//!     .into_router()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, router).await?;
//! # Ok(()) }
//! ```
//!
//! The wire protocol is specified in `docs/protocol.md`; writing views, templates,
//! configuration and identity in `docs/runtime.md`.

#![warn(missing_docs)]

// Lets the `#[event_handlers]` expansion (which names `::djust`) work inside this crate's tests.
extern crate self as djust;

mod app;
mod config;
mod conn;
mod context;
pub mod dev;
pub mod env;
mod error;
pub mod guest;
mod http;
pub mod metrics;
pub mod ops;
mod params;
pub mod presence;
mod protocol;
mod render;
mod replay;
mod routes;
pub mod serve;
mod session;
mod shutdown;
mod socket;
mod template;
mod template_path;
pub mod text;
mod view;

pub use app::{Djust, DjustBuilder, DjustHandle};
pub use config::{DjustConfig, MIN_SECRET_BYTES};
pub use context::Context;
pub use djust_macros::{event_handler, event_handlers};
pub use error::{BuildError, EventError, ParamError, ViewError};
pub use http::{SCRIPT_PATH, WS_PATH, YJS_PATH};
pub use params::Params;
pub use protocol::PROTOCOL_VERSION;
pub use serve::{DEFAULT_LISTEN_BACKLOG, ServeError, ServeOptions, Server, serve};
pub use session::{AuthUser, Identity, SESSION_COOKIE};
pub use socket::{ConnId, ConnStats, Disconnected, Info, InfoSender, SendError, Socket};
pub use view::{CloseReason, HandleEvent, LiveView, MountRequest, Payload};

// Crates whose types appear in djust's public API, so an app needs no second, possibly
// mismatched, dependency on them (`djust::axum::Router`, `djust::serde_json::json!`; the `http`
// crate is `djust::axum::http`).
pub use axum;
pub use minijinja;
pub use serde_json;

/// Support code for the `#[event_handlers]` expansion. Not a stable API.
#[doc(hidden)]
pub mod __private {
    use serde::de::DeserializeOwned;

    use crate::error::{EventError, ViewError};

    pub use crate::view::Payload;

    /// Decodes one handler parameter (see `params::decode_event_param`).
    pub fn param<T: DeserializeOwned>(
        payload: &Payload,
        event: &str,
        name: &str,
    ) -> Result<T, EventError> {
        crate::params::decode_event_param(payload, event, name)
    }

    /// What a handler may return: `()` or `Result<(), E>` with `E: Into<ViewError>`.
    pub trait IntoHandlerResult {
        /// Converts into the dispatch result.
        fn into_handler_result(self) -> Result<(), ViewError>;
    }

    impl IntoHandlerResult for () {
        fn into_handler_result(self) -> Result<(), ViewError> {
            Ok(())
        }
    }

    impl<E: Into<ViewError>> IntoHandlerResult for Result<(), E> {
        fn into_handler_result(self) -> Result<(), ViewError> {
            self.map_err(Into::into)
        }
    }

    /// Wraps a handler's error with the event name.
    pub fn into_result(event: &str, r: impl IntoHandlerResult) -> Result<(), EventError> {
        r.into_handler_result()
            .map_err(|source| EventError::Handler {
                event: event.to_owned(),
                source,
            })
    }
}
