//! One ChromeDriver process per [`Browser`]; each [`Browser::new_context`] is a fresh Chromium.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::ClientBuilder;
use fantoccini::error::NewSessionError;
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
/// ChromeDriver starts tried, each on a fresh port (see [`Browser::start`]).
const START_ATTEMPTS: usize = 3;
/// Session requests tried when the request did not get through.
const SESSION_ATTEMPTS: usize = 3;

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
    /// Starts ChromeDriver on a free port and waits until *it* answers there.
    ///
    /// The port is free when chosen but ChromeDriver binds it only later; in between another
    /// process (typically a Chromium of a test running in parallel, opening its DevTools port)
    /// can take it. ChromeDriver then keeps running on IPv6 only, a plain TCP connect succeeds
    /// against the other process, and the first WebDriver request is reset. So readiness means
    /// "`GET /status` answers like ChromeDriver", and a start that never gets there is retried
    /// on a fresh port.
    async fn start(driver: PathBuf, chromium: PathBuf) -> Result<Browser, TestkitError> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let child = spawn_driver(&driver, port)?;
            let browser = Browser {
                driver: child,
                port,
                chromium: chromium.clone(),
            };
            match browser.wait_until_ready().await {
                Ok(()) => return Ok(browser),
                // Dropping `browser` kills this ChromeDriver before the next try.
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(TestkitError::DriverNotReady {
            port: 0,
            waited: DRIVER_READY_TIMEOUT,
        }))
    }

    async fn wait_until_ready(&self) -> Result<(), TestkitError> {
        let deadline = tokio::time::Instant::now() + DRIVER_READY_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            match driver_status(self.port).await {
                Status::Ready => return Ok(()),
                // Someone else owns the port: waiting longer will not help.
                Status::NotChromeDriver => break,
                Status::NotYet => tokio::time::sleep(Duration::from_millis(25)).await,
            }
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
        let client = self.new_session(caps).await?;
        client
            .set_window_size(width, height)
            .await
            .map_err(TestkitError::command("set window size"))?;
        Ok(Page::new(client, profile))
    }
}

impl Browser {
    /// Creates the WebDriver session, retrying when the request itself did not get through
    /// (connection reset or refused while a loaded machine starts Chromium); a refusal by
    /// ChromeDriver is returned at once.
    async fn new_session(
        &self,
        caps: Map<String, Value>,
    ) -> Result<fantoccini::Client, TestkitError> {
        let mut attempt = 1;
        loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&self.webdriver_url())
                .await
            {
                Ok(client) => return Ok(client),
                Err(
                    NewSessionError::Failed(_)
                    | NewSessionError::FailedC(_)
                    | NewSessionError::Lost(_),
                ) if attempt < SESSION_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(Box::new(e).into()),
            }
        }
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

fn spawn_driver(driver: &PathBuf, port: u16) -> Result<Child, TestkitError> {
    let verbose = std::env::var_os("DJUST_TESTKIT_VERBOSE").is_some();
    let output = || {
        if verbose {
            Stdio::inherit()
        } else {
            Stdio::null()
        }
    };
    Command::new(driver)
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
        })
}

/// What answers on a port where ChromeDriver should be.
enum Status {
    /// ChromeDriver, ready for sessions.
    Ready,
    /// Nothing yet (refused, or ChromeDriver not ready).
    NotYet,
    /// Something that is not ChromeDriver.
    NotChromeDriver,
}

/// `GET /status` by hand (one request, `Connection: close`): ChromeDriver answers
/// `{"value":{"ready":true,…"message":"ChromeDriver ready for new sessions."…}}`.
async fn driver_status(port: u16) -> Status {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        // ChromeDriver keeps the connection open despite `Connection: close`: read until the
        // body of `Content-Length` bytes is complete (or the peer closes).
        let mut response = Vec::new();
        let mut chunk = [0u8; 1024];
        while !complete(&response) {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, std::io::Error>(response)
    };
    match tokio::time::timeout(Duration::from_secs(2), exchange).await {
        Err(_) => Status::NotYet,
        // Refused: ChromeDriver has not bound yet. Reset while reading: not an HTTP server.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Status::NotYet,
        Ok(Err(_)) => Status::NotChromeDriver,
        Ok(Ok(response)) => {
            let text = String::from_utf8_lossy(&response);
            if !text.contains("ChromeDriver") {
                Status::NotChromeDriver
            } else if text.contains("\"ready\":true") {
                Status::Ready
            } else {
                Status::NotYet
            }
        }
    }
}

/// Whether `response` holds a whole HTTP response (headers and `Content-Length` body).
fn complete(response: &[u8]) -> bool {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    length.is_some_and(|len| response.len() >= end + 4 + len)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn a_response_is_complete_once_its_body_is() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length:4\r\n\r\n";
        assert!(!complete(&head[..10]));
        assert!(!complete(head));
        assert!(!complete(&[&head[..], b"{}"].concat()));
        assert!(complete(&[&head[..], b"{}{}"].concat()));
    }

    /// Another server on ChromeDriver's port (the race `Browser::start` guards against) is
    /// recognised at once, so the start moves to a fresh port instead of waiting 15 s.
    #[tokio::test]
    async fn a_port_taken_by_another_server_is_not_chromedriver() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await;
            }
        });
        assert!(matches!(driver_status(port).await, Status::NotChromeDriver));
        let closed = free_port().unwrap();
        assert!(matches!(driver_status(closed).await, Status::NotYet));
    }
}
