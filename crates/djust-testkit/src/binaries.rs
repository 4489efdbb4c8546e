//! Finding external tools, and the loud-skip / CI-failure policy when they are missing.

use std::path::{Path, PathBuf};

/// Whether we run in CI (`CI=true`), where a missing tool fails the test instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Finds an executable named `name` on `PATH` (or takes `name` itself if it is a path).
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let candidate = Path::new(name);
    if candidate.components().count() > 1 {
        return is_executable(candidate).then(|| candidate.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Returns `true` if `name` is on `PATH`. Otherwise prints a loud SKIP notice to stderr and
/// returns `false` — or, when `CI=true`, panics: in CI a skipped test is a failed test.
///
/// ```
/// if !djust_testkit::require_binary("sh") {
///     return; // skipped locally, loudly
/// }
/// ```
pub fn require_binary(name: &str) -> bool {
    if find_binary(name).is_some() {
        return true;
    }
    skip(&format!("`{name}` is not on PATH"));
    false
}

/// Prints the SKIP banner (or panics in CI) for a test that cannot run.
pub(crate) fn skip(reason: &str) {
    let caller = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    if in_ci() {
        panic!("{reason}: test `{caller}` cannot run, and CI=true turns skips into failures");
    }
    eprintln!(
        "\n\
         ************************************************************\n\
         *** SKIPPED: {caller}\n\
         *** reason:  {reason}\n\
         *** This test did NOT run. Install the tool to run it\n\
         *** (CI sets CI=true, where this is a failure).\n\
         ************************************************************\n"
    );
}
