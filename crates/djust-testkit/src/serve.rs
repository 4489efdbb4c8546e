//! A tiny static file server for pages the browser tests load.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::oneshot;
use tower_http::services::ServeDir;

use crate::error::TestkitError;

/// What to serve: in-memory files by URL path, and/or a directory for everything else.
#[derive(Clone, Default)]
pub struct StaticFiles {
    dir: Option<PathBuf>,
    files: HashMap<String, (String, Vec<u8>)>,
}

impl StaticFiles {
    /// Nothing to serve yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves files below `dir` (content type from the extension) for paths with no
    /// in-memory file.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Serves `body` at URL `path` (e.g. `/index.html`), content type guessed from the
    /// extension (`text/html` for `/`).
    pub fn file(self, path: &str, body: impl Into<Vec<u8>>) -> Self {
        let content_type = content_type_for(path);
        self.file_with_type(path, content_type, body)
    }

    /// Serves `body` at URL `path` with an explicit content type.
    pub fn file_with_type(
        mut self,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        self.files
            .insert(path, (content_type.to_owned(), body.into()));
        self
    }
}

fn content_type_for(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") | None => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        Some(_) => "application/octet-stream",
    }
}

/// A running static server on `127.0.0.1:<free port>`; stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl StaticServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Absolute URL for `path` (`server.url("/index.html")`).
    pub fn url(&self, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{sep}{path}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // The server may already be gone; nothing to do then.
            let _ = tx.send(());
        }
    }
}

/// Starts a static server for `files` on a free local port (must run inside a tokio runtime).
/// In-memory files win over the directory; `/` serves `/index.html` when there is one.
pub async fn serve_dir_or_files(files: StaticFiles) -> Result<StaticServer, TestkitError> {
    let mut router = Router::new();
    let index = files.files.get("/index.html").cloned();
    for (path, (content_type, body)) in files.files {
        router = router.route(&path, get(move || respond(content_type, body)));
    }
    if let Some((content_type, body)) = index {
        router = router.route("/", get(move || respond(content_type, body)));
    }
    router = match files.dir {
        Some(dir) => router.fallback_service(ServeDir::new(dir)),
        None => router.fallback(|uri: Uri| async move {
            (
                StatusCode::NOT_FOUND,
                format!("no test file at {}", uri.path()),
            )
        }),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(TestkitError::io("binding the static server"))?;
    let addr = listener
        .local_addr()
        .map_err(TestkitError::io("reading the static server address"))?;
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async {
            // Dropping the sender also ends the wait: either way the server stops.
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            eprintln!("djust-testkit: static server stopped: {e}");
        }
    });
    Ok(StaticServer {
        addr,
        shutdown: Some(tx),
    })
}

async fn respond(content_type: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}
