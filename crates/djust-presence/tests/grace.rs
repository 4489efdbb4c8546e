//! No flicker on reconnect: an abnormal drop keeps the user for the reconnect grace.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{conn, default_manual, drain, kinds, manual};
use djust_presence::{Presence, PresenceConfig, TokioClock, UntrackReason};
use serde_json::json;

const KEY: &str = "doc:1";

#[test]
fn a_reconnect_within_the_grace_shows_peers_neither_leave_nor_join() {
    let (presence, clock) = default_manual();
    presence
        .track(KEY, conn(1), "alice", json!({"color": "red"}))
        .unwrap();
    presence.update_cursor(KEY, conn(1), 1, 10.0, 20.0).unwrap();
    let mut peer = presence.subscribe(KEY);

    assert!(presence.untrack(KEY, conn(1), UntrackReason::Abnormal));
    assert_eq!(presence.count(KEY), 1, "still listed during the grace");
    assert_eq!(
        presence.list(KEY)[0].connections(),
        1,
        "the dropped connection counts until the grace ends"
    );
    assert_eq!(presence.cursors(KEY).len(), 1, "the cursor stays too");

    clock.advance(Duration::from_secs(4));
    presence.sweep();
    presence
        .track(KEY, conn(2), "alice", json!({"color": "red"}))
        .unwrap();
    clock.advance(Duration::from_secs(30));
    presence.sweep();
    assert!(drain(&mut peer).is_empty(), "no leave, no join, no update");
    assert_eq!(presence.list(KEY)[0].connections(), 1);
    assert_eq!(presence.cursors(KEY)[0].1.x(), 10.0);
}

#[test]
fn without_a_reconnect_the_leave_comes_when_the_grace_ends() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    presence.update_cursor(KEY, conn(1), 1, 1.0, 1.0).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        presence.sweep().lapsed,
        0,
        "the grace is 5 s: at exactly 5 s it still holds"
    );
    assert!(drain(&mut peer).is_empty());
    clock.advance(Duration::from_millis(1));
    assert_eq!(presence.sweep().lapsed, 1);
    assert_eq!(kinds(&drain(&mut peer)), ["leave:alice", "uncursor:alice"]);
    assert_eq!(presence.count(KEY), 0);
    assert_eq!(presence.stats().connections, 0);
}

#[test]
fn a_reconnect_after_the_grace_is_a_new_join() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    clock.advance(Duration::from_secs(6));
    presence.sweep();
    presence.track(KEY, conn(2), "alice", json!({})).unwrap();
    assert_eq!(kinds(&drain(&mut peer)), ["leave:alice", "join:alice"]);
}

#[test]
fn a_reconnect_with_different_meta_is_an_update_only() {
    let (presence, _clock) = default_manual();
    presence
        .track(KEY, conn(1), "alice", json!({"status": "online"}))
        .unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    presence
        .track(KEY, conn(2), "alice", json!({"status": "back"}))
        .unwrap();
    assert_eq!(kinds(&drain(&mut peer)), ["update:alice"]);
}

#[test]
fn a_different_user_does_not_inherit_the_grace() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    presence.track(KEY, conn(2), "bob", json!({})).unwrap();
    clock.advance(Duration::from_secs(6));
    presence.sweep();
    assert_eq!(kinds(&drain(&mut peer)), ["join:bob", "leave:alice"]);
}

#[test]
fn the_grace_is_per_key() {
    let (presence, clock) = default_manual();
    presence.track("a", conn(1), "alice", json!({})).unwrap();
    presence.track("b", conn(1), "alice", json!({})).unwrap();
    assert_eq!(presence.untrack_all(conn(1), UntrackReason::Abnormal), 2);
    // The user comes back on "a" only.
    presence.track("a", conn(2), "alice", json!({})).unwrap();
    clock.advance(Duration::from_secs(6));
    presence.sweep();
    assert_eq!((presence.count("a"), presence.count("b")), (1, 0));
}

#[test]
fn a_clean_close_removes_at_once_even_during_a_grace() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    assert!(presence.untrack(KEY, conn(1), UntrackReason::Clean));
    assert_eq!(kinds(&drain(&mut peer)), ["leave:alice"]);
}

#[test]
fn closing_one_of_two_tabs_abnormally_changes_nothing_visible() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    presence.track(KEY, conn(2), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    clock.advance(Duration::from_secs(6));
    presence.sweep();
    assert!(drain(&mut peer).is_empty());
    assert_eq!(presence.list(KEY)[0].connections(), 1);
}

#[test]
fn a_dropped_connection_cannot_move_its_cursor() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    assert!(presence.update_cursor(KEY, conn(1), 1, 1.0, 1.0).is_err());
    assert!(presence.update_meta(KEY, conn(1), json!({})).is_err());
}

#[test]
fn zero_grace_removes_abnormal_drops_at_once() {
    let (presence, _clock) = manual(PresenceConfig {
        reconnect_grace: Duration::ZERO,
        ..PresenceConfig::default()
    });
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    assert_eq!(presence.count(KEY), 0);
}

#[tokio::test(start_paused = true)]
async fn the_background_sweeper_ends_graces() {
    let presence = Presence::builder()
        .clock(Arc::new(TokioClock::new()))
        .build()
        .unwrap();
    let _sweeper = presence.spawn_sweeper().unwrap();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    let started = tokio::time::Instant::now();
    let leave = peer.recv().await.unwrap();
    assert_eq!(common::kind(&leave), "leave:alice");
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_secs(5) && waited <= Duration::from_secs(7),
        "{waited:?}"
    );
}
