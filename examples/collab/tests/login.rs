//! Login and logout over plain HTTP: POST only and from this site (CSRF), `next` only to this
//! site (open redirect), server-side sessions (revocation, names from the database),
//! expiring cookies, and the security headers of every response.

mod support;

use std::time::Duration;

use support::{cookie_pair, http_get, http_request, location, login_post, start, start_with};

/// Whether the page GET of `/` with `cookies` shows `name` as the logged-in user.
async fn logged_in_as(app: &support::TestApp, cookies: &str, name: &str) -> bool {
    let (_, _, page) = http_get(app.addr, "/", Some(cookies)).await;
    page.contains(&format!(r#"data-username="{name}""#))
}

/// Whether the page GET of `/` with `cookies` shows a guest.
async fn is_guest(app: &support::TestApp, cookies: &str) -> bool {
    let (_, _, page) = http_get(app.addr, "/", Some(cookies)).await;
    page.contains(r#"data-username="""#) && page.contains("Guest ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_is_a_post_that_sets_an_expiring_cookie_and_redirects_locally() {
    let app = start().await;
    let (status, headers, _) = login_post(app.addr, "alice", "/doc/1").await;
    assert_eq!(status, 303);
    assert_eq!(location(&headers), Some("/doc/1"));
    let set = headers["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("collab_user="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let week = collab::DEFAULT_LOGIN_TTL.as_secs();
    assert!(set.contains(&format!("Max-Age={week}")), "{set}");
    let cookie = cookie_pair(&headers).unwrap();
    assert!(logged_in_as(&app, &cookie, "alice").await);
    let (_, _, page) = http_get(app.addr, "/", Some(&cookie)).await;
    assert!(page.contains(r#"<span class="me-name">alice</span>"#) && page.contains("Log out"));

    // A GET never logs in: `?name=` only fills in the form.
    let (status, headers, form) = http_get(app.addr, "/login?name=mallory&next=/doc/1", None).await;
    assert_eq!(status, 200);
    assert!(headers.get("set-cookie").is_none(), "{headers:?}");
    assert!(form.contains(r#"method="post" action="/login""#), "{form}");
    assert!(form.contains(r#"value="mallory""#) && form.contains(r#"value="&#x2f;doc&#x2f;1""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_names_are_explained_escaped() {
    let app = start().await;
    let (status, _, page) = login_post(app.addr, "  ", "/").await;
    assert_eq!(status, 400);
    assert!(page.contains("enter a name to log in"), "{page}");
    let (status, _, page) = login_post(app.addr, &"<b>".repeat(20), "/").await;
    assert_eq!(status, 400);
    assert!(
        page.contains("at most 40 characters; this one has 60"),
        "{page}"
    );
    assert!(
        page.contains("&lt;b&gt;") && !page.contains("<b>"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_logins_and_logouts_are_refused() {
    let app = start().await;
    let body = "name=victim&next=%2F";
    for (header, value) in [
        ("Origin", "http://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let (status, headers, text) =
            http_request(app.addr, "POST", "/login", &[(header, value)], body).await;
        assert_eq!(status, 403, "{header}: {value}");
        assert!(headers.get("set-cookie").is_none(), "{header}: {value}");
        assert!(text.contains("cross-site request refused"), "{text}");
    }
    // A cross-site logout does not log the victim out.
    let alice = app.login("alice").await;
    let evil = [
        ("Origin", "http://evil.example"),
        ("Cookie", alice.as_str()),
    ];
    let (status, headers, _) = http_request(app.addr, "POST", "/logout", &evil, "").await;
    assert_eq!(status, 403);
    assert!(headers.get("set-cookie").is_none());
    assert!(logged_in_as(&app, &alice, "alice").await);
    // Logging in or out with a GET does nothing.
    let (status, _, _) = http_get(app.addr, "/logout", Some(&alice)).await;
    assert_eq!(status, 405);
    assert!(logged_in_as(&app, &alice, "alice").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_is_followed_only_to_paths_of_this_site() {
    let app = start().await;
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "javascript:alert(1)",
    ] {
        let (status, headers, _) = login_post(app.addr, "bob", next).await;
        assert_eq!(status, 303, "{next:?}");
        assert_eq!(location(&headers), Some("/"), "{next:?}");
    }
    // The reported one: `/login?next=/%09/evil.example/` (a tab, dropped by browsers).
    let (_, _, form) = http_get(app.addr, "/login?next=/%09/evil.example/", None).await;
    assert!(form.contains(r#"name="next" value="&#x2f;""#), "{form}");
    assert!(!form.contains("evil.example"), "{form}");
    let (_, headers, _) = login_post(app.addr, "bob", "/doc/1?x=1#top").await;
    assert_eq!(location(&headers), Some("/doc/1?x=1#top"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_session_even_for_a_copied_cookie() {
    let app = start().await;
    let alice = app.login("alice").await;
    let copy = alice.clone();
    assert!(logged_in_as(&app, &copy, "alice").await);
    let origin = format!("http://{}", app.addr);
    let own = [("Origin", origin.as_str()), ("Cookie", alice.as_str())];
    let (status, headers, _) = http_request(app.addr, "POST", "/logout", &own, "").await;
    assert_eq!(status, 303);
    assert_eq!(location(&headers), Some("/"));
    let cleared = headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("collab_user=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The browser dropped it; a copy kept elsewhere is refused by the server.
    assert!(
        is_guest(&app, &copy).await,
        "a revoked cookie still logs in"
    );
    // The WebSocket sees a guest too: its presence is not alice's.
    let _ws = app.ws(&copy, "/doc/1").await;
    let names = app.names("editor:1");
    assert!(
        names.len() == 1 && names[0].starts_with("Guest "),
        "{names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_cookie_is_refused_by_the_server() {
    let app = start_with(|o| o.login_ttl(Duration::from_secs(1))).await;
    let (_, headers, _) = login_post(app.addr, "alice", "/").await;
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=1")
    );
    let cookie = cookie_pair(&headers).unwrap();
    assert!(logged_in_as(&app, &cookie, "alice").await);
    // A client that ignores Max-Age (a copied cookie) is refused once the signed issue time
    // is a TTL old. The issue time has a resolution of one second, hence 2 s.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        is_guest(&app, &cookie).await,
        "an expired cookie still logs in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_carries_no_name_and_cannot_be_forged() {
    let app = start().await;
    let (_, headers, _) = login_post(app.addr, "alice", "/").await;
    let cookie = cookie_pair(&headers).unwrap();
    assert!(
        !cookie.contains("alice"),
        "the name is looked up server-side: {cookie}"
    );
    // Changing any character of the signed value breaks it.
    let (name, value) = cookie.split_once('=').unwrap();
    let last = value.chars().last().unwrap();
    let flipped = if last == 'a' { 'b' } else { 'a' };
    let forged = format!("{name}={}{flipped}", &value[..value.len() - 1]);
    assert!(is_guest(&app, &forged).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = start().await;
    let alice = app.login("alice").await;
    let mut responses = Vec::new();
    for path in [
        "/",
        "/doc/1",
        "/doc/999",
        "/login",
        "/static/collab.js",
        "/djust/djust.js",
        "/no-such-page",
    ] {
        let (status, headers, _) = http_get(app.addr, path, Some(&alice)).await;
        responses.push((format!("GET {path} ({status})"), headers));
    }
    let (_, headers, _) = login_post(app.addr, "bob", "/").await;
    responses.push(("POST /login".into(), headers));
    let (_, headers, _) = http_request(
        app.addr,
        "POST",
        "/login",
        &[("Origin", "http://evil.example")],
        "",
    )
    .await;
    responses.push(("refused POST /login".into(), headers));
    for (what, headers) in responses {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(get("x-frame-options"), "DENY", "{what}");
        assert_eq!(get("content-security-policy"), collab::CSP, "{what}");
        assert!(collab::CSP.contains("frame-ancestors 'none'"));
        assert!(
            collab::CSP.contains("script-src 'self';"),
            "no inline scripts"
        );
    }
}
