//! Prometheus metrics: the names (`docs/operations.md` lists them with their meaning), the
//! recording helpers the runtime calls, and the process-wide Prometheus recorder behind
//! `GET /metrics`.
//!
//! Recording goes through the [`metrics`] facade, so an application that installed its own
//! recorder (StatsD, OpenTelemetry, …) receives the same series; djust then serves no
//! `/metrics` of its own. Every helper is a few atomic operations when a recorder is installed
//! and nothing at all otherwise.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Gauge: open WebSocket connections.
pub const CONNECTIONS: &str = "djust_connections";
/// Counter: WebSocket connections accepted since start.
pub const CONNECTIONS_TOTAL: &str = "djust_connections_total";
/// Gauge, label `view`: live views being served (mounting or mounted) over WebSockets.
pub const VIEWS_MOUNTED: &str = "djust_views_mounted";
/// Counter, labels `view`, `status`: page GETs of live views by HTTP status.
pub const PAGE_REQUESTS_TOTAL: &str = "djust_page_requests_total";
/// Gauge: presence keys (groups) with at least one connection.
pub const PRESENCE_KEYS: &str = "djust_presence_keys";
/// Gauge: presence entries (tracked connections, local and remote).
pub const PRESENCE_ENTRIES: &str = "djust_presence_entries";
/// Gauge: open presence subscriptions (one per live view with presence).
pub const PRESENCE_SUBSCRIPTIONS: &str = "djust_presence_subscriptions";
/// Counter: client frames received.
pub const FRAMES_IN_TOTAL: &str = "djust_frames_in_total";
/// Counter: bytes of client frames received.
pub const BYTES_IN_TOTAL: &str = "djust_bytes_in_total";
/// Counter, label `kind` (`mounted`, `patch`, `cursors`, `push`, `render`, `error`, …): frames
/// sent.
pub const FRAMES_OUT_TOTAL: &str = "djust_frames_out_total";
/// Counter: bytes of frames sent.
pub const BYTES_OUT_TOTAL: &str = "djust_bytes_out_total";
/// Histogram (seconds): one live render of a view — its `get_context_data` plus the render
/// engine's pass, which evaluates the changed slots and diffs them against the client's tree in
/// the same walk (so there is no separate diff time to measure). The page GET and the mount's
/// first render are not in it.
pub const RENDER_SECONDS: &str = "djust_render_seconds";
/// Histogram, label `queue` (`info`, `presence`): messages drained by one flush.
pub const QUEUE_DEPTH: &str = "djust_queue_depth";
/// Counter: client events held back by the rate limit.
pub const RATE_LIMITED_TOTAL: &str = "djust_rate_limited_total";
/// Counter, label `path` (`connection`, `relay`): shared-text fan-outs that fell behind and
/// re-synced with the whole document (a slow connection, or the relay to other processes).
pub const TEXT_RESYNCS_TOTAL: &str = "djust_text_resyncs_total";
/// Gauge: 1 while the Redis presence driver is connected, 0 otherwise (absent without Redis).
pub const REDIS_CONNECTED: &str = "djust_redis_connected";
/// Counter: times the Redis presence driver got Redis back after losing it.
pub const REDIS_RECONNECTS_TOTAL: &str = "djust_redis_reconnects_total";
/// Histogram (seconds): publish-to-receive lag of this process's presence messages — from the
/// start of a publish to its message coming back on the channel every process subscribes to.
pub const REDIS_LAG_SECONDS: &str = "djust_redis_lag_seconds";
/// Gauge (Unix time, seconds): when Redis last answered a command of the presence driver (at
/// least every liveness interval while connected).
pub const REDIS_LAST_ROUND_TRIP: &str = "djust_redis_last_round_trip_timestamp_seconds";
/// Histogram buckets for times: 50 µs to 1 s.
const TIME_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
];
/// Histogram buckets for queue depths.
const DEPTH_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 500.0, 1000.0];

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The Prometheus recorder, installed as the global `metrics` recorder on first use. `None` if
/// the application had already installed another recorder (then `/metrics` answers 404 and
/// the series go to that recorder).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                    TIME_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full(QUEUE_DEPTH.into()),
                        DEPTH_BUCKETS,
                    )
                })
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(CONNECTIONS, "Open WebSocket connections");
    describe_counter!(CONNECTIONS_TOTAL, "WebSocket connections accepted");
    describe_gauge!(VIEWS_MOUNTED, "Live views being served over WebSockets");
    describe_counter!(PAGE_REQUESTS_TOTAL, "Page GETs of live views by status");
    describe_gauge!(PRESENCE_KEYS, "Presence keys with at least one connection");
    describe_gauge!(PRESENCE_ENTRIES, "Tracked presence connections");
    describe_gauge!(PRESENCE_SUBSCRIPTIONS, "Open presence subscriptions");
    describe_counter!(FRAMES_IN_TOTAL, "Client frames received");
    describe_counter!(BYTES_IN_TOTAL, Unit::Bytes, "Client frame bytes received");
    describe_counter!(FRAMES_OUT_TOTAL, "Frames sent, by kind");
    describe_counter!(BYTES_OUT_TOTAL, Unit::Bytes, "Frame bytes sent");
    describe_histogram!(
        RENDER_SECONDS,
        Unit::Seconds,
        "Live render time of one view: context, changed slots and their diff"
    );
    describe_histogram!(QUEUE_DEPTH, "Messages drained by one flush");
    describe_counter!(RATE_LIMITED_TOTAL, "Client events held by the rate limit");
    describe_counter!(
        TEXT_RESYNCS_TOTAL,
        "Shared-text fan-outs that fell behind and re-synced with the whole document"
    );
    describe_gauge!(
        REDIS_CONNECTED,
        "1 while the Redis presence driver is connected"
    );
    describe_counter!(
        REDIS_RECONNECTS_TOTAL,
        "Times the Redis presence driver got Redis back after losing it"
    );
    describe_histogram!(
        REDIS_LAG_SECONDS,
        Unit::Seconds,
        "Publish-to-receive lag of this process's presence messages through Redis"
    );
    describe_gauge!(
        REDIS_LAST_ROUND_TRIP,
        Unit::Seconds,
        "Unix time of the last answer from Redis to the presence driver"
    );
}

/// Counts one open WebSocket connection for as long as it lives.
#[derive(Debug)]
pub struct ConnectionGuard(());

impl ConnectionGuard {
    /// A connection was accepted.
    pub fn open() -> Self {
        counter!(CONNECTIONS_TOTAL).increment(1);
        gauge!(CONNECTIONS).increment(1.0);
        Self(())
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        gauge!(CONNECTIONS).decrement(1.0);
    }
}

/// Counts one live view being served for as long as it lives.
#[derive(Debug)]
pub struct ViewGuard(&'static str);

impl ViewGuard {
    /// View `view` (its type name) started serving a connection.
    pub fn mounted(view: &'static str) -> Self {
        gauge!(VIEWS_MOUNTED, "view" => view).increment(1.0);
        Self(view)
    }
}

impl Drop for ViewGuard {
    fn drop(&mut self) {
        gauge!(VIEWS_MOUNTED, "view" => self.0).decrement(1.0);
    }
}

/// A page GET of `view` answered with `status`.
pub fn page_request(view: &'static str, status: u16) {
    counter!(PAGE_REQUESTS_TOTAL, "view" => view, "status" => status.to_string()).increment(1);
}

/// A client frame of `bytes` bytes arrived.
pub fn frame_in(bytes: usize) {
    counter!(FRAMES_IN_TOTAL).increment(1);
    counter!(BYTES_IN_TOTAL).increment(bytes as u64);
}

/// A frame of `kind` (its `"t"`) and `bytes` bytes was sent.
pub fn frame_out(kind: &'static str, bytes: usize) {
    counter!(FRAMES_OUT_TOTAL, "kind" => kind).increment(1);
    counter!(BYTES_OUT_TOTAL).increment(bytes as u64);
}

/// One live render (context, slots and diff; see [`RENDER_SECONDS`]) took `elapsed`.
pub fn render_time(elapsed: Duration) {
    histogram!(RENDER_SECONDS).record(elapsed.as_secs_f64());
}

/// A flush drained `depth` messages from `queue` (`"info"` or `"presence"`).
pub fn queue_depth(queue: &'static str, depth: usize) {
    histogram!(QUEUE_DEPTH, "queue" => queue).record(depth as f64);
}

/// The rate limit held back a client event.
pub fn rate_limited() {
    counter!(RATE_LIMITED_TOTAL).increment(1);
}

/// A shared-text fan-out fell behind and re-synced with the whole document; `path` is
/// `connection` or `relay`.
pub(crate) fn text_resync(path: &'static str) {
    counter!(TEXT_RESYNCS_TOTAL, "path" => path).increment(1);
}

/// Sets the presence gauges from the engine's sizes (called at each scrape).
pub(crate) fn presence_sizes(stats: &djust_presence::PresenceStats) {
    gauge!(PRESENCE_KEYS).set(stats.keys as f64);
    gauge!(PRESENCE_ENTRIES).set(stats.connections as f64);
    gauge!(PRESENCE_SUBSCRIPTIONS).set(stats.subscriptions as f64);
}

/// Sets the Redis gauge from the driver's status (called at each scrape).
pub(crate) fn redis_connected(connected: bool) {
    gauge!(REDIS_CONNECTED).set(if connected { 1.0 } else { 0.0 });
}

/// Records the Redis driver's reconnections, lags and round trips as they happen.
#[cfg(feature = "redis")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct RedisMetrics;

#[cfg(feature = "redis")]
impl djust_presence_redis::RedisObserver for RedisMetrics {
    fn reconnected(&self) {
        counter!(REDIS_RECONNECTS_TOTAL).increment(1);
    }

    fn round_trip(&self, at: std::time::SystemTime) {
        let secs = at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        gauge!(REDIS_LAST_ROUND_TRIP).set(secs);
    }

    fn lag(&self, lag: Duration) {
        histogram!(REDIS_LAG_SECONDS).record(lag.as_secs_f64());
    }
}
