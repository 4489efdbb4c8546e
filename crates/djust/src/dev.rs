//! Development mode and the runtime's own error pages.
//!
//! Dev mode is on with `DJUST_DEV=1` (or `true`), off with `DJUST_DEV=0`, and otherwise follows the
//! build: on in debug builds, off in release builds ([`crate::DjustConfig::dev`] overrides both).
//! In dev mode templates reload on change (`template/reload.rs`) and a changed file reaches the
//! open pages at once (`push.rs`, over the process's file watcher `watch.rs`), the client
//! script is read fresh and never cached (`http/dev_assets.rs`), and a page whose render fails
//! shows the error itself (the template, line and message, escaped) instead of a bare 500; in
//! both modes 404 and 400 pages are small styled HTML pages rather than plain text.

mod push;
mod watch;

pub(crate) use push::{DevReload, WatchSpec, start as start_watch};

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Whether dev mode is on (see the module documentation).
pub fn dev_mode() -> bool {
    decide(
        std::env::var("DJUST_DEV").ok().as_deref(),
        cfg!(debug_assertions),
    )
}

fn decide(var: Option<&str>, debug_build: bool) -> bool {
    var.and_then(parse_flag).unwrap_or(debug_build)
}

/// `1`/`true`/`yes` → on, `0`/`false`/`no` → off (any case), else `None`.
pub(crate) fn parse_flag(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// A styled HTML error page: `status`, a one-line `message`, and (dev mode) `detail` verbatim.
pub(crate) fn error_page(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = detail.map_or_else(String::new, |d| {
        format!(
            "<p class=\"dev\">Dev mode (DJUST_DEV=0 or a release build hides this):</p><pre>{}</pre>",
            escape(d)
        )
    });
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{code} {title}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:3rem auto;max-width:52rem;padding:0 1rem;color:#222}}\
         h1{{font-size:1.5rem}} h1 span{{color:#999}} p{{color:#555}} .dev{{color:#a55eea}}\
         pre{{background:#f6f6f6;border-left:4px solid #ff6b6b;padding:1rem;overflow:auto;white-space:pre-wrap}}\
         </style></head><body><h1><span>{code}</span> {title}</h1><p>{message}</p>{detail}</body></html>",
        code = status.as_u16(),
        title = escape(title),
        message = escape(message),
    );
    (status, Html(body)).into_response()
}

/// What a dev-mode error page shows for a failed page render: for a template error, the
/// template and line first, then minijinja's message (with its source excerpt); else the error.
pub(crate) fn describe(err: &crate::ViewError) -> String {
    use crate::ViewError;
    let (template, source) = match err {
        ViewError::Template(e) => (e.name().map(str::to_owned), e),
        ViewError::Render(e) => (Some(e.template.clone()), &e.source),
        other => return format!("{other:#}"),
    };
    let mut out = String::new();
    if let Some(name) = source.name().map(str::to_owned).or(template) {
        out.push_str(&format!("template: {name}\n"));
    }
    if let Some(line) = source.line() {
        out.push_str(&format!("line: {line}\n"));
    }
    out.push_str(&format!("\n{source:#}"));
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_over_the_build() {
        assert!(decide(Some("1"), false));
        assert!(!decide(Some("0"), true));
        assert!(decide(None, true));
        assert!(!decide(None, false));
        assert!(!decide(Some("false"), true));
    }

    #[test]
    fn pages_escape_what_they_show() {
        let page = error_page(StatusCode::NOT_FOUND, "no <b>such</b> page", Some("a & b"));
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#x27;");
    }
}
