//! [`RedisObserver`]: a process's own messages come back with their publish-to-receive lag, and
//! round trips are reported as they happen.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{RedisServer, within};
use djust_presence::{ConnId, Presence};
use djust_presence_redis::{RedisObserver, RedisPresence, RedisStatus};
use serde_json::json;

#[derive(Default)]
struct Seen {
    lags: Mutex<Vec<Duration>>,
    round_trips: Mutex<Vec<SystemTime>>,
}

impl RedisObserver for Seen {
    fn lag(&self, lag: Duration) {
        self.lags.lock().unwrap().push(lag);
    }
    fn round_trip(&self, at: SystemTime) {
        self.round_trips.lock().unwrap().push(at);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_messages_are_timed_on_their_way_back() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let seen = Arc::new(Seen::default());
    let redis = RedisPresence::connect(common::fast_redis(&server.url()))
        .await
        .unwrap()
        .observe(seen.clone());
    let presence = Presence::builder()
        .config(common::fast_presence())
        .backend(redis.backend())
        .build()
        .unwrap();
    let handle = redis.start(&presence).unwrap();
    within(Duration::from_secs(5), "connected", || {
        handle.status() == RedisStatus::Connected
    })
    .await;
    assert!(
        seen.lags.lock().unwrap().is_empty(),
        "nothing published yet"
    );
    for i in 0..3 {
        let user = format!("u{i}");
        presence
            .track("doc:1", ConnId::random(), &user, json!({}))
            .unwrap();
        within(Duration::from_secs(5), "the message came back", || {
            seen.lags.lock().unwrap().len() > i
        })
        .await;
    }
    let lags = seen.lags.lock().unwrap().clone();
    assert_eq!(lags.len(), 3, "one per publication: {lags:?}");
    assert!(lags.iter().all(|l| *l < Duration::from_secs(5)), "{lags:?}");
    assert!(!seen.round_trips.lock().unwrap().is_empty());
    assert_eq!(handle.stats().reconnects, 0);
    assert!(handle.stats().last_round_trip.is_some());
    handle.shutdown().await;
}
