//! Redis metrics (`docs/operations.md`) against a real `redis-server`: the connected gauge, the
//! publish-to-receive lag histogram, the time of the last round trip, and the reconnect counter
//! across a Redis restart. A binary of its own: the series are process-wide.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use djust::presence::PresenceBackendKind;
use djust_testkit::RedisServer;
use support::presence_views::room_parts;
use support::{Ws, get, serve, test_config};

/// How long a state change may take to show (the driver reconnects with a backoff of at most
/// 5 s); a hang guard, not a timing assertion.
const WAIT: Duration = Duration::from_secs(20);

/// The value of the sample `series` (name and labels exactly); `None` when absent.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Scrapes `/metrics` until `cond` holds on it; returns that scrape.
async fn scrape_until(router: &axum::Router, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = get(router.clone(), "/metrics", &[]).await.2;
        if cond(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {WAIT:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn redis_lag_round_trips_and_reconnects_are_measured() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let config = test_config()
        .with_presence_backend(PresenceBackendKind::Redis)
        .with_redis_url(server.url());
    let (router, _handle) = room_parts(config, None);
    let addr = serve(router.clone()).await;
    let connected = |t: &str| sample(t, "djust_redis_connected") == Some(1.0);
    scrape_until(&router, "connected", connected).await;

    // A join is published; its message comes back through the channel: one lag sample.
    let mut ws = Ws::connect_with(addr, &[("x-test-user", "7:gail")])
        .await
        .expect("connect");
    assert_eq!(ws.mount("/room/metrics", "").await["t"], "mounted");
    let text = scrape_until(&router, "a lag sample", |t| {
        sample(t, "djust_redis_lag_seconds_count").unwrap_or(0.0) >= 1.0
    })
    .await;
    let lag = sample(&text, "djust_redis_lag_seconds_sum").unwrap();
    assert!(lag > 0.0 && lag < 5.0, "lag {lag} s");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let last = sample(&text, "djust_redis_last_round_trip_timestamp_seconds").unwrap();
    assert!(
        (now - last).abs() < 30.0,
        "last round trip {last}, now {now}"
    );
    let reconnects = sample(&text, "djust_redis_reconnects_total").unwrap_or(0.0);
    assert_eq!(reconnects, 0.0, "no reconnect yet");

    // Redis goes away: the gauge drops to 0; it comes back: 1, and one reconnect is counted.
    server.kill();
    scrape_until(&router, "disconnected", |t| {
        sample(t, "djust_redis_connected") == Some(0.0)
    })
    .await;
    let before = sample(
        &get(router.clone(), "/metrics", &[]).await.2,
        "djust_redis_last_round_trip_timestamp_seconds",
    )
    .unwrap();
    server.restart();
    let text = scrape_until(&router, "reconnected", connected).await;
    assert_eq!(
        sample(&text, "djust_redis_reconnects_total"),
        Some(1.0),
        "{text}"
    );
    let after = sample(&text, "djust_redis_last_round_trip_timestamp_seconds").unwrap();
    assert!(
        after > before,
        "a round trip after the restart: {before} → {after}"
    );
    drop(ws);
}
