//! Dev mode: one file watcher (`notify`: inotify on Linux, FSEvents on macOS, …) for the whole
//! process, shared by every application built in it.
//!
//! One watcher, not one per router: a watcher costs an inotify instance, of which a user has
//! 128 on a stock Linux, and a test binary builds many routers. A [`Subscription`] names the
//! directories it cares about and a channel; every change under one of them is sent there as
//! the changed path. Reads (`open`, `close` without a write) are not changes: the template
//! reloader reads the directory it watches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// The process's watcher and who listens to it.
struct Hub {
    /// The watcher and how many subscriptions watch each directory. Never locked by the
    /// watcher's own thread (its `watch` calls wait for that thread).
    watching: Mutex<Watching>,
    subscribers: Arc<Mutex<Subscribers>>,
}

struct Watching {
    watcher: RecommendedWatcher,
    counts: HashMap<PathBuf, usize>,
}

#[derive(Default)]
struct Subscribers {
    next_id: u64,
    by_id: HashMap<u64, (Vec<PathBuf>, UnboundedSender<PathBuf>)>,
}

/// The process-wide hub, or why it could not be made (remembered: it is not retried).
static HUB: OnceLock<Result<Hub, String>> = OnceLock::new();

fn hub() -> Result<&'static Hub, &'static str> {
    HUB.get_or_init(|| {
        let subscribers = Arc::new(Mutex::new(Subscribers::default()));
        let dispatch = subscribers.clone();
        let watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                Ok(event) if is_change(&event.kind) => dispatch.lock().send(&event.paths),
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "djust: file watcher error"),
            })
            .map_err(|e| e.to_string())?;
        Ok(Hub {
            watching: Mutex::new(Watching {
                watcher,
                counts: HashMap::new(),
            }),
            subscribers,
        })
    })
    .as_ref()
    .map_err(String::as_str)
}

/// Whether an event of this kind changed something (reads did not).
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

impl Subscribers {
    fn send(&self, paths: &[PathBuf]) {
        for (roots, tx) in self.by_id.values() {
            for path in paths {
                if roots.iter().any(|root| path.starts_with(root)) {
                    // A closed channel: its application is going away and unsubscribes.
                    let _ = tx.send(path.clone());
                }
            }
        }
    }
}

/// Changes under some directories, sent to a channel until dropped.
#[must_use = "the directories are watched until this is dropped"]
pub(crate) struct Subscription {
    id: u64,
    roots: Vec<PathBuf>,
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path} for changes: {reason}")]
pub(crate) struct WatchError {
    path: String,
    reason: String,
}

/// Sends every change under `roots` (directories; canonicalized here, so the paths sent start
/// with the canonical root) to `tx` until the subscription is dropped.
///
/// # Errors
/// A root that does not exist, or no watcher (e.g. the inotify limit of the user is reached).
pub(crate) fn subscribe(
    roots: &[PathBuf],
    tx: UnboundedSender<PathBuf>,
) -> Result<Subscription, WatchError> {
    let fail = |path: &Path, reason: String| WatchError {
        path: path.display().to_string(),
        reason,
    };
    let first = roots.first().map_or(Path::new(""), PathBuf::as_path);
    let hub = hub().map_err(|e| fail(first, e.to_owned()))?;
    let mut canonical = Vec::with_capacity(roots.len());
    for root in roots {
        canonical.push(std::fs::canonicalize(root).map_err(|e| fail(root, e.to_string()))?);
    }
    let mut watching = hub.watching.lock();
    for (i, root) in canonical.iter().enumerate() {
        if let Err(error) = watching.add(root) {
            for added in &canonical[..i] {
                watching.remove(added);
            }
            return Err(fail(root, error.to_string()));
        }
    }
    drop(watching);
    let mut subscribers = hub.subscribers.lock();
    let id = subscribers.next_id;
    subscribers.next_id += 1;
    subscribers.by_id.insert(id, (canonical.clone(), tx));
    Ok(Subscription {
        id,
        roots: canonical,
    })
}

impl Watching {
    fn add(&mut self, root: &Path) -> notify::Result<()> {
        let count = self.counts.entry(root.to_path_buf()).or_insert(0);
        if *count == 0 {
            self.watcher.watch(root, RecursiveMode::Recursive)?;
        }
        *count += 1;
        Ok(())
    }

    fn remove(&mut self, root: &Path) {
        if let Some(count) = self.counts.get_mut(root) {
            *count -= 1;
            if *count == 0 {
                self.counts.remove(root);
                let _ = self.watcher.unwatch(root);
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let Ok(hub) = hub() else { return };
        hub.subscribers.lock().by_id.remove(&self.id);
        let mut watching = hub.watching.lock();
        for root in &self.roots {
            watching.remove(root);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_changes_and_writes_are() {
        use notify::event::{CreateKind, ModifyKind, RemoveKind};
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));
        assert!(is_change(&EventKind::Remove(RemoveKind::File)));
    }

    #[tokio::test]
    async fn a_write_under_a_root_is_sent_and_nothing_after_the_drop() {
        let dir = std::env::temp_dir().join(format!("djust-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sub = subscribe(std::slice::from_ref(&dir), tx).unwrap();
        // Reading is not a change.
        let _ = std::fs::read_dir(&dir).unwrap().count();
        std::fs::write(dir.join("sub/a.html"), "x").unwrap();
        let wait = std::time::Duration::from_secs(5);
        let path = tokio::time::timeout(wait, rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(path.ends_with("sub/a.html"), "{}", path.display());
        drop(sub);
        while rx.try_recv().is_ok() {}
        std::fs::write(dir.join("sub/a.html"), "y").unwrap();
        // The sender was dropped with the subscription: the channel ends, nothing more comes.
        let after = tokio::time::timeout(wait, rx.recv()).await.unwrap();
        assert_eq!(after, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
