//! Helpers shared by the integration tests: a real `redis-server` on a free port, engines replicated
//! through it, and polling with a deadline.
#![allow(dead_code)] // each test file uses its own subset

use std::sync::Arc;
use std::time::{Duration, Instant};

use djust_presence::{EventKind, Presence, PresenceConfig, PresenceEvent, Subscription};
use djust_presence_redis::{RedisConfig, RedisHandle, RedisPresence, RedisStatus};

#[allow(unused_imports)] // each test file uses its own subset
pub use djust_testkit::{RedisServer, free_port};

/// A plain connection to `server`, to look at (or tamper with) what the backend stores.
pub async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Short timeouts, so crash and outage tests finish in seconds.
pub fn fast_presence() -> PresenceConfig {
    PresenceConfig {
        heartbeat_interval: Duration::from_millis(500),
        presence_timeout: Duration::from_secs(2),
        sweep_interval: Duration::from_millis(100),
        ..PresenceConfig::default()
    }
}

pub fn fast_redis(url: &str) -> RedisConfig {
    RedisConfig {
        reconnect_min_delay: Duration::from_millis(50),
        reconnect_max_delay: Duration::from_millis(300),
        command_timeout: Duration::from_millis(500),
        ..RedisConfig::new(url)
    }
}

/// One "process": an engine replicated through Redis, and its driver.
pub struct Node {
    pub presence: Presence,
    pub handle: RedisHandle,
}

/// Starts a node against `server` and waits until it has caught up.
pub async fn node(server: &RedisServer) -> Node {
    node_with(fast_redis(&server.url()), fast_presence()).await
}

pub async fn node_with(redis: RedisConfig, config: PresenceConfig) -> Node {
    let redis = RedisPresence::connect(redis).await.expect("Redis answers");
    let presence = Presence::builder()
        .config(config)
        .backend(redis.backend())
        .build()
        .expect("valid config");
    let handle = redis.start(&presence).expect("driver starts");
    within(Duration::from_secs(5), "the node connects", || {
        handle.status() == RedisStatus::Connected
    })
    .await;
    Node { presence, handle }
}

/// Polls `cond` every 10 ms until it holds; panics with `what` after `limit`. Returns how long it took.
pub async fn within(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if cond() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sorted user ids present on `key`.
pub fn users(presence: &Presence, key: &str) -> Vec<String> {
    let mut ids: Vec<String> = presence
        .list(key)
        .iter()
        .map(|r| r.id().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Every event queued on `sub` right now, as `join:u1`, `leave:u1`, `update:u1`, `cursor:u1`,
/// `uncursor:u1`, `broadcast:name`.
pub fn drain(sub: &mut Subscription) -> Vec<String> {
    std::iter::from_fn(|| sub.try_recv().ok())
        .map(|e| kind(&e))
        .collect()
}

pub fn kind(event: &Arc<PresenceEvent>) -> String {
    match &event.kind {
        EventKind::Join(r) => format!("join:{}", r.id()),
        EventKind::Leave(r) => format!("leave:{}", r.id()),
        EventKind::Update(r) => format!("update:{}", r.id()),
        EventKind::CursorMoved { user_id, .. } => format!("cursor:{user_id}"),
        EventKind::CursorRemoved { user_id } => format!("uncursor:{user_id}"),
        EventKind::Broadcast { event, .. } => format!("broadcast:{event}"),
    }
}

/// Collects `sub`'s events until `done` holds for them; panics with `what` after `limit`.
pub async fn events_until(
    sub: &mut Subscription,
    limit: Duration,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let mut seen = Vec::new();
    within(limit, what, || {
        seen.extend(drain(sub));
        done(&seen)
    })
    .await;
    seen
}

/// A TCP proxy in front of Redis that a test can cut (every connection dropped, new ones refused) and
/// restore: one process losing Redis while the others keep it.
pub struct Proxy {
    pub port: u16,
    open: Arc<std::sync::atomic::AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: u16) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (open2, links2) = (open.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !open2.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection close
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });
        Self {
            port,
            open,
            links,
            accept,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Drops every proxied connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
