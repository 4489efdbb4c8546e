//! Plain HTTP: login and logout, page GETs (static renders), errors, assets, and the document
//! list's live form.

mod support;

use serde_json::json;
use support::{cookie_pair, http_get, location, login_path, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_by_query_sets_a_signed_cookie_and_redirects_locally() {
    let app = start().await;
    let (status, headers, _) = http_get(
        app.addr,
        &format!("{}&next=/doc/1", login_path("alice")),
        None,
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location(&headers), Some("/doc/1"));
    let cookie = cookie_pair(&headers).unwrap();
    assert!(cookie.starts_with("collab_user="), "{cookie}");
    let (_, _, page) = http_get(app.addr, "/", Some(&cookie)).await;
    assert!(page.contains(r#"data-username="alice""#), "{page}");
    assert!(
        page.contains(r#"<span class="me-name">alice</span>"#),
        "{page}"
    );
    assert!(page.contains("Log out"));

    // Tampering with the cookie makes the visitor a guest again.
    let forged = cookie.replace("alice", "admin");
    let (_, _, page) = http_get(app.addr, "/", Some(&forged)).await;
    assert!(
        page.contains(r#"data-username="""#) && page.contains("Guest "),
        "{page}"
    );

    // An absolute or protocol-relative `next` is not followed.
    for next in ["https://evil.example/", "//evil.example/"] {
        let (_, headers, _) = http_get(
            app.addr,
            &format!("{}&next={next}", login_path("bob")),
            None,
        )
        .await;
        assert_eq!(location(&headers), Some("/"), "{next}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_posts_and_bad_names_are_explained_escaped() {
    let app = start().await;
    let (status, _, form) = http_get(app.addr, "/login?next=/doc/1", None).await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"action="/login""#) && form.contains(r#"value="&#x2f;doc&#x2f;1""#));

    let (status, _, page) = http_get(app.addr, "/login?name=%20%20", None).await;
    assert_eq!(status, 400);
    assert!(page.contains("enter a name to log in"), "{page}");
    let long = "%3Cb%3E".repeat(20); // 60 characters of `<b>`
    let (status, _, page) = http_get(app.addr, &format!("/login?name={long}"), None).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("at most 40 characters; this one has 60"),
        "{page}"
    );
    assert!(
        page.contains("&lt;b&gt;") && !page.contains("<b>"),
        "{page}"
    );

    let body = "name=carol&next=%2Fdocument%2F1";
    let (status, headers) = post(app.addr, "/login", body).await;
    assert_eq!(status, 303);
    assert_eq!(location(&headers), Some("/document/1"));
    assert!(cookie_pair(&headers).unwrap().starts_with("collab_user="));

    let (status, headers) = post(app.addr, "/logout", "").await;
    assert_eq!(status, 303);
    let cleared = headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cleared.starts_with("collab_user=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_presence_statically_and_refuse_bad_ids() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let _a = app.ws(&alice, "/doc/1").await;
    // Bob's page GET already lists alice; bob is tracked only once his WebSocket mounts.
    let (status, _, page) = http_get(app.addr, "/doc/1", Some(&bob)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<span class="name">alice</span>"#),
        "{page}"
    );
    assert!(page.contains("1 Editing"), "{page}");
    assert!(page.contains(collab::db::SEED_TITLE));
    assert_eq!(app.names("editor:1"), ["alice"]);

    assert_eq!(http_get(app.addr, "/doc/999", Some(&bob)).await.0, 404);
    assert_eq!(http_get(app.addr, "/document/999", None).await.0, 404);
    assert_eq!(http_get(app.addr, "/doc/abc", None).await.0, 400);
    assert_eq!(http_get(app.addr, "/canvas/1", None).await.0, 200);

    let (status, headers, js) = http_get(app.addr, "/static/collab.js", None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.contains("window.djust.hooks.Editor = Editor"));
    let (status, _, css) = http_get(app.addr, "/static/collab.css", None).await;
    assert_eq!(status, 200);
    assert!(css.contains(".cursor-name"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_keep_their_name_across_pages() {
    let app = start().await;
    let guest = app.guest().await;
    let name_of = |page: &str| {
        page.split(r#"<span class="me-name">"#)
            .nth(1)
            .and_then(|s| s.split('<').next())
            .map(str::to_owned)
            .unwrap()
    };
    let (_, _, first) = http_get(app.addr, "/", Some(&guest)).await;
    let (_, _, second) = http_get(app.addr, "/doc/1", Some(&guest)).await;
    assert!(name_of(&first).starts_with("Guest "));
    assert_eq!(name_of(&first), name_of(&second));
    assert!(first.contains("Log in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_creates_documents() {
    let app = start().await;
    let alice = app.login("alice").await;
    let mut ws = app.ws(&alice, "/").await;
    ws.event("create_document", json!({"title": "  Meeting notes "}))
        .await;
    let html = ws
        .wait_html("new document", |h| h.contains("Meeting notes"))
        .await;
    assert!(html.contains(r#"href="/doc/2""#), "{html}");
    ws.event("create_document", json!({"title": "   "})).await;
    let html = ws.wait_html("error", |h| h.contains("A title needs")).await;
    assert_eq!(support::count(&html, "<li "), 2, "{html}");
    let (status, _, _) = http_get(app.addr, "/doc/2", Some(&alice)).await;
    assert_eq!(status, 200);
}

/// A form POST over plain TCP: (status, headers).
async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, axum::http::HeaderMap) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let head = raw.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = axum::http::HeaderMap::new();
    for line in lines {
        let (n, v) = line.split_once(':').unwrap();
        headers.append(
            axum::http::HeaderName::from_bytes(n.trim().as_bytes()).unwrap(),
            v.trim().parse().unwrap(),
        );
    }
    (status, headers)
}
