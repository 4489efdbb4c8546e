//! Two engines, each with its own Redis backend (two "processes"), against a real `redis-server`:
//! joins, leaves, tabs across processes, meta, cursors, broadcasts, late starters, clean shutdown.

mod common;

use std::time::Duration;

use common::{RedisServer, drain, events_until, node, users, within};
use djust_presence::{ConnId, UntrackReason};
use serde_json::json;

const KEY: &str = "document:1";
const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_on_each_process_is_one_user_and_closing_one_keeps_them() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let mut on_b = b.presence.subscribe(KEY);
    let (tab_a, tab_b) = (ConnId::random(), ConnId::random());

    a.presence
        .track(KEY, tab_a, "alice", json!({"name": "Alice"}))
        .unwrap();
    within(WAIT, "B sees alice", || {
        users(&b.presence, KEY) == ["alice"]
    })
    .await;
    b.presence
        .track(KEY, tab_b, "alice", json!({"name": "Alice"}))
        .unwrap();
    within(WAIT, "both see two tabs", || {
        [&a, &b]
            .iter()
            .all(|n| n.presence.list(KEY).first().map(|r| r.connections()) == Some(2))
    })
    .await;
    assert_eq!(drain(&mut on_b), ["join:alice"], "one join for two tabs");

    // Closing A's tab keeps alice everywhere.
    a.presence.untrack(KEY, tab_a, UntrackReason::Clean);
    within(WAIT, "B sees one tab", || {
        b.presence.list(KEY)[0].connections() == 1
    })
    .await;
    assert!(drain(&mut on_b).is_empty(), "no leave while a tab remains");

    // Closing the last one is a leave everywhere.
    let mut on_a = a.presence.subscribe(KEY);
    b.presence.untrack(KEY, tab_b, UntrackReason::Clean);
    within(WAIT, "A sees alice leave", || {
        users(&a.presence, KEY).is_empty()
    })
    .await;
    assert_eq!(drain(&mut on_a), ["leave:alice"]);
    assert_eq!(drain(&mut on_b), ["leave:alice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_cursors_and_broadcasts_cross_processes() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let tab = ConnId::random();
    a.presence
        .track(KEY, tab, "alice", json!({"color": "#f00"}))
        .unwrap();
    within(WAIT, "B sees alice", || {
        users(&b.presence, KEY) == ["alice"]
    })
    .await;
    let mut on_b = b.presence.subscribe(KEY);

    a.presence
        .update_meta(KEY, tab, json!({"color": "#0f0"}))
        .unwrap();
    a.presence.update_cursor(KEY, tab, 1, 150.0, 300.0).unwrap();
    a.presence
        .broadcast(KEY, "content_changed", json!({"rev": 7}));
    let seen = events_until(&mut on_b, WAIT, "B gets the three events", |e| e.len() >= 3).await;
    assert_eq!(
        seen,
        ["update:alice", "cursor:alice", "broadcast:content_changed"]
    );
    let cursors = b.presence.cursors(KEY);
    assert_eq!((cursors[0].1.x(), cursors[0].1.y()), (150.0, 300.0));
    assert_eq!(cursors[0].1.meta().get("color"), Some(&json!("#0f0")));
    assert_eq!(b.presence.list(KEY), a.presence.list(KEY));
}
