//! Identity: the signed session cookie for anonymous users, the authenticated user from an
//! axum middleware, and both reaching `mount` over HTTP and over the WebSocket.

mod support;

use support::views::router;
use support::{Probe, Ws, get, serve, session_cookie, test_config};

#[tokio::test]
async fn first_get_sets_a_signed_session_cookie_that_identifies_the_user() {
    let probe = Probe::default();
    let app = router(test_config(), probe.clone());
    let (status, headers, body) = get(app.clone(), "/counter/1", &[]).await;
    assert_eq!(status, 200);
    let set_cookie = headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("djust_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Path=/"));
    let user = probe.log().identities[0].0.clone();
    assert!(user.starts_with("anon_") && user.len() == 5 + 32, "{user}");
    assert!(body.contains(&format!(r#"<p id="user">{user}</p>"#)));

    // The same cookie: same identity, no new cookie.
    let cookie = session_cookie(&headers);
    let (_, headers, body) = get(app.clone(), "/counter/1", &[("cookie", &cookie)]).await;
    assert!(headers.get("set-cookie").is_none());
    assert!(body.contains(&format!(r#"<p id="user">{user}</p>"#)));

    // A tampered cookie is ignored and replaced.
    let tampered = cookie.replace('=', "=x");
    let (_, headers, body) = get(app, "/counter/1", &[("cookie", &tampered)]).await;
    assert!(headers.get("set-cookie").is_some());
    assert!(!body.contains(&user));
}

#[tokio::test]
async fn the_websocket_sees_the_cookie_identity() {
    let probe = Probe::default();
    let app = router(test_config(), probe.clone());
    let addr = serve(app.clone()).await;
    let (_, headers, _) = get(app, "/counter/1", &[]).await;
    let cookie = session_cookie(&headers);
    let http_user = probe.log().identities[0].0.clone();

    let mut ws = Ws::connect_with(addr, &[("cookie", &cookie)])
        .await
        .unwrap();
    let mounted = ws.mount("/counter/1", "").await;
    assert!(
        djust_render::full_html(&mounted)
            .unwrap()
            .contains(&http_user)
    );
    let (ws_user, authenticated, connected) = probe.log().identities[1].clone();
    assert_eq!(
        (ws_user.as_str(), authenticated, connected),
        (http_user.as_str(), false, true)
    );

    // Without a cookie every connection is its own anonymous user.
    let (_a, _) = Ws::mounted(addr, "/counter/1", "").await;
    let (_b, _) = Ws::mounted(addr, "/counter/1", "").await;
    let log = probe.log();
    let (a, b) = (&log.identities[2].0, &log.identities[3].0);
    assert!(a.starts_with("anon_") && b.starts_with("anon_"));
    assert_ne!(a, b);
    assert_ne!(a, &http_user);
}

#[tokio::test]
async fn an_authenticated_user_from_middleware_wins_over_the_cookie() {
    let probe = Probe::default();
    let app = router(test_config(), probe.clone());
    let addr = serve(app.clone()).await;
    let (_, _, body) = get(app, "/counter/1", &[("x-test-user", "7:alice")]).await;
    assert!(body.contains(r#"data-username="alice""#), "{body}");
    assert!(body.contains(r#"<p id="user">7</p>"#));
    let mut ws = Ws::connect_with(addr, &[("x-test-user", "7:alice")])
        .await
        .unwrap();
    ws.mount("/counter/1", "").await;
    let log = probe.log();
    assert_eq!(log.identities[0], ("7".to_owned(), true, false));
    assert_eq!(log.identities[1], ("7".to_owned(), true, true));
}
