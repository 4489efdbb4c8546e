//! The real `collab` binary stopped and restarted under a Chromium page: an edit made right
//! before a SIGTERM is in the document after the restart; text typed while the server is down
//! is there after the restart, on every screen and after a reload; a `dj-*` event raised while
//! the server is down is delivered after the restart; the connection-state element says what
//! is going on and goes back to "Saved"; a `dj-*` event lost with a dying socket is sent again
//! after the remount; text typed while the server is down survives a reload of the page.
//!
//! Without chromium/chromedriver the tests fail with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::time::Duration;

use collab::db::SEED_CONTENT;
use djust_testkit::Page;
use support::browser::connected;
use support::text::{DOC, Restartable, open_guest, stored_becomes, stored_content, value};

/// The text of the page's `[dj-connection-state]` element.
async fn banner(page: &Page) -> String {
    let v = page
        .eval("return document.querySelector('[dj-connection-state]').textContent")
        .await
        .expect("banner");
    v.as_str().unwrap_or_default().to_owned()
}

/// Waits (a hang guard) until the page remounted `n` times in all and everything is saved.
async fn back_and_saved(page: &Page, mounts: u64) {
    page.wait_for_within(
        &format!("window.djust.mountCount >= {mounts}"),
        Duration::from_secs(40),
    )
    .await
    .expect("reconnected");
    page.wait_for("window.djust.connectionState.state === 'saved' && document.body.getAttribute('dj-connection') === 'saved'")
        .await
        .expect("saved again");
    assert_eq!(banner(page).await, "Saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_just_before_sigterm_is_in_the_document_after_the_restart() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let server = Restartable::new();
    let db = server.db.clone();
    let mut app = server.start();
    let page = open_guest(&browser, app.addr, DOC).await.expect("page");
    page.type_into("textarea", " typed before SIGTERM")
        .await
        .expect("typed");
    // Within 100 ms of the last keystroke, before the 100 ms save delay ran out: the graceful
    // shutdown must flush it. (30 ms for the first update's frame to reach the server.)
    tokio::time::sleep(Duration::from_millis(30)).await;
    app.signal("TERM");
    let (status, _) = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "clean exit: {status:?}");
    let want = format!("{SEED_CONTENT} typed before SIGTERM");
    // What the server had was flushed before it exited (keystrokes still in the page — beyond
    // the 16 updates in flight, or not yet sent — go after the reconnect; a socket keeps their
    // order, so what was saved is a prefix).
    let at_exit = stored_content(&db).await;
    assert!(
        at_exit.len() > SEED_CONTENT.len() && want.starts_with(&at_exit),
        "flushed on SIGTERM: {at_exit:?}"
    );
    let app = server.start();
    back_and_saved(&page, 2).await;
    assert_eq!(value(&page).await.expect("value"), want);
    let other = open_guest(&browser, app.addr, DOC)
        .await
        .expect("second page");
    assert_eq!(value(&other).await.expect("value"), want);
    page.close().await.expect("close");
    other.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_typed_while_the_server_is_down_is_everywhere_after_the_restart() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let server = Restartable::new();
    let db = server.db.clone();
    let mut app = server.start();
    let a = open_guest(&browser, app.addr, DOC).await.expect("a");
    let b = open_guest(&browser, app.addr, DOC).await.expect("b");
    app.kill9();
    a.wait_for("document.body.classList.contains('dj-disconnected')")
        .await
        .expect("a sees the drop");
    // Typed during the outage, by both.
    a.type_into("textarea", " [a offline]")
        .await
        .expect("a typed");
    b.wait_for("document.body.classList.contains('dj-disconnected')")
        .await
        .expect("b sees the drop");
    b.type_into("textarea", " [b offline]")
        .await
        .expect("b typed");
    // The banner says the changes are kept.
    a.wait_for("document.querySelector('[dj-connection-state]').textContent.startsWith('Offline — changes are kept and will be sent')")
        .await
        .expect("offline banner");
    assert_eq!(
        a.eval("return document.body.getAttribute('dj-connection')")
            .await
            .expect("attr"),
        "offline"
    );
    let app = server.start();
    back_and_saved(&a, 2).await;
    back_and_saved(&b, 2).await;
    // Both texts on both screens (after the seed, in some order), and in SQLite.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let (ta, tb) = (
            value(&a).await.expect("value"),
            value(&b).await.expect("value"),
        );
        if ta == tb && ta.contains("[a offline]") && ta.contains("[b offline]") {
            break ta;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not converged: {ta:?} / {tb:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(text.len(), SEED_CONTENT.len() + 2 * " [a offline]".len());
    assert_eq!(stored_content(&db).await, text);
    // After a reload too.
    a.goto(&format!("http://{}{DOC}", app.addr))
        .await
        .expect("reload");
    connected(&a).await.expect("connected");
    assert_eq!(value(&a).await.expect("value"), text);
    a.close().await.expect("close");
    b.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_raised_while_the_server_is_down_is_delivered_after_the_restart() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let server = Restartable::new();
    let db = server.db.clone();
    let mut app = server.start();
    // The spec's simple variant: the textarea's debounced dj-input="update_content".
    let path = "/doc/1?simple=true";
    let page = open_guest(&browser, app.addr, path).await.expect("page");
    assert_eq!(banner(&page).await, "Saved");
    app.kill9();
    page.wait_for("document.body.classList.contains('dj-disconnected')")
        .await
        .expect("dropped");
    page.wait_for("/^Reconnecting( in \\d+ s)?…$/.test(document.querySelector('[dj-connection-state]').textContent)")
        .await
        .expect("reconnecting banner");
    // Mouse moves (cursor positions) are not kept: stale once the connection is back.
    page.mouse_move(".editor-main", 30.0, 30.0)
        .await
        .expect("move");
    page.mouse_move(".editor-main", 60.0, 40.0)
        .await
        .expect("move");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        page.eval("return window.djust.connectionState.queued")
            .await
            .expect("queued"),
        0,
        "mousemove is dropped while offline"
    );
    page.type_into("textarea", " sent later")
        .await
        .expect("typed");
    // After the 500 ms debounce the input event is queued (with the hook's `typing` events),
    // and the banner says so.
    page.wait_for("window.djust.connectionState.queued >= 1")
        .await
        .expect("queued");
    page.wait_for("document.querySelector('[dj-connection-state]').textContent.startsWith('Offline — changes are kept')")
        .await
        .expect("offline banner");
    let _app = server.start();
    back_and_saved(&page, 2).await;
    let want = format!("{SEED_CONTENT} sent later");
    stored_becomes(&db, &want).await;
    assert_eq!(value(&page).await.expect("value"), want);
    page.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_lost_with_a_dying_socket_is_sent_again_after_the_remount() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let server = Restartable::new();
    let app = server.start();
    let path = "/doc/1?simple=true";
    let page = open_guest(&browser, app.addr, path).await.expect("page");
    // The socket dies while the page sends `update_content`: the frame never reaches the
    // server and nothing answers it (as with a connection that dropped without a word).
    page.eval(
        "window.__lost = 0;
         const send = WebSocket.prototype.send;
         WebSocket.prototype.send = function (data) {
           if (!window.__lost && String(data).includes('\"name\":\"update_content\"')) {
             window.__lost = 1;
             this.close(4000, 'test: the socket died');
             return;
           }
           return send.call(this, data);
         };
         return true;",
    )
    .await
    .expect("patched");
    page.type_into("textarea", " lost once")
        .await
        .expect("typed");
    page.wait_for("window.__lost === 1")
        .await
        .expect("sent and lost");
    back_and_saved(&page, 2).await;
    let want = format!("{SEED_CONTENT} lost once");
    stored_becomes(&server.db, &want).await;
    // Answered: nothing is kept any more.
    page.wait_for("window.djust.connectionState.queued === 0")
        .await
        .expect("acknowledged");
    page.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_typed_while_the_server_is_down_survives_a_reload_of_the_page() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let server = Restartable::new();
    let mut app = server.start();
    let url = format!("http://{}{DOC}", app.addr);
    let page = open_guest(&browser, app.addr, DOC).await.expect("page");
    app.kill9();
    page.wait_for("document.body.classList.contains('dj-disconnected')")
        .await
        .expect("dropped");
    page.type_into("textarea", " [typed offline, then reloaded]")
        .await
        .expect("typed");
    page.wait_for("document.body.getAttribute('dj-connection') === 'offline'")
        .await
        .expect("offline");
    // Reloaded while the server is still down: the browser shows its error page.
    let _ = page.goto(&url).await;
    assert_ne!(
        page.eval("return !!document.querySelector('textarea')")
            .await
            .expect("eval"),
        true,
        "the page is gone"
    );
    let _app = server.start();
    page.goto(&url).await.expect("loaded again");
    connected(&page).await.expect("connected");
    let want = format!("{SEED_CONTENT} [typed offline, then reloaded]");
    page.wait_for_within(
        &format!(
            "document.querySelector('textarea').value === {}",
            serde_json::json!(want)
        ),
        Duration::from_secs(10),
    )
    .await
    .expect("the kept text is back in the field");
    back_and_saved(&page, 1).await;
    assert_eq!(stored_content(&server.db).await, want, "and in SQLite");
    page.close().await.expect("close");
}
