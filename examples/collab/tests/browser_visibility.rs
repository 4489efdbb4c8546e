//! Invisibility and the colour outlive the connection, in real Chromium against the real
//! `collab` binary: killed with `kill -9` and restarted on the same port and database, every
//! page reconnects; a person who went invisible is still invisible (after the reconnect and
//! after a reload), and a person keeps the colour they showed, even where the room's rule
//! would now give them another. And the other open tabs of that browser follow a change of
//! visibility.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::time::Duration;

use collab::people::COLORS;
use djust_testkit::Page;
use support::browser::{R, connections_of, lists_exactly, open_as, open_at, open_tab};
use support::process::Collab;
use support::{login_post, start};

const DOC: &str = "/doc/1";
const ENV: [(&str, &str); 1] = [("RUST_LOG", "warn")];

/// After a moment for any join to arrive: `page` lists only `name` and counts one.
async fn lists_only(page: &Page, name: &str, after: &str) -> R {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = page
        .eval(&format!(
            "return {} && document.querySelector('.presence-sidebar h3').textContent === '1 Editing'",
            lists_exactly(&[name])
        ))
        .await?;
    assert_eq!(got, true, "{name}'s page lists only {name} {after}");
    Ok(())
}

/// Waits (a hang guard: a restart and the client's backoff) until `page` mounted `n` times.
async fn remounted(page: &Page, n: u64) -> R {
    page.wait_for_within(
        &format!("window.djust.connected && window.djust.mountCount >= {n}"),
        Duration::from_secs(40),
    )
    .await
    .map(|_| ())
}

/// JS: the sidebar entry of public id `uid` is drawn in `color`.
fn listed_in(uid: &str, color: &str) -> String {
    format!(
        "(() => {{ const d = document.querySelector('.user-list li[data-uid=\"{uid}\"] .dot');
                   return !!d && d.getAttribute('style').includes('{color}'); }})()"
    )
}

/// JS: this page's own person shows `color` (the presence meta's, rendered on the container).
fn own_color(color: &str) -> String {
    format!("document.querySelector('.editor-container').dataset.color === '{color}'")
}

const INVISIBLE: &str = "document.querySelector('button.visibility').getAttribute('aria-pressed') === 'true' \
     && !!document.querySelector('.invisible-note')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invisibility_and_colour_survive_a_server_restart_and_a_reload() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    run(&browser).await.expect("visibility across restarts");
}

async fn run(browser: &djust_testkit::Browser) -> R {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("c.sqlite3");
    let port = djust_testkit::free_port();
    let mut app = Collab::start_on(&db, port, &ENV, None);
    // Users 1..=12: alice is user 2 and prefers COLORS[2], as does user 12.
    for i in 1..=12 {
        let name = if i == 2 {
            "alice".to_owned()
        } else {
            format!("x{i}")
        };
        assert_eq!(
            login_post(app.addr, &name, "/").await.0,
            303,
            "login {name}"
        );
    }
    let x12 = open_at(browser, app.addr, Some("x12"), DOC).await?;
    let alice = open_at(browser, app.addr, Some("alice"), DOC).await?;
    // x12 shows alice's preferred colour, so she got the next free one.
    alice.wait_for(&own_color(COLORS[3])).await?;
    x12.wait_for(&listed_in("u2", COLORS[3])).await?;
    x12.close().await?;

    // 1. The server dies and comes back: the room is empty, and the rule alone would now give
    //    alice her preferred colour. She keeps the one she showed.
    app.kill9();
    app = Collab::start_on(&db, port, &ENV, None);
    remounted(&alice, 2).await?;
    alice.wait_for(&listed_in("u2", COLORS[3])).await?;
    assert_eq!(
        alice
            .eval("return document.querySelector('.editor-container').dataset.color")
            .await?,
        COLORS[3],
        "alice's colour after the restart"
    );

    // 2. She goes invisible; bob arrives and does not see her.
    alice.click("button.visibility").await?;
    alice.wait_for(INVISIBLE).await?;
    alice
        .wait_for("document.cookie.split('; ').includes('collab_invisible=u2')")
        .await?;
    let bob = open_at(browser, app.addr, Some("x1"), DOC).await?;
    bob.wait_for(&lists_exactly(&["x1"])).await?;

    // 3. The server dies again: both pages reconnect, alice still invisible.
    app.kill9();
    let app = Collab::start_on(&db, port, &ENV, None);
    remounted(&alice, 3).await?;
    remounted(&bob, 2).await?;
    alice.wait_for(INVISIBLE).await?;
    // Both are connected now: a visible alice would be listed for bob within a tick.
    lists_only(&bob, "x1", "after the reconnect").await?;

    // 4. A reload: still invisible.
    alice.goto(&format!("http://{}{DOC}", app.addr)).await?;
    remounted(&alice, 1).await?;
    alice.wait_for(INVISIBLE).await?;
    lists_only(&bob, "x1", "after alice's reload").await?;

    // 5. Visible again, in her colour; the cookie is gone.
    alice.click("button.visibility").await?;
    bob.wait_for(&listed_in("u2", COLORS[3])).await?;
    alice
        .wait_for("!document.cookie.includes('collab_invisible=')")
        .await?;
    alice.close().await?;
    bob.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_tabs_of_the_browser_follow_a_change_of_visibility() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    two_tabs(&browser).await.expect("two tabs");
}

fn failed(
    what: &'static str,
) -> impl FnOnce(djust_testkit::fantoccini::error::CmdError) -> djust_testkit::TestkitError {
    move |source| djust_testkit::TestkitError::Command {
        what: what.to_owned(),
        source: Box::new(source),
    }
}

async fn two_tabs(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let bob = open_as(browser, &app, Some("bob"), DOC).await?;
    let alice = open_as(browser, &app, Some("alice"), DOC).await?;
    let first = open_tab(&alice, &app, DOC).await?;
    bob.wait_for(&lists_exactly(&["alice", "bob"])).await?;
    // Invisible in the second tab: the first follows, so nothing keeps her present.
    alice.click("button.visibility").await?;
    alice.wait_for(INVISIBLE).await?;
    bob.wait_for(&lists_exactly(&["bob"])).await?;
    let second = alice
        .client()
        .window()
        .await
        .map_err(failed("current tab"))?;
    alice
        .client()
        .switch_to_window(first)
        .await
        .map_err(failed("switch to the first tab"))?;
    alice.wait_for(INVISIBLE).await?;
    assert!(
        app.names("editor:1") == ["bob"],
        "only bob is present: {:?}",
        app.names("editor:1")
    );
    // Visible again from the first tab: the second follows (one person, listed once).
    alice.click("button.visibility").await?;
    bob.wait_for(&lists_exactly(&["alice", "bob"])).await?;
    alice
        .client()
        .switch_to_window(second)
        .await
        .map_err(failed("switch to the second tab"))?;
    alice
        .wait_for(
            "document.querySelector('button.visibility').getAttribute('aria-pressed') === 'false'",
        )
        .await?;
    support::eventually_true(|| connections_of(&app, "editor:1", "alice") == 2).await;
    alice.close().await?;
    bob.close().await?;
    Ok(())
}
