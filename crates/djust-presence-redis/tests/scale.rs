//! Concurrency and traffic: 2 processes × 25 concurrent users joining and leaving end with the exact set,
//! and cursor traffic is coalesced to one message per key per tick.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Node, RedisServer, events_until, node, within};
use djust_presence::{ConnId, UntrackReason};
use serde_json::json;

const KEY: &str = "board:1";

/// User `i`'s script on one process: join, maybe open a second tab, maybe leave. Returns the number of
/// tabs the user keeps open here.
async fn user_session(
    presence: djust_presence::Presence,
    i: usize,
    leaves: bool,
    two_tabs: bool,
) -> usize {
    let user = format!("u{i:02}");
    let first = ConnId::random();
    presence.track(KEY, first, &user, json!({"n": i})).unwrap();
    tokio::time::sleep(Duration::from_millis((i as u64 * 7) % 23)).await;
    let mut open = 1;
    if two_tabs {
        presence
            .track(KEY, ConnId::random(), &user, json!({"n": i}))
            .unwrap();
        open += 1;
    }
    tokio::task::yield_now().await;
    if leaves {
        presence.untrack(KEY, first, UntrackReason::Clean);
        open -= 1;
    }
    open
}

/// `(user, tabs)` this process expects, after running its 25 users concurrently.
async fn run_users(
    n: &Node,
    leaves: impl Fn(usize) -> bool,
    two_tabs: impl Fn(usize) -> bool,
) -> BTreeMap<String, usize> {
    let tasks: Vec<_> = (0..25)
        .map(|i| tokio::spawn(user_session(n.presence.clone(), i, leaves(i), two_tabs(i))))
        .collect();
    let mut tabs = BTreeMap::new();
    for (i, task) in tasks.into_iter().enumerate() {
        tabs.insert(format!("u{i:02}"), task.await.unwrap());
    }
    tabs
}

fn present(n: &Node) -> BTreeMap<String, usize> {
    n.presence
        .list(KEY)
        .iter()
        .map(|r| (r.id().to_owned(), r.connections()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_with_25_concurrent_users_each_end_with_the_exact_set() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    // The same 25 user ids on both processes (a user's tabs can be on either), different scripts.
    let (on_a, on_b) = tokio::join!(
        run_users(&a, |i| i % 3 == 0, |i| i % 4 == 1),
        run_users(&b, |i| i % 2 == 0, |i| i % 5 == 2),
    );
    let mut expected = BTreeMap::new();
    for (user, tabs) in on_a.iter().chain(&on_b) {
        *expected.entry(user.clone()).or_insert(0) += tabs;
    }
    expected.retain(|_, tabs| *tabs > 0);
    assert!(
        expected.len() > 10 && expected.len() < 25,
        "a meaningful mix: {expected:?}"
    );
    within(
        Duration::from_secs(10),
        "both processes show the exact set",
        || present(&a) == expected && present(&b) == expected,
    )
    .await;
    assert_eq!(
        a.presence.list(KEY),
        b.presence.list(KEY),
        "same records, same order"
    );
    assert_eq!(
        b.presence.node_changes_snapshot(a.presence.node_id()),
        a.presence.local_changes_snapshot()
    );
    assert_eq!(
        a.presence.node_changes_snapshot(b.presence.node_id()),
        b.presence.local_changes_snapshot()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_moves_are_coalesced_per_tick_and_the_last_position_wins() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let (alice, bob) = (ConnId::random(), ConnId::random());
    a.presence.track(KEY, alice, "alice", json!({})).unwrap();
    a.presence.track(KEY, bob, "bob", json!({})).unwrap();
    a.presence
        .track("board:2", alice, "alice", json!({}))
        .unwrap();
    within(Duration::from_secs(5), "B sees the users", || {
        b.presence.count(KEY) == 2
    })
    .await;
    let mut on_b = b.presence.subscribe(KEY);
    let before = a.handle.stats().published;

    // 300 moves on each of 3 (key, user) pairs over ~0.3 s: 900 moves, at 20 ms ticks ≈ 15 ticks.
    let moves = 300u64;
    let start = Instant::now();
    for seq in 1..=moves {
        let x = seq as f64;
        a.presence.update_cursor(KEY, alice, seq, x, 1.0).unwrap();
        a.presence.update_cursor(KEY, bob, seq, x, 2.0).unwrap();
        a.presence
            .update_cursor("board:2", alice, seq, x, 3.0)
            .unwrap();
        if seq % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let spent = start.elapsed();
    within(Duration::from_secs(5), "B shows the last positions", || {
        let c = b.presence.cursors(KEY);
        c.len() == 2 && c.iter().all(|(_, c)| c.x() == moves as f64)
    })
    .await;
    assert_eq!(b.presence.cursors("board:2")[0].1.x(), moves as f64);
    assert_eq!(b.presence.cursors(KEY), a.presence.cursors(KEY));

    let messages = a.handle.stats().published - before;
    // One message per key per tick: at most 2 keys × (elapsed / tick + a few), never one per move.
    let ticks = spent.as_millis() as u64 / 20 + 3;
    assert!(
        messages <= 2 * ticks,
        "{messages} messages for {} moves in {spent:?} ({ticks} ticks)",
        3 * moves
    );
    assert!(
        messages < 3 * moves / 10,
        "{messages} messages for {} moves",
        3 * moves
    );
    // B applied far fewer cursor events than moves, and every one moved a cursor forward.
    let seen = events_until(&mut on_b, Duration::from_secs(1), "events drained", |_| {
        true
    })
    .await;
    assert!(seen.iter().all(|e| e.starts_with("cursor:")), "{seen:?}");
    assert!(
        (seen.len() as u64) < moves,
        "{} cursor events on B",
        seen.len()
    );
    eprintln!(
        "coalescing: {} moves in {spent:?} -> {messages} messages, {} cursor events on the other process",
        3 * moves,
        seen.len()
    );
}
