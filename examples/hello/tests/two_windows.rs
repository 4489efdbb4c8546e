//! The hello app as a user sees it: the real binary, two Chromium windows (separate cookies, so
//! two anonymous users, no login code anywhere): both show "2 online", and each sees the other's
//! cursor, named `Guest xxxx`, in a colour different from its own.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use djust_testkit::{Page, TestkitError};

/// The `hello` binary on a free port; killed on drop.
struct Hello {
    child: Child,
    url: String,
}

impl Hello {
    fn start() -> Hello {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hello"))
            .env("HELLO_ADDR", "127.0.0.1:0")
            // Not the crate's directory: `templates/` is found through CARGO_MANIFEST_DIR.
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the hello binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the serving line");
        let url = line
            .trim()
            .strip_prefix("hello: serving ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Hello { child, url }
    }
}

impl Drop for Hello {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const OTHER_CURSOR: &str = "(() => { const c = document.querySelector('.remote-cursor'); \
     return c ? { name: c.querySelector('.cursor-label').textContent.trim(), \
     color: c.style.background, ...drawn(c) } : null;      function drawn(c) { const m = new DOMMatrix(getComputedStyle(c).transform);      return { left: parseFloat(c.style.left) + m.m41, top: parseFloat(c.style.top) + m.m42 }; } })()";

/// This window's own avatar colour and name (its user is listed too).
async fn own(page: &Page, others_name: &str) -> Result<(String, String), TestkitError> {
    let me = page
        .eval_with(
            "return [...document.querySelectorAll('.avatar')].map(a => [a.title, a.style.background]).find(([t]) => t !== arguments[0]);",
            vec![others_name.into()],
        )
        .await?;
    Ok((
        me[0].as_str().unwrap_or_default().to_owned(),
        me[1].as_str().unwrap_or_default().to_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_windows_see_two_online_and_each_others_cursor() -> Result<(), TestkitError> {
    let Some(browser) = djust_testkit::browser().await else {
        return Ok(());
    };
    let app = Hello::start();
    let a = browser.new_context().await?;
    let b = browser.new_context().await?;
    for page in [&a, &b] {
        page.goto(&app.url).await?;
        page.wait_for("document.body.classList.contains('dj-connected')")
            .await?;
    }
    for page in [&a, &b] {
        page.wait_for("document.querySelector('.count').textContent.trim() === '2 online'")
            .await?;
    }

    a.mouse_move("#canvas", 120.0, 80.0).await?;
    b.wait_for(&format!(
        "(c => c && Math.abs(c.left - 120) <= 2 && Math.abs(c.top - 80) <= 2)({OTHER_CURSOR})"
    ))
    .await?;
    b.mouse_move("#canvas", 300.0, 150.0).await?;
    a.wait_for(&format!(
        "(c => c && Math.abs(c.left - 300) <= 2 && Math.abs(c.top - 150) <= 2)({OTHER_CURSOR})"
    ))
    .await?;

    // `a_sees` is B's cursor as window A shows it, and the other way round.
    let a_sees = a.eval(&format!("return {OTHER_CURSOR}")).await?;
    let b_sees = b.eval(&format!("return {OTHER_CURSOR}")).await?;
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let (b_name, a_name) = (text(&a_sees, "name"), text(&b_sees, "name"));
    assert!(
        a_name.starts_with("Guest ") && b_name.starts_with("Guest "),
        "{a_sees} {b_sees}"
    );
    assert_ne!(a_name, b_name, "two guests have two names");
    assert_ne!(
        a_sees["color"], b_sees["color"],
        "two guests, two colours: {a_sees} {b_sees}"
    );
    // Each window's own avatar is what the other window shows of it.
    assert_eq!(
        own(&b, &a_name).await?,
        (b_name.clone(), text(&a_sees, "color"))
    );
    assert_eq!(
        own(&a, &b_name).await?,
        (a_name.clone(), text(&b_sees, "color"))
    );
    a.close().await?;
    b.close().await
}
