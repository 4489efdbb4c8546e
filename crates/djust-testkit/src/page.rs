//! A browser context (one WebDriver session) and the helpers tests use on it.

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use serde_json::Value;
use tempfile::TempDir;

use crate::driver::truthy;
use crate::error::TestkitError;

/// Default timeout of [`Page::wait_for`].
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);
const POLL_EVERY: Duration = Duration::from_millis(20);

/// One browser context: a Chromium with its own profile, driven over WebDriver.
///
/// Call [`Page::close`] at the end of a test; dropping the page without it leaves Chromium
/// running until the [`crate::Browser`] is dropped.
pub struct Page {
    client: Client,
    // Dropped after the client: removes the profile dir.
    profile: TempDir,
}

impl Page {
    pub(crate) fn new(client: Client, profile: TempDir) -> Self {
        Self { client, profile }
    }

    /// The underlying fantoccini client, for anything these helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// This context's Chromium profile directory (its `--user-data-dir`).
    pub fn profile_dir(&self) -> &std::path::Path {
        self.profile.path()
    }

    /// Navigates to `url` and waits for the load event.
    pub async fn goto(&self, url: &str) -> Result<(), TestkitError> {
        self.client
            .goto(url)
            .await
            .map_err(TestkitError::command(format!("goto {url}")))
    }

    /// Runs `js` as the body of a function and returns what it `return`s
    /// (e.g. `page.eval("return document.title").await`).
    pub async fn eval(&self, js: &str) -> Result<Value, TestkitError> {
        self.eval_with(js, Vec::new()).await
    }

    /// Like [`Page::eval`], passing `args` as `arguments[0..]` (JSON values).
    pub async fn eval_with(&self, js: &str, args: Vec<Value>) -> Result<Value, TestkitError> {
        self.client
            .execute(js, args)
            .await
            .map_err(TestkitError::command(format!("execute {}", abbreviate(js))))
    }

    /// Polls the JavaScript *expression* `predicate` until it is truthy, for [`DEFAULT_WAIT`].
    pub async fn wait_for(&self, predicate: &str) -> Result<Value, TestkitError> {
        self.wait_for_within(predicate, DEFAULT_WAIT).await
    }

    /// Polls the JavaScript expression `predicate` until it is truthy, returning its value.
    /// On timeout the error shows the last value (or the last script error).
    pub async fn wait_for_within(
        &self,
        predicate: &str,
        timeout: Duration,
    ) -> Result<Value, TestkitError> {
        let script = format!("return ({predicate});");
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let last = match self.client.execute(&script, Vec::new()).await {
                Ok(value) if truthy(&value) => return Ok(value),
                Ok(value) => value.to_string(),
                Err(e) => format!("error: {e}"),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(TestkitError::Timeout {
                    predicate: predicate.to_owned(),
                    timeout,
                    last,
                });
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Finds the first element matching the CSS selector.
    pub async fn find(&self, css: &str) -> Result<Element, TestkitError> {
        self.client
            .find(Locator::Css(css))
            .await
            .map_err(TestkitError::command(format!("find {css}")))
    }

    /// Clicks the first element matching `css` (a real pointer click, through WebDriver).
    pub async fn click(&self, css: &str) -> Result<(), TestkitError> {
        let element = self.find(css).await?;
        element
            .click()
            .await
            .map_err(TestkitError::command(format!("click {css}")))
    }

    /// Types `text` with real key presses where the focused element's caret is. Unlike
    /// [`Page::type_into`] it never moves the caret first (element "send keys" of ChromeDriver
    /// 148 puts it at the end even in a focused field), so tests can type in the middle.
    pub async fn press_keys(&self, text: &str) -> Result<(), TestkitError> {
        let mut keys = KeyActions::new("keyboard".into());
        for c in text.chars() {
            keys = keys
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client
            .perform_actions(keys)
            .await
            .map_err(TestkitError::command(format!("press {text:?}")))
    }

    /// Types `text` into the element matching `css` as keystrokes (focusing it first; the
    /// caret may be moved to the end, see [`Page::press_keys`]).
    pub async fn type_into(&self, css: &str, text: &str) -> Result<(), TestkitError> {
        let element = self.find(css).await?;
        element
            .send_keys(text)
            .await
            .map_err(TestkitError::command(format!("type into {css}")))
    }

    /// Moves the mouse to (`x`, `y`) pixels from the top-left corner of the element matching
    /// `css`, firing real `mousemove` events along the way.
    pub async fn mouse_move(&self, css: &str, x: f64, y: f64) -> Result<(), TestkitError> {
        let element = self.find(css).await?;
        let (_, _, width, height) = element
            .rectangle()
            .await
            .map_err(TestkitError::command(format!("measure {css}")))?;
        // WebDriver offsets are relative to the element's centre.
        let action = PointerAction::MoveToElement {
            element,
            duration: Some(Duration::from_millis(0)),
            x: (x - width / 2.0).round(),
            y: (y - height / 2.0).round(),
        };
        let mouse = MouseActions::new("mouse".into()).then(action);
        self.client
            .perform_actions(mouse)
            .await
            .map_err(TestkitError::command(format!(
                "mouse move to {css} +({x},{y})"
            )))
    }

    /// Runs the Chrome DevTools Protocol command `cmd` with `params` through ChromeDriver
    /// (`goog/cdp/execute`), e.g. `Emulation.setEmulatedMedia`; returns its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value, TestkitError> {
        let body = serde_json::json!({ "cmd": cmd, "params": params });
        self.client
            .issue_cmd(Cdp { body })
            .await
            .map_err(TestkitError::command(format!("cdp {cmd}")))
    }

    /// Ends the session: Chromium exits and its profile dir is removed.
    pub async fn close(self) -> Result<(), TestkitError> {
        self.client
            .close()
            .await
            .map_err(TestkitError::command("close session"))
    }
}

/// ChromeDriver's CDP passthrough command.
#[derive(Debug)]
struct Cdp {
    body: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

fn abbreviate(js: &str) -> String {
    let flat: String = js.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}
