//! Setting the backend up wrong fails early, with a message that says what to fix.

mod common;

use std::time::Duration;

use common::{RedisServer, fast_presence, free_port};
use djust_presence::{Presence, PresenceConfig};
use djust_presence_redis::{RedisConfig, RedisPresence, RedisPresenceError, build_presence};

#[test]
fn a_bad_url_names_the_setting() {
    for url in [
        "http://127.0.0.1:6379",
        "redis://host:notaport/0",
        "127.0.0.1:6379",
    ] {
        let err = RedisPresence::new(RedisConfig::new(url)).unwrap_err();
        assert!(
            matches!(err, RedisPresenceError::InvalidUrl { .. }),
            "{url}: {err:?}"
        );
        assert!(err.to_string().contains("DJUST_REDIS_URL"), "{err}");
    }
}

#[test]
fn a_password_never_appears_in_an_error() {
    let err = RedisPresence::new(RedisConfig::new("rediss://u:hunter2@h:1/0")).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn an_unreachable_redis_fails_connect_but_not_new() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let config = RedisConfig {
        command_timeout: Duration::from_millis(500),
        ..RedisConfig::new(&url)
    };
    let err = RedisPresence::connect(config.clone()).await.unwrap_err();
    assert!(
        matches!(err, RedisPresenceError::Unreachable { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("redis-server"), "{err}");
    assert!(
        RedisPresence::new(config).is_ok(),
        "new() does not contact Redis"
    );
}

#[tokio::test]
async fn starting_needs_the_engine_built_with_this_backend() {
    let redis = RedisPresence::new(RedisConfig::new("redis://127.0.0.1:1/0")).unwrap();
    let memory = Presence::new(PresenceConfig::default()).unwrap();
    let err = redis.start(&memory).unwrap_err();
    assert!(matches!(err, RedisPresenceError::WrongBackend { ref found } if found == "memory"));
    assert!(err.to_string().contains("backend()"), "{err}");
}

#[tokio::test]
async fn a_liveness_interval_too_close_to_the_timeout_is_refused() {
    let redis = RedisPresence::new(RedisConfig {
        liveness_interval: Some(Duration::from_secs(1)),
        ..RedisConfig::new("redis://127.0.0.1:1/0")
    })
    .unwrap();
    let presence = Presence::builder()
        .config(fast_presence()) // 2 s timeout: at most 666 ms
        .backend(redis.backend())
        .build()
        .unwrap();
    let err = redis.start(&presence).unwrap_err();
    assert!(
        matches!(err, RedisPresenceError::LivenessInterval { .. }),
        "{err:?}"
    );
}

#[test]
fn starting_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let redis = RedisPresence::new(RedisConfig::new("redis://127.0.0.1:1/0")).unwrap();
    let presence = Presence::builder()
        .backend(redis.backend())
        .build()
        .unwrap();
    assert!(matches!(
        redis.start(&presence),
        Err(RedisPresenceError::NoRuntime)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_presence_sets_everything_up() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (presence, handle) = build_presence(common::fast_redis(&server.url()), fast_presence())
        .await
        .unwrap();
    assert_eq!(presence.backend_name(), "redis");
    assert_eq!(handle.node_id(), presence.node_id());
    assert!(
        handle
            .wait_for(djust_presence_redis::RedisStatus::Connected)
            .await
    );
    handle.shutdown().await;
}
