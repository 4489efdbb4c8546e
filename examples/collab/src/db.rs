//! The SQLite store: users (name → numeric id, the id that picks a user's colour), their login
//! sessions (`sessions.rs`) and documents. The file is created, and seeded with one document, on first open.
//!
//! One connection behind a mutex: every statement is a primary-key lookup or a single-row write
//! that takes microseconds, so a pool would only add moving parts. The async methods run the
//! statement on Tokio's blocking pool so a slow disk never stalls a connection task.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

mod sessions;
mod text;

pub use text::text_key;

/// Title of the document created in an empty database.
pub const SEED_TITLE: &str = "Welcome to collab";

/// Content of the document created in an empty database.
pub const SEED_CONTENT: &str = "This document is shared live.\n\n\
Open it in a second browser (or a private window) and watch the other cursor move.\n\
Everything typed here is saved and sent to everyone on this page.\n";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT,
    -- NULL: everyone sees the document; else only this user (a private document).
    owner_id   INTEGER REFERENCES users(id)
);
-- The merged Yjs state of a document's shared text (db/text.rs); `documents.content` has its text.
CREATE TABLE IF NOT EXISTS document_text (
    doc_id INTEGER PRIMARY KEY REFERENCES documents(id),
    state  BLOB NOT NULL
);
";

/// Why `path` cannot be a database file, in words (SQLite itself only says "unable to open").
pub fn diagnose(path: &Path) -> String {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => "it is a directory; give a file path such as collab.sqlite3".into(),
        Ok(m) if !m.is_file() => "it is not a regular file (a device, pipe or socket)".into(),
        Ok(_) if path.starts_with("/proc") || path.starts_with("/sys") => {
            "it is a kernel file under /proc or /sys, not a database".into()
        }
        Ok(m) if m.permissions().readonly() => "the file is read-only".into(),
        Ok(_) => {
            "the file exists but is not an SQLite database (or is locked or unwritable)".into()
        }
        Err(_) if !parent.is_dir() => {
            format!("its directory {} does not exist", parent.display())
        }
        Err(_) => format!(
            "it cannot be created in {} (check that directory's permissions)",
            parent.display()
        ),
    }
}

/// A list row (`id, title, updated_by, owner_id`) as a [`Document`]; lists leave the content
/// out.
fn row_to_document(r: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        id: r.get(0)?,
        title: r.get(1)?,
        content: String::new(),
        updated_by: r.get(2)?,
        owner_id: r.get(3)?,
    })
}

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file could not be opened or created.
    #[error("cannot open the SQLite database {path}: {why} (SQLite: {source})")]
    Open {
        /// The path given with `--db`.
        path: PathBuf,
        /// What is wrong with the path, as far as can be told (see [`diagnose`]).
        why: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A statement failed.
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The blocking task running a statement panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A signed-up user: the numeric id picks their colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id (1, 2, ...).
    pub id: i64,
    /// The unique name they logged in with.
    pub name: String,
}

/// A document with its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Row id; the editor lives at `/doc/{id}`.
    pub id: i64,
    /// Title shown in the list.
    pub title: String,
    /// The shared text.
    pub content: String,
    /// Name of the last editor, if anyone edited it yet.
    pub updated_by: Option<String>,
    /// The owner of a private document (only they may open it); `None` for a shared one.
    pub owner_id: Option<i64>,
}

impl Document {
    /// Whether the user with id `user` (`None`: a guest) may see this document.
    pub fn visible_to(&self, user: Option<i64>) -> bool {
        self.owner_id.is_none() || self.owner_id == user
    }
}

/// A cloneable handle to the database.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path`, creates the tables and seeds one
    /// document when there is none.
    ///
    /// # Errors
    /// [`DbError::Open`] naming the path, or [`DbError::Sql`] if the schema cannot be created.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let open_error = |source| DbError::Open {
            path: path.to_owned(),
            why: diagnose(path),
            source,
        };
        let conn = Connection::open(path).map_err(open_error)?;
        Self::init(conn).map_err(|e| match e {
            DbError::Sql(source) => open_error(source),
            other => other,
        })
    }

    /// Creates the tables and the seed document.
    fn init(conn: Connection) -> Result<Db, DbError> {
        // Two processes on one file (say, a test reading what the app wrote) wait for each
        // other briefly instead of failing with SQLITE_BUSY.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL with `synchronous = NORMAL`: a commit is an append, not an fsync (1000 logins
        // cost 1000 fsyncs otherwise). A killed process loses nothing committed; only a power
        // loss can drop the last commits (SQLite's documented trade-off).
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        // Files made before private documents existed lack the column.
        let has_owner: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('documents') WHERE name = 'owner_id'",
            [],
            |r| r.get(0),
        )?;
        if has_owner == 0 {
            conn.execute_batch(
                "ALTER TABLE documents ADD COLUMN owner_id INTEGER REFERENCES users(id)",
            )?;
        }
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))?;
        if count == 0 {
            conn.execute(
                "INSERT INTO documents (title, content, updated_at) VALUES (?1, ?2, ?3)",
                params![SEED_TITLE, SEED_CONTENT, now_ms()],
            )?;
        }
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let conn = self.conn.clone();
        let out = tokio::task::spawn_blocking(move || f(&conn.lock())).await??;
        Ok(out)
    }

    /// Every document, private ones included, oldest first (content left out: the list does
    /// not show it).
    ///
    /// # Errors
    /// [`DbError`] if the query fails.
    pub async fn documents(&self) -> Result<Vec<Document>, DbError> {
        self.run(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, title, updated_by, owner_id FROM documents ORDER BY id",
            )?;
            let rows = stmt.query_map([], row_to_document)?;
            rows.collect()
        })
        .await
    }

    /// One page of the documents `viewer` may see (the shared ones and their own private
    /// ones; `None`: a guest), oldest first: `limit` of them after skipping `offset`, and how
    /// many there are in all.
    ///
    /// # Errors
    /// [`DbError`] if the query fails.
    pub async fn documents_page(
        &self,
        viewer: Option<i64>,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Document>, u64), DbError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        self.run(move |c| {
            let total: i64 = c.query_row(
                "SELECT COUNT(*) FROM documents WHERE owner_id IS NULL OR owner_id = ?1",
                [viewer],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare_cached(
                "SELECT id, title, updated_by, owner_id FROM documents \
                 WHERE owner_id IS NULL OR owner_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
            )?;
            let rows = stmt.query_map(params![viewer, limit, offset], row_to_document)?;
            let docs = rows.collect::<Result<Vec<_>, _>>()?;
            Ok((docs, u64::try_from(total).unwrap_or(0)))
        })
        .await
    }

    /// The document `id`, or `None`.
    ///
    /// # Errors
    /// [`DbError`] if the query fails.
    pub async fn document(&self, id: i64) -> Result<Option<Document>, DbError> {
        self.run(move |c| {
            c.query_row(
                "SELECT id, title, content, updated_by, owner_id FROM documents WHERE id = ?1",
                [id],
                |r| {
                    Ok(Document {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        content: r.get(2)?,
                        updated_by: r.get(3)?,
                        owner_id: r.get(4)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// Replaces the content of document `id`; false if there is no such document.
    ///
    /// # Errors
    /// [`DbError`] if the write fails.
    pub async fn save_content(&self, id: i64, content: &str, by: &str) -> Result<bool, DbError> {
        let (content, by) = (content.to_owned(), by.to_owned());
        self.run(move |c| {
            let n = c.execute(
                "UPDATE documents SET content = ?2, updated_by = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, content, by, now_ms()],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// Creates an empty document and returns its id: private to user `owner`, or shared
    /// with everyone when `owner` is `None`.
    ///
    /// # Errors
    /// [`DbError`] if the write fails.
    pub async fn create_document(&self, title: &str, owner: Option<i64>) -> Result<i64, DbError> {
        let title = title.to_owned();
        self.run(move |c| {
            c.execute(
                "INSERT INTO documents (title, content, updated_at, owner_id) VALUES (?1, '', ?2, ?3)",
                params![title, now_ms(), owner],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// The user called `name`, created on first login (names are unique, case-sensitive).
    ///
    /// # Errors
    /// [`DbError`] if the query or insert fails.
    pub async fn user_by_name(&self, name: &str) -> Result<User, DbError> {
        let name = name.to_owned();
        self.run(move |c| {
            c.execute(
                "INSERT INTO users (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![name, now_ms()],
            )?;
            let id = c.query_row("SELECT id FROM users WHERE name = ?1", [&name], |r| {
                r.get(0)
            })?;
            Ok(User { id, name })
        })
        .await
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("collab.sqlite3");
        (dir, path)
    }

    #[tokio::test]
    async fn first_open_creates_and_seeds_once() {
        let (_dir, path) = temp_db();
        assert!(!path.exists());
        let db = Db::open(&path).unwrap();
        assert!(path.exists());
        let docs = db.documents().await.unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].title, SEED_TITLE);
        let doc = db.document(docs[0].id).await.unwrap().unwrap();
        assert_eq!(doc.content, SEED_CONTENT);
        drop(db);
        // Reopening neither seeds again nor loses anything.
        let db = Db::open(&path).unwrap();
        assert_eq!(db.documents().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn content_is_saved_across_reopen() {
        let (_dir, path) = temp_db();
        let db = Db::open(&path).unwrap();
        assert!(db.save_content(1, "new text", "alice").await.unwrap());
        assert!(!db.save_content(99, "x", "alice").await.unwrap());
        drop(db);
        let doc = Db::open(&path).unwrap().document(1).await.unwrap().unwrap();
        assert_eq!(doc.content, "new text");
        assert_eq!(doc.updated_by.as_deref(), Some("alice"));
    }

    #[tokio::test]
    async fn users_get_stable_increasing_ids() {
        let (_dir, path) = temp_db();
        let db = Db::open(&path).unwrap();
        let alice = db.user_by_name("alice").await.unwrap();
        let bob = db.user_by_name("bob").await.unwrap();
        assert_ne!(alice.id, bob.id);
        assert_eq!(db.user_by_name("alice").await.unwrap(), alice);
        let id = db.create_document("Notes", None).await.unwrap();
        assert_eq!(db.document(id).await.unwrap().unwrap().content, "");
        assert!(db.document(id + 1).await.unwrap().is_none());
    }

    #[test]
    fn unopenable_path_names_the_path() {
        let err = Db::open(Path::new("/nonexistent-dir/x/collab.db")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent-dir/x/collab.db"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod open_errors {
    use super::*;

    #[test]
    fn a_bad_db_path_says_which_path_and_why() {
        for (path, why) in [
            ("/proc/version", "kernel file"),
            (
                "/nonexistent-dir/x.sqlite3",
                "directory /nonexistent-dir does not exist",
            ),
            ("/tmp", "is a directory"),
        ] {
            let err = Db::open(Path::new(path))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(path) && err.contains(why), "{path}: {err}");
        }
    }
}
