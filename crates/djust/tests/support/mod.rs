//! Shared by the integration tests: a small set of test views, a server on 127.0.0.1:0 and a
//! WebSocket client that speaks the djust protocol.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod browser_views;
pub mod cursor_room;
pub mod dev_views;
pub mod presence_views;
pub mod text_burst;
pub mod text_pad;
pub mod views;

use std::net::SocketAddr;
use std::time::Duration;

use djust::DjustConfig;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use views::{Probe, router};

/// How long a test waits for a frame it expects before failing (a hang guard, not a timing
/// assertion: every expected frame arrives within milliseconds).
pub const FRAME_WAIT: Duration = Duration::from_secs(5);

/// Polls `cond` every 10 ms until it holds; panics after [`FRAME_WAIT`] (a hang guard).
pub async fn eventually(mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + FRAME_WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {FRAME_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The configuration most tests use: a fixed secret so cookies are predictable.
pub fn test_config() -> DjustConfig {
    DjustConfig::default().with_secret_key("test-secret-test-secret-test-secret-0123")
}

/// Serves `router` on a fresh port of 127.0.0.1.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server failed");
    });
    addr
}

/// Starts the test app with `config`; returns its address and probe.
pub async fn start(config: DjustConfig) -> (SocketAddr, Probe) {
    let probe = Probe::default();
    let addr = serve(router(config, probe.clone())).await;
    (addr, probe)
}

/// A protocol-level WebSocket client.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    /// Connects to `/djust/ws` with extra request headers.
    pub async fn connect_with(
        addr: SocketAddr,
        headers: &[(&str, &str)],
    ) -> Result<Ws, tungstenite::Error> {
        let mut req = format!("ws://{addr}/djust/ws").into_client_request()?;
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
            let value = HeaderValue::from_str(value).expect("header value");
            req.headers_mut().insert(name, value);
        }
        let (stream, _resp) = tokio_tungstenite::connect_async(req).await?;
        Ok(Ws { stream })
    }

    /// Connects without extra headers (no Origin: a non-browser client).
    pub async fn connect(addr: SocketAddr) -> Ws {
        Self::connect_with(addr, &[])
            .await
            .expect("WebSocket connect")
    }

    /// Connects and mounts `path` (with `query`); returns the `mounted` frame.
    pub async fn mounted(addr: SocketAddr, path: &str, query: &str) -> (Ws, Value) {
        let mut ws = Self::connect(addr).await;
        let frame = ws.mount(path, query).await;
        (ws, frame)
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text))
            .await
            .expect("send frame");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream
            .send(Message::binary(bytes))
            .await
            .expect("send binary frame");
    }

    /// The next JSON text frame, or `None` if nothing arrives within `window`.
    pub async fn try_recv(&mut self, window: Duration) -> Option<Value> {
        match tokio::time::timeout(window, self.stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                Some(serde_json::from_str(&text).expect("server frames are JSON"))
            }
            Ok(other) => panic!("expected a text frame, got {other:?}"),
            Err(_) => None,
        }
    }

    pub async fn event(&mut self, name: &str, payload: Value) {
        self.send(json!({"t": "event", "ref": 1, "name": name, "payload": payload}))
            .await;
    }

    /// Sends `mount` and returns the reply, asserting it is `mounted`.
    pub async fn mount(&mut self, path: &str, query: &str) -> Value {
        self.send(json!({"t": "mount", "v": 2, "ref": 0, "path": path, "query": query}))
            .await;
        let frame = self.recv().await;
        assert_eq!(frame["t"], "mounted", "expected mounted, got {frame}");
        frame
    }

    /// The next message of any kind, or `None` when the stream ends.
    pub async fn next_message(&mut self) -> Option<Message> {
        match tokio::time::timeout(FRAME_WAIT, self.stream.next()).await {
            Ok(Some(Ok(msg))) => Some(msg),
            Ok(Some(Err(_)) | None) => None,
            Err(_) => panic!("no message within {FRAME_WAIT:?}"),
        }
    }

    /// The next JSON text frame (skipping pings/pongs).
    pub async fn recv(&mut self) -> Value {
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => {
                    return serde_json::from_str(&text).expect("server frames are JSON");
                }
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The close code the server closes with (skipping text frames before it).
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.next_message().await {
                Some(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Some(Message::Text(_) | Message::Ping(_) | Message::Pong(_)) => {}
                None => return None,
                Some(other) => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Asserts that no frame arrives within `window`.
    pub async fn expect_silence(&mut self, window: Duration) {
        if let Ok(msg) = tokio::time::timeout(window, self.stream.next()).await {
            panic!("expected no frame within {window:?}, got {msg:?}");
        }
    }

    /// Asks for a full render and returns its HTML, skipping frames still on their way before
    /// it (patches, acks).
    pub async fn render_html(&mut self) -> String {
        self.send(json!({"t": "resync"})).await;
        loop {
            let frame = self.recv().await;
            if frame["t"] == "render" {
                return djust_render::full_html(&frame).expect("html");
            }
        }
    }

    /// Asks for a full render and returns its HTML (the view's current state).
    pub async fn state_html(&mut self) -> String {
        self.send(json!({"t": "resync"})).await;
        let frame = self.recv().await;
        assert_eq!(frame["t"], "render", "expected render, got {frame}");
        djust_render::full_html(&frame).expect("html")
    }

    /// Sends a Close frame with `code`; returns the code of the server's Close reply.
    pub async fn close(&mut self, code: u16) -> Option<u16> {
        let frame = tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: "bye".into(),
        };
        self.stream
            .send(Message::Close(Some(frame)))
            .await
            .expect("send Close");
        self.close_code().await
    }

    /// Writes raw bytes to the TCP stream under the WebSocket (hand-made frames).
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        match self.stream.get_mut() {
            MaybeTlsStream::Plain(tcp) => tcp.write_all(bytes).await.expect("raw write"),
            _ => panic!("plain TCP expected"),
        }
    }

    /// Sends `frame` unless that takes longer than `within` (the server stopped reading);
    /// returns whether it was sent.
    pub async fn send_within(&mut self, frame: Value, within: Duration) -> bool {
        let text = frame.to_string();
        matches!(
            tokio::time::timeout(within, self.stream.send(Message::text(text))).await,
            Ok(Ok(()))
        )
    }

    /// Drops the TCP connection without a Close frame.
    pub fn drop_abruptly(self) {
        drop(self.stream);
    }
}

/// A plain HTTP GET: returns (status, headers, body).
pub async fn get(
    router: axum::Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (u16, axum::http::HeaderMap, String) {
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req.body(axum::body::Body::empty()).expect("request");
    let resp = router.oneshot(req).await.expect("infallible");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 10 << 20)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8(body.to_vec()).expect("utf-8"),
    )
}

/// The `name=value` pair of the session cookie in a `Set-Cookie` header.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> String {
    let set_cookie = headers
        .get(axum::http::header::SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .expect("ascii");
    set_cookie.split(';').next().expect("pair").to_owned()
}
