//! Redis outages: killed and restarted empty mid-session. Processes keep serving their local users,
//! reconnect, re-publish, and end with the exact state: no ghosts, no lost users, no leave/join flicker
//! for users who never left.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{RedisServer, drain, events_until, node, users, within};
use djust_presence::{ConnId, UntrackReason};
use djust_presence_redis::RedisStatus;
use redis::AsyncCommands;
use serde_json::json;

const KEY: &str = "document:1";
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_session_recovers_the_exact_state() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let (alice, carol, frank) = (ConnId::random(), ConnId::random(), ConnId::random());
    let (bob, erin, gina) = (ConnId::random(), ConnId::random(), ConnId::random());
    a.presence.track(KEY, alice, "alice", json!({})).unwrap();
    a.presence.track(KEY, carol, "carol", json!({})).unwrap();
    a.presence.update_cursor(KEY, alice, 1, 5.0, 5.0).unwrap();
    b.presence.track(KEY, bob, "bob", json!({})).unwrap();
    b.presence.track(KEY, erin, "erin", json!({})).unwrap();
    let all = ["alice", "bob", "carol", "erin"];
    within(WAIT, "both see all four", || {
        users(&a.presence, KEY) == all
            && users(&b.presence, KEY) == all
            && b.presence.cursors(KEY).len() == 1
    })
    .await;

    server.kill();
    within(WAIT, "both notice the outage", || {
        a.handle.status() == RedisStatus::Disconnected
            && b.handle.status() == RedisStatus::Disconnected
    })
    .await;
    // Local users keep working while Redis is gone; remote ones are frozen as they were.
    a.presence.untrack(KEY, carol, UntrackReason::Clean);
    a.presence.track(KEY, frank, "frank", json!({})).unwrap();
    a.presence.update_cursor(KEY, alice, 2, 7.0, 7.0).unwrap();
    b.presence.untrack(KEY, erin, UntrackReason::Clean);
    b.presence.track(KEY, gina, "gina", json!({})).unwrap();
    assert_eq!(users(&a.presence, KEY), ["alice", "bob", "erin", "frank"]);
    assert_eq!(users(&b.presence, KEY), ["alice", "bob", "carol", "gina"]);
    let mut on_a = a.presence.subscribe(KEY);
    let mut on_b = b.presence.subscribe(KEY);
    // Let the reconnection attempts fail a few times.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(a.handle.status(), RedisStatus::Disconnected);

    server.restart(); // same port, no data
    let expected = ["alice", "bob", "frank", "gina"];
    within(WAIT, "both recover the exact set", || {
        a.handle.status() == RedisStatus::Connected
            && b.handle.status() == RedisStatus::Connected
            && users(&a.presence, KEY) == expected
            && users(&b.presence, KEY) == expected
    })
    .await;
    within(WAIT, "B's view of alice's cursor catches up", || {
        b.presence.cursors(KEY).first().map(|(_, c)| c.x()) == Some(7.0)
    })
    .await;
    for (me, other) in [(&a, &b), (&b, &a)] {
        assert_eq!(
            me.presence.node_changes_snapshot(other.presence.node_id()),
            other.presence.local_changes_snapshot(),
            "each holds exactly the other's connections"
        );
    }
    assert_eq!(a.presence.list(KEY), b.presence.list(KEY));
    for node in [&a, &b] {
        let stats = node.handle.stats();
        assert!(stats.reconnects >= 1, "a reconnect each: {stats:?}");
        assert!(stats.last_round_trip.is_some());
    }
    // Only real differences became events: the users who left or came during the outage.
    let on_a: BTreeSet<String> = drain(&mut on_a).into_iter().collect();
    let on_b: BTreeSet<String> = drain(&mut on_b).into_iter().collect();
    assert_eq!(on_a, ["join:gina", "leave:erin"].map(String::from).into());
    assert_eq!(
        on_b,
        ["cursor:alice", "join:frank", "leave:carol"]
            .map(String::from)
            .into()
    );

    // Redis holds both processes again, and replication goes on.
    let mut raw = common::raw(&server).await;
    let nodes: Vec<String> = raw.zrange("djust:presence:nodes", 0, -1).await.unwrap();
    assert_eq!(nodes.len(), 2);
    let mut on_b = b.presence.subscribe(KEY);
    a.presence.untrack(KEY, frank, UntrackReason::Clean);
    let seen = events_until(&mut on_b, WAIT, "B sees frank leave", |e| !e.is_empty()).await;
    assert_eq!(seen, ["leave:frank"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_cut_off_longer_than_the_timeout_is_removed_then_restored() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let proxy = common::Proxy::start(server.port).await;
    let a = common::node_with(common::fast_redis(&proxy.url()), common::fast_presence()).await;
    let b = node(&server).await;
    let alice = ConnId::random();
    a.presence.track(KEY, alice, "alice", json!({})).unwrap();
    within(WAIT, "B sees alice", || {
        users(&b.presence, KEY) == ["alice"]
    })
    .await;
    let mut on_b = b.presence.subscribe(KEY);

    proxy.cut();
    within(WAIT, "A notices", || {
        a.handle.status() == RedisStatus::Disconnected
    })
    .await;
    // Past the timeout B declares A dead and removes its users; A keeps serving alice locally.
    let gone = within(WAIT, "B removes alice", || {
        users(&b.presence, KEY).is_empty()
    })
    .await;
    assert!(gone <= Duration::from_millis(2_500), "took {gone:?}");
    assert_eq!(users(&a.presence, KEY), ["alice"]);
    a.presence
        .track(KEY, ConnId::random(), "zoe", json!({}))
        .unwrap();
    b.presence
        .track(KEY, ConnId::random(), "bob", json!({}))
        .unwrap();

    proxy.restore();
    let expected = ["alice", "bob", "zoe"];
    within(WAIT, "both recover", || {
        users(&a.presence, KEY) == expected && users(&b.presence, KEY) == expected
    })
    .await;
    let seen = drain(&mut on_b);
    assert_eq!(seen[..2], ["leave:alice", "join:bob"]);
    let rejoined: BTreeSet<&str> = seen[2..].iter().map(String::as_str).collect();
    assert_eq!(
        rejoined,
        BTreeSet::from(["join:alice", "join:zoe"]),
        "{seen:?}"
    );
    assert_eq!(
        b.presence.node_changes_snapshot(a.presence.node_id()),
        a.presence.local_changes_snapshot()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_started_while_redis_is_down_joins_when_it_comes_up() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let b = node(&server).await;
    server.kill();
    let redis =
        djust_presence_redis::RedisPresence::new(common::fast_redis(&server.url())).unwrap();
    let presence = djust_presence::Presence::builder()
        .config(common::fast_presence())
        .backend(redis.backend())
        .build()
        .unwrap();
    let handle = redis.start(&presence).unwrap();
    presence
        .track(KEY, ConnId::random(), "early", json!({}))
        .unwrap();
    within(WAIT, "the new process reports the outage", || {
        handle.status() == RedisStatus::Disconnected
    })
    .await;
    assert_eq!(users(&presence, KEY), ["early"]);
    server.restart();
    within(WAIT, "both see the early user", || {
        handle.status() == RedisStatus::Connected && users(&b.presence, KEY) == ["early"]
    })
    .await;
    assert!(handle.stats().connects >= 1);
    // Its first connection came late, but it is no reconnect.
    assert_eq!(handle.stats().reconnects, 0);
}
