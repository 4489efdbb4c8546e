//! A cursor's anchor and its hidden state travel between two processes through a real
//! `redis-server`, with the rest of the cursor (coalesced moves and the stored hash alike).

mod common;

use std::time::Duration;

use common::{RedisServer, node, within};
use djust_presence::{ConnId, CursorAnchor};
use serde_json::json;

const KEY: &str = "document:1";
const WAIT: Duration = Duration::from_secs(5);

fn anchor_json(n: &common::Node) -> Option<String> {
    n.presence
        .cursors(KEY)
        .first()
        .and_then(|(_, c)| c.anchor().map(|a| a.to_json()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchors_and_hidden_cursors_replicate_through_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let tab = ConnId::random();
    a.presence.track(KEY, tab, "alice", json!({})).unwrap();
    within(WAIT, "B sees alice", || b.presence.count(KEY) == 1).await;

    let anchor: CursorAnchor =
        serde_json::from_value(json!({"n": "content", "i": 120, "dx": 2.5, "dy": 4})).unwrap();
    a.presence
        .update_cursor_anchored(KEY, tab, 1, (40.0, 50.0), Some(anchor))
        .unwrap();
    let want = Some(r#"{"n":"content","i":120,"dx":2.5,"dy":4.0}"#.to_owned());
    within(WAIT, "B has the anchored cursor", || {
        anchor_json(&b) == want
    })
    .await;
    assert_eq!(b.presence.cursors(KEY), a.presence.cursors(KEY));

    // Hidden on A: gone on B too, alice still present; the next move shows it again.
    a.presence.hide_cursor(KEY, tab, 2).unwrap();
    within(WAIT, "B hides it", || b.presence.cursors(KEY).is_empty()).await;
    assert_eq!(b.presence.count(KEY), 1);

    // A third process starting now reads the stored state: the cursor is hidden there too.
    let c = node(&server).await;
    within(WAIT, "C sees alice", || c.presence.count(KEY) == 1).await;
    assert!(c.presence.cursors(KEY).is_empty(), "stored as hidden");

    a.presence.update_cursor(KEY, tab, 3, 7.0, 8.0).unwrap();
    within(WAIT, "B and C show it again", || {
        [&b, &c]
            .iter()
            .all(|n| n.presence.cursors(KEY).first().map(|(_, c)| c.x()) == Some(7.0))
    })
    .await;
    assert_eq!(anchor_json(&b), None, "a plain move has no anchor");
}
