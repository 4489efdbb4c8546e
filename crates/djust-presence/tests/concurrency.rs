//! Many tasks tracking and untracking at once end in exactly the expected state.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::conn;
use djust_presence::{Presence, PresenceConfig, UntrackReason};
use serde_json::json;

const TASKS: u128 = 50;
const CONNS_PER_TASK: u128 = 8;
const KEYS: u128 = 4;

/// Connections `2n` and `2n + 1` share a key, so every key sees both survivors and untracks.
fn key_of(c: u128) -> String {
    format!("room:{}", (c / 2) % KEYS)
}

/// Task `t` is user `u{t % 25}` (so two tasks share each user, like two tabs racing) and tracks
/// connections `t * CONNS_PER_TASK + j`; it untracks the odd ones again, some cleanly, some by dropping
/// them entirely.
async fn run_task(presence: Presence, t: u128) {
    let user = format!("u{}", t % 25);
    for j in 0..CONNS_PER_TASK {
        let c = t * CONNS_PER_TASK + j;
        presence
            .track(
                &key_of(c),
                conn(c),
                &user,
                json!({"task": t as u64, "conn": c as u64}),
            )
            .unwrap();
        tokio::task::yield_now().await;
    }
    for j in (1..CONNS_PER_TASK).step_by(2) {
        let c = t * CONNS_PER_TASK + j;
        if j % 4 == 1 {
            assert!(presence.untrack(&key_of(c), conn(c), UntrackReason::Clean));
        } else {
            assert_eq!(presence.untrack_all(conn(c), UntrackReason::Clean), 1);
        }
        tokio::task::yield_now().await;
    }
}

/// key -> user -> connection count, as the final state must be.
fn expected() -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut want: BTreeMap<String, BTreeMap<String, usize>> = (0..KEYS)
        .map(|k| (format!("room:{k}"), BTreeMap::new()))
        .collect();
    for t in 0..TASKS {
        for j in (0..CONNS_PER_TASK).step_by(2) {
            let c = t * CONNS_PER_TASK + j;
            *want
                .entry(key_of(c))
                .or_default()
                .entry(format!("u{}", t % 25))
                .or_default() += 1;
        }
    }
    want
}

fn actual(presence: &Presence) -> BTreeMap<String, BTreeMap<String, usize>> {
    (0..KEYS)
        .map(|k| {
            let key = format!("room:{k}");
            let users = presence
                .list(&key)
                .iter()
                .map(|r| (r.id().to_owned(), r.connections()))
                .collect();
            (key, users)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_tasks_end_with_the_exact_expected_set() {
    let presence = Presence::new(PresenceConfig::default()).unwrap();
    let handles: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(run_task(presence.clone(), t)))
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(actual(&presence), expected());
    for k in 0..KEYS {
        let key = format!("room:{k}");
        let ids: BTreeSet<String> = presence
            .list(&key)
            .iter()
            .map(|r| r.id().to_owned())
            .collect();
        assert_eq!(presence.count(&key), ids.len());
    }
    let stats = presence.stats();
    assert_eq!(stats.connections, (TASKS * CONNS_PER_TASK / 2) as usize);
}

#[test]
fn threads_racing_on_one_user_leave_no_ghost() {
    // Every thread tracks and untracks connections of the same user on the same key; the user must be
    // gone at the end, with no connection left behind. The watcher reads after the fact: its queue
    // holds the whole stream.
    let presence = Presence::new(PresenceConfig {
        subscriber_queue: 100_000,
        ..PresenceConfig::default()
    })
    .unwrap();
    let mut watch = presence.subscribe("hot");
    std::thread::scope(|s| {
        for t in 0..8u128 {
            let presence = presence.clone();
            s.spawn(move || {
                for i in 0..200u128 {
                    let c = conn(t * 1_000 + i);
                    presence
                        .track("hot", c, "same-user", json!({"t": t as u64}))
                        .unwrap();
                    presence.untrack("hot", c, UntrackReason::Clean);
                }
            });
        }
    });
    assert_eq!(presence.count("hot"), 0);
    assert_eq!(presence.stats().connections, 0);
    // Joins and leaves of the one user strictly alternate, starting with a join and ending with a leave
    // (updates come between them when one thread's meta replaces another's).
    let kinds: Vec<String> = common::kinds(&common::drain(&mut watch))
        .into_iter()
        .filter(|k| !k.starts_with("update:"))
        .collect();
    assert!(!kinds.is_empty());
    for (i, k) in kinds.iter().enumerate() {
        let want = if i % 2 == 0 {
            "join:same-user"
        } else {
            "leave:same-user"
        };
        assert_eq!(k, want, "event {i}");
    }
    assert_eq!(kinds.len() % 2, 0);
}
