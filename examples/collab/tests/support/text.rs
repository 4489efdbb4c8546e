//! Shared by the shared-text and restart browser tests: a free port, a guest page, the field's
//! value, what SQLite holds, a restartable `collab` process on a temp database, and two users
//! with the document open.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use collab::db::Db;
use djust_testkit::{Browser, Page};

use super::TestApp;
use super::browser::{R, connected, lists_exactly, open_as};
use super::process::Collab;

/// The document the tests edit.
pub const DOC: &str = "/doc/1";

/// The quiet log level of a started `collab` process.
pub const ENV: [(&str, &str); 1] = [("RUST_LOG", "warn")];

/// A free port of 127.0.0.1 (bound and released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A guest's new context showing `path` of `addr`, connected (and its fields synced).
pub async fn open_guest(browser: &Browser, addr: SocketAddr, path: &str) -> R<Page> {
    let page = browser.new_context().await?;
    page.goto(&format!("http://{addr}{path}")).await?;
    connected(&page).await?;
    Ok(page)
}

/// The value of the page's first textarea.
pub async fn value(page: &Page) -> R<String> {
    let v = page
        .eval("return document.querySelector('textarea').value")
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// `documents.content` of document 1 in the SQLite file `db_path`.
pub async fn stored_content(db_path: &Path) -> String {
    let db = Db::open(db_path).expect("db opens");
    db.document(1).await.expect("query").expect("doc 1").content
}

/// A `collab` process on a temp database and a fixed port, so it can be stopped and started
/// again where the pages expect it.
pub struct Restartable {
    /// The SQLite file.
    pub db: PathBuf,
    /// The port every start listens on.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Restartable {
    /// A fresh temp database and a free port (nothing started yet).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self {
            db: dir.path().join("c.sqlite3"),
            port: free_port(),
            _dir: dir,
        }
    }

    /// Starts `collab` on the port and database.
    pub fn start(&self) -> Collab {
        let app = Collab::start_on(&self.db, self.port, &ENV, None);
        assert_eq!(app.addr.port(), self.port);
        app
    }
}

/// Alice and Bob, logged in, with [`DOC`] open, each listed on both screens.
pub async fn alice_and_bob(browser: &Browser, app: &TestApp) -> R<(Page, Page)> {
    alice_and_bob_on(browser, [app, app]).await
}

/// [`alice_and_bob`] with Alice on `apps[0]` and Bob on `apps[1]` (e.g. two processes).
pub async fn alice_and_bob_on(browser: &Browser, apps: [&TestApp; 2]) -> R<(Page, Page)> {
    let a = open_as(browser, apps[0], Some("alice"), DOC).await?;
    let b = open_as(browser, apps[1], Some("bob"), DOC).await?;
    for page in [&a, &b] {
        page.wait_for(&lists_exactly(&["alice", "bob"])).await?;
    }
    Ok((a, b))
}

/// Waits (at most 10 s) until SQLite's `documents.content` of document 1 is `want`.
pub async fn stored_becomes(db_path: &Path, want: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = stored_content(db_path).await;
        if now == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "SQLite never got {want:?}; it has {now:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Closes `leaving` and waits until `viewer` shows no remote caret any more; asserts it went
/// within `limit` (at once, not after an expiry).
pub async fn caret_goes_with(leaving: Page, viewer: &Page, limit: std::time::Duration) {
    let started = std::time::Instant::now();
    leaving.close().await.expect("the user leaves");
    viewer
        .wait_for("window.djust.sharedText('content').carets.length === 0 && !document.querySelector('.dj-caret')")
        .await
        .expect("the caret is gone");
    assert!(
        started.elapsed() < limit,
        "gone at once, not after a timeout: {:?}",
        started.elapsed()
    );
}

/// Whether `s` is made of exactly the characters of `a` and `b`, each in its own order.
pub fn is_interleaving(s: &str, a: &str, b: &str) -> bool {
    let (s, a, b): (Vec<char>, Vec<char>, Vec<char>) = (
        s.chars().collect(),
        a.chars().collect(),
        b.chars().collect(),
    );
    if s.len() != a.len() + b.len() {
        return false;
    }
    // ok[j]: s[..i + j] interleaves a[..i] and b[..j], for the current i.
    let mut ok = vec![false; b.len() + 1];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            ok[j] = match (i, j) {
                (0, 0) => true,
                _ => {
                    (i > 0 && ok[j] && a[i - 1] == s[i + j - 1])
                        || (j > 0 && ok[j - 1] && b[j - 1] == s[i + j - 1])
                }
            };
        }
    }
    ok[b.len()]
}
