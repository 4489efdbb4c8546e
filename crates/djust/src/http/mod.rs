//! HTTP side: the page GET of each live view, the WebSocket endpoint, and the client script.

mod dev_assets;
mod fallback;
mod origin;
mod page;
mod upgrade;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};

use crate::app::App;
use crate::conn::WsTransport;
use crate::routes::Routes;

pub(crate) use dev_assets::ASSETS_DIR;
pub(crate) use page::page_route;

/// Path of the WebSocket endpoint.
pub const WS_PATH: &str = "/djust/ws";
/// Path of the client script.
pub const SCRIPT_PATH: &str = "/djust/djust.js";
/// Path of the vendored Yjs bundle (`assets/vendor/`), loaded by the client on pages with a
/// shared-text field.
pub const YJS_PATH: &str = "/djust/yjs.js";

/// The `yjs` npm package bundled into one script (global `Y`); see `assets/vendor/README.md`.
const YJS_JS: &str = include_str!("../../assets/vendor/yjs.js");

/// The client: the patcher (`window.DjustPatch`: morphing with focus kept), the rendered-tree
/// model (`window.DjustRendered`), live cursor drawing and pointer reading
/// (`window.DjustCursors`), the offline queue and connection state, the runtime client that
/// uses them, and the shared-text binding with its remote carets (inert on pages without a
/// `dj-shared-text` field).
const DJUST_JS: &str = concat!(
    include_str!("../../assets/patch.js"),
    "\n",
    include_str!("../../assets/rendered.js"),
    "\n",
    include_str!("../../assets/offline.js"),
    "\n",
    include_str!("../../assets/cursors.js"),
    "\n",
    include_str!("../../assets/client.js"),
    "\n",
    include_str!("../../assets/text-carets.js"),
    "\n",
    include_str!("../../assets/shared-text.js")
);

/// Builds the GET route of one view type (`page_route::<V>`).
pub(crate) type PageRoute = fn() -> MethodRouter<HttpState>;

/// State shared by the djust routes.
#[derive(Clone)]
pub(crate) struct HttpState {
    pub(crate) app: Arc<App>,
    pub(crate) routes: Arc<Routes<WsTransport>>,
}

pub(crate) fn router(
    app: Arc<App>,
    routes: Arc<Routes<WsTransport>>,
    pages: Vec<(String, PageRoute)>,
    with_fallback: bool,
) -> Router {
    let mut router = Router::new()
        .route(
            SCRIPT_PATH,
            get(script).layer(tower_http::compression::CompressionLayer::new()),
        )
        .route(
            YJS_PATH,
            get(yjs).layer(tower_http::compression::CompressionLayer::new()),
        )
        .route(WS_PATH, get(ws::upgrade));
    for (pattern, page) in pages {
        router = router.route(&pattern, page());
    }
    if with_fallback {
        router = router.fallback(fallback::fallback);
    }
    router.with_state(HttpState { app, routes })
}

/// A script's `ETag`: a hash of its bytes, so a deploy with a new client changes it.
fn etag_of(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!(
        "\"djust-{}-{:016x}\"",
        env!("CARGO_PKG_VERSION"),
        h.finish()
    )
}

fn script_etag() -> &'static str {
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ETAG.get_or_init(|| etag_of(DJUST_JS))
}

/// `/djust/yjs.js`: like `/djust/djust.js` (revalidated, `304` when current, compressed).
async fn yjs(
    State(st): State<HttpState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if st.app.config.dev_mode() {
        return dev_assets::yjs(YJS_JS);
    }
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    serve_script(&headers, ETAG.get_or_init(|| etag_of(YJS_JS)), YJS_JS)
}

/// `/djust/djust.js`: revalidated on every load (`no-cache`) so a deploy never runs a stale
/// client, but answered `304 Not Modified` when the browser's `If-None-Match` is current, and
/// compressed (gzip or brotli, as the browser accepts) by the route's compression layer. In
/// dev mode it is read from the crate's `assets/` on each load and never cached
/// (`dev_assets.rs`).
async fn script(
    State(st): State<HttpState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if st.app.config.dev_mode() {
        return dev_assets::script(DJUST_JS);
    }
    serve_script(&headers, script_etag(), DJUST_JS)
}

fn serve_script(
    headers: &axum::http::HeaderMap,
    etag: &'static str,
    body: &'static str,
) -> axum::response::Response {
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
        body,
    )
        .into_response()
}
