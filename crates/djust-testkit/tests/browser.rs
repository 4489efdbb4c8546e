//! The kit drives a real Chromium: pages load, scripts run, input arrives as real events.

use std::time::Duration;

use djust_testkit::{StaticFiles, TestkitError, browser, serve_dir_or_files};
use serde_json::json;

const PAGE: &str = r#"<!doctype html>
<html><body style="margin:0">
<button id="inc" onclick="window.clicks = (window.clicks || 0) + 1">+</button>
<input id="name">
<div id="pad" style="position:absolute; left:100px; top:200px; width:300px; height:200px"></div>
<script>
  document.getElementById('pad').addEventListener('mousemove', function (e) {
    window.lastMove = [e.offsetX, e.offsetY];
  });
  setTimeout(function () { window.later = 'done'; }, 150);
</script>
</body></html>"#;

#[tokio::test]
async fn drives_a_page_with_real_input() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let server = serve_dir_or_files(StaticFiles::new().file("/index.html", PAGE)).await?;
    let page = browser.new_context().await?;
    page.goto(&server.url("/")).await?;

    assert_eq!(page.eval("return 6 * 7").await?, json!(42));
    assert_eq!(
        page.eval_with("return arguments[0] + 1", vec![json!(1)])
            .await?,
        json!(2)
    );
    assert_eq!(page.wait_for("window.later").await?, json!("done"));

    page.click("#inc").await?;
    page.click("#inc").await?;
    assert_eq!(page.eval("return window.clicks").await?, json!(2));

    page.type_into("#name", "Ada").await?;
    assert_eq!(
        page.eval("return document.getElementById('name').value")
            .await?,
        json!("Ada")
    );

    page.mouse_move("#pad", 30.0, 40.0).await?;
    assert_eq!(page.wait_for("window.lastMove").await?, json!([30, 40]));

    let size = page
        .eval("return [window.innerWidth, window.innerHeight]")
        .await?;
    assert!(
        size[0].as_u64().is_some_and(|w| w > 1000),
        "window width: {size}"
    );

    page.close().await
}

#[tokio::test]
async fn wait_for_reports_the_last_value_on_timeout() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let page = browser.new_context().await?;
    let err = page
        .wait_for_within(
            "document.title === 'never' && 'x'",
            Duration::from_millis(200),
        )
        .await
        .err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("timed out"), "{message}");
    assert!(message.contains("document.title === 'never'"), "{message}");
    assert!(message.ends_with("last value: false"), "{message}");
    let thrown = page
        .wait_for_within("window.nope.deeper", Duration::from_millis(100))
        .await
        .err();
    let message = thrown.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("last value: error:"), "{message}");
    page.close().await
}

#[tokio::test]
async fn contexts_do_not_share_cookies() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let server = serve_dir_or_files(StaticFiles::new().file("/index.html", "<p>x</p>")).await?;
    let (first, second) = (browser.new_context().await?, browser.new_context().await?);
    first.goto(&server.url("/")).await?;
    second.goto(&server.url("/")).await?;
    first
        .eval("document.cookie = 'who=first; path=/'; return null")
        .await?;
    assert_eq!(
        first.eval("return document.cookie").await?,
        json!("who=first")
    );
    assert_eq!(second.eval("return document.cookie").await?, json!(""));
    first.close().await?;
    second.close().await
}

#[tokio::test]
async fn serves_memory_files_before_the_directory() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let dir = tempfile::tempdir().map_err(|source| TestkitError::Io {
        what: "tempdir",
        source,
    })?;
    std::fs::write(dir.path().join("a.txt"), "from disk").map_err(|source| TestkitError::Io {
        what: "write",
        source,
    })?;
    std::fs::write(dir.path().join("b.txt"), "disk b").map_err(|source| TestkitError::Io {
        what: "write",
        source,
    })?;
    let files = StaticFiles::new()
        .dir(dir.path())
        .file("/b.txt", "memory b")
        .file("/index.html", "<p>i</p>");
    let server = serve_dir_or_files(files).await?;
    let page = browser.new_context().await?;
    page.goto(&server.url("/")).await?;
    let fetched = page
        .eval(
            "const get = async (p) => { const r = await fetch(p); return [r.status, await r.text()]; };
             return Promise.all([get('/a.txt'), get('/b.txt'), get('/missing')]);",
        )
        .await?;
    assert_eq!(fetched[0], json!([200, "from disk"]));
    assert_eq!(fetched[1], json!([200, "memory b"]));
    assert_eq!(fetched[2][0], json!(404));
    page.close().await
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmd| cmd.contains(needle))
        .collect()
}

#[tokio::test]
async fn dropping_the_browser_ends_chromiums_left_open() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let page = browser.new_context().await?;
    let profile = page.profile_dir().display().to_string();
    assert!(
        !processes_mentioning(&profile).is_empty(),
        "chromium should run with {profile}"
    );
    std::mem::forget(page); // simulate a test that never closed its page (keeps the dir too)
    drop(browser);
    for _ in 0..100 {
        if processes_mentioning(&profile).is_empty() {
            let _ = std::fs::remove_dir_all(&profile);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "chromium still running: {:?}",
        processes_mentioning(&profile)
    );
}
