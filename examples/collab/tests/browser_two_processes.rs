//! Two collab processes (two apps on two ports) sharing one Redis and one SQLite file: a user
//! on one port and a user on the other see each other in the list and see each other's
//! cursors, in real Chromium contexts.
//!
//! Needs redis-server, chromium and chromedriver; without them it fails with the install command (a
//! counted skip with `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use collab::people::COLORS;
use support::TestApp;
use support::browser::{R, cursor, lists_exactly, open_as};

const DOC: &str = "/doc/1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_two_processes_see_each_other_and_their_cursors() {
    let Some((_redis, browser, p1, p2)) = support::two_processes().await else {
        return;
    };
    across(&browser, &p1, &p2).await.expect("two processes");
}

async fn across(browser: &djust_testkit::Browser, p1: &TestApp, p2: &TestApp) -> R {
    let a = open_as(browser, p1, Some("alice"), DOC).await?; // user 1, on process 1
    let b = open_as(browser, p2, Some("bob"), DOC).await?; // user 2, on process 2
    for page in [&a, &b] {
        page.wait_for(&lists_exactly(&["alice", "bob"])).await?;
    }

    a.mouse_move(".editor-main", 150.0, 90.0).await?;
    b.wait_for("document.querySelector('.cursor[data-uid=\"u1\"]')")
        .await?;
    let seen = cursor(&b, "u1").await?;
    assert_eq!(seen["name"], "alice", "{seen}");
    assert_eq!(seen["fill"], COLORS[1], "{seen}");

    b.mouse_move(".editor-main", 40.0, 30.0).await?;
    a.wait_for("document.querySelector('.cursor[data-uid=\"u2\"]')")
        .await?;
    assert_eq!(cursor(&a, "u2").await?["name"], "bob");

    // Alice leaves process 1: bob, on process 2, sees her go.
    a.close().await?;
    b.wait_for(&format!(
        "{} && !document.querySelector('.cursor[data-uid=\"u1\"]')",
        lists_exactly(&["bob"])
    ))
    .await?;
    b.close().await?;
    Ok(())
}
