//! The room app of the cursor tests (`cursor_anchors`, `cursor_culling`): an engine with a
//! cursor limit on a manual clock, and WebSocket helpers to join, move and read the page.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use djust::presence::{Presence, PresenceConfig};
use djust_presence::ManualClock;
use serde_json::{Value, json};

use super::presence_views::presence_router;
use super::{Ws, serve, test_config};

pub const QUIET: Duration = Duration::from_millis(300);

/// A server whose engine lists at most `cursor_limit` cursors, without linger (each move goes
/// to the most recent mover).
pub async fn start(cursor_limit: usize) -> (SocketAddr, Presence) {
    let (addr, engine, _) = start_lingering(cursor_limit, Duration::ZERO).await;
    (addr, engine)
}

pub async fn start_lingering(
    cursor_limit: usize,
    cursor_linger: Duration,
) -> (SocketAddr, Presence, axum::Router) {
    let clock = ManualClock::new(djust_presence::Timestamp::from_millis(1_700_000_000_000));
    let engine = Presence::builder()
        .config(PresenceConfig {
            cursor_limit,
            cursor_linger,
            ..PresenceConfig::default()
        })
        .clock(Arc::new(clock))
        .build()
        .expect("engine");
    let app = presence_router(test_config(), engine.clone());
    let addr = serve(app.clone()).await;
    (addr, engine, app)
}

pub async fn join(addr: SocketAddr, user: &str) -> Ws {
    let mut ws = Ws::connect_with(addr, &[("x-test-user", user)])
        .await
        .expect("connect");
    ws.mount("/room/1", "").await;
    ws
}

pub async fn html(ws: &mut Ws) -> String {
    ws.send(json!({"t": "resync"})).await;
    loop {
        let frame = ws.recv().await;
        if frame["t"] == "render" {
            return djust_render::full_html(&frame).expect("html");
        }
    }
}

/// Drains what arrives within [`QUIET`].
pub async fn drain(ws: &mut Ws) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(f) = ws.try_recv(QUIET).await {
        out.push(f);
    }
    out
}

pub async fn cursor_move(ws: &mut Ws, payload: Value) {
    ws.send(json!({"t": "event", "ref": 5, "name": "cursor_move", "payload": payload, "coalesce": true}))
        .await;
}
