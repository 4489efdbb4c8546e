//! Presence and cursors in real Chromium contexts (separate cookies): the list, remote cursors
//! with name and colour, closing a tab, and two tabs of one user.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::time::Duration;

use support::browser::{
    DRAWN, R, close_tab, connected, connections_of, cursor, cursor_count, held_after, listed,
    lists_exactly, open_as, open_tab,
};
use support::start;

const DOC: &str = "/doc/1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_cursors_in_chromium() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    three_contexts_list_cursors_and_tab_close(&browser)
        .await
        .expect("list, cursors and closing a tab");
    two_tabs_of_one_user(&browser).await.expect("two tabs");
}

/// The colour the room gave `name` (their presence meta's `color`; a guest may have taken
/// their preferred one first).
fn colour_of(app: &support::TestApp, name: &str) -> String {
    app.presence
        .list("editor:1")
        .iter()
        .find(|p| p.get_str("name") == Some(name))
        .and_then(|p| p.get_str("color"))
        .unwrap_or_default()
        .to_owned()
}

async fn three_contexts_list_cursors_and_tab_close(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let b = open_as(browser, &app, Some("bob"), DOC).await?; // user 1
    let c = open_as(browser, &app, None, DOC).await?; // a guest
    let a = open_as(browser, &app, Some("alice"), "/").await?; // user 2
    // Alice's editor lives in a second tab, so closing it is a real tab close.
    let first_tab = open_tab(&a, &app, DOC).await?;

    let guest = app
        .names("editor:1")
        .into_iter()
        .find(|n| n.starts_with("Guest "))
        .expect("the guest is present");
    for page in [&a, &b, &c] {
        page.wait_for(&lists_exactly(&["alice", "bob", &guest]))
            .await?;
    }
    assert!(
        b.eval("return document.querySelector('.presence-sidebar h3').textContent")
            .await?
            == "3 Editing"
    );

    // Alice moves her mouse over the editor: bob and the guest see her cursor, named and
    // coloured; alice does not see her own.
    a.mouse_move(".editor-main", 200.0, 120.0).await?;
    for page in [&b, &c] {
        page.wait_for("document.querySelector('.cursor[data-uid=\"u2\"]')")
            .await?;
        let cur = cursor(page, "u2").await?;
        assert_eq!(cur["name"], "alice", "{cur}");
        assert_eq!(cur["fill"], colour_of(&app, "alice"), "{cur}");
        let (left, top) = (cur["left"].as_i64().unwrap(), cur["top"].as_i64().unwrap());
        assert!((left - 200).abs() <= 2 && (top - 120).abs() <= 2, "{cur}");
    }
    a.mouse_move(".editor-main", 400.0, 300.0).await?;
    b.wait_for(&format!("(() => {{ {DRAWN} const c = document.querySelector('.cursor[data-uid=\"u2\"]'); if (!c) return false; const at = drawn(c); return Math.abs(at.x - 400) <= 2 && Math.abs(at.y - 300) <= 2; }})()"))
        .await?;
    assert_eq!(
        cursor_count(&a).await?,
        0,
        "alice sees no cursor of her own"
    );
    // Bob's colour is user 1's.
    b.mouse_move(".editor-main", 50.0, 60.0).await?;
    a.wait_for("document.querySelector('.cursor[data-uid=\"u1\"]')")
        .await?;
    assert_eq!(cursor(&a, "u1").await?["fill"], colour_of(&app, "bob"));

    // Alice closes her tab: bob's and the guest's list and cursors update within a second.
    let closed = std::time::Instant::now();
    close_tab(&a, first_tab).await?;
    let gone = format!(
        "{} && !document.querySelector('.cursor[data-uid=\"u2\"]')",
        lists_exactly(&["bob", &guest])
    );
    let took_b = held_after(&b, &gone, closed, Duration::from_secs(5)).await?;
    assert!(
        took_b < Duration::from_secs(1),
        "bob saw alice leave after {took_b:?}"
    );
    let took_c = held_after(&c, &gone, closed, Duration::from_secs(5)).await?;
    assert!(
        took_c < Duration::from_secs(1),
        "the guest saw alice leave after {took_c:?}"
    );
    println!(
        "tab close → peers updated: bob {took_b:?}, guest {took_c:?} (measured from the close)"
    );
    assert!(
        b.eval("return document.querySelector('.flashes').textContent")
            .await?
            .as_str()
            .unwrap_or_default()
            .contains("alice left")
    );
    for page in [a, b, c] {
        page.close().await?;
    }
    Ok(())
}

async fn two_tabs_of_one_user(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let b = open_as(browser, &app, Some("bob"), DOC).await?;
    let a = open_as(browser, &app, Some("alice"), DOC).await?;
    let first = open_tab(&a, &app, DOC).await?;
    b.wait_for(&lists_exactly(&["alice", "bob"])).await?;
    // Two connections, one person.
    support::eventually_true(|| connections_of(&app, "editor:1", "alice") == 2).await;
    assert_eq!(listed(&b).await?, ["bob", "alice"]);

    close_tab(&a, first).await?;
    support::eventually_true(|| connections_of(&app, "editor:1", "alice") == 1).await;
    // The remaining tab keeps alice: still listed once, no "left" message.
    connected(&a).await?;
    assert_eq!(listed(&b).await?, ["bob", "alice"]);
    let flashes = b
        .eval("return document.querySelector('.flashes').textContent")
        .await?;
    assert!(
        !flashes.as_str().unwrap_or_default().contains("alice left"),
        "{flashes}"
    );
    a.close().await?;
    b.close().await?;
    Ok(())
}
