//! `/djust/djust.js` is cacheable by validation (ETag, `no-cache`) and compressed with gzip or
//! brotli when the browser accepts it.

mod support;

use djust::SCRIPT_PATH;
use support::{Probe, get, router, test_config};

#[tokio::test]
async fn the_script_has_an_etag_and_answers_304_when_current() {
    // Outside dev mode (in dev mode it is read fresh and never cached: `tests/dev.rs`).
    let app = router(test_config().with_dev(false), Probe::default());
    let (status, headers, body) = get(app.clone(), SCRIPT_PATH, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("window.djust"), "the client script itself");
    assert_eq!(headers["cache-control"], "no-cache");
    let etag = headers["etag"].to_str().expect("ascii etag").to_owned();
    assert!(etag.starts_with("\"djust-"), "{etag}");
    let (status, headers, body) = get(app.clone(), SCRIPT_PATH, &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(headers["etag"].to_str().ok(), Some(etag.as_str()));
    let (status, _, _) = get(app, SCRIPT_PATH, &[("if-none-match", "\"old\"")]).await;
    assert_eq!(status, 200, "a stale tag gets the script");
}

#[tokio::test]
async fn the_script_is_compressed_as_the_browser_accepts() {
    let app = router(test_config(), Probe::default());
    for (accept, encoding) in [("gzip", "gzip"), ("br", "br"), ("br, gzip", "br")] {
        use tower::ServiceExt;
        let req = djust::axum::http::Request::builder()
            .uri(SCRIPT_PATH)
            .header("accept-encoding", accept)
            .body(djust::axum::body::Body::empty())
            .expect("request");
        let resp = app.clone().oneshot(req).await.expect("infallible");
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-encoding"],
            encoding,
            "Accept-Encoding: {accept}"
        );
        let body = djust::axum::body::to_bytes(resp.into_body(), 10 << 20)
            .await
            .expect("body");
        assert!(body.len() < 30_000, "compressed: {} bytes", body.len());
    }
    let (_, headers, _) = get(app, SCRIPT_PATH, &[]).await;
    assert!(
        headers.get("content-encoding").is_none(),
        "identity without Accept-Encoding"
    );
}
