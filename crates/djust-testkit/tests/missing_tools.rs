//! A missing tool fails the test with the install command; `DJUST_TEST_SKIP_EXTERNAL=1` makes it a
//! skip that shows in `cargo test`'s (captured) output, with a count when the test binary exits.
//!
//! The skip cases re-run this very test binary as a child with a controlled environment, so they
//! check what a user really sees on the terminal.

use std::process::Command;

use djust_testkit::require_binary;
use djust_testkit::skip::{INSTALL_COMMAND, MissingTool};

/// Set only in the child runs: makes [`child_needs_a_missing_tool`] do its work.
const CHILD_VAR: &str = "DJUST_TESTKIT_CHILD";

#[test]
fn child_needs_a_missing_tool() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return; // the parent run: nothing to do here, the tests below drive it
    }
    if !require_binary("djust-no-such-tool-xyz") {
        return;
    }
    panic!("a tool that does not exist was found");
}

/// Runs [`child_needs_a_missing_tool`] in a child with output captured as usual by libtest.
fn run_child(env: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().expect("the test binary's own path");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", "child_needs_a_missing_tool", "--test-threads=1"])
        .env(CHILD_VAR, "1")
        .env_remove("CI")
        .env_remove("DJUST_TEST_SKIP_EXTERNAL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the test binary");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn sh_is_found() {
    assert!(require_binary("sh"));
}

#[test]
fn a_missing_tool_fails_with_the_install_command() {
    let (ok, out) = run_child(&[]);
    assert!(!ok, "the test must fail:\n{out}");
    assert!(out.contains(INSTALL_COMMAND), "{out}");
    assert!(out.contains("DJUST_TEST_SKIP_EXTERNAL=1"), "{out}");
}

#[test]
fn an_opted_out_run_reports_the_skip_and_the_count() {
    let (ok, out) = run_child(&[("DJUST_TEST_SKIP_EXTERNAL", "1")]);
    assert!(ok, "an opted-out skip passes:\n{out}");
    assert!(
        out.contains("djust-testkit: SKIPPED child_needs_a_missing_tool"),
        "the skip must be visible despite output capture:\n{out}"
    );
    assert!(
        out.contains("djust-testkit: 1 test(s) SKIPPED in this test binary"),
        "the exit summary must count it:\n{out}"
    );
}

#[test]
fn ci_stays_strict_even_when_opted_out() {
    let (ok, out) = run_child(&[("DJUST_TEST_SKIP_EXTERNAL", "1"), ("CI", "true")]);
    assert!(!ok, "CI=true must fail:\n{out}");
    assert!(out.contains("CI=true"), "{out}");
    assert_eq!(MissingTool::decide(true, true), MissingTool::Fail);
}
