//! The editor's room over real WebSockets: colours settle when two people picked the same one.

mod support;

use collab::people::COLORS;
use djust_presence::{Clock, ConnId, Timestamp};
use serde_json::json;
use support::{eventually_true, start_manual};

const KEY: &str = "editor:1";

fn colour(app: &support::TestApp, name: &str) -> Option<String> {
    app.presence
        .list(KEY)
        .iter()
        .find(|p| p.get_str("name") == Some(name))
        .and_then(|p| p.get_str("color").map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_people_showing_one_colour_the_later_moves() {
    let app = start_manual().await;
    let clock = app.clock.clone().expect("manual clock");
    let alice = app.login("alice").await; // user 1: prefers COLORS[1]
    let mut a = app.ws(&alice, "/doc/1").await;
    assert_eq!(colour(&app, "alice").as_deref(), Some(COLORS[1]));

    // Someone on another process picked the same colour a moment before alice joined, and
    // reaches this engine only now: alice is the later one and moves.
    let now = clock.now().as_millis();
    clock.set(Timestamp::from_millis(now - 1_000));
    let meta = json!({"name": "early", "color": COLORS[1], "uid": "u99"});
    app.presence
        .track(KEY, ConnId::random(), "99", meta)
        .unwrap();
    clock.set(Timestamp::from_millis(now));
    eventually_true(|| colour(&app, "alice").is_some_and(|c| c != COLORS[1])).await;
    assert_eq!(
        colour(&app, "early").as_deref(),
        Some(COLORS[1]),
        "the earlier keeps it"
    );
    assert_eq!(
        colour(&app, "alice").as_deref(),
        Some(COLORS[2]),
        "the next free one"
    );

    // A later arrival with alice's new colour does not move her.
    let meta = json!({"name": "late", "color": COLORS[2], "uid": "u98"});
    app.presence
        .track(KEY, ConnId::random(), "98", meta)
        .unwrap();
    // Once alice's page lists "late", her view has handled the join.
    a.wait_html("late listed", |h| {
        h.contains(r#"<span class="name">late</span>"#)
    })
    .await;
    assert_eq!(colour(&app, "alice").as_deref(), Some(COLORS[2]));
}
