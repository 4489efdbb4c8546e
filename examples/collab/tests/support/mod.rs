//! Shared by the integration tests: the real app on 127.0.0.1:0 with a temp SQLite file and
//! its presence engine in reach, logins, and a WebSocket client that speaks the djust protocol.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod browser;
pub mod crowd;
pub mod motion;
pub mod process;
pub mod text;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use collab::{AppOptions, app};
use djust::DjustConfig;
use djust::presence::{Presence, PresenceConfig};
use djust_presence::{ManualClock, SweeperHandle, Timestamp};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A hang guard for anything a test waits for (expected frames arrive in milliseconds).
pub const WAIT: Duration = Duration::from_secs(5);

/// The fixed secret the tests use (cookies stay valid across the test's requests).
pub const SECRET: &str = "collab-test-secret-collab-test-secret-0123";

/// One running app.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The engine the app uses, to read presence directly.
    pub presence: Presence,
    /// The SQLite file.
    pub db_path: PathBuf,
    /// The engine's clock when the test controls time ([`start_manual`]).
    pub clock: Option<ManualClock>,
    _sweeper: Option<SweeperHandle>,
    _redis: Option<djust_presence_redis::RedisHandle>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The presence records' names on `key`, in list order.
    pub fn names(&self, key: &str) -> Vec<String> {
        self.presence
            .list(key)
            .iter()
            .map(|p| p.get_str("name").unwrap_or_default().to_owned())
            .collect()
    }

    /// Cookies of a logged-in user `name` who has also loaded `/` (so the djust session
    /// cookie is set too): the `Cookie` header value.
    pub async fn login(&self, name: &str) -> String {
        let (status, headers, _) = login_post(self.addr, name, "/").await;
        assert_eq!(status, 303, "login of {name:?} should redirect");
        let auth = cookie_pair(&headers).expect("login sets the collab_user cookie");
        self.with_session(&auth).await
    }

    /// Cookies of an anonymous guest (just the djust session cookie).
    pub async fn guest(&self) -> String {
        let (status, headers, _) = http_get(self.addr, "/", None).await;
        assert_eq!(status, 200);
        cookie_pair(&headers).expect("the first GET sets djust_session")
    }

    async fn with_session(&self, cookies: &str) -> String {
        let (status, headers, _) = http_get(self.addr, "/", Some(cookies)).await;
        assert_eq!(status, 200);
        let session = cookie_pair(&headers).expect("the first GET sets djust_session");
        format!("{cookies}; {session}")
    }

    /// A WebSocket with `cookies`, mounted on `path`.
    pub async fn ws(&self, cookies: &str, path: &str) -> Ws {
        let mut ws = Ws::connect(self.addr, cookies).await;
        ws.mount(path).await;
        ws
    }
}

/// `s` percent-encoded (everything but ASCII letters and digits).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `POST /login` as the site's own form does (with this site's `Origin`):
/// (status, headers, body).
pub async fn login_post(addr: SocketAddr, name: &str, next: &str) -> (u16, HeaderMap, String) {
    let body = format!("name={}&next={}", encode(name), encode(next));
    let origin = format!("http://{addr}");
    http_request(addr, "POST", "/login", &[("Origin", &origin)], &body).await
}

/// Starts the app with a fresh database and its own presence engine (real clock, sweeper
/// running).
pub async fn start() -> TestApp {
    let presence = Presence::new(PresenceConfig::default()).expect("presence engine");
    let sweeper = presence.spawn_sweeper().expect("sweeper");
    serve(presence, Some(sweeper), None).await
}

/// Starts the app with a presence engine built from `config` (real clock, sweeper).
pub async fn start_config(config: PresenceConfig) -> TestApp {
    let presence = Presence::new(config).expect("presence engine");
    let sweeper = presence.spawn_sweeper().expect("sweeper");
    serve(presence, Some(sweeper), None).await
}

/// Starts the app with a presence engine on a [`ManualClock`] and no sweeper: the test moves
/// time and calls `presence.sweep()` itself.
pub async fn start_manual() -> TestApp {
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let presence = Presence::builder()
        .config(PresenceConfig::default())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("presence engine");
    serve(presence, None, Some(clock)).await
}

/// Two apps on one fresh redis-server and one SQLite file, on different ports, and a browser —
/// the set-up of the two-process Chromium tests. `None` when redis-server or chromium is missing
/// and the run opted out (the testkit counts the skip; without opting out it fails).
pub async fn two_processes() -> Option<(
    djust_testkit::RedisServer,
    djust_testkit::Browser,
    TestApp,
    TestApp,
)> {
    let redis = djust_testkit::RedisServer::start()?;
    let browser = djust_testkit::browser().await?;
    let p1 = start_redis(&redis.url(), None).await;
    let p2 = start_redis(&redis.url(), Some(&p1.db_path)).await;
    assert_ne!(p1.addr.port(), p2.addr.port());
    Some((redis, browser, p1, p2))
}

/// Starts the app as one of several processes sharing presence through Redis at `redis_url`
/// and the SQLite file `db` (user ids must agree between the processes).
pub async fn start_redis(redis_url: &str, db: Option<&std::path::Path>) -> TestApp {
    let redis = djust_presence_redis::RedisPresence::connect(
        djust_presence_redis::RedisConfig::new(redis_url),
    )
    .await
    .expect("redis reachable");
    let presence = Presence::builder()
        .config(PresenceConfig::default())
        .backend(redis.backend())
        .build()
        .expect("presence engine");
    let handle = redis.start(&presence).expect("redis driver");
    let sweeper = presence.spawn_sweeper().expect("sweeper");
    let mut app = serve_on(presence, Some(sweeper), None, db.map(Into::into)).await;
    app._redis = Some(handle);
    app
}

/// Starts the app like [`start`], with `tweak` applied to its options (e.g. a short login
/// TTL).
pub async fn start_with(tweak: impl FnOnce(AppOptions) -> AppOptions) -> TestApp {
    let presence = Presence::new(PresenceConfig::default()).expect("presence engine");
    let sweeper = presence.spawn_sweeper().expect("sweeper");
    serve_with(presence, Some(sweeper), None, None, tweak).await
}

async fn serve(
    presence: Presence,
    sweeper: Option<SweeperHandle>,
    clock: Option<ManualClock>,
) -> TestApp {
    serve_on(presence, sweeper, clock, None).await
}

async fn serve_on(
    presence: Presence,
    sweeper: Option<SweeperHandle>,
    clock: Option<ManualClock>,
    db: Option<PathBuf>,
) -> TestApp {
    serve_with(presence, sweeper, clock, db, |o| o).await
}

async fn serve_with(
    presence: Presence,
    sweeper: Option<SweeperHandle>,
    clock: Option<ManualClock>,
    db: Option<PathBuf>,
    tweak: impl FnOnce(AppOptions) -> AppOptions,
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = db.unwrap_or_else(|| dir.path().join("collab.sqlite3"));
    let config = DjustConfig::default().with_secret_key(SECRET);
    let router = app(tweak(
        AppOptions::new(&db_path)
            .config(config)
            .presence(presence.clone()),
    ))
    .expect("the app builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server failed");
    });
    TestApp {
        addr,
        presence,
        db_path,
        clock,
        _sweeper: sweeper,
        _redis: None,
        _dir: dir,
    }
}

/// A plain HTTP/1.1 GET over TCP: (status, headers, body).
pub async fn http_get(
    addr: SocketAddr,
    path: &str,
    cookies: Option<&str>,
) -> (u16, HeaderMap, String) {
    let headers: Vec<(&str, &str)> = cookies.map(|c| ("Cookie", c)).into_iter().collect();
    http_request(addr, "GET", path, &headers, "").await
}

/// A plain HTTP/1.1 request over TCP with extra `headers` and a form `body` (sent with
/// `Content-Type: application/x-www-form-urlencoded` when not empty): (status, headers, body).
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, HeaderMap, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    if method != "GET" {
        extra.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n{body}"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("response within WAIT")
        .expect("read");
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.append(
                axum::http::HeaderName::from_bytes(name.trim().as_bytes()).expect("name"),
                axum::http::HeaderValue::from_str(value.trim()).expect("value"),
            );
        }
    }
    // Bodies here are small and not chunked in a way that matters for `contains` checks.
    (status, headers, body.to_owned())
}

/// The `name=value` pair of the first `Set-Cookie`.
pub fn cookie_pair(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(SET_COOKIE)?.to_str().ok()?;
    value.split(';').next().map(str::to_owned)
}

/// The `Location` header.
pub fn location(headers: &HeaderMap) -> Option<&str> {
    headers.get(LOCATION)?.to_str().ok()
}

/// A protocol-level WebSocket client that remembers every push event it has seen.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// `(name, payload)` of every event received so far, in order.
    pub events: Vec<(String, Value)>,
    /// The connection id from `mounted`.
    pub conn: String,
}

impl Ws {
    /// Connects to `/djust/ws` sending `cookies`.
    pub async fn connect(addr: SocketAddr, cookies: &str) -> Ws {
        let mut req = format!("ws://{addr}/djust/ws")
            .into_client_request()
            .expect("request");
        req.headers_mut().insert(
            COOKIE,
            HeaderValue::from_str(cookies).expect("cookie header"),
        );
        let (stream, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket connect");
        Ws {
            stream,
            events: Vec::new(),
            conn: String::new(),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .expect("send frame");
    }

    /// Sends `mount` and asserts the reply is `mounted`; returns its HTML.
    pub async fn mount(&mut self, path: &str) -> String {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        self.send(json!({"t": "mount", "v": 2, "ref": 0, "path": path, "query": query}))
            .await;
        let frame = self.recv().await;
        assert_eq!(frame["t"], "mounted", "expected mounted, got {frame}");
        self.conn = frame["conn"].as_str().expect("conn").to_owned();
        djust_render::full_html(&frame).expect("html")
    }

    /// Sends an event.
    pub async fn event(&mut self, name: &str, payload: Value) {
        self.send(json!({"t": "event", "name": name, "payload": payload}))
            .await;
    }

    /// The next JSON frame (pings skipped), recording its events; panics on an `error` frame.
    pub async fn recv(&mut self) -> Value {
        let frame = self.recv_raw().await;
        assert_ne!(frame["t"], "error", "server error frame: {frame}");
        frame
    }

    /// The next JSON frame (pings skipped), recording its events, errors included.
    pub async fn recv_raw(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame within WAIT")
                .expect("stream open")
                .expect("frame ok");
            match msg {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).expect("JSON frame");
                    if let Some(events) = frame["events"].as_array() {
                        for ev in events {
                            let name = ev["name"].as_str().unwrap_or_default().to_owned();
                            self.events.push((name, ev["payload"].clone()));
                        }
                    }
                    return frame;
                }
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The view's current full HTML (a `resync` answered by `render`), recording events of
    /// frames that arrive before it.
    pub async fn html(&mut self) -> String {
        self.send(json!({"t": "resync"})).await;
        loop {
            let frame = self.recv().await;
            if frame["t"] == "render" {
                return djust_render::full_html(&frame).expect("html");
            }
        }
    }

    /// Polls the view's HTML until `pred` holds; returns it. Panics after [`WAIT`].
    pub async fn wait_html(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let html = self.html().await;
            if pred(&html) {
                return html;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; last HTML:\n{html}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads frames until an event named `name` has been seen; returns its payload.
    pub async fn wait_event(&mut self, name: &str) -> Value {
        self.wait_event_where(name, |_| true).await
    }

    /// Reads frames until an event named `name` whose payload satisfies `pred` was seen.
    pub async fn wait_event_where(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some((_, p)) = self.events.iter().find(|(n, p)| n == name && pred(p)) {
                return p.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no `{name}` event within {WAIT:?}; seen: {:?}",
                self.events
            );
            self.recv().await;
        }
    }

    /// A clean close (Close frame 1001, like a closing tab), waiting for the server's answer.
    pub async fn close(mut self) {
        let frame = tungstenite::protocol::CloseFrame {
            code: 1001.into(),
            reason: "bye".into(),
        };
        let _ = self.stream.send(Message::Close(Some(frame))).await;
        let _ = tokio::time::timeout(WAIT, self.stream.next()).await;
    }

    /// Reads until the server's Close frame (skipping text frames) and returns its code, or
    /// `None` if the connection ends without one.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame within WAIT");
            match msg {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Drops the TCP connection without a Close frame.
    pub fn drop_abruptly(self) {
        drop(self.stream);
    }
}

/// Number of non-overlapping occurrences of `needle` in `hay`.
pub fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// Polls `cond` every 10 ms until it holds; panics after [`WAIT`] (a hang guard).
pub async fn eventually_true(mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
