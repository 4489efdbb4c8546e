//! `GET /login` (the form), `POST /login` and `POST /logout`.
//!
//! Both POSTs must come from this site ([`check_same_site`]: login and logout CSRF); `next` is
//! followed only if it is a path on this site ([`safe_next`]: open redirect). A login creates
//! a server-side session (`db/sessions.rs`) and a signed cookie naming it; a logout deletes
//! the session, so the cookie is refused from then on even if it was copied.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use serde::Deserialize;

use crate::auth::{AuthCookies, MAX_NAME_CHARS, new_session_id, unix_now, validate_name};
use crate::db::Db;
use crate::same_site::{check_same_site, safe_next};

const LOGIN_TEMPLATE: &str = "login.html";

#[derive(Clone)]
struct LoginState {
    db: Db,
    auth: Arc<AuthCookies>,
    pages: Arc<Environment<'static>>,
    /// `DJUST_ALLOWED_ORIGINS`: origins besides the request's own host that may POST.
    allowed_origins: Arc<[String]>,
}

/// The form's fields (and the GET's query: `?next=` is where to go afterwards, `?name=` only
/// pre-fills the form).
#[derive(Debug, Deserialize)]
struct LoginParams {
    name: Option<String>,
    next: Option<String>,
}

/// The routes of this module, with the state they need.
pub(crate) fn routes(
    db: Db,
    auth: Arc<AuthCookies>,
    allowed_origins: &[String],
) -> Result<Router, minijinja::Error> {
    let mut pages = Environment::new();
    // `.html` names autoescape by default; the form echoes the name the user typed.
    pages.add_template(LOGIN_TEMPLATE, include_str!("../templates/login.html"))?;
    let state = LoginState {
        db,
        auth,
        pages: Arc::new(pages),
        allowed_origins: allowed_origins.into(),
    };
    Ok(Router::new()
        .route("/login", get(login_form).post(login_post))
        .route("/logout", post(logout))
        .with_state(state))
}

/// The form. A GET never logs in: a link or an image on another site could make a victim's
/// browser send one.
async fn login_form(State(st): State<LoginState>, Query(q): Query<LoginParams>) -> Response {
    let name = q.name.as_deref().unwrap_or("");
    form(&st, name, q.next.as_deref(), None, StatusCode::OK)
}

async fn login_post(
    State(st): State<LoginState>,
    headers: HeaderMap,
    Form(f): Form<LoginParams>,
) -> Response {
    if let Err(e) = check_same_site(&headers, &st.allowed_origins) {
        tracing::warn!(reason = %e, "collab: login refused");
        return (StatusCode::FORBIDDEN, e.to_string()).into_response();
    }
    let raw = f.name.as_deref().unwrap_or("");
    let name = match validate_name(raw) {
        Ok(name) => name,
        Err(e) => {
            let next = f.next.as_deref();
            return form(
                &st,
                raw,
                next,
                Some(&e.to_string()),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let now = unix_now();
    let session = new_session_id();
    let expires_at = now.saturating_add(i64::try_from(st.auth.ttl().as_secs()).unwrap_or(i64::MAX));
    let created = async {
        let user = st.db.user_by_name(&name).await?;
        st.db
            .create_session(&session, user.id, now, expires_at)
            .await
    };
    match created.await {
        Ok(()) => redirect(safe_next(f.next.as_deref()), st.auth.issue(&session, now)),
        Err(e) => {
            tracing::error!(error = %e, "collab: login failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    }
}

async fn logout(State(st): State<LoginState>, headers: HeaderMap) -> Response {
    if let Err(e) = check_same_site(&headers, &st.allowed_origins) {
        tracing::warn!(reason = %e, "collab: logout refused");
        return (StatusCode::FORBIDDEN, e.to_string()).into_response();
    }
    // An expired cookie's session has expired in the database too: nothing to revoke.
    if let Some(claim) = st.auth.read(&headers, unix_now())
        && let Err(e) = st.db.delete_session(&claim.id).await
    {
        tracing::error!(error = %e, "collab: logout failed");
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    redirect("/", st.auth.clear())
}

/// 303 to `location` (a [`safe_next`] path) with `cookie` set.
fn redirect(location: &str, cookie: HeaderValue) -> Response {
    // `safe_next` keeps printable ASCII only, so this always parses.
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, cookie), (header::LOCATION, location)],
    )
        .into_response()
}

fn form(
    st: &LoginState,
    name: &str,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let rendered = st.pages.get_template(LOGIN_TEMPLATE).and_then(|t| {
        t.render(minijinja::context! {
            name => name,
            next => safe_next(next),
            error => error,
            max_chars => MAX_NAME_CHARS,
        })
    });
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "collab: login page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    }
}
