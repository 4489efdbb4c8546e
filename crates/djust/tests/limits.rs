//! Limits and hostile input: oversized frames, binary frames, the event rate limit (which must
//! never lose the last cursor position) and the Origin check.

mod support;

use std::time::Duration;

use djust::CloseReason;
use serde_json::{Value, json};
use support::{FRAME_WAIT, Ws, start, test_config};
use tokio_tungstenite::tungstenite;

#[tokio::test]
async fn oversized_frame_gets_an_error_and_close_1009() {
    let (addr, probe) = start(test_config().with_max_frame_bytes(2048)).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    // Just under the limit is fine.
    let name = "x".repeat(1900);
    ws.event("set_name", json!({ "name": name })).await;
    assert_eq!(ws.recv().await["t"], "patch");
    let big = json!({"t": "event", "name": "set_name", "payload": {"name": "y".repeat(5000)}});
    ws.send(big).await;
    let err = ws.recv().await;
    assert_eq!(err["code"], "frame_too_large", "{err}");
    assert!(err["message"].as_str().unwrap().contains("2048"));
    assert_eq!(ws.close_code().await, Some(1009));
    support::eventually(|| !probe.log().closes.is_empty()).await;
    assert_eq!(probe.log().closes, vec![CloseReason::ProtocolViolation]);
}

#[tokio::test]
async fn binary_frames_are_refused_without_closing() {
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.send_binary(vec![1, 2, 3]).await;
    assert_eq!(ws.recv().await["code"], "binary_unsupported");
    ws.event("inc", json!({"by": 1})).await;
    assert_eq!(ws.recv().await["t"], "patch");
}

/// Collects frames until `window` passes without one.
async fn drain(ws: &mut Ws, window: Duration) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(frame) = ws.try_recv(window).await {
        frames.push(frame);
    }
    frames
}

#[tokio::test]
async fn rate_limit_drops_floods_with_one_error_per_second() {
    let (addr, _probe) = start(test_config().with_rate_limit(2, 3)).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    for _ in 0..10 {
        ws.event("inc", json!({"by": 1})).await;
    }
    let frames = drain(&mut ws, Duration::from_millis(600)).await;
    let errors: Vec<_> = frames.iter().filter(|f| f["t"] == "error").collect();
    assert_eq!(
        errors.len(),
        1,
        "one rate_limited error per second: {frames:?}"
    );
    assert_eq!(errors[0]["code"], "rate_limited");
    // Only the burst went through.
    let html = ws.state_html().await;
    assert!(html.contains(r#"<p id="count">3</p>"#), "{html}");
}

#[tokio::test]
async fn rate_limit_keeps_the_last_cursor_position() {
    let (addr, _probe) = start(test_config().with_rate_limit(10, 5)).await;
    let (mut ws, _) = Ws::mounted(addr, "/cursor", "").await;
    for i in 0..40 {
        ws.send(
            json!({"t": "event", "name": "cursor_move", "coalesce": true,
                       "payload": {"x": i, "y": 1000 + i}}),
        )
        .await;
    }
    // The final position arrives once a token frees up (~100 ms at 10/s).
    let deadline = tokio::time::Instant::now() + FRAME_WAIT;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "final position never arrived"
        );
        let frame = ws.recv().await;
        assert_ne!(
            frame["t"], "error",
            "coalesced events are held, not refused: {frame}"
        );
        // `{{ x }},{{ y }}` are two slots: y = 1039 only for the last move.
        if frame.to_string().contains("\"1039\"") {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let html = ws.state_html().await;
    assert!(html.contains("39,1039"), "{html}");
    // Held events were coalesced: far fewer handler calls than moves sent.
    let moves: u64 = html
        .split(r#"<span id="moves">"#)
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse().ok())
        .expect("moves counter");
    assert!((6..=10).contains(&moves), "moves handled: {moves}");
}

#[tokio::test]
async fn cross_site_origin_is_refused() {
    let (addr, _probe) = start(test_config()).await;
    let err = Ws::connect_with(addr, &[("origin", "http://evil.example")])
        .await
        .err()
        .expect("a cross-site origin must be refused");
    match err {
        tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 403),
        other => panic!("expected HTTP 403, got {other:?}"),
    }
    let same = format!("http://{addr}");
    let mut ws = Ws::connect_with(addr, &[("origin", &same)])
        .await
        .expect("same origin");
    ws.mount("/counter/1", "").await;
}

#[tokio::test]
async fn allow_list_replaces_the_same_host_rule() {
    let config = test_config().with_allowed_origins(["https://app.example"]);
    let (addr, _probe) = start(config).await;
    let same = format!("http://{addr}");
    assert!(Ws::connect_with(addr, &[("origin", &same)]).await.is_err());
    let mut ws = Ws::connect_with(addr, &[("origin", "https://app.example")])
        .await
        .expect("allow-listed origin");
    ws.mount("/counter/1", "").await;
}
