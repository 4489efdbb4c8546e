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
        .route(SCRIPT_PATH, get(script))
        .route(WS_PATH, get(ws::upgrade));
    for (pattern, page) in pages {
        router = router.route(&pattern, page());
    }
    router.with_state(HttpState { app, routes })
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // Revalidate on every load so a deploy never runs a stale client.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        DJUST_JS,
    )
}
