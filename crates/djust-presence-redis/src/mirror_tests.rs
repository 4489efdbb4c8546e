//! The mirror against the engine itself: whatever a process does, a replica that reconciles from the
//! stored hash holds exactly the process's own connections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use djust_presence::{
    ConnChange, ConnId, ManualClock, NodeId, Presence, PresenceBackend, UntrackReason,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::{HashOps, Mirror, is_meta_field};

/// Records what the engine publishes.
#[derive(Debug, Default)]
struct Queue(Mutex<Vec<ConnChange>>);

impl PresenceBackend for Queue {
    fn name(&self) -> &str {
        "queue"
    }

    fn publish(&self, change: &ConnChange) {
        if let Ok(mut q) = self.0.lock() {
            q.push(change.clone());
        }
    }
}

struct Harness {
    presence: Presence,
    queue: Arc<Queue>,
    clock: ManualClock,
    mirror: Mirror,
    hash: HashMap<String, String>,
}

impl Harness {
    fn new() -> Self {
        let clock = ManualClock::default();
        let queue = Arc::new(Queue::default());
        let backend: Arc<dyn PresenceBackend> = queue.clone();
        let presence = Presence::builder()
            .node_id(NodeId::from_u128(1))
            .clock(Arc::new(clock.clone()))
            .backend(backend)
            .build()
            .unwrap();
        let mirror = Mirror::new(presence.config().reconnect_grace);
        Self {
            presence,
            queue,
            clock,
            mirror,
            hash: HashMap::new(),
        }
    }

    /// Feeds what the engine published to the mirror, and the mirror's writes to the "hash".
    fn pump(&mut self) {
        let published: Vec<ConnChange> = self.queue.0.lock().unwrap().drain(..).collect();
        let mut ops = HashOps::new();
        for change in &published {
            self.mirror.apply(change, &mut ops);
        }
        self.write(ops);
    }

    fn write(&mut self, ops: HashOps) {
        for (field, value) in ops {
            match value {
                Some(v) => self.hash.insert(field, v),
                None => self.hash.remove(&field),
            };
        }
    }

    /// What a replica reading the hash would hold for this process.
    fn replica_view(&self) -> Vec<ConnChange> {
        let replica = Presence::builder()
            .node_id(NodeId::from_u128(2))
            .clock(Arc::new(self.clock.clone()))
            .build()
            .unwrap();
        let changes: Vec<ConnChange> = self
            .hash
            .iter()
            .filter(|(f, _)| !is_meta_field(f))
            .flat_map(|(_, v)| serde_json::from_str::<Vec<ConnChange>>(v).unwrap())
            .collect();
        replica
            .reconcile_node(self.presence.node_id(), changes)
            .unwrap();
        replica.node_changes_snapshot(self.presence.node_id())
    }
}

fn conn(n: u128) -> ConnId {
    ConnId::from_u128(n)
}

#[test]
fn the_stored_hash_recreates_the_engines_own_connections() {
    for seed in 0..60u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut h = Harness::new();
        for step in 0..250 {
            let p = &h.presence;
            let key = ["k0", "k1"][rng.random_range(0..2usize)];
            let c = conn(rng.random_range(0..6u128));
            let user = format!("u{}", rng.random_range(0..3u8));
            match rng.random_range(0..100u8) {
                0..30 => p
                    .track(key, c, &user, json!({"v": rng.random_range(0..3u8)}))
                    .unwrap(),
                30..42 => {
                    p.untrack(key, c, UntrackReason::Clean);
                }
                42..56 => {
                    p.untrack(key, c, UntrackReason::Abnormal);
                }
                56..66 => {
                    let _ = p.update_meta(key, c, json!({"v": rng.random_range(0..3u8)}));
                }
                66..80 => {
                    let _ = p.update_cursor(key, c, rng.random_range(0..40u64), 1.0, 2.0);
                }
                80..86 => {
                    p.heartbeat(c);
                }
                86..90 => {
                    p.untrack_all(c, UntrackReason::Abnormal);
                }
                _ => {
                    p.sweep();
                }
            }
            h.clock
                .advance(Duration::from_millis(rng.random_range(0..3_000u64)));
            h.pump();
            if step % 10 == 0 {
                assert_eq!(
                    h.replica_view(),
                    h.presence.local_changes_snapshot(),
                    "seed {seed}, step {step}"
                );
            }
        }
    }
}

#[test]
fn the_dump_is_the_hash() {
    let mut h = Harness::new();
    h.presence.track("k", conn(1), "a", json!({})).unwrap();
    h.presence.track("k", conn(2), "b", json!({})).unwrap();
    h.presence.update_cursor("k", conn(1), 1, 5.0, 6.0).unwrap();
    h.presence.untrack("k", conn(2), UntrackReason::Abnormal);
    h.pump();
    let dump: HashMap<String, String> = h.mirror.dump().into_iter().collect();
    assert_eq!(dump, h.hash);
    assert_eq!(h.mirror.len(), 2);
    assert_eq!(dump.len(), 3, "two entries and one cursor");
}

#[test]
fn a_pending_entry_superseded_elsewhere_is_pruned_after_its_grace() {
    let mut h = Harness::new();
    h.presence.track("k", conn(1), "a", json!({})).unwrap();
    h.presence.untrack("k", conn(1), UntrackReason::Abnormal);
    h.pump();
    // Another process tracks user `a` again: this engine drops its pending entry without publishing.
    let remote = ConnChange::Track {
        node: NodeId::from_u128(9),
        key: "k".into(),
        conn: conn(99),
        user_id: "a".into(),
        meta: Arc::new(serde_json::Map::new()),
        stamp: Default::default(),
        joined_at: h.presence.now(),
    };
    h.presence.apply_remote(remote).unwrap();
    assert!(h.presence.local_changes_snapshot().is_empty());
    let mut ops = HashOps::new();
    h.mirror.prune(h.presence.now(), &mut ops);
    assert!(ops.is_empty(), "still within the grace");
    h.clock.advance(Duration::from_secs(6));
    h.mirror.prune(h.presence.now(), &mut ops);
    h.write(ops);
    assert!(h.hash.is_empty(), "{:?}", h.hash);
    assert_eq!(h.mirror.len(), 0);
}

#[test]
fn a_cursor_is_stored_while_the_connection_that_moved_it_is_its_users() {
    let mut h = Harness::new();
    let has_cursor = |h: &Harness| h.hash.keys().any(|f| f.starts_with("c:"));
    h.presence.track("k", conn(1), "a", json!({})).unwrap();
    h.presence.track("k", conn(2), "a", json!({})).unwrap();
    h.presence.update_cursor("k", conn(1), 1, 5.0, 6.0).unwrap();
    h.pump();
    assert!(has_cursor(&h));
    // The moving tab closes: the engine keeps the position but no longer re-creates it elsewhere.
    h.presence.untrack("k", conn(1), UntrackReason::Clean);
    h.pump();
    assert!(!has_cursor(&h));
    assert_eq!(h.replica_view(), h.presence.local_changes_snapshot());
    // The same tab comes back as the same user: the cursor is theirs again.
    h.presence.track("k", conn(1), "a", json!({})).unwrap();
    h.pump();
    assert!(has_cursor(&h));
    assert_eq!(h.replica_view(), h.presence.local_changes_snapshot());
    // The tab is taken over by another user: the cursor is not theirs.
    h.presence.track("k", conn(1), "b", json!({})).unwrap();
    h.pump();
    assert!(!has_cursor(&h));
    assert_eq!(h.replica_view(), h.presence.local_changes_snapshot());
    h.presence.untrack_all(conn(1), UntrackReason::Clean);
    h.presence.untrack_all(conn(2), UntrackReason::Clean);
    h.pump();
    assert!(h.hash.is_empty(), "{:?}", h.hash);
}
