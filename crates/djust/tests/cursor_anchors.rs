//! A cursor event's `_cursor` extras over real WebSockets: anchors travel with the cursor (the
//! rendered map and the fast path), bad ones are a `bad_params` error that changes nothing, a
//! hidden cursor disappears for peers until the next move, and above `cursor_limit` a page
//! gets the most recently moved cursors only.

mod support;

use std::time::Duration;

use serde_json::json;
use support::cursor_room::{cursor_move, drain, html, join, start};

#[tokio::test]
async fn an_anchor_travels_in_the_rendered_map_and_on_the_fast_path() {
    let (addr, engine) = start(50).await;
    let mut a = join(addr, "1:alice").await;
    let mut b = join(addr, "2:bob").await;
    drain(&mut a).await;
    let anchor = json!({"n": "content", "i": 5, "dx": 1.5});
    cursor_move(
        &mut a,
        json!({"x": 10, "y": 20, "_cursor": {"anchor": anchor}}),
    )
    .await;
    assert_eq!(b.recv().await["t"], "patch");
    let page = html(&mut b).await;
    assert!(
        page.contains(r#"dj-cursor-anchor="{&quot;n&quot;:&quot;content&quot;,&quot;i&quot;:5,&quot;dx&quot;:1.5}""#),
        "{page}"
    );
    assert!(page.contains("alice@10,20"), "the handler got x/y: {page}");
    let dom_id = page
        .split("dj-cursor=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("dj-cursor")
        .to_owned();
    let anchor = json!({"k": "para-2", "fx": 0.25, "fy": 1});
    cursor_move(
        &mut a,
        json!({"x": 30, "y": 40, "_cursor": {"anchor": anchor}}),
    )
    .await;
    let moved = b.recv().await;
    assert_eq!(moved["t"], "cursors", "{moved}");
    assert_eq!(
        moved["cursors"],
        json!([[dom_id, 30, 40, {"k": "para-2", "fx": 0.25, "fy": 1.0}]])
    );
    let (_, cursor) = engine
        .cursors("room:1")
        .into_iter()
        .next()
        .expect("a cursor");
    assert_eq!(
        cursor.anchor().map(|a| a.to_json()),
        Some(r#"{"k":"para-2","fx":0.25,"fy":1.0}"#.to_owned())
    );
    // A move without an anchor drops it.
    cursor_move(&mut a, json!({"x": 31, "y": 41})).await;
    let moved = b.recv().await;
    assert_eq!(moved["cursors"], json!([[dom_id, 31, 41]]));
}

#[tokio::test]
async fn a_bad_cursor_field_is_a_bad_params_error_and_changes_nothing() {
    let (addr, engine) = start(50).await;
    let mut a = join(addr, "1:alice").await;
    let mut b = join(addr, "2:bob").await;
    drain(&mut a).await;
    cursor_move(&mut a, json!({"x": 1, "y": 2})).await;
    drain(&mut b).await;
    for bad in [
        json!({"anchor": {"k": "a", "fx": 2, "fy": 0}}),
        json!({"anchor": {"fx": 0.5, "fy": 0.5}}),
        json!({"anchor": {"k": "x".repeat(200), "fx": 0.5, "fy": 0.5}}),
        json!({"anchor": {"n": "t", "i": 3, "dx": 1e9}}),
        json!({"hidden": "yes"}),
        json!({"teleport": true}),
        json!("hidden"),
    ] {
        cursor_move(&mut a, json!({"x": 500, "y": 600, "_cursor": bad})).await;
        let err = a.recv().await;
        assert_eq!(err["t"], "error", "{bad}: {err}");
        assert_eq!(err["code"], "bad_params", "{err}");
        let message = err["message"].as_str().unwrap_or_default();
        assert!(message.contains("`_cursor`"), "{message}");
    }
    // Nothing moved, for anyone; the connection still works.
    assert!(drain(&mut b).await.is_empty());
    assert_eq!(engine.cursors("room:1")[0].1.x(), 1.0);
    cursor_move(&mut a, json!({"x": 7, "y": 8})).await;
    assert_eq!(b.recv().await["t"], "cursors");
}

#[tokio::test]
async fn a_hidden_cursor_disappears_for_peers_until_the_next_move() {
    let (addr, engine) = start(50).await;
    let mut a = join(addr, "1:alice").await;
    let mut b = join(addr, "2:bob").await;
    drain(&mut a).await;
    cursor_move(&mut a, json!({"x": 5, "y": 6})).await;
    assert_eq!(b.recv().await["t"], "patch");
    cursor_move(&mut a, json!({"x": 5, "y": 6, "_cursor": {"hidden": true}})).await;
    let removed = b.recv().await;
    assert_eq!(removed["t"], "patch", "the element goes: {removed}");
    let page = html(&mut b).await;
    assert!(!page.contains("alice@"), "{page}");
    assert!(
        page.contains(r#"<p id="count">2</p>"#),
        "still present: {page}"
    );
    assert_eq!(engine.count("room:1"), 2);
    cursor_move(&mut a, json!({"x": 9, "y": 9})).await;
    assert_eq!(b.recv().await["t"], "patch", "shown again: a render");
    assert!(html(&mut b).await.contains("alice@9,9"));
}

#[tokio::test]
async fn a_page_shows_at_most_cursor_limit_cursors() {
    let (addr, _engine) = start(2).await;
    let mut viewer = join(addr, "9:vera").await;
    let mut users = Vec::new();
    for (i, name) in ["ann", "bob", "cy", "dee"].iter().enumerate() {
        users.push(join(addr, &format!("{}:{name}", i + 1)).await);
    }
    for (i, ws) in users.iter_mut().enumerate() {
        cursor_move(ws, json!({"x": i, "y": 0})).await;
        // One move at a time, so "most recent" is well defined.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    drain(&mut viewer).await;
    let page = html(&mut viewer).await;
    assert_eq!(page.matches("class=\"cursor\"").count(), 2, "{page}");
    assert!(
        page.contains("cy@2,0") && page.contains("dee@3,0"),
        "{page}"
    );
    // Ann moves again: she comes back, and the least recently moved (cy) drops out.
    cursor_move(&mut users[0], json!({"x": 50, "y": 0})).await;
    drain(&mut viewer).await;
    let page = html(&mut viewer).await;
    assert_eq!(page.matches("class=\"cursor\"").count(), 2, "{page}");
    assert!(
        page.contains("ann@50,0") && page.contains("dee@3,0"),
        "{page}"
    );
}
