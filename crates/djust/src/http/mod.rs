//! HTTP side: the page GET of each live view, the WebSocket endpoint, and the client script.

mod origin;
mod page;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocket;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};

use crate::app::App;
use crate::routes::Routes;

pub(crate) use page::page_route;

/// Path of the WebSocket endpoint.
pub const WS_PATH: &str = "/djust/ws";
/// Path of the client script.
pub const SCRIPT_PATH: &str = "/djust/djust.js";

/// The client: the patcher (`window.DjustPatch`: morphing with focus kept), the rendered-tree
/// model (`window.DjustRendered`), then the runtime client that uses both.
const DJUST_JS: &str = concat!(
    include_str!("../../assets/patch.js"),
    "\n",
    include_str!("../../assets/rendered.js"),
    "\n",
    include_str!("../../assets/client.js")
);

/// Builds the GET route of one view type (`page_route::<V>`).
pub(crate) type PageRoute = fn() -> MethodRouter<HttpState>;

/// State shared by the djust routes.
#[derive(Clone)]
pub(crate) struct HttpState {
    pub(crate) app: Arc<App>,
    pub(crate) routes: Arc<Routes<WebSocket>>,
}

pub(crate) fn router(
    app: Arc<App>,
    routes: Arc<Routes<WebSocket>>,
    pages: Vec<(String, PageRoute)>,
) -> Router {
    let mut router = Router::new()
        .route(
            SCRIPT_PATH,
            get(script).layer(tower_http::compression::CompressionLayer::new()),
        )
        .route(WS_PATH, get(ws::upgrade));
    for (pattern, page) in pages {
        router = router.route(&pattern, page());
    }
    router.with_state(HttpState { app, routes })
}

/// The script's `ETag`: a hash of its bytes, so a deploy with a new client changes it.
fn script_etag() -> &'static str {
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ETAG.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        DJUST_JS.hash(&mut h);
        format!(
            "\"djust-{}-{:016x}\"",
            env!("CARGO_PKG_VERSION"),
            h.finish()
        )
    })
}

/// `/djust/djust.js`: revalidated on every load (`no-cache`) so a deploy never runs a stale
/// client, but answered `304 Not Modified` when the browser's `If-None-Match` is current, and
/// compressed (gzip or brotli, as the browser accepts) by the route's compression layer.
async fn script(headers: axum::http::HeaderMap) -> axum::response::Response {
    let etag = script_etag();
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let cache = [(header::ETAG, etag), (header::CACHE_CONTROL, "no-cache")];
    if fresh {
        return (axum::http::StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        DJUST_JS,
    )
        .into_response()
}
