//! The backend seam: two engines ("processes") exchanging connection-level changes converge to the same
//! user-level state. The test backend records what each engine publishes; the test delivers it to the
//! other engine through JSON, as a networked backend would.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use common::{conn, drain, kinds};
use djust_presence::{
    ConnChange, ManualClock, MetaStamp, NodeId, Presence, PresenceBackend, PresenceConfig,
    PresenceError, Timestamp, UntrackReason,
};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// Records published changes, in order.
#[derive(Debug, Default)]
struct RecordingBackend {
    published: Mutex<VecDeque<ConnChange>>,
}

impl PresenceBackend for RecordingBackend {
    fn name(&self) -> &str {
        "recording"
    }

    fn publish(&self, change: &ConnChange) {
        self.published.lock().push_back(change.clone());
    }
}

struct Node {
    presence: Presence,
    backend: Arc<RecordingBackend>,
}

fn node(id: u128, clock: &ManualClock) -> Node {
    let backend = Arc::new(RecordingBackend::default());
    let presence = Presence::builder()
        .node_id(NodeId::from_u128(id))
        .clock(Arc::new(clock.clone()))
        .backend(backend.clone())
        .build()
        .unwrap();
    Node { presence, backend }
}

/// Delivers up to `limit` of `from`'s published changes to `to`, in order, through JSON.
fn deliver(from: &Node, to: &Node, limit: usize) {
    for _ in 0..limit {
        let Some(change) = from.backend.published.lock().pop_front() else {
            return;
        };
        let wire = serde_json::to_string(&change).unwrap();
        let received: ConnChange = serde_json::from_str(&wire).unwrap();
        to.presence.apply_remote(received).unwrap();
    }
}

fn pump(a: &Node, b: &Node) {
    deliver(a, b, usize::MAX);
    deliver(b, a, usize::MAX);
}

fn two_nodes() -> (Node, Node, ManualClock) {
    let clock = ManualClock::default();
    (node(1, &clock), node(2, &clock), clock)
}

const KEY: &str = "doc:1";

#[test]
fn a_tab_on_each_process_is_one_user() {
    let (a, b, _clock) = two_nodes();
    let mut on_b = b.presence.subscribe(KEY);
    a.presence
        .track(KEY, conn(1), "alice", json!({"name": "Alice"}))
        .unwrap();
    pump(&a, &b);
    b.presence
        .track(KEY, conn(2), "alice", json!({"name": "Alice"}))
        .unwrap();
    pump(&a, &b);
    for n in [&a, &b] {
        let list = n.presence.list(KEY);
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].id(), list[0].connections()), ("alice", 2));
    }
    assert_eq!(a.presence.list(KEY), b.presence.list(KEY));
    assert_eq!(kinds(&drain(&mut on_b)), ["join:alice"]);

    // Closing the tab on A keeps the user everywhere.
    a.presence.untrack(KEY, conn(1), UntrackReason::Clean);
    pump(&a, &b);
    assert_eq!(b.presence.list(KEY)[0].connections(), 1);
    assert!(drain(&mut on_b).is_empty());

    // Closing the last one is a leave everywhere.
    let mut on_a = a.presence.subscribe(KEY);
    b.presence.untrack(KEY, conn(2), UntrackReason::Clean);
    pump(&a, &b);
    assert_eq!(kinds(&drain(&mut on_a)), ["leave:alice"]);
    assert_eq!(kinds(&drain(&mut on_b)), ["leave:alice"]);
    assert_eq!(
        a.presence.stats().connections + b.presence.stats().connections,
        0
    );
}

#[test]
fn remove_node_drops_a_dead_processs_users_with_leaves() {
    let (a, b, _clock) = two_nodes();
    a.presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    a.presence.track(KEY, conn(2), "bob", json!({})).unwrap();
    a.presence.update_cursor(KEY, conn(1), 1, 1.0, 1.0).unwrap();
    b.presence.track(KEY, conn(3), "bob", json!({})).unwrap();
    pump(&a, &b);
    let mut on_b = b.presence.subscribe(KEY);
    assert_eq!(b.presence.remove_node(a.presence.node_id()), 2);
    assert_eq!(kinds(&drain(&mut on_b)), ["leave:alice", "uncursor:alice"]);
    let list = b.presence.list(KEY);
    assert_eq!(
        (list.len(), list[0].id(), list[0].connections()),
        (1, "bob", 1)
    );
    assert!(
        b.backend.published.lock().is_empty(),
        "a node's death is not re-published"
    );
    assert_eq!(b.presence.remove_node(a.presence.node_id()), 0);
}

#[test]
fn a_process_ignores_its_own_echo() {
    let (a, _b, _clock) = two_nodes();
    a.presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    let echo = a.backend.published.lock().pop_front().unwrap();
    let mut watch = a.presence.subscribe(KEY);
    assert_eq!(a.presence.apply_remote(echo), Ok(false));
    assert!(drain(&mut watch).is_empty());
}

#[test]
fn the_local_snapshot_rebuilds_this_processs_connections_elsewhere() {
    let (a, b, clock) = two_nodes();
    a.presence
        .track(KEY, conn(1), "alice", json!({"name": "A"}))
        .unwrap();
    a.presence
        .track("other", conn(1), "alice", json!({"name": "A"}))
        .unwrap();
    a.presence.track(KEY, conn(2), "bob", json!({})).unwrap();
    a.presence.update_cursor(KEY, conn(1), 7, 3.0, 4.0).unwrap();
    a.presence.untrack(KEY, conn(2), UntrackReason::Abnormal);
    b.presence.track(KEY, conn(3), "carol", json!({})).unwrap();
    // B missed everything A published (a backend outage); A re-publishes its snapshot.
    a.backend.published.lock().clear();
    let snapshot = a.presence.local_changes_snapshot();
    assert!(snapshot.iter().all(|c| c.node() == a.presence.node_id()));
    for change in snapshot.iter().cloned() {
        b.presence.apply_remote(change).unwrap();
    }
    let without_carol: Vec<_> = b
        .presence
        .list(KEY)
        .into_iter()
        .filter(|p| p.id() != "carol")
        .collect();
    assert_eq!(without_carol, a.presence.list(KEY));
    assert_eq!(b.presence.list("other"), a.presence.list("other"));
    assert_eq!(b.presence.cursors(KEY), a.presence.cursors(KEY));

    // Re-applying the snapshot changes nothing a subscriber can see.
    let mut on_b = b.presence.subscribe(KEY);
    for change in snapshot {
        b.presence.apply_remote(change).unwrap();
    }
    assert!(drain(&mut on_b).is_empty());

    // Bob's dropped connection is pending on B too: its grace ends there as well.
    clock.advance(Duration::from_secs(6));
    b.presence.sweep();
    assert_eq!(kinds(&drain(&mut on_b)), ["leave:bob"]);
}

#[test]
fn concurrent_meta_writes_converge_whatever_the_delivery_order() {
    let (a, b, clock) = two_nodes();
    a.presence
        .track(KEY, conn(1), "alice", json!({"v": "a0"}))
        .unwrap();
    b.presence
        .track(KEY, conn(2), "alice", json!({"v": "b0"}))
        .unwrap();
    clock.advance(Duration::from_millis(5));
    b.presence
        .update_meta(KEY, conn(2), json!({"v": "b1"}))
        .unwrap();
    clock.advance(Duration::from_millis(5));
    a.presence
        .update_meta(KEY, conn(1), json!({"v": "a1"}))
        .unwrap();
    // B hears A before A hears B.
    deliver(&a, &b, usize::MAX);
    deliver(&b, &a, usize::MAX);
    assert_eq!(a.presence.list(KEY), b.presence.list(KEY));
    assert_eq!(
        a.presence.list(KEY)[0].get_str("v"),
        Some("a1"),
        "the latest write wins"
    );
}

#[test]
fn a_reconnect_to_another_process_within_the_grace_is_invisible() {
    let (a, b, clock) = two_nodes();
    a.presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    pump(&a, &b);
    let mut on_a = a.presence.subscribe(KEY);
    let mut on_b = b.presence.subscribe(KEY);
    a.presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    pump(&a, &b);
    clock.advance(Duration::from_secs(2));
    b.presence.track(KEY, conn(2), "alice", json!({})).unwrap();
    pump(&a, &b);
    clock.advance(Duration::from_secs(10));
    a.presence.sweep();
    b.presence.sweep();
    pump(&a, &b);
    assert!(drain(&mut on_a).is_empty());
    assert!(drain(&mut on_b).is_empty());
    assert_eq!(a.presence.list(KEY), b.presence.list(KEY));
    assert_eq!(a.presence.list(KEY)[0].connections(), 1);
}

#[test]
fn expiry_and_cursors_and_broadcasts_replicate() {
    let (a, b, clock) = two_nodes();
    a.presence.track(KEY, conn(1), "alice", json!({})).unwrap();
    pump(&a, &b);
    let mut on_b = b.presence.subscribe(KEY);
    a.presence
        .update_cursor(KEY, conn(1), 2, 20.0, 2.0)
        .unwrap();
    a.presence.broadcast(KEY, "ping", json!({"n": 1}));
    pump(&a, &b);
    // A stale cursor update arriving late is ignored on the replica too.
    let stale = ConnChange::Cursor {
        node: a.presence.node_id(),
        key: KEY.into(),
        conn: conn(1),
        seq: 1,
        x: 10.0,
        y: 1.0,
        anchor: None,
        hidden: false,
    };
    assert_eq!(b.presence.apply_remote(stale), Ok(false));
    assert_eq!(b.presence.cursors(KEY)[0].1.x(), 20.0);
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        b.presence.sweep().expired,
        0,
        "B does not expire A's connections"
    );
    assert_eq!(a.presence.sweep().expired, 1);
    pump(&a, &b);
    assert_eq!(
        kinds(&drain(&mut on_b)),
        [
            "cursor:alice",
            "broadcast:ping",
            "leave:alice",
            "uncursor:alice"
        ]
    );
}

#[test]
fn malformed_remote_changes_are_refused_and_change_nothing() {
    let (_a, b, _clock) = two_nodes();
    let remote = NodeId::from_u128(9);
    let mut meta = serde_json::Map::new();
    meta.insert("id".into(), json!("spoofed"));
    let track = |user: &str, meta: serde_json::Map<String, serde_json::Value>| ConnChange::Track {
        node: remote,
        key: KEY.into(),
        conn: conn(1),
        user_id: user.into(),
        meta: Arc::new(meta),
        stamp: MetaStamp::default(),
        joined_at: Timestamp::from_millis(0),
    };
    assert_eq!(
        b.presence.apply_remote(track("u1", meta)),
        Err(PresenceError::ReservedMetaKey { key: "id".into() })
    );
    assert_eq!(
        b.presence.apply_remote(track("", Default::default())),
        Err(PresenceError::EmptyUserId)
    );
    let nan = ConnChange::Cursor {
        node: remote,
        key: KEY.into(),
        conn: conn(1),
        seq: 1,
        x: f64::NAN,
        y: 0.0,
        anchor: None,
        hidden: false,
    };
    assert!(matches!(
        b.presence.apply_remote(nan),
        Err(PresenceError::NonFiniteCursor { .. })
    ));
    let unknown = ConnChange::Untrack {
        node: remote,
        key: KEY.into(),
        conn: conn(5),
        reason: UntrackReason::Clean,
        at: Timestamp::from_millis(0),
    };
    assert_eq!(
        b.presence.apply_remote(unknown),
        Ok(false),
        "an unknown connection is ignored"
    );
    assert_eq!(b.presence.stats().connections, 0);
}

/// Random operations on two processes with random delivery delays: once everything is delivered and the
/// graces are over, both show exactly the same presences.
#[test]
fn random_interleavings_converge() {
    for seed in 0..30u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let clock = ManualClock::default();
        let nodes = [node(1, &clock), node(2, &clock)];
        let keys = ["k0", "k1"];
        for _ in 0..300 {
            let n = rng.random_range(0..2usize);
            let p = &nodes[n].presence;
            let key = keys[rng.random_range(0..2usize)];
            // Each process owns its own connections.
            let c = conn(n as u128 * 100 + rng.random_range(0..6u128));
            let user = format!("u{}", rng.random_range(0..4u8));
            match rng.random_range(0..100u8) {
                0..35 => p
                    .track(key, c, &user, json!({"v": rng.random_range(0..3u8)}))
                    .unwrap(),
                35..50 => {
                    p.untrack(key, c, UntrackReason::Clean);
                }
                50..62 => {
                    p.untrack(key, c, UntrackReason::Abnormal);
                }
                62..72 => {
                    let _ = p.update_meta(key, c, json!({"v": rng.random_range(0..3u8)}));
                }
                72..82 => {
                    let _ = p.update_cursor(key, c, rng.random_range(0..50u64), 1.0, 2.0);
                }
                82..88 => {
                    p.heartbeat(c);
                }
                88..92 => {
                    p.untrack_all(c, UntrackReason::Abnormal);
                }
                _ => {
                    p.sweep();
                }
            }
            clock.advance(Duration::from_millis(rng.random_range(0..1_500u64)));
            // Deliver a random part of each direction's queue, in order.
            deliver(&nodes[0], &nodes[1], rng.random_range(0..4usize));
            deliver(&nodes[1], &nodes[0], rng.random_range(0..4usize));
        }
        // Settle: deliver everything, let every grace end, sweep, deliver what the sweeps published.
        for _ in 0..3 {
            pump(&nodes[0], &nodes[1]);
            clock.advance(Duration::from_secs(6));
            nodes[0].presence.sweep();
            nodes[1].presence.sweep();
        }
        pump(&nodes[0], &nodes[1]);
        for key in keys {
            assert_eq!(
                nodes[0].presence.list(key),
                nodes[1].presence.list(key),
                "seed {seed}, key {key}"
            );
        }
    }
}

#[test]
fn the_memory_backend_is_the_default() {
    let presence = Presence::new(PresenceConfig::default()).unwrap();
    assert_eq!(presence.backend_name(), "memory");
}

#[test]
fn replaying_a_snapshot_keeps_a_pending_tab_next_to_a_live_tab_of_the_same_user() {
    let (a, b, _clock) = two_nodes();
    // Alice's tab 1 dropped (pending, within the grace); her tab 2 is live. Tab 1 has the lower
    // id, so a per-connection replay would make it pending first and then let tab 2's track
    // replace it.
    a.presence
        .track(KEY, conn(1), "alice", json!({"name": "A"}))
        .unwrap();
    a.presence
        .track(KEY, conn(2), "alice", json!({"name": "A"}))
        .unwrap();
    a.presence.untrack(KEY, conn(1), UntrackReason::Abnormal);
    assert_eq!(a.presence.list(KEY)[0].connections(), 2);
    for change in a.presence.local_changes_snapshot() {
        b.presence.apply_remote(change).unwrap();
    }
    assert_eq!(b.presence.list(KEY), a.presence.list(KEY));
    assert_eq!(b.presence.list(KEY)[0].connections(), 2);
}
