//! Updates: coalescing of server-side messages into one render per tick, versioned patches and
//! the resync path, server-side disconnect.

mod support;

use std::time::Duration;

use djust::{CloseReason, SendError};
use serde_json::json;
use support::views::Bump;
use support::{Ws, start, test_config};

#[tokio::test]
async fn a_burst_of_info_messages_within_a_tick_is_one_patch() {
    let (addr, probe) = start(test_config().with_tick(Duration::from_millis(200))).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    let sender = probe.sender(0);
    // 100 sends take microseconds: all of them land within the 200 ms tick.
    for _ in 0..100 {
        sender.send(Bump(1)).unwrap();
    }
    let patch = ws.recv().await;
    assert_eq!(patch["t"], "patch");
    assert_eq!(patch["ver"], 1);
    assert!(patch["diff"].to_string().contains("\"100\""), "{patch}");
    // Exactly one frame for the whole burst.
    ws.expect_silence(Duration::from_millis(300)).await;
    assert_eq!(probe.log().infos, 100, "every message reached handle_info");
}

#[tokio::test]
async fn unchanged_render_sends_nothing() {
    let (addr, probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    probe.sender(0).send(Bump(0)).unwrap();
    ws.expect_silence(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn versions_increase_by_one_and_resync_returns_a_full_render() {
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, mounted) = Ws::mounted(addr, "/counter/1", "").await;
    assert_eq!(mounted["ver"], 0);
    for expected in 1..=3 {
        ws.event("inc", json!({"by": 1})).await;
        assert_eq!(ws.recv().await["ver"], expected);
    }
    // The client saw a gap (say it lost ver 3): it asks for a resync.
    ws.send(json!({"t": "resync", "ver": 2})).await;
    let render = ws.recv().await;
    assert_eq!(render["t"], "render");
    assert_eq!(render["ver"], 3, "a render carries the current version");
    assert!(
        djust_render::full_html(&render)
            .unwrap()
            .contains(r#"<p id="count">3</p>"#)
    );
    // Patches continue from the render's version, diffed against the rendered tree.
    ws.event("inc", json!({"by": 1})).await;
    let patch = ws.recv().await;
    assert_eq!(
        (patch["t"].as_str(), patch["ver"].as_u64()),
        (Some("patch"), Some(4))
    );
    assert!(patch["diff"].to_string().contains("\"4\""), "{patch}");
}

#[tokio::test]
async fn info_sender_can_disconnect_and_reports_a_closed_connection() {
    let (addr, probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    let sender = probe.sender(0);
    assert!(!sender.is_closed());
    sender.disconnect().unwrap();
    assert_eq!(ws.close_code().await, Some(1012));
    support::eventually(|| sender.is_closed()).await;
    assert_eq!(sender.send(Bump(1)), Err(SendError::Disconnected));
    assert_eq!(probe.log().closes, vec![CloseReason::Server]);
}
