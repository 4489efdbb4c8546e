//! The document list kept live, in two real Chromium contexts: who is in each document (as
//! people join and leave), and a document created by one user appearing for the other without
//! a reload.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use support::browser::{R, open_as};
use support::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_list_is_live_in_chromium() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    rooms_and_new_documents(&browser)
        .await
        .expect("live document list");
}

/// A JS expression: the row of document 1 shows `faces` (initials) and "`n` editing".
fn row_shows(faces: &str, n: usize) -> String {
    let count = if n == 0 {
        "''".to_owned()
    } else {
        format!("'{n} editing'")
    };
    format!(
        "(() => {{ const r = document.querySelector('.room[data-doc=\"1\"]'); if (!r) return false;
                   const faces = [...r.querySelectorAll('.avatar')].map((a) => a.textContent).join('');
                   const c = r.querySelector('.room-count');
                   return faces === '{faces}' && (c ? c.textContent : '') === {count}; }})()"
    )
}

/// Waits until the row of document 1 shows `faces` and `n`; on a timeout the error says what
/// the row showed.
async fn wait_row(page: &djust_testkit::Page, faces: &str, n: usize) -> R {
    if let Err(e) = page.wait_for(&row_shows(faces, n)).await {
        let row = page
            .eval("const r = document.querySelector('.room[data-doc=\"1\"]'); return r ? r.outerHTML : 'no row'")
            .await?;
        panic!("row of document 1 is not {faces:?}/{n}: {row}\n{e}");
    }
    Ok(())
}

async fn rooms_and_new_documents(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let a = open_as(browser, &app, Some("alice"), "/").await?;
    let b = open_as(browser, &app, Some("bob"), "/").await?;
    wait_row(&a, "", 0).await?;
    // A marker that a reload would lose.
    a.eval("window.__noReload = true; return true").await?;
    b.eval("window.__noReload = true; return true").await?;

    // Carol opens document 1: both lists show her in it, live; then dave joins her.
    let c = open_as(browser, &app, Some("carol"), "/doc/1").await?;
    wait_row(&a, "C", 1).await?;
    wait_row(&b, "C", 1).await?;
    let title = a
        .eval("return document.querySelector('.room[data-doc=\"1\"] .avatar').title")
        .await?;
    assert_eq!(title, "carol");
    let d = open_as(browser, &app, Some("dave"), "/doc/1").await?;
    wait_row(&a, "CD", 2).await?;
    // They leave (closing their tabs): the row empties.
    d.close().await?;
    wait_row(&a, "C", 1).await?;
    c.close().await?;
    wait_row(&a, "", 0).await?;
    wait_row(&b, "", 0).await?;

    // Alice creates a document: it appears in bob's list without a reload.
    a.type_into("form.new-document input[name=title]", "Made by alice")
        .await?;
    a.click("form.new-document button[type=submit]").await?;
    let appears = "[...document.querySelectorAll('.doc-link')].some((l) => l.textContent === 'Made by alice')";
    a.wait_for(appears).await?;
    b.wait_for(appears).await?;
    for page in [&a, &b] {
        assert_eq!(
            page.eval("return window.__noReload === true").await?,
            true,
            "the list updated in place"
        );
    }
    a.close().await?;
    b.close().await?;
    Ok(())
}
