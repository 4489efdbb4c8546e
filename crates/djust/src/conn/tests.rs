//! Connection-task tests on paused tokio time with an in-memory transport: timeouts, tick
//! coalescing and rate-limit release times are checked exactly, without real sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Message;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{ConnInit, Transport};
use crate::app::App;
use crate::config::DjustConfig;
use crate::routes::{Routes, ViewEntry};
use crate::session::{Identity, Sessions};
use crate::template::{DEFAULT_LAYOUT, TemplateSources, Templates};
use crate::{CloseReason, Context, LiveView, MountRequest, Socket, ViewError};

pub(super) struct Fake {
    rx: mpsc::UnboundedReceiver<Message>,
    tx: mpsc::UnboundedSender<Message>,
}

impl Transport for Fake {
    async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        self.rx.recv().await.map(Ok)
    }

    async fn send(&mut self, msg: Message) -> Result<(), axum::Error> {
        self.tx.send(msg).map_err(axum::Error::new)
    }

    async fn flush(&mut self) {}
}

/// The info senders of mounted views (when registered as app state).
#[derive(Clone, Default)]
pub(super) struct Senders(pub(super) Arc<Mutex<Vec<crate::InfoSender>>>);

#[derive(Clone, Default)]
pub(super) struct Closes(pub(super) Arc<Mutex<Vec<CloseReason>>>);

pub(super) struct View {
    n: i64,
    x: i64,
}

impl LiveView for View {
    const TEMPLATE: &'static str = "t.html";

    async fn mount(_req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        if let Some(senders) = socket.state::<Senders>() {
            senders.0.lock().unwrap().push(socket.info_sender());
        }
        Ok(View { n: 0, x: -1 })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("n", &self.n)?.insert("x", &self.x)?;
        Ok(ctx)
    }

    async fn terminate(&mut self, reason: &CloseReason, socket: &mut Socket) {
        if let Some(closes) = socket.state::<Closes>() {
            closes.0.lock().unwrap().push(reason.clone());
        }
    }
}

#[djust::event_handlers]
impl View {
    #[event_handler]
    fn inc(&mut self) {
        self.n += 1;
    }

    /// Claims to change nothing on the page (it does change `n`, so a test can see whether
    /// the view was re-rendered).
    #[event_handler(render = false)]
    fn quiet_inc(&mut self) {
        self.n += 1;
    }

    #[event_handler]
    fn cursor_move(&mut self, x: i64) {
        self.x = x;
    }
}

/// The client end of a fake connection.
pub(super) struct Client {
    pub(super) tx: mpsc::UnboundedSender<Message>,
    pub(super) rx: mpsc::UnboundedReceiver<Message>,
}

impl Client {
    pub(super) fn send(&self, frame: Value) {
        self.tx
            .send(Message::Text(frame.to_string().into()))
            .unwrap();
    }

    /// The next message, or `None` if nothing arrives within `within` (of paused time).
    pub(super) async fn recv_within(&mut self, within: Duration) -> Option<Message> {
        tokio::time::timeout(within, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    pub(super) async fn recv_json(&mut self) -> Value {
        match self.recv_within(Duration::from_secs(3600)).await {
            Some(Message::Text(t)) => serde_json::from_str(&t).unwrap(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

pub(super) fn start(config: DjustConfig, closes: Closes) -> Client {
    let mut state = http::Extensions::new();
    state.insert(closes);
    let presence = djust_presence::Presence::new(Default::default()).unwrap();
    start_with(config, state, presence, |routes| {
        routes
            .insert("/v", Arc::new(ViewEntry::<View>::new()))
            .unwrap();
    })
}

/// Templates of the test views: `t.html` (View) and `p.html` (the presence view of
/// `tests_limits.rs`).
fn templates() -> Templates {
    Templates::new(
        TemplateSources {
            dir: None,
            embedded: vec![
                ("t.html".into(), "<p>{{ n }}</p><i>{{ x }}</i>".into()),
                ("p.html".into(), "<p>{{ n }}</p>".into()),
            ],
        },
        DEFAULT_LAYOUT,
        [("t.html", "V"), ("p.html", "P")],
    )
    .unwrap()
}

/// A connection to an app with `state` and `presence`, its routes added by `add_routes`.
pub(super) fn start_with(
    config: DjustConfig,
    state: http::Extensions,
    presence: djust_presence::Presence,
    add_routes: impl FnOnce(&mut Routes<Fake>),
) -> Client {
    let app = test_app(config, state, presence);
    let mut routes = Routes::new();
    add_routes(&mut routes);
    let (client_tx, server_rx) = mpsc::unbounded_channel();
    let (server_tx, client_rx) = mpsc::unbounded_channel();
    let io = Fake {
        rx: server_rx,
        tx: server_tx,
    };
    tokio::spawn(super::run(io, app, Arc::new(routes), test_init()));
    Client {
        tx: client_tx,
        rx: client_rx,
    }
}

fn test_init() -> ConnInit {
    ConnInit {
        identity: Identity::new(None, "k".repeat(32)),
        headers: http::HeaderMap::new(),
    }
}

fn test_app(
    config: DjustConfig,
    state: http::Extensions,
    presence: djust_presence::Presence,
) -> Arc<App> {
    Arc::new(App {
        config,
        templates: templates(),
        sessions: Sessions::new(Some(&[7; 32]), false),
        state: Arc::new(state),
        layout: DEFAULT_LAYOUT.to_owned(),
        presence,
        sweeper: None,
    })
}

/// A connection's futures live (allocated) as long as it does, so they must hold its loop
/// state only: not the wait for the mount frame, not the mount (request, headers, first
/// render), not the arguments they were started with.
#[tokio::test]
async fn a_connection_keeps_no_mount_state_in_its_futures() {
    let presence = || djust_presence::Presence::new(Default::default()).unwrap();
    let app = test_app(DjustConfig::default(), http::Extensions::new(), presence());
    let fake = || {
        let (_, rx) = mpsc::unbounded_channel();
        let (tx, _) = mpsc::unbounded_channel();
        Fake { rx, tx }
    };
    let run = super::run(fake(), app.clone(), Arc::new(Routes::new()), test_init());
    assert!(
        std::mem::size_of_val(&run) <= 64,
        "the connection task holds {} bytes besides the view's future",
        std::mem::size_of_val(&run)
    );
    let target = super::MountTarget {
        path: "/v".into(),
        query: String::new(),
        params: crate::params::Params::default(),
        reference: None,
    };
    let serve = crate::routes::ServeView::serve(
        &ViewEntry::<View>::new(),
        fake(),
        app,
        test_init(),
        target,
    );
    // The loop state (`Live`) and the loop's own future: 1.7 KB here. (The collab editor's
    // over a WebSocket, by `-Zprint-type-sizes`: 6.6 KB with the mount inline, 2.4 KB now.)
    let size = std::mem::size_of_val(&*serve);
    assert!(size <= 2200, "a view's future is {size} bytes");
}

pub(super) async fn mounted(config: DjustConfig, closes: Closes) -> Client {
    let mut c = start(config, closes);
    c.send(json!({"t": "mount", "v": 2, "path": "/v"}));
    assert_eq!(c.recv_json().await["t"], "mounted");
    c
}

pub(super) fn close_code(msg: Option<Message>) -> Option<u16> {
    match msg {
        Some(Message::Close(Some(frame))) => Some(frame.code),
        other => panic!("expected a Close frame, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn idle_connection_times_out_and_heartbeats_keep_it_alive() {
    let closes = Closes::default();
    let mut c = mounted(DjustConfig::default(), closes.clone()).await;
    // Heartbeats every 50 s keep a 60 s idle timeout at bay.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(50)).await;
        c.send(json!({"t": "heartbeat", "ref": 1}));
        assert_eq!(c.recv_json().await["t"], "heartbeat");
    }
    let last = Instant::now();
    let msg = c.recv_within(Duration::from_secs(120)).await;
    assert_eq!(close_code(msg), Some(1001));
    assert_eq!(
        last.elapsed(),
        Duration::from_secs(60),
        "closed exactly at the timeout"
    );
    tokio::task::yield_now().await;
    assert_eq!(*closes.0.lock().unwrap(), vec![CloseReason::IdleTimeout]);
    assert!(!CloseReason::IdleTimeout.is_clean());
}

#[tokio::test(start_paused = true)]
async fn a_silent_connection_that_never_mounts_is_closed() {
    let mut c = start(DjustConfig::default(), Closes::default());
    let t0 = Instant::now();
    let msg = c.recv_within(Duration::from_secs(120)).await;
    assert_eq!(close_code(msg), Some(1001));
    assert_eq!(t0.elapsed(), Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn a_burst_renders_at_once_then_at_most_once_per_tick() {
    let tick = Duration::from_millis(40);
    let mut c = mounted(DjustConfig::default().with_tick(tick), Closes::default()).await;
    let t0 = Instant::now();
    for _ in 0..10 {
        c.send(json!({"t": "event", "name": "inc", "payload": {}}));
    }
    // The first change goes out at once (leading edge: nothing was sent this tick)...
    let first = c.recv_json().await;
    assert_eq!(t0.elapsed(), Duration::ZERO, "a lone change is not delayed");
    assert_eq!(first["ver"], 1);
    // ...the other nine, arriving within the same tick, make exactly one more frame, one tick
    // later (trailing edge).
    let second = c.recv_json().await;
    assert_eq!(t0.elapsed(), tick, "the rest waits for the end of the tick");
    assert_eq!(second["ver"], 2);
    assert!(second["diff"].to_string().contains("\"10\""), "{second}");
    assert!(
        c.recv_within(Duration::from_secs(1)).await.is_none(),
        "two frames for ten changes"
    );
}

#[tokio::test(start_paused = true)]
async fn a_held_cursor_move_is_delivered_when_a_token_frees() {
    let config = DjustConfig::default()
        .with_rate_limit(10, 1)
        .with_tick(Duration::from_millis(10));
    let mut c = mounted(config, Closes::default()).await;
    let t0 = Instant::now();
    for x in [1, 2, 3] {
        c.send(json!({"t": "event", "name": "cursor_move", "coalesce": true, "payload": {"x": x}}));
    }
    // x=1 takes the only token; x=2 is superseded by x=3, held until a token refills (100 ms).
    let first = c.recv_json().await;
    assert!(first["diff"].to_string().contains("\"1\""), "{first}");
    let second = c.recv_json().await;
    assert!(second["diff"].to_string().contains("\"3\""), "{second}");
    assert_eq!(
        t0.elapsed(),
        Duration::from_millis(100),
        "sent when the token frees at 100 ms (the last frame is more than a tick ago)"
    );
    assert!(
        c.recv_within(Duration::from_secs(1)).await.is_none(),
        "x=2 was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn client_close_frame_is_a_clean_close() {
    let closes = Closes::default();
    let c = mounted(DjustConfig::default(), closes.clone()).await;
    c.tx.send(Message::Close(Some(axum::extract::ws::CloseFrame {
        code: 1001,
        reason: "".into(),
    })))
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(
        *closes.0.lock().unwrap(),
        vec![CloseReason::Client { code: Some(1001) }]
    );
    drop(c);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_resync_waits_for_a_token_instead_of_being_dropped() {
    let config = DjustConfig::default()
        .with_rate_limit(10, 1)
        .with_tick(Duration::from_millis(10));
    let mut c = mounted(config, Closes::default()).await;
    let t0 = Instant::now();
    c.send(json!({"t": "event", "name": "inc", "payload": {}}));
    c.send(json!({"t": "resync", "ver": 0}));
    let patch = c.recv_json().await;
    assert_eq!(patch["t"], "patch");
    let render = c.recv_json().await;
    assert_eq!(render["t"], "render", "{render}");
    assert_eq!(render["ver"], 1);
    assert_eq!(
        t0.elapsed(),
        Duration::from_millis(100),
        "served when the token refilled"
    );
}

#[tokio::test(start_paused = true)]
async fn a_render_false_handler_does_not_re_render_the_view() {
    let mut c = mounted(DjustConfig::default(), Closes::default()).await;
    c.send(json!({"t": "event", "name": "quiet_inc", "payload": {}}));
    assert!(
        c.recv_within(Duration::from_secs(1)).await.is_none(),
        "no render, so no patch (although `n` changed)"
    );
    // The next ordinary event renders both changes.
    c.send(json!({"t": "event", "name": "inc", "payload": {}}));
    let patch = c.recv_json().await;
    assert!(patch["diff"].to_string().contains("\"2\""), "{patch}");
}
