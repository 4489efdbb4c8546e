//! Cursors beyond x/y: anchors travel with the cursor (also through replication), a hidden
//! cursor leaves the listings until the next move, and `cursor_limit` keeps the most recently
//! moved cursors.

mod common;

use common::{conn, default_manual, drain, kinds, manual};
use djust_presence::{ConnChange, CursorAnchor, EventKind, Presence, PresenceConfig};
use serde_json::json;
use std::time::Duration;

const KEY: &str = "doc:1";

fn anchor(v: serde_json::Value) -> CursorAnchor {
    serde_json::from_value(v).unwrap()
}

fn shared_users(presence: &Presence) -> Vec<String> {
    presence
        .cursors_shared(KEY)
        .iter()
        .map(|(u, _)| u.to_string())
        .collect()
}

#[test]
fn an_anchor_travels_with_the_cursor_and_the_next_plain_move_drops_it() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    let a = anchor(json!({"n": "content", "i": 42, "dx": 3, "dy": 4}));
    assert_eq!(
        presence.update_cursor_anchored(KEY, conn(1), 1, (10.0, 20.0), Some(a.clone())),
        Ok(true)
    );
    let events = drain(&mut peer);
    match &events[0].kind {
        EventKind::CursorMoved { cursor, .. } => {
            assert_eq!(cursor.anchor().map(|a| &**a), Some(&a));
            assert_eq!((cursor.x(), cursor.y()), (10.0, 20.0));
        }
        other => panic!("expected a move, got {other:?}"),
    }
    let shared = presence.cursors_shared(KEY);
    assert_eq!(shared[0].1.anchor().map(|a| &**a), Some(&a));
    assert_eq!(
        serde_json::to_value(&shared[0].1).unwrap()["anchor"],
        json!({"n": "content", "i": 42, "dx": 3.0, "dy": 4.0})
    );
    presence.update_cursor(KEY, conn(1), 2, 11.0, 21.0).unwrap();
    assert!(presence.cursors(KEY)[0].1.anchor().is_none());
}

#[test]
fn a_hidden_cursor_is_listed_nowhere_until_the_next_move_and_the_user_stays() {
    let (presence, _clock) = default_manual();
    presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    presence.track(KEY, conn(2), "bob", json!({})).unwrap();
    let mut peer = presence.subscribe(KEY);
    presence.update_cursor(KEY, conn(1), 1, 5.0, 5.0).unwrap();
    assert_eq!(presence.hide_cursor(KEY, conn(1), 2), Ok(true));
    assert!(presence.cursors(KEY).is_empty());
    assert!(presence.cursors_shared(KEY).is_empty());
    assert_eq!(presence.count(KEY), 2, "hiding the cursor is not leaving");
    // Hiding again emits nothing; a late (reordered) move does not bring it back.
    assert_eq!(presence.hide_cursor(KEY, conn(1), 3), Ok(true));
    assert_eq!(presence.update_cursor(KEY, conn(1), 2, 9.0, 9.0), Ok(false));
    assert!(presence.cursors(KEY).is_empty());
    presence.update_cursor(KEY, conn(1), 4, 7.0, 8.0).unwrap();
    assert_eq!(presence.cursors(KEY)[0].1.x(), 7.0);
    assert_eq!(
        kinds(&drain(&mut peer)),
        ["cursor:alice", "uncursor:alice", "cursor:alice"]
    );
    // A hidden cursor's user leaving: a leave, no second CursorRemoved.
    presence.hide_cursor(KEY, conn(1), 5).unwrap();
    presence.untrack(KEY, conn(1), djust_presence::UntrackReason::Clean);
    assert_eq!(kinds(&drain(&mut peer)), ["uncursor:alice", "leave:alice"]);
}

#[test]
fn hidden_state_and_anchors_replicate() {
    let (a, _ca) = default_manual();
    let (b, _cb) = default_manual();
    a.track(KEY, conn(1), "alice", json!({})).unwrap();
    a.update_cursor_anchored(
        KEY,
        conn(1),
        1,
        (1.0, 2.0),
        Some(anchor(json!({"k": "p-3", "fx": 0.5, "fy": 0.25}))),
    )
    .unwrap();
    let changes = a.local_changes_snapshot();
    // Through JSON, as the Redis backend carries them.
    let wire = serde_json::to_string(&changes).unwrap();
    let changes: Vec<ConnChange> = serde_json::from_str(&wire).unwrap();
    for c in changes {
        b.apply_remote(c).unwrap();
    }
    let seen = b.cursors(KEY);
    assert_eq!(
        seen[0].1.anchor().map(|a| a.to_json()),
        Some(r#"{"k":"p-3","fx":0.5,"fy":0.25}"#.to_owned())
    );
    // A hidden cursor replays as hidden.
    a.hide_cursor(KEY, conn(1), 2).unwrap();
    let changes = a.local_changes_snapshot();
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, ConnChange::Cursor { hidden: true, .. }))
    );
    for c in changes {
        b.apply_remote(c).unwrap();
    }
    assert!(b.cursors(KEY).is_empty());
    // A remote change with a bad anchor does not even decode.
    let bad = json!({"op": "cursor", "node": "0".repeat(32), "key": KEY, "conn": "0".repeat(32),
                     "seq": 9, "x": 1.0, "y": 1.0, "anchor": {"k": "a", "fx": 7, "fy": 0}});
    assert!(serde_json::from_value::<ConnChange>(bad).is_err());
}

#[test]
fn above_the_cursor_limit_only_the_most_recently_moved_are_listed() {
    // No linger: every move gives a place to the most recent mover.
    let (presence, _clock) = manual(PresenceConfig {
        cursor_limit: 3,
        cursor_linger: Duration::ZERO,
        ..PresenceConfig::default()
    });
    for n in 1..=5u128 {
        presence
            .track(KEY, conn(n), &format!("u{n}"), json!({}))
            .unwrap();
    }
    for n in 1..=5u128 {
        presence
            .update_cursor(KEY, conn(n), 1, n as f64, 0.0)
            .unwrap();
    }
    // u3, u4, u5 moved last; listing order (join order) is kept.
    assert_eq!(shared_users(&presence), ["u3", "u4", "u5"]);
    assert_eq!(
        presence.cursors(KEY).len(),
        5,
        "the full list keeps them all"
    );
    // u1 moves: it comes back, and the least recently moved (u3) drops out.
    presence.update_cursor(KEY, conn(1), 2, 9.0, 0.0).unwrap();
    assert_eq!(shared_users(&presence), ["u1", "u4", "u5"]);
    // A hidden cursor frees its place.
    presence.hide_cursor(KEY, conn(5), 2).unwrap();
    assert_eq!(shared_users(&presence), ["u1", "u3", "u4"]);
}

/// The culled flag of every `CursorMoved` event in `events`, by user.
fn culled_moves(events: &[std::sync::Arc<djust_presence::PresenceEvent>]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CursorMoved { user_id, cursor } => {
                Some((user_id.to_string(), cursor.is_culled()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn above_the_cursor_limit_listed_cursors_keep_their_places_while_they_move() {
    let (presence, clock) = manual(PresenceConfig {
        cursor_limit: 3,
        cursor_linger: Duration::from_secs(1),
        ..PresenceConfig::default()
    });
    for n in 1..=5u128 {
        presence
            .track(KEY, conn(n), &format!("u{n}"), json!({}))
            .unwrap();
    }
    let mut peer = presence.subscribe(KEY);
    let mut seq = 0;
    let mut round = |presence: &Presence, who: &[u128]| {
        seq += 1;
        for &n in who {
            clock.advance(Duration::from_millis(10));
            presence
                .update_cursor(KEY, conn(n), seq, n as f64, seq as f64)
                .unwrap();
        }
    };
    // u1..u3 move first and take the three places.
    round(&presence, &[1, 2, 3]);
    assert_eq!(shared_users(&presence), ["u1", "u2", "u3"]);
    drain(&mut peer);
    // Then all five move, round after round (a storm): the listing does not change, and the
    // moves of u4 and u5 say that no page shows them (so no live view re-renders for them).
    for _ in 0..20 {
        round(&presence, &[1, 2, 3, 4, 5]);
        assert_eq!(shared_users(&presence), ["u1", "u2", "u3"]);
    }
    let flags = culled_moves(&drain(&mut peer));
    assert_eq!(flags.len(), 100);
    for (user, culled) in flags {
        assert_eq!(culled, user == "u4" || user == "u5", "{user}");
    }
    // u2 stops; once it has not moved for the linger, the next mover not listed takes its
    // place (the listed movers keep theirs).
    for _ in 0..101 {
        round(&presence, &[1, 3]);
    }
    round(&presence, &[5]);
    let flags = culled_moves(&drain(&mut peer));
    assert_eq!(flags.last(), Some(&("u5".to_owned(), false)));
    assert_eq!(shared_users(&presence), ["u1", "u3", "u5"]);
    // Below the limit again (u5 hides): everyone left is listed.
    presence.hide_cursor(KEY, conn(5), 1000).unwrap();
    presence.hide_cursor(KEY, conn(4), 1000).unwrap();
    assert_eq!(shared_users(&presence), ["u1", "u2", "u3"]);
}
