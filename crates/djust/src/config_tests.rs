//! Tests of `config.rs`: defaults, environment variables and validation messages.

use super::*;
use std::collections::HashMap;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_are_valid() {
    DjustConfig::default().validate().unwrap();
}

#[test]
fn env_overrides_defaults() {
    let cfg = DjustConfig::from_lookup(lookup(&[
        ("DJUST_TICK_MS", "40"),
        ("DJUST_MAX_FRAME_BYTES", "2048"),
        ("DJUST_RATE_PER_SEC", "5"),
        ("DJUST_RATE_BURST", "7"),
        (
            "DJUST_ALLOWED_ORIGINS",
            "https://a.example, https://b.example",
        ),
        ("DJUST_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ("DJUST_SECURE_COOKIE", "true"),
        ("DJUST_FRAME_RATE_PER_SEC", "30"),
        ("DJUST_FRAME_RATE_BURST", "60"),
        ("DJUST_SEND_TIMEOUT_MS", "1500"),
        ("DJUST_INFO_QUEUE", "16"),
    ]))
    .unwrap();
    assert_eq!((cfg.frame_rate_per_sec, cfg.frame_rate_burst), (30, 60));
    assert_eq!(cfg.send_timeout, Duration::from_millis(1500));
    assert_eq!(cfg.info_queue, 16);
    assert_eq!(cfg.tick, Duration::from_millis(40));
    assert_eq!(cfg.max_frame_bytes, 2048);
    assert_eq!((cfg.rate_per_sec, cfg.rate_burst), (5, 7));
    assert_eq!(
        cfg.allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    assert!(cfg.secure_cookie);
    assert_eq!(cfg.secret_key.as_deref().map(<[u8]>::len), Some(32));
}

#[test]
fn bad_values_name_the_variable() {
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_TICK_MS", "fast")])).unwrap_err();
    assert!(err.to_string().contains("DJUST_TICK_MS"), "{err}");
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_TICK_MS", "0")])).unwrap_err();
    assert!(err.to_string().contains("DJUST_TICK_MS"), "{err}");
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_SECRET_KEY", "short")])).unwrap_err();
    assert!(err.to_string().contains("DJUST_SECRET_KEY"), "{err}");
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_IDLE_TIMEOUT_MS", "1000")])).unwrap_err();
    assert!(err.to_string().contains("DJUST_IDLE_TIMEOUT_MS"), "{err}");
}

#[test]
fn debug_redacts_the_secret() {
    let cfg = DjustConfig::default().with_secret_key("s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t");
    assert!(!format!("{cfg:?}").contains("s3cr3t"));
}

#[test]
fn presence_settings_come_from_the_spec_named_variables() {
    let cfg = DjustConfig::from_lookup(lookup(&[
        ("DJUST_PRESENCE_BACKEND", "memory"),
        ("DJUST_PRESENCE_HEARTBEAT_INTERVAL", "10"),
        ("DJUST_PRESENCE_TIMEOUT", "25.5"),
        ("DJUST_PRESENCE_RECONNECT_GRACE", "2"),
        ("DJUST_PRESENCE_CURSOR_LIMIT", "7"),
        ("DJUST_PRESENCE_CURSOR_LINGER_MS", "250"),
    ]))
    .unwrap();
    assert_eq!(cfg.presence.cursor_limit, 7);
    assert_eq!(cfg.presence.cursor_linger, Duration::from_millis(250));
    assert_eq!(cfg.presence.backend, PresenceBackendKind::Memory);
    assert_eq!(cfg.heartbeat_interval, Duration::from_secs(10));
    assert_eq!(cfg.presence.timeout, Duration::from_millis(25_500));
    assert_eq!(cfg.presence.reconnect_grace, Duration::from_secs(2));
    assert_eq!(
        cfg.idle_timeout,
        Duration::from_secs(60),
        "the presence timeout does not set the idle timeout"
    );
    let engine = cfg.presence.engine_config(cfg.heartbeat_interval).unwrap();
    assert_eq!(engine.presence_timeout, Duration::from_millis(25_500));
    assert_eq!(engine.cursor_limit, 7);
    assert_eq!(engine.cursor_linger, Duration::from_millis(250));
}

#[test]
fn bad_presence_values_name_their_variable() {
    for (vars, needle) in [
        (
            vec![("DJUST_PRESENCE_TIMEOUT", "soon")],
            "DJUST_PRESENCE_TIMEOUT",
        ),
        (
            vec![("DJUST_PRESENCE_TIMEOUT", "-1")],
            "DJUST_PRESENCE_TIMEOUT",
        ),
        (
            vec![("DJUST_PRESENCE_HEARTBEAT_INTERVAL", "x")],
            "DJUST_PRESENCE_HEARTBEAT_INTERVAL",
        ),
        (
            vec![("DJUST_PRESENCE_BACKEND", "postgres")],
            "DJUST_PRESENCE_BACKEND",
        ),
        (vec![("DJUST_PRESENCE_BACKEND", "redis")], "DJUST_REDIS_URL"),
        (
            vec![
                ("DJUST_PRESENCE_BACKEND", "redis"),
                ("DJUST_REDIS_URL", "http://x"),
            ],
            "DJUST_REDIS_URL",
        ),
        (
            vec![("DJUST_PRESENCE_HEARTBEAT_INTERVAL", "60")],
            "DJUST_PRESENCE_HEARTBEAT_INTERVAL",
        ),
        (
            vec![
                ("DJUST_PRESENCE_HEARTBEAT_INTERVAL", "30"),
                ("DJUST_PRESENCE_TIMEOUT", "20"),
            ],
            "DJUST_PRESENCE_TIMEOUT",
        ),
        (
            vec![
                ("DJUST_PRESENCE_HEARTBEAT_INTERVAL", "30"),
                ("DJUST_HEARTBEAT_INTERVAL_MS", "100"),
            ],
            "set only one",
        ),
        (
            vec![("DJUST_PRESENCE_CURSOR_LIMIT", "0")],
            "DJUST_PRESENCE_CURSOR_LIMIT",
        ),
        (
            vec![("DJUST_PRESENCE_CURSOR_LIMIT", "many")],
            "DJUST_PRESENCE_CURSOR_LIMIT",
        ),
    ] {
        let err = DjustConfig::from_lookup(lookup(&vars))
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{vars:?}: {err}");
    }
}

#[test]
fn the_subscriber_queue_reaches_the_engine_and_zero_is_refused() {
    let cfg =
        DjustConfig::from_lookup(lookup(&[("DJUST_PRESENCE_SUBSCRIBER_QUEUE", "8")])).unwrap();
    assert_eq!(cfg.presence.subscriber_queue, 8);
    let engine = cfg.presence.engine_config(cfg.heartbeat_interval).unwrap();
    assert_eq!(engine.subscriber_queue, 8);
    assert_eq!(
        DjustConfig::default().presence.subscriber_queue,
        djust_presence::PresenceConfig::default().subscriber_queue
    );
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_PRESENCE_SUBSCRIBER_QUEUE", "0")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("DJUST_PRESENCE_SUBSCRIBER_QUEUE"), "{err}");
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_PRESENCE_SUBSCRIBER_QUEUE", "lots")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("DJUST_PRESENCE_SUBSCRIBER_QUEUE") && err.contains("lots"),
        "{err}"
    );
}

#[test]
fn dev_mode_is_read_from_djust_dev_and_a_bad_value_names_it() {
    let on = DjustConfig::from_lookup(lookup(&[("DJUST_DEV", "1")])).unwrap();
    assert_eq!(on.dev, Some(true));
    assert!(on.dev_mode());
    let off = DjustConfig::from_lookup(lookup(&[("DJUST_DEV", "False")])).unwrap();
    assert!(!off.dev_mode());
    assert_eq!(DjustConfig::from_lookup(lookup(&[])).unwrap().dev, None);
    assert!(!DjustConfig::default().with_dev(false).dev_mode());
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_DEV", "maybe")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("DJUST_DEV") && err.contains("maybe"), "{err}");
}

#[test]
fn websocket_buffers_below_their_minimum_are_refused_by_name() {
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_WS_READ_BUFFER", "255")])).unwrap_err();
    assert!(
        err.to_string().contains("DJUST_WS_READ_BUFFER") && err.to_string().contains("256"),
        "{err}"
    );
    let ok = DjustConfig::from_lookup(lookup(&[("DJUST_WS_READ_BUFFER", "256")])).unwrap();
    assert_eq!(ok.ws_read_buffer, 256);
    let err = DjustConfig::from_lookup(lookup(&[("DJUST_WS_WRITE_BUFFER", "1023")])).unwrap_err();
    assert!(err.to_string().contains("DJUST_WS_WRITE_BUFFER"), "{err}");
    assert!(!err.to_string().contains("DJUST_WS_READ_BUFFER"), "{err}");
}
