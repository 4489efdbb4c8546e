//! The policy for tests whose external tool (chromium, chromedriver, redis-server) is missing.
//!
//! - By default the test **fails**, and the panic message carries [`INSTALL_COMMAND`]: a test
//!   that did not run must not report `ok`.
//! - `DJUST_TEST_SKIP_EXTERNAL=1` opts the run out: the test returns early as a *skip*. Each skip
//!   is written straight to the process's stderr handle (libtest captures only the
//!   `print!`/`eprint!` macros, so this line shows in `cargo test` output), and when the test
//!   binary exits it prints one summary line, `djust-testkit: N test(s) SKIPPED ...`, naming them.
//! - `CI=true` is strict whatever else is set: a missing tool always fails.

use std::io::Write;
use std::sync::{Mutex, Once};

/// How to install every external tool the tests use (Debian/Ubuntu).
pub const INSTALL_COMMAND: &str = "apt-get install -y chromium chromium-driver redis-server";

/// The variable that turns "missing tool = failure" into a counted, visible skip.
pub const SKIP_EXTERNAL_VAR: &str = "DJUST_TEST_SKIP_EXTERNAL";

/// Whether we run in CI (`CI=true`), where a missing tool always fails the test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Whether this run opted out of external tools (`DJUST_TEST_SKIP_EXTERNAL=1` or `true`).
pub fn skip_external_opted_out() -> bool {
    std::env::var(SKIP_EXTERNAL_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// What to do about a missing tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingTool {
    /// Fail the test (the default, and always under `CI=true`).
    Fail,
    /// Skip it, visibly and counted (`DJUST_TEST_SKIP_EXTERNAL=1` outside CI).
    Skip,
}

impl MissingTool {
    /// The decision for a run with these settings: only an explicit opt-out outside CI skips.
    pub fn decide(ci: bool, opted_out: bool) -> Self {
        if opted_out && !ci {
            Self::Skip
        } else {
            Self::Fail
        }
    }

    /// The decision for this process's environment.
    pub fn from_env() -> Self {
        Self::decide(in_ci(), skip_external_opted_out())
    }
}

/// The tests skipped so far in this process, for the exit summary.
static SKIPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SUMMARY_AT_EXIT: Once = Once::new();

/// Fails the calling test with the install command, or records a visible skip (see the module
/// documentation). Returns only in the skip case.
pub(crate) fn missing_tool(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    match MissingTool::from_env() {
        MissingTool::Fail => panic!("{}", failure_message(&test, reason, in_ci())),
        MissingTool::Skip => record_skip(test, reason),
    }
}

/// The panic message of a test that cannot run.
pub fn failure_message(test: &str, reason: &str, ci: bool) -> String {
    let why = if ci {
        "CI=true: a skipped test is a failure"
    } else {
        "to skip such tests instead (counted and reported), set DJUST_TEST_SKIP_EXTERNAL=1"
    };
    format!(
        "test `{test}` cannot run: {reason}. Install the tools with `{INSTALL_COMMAND}` ({why})."
    )
}

fn record_skip(test: String, reason: &str) {
    // Straight to the stderr handle, not `eprintln!`: libtest would capture and hide that.
    let _ = writeln!(
        std::io::stderr(),
        "djust-testkit: SKIPPED {test}: {reason} ({SKIP_EXTERNAL_VAR}=1; install: {INSTALL_COMMAND})"
    );
    SKIPPED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(test);
    SUMMARY_AT_EXIT.call_once(|| {
        // SAFETY: `print_summary` is an `extern "C" fn()` that neither unwinds nor calls `exit`.
        unsafe {
            libc::atexit(print_summary);
        }
    });
}

/// The tests this process skipped so far.
pub fn skipped_tests() -> Vec<String> {
    SKIPPED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The exit summary line for these skipped tests.
pub fn summary_line(skipped: &[String]) -> String {
    format!(
        "djust-testkit: {} test(s) SKIPPED in this test binary because {SKIP_EXTERNAL_VAR}=1 and a tool \
         is missing (they did NOT run): {}",
        skipped.len(),
        skipped.join(", ")
    )
}

extern "C" fn print_summary() {
    let skipped = skipped_tests();
    if !skipped.is_empty() {
        let _ = writeln!(std::io::stderr(), "\n{}\n", summary_line(&skipped));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_opt_out_outside_ci_skips() {
        assert_eq!(MissingTool::decide(false, false), MissingTool::Fail);
        assert_eq!(MissingTool::decide(true, false), MissingTool::Fail);
        assert_eq!(
            MissingTool::decide(true, true),
            MissingTool::Fail,
            "CI stays strict"
        );
        assert_eq!(MissingTool::decide(false, true), MissingTool::Skip);
    }

    #[test]
    fn the_failure_names_the_install_command() {
        let msg = failure_message("t", "`redis-server` is not on PATH", false);
        assert!(msg.contains(INSTALL_COMMAND), "{msg}");
        assert!(msg.contains(SKIP_EXTERNAL_VAR), "{msg}");
        assert!(failure_message("t", "x", true).contains("CI=true"));
    }

    #[test]
    fn the_summary_counts_and_names_the_skipped_tests() {
        let line = summary_line(&["a::b".into(), "c".into()]);
        assert!(
            line.contains("2 test(s) SKIPPED") && line.contains("a::b, c"),
            "{line}"
        );
    }
}
