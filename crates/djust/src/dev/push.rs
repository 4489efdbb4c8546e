//! Dev mode: a changed file reaches the open pages without a click.
//!
//! Each application in dev mode watches its templates directory (when its templates reload,
//! `template/reload.rs`), djust's own client files (when they are on disk, as for a path or
//! git dependency) and the directories given to
//! [`crate::DjustBuilder::reload_pages_on_change`]. Changes are debounced ([`DEBOUNCE`] of
//! quiet, an editor's write-rename-chmod is one change), then:
//!
//! - a template: the templates are rebuilt now and every open view is re-rendered with them (a
//!   full `render` frame; a build error reaches each page once as `render_failed`, as at any
//!   render) — no page reload, so the view's state and the form fields survive;
//! - the layout, a client file or another watched file: every open page is told to reload
//!   (`{"t":"reload"}`), since none of those is part of a view's render.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::watch::{self, Subscription};
use crate::shutdown::LiveConnections;
use crate::template::Templates;

/// How long changes must stop before they are acted on.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(100);
/// A burst of changes is acted on after this long even if it goes on.
const MAX_DELAY: Duration = Duration::from_secs(1);
/// Paths collected per burst, at most (the action does not depend on more).
const MAX_PATHS: usize = 1024;

/// What dev mode's watcher tells an open connection (through its info queue; the connection
/// loop handles it itself, the view's `handle_info` never sees it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DevReload {
    /// The templates changed: re-render with the current ones.
    Render,
    /// Something outside the view's render changed: the page reloads.
    Page,
}

/// What an application's watch looks at.
pub(crate) struct WatchSpec {
    /// The templates directory, when its templates reload on change.
    pub(crate) templates: Option<(PathBuf, Templates)>,
    /// The layout's template name (a change of it reloads pages).
    pub(crate) layout: String,
    /// Directories whose changes reload pages.
    pub(crate) pages: Vec<PathBuf>,
}

/// An application's running watch; stops when dropped (kept in the application's state).
#[derive(Clone)]
pub(crate) struct DevWatch {
    _subscription: Arc<Subscription>,
}

/// Starts watching (dev mode only: the caller decides). `None` when there is nothing to watch,
/// no Tokio runtime, or no watcher (logged: dev mode then works as before, a change shows at
/// the next render or page load).
pub(crate) fn start(spec: WatchSpec, live: Arc<LiveConnections>) -> Option<DevWatch> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    let mut roots: Vec<PathBuf> = spec.pages.iter().filter(|p| p.is_dir()).cloned().collect();
    let templates_dir = spec.templates.as_ref().map(|(dir, _)| dir.clone());
    roots.extend(templates_dir.iter().cloned());
    if roots.is_empty() {
        return None;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let subscription = match watch::subscribe(&roots, tx) {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::warn!(%error, "djust: dev mode: changed files show at the next render, not at once");
            return None;
        }
    };
    // The subscription canonicalized the roots: compare against the same spelling.
    let templates = spec
        .templates
        .and_then(|(dir, templates)| std::fs::canonicalize(dir).ok().map(|dir| (dir, templates)));
    let task = Task {
        templates,
        layout: spec.layout,
        live,
    };
    runtime.spawn(task.run(rx));
    Some(DevWatch {
        _subscription: Arc::new(subscription),
    })
}

struct Task {
    templates: Option<(PathBuf, Templates)>,
    layout: String,
    live: Arc<LiveConnections>,
}

impl Task {
    /// Until the subscription is dropped (the channel then ends).
    async fn run(self, mut rx: mpsc::UnboundedReceiver<PathBuf>) {
        while let Some(first) = rx.recv().await {
            let Some(changed) = debounce(first, &mut rx).await else {
                return;
            };
            let Some(reload) = self.classify(&changed) else {
                continue;
            };
            if reload == DevReload::Render
                && let Some((_, templates)) = &self.templates
            {
                // Rebuilt here, once, rather than by the first connection that renders.
                let _ = templates.current();
            }
            let told = self.live.send_all(reload);
            tracing::info!(?reload, connections = told, files = ?changed.iter().take(3).collect::<Vec<_>>(), "djust: dev mode: files changed");
        }
    }

    /// What a burst of changed paths asks for (`None`: nothing that is watched for it).
    fn classify(&self, changed: &BTreeSet<PathBuf>) -> Option<DevReload> {
        let mut reload = None;
        for path in changed {
            let this = match &self.templates {
                Some((dir, _)) if path.starts_with(dir) => {
                    if is_layout(path, dir, &self.layout) {
                        DevReload::Page
                    } else {
                        DevReload::Render
                    }
                }
                _ => DevReload::Page,
            };
            if this == DevReload::Page {
                return Some(this);
            }
            reload = Some(this);
        }
        reload
    }
}

/// Whether `path` (under `dir`) is the layout template `layout`.
fn is_layout(path: &Path, dir: &Path, layout: &str) -> bool {
    path.strip_prefix(dir)
        .is_ok_and(|rel| rel == Path::new(layout))
}

/// `first` and every path that follows until [`DEBOUNCE`] of quiet (or [`MAX_DELAY`]); `None`
/// when the channel ended.
async fn debounce(
    first: PathBuf,
    rx: &mut mpsc::UnboundedReceiver<PathBuf>,
) -> Option<BTreeSet<PathBuf>> {
    let mut changed = BTreeSet::from([first]);
    let until = tokio::time::Instant::now() + MAX_DELAY;
    loop {
        let quiet = (tokio::time::Instant::now() + DEBOUNCE).min(until);
        match tokio::time::timeout_at(quiet, rx.recv()).await {
            Ok(Some(path)) => {
                if changed.len() < MAX_PATHS {
                    changed.insert(path);
                }
            }
            Ok(None) => return None,
            Err(_) => return Some(changed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(layout: &str) -> Task {
        let templates = Templates::new(
            crate::template::TemplateSources::default(),
            crate::template::DEFAULT_LAYOUT,
            [],
        )
        .unwrap();
        Task {
            templates: Some((PathBuf::from("/app/templates"), templates)),
            layout: layout.to_owned(),
            live: Arc::new(LiveConnections::default()),
        }
    }

    fn set(paths: &[&str]) -> BTreeSet<PathBuf> {
        paths.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn a_template_re_renders_and_the_layout_or_another_file_reloads() {
        let t = task("base.html");
        let render = Some(DevReload::Render);
        let page = Some(DevReload::Page);
        assert_eq!(t.classify(&set(&["/app/templates/doc.html"])), render);
        assert_eq!(t.classify(&set(&["/app/templates/base.html"])), page);
        assert_eq!(t.classify(&set(&["/app/static/site.css"])), page);
        assert_eq!(
            t.classify(&set(&["/app/templates/doc.html", "/app/static/site.css"])),
            page,
            "a reload covers the re-render"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_one_change_after_the_quiet_time() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let started = tokio::time::Instant::now();
        let sender = tokio::spawn(async move {
            for name in ["a", "b", "a"] {
                tx.send(PathBuf::from(name)).unwrap();
                tokio::time::sleep(DEBOUNCE / 2).await;
            }
            tokio::time::sleep(DEBOUNCE * 3).await;
            tx.send(PathBuf::from("later")).unwrap();
        });
        let first = rx.recv().await.unwrap();
        let burst = debounce(first, &mut rx).await.unwrap();
        assert_eq!(burst, set(&["a", "b"]));
        let took = started.elapsed();
        assert!(took >= DEBOUNCE * 2 && took < DEBOUNCE * 3, "{took:?}");
        assert_eq!(
            rx.recv().await,
            Some(PathBuf::from("later")),
            "the next burst"
        );
        sender.await.unwrap();
    }
}
