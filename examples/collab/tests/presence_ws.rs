//! Presence in the editor over real WebSockets: who is listed, remote cursors, tabs, closes,
//! drops, join/leave messages and escaping of names.

mod support;

use std::time::{Duration, Instant};

use support::{count, start, start_manual};

const DOC: &str = "/doc/1";
const KEY: &str = "editor:1";

fn lists(html: &str, name: &str) -> bool {
    html.contains(&format!(r#"<span class="name">{name}</span>"#))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_see_each_other_and_a_closed_tab_leaves_within_a_second() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut a = app.ws(&alice, DOC).await;
    let mut b = app.ws(&bob, DOC).await;
    assert_eq!(app.names(KEY), ["alice", "bob"]);

    let html = a
        .wait_html("bob in alice's list", |h| lists(h, "bob"))
        .await;
    assert!(
        lists(&html, "alice") && html.contains("2 Editing"),
        "{html}"
    );
    assert!(html.contains("bob joined"), "join flash: {html}");
    let joined = a.wait_event("user_joined").await;
    assert_eq!(joined["name"], "bob");
    assert_eq!(joined["color"], collab::people::COLORS[2], "bob is user 2");

    let html = b.html().await;
    assert!(lists(&html, "alice") && lists(&html, "bob"), "{html}");
    assert!(
        !html.contains("alice joined"),
        "alice was there before bob: {html}"
    );

    let closed = Instant::now();
    a.close().await;
    let html = b.wait_html("alice gone", |h| !lists(h, "alice")).await;
    let took = closed.elapsed();
    assert!(took < Duration::from_secs(1), "leave took {took:?}");
    assert!(
        html.contains("1 Editing") && html.contains("alice left"),
        "{html}"
    );
    assert_eq!(b.wait_event("user_left").await["name"], "alice");
    assert_eq!(app.names(KEY), ["bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_cursor_shows_name_and_colour_but_never_ones_own() {
    let app = start().await;
    let alice = app.login("alice").await; // user 1: COLORS[1]
    let bob = app.login("bob").await;
    let mut a = app.ws(&alice, DOC).await;
    let mut b = app.ws(&bob, DOC).await;
    a.event("cursor_move", serde_json::json!({"x": 120, "y": 45}))
        .await;
    let html = b
        .wait_html("alice's cursor", |h| h.contains("left: 120px; top: 45px;"))
        .await;
    let color = collab::people::COLORS[1];
    assert!(html.contains(&format!(r#"fill="{color}""#)), "{html}");
    let label = html
        .split(r#"class="cursor-name""#)
        .nth(1)
        .expect("a cursor label");
    assert!(label.contains(&format!("background: {color}")), "{label}");
    assert!(
        label.split("</span>").next().unwrap().contains("alice"),
        "{label}"
    );
    assert!(html.contains(r#"data-uid="u1""#), "{html}");

    // Moving again moves it; alice never sees her own cursor.
    a.event("cursor_move", serde_json::json!({"x": 300, "y": 10}))
        .await;
    b.wait_html("moved", |h| h.contains("left: 300px; top: 10px;"))
        .await;
    let own = a.html().await;
    assert_eq!(count(&own, r#"class="cursor""#), 0, "{own}");

    // When bob moves, alice sees exactly bob's cursor.
    b.event("cursor_move", serde_json::json!({"x": 5, "y": 6}))
        .await;
    let html = a
        .wait_html("bob's cursor", |h| h.contains("left: 5px; top: 6px;"))
        .await;
    assert_eq!(count(&html, r#"class="cursor""#), 1, "{html}");
    // And the cursor goes with its user.
    b.close().await;
    a.wait_html("cursor removed", |h| count(h, r#"class="cursor""#) == 0)
        .await;
}

/// How many connections `name` has on the document (0 if not listed).
fn connections(app: &support::TestApp, name: &str) -> usize {
    app.presence
        .list(KEY)
        .iter()
        .find(|p| p.get_str("name") == Some(name))
        .map_or(0, |p| p.connections())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_of_one_user_count_once_and_closing_one_keeps_the_user() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut b = app.ws(&bob, DOC).await;
    let a1 = app.ws(&alice, DOC).await;
    let a2 = app.ws(&alice, DOC).await;
    let html = b.wait_html("alice listed", |h| lists(h, "alice")).await;
    assert_eq!(
        count(&html, r#"<span class="name">alice</span>"#),
        1,
        "{html}"
    );
    assert!(html.contains("2 Editing"), "{html}");
    assert_eq!(connections(&app, "alice"), 2);

    a1.close().await;
    // The remaining tab keeps alice present: no leave, still listed.
    support::eventually_true(|| connections(&app, "alice") == 1).await;
    let html = b.html().await;
    assert!(
        lists(&html, "alice") && !html.contains("alice left"),
        "{html}"
    );
    assert!(!b.events.iter().any(|(n, _)| n == "user_left"));

    a2.close().await;
    b.wait_html("alice gone", |h| !lists(h, "alice")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_leaves_only_after_the_reconnect_grace() {
    let app = start_manual().await;
    let clock = app.clock.clone().expect("manual clock");
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut b = app.ws(&bob, DOC).await;
    let a = app.ws(&alice, DOC).await;
    b.wait_html("alice listed", |h| lists(h, "alice")).await;

    a.drop_abruptly();
    // Alice's connection task has ended (its subscription is gone) once the server noticed
    // the drop; she stays listed through the reconnect grace, so peers see no flicker.
    support::eventually_true(|| app.presence.stats().subscriptions == 1).await;
    clock.advance(Duration::from_secs(5));
    app.presence.sweep();
    assert_eq!(app.names(KEY).len(), 2, "alice is still listed");
    let html = b.html().await;
    assert!(
        lists(&html, "alice") && !html.contains("alice left"),
        "{html}"
    );

    clock.advance(Duration::from_millis(1_001));
    app.presence.sweep();
    let html = b.wait_html("alice gone", |h| !lists(h, "alice")).await;
    assert!(html.contains("alice left"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_name_is_escaped_in_list_cursor_and_flash() {
    let app = start().await;
    let evil = "<img src=x onerror=alert(1)>";
    let mallory = app.login(evil).await;
    let bob = app.login("bob").await;
    let mut b = app.ws(&bob, DOC).await;
    let mut m = app.ws(&mallory, DOC).await;
    m.event("cursor_move", serde_json::json!({"x": 50, "y": 60}))
        .await;
    let html = b
        .wait_html("mallory's cursor", |h| h.contains("left: 50px; top: 60px;"))
        .await;
    let escaped = "&lt;img src=x onerror=alert(1)&gt;";
    assert!(!html.contains("<img"), "raw markup rendered: {html}");
    assert!(
        html.contains(&format!(r#"<span class="name">{escaped}</span>"#)),
        "list: {html}"
    );
    assert!(html.contains(&format!("{escaped} joined")), "flash: {html}");
    let label = html.split(r#"class="cursor-name""#).nth(1).expect("label");
    assert!(label.contains(escaped), "cursor label: {label}");
    // Mallory's own page (her name in the nav and the list) is escaped too.
    let own = m.html().await;
    assert!(!own.contains("<img") && own.contains(escaped), "{own}");
    m.close().await;
    let html = b
        .wait_html("left", |h| h.contains(&format!("{escaped} left")))
        .await;
    assert!(!html.contains("<img"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_get_stable_generated_names_without_leaking_their_session() {
    let app = start().await;
    let g1 = app.guest().await;
    let g2 = app.guest().await;
    let mut w1 = app.ws(&g1, DOC).await;
    let _w1b = app.ws(&g1, DOC).await; // same browser, second tab: same guest
    let _w2 = app.ws(&g2, DOC).await;
    let names = app.names(KEY);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("Guest ")), "{names:?}");
    assert_ne!(names[0], names[1]);
    let html = w1
        .wait_html("both guests", |h| names.iter().all(|n| lists(h, n)))
        .await;
    for p in app.presence.list(KEY) {
        let key = p
            .id()
            .strip_prefix("anon_")
            .expect("guests are anon_<session key>");
        assert!(!html.contains(key), "a session key leaked into the page");
    }
}
