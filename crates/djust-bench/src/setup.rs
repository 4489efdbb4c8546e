//! Setting the stage: documents to act as rooms (created through the app's own document list
//! page, so it works against any running collab server) and users logged in over HTTP.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::error::BenchError;
use crate::http::{CookieJar, HttpConn};
use crate::target::Target;
use crate::ws::{FrameHead, Ws, connect, mount};

/// Parallel connections creating documents (each creation re-renders that connection's list).
const CREATORS: usize = 4;
/// How long one creation may take.
const CREATE_TIMEOUT: Duration = Duration::from_secs(20);

/// Document ids in a document-list frame (`dj-key="doc-12"` on each entry).
pub fn doc_ids_in(frame: &str) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    let mut rest = frame;
    while let Some(i) = rest.find("doc-") {
        rest = &rest[i + 4..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(id) = digits.parse() {
            ids.insert(id);
        }
    }
    ids
}

async fn list_socket(target: &Target) -> Result<(Ws, BTreeSet<i64>), BenchError> {
    let err = |detail: String| BenchError::Ws {
        what: "mount of the document list `/`".into(),
        detail,
    };
    let mut ws = connect(target, &CookieJar::default(), 64 * 1024)
        .await
        .map_err(err)?;
    let mounted = mount(&mut ws, "/").await.map_err(err)?;
    let frame: serde_json::Value =
        serde_json::from_str(&mounted.frame).map_err(|e| err(e.to_string()))?;
    let html = djust_render::full_html(&frame).map_err(|e| err(e.to_string()))?;
    Ok((ws, doc_ids_in(&html)))
}

/// Returns the ids of `n` documents, creating the missing ones with the list page's
/// `create_document` event. Existing documents are reused (lowest ids first).
///
/// # Errors
/// [`BenchError::Ws`] if the list cannot be mounted or a creation is refused.
/// Makes sure the database at `db` (the server's, started by the bench) has `n` documents;
/// returns the first `n` ids.
pub async fn seed_rooms(db: &std::path::Path, n: usize) -> Result<Vec<i64>, BenchError> {
    let err = |e: collab::db::DbError| BenchError::Ws {
        what: "seeding documents".into(),
        detail: e.to_string(),
    };
    let db = collab::db::Db::open(db).map_err(err)?;
    let have = db.documents().await.map_err(err)?.len();
    for i in have..n {
        db.create_document(&format!("bench room {i}"), None)
            .await
            .map_err(err)?;
    }
    let docs = db.documents().await.map_err(err)?;
    Ok(docs.into_iter().take(n).map(|d| d.id).collect())
}

pub async fn ensure_rooms(target: &Target, n: usize) -> Result<Vec<i64>, BenchError> {
    let (_ws, have) = list_socket(target).await?;
    if have.len() < n {
        let missing = Arc::new(Mutex::new(n - have.len()));
        let mut tasks = Vec::new();
        for _ in 0..CREATORS.min(n - have.len()) {
            let (target, missing) = (target.clone(), missing.clone());
            tasks.push(tokio::spawn(async move {
                let (mut ws, _) = list_socket(&target).await?;
                loop {
                    {
                        let mut left = missing.lock().await;
                        if *left == 0 {
                            return Ok(());
                        }
                        *left -= 1;
                    }
                    create_one(&mut ws).await?;
                }
            }));
        }
        for t in tasks {
            t.await.map_err(|e| BenchError::Ws {
                what: "document creation".into(),
                detail: e.to_string(),
            })??;
        }
    }
    let (_ws, have) = list_socket(target).await?;
    if have.len() < n {
        return Err(BenchError::Ws {
            what: "document creation".into(),
            detail: format!("wanted {n} documents, the list shows {}", have.len()),
        });
    }
    Ok(have.into_iter().take(n).collect())
}

async fn create_one(ws: &mut Ws) -> Result<(), BenchError> {
    let err = |detail: String| BenchError::Ws {
        what: "create_document".into(),
        detail,
    };
    let ev = r#"{"t":"event","name":"create_document","payload":{"title":"bench room"}}"#;
    ws.send(Message::text(ev))
        .await
        .map_err(|e| err(e.to_string()))?;
    // The list re-renders: one patch. Anything else (an error) stops the run.
    tokio::time::timeout(CREATE_TIMEOUT, async {
        while let Some(msg) = ws.next().await {
            if let Message::Text(text) = msg.map_err(|e| err(e.to_string()))? {
                let t = FrameHead::parse(&text).map(|h| h.t.into_owned());
                match t.as_deref() {
                    Some("patch") => return Ok(()),
                    Some("error") => return Err(err(text.as_str().to_owned())),
                    _ => {}
                }
            }
        }
        Err(err("connection closed".into()))
    })
    .await
    .map_err(|_| err(format!("no reply within {CREATE_TIMEOUT:?}")))?
}

/// The cookie collab's `/login` sets.
const LOGIN_COOKIE: &str = collab::AUTH_COOKIE;

/// How simulated users arrive over HTTP before opening their WebSocket.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// `POST /login` first (a logged-in user); otherwise an anonymous visitor.
    pub login: bool,
    /// `GET` the page before connecting (sets `djust_session`, costs a server render).
    pub page: bool,
    /// HTTP connections used in parallel.
    pub concurrency: usize,
}

/// Logs in users `names[i]` and loads `pages[i]`, returning each one's cookies (in order).
///
/// # Errors
/// [`BenchError::Http`] when a request fails.
pub async fn arrive(
    target: &Target,
    names: Vec<String>,
    pages: Vec<String>,
    how: Arrival,
) -> Result<Vec<CookieJar>, BenchError> {
    let n = names.len();
    let work = Arc::new(Mutex::new(names.into_iter().zip(pages).enumerate()));
    let mut tasks = Vec::new();
    for _ in 0..how.concurrency.clamp(1, n.max(1)) {
        let (target, work) = (target.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = HttpConn::connect(&target).await?;
            let mut done = Vec::new();
            loop {
                let Some((i, (name, page))) = work.lock().await.next() else {
                    return Ok::<_, BenchError>(done);
                };
                let mut jar = CookieJar::default();
                if how.login {
                    // Names are the bench's own ASCII ids: no form encoding needed.
                    let form = format!("name={name}&next=%2F");
                    conn.post_form("/login", &form, &mut jar).await?;
                    if !jar.has(LOGIN_COOKIE) {
                        return Err(BenchError::Http {
                            what: format!("POST /login name={name}"),
                            detail: format!(
                                "no `{LOGIN_COOKIE}` cookie in the answer: is this the collab app?"
                            ),
                        });
                    }
                }
                if how.page {
                    conn.get(&page, &mut jar).await?;
                }
                done.push((i, jar));
            }
        }));
    }
    let mut jars = vec![CookieJar::default(); n];
    for t in tasks {
        let done = t.await.map_err(|e| BenchError::Http {
            what: "login".into(),
            detail: e.to_string(),
        })??;
        for (i, jar) in done {
            jars[i] = jar;
        }
    }
    Ok(jars)
}

/// A login name unique to this run and user (collab allows 40 characters).
pub fn user_name(run: &str, user: usize) -> String {
    format!("b{run}-{user}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_ids_come_from_list_keys() {
        let frame = r#"{"t":"mounted","html":"<li dj-key=\"doc-1\"><a class=\"doc-link\" href=\"&#x2f;doc&#x2f;1\">A</a></li><li dj-key=\"doc-12\">"}"#;
        assert_eq!(doc_ids_in(frame).into_iter().collect::<Vec<_>>(), [1, 12]);
        assert!(doc_ids_in("document-list doc-link").is_empty());
    }

    #[test]
    fn user_names_fit_the_login_limit() {
        let name = user_name("1a2b3c4d", 99_999);
        assert_eq!(name, "b1a2b3c4d-99999");
        assert!(collab::validate_name(&name).is_ok());
    }
}
