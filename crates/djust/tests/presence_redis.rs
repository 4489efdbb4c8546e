//! `presence_backend = redis`: two apps (standing for two server processes) built from the
//! configuration alone share presence, cursors and broadcasts through a real `redis-server`.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use djust::DjustConfig;
use djust::presence::PresenceBackendKind;
use djust_testkit::RedisServer;
use serde_json::{Value, json};
use support::presence_views::{room_parts, room_router};
use support::{Ws, serve, test_config};

const WAIT: Duration = Duration::from_secs(5);

fn redis_config(server: &RedisServer) -> DjustConfig {
    test_config()
        .with_presence_backend(PresenceBackendKind::Redis)
        .with_redis_url(server.url())
}

async fn join(addr: SocketAddr, user: &str) -> Ws {
    let mut ws = Ws::connect_with(addr, &[("x-test-user", user)])
        .await
        .expect("connect");
    let mounted = ws.mount("/room/1", "").await;
    assert_eq!(mounted["t"], "mounted", "{mounted}");
    ws
}

/// Waits (up to [`WAIT`]) for a push event `name`; returns its payload.
async fn wait_event(ws: &mut Ws, name: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Some(frame) = ws.try_recv(Duration::from_millis(100)).await {
            let found = frame["events"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["name"] == name);
            if let Some(event) = found {
                return event["payload"].clone();
            }
        }
    }
    panic!("no `{name}` event within {WAIT:?}");
}

/// Polls the view's full render until `cond` holds (up to [`WAIT`]).
async fn wait_html(ws: &mut Ws, cond: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        ws.send(json!({"t": "resync"})).await;
        let html = loop {
            let frame = ws.recv().await;
            if frame["t"] == "render" {
                break djust_render::full_html(&frame).unwrap_or_default();
            }
        };
        if cond(&html) {
            return html;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "page never matched: {html}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_processes_share_presence_cursors_and_broadcasts_through_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let p1 = serve(room_router(redis_config(&server), None)).await;
    let p2 = serve(room_router(redis_config(&server), None)).await;

    let mut alice = join(p1, "1:alice").await;
    let mut bob = join(p2, "2:bob").await;
    assert_eq!(
        wait_event(&mut alice, "joined").await,
        json!({"name": "bob"})
    );
    wait_html(&mut bob, |h| h.contains(r#"<p id="count">2</p>"#)).await;

    // A second tab of alice on process 2 is the same user: bob sees no second join.
    let mut alice2 = join(p2, "1:alice").await;
    wait_html(&mut alice2, |h| h.contains(r#"<p id="count">2</p>"#)).await;

    alice.event("cursor_move", json!({"x": 31, "y": 7})).await;
    wait_html(&mut bob, |h| h.contains("alice@31,7")).await;

    bob.event("shout", json!({"message": "hello"})).await;
    let expected = json!({"message": "hello", "from": "bob"});
    assert_eq!(wait_event(&mut alice, "shout").await, expected);

    // Closing one of alice's tabs keeps her; closing the last one is a leave on the other process.
    alice.close(1001).await;
    wait_html(&mut bob, |h| {
        h.contains(r#"<p id="count">2</p>"#) && h.contains("alice")
    })
    .await;
    alice2.close(1001).await;
    wait_html(&mut bob, |h| {
        h.contains(r#"<p id="count">1</p>"#) && !h.contains("alice")
    })
    .await;
}

#[test]
fn the_redis_backend_without_a_url_is_a_startup_error() {
    let err = DjustConfig::from_lookup(|k| (k == "DJUST_PRESENCE_BACKEND").then(|| "redis".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("DJUST_REDIS_URL"), "{err}");
}

#[tokio::test]
async fn a_stopping_process_removes_its_users_from_the_others_at_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (router, handle) = room_parts(redis_config(&server), None);
    let p1 = serve(router).await;
    let p2 = serve(room_router(redis_config(&server), None)).await;
    let _alice = join(p1, "1:alice").await;
    let mut bob = join(p2, "2:bob").await;
    wait_html(&mut bob, |h| h.contains(r#"<p id="count">2</p>"#)).await;
    assert_eq!(handle.presence().count("room:1"), 2);
    // Process 1 stops (its connection is still open): without the shutdown, process 2 would
    // keep alice until the presence timeout (60 s).
    handle.shutdown().await;
    assert_eq!(wait_event(&mut bob, "left").await, json!({"name": "alice"}));
}
