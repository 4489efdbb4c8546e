//! `/login` (a form, and `GET /login?name=alice` for scripts) and `/logout`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use serde::Deserialize;

use crate::auth::{AuthCookies, MAX_NAME_CHARS, validate_name};
use crate::db::Db;

const LOGIN_TEMPLATE: &str = "login.html";

#[derive(Clone)]
struct LoginState {
    db: Db,
    auth: Arc<AuthCookies>,
    pages: Arc<Environment<'static>>,
}

/// `?name=` logs in at once (for scripts and tests); `?next=` is where to go afterwards.
#[derive(Debug, Deserialize)]
struct LoginParams {
    name: Option<String>,
    next: Option<String>,
}

/// The routes of this module, with the state they need.
pub(crate) fn routes(db: Db, auth: Arc<AuthCookies>) -> Result<Router, minijinja::Error> {
    let mut pages = Environment::new();
    // `.html` names autoescape by default; the form echoes the name the user typed.
    pages.add_template(LOGIN_TEMPLATE, include_str!("../templates/login.html"))?;
    let state = LoginState {
        db,
        auth,
        pages: Arc::new(pages),
    };
    Ok(Router::new()
        .route("/login", get(login_get).post(login_post))
        .route("/logout", post(logout))
        .with_state(state))
}

async fn login_get(State(st): State<LoginState>, Query(q): Query<LoginParams>) -> Response {
    match q.name {
        Some(name) => log_in(&st, &name, q.next.as_deref()).await,
        None => form(&st, "", q.next.as_deref(), None, StatusCode::OK),
    }
}

async fn login_post(State(st): State<LoginState>, Form(f): Form<LoginParams>) -> Response {
    log_in(&st, f.name.as_deref().unwrap_or(""), f.next.as_deref()).await
}

async fn logout(State(st): State<LoginState>) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, HeaderValue::from_static("/")),
            (header::SET_COOKIE, st.auth.clear()),
        ],
    )
        .into_response()
}

async fn log_in(st: &LoginState, raw: &str, next: Option<&str>) -> Response {
    let name = match validate_name(raw) {
        Ok(name) => name,
        Err(e) => {
            return form(st, raw, next, Some(&e.to_string()), StatusCode::BAD_REQUEST);
        }
    };
    match st.db.user_by_name(&name).await {
        Ok(user) => {
            // A `next` that is not a valid header value (raw non-ASCII) falls back to the list.
            let location = HeaderValue::from_str(safe_next(next))
                .unwrap_or_else(|_| HeaderValue::from_static("/"));
            (
                StatusCode::SEE_OTHER,
                [
                    (header::SET_COOKIE, st.auth.issue(&user)),
                    (header::LOCATION, location),
                ],
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "collab: login failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    }
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

/// Only local paths: `next=https://evil.example` or `//evil.example` would make the login an
/// open redirect.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/doc/1")), "/doc/1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
