//! `Presence::reconcile_node`: bringing a replica's view of another process up to date from a stored set of
//! that process's connections, emitting only the user-level differences.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{conn, drain, kinds, users};
use djust_presence::{
    ConnChange, ManualClock, MetaStamp, NodeId, Presence, PresenceError, Timestamp, UntrackReason,
};
use serde_json::json;

const KEY: &str = "doc:1";

fn engine(id: u128, clock: &ManualClock) -> Presence {
    Presence::builder()
        .node_id(NodeId::from_u128(id))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

/// Two engines on one clock: `a` owns connections, `b` is the replica being reconciled.
fn pair() -> (Presence, Presence, ManualClock) {
    let clock = ManualClock::default();
    (engine(1, &clock), engine(2, &clock), clock)
}

#[test]
fn reconciling_an_unknown_node_joins_its_users_with_their_cursors() {
    let (a, b, _clock) = pair();
    a.track(KEY, conn(1), "alice", json!({"name": "A"}))
        .unwrap();
    a.track(KEY, conn(2), "bob", json!({})).unwrap();
    a.update_cursor(KEY, conn(1), 3, 10.0, 20.0).unwrap();
    let mut on_b = b.subscribe(KEY);
    let held = b
        .reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    assert_eq!(held, 2);
    assert_eq!(b.list(KEY), a.list(KEY));
    assert_eq!(b.cursors(KEY), a.cursors(KEY));
    let mut seen = kinds(&drain(&mut on_b));
    seen.sort();
    assert_eq!(seen, ["cursor:alice", "join:alice", "join:bob"]);
    assert_eq!(
        b.node_changes_snapshot(a.node_id()),
        a.local_changes_snapshot()
    );
}

#[test]
fn reconciling_the_same_set_again_is_invisible() {
    let (a, b, _clock) = pair();
    a.track(KEY, conn(1), "alice", json!({})).unwrap();
    a.update_cursor(KEY, conn(1), 1, 1.0, 1.0).unwrap();
    a.track(KEY, conn(2), "bob", json!({})).unwrap();
    a.untrack(KEY, conn(2), UntrackReason::Abnormal);
    let set = a.local_changes_snapshot();
    b.reconcile_node(a.node_id(), set.clone()).unwrap();
    let mut on_b = b.subscribe(KEY);
    b.reconcile_node(a.node_id(), set).unwrap();
    assert!(drain(&mut on_b).is_empty());
    assert_eq!(b.list(KEY), a.list(KEY));
}

#[test]
fn only_the_differences_become_events() {
    let (a, b, _clock) = pair();
    a.track(KEY, conn(1), "alice", json!({"v": 1})).unwrap();
    a.track(KEY, conn(2), "bob", json!({})).unwrap();
    a.track(KEY, conn(3), "carol", json!({})).unwrap();
    b.reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    // While B was not listening: Alice moved to a new tab and changed her meta, Bob left, Dave came.
    a.track(KEY, conn(4), "alice", json!({"v": 2})).unwrap();
    a.untrack(KEY, conn(1), UntrackReason::Clean);
    a.untrack(KEY, conn(2), UntrackReason::Clean);
    a.track(KEY, conn(5), "dave", json!({})).unwrap();
    let mut on_b = b.subscribe(KEY);
    b.reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    let mut seen = kinds(&drain(&mut on_b));
    seen.sort();
    assert_eq!(seen, ["join:dave", "leave:bob", "update:alice"]);
    assert_eq!(b.list(KEY), a.list(KEY));
    assert_eq!(b.stats().connections, 3);
}

#[test]
fn a_users_tab_on_the_replica_keeps_the_user_when_the_remote_tab_vanishes() {
    let (a, b, _clock) = pair();
    a.track(KEY, conn(1), "alice", json!({})).unwrap();
    b.track(KEY, conn(9), "alice", json!({})).unwrap();
    b.reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    assert_eq!(b.list(KEY)[0].connections(), 2);
    let mut on_b = b.subscribe(KEY);
    b.reconcile_node(a.node_id(), Vec::new()).unwrap();
    assert!(drain(&mut on_b).is_empty(), "alice is still here on B");
    assert_eq!(b.list(KEY)[0].connections(), 1);
    // B's own connection is never touched by reconciling A.
    assert_eq!(users(&b, KEY), ["alice"]);
}

#[test]
fn a_pending_connection_beside_a_live_one_survives_whatever_the_order() {
    let (a, b, clock) = pair();
    // conn(1) < conn(2): a naive in-order replay would let the live conn(2) supersede the pending conn(1).
    a.track(KEY, conn(1), "alice", json!({})).unwrap();
    a.track(KEY, conn(2), "alice", json!({})).unwrap();
    a.untrack(KEY, conn(1), UntrackReason::Abnormal);
    b.reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    assert_eq!(b.list(KEY)[0].connections(), 2);
    assert_eq!(b.list(KEY), a.list(KEY));
    // The pending connection's grace ends on the replica at the owner's deadline.
    clock.advance(Duration::from_secs(6));
    b.sweep();
    assert_eq!(b.list(KEY)[0].connections(), 1);
}

#[test]
fn a_live_connection_pending_on_the_replica_comes_back() {
    let (a, b, _clock) = pair();
    a.track(KEY, conn(1), "alice", json!({})).unwrap();
    b.reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    // The replica heard of a drop that the owner has since undone (e.g. the owner's view was restored).
    let drop = ConnChange::Untrack {
        node: a.node_id(),
        key: KEY.into(),
        conn: conn(1),
        reason: UntrackReason::Abnormal,
        at: a.now(),
    };
    assert_eq!(b.apply_remote(drop), Ok(true));
    b.reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    assert_eq!(
        b.node_changes_snapshot(a.node_id()),
        a.local_changes_snapshot(),
        "no pending untrack is left on the replica"
    );
}

#[test]
fn a_malformed_set_changes_nothing() {
    let (a, b, _clock) = pair();
    a.track(KEY, conn(1), "alice", json!({})).unwrap();
    b.reconcile_node(a.node_id(), a.local_changes_snapshot())
        .unwrap();
    let good = ConnChange::Track {
        node: a.node_id(),
        key: KEY.into(),
        conn: conn(2),
        user_id: "bob".into(),
        meta: Arc::new(serde_json::Map::new()),
        stamp: MetaStamp::default(),
        joined_at: Timestamp::from_millis(0),
    };
    let bad = ConnChange::Cursor {
        node: a.node_id(),
        key: KEY.into(),
        conn: conn(2),
        seq: 1,
        x: f64::INFINITY,
        y: 0.0,
        anchor: None,
        hidden: false,
    };
    assert!(matches!(
        b.reconcile_node(a.node_id(), vec![good, bad]),
        Err(PresenceError::NonFiniteCursor { .. })
    ));
    assert_eq!(
        users(&b, KEY),
        ["alice"],
        "neither added bob nor removed alice"
    );
}

#[test]
fn changes_of_other_nodes_and_the_own_node_are_ignored() {
    let (a, b, _clock) = pair();
    a.track(KEY, conn(1), "alice", json!({})).unwrap();
    b.track(KEY, conn(2), "bob", json!({})).unwrap();
    // A set that claims to be A's but carries a change of node 3: only A's own entries count.
    let mut set = a.local_changes_snapshot();
    set.push(ConnChange::Track {
        node: NodeId::from_u128(3),
        key: KEY.into(),
        conn: conn(3),
        user_id: "mallory".into(),
        meta: Arc::new(serde_json::Map::new()),
        stamp: MetaStamp::default(),
        joined_at: Timestamp::from_millis(0),
    });
    assert_eq!(b.reconcile_node(a.node_id(), set), Ok(1));
    assert_eq!(users(&b, KEY), ["alice", "bob"]);
    // Reconciling B's own node (e.g. from its own stored echo) never touches its local connections.
    assert_eq!(b.reconcile_node(b.node_id(), Vec::new()), Ok(0));
    assert_eq!(users(&b, KEY), ["alice", "bob"]);
}
