//! Above `cursor_limit`, the cursors on the pages keep their places while they move
//! (`cursor_linger`), and the moves of a cursor no page shows cost no render and no frame. A
//! binary of its own: it counts renders through the process-wide metrics.

mod support;

use std::time::Duration;

use serde_json::json;
use support::cursor_room::{cursor_move, drain, html, join, start_lingering};

/// The process's render count, from `GET /metrics`.
async fn renders(app: &djust::axum::Router) -> f64 {
    let text = support::get(app.clone(), "/metrics", &[]).await.2;
    text.lines()
        .find_map(|l| l.strip_prefix("djust_render_seconds_count ")?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn above_the_cursor_limit_a_culled_mover_costs_the_viewers_no_frame() {
    // The engine's clock does not move: the listed cursors linger, so the listing is stable.
    let (addr, _engine, app) = start_lingering(2, Duration::from_secs(1)).await;
    let mut viewer = join(addr, "9:vera").await;
    let mut users = Vec::new();
    for (i, name) in ["ann", "bob", "cy"].iter().enumerate() {
        users.push(join(addr, &format!("{}:{name}", i + 1)).await);
    }
    cursor_move(&mut users[0], json!({"x": 1, "y": 0})).await;
    cursor_move(&mut users[1], json!({"x": 2, "y": 0})).await;
    drain(&mut viewer).await;
    let page = html(&mut viewer).await;
    assert!(
        page.contains("ann@1,0") && page.contains("bob@2,0"),
        "{page}"
    );
    drain(&mut viewer).await;
    // Cy is third: above the limit, and ann and bob still move, so his moves reach no page and
    // the viewer gets nothing (no render, no patch).
    // No connection renders for them either (this binary has no other test, so the
    // process-wide render count is this test's).
    let renders_before = renders(&app).await;
    for x in 0..5 {
        cursor_move(&mut users[2], json!({"x": 100 + x, "y": 0})).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let frames = drain(&mut viewer).await;
    assert!(frames.is_empty(), "culled moves sent {frames:?}");
    assert_eq!(
        renders(&app).await,
        renders_before,
        "culled moves re-rendered"
    );
    // A listed cursor's move still takes the fast path.
    cursor_move(&mut users[0], json!({"x": 7, "y": 0})).await;
    let frames = drain(&mut viewer).await;
    assert!(
        frames.iter().any(|f| f["t"] == "cursors"),
        "listed move: {frames:?}"
    );
    let page = html(&mut viewer).await;
    assert!(!page.contains("cy@"), "{page}");
}
