//! The page GET of a live view: mount (not connected), render, wrap in the layout.

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use super::HttpState;
use crate::error::ViewError;
use crate::params::Params;
use crate::session::{AuthUser, Identity};
use crate::socket::{InfoSender, Socket};
use crate::template::PageParts;
use crate::view::{LiveView, MountRequest};

/// The GET route of view `V`.
pub(crate) fn page_route<V: LiveView>() -> MethodRouter<HttpState> {
    get(page::<V>)
}

async fn page<V: LiveView>(
    State(st): State<HttpState>,
    uri: Uri,
    headers: HeaderMap,
    auth: Option<Extension<AuthUser>>,
) -> Response {
    let app = &st.app;
    let (session_key, set_cookie) = match app.sessions.read(&headers) {
        Some(key) => (key, None),
        None => {
            let (key, cookie) = app.sessions.issue();
            (key, Some(cookie))
        }
    };
    let identity = Identity::new(auth.map(|Extension(user)| user), session_key);
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let params = st
        .routes
        .lookup(path)
        .map(|(_, params)| params)
        .unwrap_or_default();
    // The static render has no connection: its info channel and pushed events go nowhere.
    let (info, _info_rx) = InfoSender::channel(1);
    let mut socket = Socket::new(
        identity.clone(),
        false,
        info,
        app.state.clone(),
        app.presence.clone(),
    );
    let req = MountRequest {
        path: path.to_owned(),
        params,
        query: Params::from_query(query),
        headers,
        identity: identity.clone(),
        connected: false,
        state: app.state.clone(),
    };
    let templates = app.templates.current();
    let dev = app.config.dev_mode();
    if let Some(error) = &templates.error {
        // Dev mode: an edited template does not build. Open pages keep the last good one.
        return crate::dev::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "A template was changed and no longer builds; open pages keep the last good version \
             until it is fixed.",
            Some(error),
        );
    }
    let templates = &templates.generation;
    let rendered = async {
        V::authorize(&req).await?;
        let view = V::mount(&req, &mut socket).await?;
        let (ctx, content) = crate::render::render_view(templates, &view, &socket)?;
        let parts = PageParts {
            path,
            query,
            content: &content,
            username: identity.username().unwrap_or(""),
            user_id: identity.user_id(),
        };
        Ok::<_, ViewError>(templates.render_page(&app.layout, &ctx, &parts)?)
    }
    .await;
    let mut response = match rendered {
        Ok(page) => Html(page).into_response(),
        Err(err) => error_response(path, &err, dev),
    };
    crate::metrics::page_request(std::any::type_name::<V>(), response.status().as_u16());
    let headers = response.headers_mut();
    // Per-user content: never let a shared cache keep it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Some(cookie) = set_cookie {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

fn error_response(path: &str, err: &ViewError, dev: bool) -> Response {
    let status = match err {
        ViewError::NotFound(_) => StatusCode::NOT_FOUND,
        ViewError::Forbidden(_) => StatusCode::FORBIDDEN,
        ViewError::BadRequest(_) | ViewError::Param(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        tracing::error!(%path, error = %err, "djust: page render failed");
        // Internal details stay in the log, except in dev mode, where the page shows them.
        let detail = dev.then(|| crate::dev::describe(err));
        crate::dev::error_page(
            status,
            &format!("The page {path} could not be rendered."),
            detail.as_deref(),
        )
    } else {
        tracing::info!(%path, error = %err, "djust: page request refused");
        crate::dev::error_page(status, &err.to_string(), None)
    }
}
