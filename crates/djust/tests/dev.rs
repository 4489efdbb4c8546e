//! Dev mode (`docs/operations.md`): templates reload on change and a broken edit keeps the last
//! good one; a changed file reaches open pages without a click (a re-render, or a `reload`
//! frame); readable error pages in dev, none of the internals in production; the favicon and
//! the 404 of unmatched paths; the client script uncached in dev.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use djust::{Context, Djust, DjustConfig, LiveView, MountRequest, Socket, ViewError};
use serde_json::{Value, json};
use support::dev_views::Page;
use support::{FRAME_WAIT, Ws, get, serve, test_config};

/// A view whose context fails with a message that must not reach a production page.
struct Failing;

impl LiveView for Failing {
    const TEMPLATE: &'static str = "failing.html";
    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Failing)
    }
    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Err(ViewError::other("db password <b>hunter2</b> rejected"))
    }
}

#[djust::event_handlers]
impl Failing {}

/// A view whose template fails at render time (it iterates a number).
struct BadFilter;

impl LiveView for BadFilter {
    const TEMPLATE: &'static str = "bad_filter.html";
    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(BadFilter)
    }
    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("n", &3)?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl BadFilter {}

/// A fresh templates directory with `page.html` = `src`.
fn templates_dir(name: &str, src: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("djust-dev-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("page.html"), src).expect("write template");
    dir
}

/// The app on templates `dir`; its `static/` subdirectory (created here) reloads pages.
fn app(config: DjustConfig, dir: &Path) -> axum::Router {
    std::fs::create_dir_all(static_dir(dir)).expect("static dir");
    Djust::builder()
        .config(config)
        .templates_dir(dir)
        .reload_pages_on_change(static_dir(dir))
        .templates_embedded([
            ("failing.html", "<p>never</p>"),
            (
                "bad_filter.html",
                "<p>\n{% for x in n %}{{ x }}{% endfor %}</p>",
            ),
        ])
        .live::<Page>("/")
        .live::<Failing>("/failing")
        .live::<BadFilter>("/bad-filter")
        .into_router()
        .expect("router")
}

/// The application's static files in these tests (beside the templates, outside `dir`).
fn static_dir(dir: &Path) -> PathBuf {
    dir.with_extension("static")
}

/// Writes `page.html` = `src`, then loads `/`: its status and body.
async fn edit_then_load(
    router: &axum::Router,
    dir: &Path,
    src: &str,
) -> (u16, axum::http::HeaderMap, String) {
    std::fs::write(dir.join("page.html"), src).expect("write template");
    get(router.clone(), "/", &[]).await
}

/// Writes `page.html` = `src` and checks that the next load answers 200 with `expect`.
async fn edit_then_expect(router: &axum::Router, dir: &Path, src: &str, expect: &str) {
    let (status, _, body) = edit_then_load(router, dir, src).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(expect), "{expect} in {body}");
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(static_dir(dir));
    std::fs::remove_dir_all(dir).expect("remove the templates dir");
}

fn html(frame: &Value) -> String {
    djust_render::full_html(frame).expect("a full render")
}

/// The next frame (not a heartbeat) that the page gets without asking, within [`FRAME_WAIT`].
async fn pushed(ws: &mut Ws, what: &str) -> Value {
    tokio::time::timeout(FRAME_WAIT, next(ws))
        .await
        .unwrap_or_else(|_| panic!("{what} within FRAME_WAIT of the edit"))
}

/// The next frame that is not a heartbeat.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let frame = ws.recv().await;
        if frame["t"] != "heartbeat" {
            return frame;
        }
    }
}

#[tokio::test]
async fn an_edited_template_shows_on_the_next_load_and_a_broken_edit_keeps_the_last_good_one() {
    let dir = templates_dir("reload", "<p id=\"v\">one {{ n }}</p>");
    let router = app(test_config().with_dev(true), &dir);
    let addr = serve(router.clone()).await;
    let (status, _, body) = get(router.clone(), "/", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("<p id=\"v\">one 0</p>"), "{body}");
    let (mut open, mounted) = Ws::mounted(addr, "/", "").await;
    assert!(html(&mounted).contains("one 0"));

    // An edit: the next page load and the next mount show it, and the open page re-renders
    // in full with it at its next render.
    let two = "<p id=\"v\">two {{ n }}</p>";
    edit_then_expect(&router, &dir, two, "<p id=\"v\">two 0</p>").await;
    let (_other, mounted) = Ws::mounted(addr, "/", "").await;
    assert!(html(&mounted).contains("two 0"));
    open.event("inc", json!({})).await;
    let frame = next(&mut open).await;
    assert_eq!(frame["t"], "render", "new statics: a full render: {frame}");
    assert!(html(&frame).contains("two 1"), "{frame}");

    // A broken edit: the page load shows the start-up message, escaped; the open page is told
    // once and keeps working with the last good template; a new mount gets the last good one.
    let broken = "<p id=\"v\">three {{ n }}</p>\n{% set x = \"<i>\" %}";
    let (status, headers, body) = edit_then_load(&router, &dir, broken).await;
    assert_eq!(status, 500);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        body.contains("page.html") && body.contains("line 2") && body.contains("{% set %}"),
        "{body}"
    );
    assert!(!body.contains("\"<i>\""), "the message is escaped: {body}");
    open.event("inc", json!({})).await;
    let error = next(&mut open).await;
    assert_eq!(error["t"], "error", "{error}");
    assert_eq!(error["code"], "render_failed");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("page.html") && message.contains("line 2"),
        "{message}"
    );
    let patch = next(&mut open).await;
    assert_eq!(patch["t"], "patch", "the old page still renders: {patch}");
    open.event("inc", json!({})).await;
    assert_eq!(next(&mut open).await["t"], "patch", "told only once");
    let (_third, mounted) = Ws::mounted(addr, "/", "").await;
    assert!(html(&mounted).contains("two 0"), "{mounted}");

    // Fixed: served again.
    edit_then_expect(&router, &dir, "<p id=\"v\">four {{ n }}</p>", "four 0").await;
    remove(&dir);
}

#[tokio::test]
async fn without_dev_mode_templates_stay_as_they_were_at_start_up() {
    let dir = templates_dir("fixed", "<p>one {{ n }}</p>");
    let router = app(test_config().with_dev(false), &dir);
    let addr = serve(router.clone()).await;
    let (mut open, _) = Ws::mounted(addr, "/", "").await;
    edit_then_expect(&router, &dir, "<p>two {{ n }}</p>", "<p>one 0</p>").await;
    std::fs::write(static_dir(&dir).join("site.css"), "p {}").unwrap();
    // No watcher outside dev mode: an open page hears nothing of either change.
    let quiet = 4 * push_debounce();
    while let Some(frame) = open.try_recv(quiet).await {
        assert_eq!(frame["t"], "heartbeat", "nothing but heartbeats: {frame}");
    }
    remove(&dir);
}

/// Dev mode's debounce (`dev/push.rs`) with room for a loaded machine.
fn push_debounce() -> Duration {
    Duration::from_millis(250)
}

#[tokio::test]
async fn in_dev_mode_an_edited_template_re_renders_open_pages_without_a_click() {
    let dir = templates_dir("push", "<p id=\"v\">one {{ n }}</p>");
    let router = app(test_config().with_dev(true), &dir);
    let addr = serve(router).await;
    let (mut open, mounted) = Ws::mounted(addr, "/", "").await;
    assert!(html(&mounted).contains("one 0"));
    open.event("inc", json!({})).await;
    assert_eq!(next(&mut open).await["t"], "patch");

    // No event from the page: the watcher re-renders it, in full, keeping the view's state.
    std::fs::write(dir.join("page.html"), "<p id=\"v\">two {{ n }}</p>").unwrap();
    let frame = pushed(&mut open, "a render").await;
    assert_eq!(frame["t"], "render", "{frame}");
    assert!(
        html(&frame).contains("two 1"),
        "the view kept n = 1: {frame}"
    );

    // A broken edit: the page is told at once, and keeps its page.
    std::fs::write(dir.join("page.html"), "<p>{% if %}</p>").unwrap();
    let error = pushed(&mut open, "an error").await;
    assert_eq!(error["code"], "render_failed", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("page.html"),
        "{error}"
    );
    remove(&dir);
}

#[tokio::test]
async fn in_dev_mode_a_changed_static_file_or_layout_reloads_open_pages() {
    let dir = templates_dir("reload-frame", "<p>{{ n }}</p>");
    std::fs::write(
        dir.join("base.html"),
        "<html><head>{{ djust.script }}</head><body>{{ djust.root }}</body></html>",
    )
    .unwrap();
    std::fs::create_dir_all(static_dir(&dir)).unwrap();
    let router = Djust::builder()
        .config(test_config().with_dev(true))
        .templates_dir(&dir)
        .layout("base.html")
        .reload_pages_on_change(static_dir(&dir))
        .live::<Page>("/")
        .into_router()
        .expect("router");
    let addr = serve(router).await;
    let (mut open, _) = Ws::mounted(addr, "/", "").await;
    for (what, file) in [
        ("a static file", static_dir(&dir).join("site.css")),
        ("the layout", dir.join("base.html")),
    ] {
        let old = std::fs::read_to_string(&file).unwrap_or_default();
        std::fs::write(&file, format!("{old}\n<!-- edited -->")).unwrap();
        // (A render may come first: the layout is a template, and a render that happens to
        // run after the edit follows it.)
        let reload = async {
            loop {
                let frame = next(&mut open).await;
                if frame["t"] != "render" && frame["t"] != "patch" {
                    return frame;
                }
            }
        };
        let frame = tokio::time::timeout(FRAME_WAIT, reload)
            .await
            .unwrap_or_else(|_| panic!("{what}: a frame within FRAME_WAIT of the edit"));
        assert_eq!(frame, json!({"t": "reload"}), "{what}");
    }
    remove(&dir);
}

#[tokio::test]
async fn a_failed_render_is_readable_in_dev_and_says_nothing_internal_in_production() {
    let dir = templates_dir("errors", "<p>ok</p>");
    let dev = app(test_config().with_dev(true), &dir);
    let (status, _, body) = get(dev.clone(), "/failing", &[]).await;
    assert_eq!(status, 500);
    assert!(
        body.contains("db password &lt;b&gt;hunter2&lt;/b&gt; rejected"),
        "{body}"
    );
    assert!(!body.contains("<b>hunter2"), "escaped: {body}");
    let (status, _, body) = get(dev, "/bad-filter", &[]).await;
    assert_eq!(status, 500);
    assert!(
        body.contains("template: bad_filter.html") && body.contains("line: 2"),
        "the template and line: {body}"
    );

    let production = app(test_config().with_dev(false), &dir);
    for path in ["/failing", "/bad-filter"] {
        let (status, headers, body) = get(production.clone(), path, &[]).await;
        assert_eq!(status, 500);
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(body.contains("could not be rendered"), "{body}");
        for internal in ["hunter2", "bad_filter.html", "template:", "Dev mode"] {
            assert!(!body.contains(internal), "{internal} leaked: {body}");
        }
    }
    remove(&dir);
}

#[tokio::test]
async fn unmatched_paths_get_a_styled_404_or_plain_text_and_the_favicon_is_served() {
    let dir = templates_dir("fallback", "<p>ok</p>");
    let router = app(test_config(), &dir);
    let browser = [("accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    let (status, headers, body) = get(router.clone(), "/no/such&page", &browser).await;
    assert_eq!(status, 404);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        body.starts_with("<!doctype html>") && body.contains("<style>"),
        "{body}"
    );
    assert!(
        body.contains("There is no page at /no/such&amp;page."),
        "{body}"
    );

    let (status, headers, body) = get(router.clone(), "/no/such&page", &[]).await;
    assert_eq!(status, 404);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(body, "404 Not Found\n", "nothing reflected");

    use tower::ServiceExt;
    let req = axum::http::Request::get("/favicon.ico")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/x-icon");
    let icon = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(&icon[..4], &[0, 0, 1, 0], "an ICO file");

    // An application's own favicon wins; the 404 stays djust's.
    let own = router.route("/favicon.ico", axum::routing::get(|| async { "mine" }));
    assert_eq!(get(own.clone(), "/favicon.ico", &[]).await.2, "mine");
    assert_eq!(get(own, "/nope", &[]).await.0, 404);

    // Opting out leaves the application's own fallback in charge.
    let bare = Djust::builder()
        .config(test_config())
        .templates_dir(&dir)
        .without_fallback()
        .live::<Page>("/")
        .into_router()
        .unwrap();
    let theirs = axum::Router::new()
        .fallback(|| async { (axum::http::StatusCode::IM_A_TEAPOT, "tea") })
        .merge(bare);
    assert_eq!(get(theirs, "/favicon.ico", &[]).await.0, 418);
    remove(&dir);
}

#[tokio::test]
async fn the_client_script_is_uncached_in_dev_and_revalidated_in_production() {
    let dir = templates_dir("script", "<p>ok</p>");
    let (status, headers, js) = get(
        app(test_config().with_dev(true), &dir),
        djust::SCRIPT_PATH,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.get("etag").is_none());
    assert!(js.contains("window.DjustPatch ="));
    let (_, headers, _) = get(
        app(test_config().with_dev(false), &dir),
        djust::SCRIPT_PATH,
        &[],
    )
    .await;
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers.get("etag").is_some());
    remove(&dir);
}
