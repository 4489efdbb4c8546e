//! `djust::Server` over real sockets: the shutdown (Close 1012, `terminate`, the deadline),
//! connection limits (503 / 1013), the header-read timeout (slowloris, silent sockets), the
//! lingering close (a refused frame's 1009 reaches a client that reads late).

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::routing::get;
use djust::{
    CloseReason, Context, Djust, DjustConfig, DjustHandle, LiveView, MountRequest, ServeOptions,
    Server, Socket, ViewError,
};
use futures_util::StreamExt;
use support::{FRAME_WAIT, Ws};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite;

/// `terminate` reasons seen by the views (app state).
#[derive(Clone, Default)]
struct Closes(Arc<Mutex<Vec<CloseReason>>>);

/// A view whose `terminate` records its reason and, with `?hang=1`, never returns.
struct Stubborn {
    hang: bool,
}

impl LiveView for Stubborn {
    const TEMPLATE: &'static str = "stubborn.html";

    async fn mount(req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Self {
            hang: req.query.get_opt::<u8>("hang")?.unwrap_or(0) == 1,
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Ok(Context::new())
    }

    async fn terminate(&mut self, reason: &CloseReason, socket: &mut Socket) {
        if let Some(closes) = socket.state::<Closes>() {
            closes.0.lock().unwrap().push(reason.clone());
        }
        if self.hang {
            std::future::pending::<()>().await;
        }
    }
}

#[djust::event_handlers]
impl Stubborn {}

/// A view whose page is [`BIG_PAGE`] bytes: its `mounted` frame outgrows a small receive buffer.
struct Big;

const BIG_PAGE: usize = 64 * 1024;

impl LiveView for Big {
    const TEMPLATE: &'static str = "big.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Self)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("big", &"x".repeat(BIG_PAGE))?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl Big {}

fn app(config: DjustConfig) -> (axum::Router, DjustHandle, Closes) {
    let closes = Closes::default();
    let (router, handle) = Djust::builder()
        .config(config)
        .templates_embedded([
            ("stubborn.html", "<p>live</p>"),
            ("big.html", "<p>{{ big }}</p>"),
        ])
        .state(closes.clone())
        .live::<Stubborn>("/s")
        .live::<Big>("/big")
        .into_parts()
        .expect("app builds");
    let router = router.route(
        "/peer",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
    );
    (router, handle, closes)
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: JoinHandle<Result<(), djust::ServeError>>,
    closes: Closes,
}

impl Running {
    /// Triggers the shutdown; returns how long `run` took to return.
    async fn shut_down(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().expect("not stopped yet").send(());
        tokio::time::timeout(Duration::from_secs(30), self.done)
            .await
            .expect("run returns")
            .expect("no panic")
            .expect("no error");
        started.elapsed()
    }
}

async fn start(options: ServeOptions) -> Running {
    start_with(options, DjustConfig::default()).await
}

async fn start_with(options: ServeOptions, config: DjustConfig) -> Running {
    let (router, handle, closes) = app(config);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = Server::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .options(options)
        .shutdown_signal(async move {
            let _ = stopped.await;
        });
    let addr = server.local_addr().expect("addr");
    let done = tokio::spawn(server.run(router, handle));
    Running {
        addr,
        stop: Some(stop),
        done,
        closes,
    }
}

/// A raw HTTP/1.1 GET; returns the status code.
async fn status_of(addr: SocketAddr, path: &str) -> u16 {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(FRAME_WAIT, tcp.read_to_end(&mut raw))
        .await
        .expect("answer within FRAME_WAIT")
        .expect("read");
    let text = String::from_utf8_lossy(&raw);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

/// Polls `cond` every 20 ms until it holds; panics after [`FRAME_WAIT`] (a hang guard).
async fn eventually_async<F: std::future::Future<Output = bool>>(mut cond: impl FnMut() -> F) {
    let deadline = Instant::now() + FRAME_WAIT;
    while !cond().await {
        assert!(
            Instant::now() < deadline,
            "condition not met within {FRAME_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads until the server closes `tcp`; returns when that happened (or panics after `limit`).
async fn closed_within(tcp: &mut (impl AsyncReadExt + Unpin), limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, tcp.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the server kept the socket open for {limit:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_closes_every_websocket_with_1012_after_terminate() {
    let server = start(ServeOptions::default()).await;
    let (mut a, _) = Ws::mounted(server.addr, "/s", "").await;
    let (mut b, _) = Ws::mounted(server.addr, "/s", "").await;
    assert_eq!(status_of(server.addr, "/peer").await, 200);
    let closes = server.closes.clone();
    let took = server.shut_down().await;
    assert_eq!(a.close_code().await, Some(1012));
    assert_eq!(b.close_code().await, Some(1012));
    assert_eq!(
        *closes.0.lock().unwrap(),
        [CloseReason::Server, CloseReason::Server],
        "terminate ran for every view"
    );
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_ends_at_its_deadline_when_a_view_never_finishes() {
    let deadline = Duration::from_millis(800);
    let server = start(ServeOptions::default().with_shutdown_timeout(deadline)).await;
    let (_stuck, _) = Ws::mounted(server.addr, "/s", "hang=1").await;
    let took = server.shut_down().await;
    assert!(
        took >= deadline.mul_f32(0.7) && took < deadline + Duration::from_millis(500),
        "returned after {took:?}, deadline {deadline:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_over_the_per_client_limit_gets_503_or_close_1013() {
    let server = start(ServeOptions::default().with_max_connections_per_ip(2)).await;
    let (mut a, _) = Ws::mounted(server.addr, "/s", "").await;
    let (_b, _) = Ws::mounted(server.addr, "/s", "").await;
    // Third connection from 127.0.0.1: a page request is refused with 503 ...
    assert_eq!(status_of(server.addr, "/peer").await, 503);
    // ... and a WebSocket is accepted and closed with 1013 "try again later".
    let mut third = Ws::connect(server.addr).await;
    assert_eq!(third.close_code().await, Some(1013));
    // A slot frees when a connection closes.
    assert_eq!(a.close(1000).await, Some(1000));
    drop(a);
    eventually_async(|| async { status_of(server.addr, "/peer").await == 200 }).await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_over_the_global_limit_is_refused_with_its_reason() {
    let server = start(ServeOptions::default().with_max_connections(1)).await;
    let (_a, _) = Ws::mounted(server.addr, "/s", "").await;
    let (mut refused, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/djust/ws", server.addr))
            .await
            .expect("the handshake itself succeeds");
    let msg = tokio::time::timeout(FRAME_WAIT, refused.next())
        .await
        .expect("a close frame")
        .expect("a message")
        .expect("ok");
    let tungstenite::Message::Close(Some(frame)) = msg else {
        panic!("expected a Close frame, got {msg:?}");
    };
    assert_eq!(u16::from(frame.code), 1013);
    assert!(
        frame.reason.contains("limit of 1 connections"),
        "{}",
        frame.reason
    );
    assert_eq!(status_of(server.addr, "/peer").await, 503);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_request_and_a_silent_socket_are_closed_after_the_header_timeout() {
    let timeout = Duration::from_millis(500);
    let server = start(ServeOptions::default().with_header_read_timeout(timeout)).await;
    // Headers dribbled in, one line every 100 ms, never finished.
    let slow = TcpStream::connect(server.addr).await.expect("connect");
    let (mut slow_read, mut slow_write) = slow.into_split();
    slow_write
        .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let dribble = tokio::spawn(async move {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow_write.write_all(b"X-Slow: 1\r\n").await.is_err() {
                break;
            }
        }
    });
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let limit = Duration::from_secs(5);
    let (slow_took, silent_took) = tokio::join!(
        closed_within(&mut slow_read, limit),
        closed_within(&mut silent, limit)
    );
    dribble.abort();
    for (what, took) in [("slowloris", slow_took), ("silent", silent_took)] {
        assert!(
            took >= timeout.mul_f32(0.8) && took < timeout * 4,
            "{what} socket closed after {took:?} (header timeout {timeout:?})"
        );
    }
    // A normal request still works.
    assert_eq!(status_of(server.addr, "/peer").await, 200);
    server.shut_down().await;
}

/// An oversized frame far larger than the (1 KiB default) read buffer: the client is still
/// sending it when the server refuses it, and still gets the error frame and Close 1009. (The
/// TCP-level reset this could cause is tested in `serve/linger.rs`; `tests/limits.rs` shows the
/// plain `axum::serve` case, which needs a read buffer that takes the whole frame.)
#[tokio::test]
async fn a_frame_far_over_the_limit_gets_its_error_and_1009_with_the_default_read_buffer() {
    let config = DjustConfig::default().with_max_frame_bytes(4096);
    assert!(
        config.ws_read_buffer <= 4096,
        "the default read buffer is small"
    );
    let server = start_with(ServeOptions::default(), config).await;
    for size in [20_000, 300_000] {
        let (mut ws, _) = Ws::mounted(server.addr, "/s", "").await;
        let big =
            serde_json::json!({"t": "event", "name": "x", "payload": {"v": "y".repeat(size)}});
        ws.send(big).await;
        let err = ws.recv().await;
        assert_eq!(err["code"], "frame_too_large", "{size} bytes: {err}");
        assert_eq!(ws.close_code().await, Some(1009), "{size} bytes");
    }
    server.shut_down().await;
}

/// The lingering close (`serve/linger.rs`) where it matters: the client mounts a page larger
/// than its (small) receive buffer and, before reading anything, sends a frame far over the
/// limit. When the server refuses it, its `mounted` tail, the error frame and the 1009 Close
/// are still in the server's send queue (the client's window is shut), and the client's frame
/// is still arriving. A plain close would then reset the connection, and a reset discards the
/// unsent queue: the client would read part of `mounted`, then "connection reset". With the
/// lingering close (FIN after the queue, the client's input drained) it reads all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_late_still_gets_the_1009_of_its_oversized_frame() {
    use futures_util::SinkExt;
    let config = DjustConfig::default().with_max_frame_bytes(4096);
    let server = start_with(ServeOptions::default(), config).await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let tcp = socket.connect(server.addr).await.expect("connect");
    let url = format!("ws://{}/djust/ws", server.addr);
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp)
        .await
        .expect("handshake");
    let mount = serde_json::json!({"t": "mount", "v": 2, "path": "/big", "query": ""});
    ws.send(tungstenite::Message::text(mount.to_string()))
        .await
        .expect("send mount");
    let big = serde_json::json!({"t": "event", "name": "x", "payload": {"v": "y".repeat(300_000)}});
    // Without the lingering close this send may fail (the reset); the reads below tell.
    let _ = ws.send(tungstenite::Message::text(big.to_string())).await;

    let mut got = Vec::new();
    let close = loop {
        match tokio::time::timeout(FRAME_WAIT, ws.next()).await {
            Ok(Some(Ok(tungstenite::Message::Text(text)))) => {
                let frame: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                got.push(frame["t"].as_str().unwrap_or_default().to_owned());
                if frame["t"] == "error" {
                    assert_eq!(frame["code"], "frame_too_large", "{frame}");
                }
            }
            Ok(Some(Ok(tungstenite::Message::Close(frame)))) => {
                break frame.map(|f| u16::from(f.code));
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("after {got:?}: {e} (the reset a plain close causes)"),
            Ok(None) => panic!("after {got:?}: the stream ended without a Close"),
            Err(_) => panic!("after {got:?}: nothing within {FRAME_WAIT:?}"),
        }
    };
    assert_eq!(got, ["mounted", "error"]);
    assert_eq!(close, Some(1009));
    server.shut_down().await;
}
