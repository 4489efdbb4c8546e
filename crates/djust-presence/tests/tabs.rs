//! Connections are per tab, presences per user: tabs, meta, ordering, records.

mod common;

use std::time::Duration;

use common::{conn, default_manual, drain, kinds, users};
use djust_presence::{Clock, EventKind, UntrackReason};
use serde_json::json;

const KEY: &str = "document:1";

#[test]
fn two_tabs_of_one_user_join_once_and_leave_once() {
    let (presence, _clock) = default_manual();
    let mut peer = presence.subscribe(KEY);
    let alice = json!({"name": "Alice"});
    presence
        .track(KEY, conn(1), "alice", alice.clone())
        .unwrap();
    presence.track(KEY, conn(2), "alice", alice).unwrap();
    assert_eq!(
        kinds(&drain(&mut peer)),
        ["join:alice"],
        "the second tab is not a join"
    );
    assert_eq!(presence.count(KEY), 1);
    assert_eq!(presence.list(KEY)[0].connections(), 2);

    assert!(presence.untrack(KEY, conn(1), UntrackReason::Clean));
    assert!(
        drain(&mut peer).is_empty(),
        "closing one of two tabs is not a leave"
    );
    assert_eq!(presence.list(KEY)[0].connections(), 1);

    assert!(presence.untrack(KEY, conn(2), UntrackReason::Clean));
    let events = drain(&mut peer);
    assert_eq!(kinds(&events), ["leave:alice"]);
    assert!(matches!(&events[0].kind, EventKind::Leave(p) if p.get_str("name") == Some("Alice")));
    assert_eq!(presence.count(KEY), 0);
    assert!(
        !presence.untrack(KEY, conn(2), UntrackReason::Clean),
        "already gone"
    );
}

#[test]
fn untrack_all_closes_a_connection_on_every_key() {
    let (presence, _clock) = default_manual();
    presence.track("a", conn(1), "u1", json!({})).unwrap();
    presence.track("b", conn(1), "u1", json!({})).unwrap();
    presence.track("b", conn(2), "u2", json!({})).unwrap();
    let mut watch_b = presence.subscribe("b");
    assert_eq!(presence.untrack_all(conn(1), UntrackReason::Clean), 2);
    assert_eq!(presence.count("a"), 0);
    assert_eq!(users(&presence, "b"), ["u2"]);
    assert_eq!(kinds(&drain(&mut watch_b)), ["leave:u1"]);
    assert_eq!(presence.untrack_all(conn(1), UntrackReason::Clean), 0);
    assert_eq!(presence.stats().keys, 1);
}

#[test]
fn the_record_shows_the_most_recent_meta_of_any_tab() {
    let (presence, clock) = default_manual();
    let mut peer = presence.subscribe(KEY);
    presence
        .track(
            KEY,
            conn(1),
            "alice",
            json!({"name": "Alice", "typing": false}),
        )
        .unwrap();
    presence
        .track(
            KEY,
            conn(2),
            "alice",
            json!({"name": "Alice", "typing": false}),
        )
        .unwrap();
    clock.advance(Duration::from_millis(10));
    presence
        .update_meta(KEY, conn(1), json!({"name": "Alice", "typing": true}))
        .unwrap();
    assert_eq!(presence.list(KEY)[0].get("typing"), Some(&json!(true)));
    clock.advance(Duration::from_millis(10));
    presence
        .update_meta(KEY, conn(2), json!({"name": "Alice", "typing": false}))
        .unwrap();
    assert_eq!(presence.list(KEY)[0].get("typing"), Some(&json!(false)));
    // The same meta written again is still the most recent write: nothing changes, nothing is emitted.
    presence
        .update_meta(KEY, conn(2), json!({"name": "Alice", "typing": false}))
        .unwrap();
    let events = drain(&mut peer);
    assert_eq!(
        kinds(&events),
        ["join:alice", "update:alice", "update:alice"]
    );
    assert!(
        matches!(&events[1].kind, EventKind::Update(p) if p.get("typing") == Some(&json!(true)))
    );
}

#[test]
fn tracking_a_connection_again_replaces_its_meta() {
    let (presence, _clock) = default_manual();
    let mut peer = presence.subscribe(KEY);
    presence
        .track(KEY, conn(1), "alice", json!({"color": "red"}))
        .unwrap();
    presence
        .track(KEY, conn(1), "alice", json!({"color": "blue"}))
        .unwrap();
    presence
        .track(KEY, conn(1), "alice", json!({"color": "blue"}))
        .unwrap();
    assert_eq!(kinds(&drain(&mut peer)), ["join:alice", "update:alice"]);
    assert_eq!(presence.list(KEY)[0].connections(), 1);
    assert_eq!(presence.list(KEY)[0].get_str("color"), Some("blue"));
}

#[test]
fn list_is_ordered_by_join_time_then_id_and_stays_put_when_the_first_tab_closes() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "zed", json!({})).unwrap();
    clock.advance(Duration::from_secs(1));
    presence.track(KEY, conn(2), "bob", json!({})).unwrap();
    presence.track(KEY, conn(3), "amy", json!({})).unwrap();
    let order = |p: &djust_presence::Presence| -> Vec<String> {
        p.list(KEY).iter().map(|r| r.id().to_owned()).collect()
    };
    assert_eq!(order(&presence), ["zed", "amy", "bob"]);
    let zed_joined = presence.list(KEY)[0].joined_at();

    // zed opens a second tab later, then closes the first: zed stays first, with the same joined_at.
    clock.advance(Duration::from_secs(1));
    presence.track(KEY, conn(4), "zed", json!({})).unwrap();
    presence.untrack(KEY, conn(1), UntrackReason::Clean);
    assert_eq!(order(&presence), ["zed", "amy", "bob"]);
    assert_eq!(presence.list(KEY)[0].joined_at(), zed_joined);
}

#[test]
fn records_serialize_so_both_p_name_and_p_meta_name_work() {
    let (presence, clock) = default_manual();
    presence
        .track(
            KEY,
            conn(1),
            "u1",
            json!({"name": "Alice", "color": "#6c63ff"}),
        )
        .unwrap();
    let json = serde_json::to_value(presence.list(KEY)).unwrap();
    assert_eq!(
        json,
        json!([{
            "id": "u1",
            "joined_at": clock.now().as_millis(),
            "connections": 1,
            "meta": {"name": "Alice", "color": "#6c63ff"},
            "name": "Alice",
            "color": "#6c63ff"
        }])
    );
}

#[test]
fn keys_are_independent() {
    let (presence, _clock) = default_manual();
    presence.track("doc:1", conn(1), "u1", json!({})).unwrap();
    presence.track("doc:2", conn(2), "u2", json!({})).unwrap();
    assert_eq!(users(&presence, "doc:1"), ["u1"]);
    assert_eq!(users(&presence, "doc:2"), ["u2"]);
    assert_eq!(presence.count("doc:3"), 0);
    assert!(presence.list("doc:3").is_empty());
}

#[test]
fn an_empty_engine_holds_nothing_after_everyone_leaves() {
    let (presence, _clock) = default_manual();
    for i in 0..10 {
        presence
            .track(&format!("k{}", i % 3), conn(i), &format!("u{i}"), json!({}))
            .unwrap();
        presence
            .update_cursor(&format!("k{}", i % 3), conn(i), 1, 1.0, 1.0)
            .unwrap();
    }
    for i in 0..10 {
        presence.untrack_all(conn(i), UntrackReason::Clean);
    }
    let stats = presence.stats();
    assert_eq!(
        (stats.keys, stats.connections, stats.expired_remembered),
        (0, 0, 0)
    );
}

#[test]
fn shared_listings_are_reused_until_the_key_changes() {
    let p = djust_presence::Presence::new(Default::default()).unwrap();
    let (a, b) = (
        djust_presence::ConnId::random(),
        djust_presence::ConnId::random(),
    );
    p.track("room", a, "u1", serde_json::json!({"name": "Ann"}))
        .unwrap();
    let first = p.list_shared("room");
    assert!(
        std::sync::Arc::ptr_eq(&first, &p.list_shared("room")),
        "no change, same listing"
    );
    // A cursor move changes no record: the listing stays; the cursors do not.
    let cursors = p.cursors_shared("room");
    p.update_cursor("room", a, 1, 5.0, 6.0).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &p.list_shared("room")));
    let moved = p.cursors_shared("room");
    assert!(!std::sync::Arc::ptr_eq(&cursors, &moved));
    assert_eq!(moved[0].1.x(), 5.0);
    // A second tab of the same user: no join, but the record's connection count changed.
    p.track("room", b, "u1", serde_json::json!({"name": "Ann"}))
        .unwrap();
    let second = p.list_shared("room");
    assert!(!std::sync::Arc::ptr_eq(&first, &second));
    assert_eq!(second[0].connections(), 2);
    assert_eq!(p.list("room"), second.to_vec());
    assert!(p.list_shared("nobody").is_empty());
}
