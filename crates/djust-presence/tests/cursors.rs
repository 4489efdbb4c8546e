//! Live cursors: latest-wins per user, ordered by each connection's sequence numbers.

mod common;

use common::{conn, default_manual, drain, kinds};
use djust_presence::{EventKind, PresenceError, UntrackReason};
use serde_json::json;

const KEY: &str = "canvas:1";

fn positions(presence: &djust_presence::Presence) -> Vec<(String, f64, f64)> {
    presence
        .cursors(KEY)
        .iter()
        .map(|(user, c)| (user.to_string(), c.x(), c.y()))
        .collect()
}

#[test]
fn an_older_update_never_overwrites_a_newer_one() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    assert_eq!(presence.update_cursor(KEY, conn(1), 5, 50.0, 5.0), Ok(true));
    // Updates 3 and 4 arrive late (reordered on the way): ignored.
    assert_eq!(
        presence.update_cursor(KEY, conn(1), 3, 30.0, 3.0),
        Ok(false)
    );
    assert_eq!(
        presence.update_cursor(KEY, conn(1), 4, 40.0, 4.0),
        Ok(false)
    );
    assert_eq!(
        presence.update_cursor(KEY, conn(1), 5, 99.0, 9.0),
        Ok(false),
        "a duplicate is stale"
    );
    assert_eq!(positions(&presence), [("alice".to_owned(), 50.0, 5.0)]);
    assert_eq!(presence.update_cursor(KEY, conn(1), 6, 60.0, 6.0), Ok(true));
    assert_eq!(positions(&presence), [("alice".to_owned(), 60.0, 6.0)]);
}

#[test]
fn stale_updates_emit_nothing() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.update_cursor(KEY, conn(1), 2, 1.0, 1.0).unwrap();
    presence.update_cursor(KEY, conn(1), 1, 2.0, 2.0).unwrap();
    let events = drain(&mut peer);
    assert_eq!(kinds(&events), ["cursor:alice"]);
    match &events[0].kind {
        EventKind::CursorMoved { user_id, cursor } => {
            assert_eq!(&**user_id, "alice");
            assert_eq!((cursor.x(), cursor.y()), (1.0, 1.0));
        }
        other => panic!("expected a cursor move, got {other:?}"),
    }
}

#[test]
fn sequence_numbers_are_per_connection_and_the_latest_move_of_any_tab_wins() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    presence.track(KEY, conn(2), "alice", json!({})).unwrap();
    presence.update_cursor(KEY, conn(1), 100, 1.0, 1.0).unwrap();
    // Tab 2 counts from 1: its sequence is its own, not compared with tab 1's.
    assert_eq!(presence.update_cursor(KEY, conn(2), 1, 2.0, 2.0), Ok(true));
    assert_eq!(
        positions(&presence),
        [("alice".to_owned(), 2.0, 2.0)],
        "one cursor per user"
    );
    // A reconnect is a new connection, starting again from 1.
    presence.untrack(KEY, conn(1), UntrackReason::Clean);
    presence.track(KEY, conn(3), "alice", json!({})).unwrap();
    assert_eq!(presence.update_cursor(KEY, conn(3), 1, 3.0, 3.0), Ok(true));
}

#[test]
fn the_cursor_is_removed_with_an_event_the_moment_its_user_leaves() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    presence.track(KEY, conn(2), "alice", json!({})).unwrap();
    presence.update_cursor(KEY, conn(1), 1, 1.0, 1.0).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Clean);
    assert_eq!(
        presence.cursors(KEY).len(),
        1,
        "alice is still here in her other tab"
    );
    presence.untrack(KEY, conn(2), UntrackReason::Clean);
    assert!(presence.cursors(KEY).is_empty());
    assert_eq!(kinds(&drain(&mut peer)), ["leave:alice", "uncursor:alice"]);
}

#[test]
fn a_user_without_a_cursor_leaves_without_a_cursor_event() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.untrack(KEY, conn(1), UntrackReason::Clean);
    assert_eq!(kinds(&drain(&mut peer)), ["leave:alice"]);
}

#[test]
fn other_users_cursors_leave_out_the_asking_user() {
    let (presence, _clock) = default_manual();
    for (i, user) in ["alice", "bob", "carol"].iter().enumerate() {
        let c = conn(i as u128);
        presence.track(KEY, c, user, json!({})).unwrap();
        presence.update_cursor(KEY, c, 1, i as f64, 0.0).unwrap();
    }
    let others: Vec<String> = presence
        .cursors_except(KEY, "bob")
        .iter()
        .map(|(u, _)| u.to_string())
        .collect();
    assert_eq!(others, ["alice", "carol"]);
    assert_eq!(presence.cursors_except(KEY, "nobody").len(), 3);
    assert!(presence.cursors_except("empty", "bob").is_empty());
}

#[test]
fn cursor_meta_is_the_users_current_presence_meta() {
    let (presence, _clock) = default_manual();
    presence
        .track(
            KEY,
            conn(1),
            "alice",
            json!({"name": "Alice", "color": "#ff6b6b"}),
        )
        .unwrap();
    presence
        .update_cursor(KEY, conn(1), 1, 150.0, 300.0)
        .unwrap();
    presence
        .update_meta(KEY, conn(1), json!({"name": "Alice", "color": "#4ecdc4"}))
        .unwrap();
    let cursors = presence.cursors(KEY);
    let json = serde_json::to_value(&cursors[0].1).unwrap();
    assert_eq!(
        json,
        json!({"x": 150, "y": 300, "meta": {"name": "Alice", "color": "#4ecdc4"}})
    );
}

#[test]
fn untracked_connections_cannot_move_cursors() {
    let (presence, _clock) = default_manual();
    let err = presence.update_cursor(KEY, conn(1), 1, 1.0, 1.0);
    assert_eq!(
        err,
        Err(PresenceError::NotTracked {
            key: KEY.into(),
            conn: conn(1)
        })
    );
    presence.track(KEY, conn(2), "bob", json!({})).unwrap();
    assert!(matches!(
        presence.update_cursor(KEY, conn(1), 1, 1.0, 1.0),
        Err(PresenceError::NotTracked { .. })
    ));
    presence
        .track("elsewhere", conn(1), "alice", json!({}))
        .unwrap();
    assert!(
        presence.update_cursor(KEY, conn(1), 1, 1.0, 1.0).is_err(),
        "tracked on another key is not tracked here"
    );
    assert!(presence.cursors(KEY).is_empty());
}
