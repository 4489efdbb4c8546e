//! A process's life in the cluster: starting late, leaving cleanly, being dropped, being declared dead
//! while alive, and garbage or gaps on the channel.

mod common;

use std::time::Duration;

use common::{RedisServer, drain, events_until, node, users, within};
use djust_presence::{ConnId, UntrackReason};
use djust_presence_redis::RedisStatus;
use redis::AsyncCommands;
use serde_json::json;

const KEY: &str = "document:1";
const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_started_late_catches_up_from_redis_with_cursors_and_graces() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = node(&server).await;
    let (t1, t2, t3) = (ConnId::random(), ConnId::random(), ConnId::random());
    a.presence
        .track(KEY, t1, "alice", json!({"name": "A"}))
        .unwrap();
    a.presence.track(KEY, t2, "bob", json!({})).unwrap();
    a.presence.track("other", t3, "carol", json!({})).unwrap();
    a.presence.update_cursor(KEY, t1, 4, 10.0, 20.0).unwrap();
    a.presence.untrack(KEY, t2, UntrackReason::Abnormal); // bob within his reconnect grace
    // Wait until A's hash holds ~epoch, ~seq, three connections and one cursor.
    let mut raw = common::raw(&server).await;
    let hash = format!("djust:presence:node:{}", a.presence.node_id());
    let deadline = std::time::Instant::now() + WAIT;
    while raw.hlen::<_, usize>(&hash).await.unwrap() != 6 {
        assert!(
            std::time::Instant::now() < deadline,
            "A's hash never filled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let b = node(&server).await; // connected = caught up
    assert_eq!(users(&b.presence, KEY), ["alice", "bob"]);
    assert_eq!(users(&b.presence, "other"), ["carol"]);
    assert_eq!(b.presence.cursors(KEY), a.presence.cursors(KEY));
    assert_eq!(
        b.presence.node_changes_snapshot(a.presence.node_id()),
        a.presence.local_changes_snapshot(),
        "B holds exactly A's connections"
    );
    // Bob's grace ends on B too, without A saying anything more.
    let _sweeper = b.presence.spawn_sweeper().unwrap();
    within(Duration::from_secs(8), "bob's grace ends on B", || {
        users(&b.presence, KEY) == ["alice"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_removes_the_process_everywhere_at_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    a.presence
        .track(KEY, ConnId::random(), "alice", json!({}))
        .unwrap();
    within(WAIT, "B sees alice", || {
        users(&b.presence, KEY) == ["alice"]
    })
    .await;
    let mut on_b = b.presence.subscribe(KEY);
    let node_a = a.presence.node_id();
    a.handle.shutdown().await;
    // Far sooner than the 2 s timeout: the bye is acted on at once.
    within(Duration::from_millis(1_000), "B sees alice leave", || {
        users(&b.presence, KEY).is_empty()
    })
    .await;
    assert_eq!(drain(&mut on_b), ["leave:alice"]);
    let mut raw = common::raw(&server).await;
    let nodes: Vec<String> = raw.zrange("djust:presence:nodes", 0, -1).await.unwrap();
    assert_eq!(nodes, [b.presence.node_id().to_string()]);
    let exists: bool = raw
        .exists(format!("djust:presence:node:{node_a}"))
        .await
        .unwrap();
    assert!(!exists, "A's hash is gone");
    // A's engine keeps working locally.
    assert_eq!(users(&a.presence, KEY), ["alice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_engine_stops_the_driver_and_leaves() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    a.presence
        .track(KEY, ConnId::random(), "alice", json!({}))
        .unwrap();
    within(WAIT, "B sees alice", || {
        users(&b.presence, KEY) == ["alice"]
    })
    .await;
    let status = a.handle.watch_status();
    drop(a.presence);
    within(WAIT, "B sees alice leave", || {
        users(&b.presence, KEY).is_empty()
    })
    .await;
    within(WAIT, "A's driver stops", || {
        *status.borrow() == RedisStatus::Stopped
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_declared_dead_while_alive_registers_again() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    a.presence
        .track(KEY, ConnId::random(), "alice", json!({}))
        .unwrap();
    within(WAIT, "B sees alice", || {
        users(&b.presence, KEY) == ["alice"]
    })
    .await;
    let mut on_b = b.presence.subscribe(KEY);
    // What a survivor does to a process it thinks dead (e.g. A was paused longer than the timeout).
    let node_a = a.presence.node_id().to_string();
    let mut raw = common::raw(&server).await;
    let _: () = raw.zrem("djust:presence:nodes", &node_a).await.unwrap();
    let _: () = raw
        .del(format!("djust:presence:node:{node_a}"))
        .await
        .unwrap();
    // A notices at its next liveness tick and writes everything again; B ends up with alice.
    within(WAIT, "A registers again", || {
        a.handle.stats().reregistrations >= 1
    })
    .await;
    a.presence
        .track(KEY, ConnId::random(), "dave", json!({}))
        .unwrap();
    within(WAIT, "B sees alice and dave", || {
        users(&b.presence, KEY) == ["alice", "dave"]
    })
    .await;
    let seen = drain(&mut on_b);
    assert!(seen.contains(&"join:dave".to_owned()), "{seen:?}");
    assert_eq!(
        b.presence.node_changes_snapshot(a.presence.node_id()),
        a.presence.local_changes_snapshot()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_gaps_on_the_channel_are_survived() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let mut raw = common::raw(&server).await;
    let node_a = a.presence.node_id();
    for garbage in [
        "hello".to_owned(),
        format!("{node_a} 1 1 not json"),
        format!("{node_a} x y {{}}"),
        String::from_utf8_lossy(&[0xff, 0xfe]).into_owned(),
    ] {
        let _: () = raw.publish("djust:presence:events", garbage).await.unwrap();
    }
    // A message that skips ahead in A's numbering: B cannot know what it missed, so it re-reads A.
    let hash = format!("djust:presence:node:{node_a}");
    let (epoch, seq): (String, u64) = redis::cmd("HMGET")
        .arg(&hash)
        .arg("~epoch")
        .arg("~seq")
        .query_async::<(String, u64)>(&mut raw)
        .await
        .unwrap();
    let resyncs = b.handle.stats().resyncs;
    let gap = format!(
        r#"{node_a} {epoch} {} {{"t":"changes","changes":[]}}"#,
        seq + 5
    );
    let _: () = raw.publish("djust:presence:events", gap).await.unwrap();
    within(WAIT, "B re-reads A", || b.handle.stats().resyncs > resyncs).await;
    // Replication goes on normally afterwards.
    let mut on_b = b.presence.subscribe(KEY);
    a.presence
        .track(KEY, ConnId::random(), "alice", json!({}))
        .unwrap();
    let seen = events_until(&mut on_b, WAIT, "B sees alice", |e| !e.is_empty()).await;
    assert_eq!(seen, ["join:alice"]);
    assert_eq!(a.handle.status(), RedisStatus::Connected);
    assert_eq!(b.handle.status(), RedisStatus::Connected);
}
