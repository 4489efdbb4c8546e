//! `GET /healthz`, `/readyz` and `/metrics` (docs/operations.md): the probes answer, and the
//! metrics show live connections, mounted views and presence sizes as they change.

mod support;

use djust::presence::PresenceBackendKind;
use support::{Probe, Ws, get, router, serve, test_config};

/// The value of the first sample of `name` (any labels) in a Prometheus text exposition.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = router(test_config(), Probe::default());
    let (status, _, body) = get(app.clone(), "/healthz", &[]).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _, body) = get(app, "/readyz", &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "ready\n"),
        "memory backend: always ready"
    );
}

#[tokio::test]
async fn readiness_fails_while_redis_is_unreachable() {
    // Port 1 on localhost: nothing listens, the driver stays disconnected.
    let config = test_config()
        .with_presence_backend(PresenceBackendKind::Redis)
        .with_redis_url("redis://127.0.0.1:1/0");
    let app = router(config, Probe::default());
    let (status, _, body) = get(app, "/readyz", &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("Redis"), "{body}");
}

#[tokio::test]
async fn metrics_follow_connections_views_and_presence() {
    let app = router(test_config(), Probe::default());
    let addr = serve(app.clone()).await;
    let scrape = || {
        let app = app.clone();
        async move {
            let (status, headers, body) = get(app, "/metrics", &[]).await;
            assert_eq!(status, 200, "{body}");
            assert!(
                headers[http_content_type()]
                    .to_str()
                    .unwrap_or("")
                    .starts_with("text/plain")
            );
            body
        }
    };
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    let body = scrape().await;
    assert_eq!(sample(&body, "djust_connections"), Some(1.0), "{body}");
    assert!(
        sample(&body, "djust_connections_total").unwrap_or(0.0) >= 1.0,
        "{body}"
    );
    assert!(body.contains("djust_views_mounted{view="), "{body}");
    assert!(sample(&body, "djust_presence_keys").is_some(), "{body}");
    assert!(sample(&body, "djust_presence_entries").is_some(), "{body}");
    ws.close(1000).await;
    let mut closed = false;
    for _ in 0..100 {
        if sample(&scrape().await, "djust_connections") == Some(0.0) {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        closed,
        "the connection gauge goes back to 0 after the close"
    );
}

fn http_content_type() -> djust::axum::http::HeaderName {
    djust::axum::http::header::CONTENT_TYPE
}
