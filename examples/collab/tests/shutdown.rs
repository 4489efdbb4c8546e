//! The real `collab` binary stopped as a service manager stops it (SIGTERM): every browser gets
//! Close 1012 and the process exits within its deadline; with two processes on one Redis, the
//! other process's users see the stopped one's users leave at once. Also the serve limits as
//! configured through the environment, and the open-file limit raised at start-up.
//!
//! The Redis test needs redis-server; without it it prints a loud SKIP (and fails under CI=true).

mod support;

use std::time::{Duration, Instant};

use djust_testkit::RedisServer;
use support::process::Collab;
use support::{Ws, cookie_pair, http_get, login_post};

const DOC: &str = "/doc/1";

/// Logs `name` in on `app` (POST) and loads `/` for the djust session: the `Cookie` value.
async fn cookies_of(app: &Collab, name: &str) -> String {
    let (status, headers, _) = login_post(app.addr, name, "/").await;
    assert_eq!(status, 303, "login of {name}");
    let auth = cookie_pair(&headers).expect("login cookie");
    let (_, headers, _) = http_get(app.addr, "/", Some(&auth)).await;
    let session = cookie_pair(&headers).expect("djust session cookie");
    format!("{auth}; {session}")
}

fn lists(html: &str, name: &str) -> bool {
    html.contains(&format!(r#"<span class="name">{name}</span>"#))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_websocket_with_1012_and_exits_within_the_deadline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = Collab::start(
        &dir.path().join("c.sqlite3"),
        &[("DJUST_SHUTDOWN_TIMEOUT", "3")],
        None,
    );
    let alice = cookies_of(&app, "alice").await;
    let mut a = Ws::connect(app.addr, &alice).await;
    a.mount(DOC).await;
    let mut g = Ws::connect(app.addr, "").await;
    g.mount("/").await;

    app.signal("TERM");
    assert_eq!(a.close_code().await, Some(1012), "the editor's socket");
    assert_eq!(g.close_code().await, Some(1012), "the list's socket");
    let (status, took) = app.wait_exit(Duration::from_secs(5));
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        app.log().join("\n")
    );
    assert!(took < Duration::from_secs(3), "exited after {took:?}");
    let log = app.log().join("\n");
    assert!(
        log.contains("SIGTERM") && log.contains("djust: stopped"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_shuts_down_the_same_way() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = Collab::start(&dir.path().join("c.sqlite3"), &[], None);
    let mut g = Ws::connect(app.addr, "").await;
    g.mount(DOC).await;
    app.signal("INT");
    assert_eq!(g.close_code().await, Some(1012));
    let (status, _) = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigterm_the_other_process_shows_the_leave_within_two_seconds() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("shared.sqlite3");
    let url = redis.url();
    let env = [
        ("DJUST_PRESENCE_BACKEND", "redis"),
        ("DJUST_REDIS_URL", url.as_str()),
    ];
    // The first process creates and seeds the database; the second opens it.
    let mut p1 = Collab::start(&db, &env, None);
    let p2 = Collab::start(&db, &env, None);
    let alice = cookies_of(&p1, "alice").await;
    let bob = cookies_of(&p2, "bob").await;
    let mut a = Ws::connect(p1.addr, &alice).await;
    a.mount(DOC).await;
    let mut b = Ws::connect(p2.addr, &bob).await;
    b.mount(DOC).await;
    b.wait_html("alice (process 1) listed on process 2", |h| {
        lists(h, "alice")
    })
    .await;

    let stopped = Instant::now();
    p1.signal("TERM");
    b.wait_html("alice gone from process 2", |h| {
        !lists(h, "alice") && lists(h, "bob")
    })
    .await;
    let took = stopped.elapsed();
    assert!(took < Duration::from_secs(2), "the leave took {took:?}");
    assert_eq!(b.wait_event("user_left").await["name"], "alice");
    assert_eq!(a.close_code().await, Some(1012));
    let (status, _) = p1.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits_come_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = Collab::start(
        &dir.path().join("c.sqlite3"),
        &[("DJUST_MAX_CONNECTIONS_PER_IP", "2")],
        None,
    );
    let mut a = Ws::connect(app.addr, "").await;
    a.mount(DOC).await;
    let mut b = Ws::connect(app.addr, "").await;
    b.mount(DOC).await;
    let (status, headers, body) = http_get(app.addr, "/", None).await;
    assert_eq!(status, 503, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(
        body.contains("too many connections from your address (limit 2)"),
        "{body}"
    );
    let mut c = Ws::connect(app.addr, "").await;
    assert_eq!(c.close_code().await, Some(1013));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_file_limit_is_raised_to_the_hard_limit_at_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = Collab::start(&dir.path().join("c.sqlite3"), &[], Some("ulimit -S -n 256"));
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        if let Some(line) = app
            .log()
            .into_iter()
            .find(|l| l.contains("open-file limit"))
        {
            break line;
        }
        assert!(Instant::now() < deadline, "not logged: {:?}", app.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (_, after) = line
        .split_once("soft 256 -> ")
        .unwrap_or_else(|| panic!("{line}"));
    let soft: u64 = after
        .split(',')
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap();
    let hard: u64 = after
        .split("hard ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(soft, hard, "{line}");
    assert!(
        hard > 256,
        "this machine's hard limit is 256: nothing to raise ({line})"
    );
}
