//! Screenshots of the example in Chromium — three users in one document, on a desktop (1280 px)
//! and a phone (375 px) width, and the live document list — written to
//! `target/screenshots/` (CI keeps that folder as an artifact; `docs/screenshots/` has a copy).
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::path::PathBuf;

use support::browser::{R, lists_exactly, open_as};
use support::start;

const DOC: &str = "/doc/1";

/// `target/screenshots` of this workspace (or of `CARGO_TARGET_DIR`).
fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("screenshots")
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.get(..8)? != b"\x89PNG\r\n\x1a\n" || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |r: std::ops::Range<usize>| png.get(r)?.try_into().ok().map(u32::from_be_bytes);
    Some((be(16..20)?, be(20..24)?))
}

async fn resize(page: &djust_testkit::Page, width: u32, height: u32) -> R {
    page.client()
        .set_window_size(width, height)
        .await
        .map_err(|source| djust_testkit::TestkitError::Command {
            what: format!("set window size {width}x{height}"),
            source: Box::new(source),
        })
}

/// Saves the page's viewport as `name` and checks it is a PNG `width` pixels wide.
async fn shoot(page: &djust_testkit::Page, name: &str, width: u32) -> R {
    let png = page.client().screenshot().await.map_err(|source| {
        djust_testkit::TestkitError::Command {
            what: format!("screenshot {name}"),
            source: Box::new(source),
        }
    })?;
    let size = png_size(&png);
    assert!(
        size.is_some_and(|(w, h)| w == width && h > 300),
        "{name}: not a {width} px PNG: {size:?}"
    );
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    let path = dir.join(name);
    std::fs::write(&path, &png).expect("write the screenshot");
    println!("screenshot: {} ({} bytes)", path.display(), png.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_three_users_in_one_document() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    three_users(&browser).await.expect("screenshots");
}

async fn three_users(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let alice = open_as(browser, &app, Some("alice"), DOC).await?;
    let bob = open_as(browser, &app, Some("bob"), DOC).await?;
    let carol = open_as(browser, &app, Some("carol"), DOC).await?;
    for page in [&alice, &bob, &carol] {
        page.wait_for(&lists_exactly(&["alice", "bob", "carol"]))
            .await?;
    }
    // Bob types (his typing indicator shows), both move over the text.
    bob.type_into("textarea", "\nBob was here.").await?;
    alice
        .wait_for("document.querySelector('textarea').value.includes('Bob was here.')")
        .await?;
    bob.type_into("textarea", " Still typing").await?;
    bob.mouse_move(".editor-main", 420.0, 140.0).await?;
    carol.mouse_move(".editor-main", 230.0, 260.0).await?;
    alice
        .wait_for(
            "document.querySelectorAll('.cursor').length === 2 \
             && !!document.querySelector('.user-list .typing')",
        )
        .await?;
    // Let the cursors' motion settle before the picture.
    alice
        .eval("return new Promise((r) => setTimeout(() => r(true), 300))")
        .await?;
    shoot(&alice, "editor-desktop.png", 1280).await?;

    resize(&alice, 375, 812).await?;
    alice.wait_for("window.innerWidth <= 400").await?;
    bob.mouse_move(".editor-main", 180.0, 120.0).await?;
    alice
        .eval("return new Promise((r) => setTimeout(() => r(true), 300))")
        .await?;
    shoot(&alice, "editor-mobile.png", 375).await?;

    // The list, seen by a fourth person: who is in the document.
    let dave = open_as(browser, &app, Some("dave"), "/").await?;
    dave.wait_for("!!document.querySelector('.room[data-doc=\"1\"] .room-count')")
        .await?;
    shoot(&dave, "documents-desktop.png", 1280).await?;
    for page in [alice, bob, carol, dave] {
        page.close().await?;
    }
    Ok(())
}
