//! Dev mode: the templates directory is read on each [`Reloader::current`] and hashed (names
//! and contents, so an edit within the file system's timestamp granularity is still seen). A
//! changed hash builds a new [`Generation`]; a failing build keeps the last good generation and
//! its error is handed out until the files change again.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Current, Generation, Spec};
use crate::error::BuildError;

/// Files larger than this are hashed by size and modification time only.
const MAX_HASHED_FILE: u64 = 1024 * 1024;
/// A walk stops after this many entries (a templates directory is small; this bounds a mistake
/// such as pointing it at `/`).
const MAX_ENTRIES: usize = 10_000;
/// …and below this depth (also ends symlink loops).
const MAX_DEPTH: usize = 16;

pub(super) struct Reloader {
    spec: Spec,
    dir: PathBuf,
    state: Mutex<State>,
}

struct State {
    generation: Arc<Generation>,
    /// The hash of the directory the last build (good or bad) saw.
    stamp: u64,
    /// Why the files of `stamp` did not build.
    error: Option<Arc<str>>,
    next_id: u64,
}

impl Reloader {
    /// Builds the first generation (its failure fails start-up, as without dev mode).
    pub(super) fn new(spec: Spec, dir: PathBuf) -> Result<Self, BuildError> {
        let stamp = stamp(&dir);
        let generation = Arc::new(Generation::build(&spec, 0)?);
        Ok(Self {
            spec,
            dir,
            state: Mutex::new(State {
                generation,
                stamp,
                error: None,
                next_id: 1,
            }),
        })
    }

    pub(super) fn current(&self) -> Current {
        // One check at a time: two connections noticing the same edit build it once.
        let mut state = self.state.lock();
        let stamp = stamp(&self.dir);
        if stamp != state.stamp {
            state.stamp = stamp;
            let id = state.next_id;
            state.next_id += 1;
            match Generation::build(&self.spec, id) {
                Ok(generation) => {
                    tracing::info!(dir = %self.dir.display(), "djust: templates reloaded");
                    state.generation = Arc::new(generation);
                    state.error = None;
                }
                Err(error) => {
                    tracing::error!(
                        dir = %self.dir.display(),
                        %error,
                        "djust: changed templates do not build; the last good ones stay in use"
                    );
                    state.error = Some(Arc::from(error.to_string()));
                }
            }
        }
        Current {
            generation: state.generation.clone(),
            error: state.error.clone(),
        }
    }
}

/// A hash of every file under `dir`: relative paths and contents.
pub(super) fn stamp(dir: &Path) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    let mut entries = 0;
    walk(dir, dir, 0, &mut entries, &mut hasher);
    hasher.finish()
}

fn walk(root: &Path, dir: &Path, depth: usize, entries: &mut usize, h: &mut impl Hasher) {
    let Ok(read) = std::fs::read_dir(dir) else {
        "unreadable".hash(h);
        return;
    };
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        *entries += 1;
        if *entries > MAX_ENTRIES {
            return;
        }
        path.strip_prefix(root).unwrap_or(&path).hash(h);
        let Ok(meta) = std::fs::metadata(&path) else {
            "gone".hash(h);
            continue;
        };
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                walk(root, &path, depth + 1, entries, h);
            }
        } else if meta.len() > MAX_HASHED_FILE {
            meta.len().hash(h);
            meta.modified().ok().hash(h);
        } else {
            match std::fs::read(&path) {
                Ok(bytes) => bytes.hash(h),
                Err(_) => "unreadable".hash(h),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_changes_with_a_name_or_a_byte_and_only_then() {
        let dir = std::env::temp_dir().join(format!("djust-stamp-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.html"), "one").unwrap();
        std::fs::write(dir.join("sub/b.html"), "two").unwrap();
        let first = stamp(&dir);
        assert_eq!(stamp(&dir), first, "nothing changed");
        // Same length, written at once: only the contents tell.
        std::fs::write(dir.join("sub/b.html"), "twO").unwrap();
        let edited = stamp(&dir);
        assert_ne!(edited, first);
        std::fs::write(dir.join("c.html"), "").unwrap();
        assert_ne!(stamp(&dir), edited, "a new file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
