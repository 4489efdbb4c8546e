//! Heartbeats, the timeout sweeper, and re-tracking after expiry: on a manual clock, and on Tokio's paused
//! clock with the real background sweeper.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{conn, default_manual, drain, kinds, manual};
use djust_presence::{
    EventKind, Heartbeat, Presence, PresenceConfig, PresenceError, SweepReport, TokioClock,
    UntrackReason,
};
use serde_json::json;

const KEY: &str = "doc:1";

#[test]
fn a_silent_connection_expires_only_after_the_timeout() {
    let (presence, clock) = default_manual();
    let mut peer = presence.subscribe(KEY);
    presence
        .track(KEY, conn(1), "u1", json!({"name": "A"}))
        .unwrap();
    drain(&mut peer);
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        presence.sweep(),
        SweepReport::default(),
        "60 s of silence is not longer than 60 s"
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        presence.sweep(),
        SweepReport {
            expired: 1,
            lapsed: 0
        }
    );
    let events = drain(&mut peer);
    assert_eq!(kinds(&events), ["leave:u1"]);
    assert!(matches!(&events[0].kind, EventKind::Leave(p) if p.get_str("name") == Some("A")));
    assert_eq!(presence.count(KEY), 0);
}

#[test]
fn heartbeats_keep_a_connection_on_every_key() {
    let (presence, clock) = default_manual();
    presence.track("a", conn(1), "u1", json!({})).unwrap();
    presence.track("b", conn(1), "u1", json!({})).unwrap();
    for _ in 0..10 {
        clock.advance(Duration::from_secs(30));
        assert_eq!(presence.heartbeat(conn(1)), Heartbeat::Alive);
        presence.sweep();
    }
    assert_eq!((presence.count("a"), presence.count("b")), (1, 1));
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        presence.sweep().expired,
        1,
        "one connection, expired on both keys at once"
    );
    assert_eq!((presence.count("a"), presence.count("b")), (0, 0));
}

#[test]
fn tracking_again_counts_as_a_sign_of_life() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "u1", json!({})).unwrap();
    clock.advance(Duration::from_secs(50));
    presence.track("other", conn(1), "u1", json!({})).unwrap();
    clock.advance(Duration::from_secs(50));
    assert_eq!(presence.sweep().expired, 0);
    assert_eq!(presence.count(KEY), 1);
}

#[test]
fn an_expired_connection_that_heartbeats_again_rejoins_with_its_meta() {
    let (presence, clock) = default_manual();
    presence
        .track("a", conn(1), "u1", json!({"name": "A"}))
        .unwrap();
    presence
        .track("b", conn(1), "u1", json!({"name": "A"}))
        .unwrap();
    let mut peer = presence.subscribe("a");
    clock.advance(Duration::from_secs(61));
    presence.sweep();
    assert_eq!(kinds(&drain(&mut peer)), ["leave:u1"]);
    assert_eq!(presence.stats().expired_remembered, 1);

    clock.advance(Duration::from_secs(5));
    assert_eq!(presence.heartbeat(conn(1)), Heartbeat::Rejoined { keys: 2 });
    let events = drain(&mut peer);
    assert_eq!(kinds(&events), ["join:u1"]);
    assert!(matches!(&events[0].kind, EventKind::Join(p) if p.get_str("name") == Some("A")));
    assert_eq!((presence.count("a"), presence.count("b")), (1, 1));
    assert_eq!(presence.heartbeat(conn(1)), Heartbeat::Alive);
    // Tracked again, it times out again like any connection.
    clock.advance(Duration::from_secs(61));
    assert_eq!(presence.sweep().expired, 1);
}

#[test]
fn an_unknown_connection_heartbeat_says_so() {
    let (presence, _clock) = default_manual();
    assert_eq!(presence.heartbeat(conn(7)), Heartbeat::Unknown);
}

#[test]
fn expired_connections_are_forgotten_after_the_retention_period() {
    let (presence, clock) = manual(PresenceConfig {
        expired_retention: Duration::from_secs(120),
        ..PresenceConfig::default()
    });
    presence.track(KEY, conn(1), "u1", json!({})).unwrap();
    clock.advance(Duration::from_secs(61));
    presence.sweep();
    clock.advance(Duration::from_secs(121));
    presence.sweep();
    assert_eq!(presence.stats().expired_remembered, 0);
    assert_eq!(presence.heartbeat(conn(1)), Heartbeat::Unknown);
    assert_eq!(presence.count(KEY), 0);
}

#[test]
fn at_most_max_expired_connections_are_remembered() {
    let (presence, clock) = manual(PresenceConfig {
        max_expired: 3,
        ..PresenceConfig::default()
    });
    for i in 0..5 {
        presence
            .track(KEY, conn(i), &format!("u{i}"), json!({}))
            .unwrap();
    }
    clock.advance(Duration::from_secs(61));
    assert_eq!(presence.sweep().expired, 5);
    assert_eq!(presence.stats().expired_remembered, 3);
}

#[test]
fn an_untracked_connection_is_not_revived_by_a_late_heartbeat() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "u1", json!({})).unwrap();
    clock.advance(Duration::from_secs(61));
    presence.sweep();
    // The view closed after the expiry: the engine must forget it, not bring it back.
    assert_eq!(presence.untrack_all(conn(1), UntrackReason::Clean), 0);
    assert_eq!(presence.heartbeat(conn(1)), Heartbeat::Unknown);
    assert_eq!(presence.count(KEY), 0);
}

#[test]
fn a_connection_tracked_again_after_expiry_is_not_duplicated_by_its_heartbeat() {
    let (presence, clock) = default_manual();
    presence.track(KEY, conn(1), "u1", json!({"v": 1})).unwrap();
    clock.advance(Duration::from_secs(61));
    presence.sweep();
    presence.track(KEY, conn(1), "u1", json!({"v": 2})).unwrap();
    assert_eq!(
        presence.heartbeat(conn(1)),
        Heartbeat::Alive,
        "the newer track superseded the memory"
    );
    assert_eq!(presence.list(KEY)[0].get("v"), Some(&json!(2)));
}

#[test]
fn spawn_sweeper_outside_a_runtime_is_a_typed_error() {
    let (presence, _clock) = default_manual();
    assert_eq!(
        presence.spawn_sweeper().err(),
        Some(PresenceError::NoRuntime)
    );
}

fn tokio_presence() -> Presence {
    Presence::builder()
        .clock(Arc::new(TokioClock::new()))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_background_sweeper_emits_leaves_without_anyone_calling_list() {
    let presence = tokio_presence();
    let _sweeper = presence.spawn_sweeper().unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.track(KEY, conn(1), "u1", json!({})).unwrap();
    presence.track(KEY, conn(2), "u2", json!({})).unwrap();
    assert_eq!(
        kinds(&[peer.recv().await.unwrap(), peer.recv().await.unwrap()]),
        ["join:u1", "join:u2"]
    );

    // u2 keeps heart-beating every 30 s; u1 falls silent.
    let beating = presence.clone();
    let heart = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            beating.heartbeat(conn(2));
        }
    });
    let started = tokio::time::Instant::now();
    let leave = peer.recv().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(common::kind(&leave), "leave:u1");
    // Expired after 60 s of silence, found by the 1 s sweep right after.
    assert!(
        waited > Duration::from_secs(60) && waited <= Duration::from_secs(62),
        "{waited:?}"
    );
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(common::users(&presence, KEY), ["u2"]);
    heart.abort();
}

#[tokio::test(start_paused = true)]
async fn the_background_sweeper_stops_with_its_handle_and_with_the_engine() {
    let presence = tokio_presence();
    let sweeper = presence.spawn_sweeper().unwrap();
    sweeper.stop();
    presence.track(KEY, conn(1), "u1", json!({})).unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(presence.count(KEY), 1, "a stopped sweeper expires nothing");
    assert_eq!(presence.sweep().expired, 1, "sweeping by hand still works");

    let sweeper = presence.spawn_sweeper().unwrap();
    drop(presence);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        sweeper.is_finished(),
        "the task ends once the engine is gone"
    );
}

#[tokio::test(start_paused = true)]
async fn tokio_clock_follows_paused_time() {
    let clock = TokioClock::new();
    let before = djust_presence::Clock::now(&clock);
    tokio::time::advance(Duration::from_secs(90)).await;
    let after = djust_presence::Clock::now(&clock);
    assert_eq!(after.as_millis() - before.as_millis(), 90_000);
}
