//! One ChromeDriver process per [`Browser`]; each [`Browser::new_context`] is a fresh Chromium.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::ClientBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Map, Value, json};
use tokio::process::{Child, Command};

use crate::binaries::find_binary;
use crate::error::TestkitError;
use crate::page::Page;
use crate::skip::missing_tool;

/// Browser window size of every context, fixed so layout-dependent tests are reproducible.
pub const WINDOW_SIZE: (u32, u32) = (1280, 900);

/// Chromium flags: headless, and nothing that reaches for the network (this machine has none).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

const CHROMIUM_NAMES: &[&str] = &["chromium", "chromium-browser", "google-chrome"];
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A running ChromeDriver. Dropping it kills ChromeDriver and every Chromium it started.
pub struct Browser {
    driver: Child,
    port: u16,
    chromium: PathBuf,
}

/// Starts ChromeDriver. When `chromedriver` or Chromium is not installed the test fails with
/// the install command — or, with `DJUST_TEST_SKIP_EXTERNAL=1` outside CI, this returns `None`
/// after a visible, counted skip ([`crate::skip`]).
///
/// Panics if the binaries exist but ChromeDriver does not start: that is a broken machine,
/// not a skip. Use [`try_browser`] to handle that case yourself.
pub async fn browser() -> Option<Browser> {
    match try_browser().await {
        Ok(browser) => browser,
        Err(e) => panic!("djust-testkit: {e}"),
    }
}

/// Like [`browser`], but returns start-up failures as errors.
///
/// The binaries come from `DJUST_CHROMEDRIVER` / `DJUST_CHROMIUM` if set, else from `PATH`.
pub async fn try_browser() -> Result<Option<Browser>, TestkitError> {
    let driver = std::env::var("DJUST_CHROMEDRIVER")
        .ok()
        .map_or_else(|| find_binary("chromedriver"), |p| find_binary(&p));
    let chromium = std::env::var("DJUST_CHROMIUM").ok().map_or_else(
        || CHROMIUM_NAMES.iter().find_map(|n| find_binary(n)),
        |p| find_binary(&p),
    );
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        missing_tool("chromedriver and chromium must both be on PATH");
        return Ok(None);
    };
    Browser::start(driver, chromium).await.map(Some)
}

impl Browser {
    async fn start(driver: PathBuf, chromium: PathBuf) -> Result<Browser, TestkitError> {
        let port = free_port()?;
        let verbose = std::env::var_os("DJUST_TESTKIT_VERBOSE").is_some();
        let output = || {
            if verbose {
                Stdio::inherit()
            } else {
                Stdio::null()
            }
        };
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            // Own process group, so dropping the Browser can kill Chromium processes too.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| TestkitError::Spawn {
                binary: driver.display().to_string(),
                source,
            })?;
        let browser = Browser {
            driver: child,
            port,
            chromium,
        };
        browser.wait_until_listening().await?;
        Ok(browser)
    }

    async fn wait_until_listening(&self) -> Result<(), TestkitError> {
        let deadline = tokio::time::Instant::now() + DRIVER_READY_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(TestkitError::DriverNotReady {
            port: self.port,
            waited: DRIVER_READY_TIMEOUT,
        })
    }

    /// The WebDriver endpoint (`http://127.0.0.1:<port>`).
    pub fn webdriver_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts a new browser context: a separate Chromium with its own fresh profile (temp
    /// `--user-data-dir`, removed when the page is dropped), hence its own cookies and storage.
    pub async fn new_context(&self) -> Result<Page, TestkitError> {
        let profile = tempfile::Builder::new()
            .prefix("djust-chromium-")
            .tempdir()
            .map_err(TestkitError::io("creating a Chromium profile dir"))?;
        let (width, height) = WINDOW_SIZE;
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={width},{height}"));
        let mut caps = Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": self.chromium.display().to_string(), "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.webdriver_url())
            .await
            .map_err(Box::new)?;
        client
            .set_window_size(width, height)
            .await
            .map_err(TestkitError::command("set window size"))?;
        Ok(Page::new(client, profile))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id().and_then(|id| i32::try_from(id).ok()) {
            // The group is ChromeDriver plus the Chromiums it launched; it may already be gone.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        // `kill_on_drop` reaps ChromeDriver itself.
    }
}

/// A port that was free a moment ago (ChromeDriver binds it itself).
fn free_port() -> Result<u16, TestkitError> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(TestkitError::io("finding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(TestkitError::io("finding a free port"))?
        .port();
    Ok(port)
}

/// Whether a JSON value is truthy the way JavaScript sees it.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
