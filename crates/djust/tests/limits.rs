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
    // Plain `axum::serve` (the test server) has no lingering close: the read buffer must take
    // the whole oversized frame, or the kernel may reset the connection before the client reads
    // the refusal. `djust::Server` drains instead (tests/serve.rs, with the 1 KiB default).
    let mut config = test_config().with_max_frame_bytes(2048);
    config.ws_read_buffer = 8192;
    let (addr, probe) = start(config).await;
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

/// The head of the answer to a raw HTTP/1.1 request to `/djust/ws` with `headers`.
async fn ws_head(addr: std::net::SocketAddr, headers: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET /djust/ws HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("an answer")
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// The status line and body of a raw HTTP/1.1 request to `/djust/ws` with `headers`.
async fn ws_answer(addr: std::net::SocketAddr, headers: &str) -> (String, String) {
    let text = ws_head(addr, headers).await;
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[tokio::test]
async fn requests_that_are_not_websocket_handshakes_are_refused_with_the_reason() {
    let (addr, _probe) = start(test_config()).await;
    let (status, body) = ws_answer(addr, "").await;
    assert!(status.contains(" 400 "), "{status}");
    assert!(
        body.contains("Connection header did not include 'upgrade'"),
        "{body}"
    );
    let upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let (status, body) = ws_answer(addr, &format!("{upgrade}Sec-WebSocket-Version: 8\r\n")).await;
    assert!(status.contains(" 400 "), "{status}");
    assert!(body.contains("Sec-WebSocket-Version"), "{body}");
    let (status, body) = ws_answer(
        addr,
        "Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n",
    )
    .await;
    assert!(status.contains(" 400 "), "{status}");
    assert!(body.contains("Sec-WebSocket-Key"), "{body}");
    // A valid handshake: 101 with the accept key of RFC 6455's own example.
    let (status, _) = ws_answer(addr, &format!("{upgrade}Sec-WebSocket-Version: 13\r\n")).await;
    assert!(status.contains(" 101 "), "{status}");
    assert!(
        ws_head(addr, &format!("{upgrade}Sec-WebSocket-Version: 13\r\n"))
            .await
            .to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "the accept key of RFC 6455 §1.3's example"
    );
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

/// A client frame by hand: FIN, `opcode` (plus `extra_bits` in the first byte), masked with a
/// zero key (so the payload stays as written).
fn raw_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let len = u8::try_from(payload.len()).expect("short payload");
    let mut frame = vec![first_byte, 0x80 | len, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    let (addr, probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.write_raw(&raw_frame(0x81, &[b'{', 0xff, 0xfe, b'}']))
        .await;
    assert_eq!(ws.close_code().await, Some(1007));
    support::eventually(|| !probe.log().closes.is_empty()).await;
    assert_eq!(probe.log().closes, vec![CloseReason::ProtocolViolation]);
}

#[tokio::test]
async fn bad_control_frames_close_with_1002() {
    let (addr, _probe) = start(test_config()).await;
    // A fragmented ping (FIN unset): control frames must not be fragmented.
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.write_raw(&raw_frame(0x09, b"hi")).await;
    assert_eq!(ws.close_code().await, Some(1002));
    // Reserved bits set without an extension.
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.write_raw(&raw_frame(0xC1, b"{}")).await;
    assert_eq!(ws.close_code().await, Some(1002));
    // Before mount too.
    let mut ws = Ws::connect(addr).await;
    ws.write_raw(&raw_frame(0x8B, b"")).await; // reserved opcode 0xB
    assert_eq!(ws.close_code().await, Some(1002));
    let mut ws = Ws::connect(addr).await;
    ws.write_raw(&raw_frame(0x81, &[0xc3, 0x28])).await;
    assert_eq!(ws.close_code().await, Some(1007));
}

#[tokio::test]
async fn coalesced_events_with_names_the_view_lacks_are_refused_not_held() {
    let (addr, probe) = start(test_config().with_rate_limit(1, 1)).await;
    let (mut ws, _) = Ws::mounted(addr, "/cursor", "").await;
    let sender = probe.sender(0);
    ws.send(json!({"t": "event", "name": "cursor_move", "payload": {"x": 1, "y": 1}}))
        .await;
    assert_eq!(ws.recv().await["t"], "patch", "the only token");
    for i in 0..200 {
        let name = format!("{}{i}", "z".repeat(30_000));
        ws.send(json!({"t": "event", "name": name, "coalesce": true, "payload": {}}))
            .await;
    }
    let frames = drain(&mut ws, Duration::from_millis(300)).await;
    assert_eq!(frames.len(), 200, "one error per unknown name");
    assert!(
        frames.iter().all(|f| f["code"] == "unknown_event"),
        "{:?}",
        frames[0]
    );
    assert_eq!(sender.stats().held_events, 0, "nothing was held");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_within_the_send_timeout() {
    let send_timeout = Duration::from_secs(1);
    let config = test_config()
        .with_send_timeout(send_timeout)
        .with_info_queue(16)
        .with_rate_limit(10_000, 10_000);
    let (addr, probe) = start(config).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    let sender = probe.sender(0);
    // 48 KB names: every event is a large patch the client never reads. Once its socket
    // buffers are full the server's send blocks, the server stops reading and so our own
    // send blocks: that is when the deadline starts at the latest.
    let name = "x".repeat(48_000);
    let mut sent = 0;
    while ws
        .send_within(
            json!({"t": "event", "name": "set_name", "payload": {"name": name, "suffix": sent.to_string()}}),
            Duration::from_millis(500),
        )
        .await
    {
        sent += 1;
        assert!(sent < 5_000, "the server never stopped reading");
    }
    let blocked = tokio::time::Instant::now();
    // The room keeps changing: the info queue fills up to its bound, and no further.
    let mut full = 0;
    for i in 0..1_000 {
        if let Err(djust::SendError::Full { capacity }) = sender.send(support::views::Bump(i)) {
            assert_eq!(capacity, 16);
            full += 1;
        }
        let stats = sender.stats();
        assert!(stats.info_queued <= 16, "{stats:?}");
    }
    assert!(
        full > 900,
        "the blocked connection refused the rest: {full}"
    );
    support::eventually(|| !probe.log().closes.is_empty()).await;
    let waited = blocked.elapsed();
    assert!(
        waited <= send_timeout + Duration::from_millis(500),
        "closed {waited:?} after the client stopped reading"
    );
    let closes = probe.log().closes.clone();
    assert_eq!(closes, vec![CloseReason::SendTimeout]);
    assert!(
        !closes[0].is_clean(),
        "a drop: presence goes through the grace"
    );
    // The Close frame gets at most a second to go out, then the socket is dropped.
    support::eventually(|| sender.is_closed()).await;
}
