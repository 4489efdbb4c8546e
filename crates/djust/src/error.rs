//! Error types: what a view returns ([`ViewError`]), what event dispatch reports ([`EventError`]),
//! what a typed parameter lookup reports ([`ParamError`]) and what start-up reports ([`BuildError`]).

use std::error::Error as StdError;

/// An error returned by a view's `mount`, `get_context_data`, `handle_info` or an event handler.
///
/// Over HTTP it picks the status code of the page response (`NotFound` → 404, `Forbidden` →
/// 403, `BadRequest` and `Param` → 400, the rest → 500); over the WebSocket it becomes an
/// `error` frame.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The thing the view shows does not exist (HTTP 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// This identity may not see this view (HTTP 403; over the WebSocket an error frame
    /// `forbidden` and close 4403). Return it from [`crate::LiveView::authorize`].
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request is invalid for this view (HTTP 400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A path or query parameter is missing or malformed (HTTP 400).
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The template failed to render (syntax error, failing filter, missing template).
    #[error("template error: {0:#}")]
    Template(#[from] minijinja::Error),
    /// A live render failed (a failing filter, iterating a number, …); names the template.
    #[error("render error: {0:#}")]
    Render(#[from] djust_render::RenderError),
    /// A value could not be serialized into the template context.
    #[error("context value could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    /// A presence call failed (bad meta, unresolvable key, ...).
    #[error("presence: {0}")]
    Presence(#[from] djust_presence::PresenceError),
    /// Any other application error.
    #[error("{0}")]
    Other(Box<dyn StdError + Send + Sync + 'static>),
}

impl ViewError {
    /// A [`ViewError::NotFound`] with a message for the log and the error frame.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }

    /// A [`ViewError::Forbidden`] with a message for the log and the error frame.
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }

    /// A [`ViewError::BadRequest`] with a message for the log and the error frame.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }

    /// Wraps any application error.
    pub fn other(err: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self::Other(err.into())
    }
}

/// Why an event could not be dispatched to a handler (or why the handler failed).
///
/// The runtime turns each variant into an `error` frame (see `docs/protocol.md`); the connection
/// stays open. For `UnknownEvent`, `BadPayload` and `BadParam` the handler did not run, so the view
/// state is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// No handler has this name.
    #[error("unknown event `{event}`: the view has no #[event_handler] with that name")]
    UnknownEvent {
        /// The event name the client sent.
        event: String,
    },
    /// The payload is not a JSON object.
    #[error("event `{event}`: the payload must be a JSON object, got {got}")]
    BadPayload {
        /// The event name.
        event: String,
        /// The JSON type that was sent instead.
        got: &'static str,
    },
    /// A parameter is missing or has the wrong type.
    #[error("event `{event}`: parameter `{param}`: {message}")]
    BadParam {
        /// The event (handler) name.
        event: String,
        /// The parameter name.
        param: String,
        /// What was wrong, e.g. `expected i64, got string "abc"` or `missing`.
        message: String,
    },
    /// The handler ran and returned an error.
    #[error("event `{event}`: {source}")]
    Handler {
        /// The event name.
        event: String,
        /// The handler's error.
        source: ViewError,
    },
}

impl EventError {
    /// An [`EventError::UnknownEvent`] (used by the generated dispatch code).
    pub fn unknown(event: &str) -> Self {
        Self::UnknownEvent {
            event: event.to_owned(),
        }
    }

    /// The protocol error code sent in the `error` frame.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEvent { .. } => "unknown_event",
            Self::BadPayload { .. } | Self::BadParam { .. } => "bad_params",
            Self::Handler { .. } => "handler_error",
        }
    }
}

/// A typed path or query parameter lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// The parameter is absent.
    #[error("missing parameter `{name}`")]
    Missing {
        /// Parameter name.
        name: String,
    },
    /// The parameter is present but does not parse as the requested type.
    #[error("parameter `{name}`: expected {expected}, got {value:?} ({reason})")]
    Invalid {
        /// Parameter name.
        name: String,
        /// The raw value.
        value: String,
        /// The requested Rust type.
        expected: &'static str,
        /// The parser's message.
        reason: String,
    },
}

/// Start-up error from [`crate::DjustBuilder::into_router`] or [`crate::DjustConfig::from_env`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A configuration value is invalid; the message names the setting or variable.
    #[error("invalid djust configuration: {0}")]
    Config(String),
    /// The templates directory does not exist or is not a directory.
    #[error("templates directory {path:?} does not exist or is not a directory")]
    TemplatesDir {
        /// The configured path.
        path: std::path::PathBuf,
    },
    /// A view's `TEMPLATE` (or the layout) cannot be loaded.
    #[error("template {name:?} (used by {user}) cannot be loaded: {source:#}")]
    Template {
        /// Template name.
        name: String,
        /// The view type or "layout".
        user: String,
        /// The loader/parser error.
        source: minijinja::Error,
    },
    /// A view template uses something the render engine cannot track (named with its line),
    /// or an expression in it does not compile.
    #[error("{0}")]
    Compile(djust_render::CompileError),
    /// Two views were mounted on conflicting paths, or a path is malformed.
    #[error("cannot mount a live view at {path:?}: {reason}")]
    Route {
        /// The path given to `.live()`.
        path: String,
        /// Why it was refused.
        reason: String,
    },
}
