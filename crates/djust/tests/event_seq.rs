//! Event sequence ids over the wire: a numbered event is answered with an `ack`; the same event
//! sent again — on the same connection or on a new one of the same identity, as the reference
//! client does after a reconnect — is acknowledged without running its handler twice; another
//! identity's client with the same id is its own sequence; unnumbered events get no `ack`.

mod support;

use std::time::Duration;

use djust::{Context, Djust, LiveView, MountRequest, Socket, ViewError};
use serde_json::{Value, json};
use support::{Ws, get, serve, session_cookie, test_config};

struct Counter {
    count: i64,
}

impl LiveView for Counter {
    const TEMPLATE: &'static str = "counter.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Self { count: 0 })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("count", &self.count)?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl Counter {
    #[event_handler]
    fn add(&mut self, by: i64) {
        self.count += by;
    }
}

fn router() -> axum::Router {
    Djust::builder()
        .config(test_config())
        .templates_embedded([("counter.html", "<p>{{ count }}</p>")])
        .live::<Counter>("/counter")
        .into_router()
        .expect("app builds")
}

/// A mounted connection with the session `cookie`.
async fn mounted(addr: std::net::SocketAddr, cookie: &str) -> Ws {
    let mut ws = Ws::connect_with(addr, &[("Cookie", cookie)])
        .await
        .expect("connect");
    let frame = ws.mount("/counter", "").await;
    assert_eq!(frame["t"], "mounted", "{frame}");
    ws
}

fn add(seq: u64, client: &str) -> Value {
    json!({"t": "event", "name": "add", "payload": {"by": 1}, "seq": seq, "client": client})
}

/// The `ack`, and the frames before it.
async fn until_ack(ws: &mut Ws) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let frame = ws.recv().await;
        if frame["t"] == "ack" {
            return (frame, before);
        }
        before.push(frame);
    }
}

#[tokio::test]
async fn a_resent_event_is_acknowledged_and_runs_once_per_identity() {
    let app = router();
    let (_, headers, _) = get(app.clone(), "/counter", &[]).await;
    let cookie = session_cookie(&headers);
    let addr = serve(app).await;

    let mut a = mounted(addr, &cookie).await;
    a.send(add(1, "page-1")).await;
    let (ack, _) = until_ack(&mut a).await;
    assert_eq!(ack, json!({"t": "ack", "client": "page-1", "seq": 1}));
    assert!(a.render_html().await.contains("<p>1</p>"));

    // The same event again on the same connection: acknowledged, not run.
    a.send(add(1, "page-1")).await;
    until_ack(&mut a).await;
    assert!(a.render_html().await.contains("<p>1</p>"));

    // The socket dies; the client re-sends event 1 and sends event 2 on a new connection of the
    // same identity: only event 2 runs (the new view starts from 0).
    a.drop_abruptly();
    let mut b = mounted(addr, &cookie).await;
    b.send(add(1, "page-1")).await;
    let (ack, _) = until_ack(&mut b).await;
    assert_eq!(ack["seq"], 1);
    b.send(add(2, "page-1")).await;
    let (ack, _) = until_ack(&mut b).await;
    assert_eq!(ack["seq"], 2);
    assert!(
        b.render_html().await.contains("<p>1</p>"),
        "only event 2 ran"
    );

    // Another identity (no cookie: a connection of its own) with the same client id is a
    // sequence of its own.
    let mut c = mounted(addr, "x=1").await;
    c.send(add(1, "page-1")).await;
    until_ack(&mut c).await;
    assert!(c.render_html().await.contains("<p>1</p>"));
}

#[tokio::test]
async fn unnumbered_events_and_bad_client_ids_get_no_ack() {
    let addr = serve(router()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter", "").await;
    ws.event("add", json!({"by": 2})).await;
    let patch = ws.recv().await;
    assert_eq!(patch["t"], "patch", "{patch}");
    ws.send(add(1, &"x".repeat(65))).await;
    let patch = ws.recv().await;
    assert_eq!(
        patch["t"], "patch",
        "handled, without deduplication: {patch}"
    );
    ws.expect_silence(Duration::from_millis(100)).await;
    assert!(ws.render_html().await.contains("<p>3</p>"));
}
