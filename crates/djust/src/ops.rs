//! Operations endpoints and logging: `GET /healthz`, `GET /readyz`, `GET /metrics`, the access
//! log layer, and a tracing set-up that honours `DJUST_LOG_FORMAT`.
//!
//! See `docs/operations.md`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use djust_presence::Presence;

/// Path of the liveness probe: 200 while the process serves requests.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Path of the readiness probe: 200 when presence is usable (Redis connected, if configured).
pub const READYZ_PATH: &str = "/readyz";
/// Path of the Prometheus metrics (text exposition format).
pub const METRICS_PATH: &str = "/metrics";

/// Whether this process can serve its users fully.
pub(crate) type Readiness = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// What the endpoints read.
#[derive(Clone)]
pub(crate) struct Ops {
    pub(crate) presence: Presence,
    /// `None`: always ready (memory backend).
    pub(crate) ready: Option<Readiness>,
}

/// The three routes.
pub(crate) fn router(ops: Ops) -> Router {
    Router::new()
        .route(HEALTHZ_PATH, get(healthz))
        .route(READYZ_PATH, get(readyz))
        .route(METRICS_PATH, get(metrics))
        .with_state(ops)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(ops): State<Ops>) -> Response {
    match ops.ready.as_ref().map_or(Ok(()), |ready| ready()) {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(ops): State<Ops>) -> Response {
    let Some(prometheus) = crate::metrics::prometheus() else {
        return (
            StatusCode::NOT_FOUND,
            "another metrics recorder is installed; djust's series go to it\n",
        )
            .into_response();
    };
    crate::metrics::presence_sizes(&ops.presence.stats());
    if let Some(ready) = &ops.ready {
        crate::metrics::redis_connected(ready().is_ok());
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        prometheus.render(),
    )
        .into_response()
}

/// The access log: one `tracing` event per HTTP request (method, path, status, latency) at
/// INFO, target `djust::access`. djust's own routes have it; add it to yours with
/// `.layer(djust::ops::access_log())`.
pub fn access_log() -> tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    AccessSpan,
    tower_http::trace::DefaultOnRequest,
    AccessResponse,
> {
    tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(AccessSpan)
        .on_response(AccessResponse)
}

/// Span of one request in the access log.
#[derive(Debug, Clone, Copy)]
pub struct AccessSpan;

impl<B> tower_http::trace::MakeSpan<B> for AccessSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> tracing::Span {
        tracing::info_span!(target: "djust::access", "request", method = %req.method(), path = %req.uri().path())
    }
}

/// The access log line, written when the response starts.
#[derive(Debug, Clone, Copy)]
pub struct AccessResponse;

impl<B> tower_http::trace::OnResponse<B> for AccessResponse {
    fn on_response(
        self,
        res: &axum::http::Response<B>,
        latency: std::time::Duration,
        _span: &tracing::Span,
    ) {
        tracing::info!(
            target: "djust::access",
            status = res.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            "served"
        );
    }
}

/// The default log filter when `RUST_LOG` is not set: INFO for everything, WARN for the HTML
/// parser and the HTTP stack, which are very chatty at DEBUG.
pub const DEFAULT_LOG_FILTER: &str = "info,html5ever=warn,hyper=warn,h2=warn,tower=warn";

/// Installs a `tracing` subscriber unless the application already has one: `RUST_LOG` (else
/// [`DEFAULT_LOG_FILTER`]), human-readable lines, or JSON lines with `DJUST_LOG_FORMAT=json`.
/// Returns `false` if a subscriber was already installed (nothing changed).
///
/// # Errors
/// `DJUST_LOG_FORMAT` is neither `text` nor `json`, or `RUST_LOG` does not parse.
pub fn init_tracing() -> Result<bool, crate::BuildError> {
    use tracing_subscriber::EnvFilter;
    if tracing::dispatcher::has_been_set() {
        return Ok(false);
    }
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) => EnvFilter::try_new(&spec).map_err(|e| {
            crate::BuildError::Config(format!("RUST_LOG={spec:?} is not a valid filter: {e}"))
        })?,
        Err(_) => EnvFilter::new(DEFAULT_LOG_FILTER),
    };
    let format = std::env::var("DJUST_LOG_FORMAT").unwrap_or_else(|_| "text".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let installed = match format.trim().to_ascii_lowercase().as_str() {
        "json" => builder.json().try_init().is_ok(),
        "text" | "" => builder.try_init().is_ok(),
        _ => {
            return Err(crate::BuildError::Config(format!(
                "DJUST_LOG_FORMAT={format:?}: use \"text\" (the default) or \"json\""
            )));
        }
    };
    Ok(installed)
}
