//! Presence and live cursors in live views, over real WebSockets: joins and leaves reach every
//! other view once per user, tabs of one user count once, cursors reach peers (not their
//! owner), broadcasts reach the whole group, and the clock-driven parts (reconnect grace,
//! heartbeat timeouts) advance on a manual clock.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use djust::presence::Presence;
use djust_presence::ManualClock;
use serde_json::{Value, json};
use support::presence_views::{manual_engine, presence_router, renders_of};
use support::{Ws, eventually, serve, test_config};

/// Long enough for a frame that would come (they come within milliseconds), short enough to
/// keep "nothing arrives" checks quick.
const QUIET: Duration = Duration::from_millis(300);

async fn start() -> (SocketAddr, Presence, ManualClock) {
    let (engine, clock) = manual_engine();
    let addr = serve(presence_router(test_config(), engine.clone())).await;
    (addr, engine, clock)
}

/// Connects as the authenticated user `id:name` and mounts room `room`.
async fn join(addr: SocketAddr, room: &str, user: &str) -> (Ws, Value) {
    let mut ws = Ws::connect_with(addr, &[("x-test-user", user)])
        .await
        .expect("connect");
    let mounted = ws.mount(&format!("/room/{room}"), "").await;
    assert_eq!(mounted["t"], "mounted", "{mounted}");
    (ws, mounted)
}

/// Push events named `name` in a frame (`patch`, `push` or `render` carry `events`).
fn events_named(frame: &Value, name: &str) -> Vec<Value> {
    frame["events"]
        .as_array()
        .map(|evs| {
            evs.iter()
                .filter(|e| e["name"] == name || e["event"] == name)
                .map(|e| e["payload"].clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Every push event named `name` arriving within `window`.
async fn collect(ws: &mut Ws, name: &str, window: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(frame) = ws.try_recv(window).await {
        out.extend(events_named(&frame, name));
    }
    out
}

/// The view's current HTML: asks for a full render, skipping patches still on their way.
async fn html(ws: &mut Ws) -> String {
    ws.send(json!({"t": "resync"})).await;
    loop {
        let frame = ws.recv().await;
        if frame["t"] == "render" {
            return djust_render::full_html(&frame).expect("html");
        }
    }
}

#[tokio::test]
async fn a_join_reaches_the_others_once_and_not_the_joiner() {
    let (addr, engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, mounted_b) = join(addr, "1", "2:bob").await;
    // B's first render already lists both.
    let html_b = &djust_render::full_html(&mounted_b).unwrap();
    assert!(html_b.contains(r#"<p id="count">2</p>"#), "{html_b}");
    assert!(
        html_b.contains("alice") && html_b.contains("bob"),
        "{html_b}"
    );
    // A is told once; B is not told about itself.
    let joined = collect(&mut a, "joined", QUIET).await;
    assert_eq!(joined, vec![json!({"name": "bob"})]);
    assert!(collect(&mut b, "joined", QUIET).await.is_empty());
    assert!(html(&mut a).await.contains(r#"<p id="count">2</p>"#));
    assert_eq!(engine.count("room:1"), 2);
}

#[tokio::test]
async fn two_tabs_of_one_user_count_once_and_closing_one_keeps_the_user() {
    let (addr, engine, _clock) = start().await;
    let (mut watcher, _) = join(addr, "1", "9:carol").await;
    let (mut tab1, _) = join(addr, "1", "1:alice").await;
    let (mut tab2, _) = join(addr, "1", "1:alice").await;
    assert_eq!(collect(&mut watcher, "joined", QUIET).await.len(), 1);
    assert_eq!(engine.count("room:1"), 2);
    assert!(html(&mut watcher).await.contains(r#"<p id="count">2</p>"#));

    tab1.close(1001).await;
    assert!(collect(&mut watcher, "left", QUIET).await.is_empty());
    assert_eq!(engine.count("room:1"), 2);

    tab2.close(1001).await;
    let left = collect(&mut watcher, "left", QUIET).await;
    assert_eq!(left, vec![json!({"name": "alice"})]);
    assert_eq!(engine.count("room:1"), 1);
    assert!(html(&mut watcher).await.contains(r#"<p id="count">1</p>"#));
    drop(tab2);
}

#[tokio::test]
async fn a_clean_close_removes_the_user_for_peers_at_once() {
    let (addr, engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    b.close(1001).await;
    // No clock advance, no sweep: the leave is immediate.
    let left = collect(&mut a, "left", QUIET).await;
    assert_eq!(left, vec![json!({"name": "bob"})]);
    assert_eq!(engine.count("room:1"), 1);
}

#[tokio::test]
async fn a_drop_then_reconnect_within_the_grace_shows_peers_nothing() {
    let (addr, engine, clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;

    b.drop_abruptly();
    eventually(|| engine.stats().connections == 2 && engine.count("room:1") == 2).await;
    clock.advance(Duration::from_secs(3));
    engine.sweep();
    let (_b2, _) = join(addr, "1", "2:bob").await;
    clock.advance(Duration::from_secs(10));
    engine.sweep();
    let frames = collect(&mut a, "left", QUIET).await;
    assert!(
        frames.is_empty(),
        "no leave for a reconnect within the grace"
    );
    assert_eq!(engine.count("room:1"), 2);
    assert_eq!(
        engine
            .list("room:1")
            .iter()
            .find(|p| p.id() == "2")
            .unwrap()
            .connections(),
        1
    );
}

#[tokio::test]
async fn a_drop_without_reconnect_leaves_after_the_grace() {
    let (addr, engine, clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    b.drop_abruptly();
    // Wait until the server has seen the drop (the user is then pending, still present).
    tokio::time::sleep(QUIET).await;
    assert!(collect(&mut a, "left", QUIET).await.is_empty());
    assert_eq!(engine.count("room:1"), 2);
    clock.advance(Duration::from_secs(6));
    engine.sweep();
    let left = collect(&mut a, "left", QUIET).await;
    assert_eq!(left, vec![json!({"name": "bob"})]);
}

#[tokio::test]
async fn heartbeats_keep_a_connection_present_and_silence_expires_it() {
    let (addr, engine, clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    for _ in 0..3 {
        clock.advance(Duration::from_secs(30));
        a.send(json!({"t": "heartbeat", "ref": 1})).await;
        let reply = a.recv().await;
        assert_eq!(reply["t"], "heartbeat", "{reply}");
        engine.sweep();
    }
    // 90 s: A heartbeated every 30 s, B never did (timeout 60 s).
    let ids: Vec<String> = engine
        .list("room:1")
        .iter()
        .map(|p| p.id().to_owned())
        .collect();
    assert_eq!(ids, vec!["1".to_owned()]);
    let left = collect(&mut a, "left", QUIET).await;
    assert_eq!(left, vec![json!({"name": "bob"})]);
    // B heartbeats again: it is tracked again and A sees the join.
    b.send(json!({"t": "heartbeat"})).await;
    let joined = collect(&mut a, "joined", QUIET).await;
    assert_eq!(joined, vec![json!({"name": "bob"})]);
    assert_eq!(engine.count("room:1"), 2);
}

#[tokio::test]
async fn cursors_reach_peers_with_name_but_not_their_owner() {
    let (addr, _engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    a.event("cursor_move", json!({"x": 120, "y": 45})).await;
    let mut seen = false;
    for _ in 0..20 {
        let page = html(&mut b).await;
        if page.contains(r#"data-user="1""#) && page.contains(">alice@120,45</b>") {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "B shows A's cursor");
    let own = html(&mut a).await;
    assert!(
        !own.contains("class=\"cursor\""),
        "A does not see its own cursor: {own}"
    );

    // A leaves: the cursor disappears for B.
    a.close(1001).await;
    eventually_html(&mut b, |h| !h.contains("class=\"cursor\"")).await;
}

async fn eventually_html(ws: &mut Ws, cond: impl Fn(&str) -> bool) {
    for _ in 0..50 {
        if cond(&html(ws).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "condition on the rendered page never held: {}",
        html(ws).await
    );
}

#[tokio::test]
async fn a_burst_of_cursor_moves_is_coalesced_into_few_frames() {
    let (addr, _engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut b, "any", QUIET).await;
    for i in 0..60 {
        a.send(json!({"t": "event", "name": "cursor_move", "payload": {"x": i, "y": i}, "coalesce": true}))
            .await;
    }
    let mut frames = 0;
    while let Some(frame) = b.try_recv(QUIET).await {
        assert!(frame["t"] == "patch" || frame["t"] == "cursors", "{frame}");
        frames += 1;
    }
    // One frame per tick at most: 60 moves sent back to back cannot need 60 frames.
    assert!((1..=15).contains(&frames), "{frames} frames for 60 moves");
    assert!(html(&mut b).await.contains("alice@59,59"));
}

#[tokio::test]
async fn moves_of_a_shown_cursor_take_the_fast_path_without_a_render() {
    let (addr, _engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    // The first move makes A's cursor appear for B: that needs a render (a patch).
    a.event("cursor_move", json!({"x": 10, "y": 20})).await;
    let first = b.recv().await;
    assert_eq!(first["t"], "patch", "{first}");
    let dom_id = html(&mut b)
        .await
        .split("dj-cursor=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the cursor element carries dj-cursor")
        .to_owned();
    assert!(
        !dom_id.contains('1') || dom_id.starts_with('c'),
        "an opaque id: {dom_id}"
    );
    // Later moves only move it: a `cursors` frame with [dom_id, x, y], no render, no version.
    a.event("cursor_move", json!({"x": 300, "y": 40})).await;
    let moved = b.recv().await;
    assert_eq!(moved["t"], "cursors", "{moved}");
    assert_eq!(moved["cursors"], json!([[dom_id, 300, 40]]));
    assert!(moved.get("ver").is_none());
    // The server's state has the position too (a full render shows it).
    assert!(html(&mut b).await.contains("alice@300,40"));
}

#[tokio::test]
async fn broadcast_reaches_the_whole_group_sender_included() {
    let (addr, _engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    let (mut other_room, _) = join(addr, "2", "3:dave").await;
    collect(&mut a, "joined", QUIET).await;
    a.event("shout", json!({"message": "hi"})).await;
    let expected = vec![json!({"message": "hi", "from": "alice"})];
    assert_eq!(collect(&mut a, "shout", QUIET).await, expected);
    assert_eq!(collect(&mut b, "shout", QUIET).await, expected);
    assert!(collect(&mut other_room, "shout", QUIET).await.is_empty());
}

#[tokio::test]
async fn update_presence_shows_a_typing_indicator_without_leave_or_join() {
    let (addr, _engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    b.event("typing", json!({"typing": true})).await;
    eventually_html(&mut a, |h| h.contains("bob typing")).await;
    b.event("typing", json!({"typing": false})).await;
    eventually_html(&mut a, |h| h.contains(">bob</li>")).await;
    let mut frames = Vec::new();
    while let Some(f) = a.try_recv(QUIET).await {
        frames.push(f);
    }
    assert!(
        frames
            .iter()
            .all(|f| events_named(f, "joined").is_empty() && events_named(f, "left").is_empty())
    );
}

#[tokio::test]
async fn untrack_presence_hides_the_user_but_keeps_their_view_updated() {
    let (addr, engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    b.event("go_invisible", json!({})).await;
    assert_eq!(
        collect(&mut a, "left", QUIET).await,
        vec![json!({"name": "bob"})]
    );
    assert_eq!(engine.count("room:1"), 1);
    // B still sees the room change.
    let (_c, _) = join(addr, "1", "3:carol").await;
    assert_eq!(
        collect(&mut b, "joined", QUIET).await,
        vec![json!({"name": "carol"})]
    );
}

#[tokio::test]
async fn changing_the_key_moves_the_presence() {
    let (addr, engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut c, _) = join(addr, "2", "3:carol").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    b.event("move_to", json!({"room": "2"})).await;
    assert_eq!(
        collect(&mut a, "left", QUIET).await,
        vec![json!({"name": "bob"})]
    );
    assert_eq!(
        collect(&mut c, "joined", QUIET).await,
        vec![json!({"name": "bob"})]
    );
    assert_eq!((engine.count("room:1"), engine.count("room:2")), (1, 2));
    // B now follows room 2.
    let page = html(&mut b).await;
    assert!(
        page.contains(r#"<p id="count">2</p>"#) && page.contains("carol"),
        "{page}"
    );
}

#[tokio::test]
async fn bad_meta_is_an_error_frame_and_changes_nothing() {
    let (addr, engine, _clock) = start().await;
    let (mut a, _) = join(addr, "1", "1:alice").await;
    let (mut b, _) = join(addr, "1", "2:bob").await;
    collect(&mut a, "joined", QUIET).await;
    for (meta, needle) in [
        (json!({"id": "spoof"}), "reserved"),
        (json!("not an object"), "object"),
        (json!({"blob": "x".repeat(5000)}), "limit"),
    ] {
        b.event("retrack", json!({"meta": meta})).await;
        let err = b.recv().await;
        assert_eq!(err["t"], "error", "{err}");
        assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
    }
    assert_eq!(engine.list("room:1")[1].get_str("name"), Some("bob"));
    assert!(collect(&mut a, "left", QUIET).await.is_empty());
    // The connection still works.
    b.event("typing", json!({"typing": true})).await;
    eventually_html(&mut a, |h| h.contains("bob typing")).await;
}

#[tokio::test]
async fn the_static_page_lists_others_without_tracking_the_page_view() {
    let (addr, engine, _clock) = start().await;
    let (_a, _) = join(addr, "1", "1:alice").await;
    let router = presence_router(test_config(), engine.clone());
    let (status, _h, body) =
        support::get(router, "/room/1?name=zed", &[("x-test-user", "5:zed")]).await;
    assert_eq!(status, 200);
    assert!(body.contains("alice"), "{body}");
    assert!(body.contains(r#"<i id="me">zed</i>"#), "{body}");
    assert_eq!(engine.count("room:1"), 1, "a page GET is not a presence");
}

#[tokio::test]
async fn moving_the_own_cursor_never_re_renders_the_own_page() {
    let (addr, _engine, _clock) = start().await;
    let (mut mover, _) = join(addr, "1", "77:mover").await;
    let (mut watcher, _) = join(addr, "1", "78:watcher").await;
    collect(&mut mover, "joined", QUIET).await;
    let before = renders_of("77");
    for i in 0..10 {
        mover.event("cursor_move", json!({"x": i, "y": i})).await;
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    // The watcher sees the moves...
    eventually_html(&mut watcher, |h| h.contains("mover@9,9")).await;
    // ...while the mover's page, which never shows its own cursor, was not rendered for them
    // (neither for its `render = false` handler nor for its own `CursorMoved` event).
    assert_eq!(renders_of("77"), before);
}
