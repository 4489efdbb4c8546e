//! Test kit for djust: drive a real headless Chromium over WebDriver, serve test pages, and
//! fail with the install command when a required tool is missing (or, with
//! `DJUST_TEST_SKIP_EXTERNAL=1` outside CI, skip visibly and report the count: see [`skip`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), djust_testkit::TestkitError> {
//! use djust_testkit::{StaticFiles, browser, serve_dir_or_files};
//!
//! let Some(browser) = browser().await else { return Ok(()) }; // only with DJUST_TEST_SKIP_EXTERNAL=1
//! let server = serve_dir_or_files(StaticFiles::new().file("/index.html", "<p id=x>hi</p>")).await?;
//! let page = browser.new_context().await?; // fresh Chromium, fresh profile
//! page.goto(&server.url("/")).await?;
//! page.wait_for("document.getElementById('x').textContent === 'hi'").await?;
//! assert_eq!(page.eval("return 1 + 1").await?, serde_json::json!(2));
//! page.close().await?;
//! # Ok(()) }
//! ```
//!
//! `browser()` starts one `chromedriver` on a free port; every [`Browser::new_context`] is a
//! separate Chromium (own `--user-data-dir`, so own cookies), started with
//! [`CHROMIUM_FLAGS`] and a fixed [`WINDOW_SIZE`]. Dropping the [`Browser`] kills ChromeDriver
//! and the Chromiums it launched. Starting a context takes about a second: reuse one page for
//! many cases where the test allows it.
//!
//! Waiting ([`Page::wait_for`]) uses real time: it observes a real browser.

mod binaries;
mod driver;
mod error;
mod page;
mod redis;
mod serve;
pub mod skip;

pub use binaries::{find_binary, in_ci, require_binary, skip_external_opted_out};
pub use driver::{Browser, CHROMIUM_FLAGS, WINDOW_SIZE, browser, try_browser};
pub use error::TestkitError;
pub use fantoccini;
pub use page::{DEFAULT_WAIT, Page};
pub use redis::{RedisServer, free_port};
pub use serve::{StaticFiles, StaticServer, serve_dir_or_files};
