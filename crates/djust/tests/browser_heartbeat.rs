//! In Chromium: a client whose heartbeat goes unanswered closes with 4000 and reconnects; the
//! server takes that close as "I will reconnect" (the reconnect grace), so peers see no leave
//! and no join.

mod support;

use std::time::Duration;

use djust_testkit::TestkitError;
use serde_json::Value;
use support::presence_views::room_router;
use support::{Ws, serve, test_config};

/// Push events named one of `names` arriving until `window` passes without a frame.
async fn collect(ws: &mut Ws, names: &[&str], window: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(frame) = ws.try_recv(window).await {
        if let Some(events) = frame["events"].as_array() {
            out.extend(
                events
                    .iter()
                    .filter(|e| names.iter().any(|n| e["name"] == *n))
                    .cloned(),
            );
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_timeout_reconnects_without_a_leave_or_join_for_peers() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    // A 300 ms heartbeat: the client gives up on an unanswered one within 600 ms.
    let config = test_config().with_heartbeat_interval(Duration::from_millis(300));
    let addr = serve(room_router(config, None)).await;
    let mut watcher = Ws::connect_with(addr, &[("x-test-user", "9:carol")])
        .await
        .expect("connect");
    watcher.mount("/room/1", "").await;

    let page = browser.new_context().await.expect("a Chromium context");
    let run = async {
        page.goto(&format!("http://{addr}/room/1")).await?;
        page.wait_for("window.djust && window.djust.connected")
            .await?;
        // Record the closes the client makes, and the mounts it does.
        page.eval(
            "window.__closes = []; const close = WebSocket.prototype.close; \
             WebSocket.prototype.close = function (code, reason) { \
               window.__closes.push(code); return close.call(this, code, reason); }; \
             return true",
        )
        .await?;
        let joined = collect(&mut watcher, &["joined"], Duration::from_millis(300)).await;
        assert_eq!(
            joined.len(),
            1,
            "the browser's user joined once: {joined:?}"
        );

        // The server stalls this connection for 700 ms: the heartbeat sent meanwhile goes
        // unanswered, the client closes with 4000 (by 600 ms), the server reads that Close
        // when the stall ends, and the client remounts 500 ms after its close.
        page.eval("return window.djust.pushEvent('stall', {ms: 700})")
            .await?;
        page.wait_for_within("window.__closes.indexOf(4000) >= 0", Duration::from_secs(3))
            .await?;
        page.wait_for("window.djust && window.djust.connected")
            .await?;
        Ok::<_, TestkitError>(())
    };
    run.await.expect("the heartbeat timeout and the reconnect");
    // Past the remount and well inside the 5 s grace.
    let events = collect(
        &mut watcher,
        &["left", "joined"],
        Duration::from_millis(2500),
    )
    .await;
    assert!(
        events.is_empty(),
        "peers saw the heartbeat-timeout reconnect: {events:?}"
    );
    let count = watcher.state_html().await;
    assert!(count.contains(r#"<p id="count">2</p>"#), "{count}");
    page.close().await.expect("close");
}
