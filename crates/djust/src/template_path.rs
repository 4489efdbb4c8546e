//! Where the templates directory is: `DJUST_TEMPLATES_DIR` if set, else the configured path —
//! a relative one first relative to the crate being run (`CARGO_MANIFEST_DIR`, which `cargo run`
//! and `cargo test` set), so `cargo run -p app` works from any directory and never picks an
//! unrelated `templates/` of the working directory; then as given (relative to the working
//! directory: a deployed binary, run without cargo).

use std::path::{Path, PathBuf};

use crate::error::BuildError;

/// Resolves `configured` (see the module documentation).
///
/// # Errors
/// No candidate is a directory: the message lists every path tried and how to fix it.
pub(crate) fn resolve(configured: &Path) -> Result<PathBuf, BuildError> {
    resolve_with(
        configured,
        std::env::var_os("DJUST_TEMPLATES_DIR").map(PathBuf::from),
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
    )
}

fn resolve_with(
    configured: &Path,
    from_env: Option<PathBuf>,
    manifest_dir: Option<PathBuf>,
    cwd: Option<PathBuf>,
) -> Result<PathBuf, BuildError> {
    let mut tried = Vec::new();
    if let Some(dir) = from_env {
        if dir.is_dir() {
            return Ok(dir);
        }
        return Err(BuildError::Config(format!(
            "DJUST_TEMPLATES_DIR={} is not a directory",
            dir.display()
        )));
    }
    let absolute = |p: &Path| cwd.as_ref().map_or_else(|| p.to_path_buf(), |c| c.join(p));
    if configured.is_relative()
        && let Some(manifest) = manifest_dir
    {
        let candidate = manifest.join(configured);
        if candidate.is_dir() {
            return Ok(candidate);
        }
        tried.push(candidate);
    }
    if configured.is_dir() {
        return Ok(configured.to_path_buf());
    }
    tried.push(absolute(configured));
    let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    Err(BuildError::Config(format!(
        "templates directory {:?} not found (tried {}); pass an absolute path, e.g. \
         concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/templates\"), embed the templates with \
         templates_embedded, or set DJUST_TEMPLATES_DIR",
        configured.display().to_string(),
        tried.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_names_every_path_tried() {
        let err = resolve_with(
            Path::new("no-such-templates"),
            None,
            Some(PathBuf::from("/crate")),
            Some(PathBuf::from("/work")),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/work/no-such-templates"), "{err}");
        assert!(err.contains("/crate/no-such-templates"), "{err}");
        assert!(err.contains("DJUST_TEMPLATES_DIR"), "{err}");
    }

    #[test]
    fn the_crate_directory_comes_first_and_the_variable_wins() {
        // `src/presence` exists under the crate; `presence` does not exist in the working
        // directory (the crate root, for tests).
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
        let found = resolve_with(Path::new("presence"), None, Some(manifest.clone()), None);
        assert_eq!(found.unwrap(), manifest.join("presence"));
        // `src` exists in the working directory (this crate) and in the sibling crate given
        // as the manifest directory: the manifest's wins; without one, the working directory.
        let crate_root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let sibling = crate_root.join("../djust-render");
        let first = resolve_with(Path::new("src"), None, Some(sibling.clone()), None);
        assert_eq!(first.unwrap(), sibling.join("src"));
        let no_crate = resolve_with(Path::new("src"), None, None, Some(crate_root));
        assert_eq!(
            no_crate.unwrap(),
            PathBuf::from("src"),
            "then the working directory"
        );
        let from_env = resolve_with(Path::new("x"), Some(manifest.join("http")), None, None);
        assert_eq!(from_env.unwrap(), manifest.join("http"));
        let bad = resolve_with(Path::new("x"), Some("/nonexistent-dir".into()), None, None);
        assert!(bad.unwrap_err().to_string().contains("DJUST_TEMPLATES_DIR"));
    }
}
