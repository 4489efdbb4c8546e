//! Editing over real WebSockets: `content_changed` broadcasts (saved to SQLite, tagged with the
//! sender's connection), the typing indicator, and the spec's two smaller views.

mod support;

use collab::db::Db;
use serde_json::json;
use support::start;

/// The spec's simple variant (`update_content`); the default editor uses shared text.
const DOC: &str = "/doc/1?simple=true";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_is_saved_and_broadcast_to_everyone_with_the_senders_origin() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut a = app.ws(&alice, DOC).await;
    let mut a2 = app.ws(&alice, DOC).await;
    let mut b = app.ws(&bob, DOC).await;

    // What the textarea sends: `value` plus `content` (its name).
    a.event(
        "update_content",
        json!({"value": "hello <b>world</b>", "content": "hello <b>world</b>"}),
    )
    .await;
    let got = b.wait_event("content_changed").await;
    assert_eq!(got["content"], "hello <b>world</b>");
    assert_eq!(got["by"], "alice");
    assert_eq!(
        got["origin"],
        a.conn.as_str(),
        "tagged with the sender's connection"
    );
    // The sender's other tab gets it too (same user, different origin: it applies it)...
    let other_tab = a2.wait_event("content_changed").await;
    assert_eq!(other_tab["origin"], a.conn.as_str());
    assert_ne!(a2.conn, a.conn);
    // ...and the sender itself, whose hook skips it because the origin is its own.
    let own = a.wait_event("content_changed").await;
    assert_eq!(own["origin"], a.conn.as_str());
    // Each page knows its own connection id (the hook compares against it).
    let html = a.html().await;
    assert!(
        html.contains(&format!(r#"data-conn="{}""#, a.conn)),
        "{html}"
    );

    let doc = Db::open(&app.db_path)
        .unwrap()
        .document(1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.content, "hello <b>world</b>");
    assert_eq!(doc.updated_by.as_deref(), Some("alice"));

    // A page loaded now starts from the saved text (escaped inside the textarea).
    let (status, _, body) = support::http_get(app.addr, DOC, Some(&bob)).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("hello &lt;b&gt;world&lt;&#x2f;b&gt;</textarea>"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_indicator_follows_update_presence() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut a = app.ws(&alice, DOC).await;
    let mut b = app.ws(&bob, DOC).await;
    a.wait_html("bob listed", |h| h.contains(">bob<")).await;
    assert!(!a.html().await.contains("typing…"));

    b.event("typing", json!({"typing": true})).await;
    let html = a.wait_html("bob typing", |h| h.contains("typing…")).await;
    let bob_row = html
        .split(r#"data-uid="u2""#)
        .nth(1)
        .unwrap()
        .split("</li>")
        .next()
        .unwrap();
    assert!(bob_row.contains("typing…"), "{html}");
    let alice_row = html
        .split(r#"data-uid="u1""#)
        .nth(1)
        .unwrap()
        .split("</li>")
        .next()
        .unwrap();
    assert!(!alice_row.contains("typing…"), "{html}");
    let bob_meta = app
        .presence
        .list("editor:1")
        .into_iter()
        .find(|p| p.id() == "2")
        .unwrap();
    assert_eq!(bob_meta.meta()["typing"], true);
    assert_eq!(
        bob_meta.get_str("name"),
        Some("bob"),
        "the rest of the meta is kept"
    );

    b.event("typing", json!({"typing": false})).await;
    a.wait_html("bob stopped", |h| !h.contains("typing…")).await;
    // A typing flag is an update, never a leave and join.
    assert!(!a.events.iter().any(|(n, _)| n == "user_left"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_event_parameters_leave_the_document_alone() {
    let app = start().await;
    let alice = app.login("alice").await;
    let mut a = app.ws(&alice, DOC).await;
    a.send(json!({"t": "event", "name": "update_content", "payload": {"value": "no content key"}}))
        .await;
    let frame = a.recv_raw().await;
    assert_eq!(frame["t"], "error");
    assert_eq!(frame["code"], "bad_params");
    let doc = Db::open(&app.db_path)
        .unwrap()
        .document(1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.content, collab::db::SEED_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_view_counts_viewers_and_pushes_flash_events() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut a = app.ws(&alice, "/document/1").await;
    let b = app.ws(&bob, "/document/1").await;
    let html = a.wait_html("2 online", |h| h.contains("2 online")).await;
    assert!(
        html.contains(r#"title="bob""#) && html.contains(r#"title="alice""#),
        "{html}"
    );
    let flash = a.wait_event("flash").await;
    assert_eq!(flash, json!({"message": "bob joined", "type": "info"}));
    assert_eq!(app.names("document:1"), ["alice", "bob"]);
    // The editor's group is a different one.
    assert!(app.names("editor:1").is_empty());
    b.close().await;
    a.wait_event_where("flash", |p| p["message"] == "bob left")
        .await;
    a.wait_html("1 online", |h| h.contains("1 online")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canvas_view_shows_other_cursors() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut a = app.ws(&alice, "/canvas/1").await;
    let mut b = app.ws(&bob, "/canvas/1").await;
    b.event("cursor_move", json!({"x": 40, "y": 70})).await;
    let html = a
        .wait_html("bob's cursor", |h| h.contains("left: 40px; top: 70px;"))
        .await;
    assert!(
        html.contains(r#"<span class="cursor-label">bob</span>"#),
        "{html}"
    );
    assert!(html.contains(collab::people::COLORS[2]), "{html}");
    assert!(
        !b.html().await.contains(r#"class="remote-cursor""#),
        "no own cursor"
    );
    assert_eq!(app.names("doc:1"), ["alice", "bob"]);
}
