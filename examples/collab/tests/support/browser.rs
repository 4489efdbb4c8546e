//! Browser-test helpers: a logged-in (or guest) Chromium context on a page, tabs, and small
//! DOM queries the scenarios share.

use std::time::Duration;

use djust_testkit::fantoccini::wd::WindowHandle;
use djust_testkit::{Browser, Page, TestkitError};
use serde_json::{Value, json};

use super::{TestApp, encode};

/// Result type of the browser scenarios.
pub type R<T = ()> = Result<T, TestkitError>;

/// Waits until the page's live view is mounted.
pub async fn connected(page: &Page) -> R {
    page.wait_for("window.djust && window.djust.connected && document.body.classList.contains('dj-connected')")
        .await?;
    // Every shared-text field synced (editable). A hang guard, not a timing assertion: the first
    // sync loads /djust/yjs.js, which takes long on a loaded machine.
    page.wait_for_within(
        "Array.from(document.querySelectorAll('[dj-shared-text]')).every((el) => { \
           const s = el.getAttribute('dj-text-state'); return s === 'saved' || s === 'sending'; })",
        std::time::Duration::from_secs(20),
    )
    .await
    .map(|_| ())
}

/// A new context (own cookies) logged in as `name` (or a guest for `None`), showing `path`.
pub async fn open_as(browser: &Browser, app: &TestApp, name: Option<&str>, path: &str) -> R<Page> {
    open_at(browser, app.addr, name, path).await
}

/// [`open_as`] on the server at `addr` (e.g. a `collab` process).
pub async fn open_at(
    browser: &Browser,
    addr: std::net::SocketAddr,
    name: Option<&str>,
    path: &str,
) -> R<Page> {
    let url = |p: &str| format!("http://{addr}{p}");
    let page = browser.new_context().await?;
    match name {
        Some(name) => {
            // The login form, filled in and submitted as a person would (a POST from this
            // site); it redirects to `path`.
            page.goto(&url(&format!("/login?next={}", encode(path))))
                .await?;
            page.type_into("input[name=name]", name).await?;
            page.click("form[action='/login'] button[type=submit]")
                .await?;
            let want = serde_json::to_string(path).unwrap_or_default();
            page.wait_for(&format!("(location.pathname + location.search) === {want}"))
                .await?;
        }
        None => page.goto(&url(path)).await?,
    }
    connected(&page).await?;
    Ok(page)
}

/// Opens `path` in a new tab of the same context and switches to it; returns the previous
/// tab's handle.
pub async fn open_tab(page: &Page, app: &TestApp, path: &str) -> R<WindowHandle> {
    let client = page.client();
    let previous = client.window().await.map_err(cmd("current window"))?;
    let tab = client.new_window(true).await.map_err(cmd("new tab"))?;
    client
        .switch_to_window(tab.handle)
        .await
        .map_err(cmd("switch to new tab"))?;
    page.goto(&app.url(path)).await?;
    connected(page).await?;
    Ok(previous)
}

/// Closes the current tab (as the user would) and switches back to `back_to`.
pub async fn close_tab(page: &Page, back_to: WindowHandle) -> R {
    let client = page.client();
    client.close_window().await.map_err(cmd("close tab"))?;
    client
        .switch_to_window(back_to)
        .await
        .map_err(cmd("switch back"))
}

fn cmd(
    what: &'static str,
) -> impl FnOnce(djust_testkit::fantoccini::error::CmdError) -> TestkitError {
    move |source| TestkitError::Command {
        what: what.to_owned(),
        source: Box::new(source),
    }
}

/// The names in the presence sidebar, in order.
pub async fn listed(page: &Page) -> R<Vec<String>> {
    let v = page
        .eval("return [...document.querySelectorAll('.user-list .name')].map((e) => e.textContent)")
        .await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// A JS expression: the sidebar lists exactly `names` (in any order).
pub fn lists_exactly(names: &[&str]) -> String {
    format!(
        "(() => {{ const got = [...document.querySelectorAll('.user-list .name')].map((e) => e.textContent).sort();
                   const want = {}.sort();
                   return JSON.stringify(got) === JSON.stringify(want); }})()",
        json!(names)
    )
}

/// JS: the position a cursor element is drawn at, in px of its area (the server-rendered
/// left/top plus the translate the cursor animation adds).
pub const DRAWN: &str =
    "function drawn(c) { const m = new DOMMatrix(getComputedStyle(c).transform);
     return { x: parseFloat(c.style.left) + m.m41, y: parseFloat(c.style.top) + m.m42 }; }";

/// The remote cursor of public id `uid`: `{left, top, name, fill, bg}` (`left`/`top` where it is
/// drawn, rounded), or null.
pub async fn cursor(page: &Page, uid: &str) -> R<Value> {
    page.eval_with(
        &format!(
            "{DRAWN}
         const c = document.querySelector(`.cursor[data-uid=\"${{arguments[0]}}\"]`);
         if (!c) return null;
         const label = c.querySelector('.cursor-name');
         const at = drawn(c);
         return {{ left: Math.round(at.x), top: Math.round(at.y),
                  name: label.textContent.trim(), fill: c.querySelector('svg').getAttribute('fill'),
                  bg: label.style.background }};"
        ),
        vec![json!(uid)],
    )
    .await
}

/// How many connections the person named `name` has on `key` (0 when absent).
pub fn connections_of(app: &TestApp, key: &str, name: &str) -> usize {
    app.presence
        .list(key)
        .iter()
        .find(|p| p.get_str("name") == Some(name))
        .map_or(0, |p| p.connections())
}

/// Number of remote cursors shown.
pub async fn cursor_count(page: &Page) -> R<u64> {
    Ok(page
        .eval("return document.querySelectorAll('.cursor').length")
        .await?
        .as_u64()
        .unwrap_or(u64::MAX))
}

/// The textarea's value.
pub async fn text(page: &Page) -> R<String> {
    Ok(page
        .eval("return document.querySelector('textarea').value")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Replaces any `alert` with a counter, so injected script would be seen (and not block
/// WebDriver with a dialog).
pub async fn trap_alerts(page: &Page) -> R {
    page.eval("window.__alerts = 0; window.alert = () => { window.__alerts++; }; return true")
        .await
        .map(|_| ())
}

/// Polls `predicate` for at most `limit`; returns the time from `since` until it held.
pub async fn held_after(
    page: &Page,
    predicate: &str,
    since: std::time::Instant,
    limit: Duration,
) -> R<Duration> {
    page.wait_for_within(predicate, limit).await?;
    Ok(since.elapsed())
}

/// Seconds the main threads of `page`'s renderer processes have spent runnable but not
/// running — waiting for a core (the scheduler's run delay, the second field of
/// `/proc/<pid>/schedstat`; Linux). The difference over a measuring window tells a page that
/// was slow from a machine that starved it.
pub fn renderer_waited(page: &Page) -> f64 {
    let profile = page.profile_dir().to_string_lossy().into_owned();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ns = 0u64;
    for entry in dir.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let path = entry.path();
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.contains("--type=renderer") || !cmdline.contains(&profile) {
            continue;
        }
        if let Ok(stat) = std::fs::read_to_string(path.join("schedstat")) {
            ns += stat
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    ns as f64 / 1e9
}
