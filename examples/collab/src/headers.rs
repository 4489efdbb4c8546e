//! Security headers on every response: no MIME sniffing, no framing (clickjacking), and a
//! Content-Security-Policy the app's pages work under.
//!
//! The pages load their scripts from files (`/djust/djust.js`, `/static/collab.js`) and have no
//! inline script or `on*=` attribute, so `script-src 'self'` holds and an injected `<script>`
//! would not run. Styles need `'unsafe-inline'`: the templates set cursor positions and user
//! colours in `style=` attributes, which patches update. `connect-src 'self'` covers the
//! WebSocket to the same host.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Middleware: adds the headers (without replacing ones a handler set).
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    for (name, value) in [
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (CONTENT_SECURITY_POLICY, CSP),
        (REFERRER_POLICY, "same-origin"),
    ] {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    res
}
