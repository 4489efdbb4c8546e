//! The spec's three templates, copied verbatim into `tests/templates/`, render with sample
//! data; the page GET is readable without JavaScript; build-time template errors.

mod support;

use djust::{Context, Djust, LiveView, MountRequest, Socket, ViewError};
use support::views::router;
use support::{Probe, Ws, get, serve, test_config};

/// Collapses whitespace runs so assertions don't depend on the templates' indentation.
fn squash(html: &str) -> String {
    html.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn document_html_renders_presences_and_escaped_content() {
    let app = router(test_config(), Probe::default());
    let (status, _, body) = get(app, "/spec/document/1", &[]).await;
    assert_eq!(status, 200);
    let body = squash(&body);
    assert!(
        body.contains(r#"<span class="count">2 online</span>"#),
        "{body}"
    );
    assert!(
        body.contains(
            r##"<div class="avatar" style="background: #ff6b6b" title="Alice"> A </div>"##
        ),
        "{body}"
    );
    assert!(body.contains(r##"style="background: #4ecdc4" title="Bob"> B </div>"##));
    assert!(
        body.contains("Hello &lt;b&gt;world&lt;&#x2f;b&gt; &amp; friends"),
        "content is autoescaped: {body}"
    );
}

#[tokio::test]
async fn collab_doc_html_iterates_cursors_items() {
    let app = router(test_config(), Probe::default());
    let (_, _, body) = get(app, "/spec/collab/1", &[]).await;
    let body = squash(&body);
    let alice = r##"<div class="remote-cursor" style="left: 150px; top: 300px; background: #ff6b6b"> <span class="cursor-label">Alice</span> </div>"##;
    let bob = r##"<div class="remote-cursor" style="left: 400px; top: 200px; background: #4ecdc4"> <span class="cursor-label">Bob</span> </div>"##;
    let (a, b) = (body.find(alice), body.find(bob));
    assert!(a.is_some() && b.is_some(), "{body}");
    assert!(a < b, "cursors keep the context's order");
    assert!(body.contains(r#"<div id="canvas" dj-mousemove="cursor_move">"#));
}

#[tokio::test]
async fn editor_html_renders_sidebar_cursors_and_textarea() {
    let app = router(test_config(), Probe::default());
    let (_, _, body) = get(app, "/spec/editor/1", &[]).await;
    let flat = squash(&body);
    assert!(flat.contains("<h3>2 Editing</h3>"), "{flat}");
    assert!(
        flat.contains(r##"<span class="dot" style="background: #ff6b6b"></span> Alice </li>"##)
    );
    assert!(flat.contains(r##"<svg width="16" height="16" viewBox="0 0 16 16" fill="#4ecdc4">"##));
    assert!(
        flat.contains(r##"<span class="cursor-name" style="background: #ff6b6b"> Alice </span>"##)
    );
    assert!(body.contains(">Draft &lt;one&gt;</textarea>"), "{body}");
    assert!(
        body.contains("window.djust.hooks = {"),
        "the inline hook script is kept"
    );
}

#[tokio::test]
async fn websocket_mount_renders_the_same_fragment_as_the_page() {
    let app = router(test_config(), Probe::default());
    let addr = serve(app.clone()).await;
    for path in ["/spec/document/1", "/spec/collab/1", "/spec/editor/1"] {
        let (_, _, page) = get(app.clone(), path, &[]).await;
        let (_ws, mounted) = Ws::mounted(addr, path, "").await;
        let html = &djust_render::full_html(&mounted).unwrap();
        assert!(
            page.contains(html),
            "{path}: the page embeds the same render"
        );
    }
}

#[tokio::test]
async fn page_is_readable_without_javascript() {
    let app = router(test_config(), Probe::default());
    let (status, headers, body) = get(app.clone(), "/counter/5?start=9", &[]).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.starts_with("<!doctype html>"));
    let head_end = body.find("</head>").unwrap();
    let script = body
        .find(r#"<script src="/djust/djust.js"></script>"#)
        .unwrap();
    assert!(
        script < head_end,
        "the client script loads in <head>, synchronously"
    );
    // minijinja escapes `/` as `&#x2f;` in HTML; the browser reads `/counter/5`.
    let root = r#"<div dj-root id="dj-root" dj-path="&#x2f;counter&#x2f;5" dj-query="start=9">"#;
    assert!(body.contains(root), "{body}");
    assert!(body.contains("<h1>Doc 5</h1>") && body.contains(r#"<p id="count">9</p>"#));

    let (status, headers, js) = get(app.clone(), "/djust/djust.js", &[]).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let patcher = js.find("window.DjustPatch =").expect("patch.js is served");
    let client = js
        .find("window.djust = djust")
        .expect("client.js is served");
    assert!(patcher < client, "patch.js comes first");
}

#[tokio::test]
async fn page_errors_map_to_status_codes() {
    let app = router(test_config(), Probe::default());
    assert_eq!(get(app.clone(), "/counter/404", &[]).await.0, 404);
    let (status, _, body) = get(app, "/counter/abc", &[]).await;
    assert_eq!(status, 400);
    assert!(body.contains("doc_id"), "{body}");
}

struct Broken;

impl LiveView for Broken {
    const TEMPLATE: &'static str = "missing.html";
    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Broken)
    }
    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Ok(Context::new())
    }
}

#[djust::event_handlers]
impl Broken {}

#[test]
fn build_errors_name_what_to_fix() {
    let err = Djust::builder()
        .live::<Broken>("/b")
        .into_router()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing.html") && err.contains("Broken"),
        "{err}"
    );

    let err = Djust::builder()
        .templates_embedded([("missing.html", "{% if %}")])
        .live::<Broken>("/b")
        .into_router()
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.html"), "{err}");

    let err = Djust::builder()
        .templates_embedded([("missing.html", "ok")])
        .live::<Broken>("/b/{id}")
        .live::<Broken>("/b/{other}")
        .into_router()
        .unwrap_err()
        .to_string();
    assert!(err.contains("/b/{other}"), "{err}");

    let err = Djust::builder()
        .templates_dir("/definitely/not/here")
        .into_router()
        .unwrap_err()
        .to_string();
    assert!(err.contains("/definitely/not/here"), "{err}");
}
