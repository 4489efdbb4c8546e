//! Mount and events over a real WebSocket: typed parameters, errors that leave the connection
//! open and the state unchanged, push events, close reasons.

mod support;

use serde_json::json;
use support::{Ws, start, test_config};

#[tokio::test]
async fn mount_renders_with_path_and_query_params() {
    let (addr, probe) = start(test_config()).await;
    let (_ws, mounted) = Ws::mounted(addr, "/counter/42", "start=7").await;
    assert_eq!(mounted["v"], 2);
    assert_eq!(mounted["ver"], 0);
    assert_eq!(mounted["heartbeat_ms"], 30_000);
    assert_eq!(mounted["max_frame_bytes"], 65_536);
    let html = &djust_render::full_html(&mounted).unwrap();
    assert!(html.contains("<h1>Doc 42</h1>"), "{html}");
    assert!(html.contains(r#"<p id="count">7</p>"#), "{html}");
    assert_eq!(probe.log().connected_mounts, 1);
    assert!(
        probe.log().identities[0].2,
        "mount over the socket is connected"
    );
}

#[tokio::test]
async fn typed_event_updates_state_and_sends_a_patch() {
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.event("inc", json!({"by": 5})).await;
    let patch = ws.recv().await;
    assert_eq!(patch["t"], "patch");
    assert_eq!(patch["ver"], 1);
    assert!(patch["diff"].to_string().contains("\"5\""), "{patch}");
    // A string that holds a number is accepted for an integer parameter (dj-value-* are strings).
    ws.event("inc", json!({"by": "2", "extra": "ignored"}))
        .await;
    let patch = ws.recv().await;
    assert_eq!(patch["ver"], 2);
    assert!(ws.state_html().await.contains(r#"<p id="count">7</p>"#));
}

#[tokio::test]
async fn optional_parameters_and_async_handlers() {
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.event("set_name", json!({"name": "ann"})).await;
    assert_eq!(ws.recv().await["t"], "patch");
    ws.event("set_name", json!({"name": "bob", "suffix": "!"}))
        .await;
    assert_eq!(ws.recv().await["t"], "patch");
    assert!(ws.state_html().await.contains(r#"<p id="name">bob!</p>"#));
}

#[tokio::test]
async fn wrong_or_missing_param_is_an_error_frame_and_changes_nothing() {
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "start=3").await;
    ws.send(json!({"t": "event", "ref": 9, "name": "inc", "payload": {"by": "abc"}}))
        .await;
    let err = ws.recv().await;
    assert_eq!(err["t"], "error");
    assert_eq!(err["ref"], 9);
    assert_eq!(err["code"], "bad_params");
    assert_eq!(
        err["message"],
        "event `inc`: parameter `by`: expected i64, got string \"abc\""
    );
    ws.event("inc", json!({})).await;
    let err = ws.recv().await;
    assert_eq!(err["code"], "bad_params");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("`inc`") && msg.contains("`by`") && msg.contains("missing"),
        "{msg}"
    );
    ws.send(json!({"t": "event", "name": "inc", "payload": [1, 2]}))
        .await;
    assert_eq!(ws.recv().await["code"], "bad_params");
    // Still connected, state untouched, and no patch was sent for the failed events.
    let html = ws.state_html().await;
    assert!(html.contains(r#"<p id="count">3</p>"#), "{html}");
    ws.event("inc", json!({"by": 1})).await;
    let patch = ws.recv().await;
    assert_eq!(
        (patch["t"].as_str(), patch["ver"].as_u64()),
        (Some("patch"), Some(1))
    );
}

#[tokio::test]
async fn unknown_event_and_malformed_json_keep_the_connection() {
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.send(json!({"t": "event", "ref": "a", "name": "nope", "payload": {}}))
        .await;
    let err = ws.recv().await;
    assert_eq!(
        (err["code"].as_str(), err["ref"].as_str()),
        (Some("unknown_event"), Some("a"))
    );
    assert!(err["message"].as_str().unwrap().contains("`nope`"));
    ws.send_text("{not json").await;
    assert_eq!(ws.recv().await["code"], "bad_json");
    ws.send(json!({"t": "teleport"})).await;
    assert_eq!(ws.recv().await["code"], "bad_json");
    ws.send(json!({"t": "mount", "v": 2, "path": "/counter/2"}))
        .await;
    assert_eq!(ws.recv().await["code"], "already_mounted");
    ws.event("inc", json!({"by": 1})).await;
    assert_eq!(ws.recv().await["t"], "patch");
}

#[tokio::test]
async fn handler_error_is_reported() {
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.event("fail", json!({})).await;
    let err = ws.recv().await;
    assert_eq!(err["code"], "handler_error");
    assert!(err["message"].as_str().unwrap().contains("always fails"));
}

#[tokio::test]
async fn push_event_travels_with_the_patch_or_alone() {
    let (addr, probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "start=4").await;
    // No DOM change: a `push` frame.
    ws.event("push", json!({"name": "flash"})).await;
    let frame = ws.recv().await;
    assert_eq!(
        frame,
        json!({"t": "push", "events": [{"name": "flash", "payload": {"count": 4}}]})
    );
    // A change and a push in the same tick: one `patch` frame carrying the event.
    let sender = probe.sender(0);
    sender.send(support::views::Bump(1)).unwrap();
    sender.send(support::views::PushMsg("after_bump")).unwrap();
    let frame = ws.recv().await;
    assert_eq!(frame["t"], "patch");
    assert_eq!(
        frame["events"],
        json!([{"name": "after_bump", "payload": {"count": 5}}])
    );
}

#[tokio::test]
async fn heartbeat_is_answered_and_reaches_the_view() {
    let (addr, probe) = start(test_config()).await;
    let mut ws = Ws::connect(addr).await;
    // Before mount too.
    ws.send(json!({"t": "heartbeat", "ref": 1})).await;
    assert_eq!(ws.recv().await, json!({"t": "heartbeat", "ref": 1}));
    ws.mount("/counter/1", "").await;
    ws.send(json!({"t": "heartbeat", "ref": 2})).await;
    assert_eq!(ws.recv().await, json!({"t": "heartbeat", "ref": 2}));
    assert_eq!(probe.log().heartbeats, 1);
}

#[tokio::test]
async fn mount_errors_close_with_a_refusal_code() {
    let (addr, _probe) = start(test_config()).await;
    let mut ws = Ws::connect(addr).await;
    ws.send(json!({"t": "mount", "v": 2, "path": "/nowhere"}))
        .await;
    assert_eq!(ws.recv().await["code"], "not_found");
    assert_eq!(ws.close_code().await, Some(4400));

    let mut ws = Ws::connect(addr).await;
    ws.send(json!({"t": "mount", "v": 2, "path": "/counter/404"}))
        .await;
    assert_eq!(ws.recv().await["code"], "not_found");
    assert_eq!(ws.close_code().await, Some(4400));

    let mut ws = Ws::connect(addr).await;
    ws.send(json!({"t": "mount", "v": 2, "path": "/counter/abc"}))
        .await;
    let err = ws.recv().await;
    assert_eq!(err["code"], "mount_failed");
    assert!(
        err["message"].as_str().unwrap().contains("`doc_id`"),
        "{err}"
    );

    let mut ws = Ws::connect(addr).await;
    ws.send(json!({"t": "mount", "v": 1, "path": "/counter/1"}))
        .await;
    assert_eq!(ws.recv().await["code"], "unsupported_version");
    assert_eq!(ws.close_code().await, Some(4400));

    let mut ws = Ws::connect(addr).await;
    ws.event("inc", json!({"by": 1})).await;
    assert_eq!(ws.recv().await["code"], "not_mounted");
}

#[tokio::test]
async fn close_reasons_tell_clean_from_abnormal() {
    let (addr, probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    assert_eq!(
        ws.close(1001).await,
        Some(1001),
        "the server answers the Close"
    );
    let (ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.drop_abruptly();
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.event("kick", json!({})).await;
    assert_eq!(ws.close_code().await, Some(1012));
    // terminate runs right after the close; the abrupt drop is noticed a moment later.
    support::eventually(|| probe.log().closes.len() == 3).await;
    let closes = probe.log().closes.clone();
    assert!(
        closes.contains(&djust::CloseReason::Client { code: Some(1001) }),
        "{closes:?}"
    );
    assert!(
        closes.contains(&djust::CloseReason::ConnectionLost),
        "{closes:?}"
    );
    assert!(closes.contains(&djust::CloseReason::Server), "{closes:?}");
    // 1000, 1001 (page unload) or no code is a leave; the client's 4000/4001 mean "I will
    // reconnect" and go through the reconnect grace like a drop.
    for code in [None, Some(1000), Some(1001)] {
        assert!(djust::CloseReason::Client { code }.is_clean(), "{code:?}");
    }
    for code in [4000, 4001, 1002] {
        assert!(
            !djust::CloseReason::Client { code: Some(code) }.is_clean(),
            "{code}"
        );
    }
    assert!(!djust::CloseReason::ConnectionLost.is_clean());
    assert!(!djust::CloseReason::SendTimeout.is_clean());
}
