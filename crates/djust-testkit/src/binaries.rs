//! Finding external tools on `PATH`.
//!
//! What happens when one is missing (fail with the install command, or a counted skip) is
//! [`crate::skip`]'s job.

use std::path::{Path, PathBuf};

pub use crate::skip::{in_ci, skip_external_opted_out};

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

/// Returns `true` if `name` is on `PATH`.
///
/// Otherwise the test **fails** with the install command — unless the run opted out with
/// `DJUST_TEST_SKIP_EXTERNAL=1` (and is not `CI=true`), in which case the skip is announced on
/// the terminal, counted in the summary printed when the test binary exits, and `false` is
/// returned so the test can return early.
///
/// ```
/// if !djust_testkit::require_binary("sh") {
///     return; // only with DJUST_TEST_SKIP_EXTERNAL=1: a visible, counted skip
/// }
/// ```
pub fn require_binary(name: &str) -> bool {
    if find_binary(name).is_some() {
        return true;
    }
    crate::skip::missing_tool(&format!("`{name}` is not on PATH"));
    false
}
