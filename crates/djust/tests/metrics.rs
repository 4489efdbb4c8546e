//! Connection metrics (`docs/operations.md`): frames in and out by kind, render times, info
//! queue depths and rate-limited events, read through `GET /metrics`. A binary of its own: the
//! series are process-wide, so no other test may move them meanwhile.

mod support;

use support::{Probe, Ws, get, router, serve, test_config};

/// The value of the sample whose name and labels are exactly `series` (e.g.
/// `djust_frames_out_total{kind="patch"}`); 0 when absent.
fn series(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_frames_renders_queue_depths_and_rate_limits() {
    let probe = Probe::default();
    let app = router(test_config().with_rate_limit(1, 1), probe.clone());
    let addr = serve(app.clone()).await;
    let scrape = || {
        let app = app.clone();
        async move { get(app, "/metrics", &[]).await.2 }
    };
    let before = scrape().await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    ws.event("inc", serde_json::json!({"by": 1})).await;
    assert_eq!(ws.recv().await["t"], "patch");
    // No token left: refused, and counted.
    ws.event("inc", serde_json::json!({"by": 1})).await;
    assert_eq!(ws.recv().await["code"], "rate_limited");
    probe
        .sender(0)
        .send(support::views::Bump(5))
        .expect("queued");
    assert_eq!(ws.recv().await["t"], "patch");
    let after = scrape().await;
    let delta = |name: &str| series(&after, name) - series(&before, name);
    assert!(delta("djust_frames_in_total") >= 3.0, "{after}");
    assert!(delta("djust_bytes_in_total") > 50.0, "{after}");
    assert!(
        delta("djust_frames_out_total{kind=\"mounted\"}") >= 1.0,
        "{after}"
    );
    assert!(
        delta("djust_frames_out_total{kind=\"patch\"}") >= 2.0,
        "{after}"
    );
    assert!(
        delta("djust_frames_out_total{kind=\"error\"}") >= 1.0,
        "{after}"
    );
    assert!(delta("djust_bytes_out_total") > 100.0, "{after}");
    assert!(delta("djust_render_seconds_count") >= 2.0, "{after}");
    assert!(
        delta("djust_queue_depth_count{queue=\"info\"}") >= 1.0,
        "{after}"
    );
    assert!(delta("djust_rate_limited_total") >= 1.0, "{after}");
}
