//! Plain HTTP: page GETs (static renders), errors, assets, and the document list (its live
//! form, the creation limit, pages). Login and logout: `login.rs`.

mod support;

use serde_json::json;
use support::{http_get, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_presence_statically_and_refuse_bad_ids() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let _a = app.ws(&alice, "/doc/1").await;
    // Bob's page GET already lists alice; bob is tracked only once his WebSocket mounts.
    let (status, _, page) = http_get(app.addr, "/doc/1", Some(&bob)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<span class="name">alice</span>"#),
        "{page}"
    );
    assert!(page.contains("1 Editing"), "{page}");
    assert!(page.contains(collab::db::SEED_TITLE));
    assert_eq!(app.names("editor:1"), ["alice"]);

    assert_eq!(http_get(app.addr, "/doc/999", Some(&bob)).await.0, 404);
    assert_eq!(http_get(app.addr, "/document/999", None).await.0, 404);
    assert_eq!(http_get(app.addr, "/doc/abc", None).await.0, 400);
    assert_eq!(http_get(app.addr, "/canvas/1", None).await.0, 200);

    let (status, headers, js) = http_get(app.addr, "/static/collab.js", None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.contains("window.djust.hooks.Editor = Editor"));
    let (status, _, css) = http_get(app.addr, "/static/collab.css", None).await;
    assert_eq!(status, 200);
    assert!(css.contains(".cursor-name"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_keep_their_name_across_pages() {
    let app = start().await;
    let guest = app.guest().await;
    let name_of = |page: &str| {
        page.split(r#"<span class="me-name">"#)
            .nth(1)
            .and_then(|s| s.split('<').next())
            .map(str::to_owned)
            .unwrap()
    };
    let (_, _, first) = http_get(app.addr, "/", Some(&guest)).await;
    let (_, _, second) = http_get(app.addr, "/doc/1", Some(&guest)).await;
    assert!(name_of(&first).starts_with("Guest "));
    assert_eq!(name_of(&first), name_of(&second));
    assert!(first.contains("Log in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_creates_documents() {
    let app = start().await;
    let alice = app.login("alice").await;
    let mut ws = app.ws(&alice, "/").await;
    ws.event("create_document", json!({"title": "  Meeting notes "}))
        .await;
    let html = ws
        .wait_html("new document", |h| h.contains("Meeting notes"))
        .await;
    assert!(html.contains(r#"href="/doc/2""#), "{html}");
    ws.event("create_document", json!({"title": "   "})).await;
    let html = ws.wait_html("error", |h| h.contains("A title needs")).await;
    assert_eq!(support::count(&html, "<li "), 2, "{html}");
    let (status, _, _) = http_get(app.addr, "/doc/2", Some(&alice)).await;
    assert_eq!(status, 200);
}

/// The `<li>` items of the document list in `html`.
fn items(html: &str) -> usize {
    support::count(html, "<li dj-key=")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_creation_is_limited_per_user() {
    let app = start().await;
    let alice = app.login("alice").await;
    let mut ws = app.ws(&alice, "/").await;
    let (burst, refill) = collab::rate::PER_USER;
    for i in 0..burst {
        let title = format!("doc {i}");
        ws.event("create_document", json!({ "title": title })).await;
        ws.wait_html("created", |h| h.contains(&format!(">{title}<")))
            .await;
    }
    ws.event("create_document", json!({"title": "one too many"}))
        .await;
    let html = ws
        .wait_html("refusal", |h| h.contains("creating documents too fast"))
        .await;
    assert!(!html.contains("one too many"), "{html}");
    let per_minute = 60 / refill.as_secs();
    assert!(
        html.contains(&format!("at most {per_minute} a minute")),
        "{html}"
    );
    // Bob has his own budget, and so has a guest.
    let bob = app.login("bob").await;
    let mut b = app.ws(&bob, "/").await;
    b.event("create_document", json!({"title": "bob's"})).await;
    b.wait_html("bob's document", |h| h.contains("bob&#x27;s"))
        .await;
    let guest = app.guest().await;
    let mut g = app.ws(&guest, "/").await;
    g.event("create_document", json!({"title": "a guest's"}))
        .await;
    g.wait_html("the guest's document", |h| h.contains("a guest&#x27;s"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_list_is_paginated() {
    let app = start().await;
    let db = collab::db::Db::open(&app.db_path).expect("db");
    for i in 0..60 {
        db.create_document(&format!("bulk {i}"), None)
            .await
            .expect("insert");
    }
    let page_size = usize::try_from(collab::PAGE_SIZE).unwrap();
    let (_, _, first) = http_get(app.addr, "/", None).await;
    assert_eq!(items(&first), page_size, "{first}");
    assert!(
        first.contains("page 1 of 2") && first.contains(r#"href="/?page=2""#),
        "{first}"
    );
    let (_, _, second) = http_get(app.addr, "/?page=2", None).await;
    assert_eq!(items(&second), 61 - page_size, "{second}");
    assert!(
        second.contains(">bulk 59<") && !second.contains(">bulk 0<"),
        "{second}"
    );
    // Past the end: the last page; nonsense: a 400.
    let (_, _, past) = http_get(app.addr, "/?page=99", None).await;
    assert!(past.contains("page 2 of 2"), "{past}");
    assert_eq!(http_get(app.addr, "/?page=x", None).await.0, 400);
}
