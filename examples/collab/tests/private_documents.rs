//! Private documents: the authorization seam (`LiveView::authorize`) in use. A private
//! document is listed, opened and joined only by its owner; another user's or a guest's socket
//! is refused before `mount` (error `forbidden`, close 4403) and never joins its presence.

mod support;

use serde_json::json;
use support::{Ws, http_get, start};

/// The id of the document titled `title` in a list page.
fn doc_id(html: &str, title: &str) -> i64 {
    html.split(r#"href="/doc/"#)
        .skip(1)
        .find_map(|s| {
            let (id, rest) = s.split_once('"')?;
            rest.starts_with(&format!(">{title}<"))
                .then(|| id.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no document {title:?} in {html}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_document_is_its_owners_alone() {
    let app = start().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let guest = app.guest().await;

    let mut list = app.ws(&alice, "/").await;
    list.event(
        "create_document",
        json!({"title": "diary", "private": "on"}),
    )
    .await;
    let html = list
        .wait_html("the new document", |h| h.contains(">diary<"))
        .await;
    assert!(
        html.contains(r#"<span class="private">private</span>"#),
        "{html}"
    );
    let id = doc_id(&html, "diary");

    // The owner opens it and is present.
    let mut owner = app.ws(&alice, &format!("/doc/{id}")).await;
    let key = format!("editor:{id}");
    assert_eq!(app.names(&key), ["alice"]);

    // Another user and a guest: refused before mount, on every view of the document.
    for (who, cookies) in [("bob", &bob), ("guest", &guest)] {
        for path in [
            format!("/doc/{id}"),
            format!("/document/{id}"),
            format!("/canvas/{id}"),
        ] {
            let mut ws = Ws::connect(app.addr, cookies).await;
            ws.send(json!({"t": "mount", "v": 2, "ref": 0, "path": path, "query": ""}))
                .await;
            let err = ws.recv_raw().await;
            assert_eq!(err["code"], "forbidden", "{who} {path}: {err}");
            assert!(
                err["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("private"),
                "{err}"
            );
            assert_eq!(ws.close_code().await, Some(4403), "{who} {path}");
            assert_eq!(
                http_get(app.addr, &path, Some(cookies)).await.0,
                403,
                "{who} {path}"
            );
        }
    }
    assert_eq!(
        app.names(&key),
        ["alice"],
        "nobody else joined its presence"
    );
    assert_eq!(app.names(&format!("document:{id}")), Vec::<String>::new());
    let page = owner.html().await;
    assert!(!page.contains("joined"), "the owner saw no join: {page}");

    // Bob's list leaves it out; alice's shows it; a shared document is everyone's.
    let (_, _, bobs) = http_get(app.addr, "/", Some(&bob)).await;
    assert!(!bobs.contains(">diary<"), "{bobs}");
    assert!(bobs.contains(collab::db::SEED_TITLE));
    let (_, _, alices) = http_get(app.addr, "/", Some(&alice)).await;
    assert!(alices.contains(">diary<"));
    assert_eq!(
        http_get(app.addr, &format!("/doc/{id}"), Some(&alice))
            .await
            .0,
        200
    );
    let _bob_on_the_shared_one = app.ws(&bob, "/doc/1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_cannot_create_private_documents() {
    let app = start().await;
    let guest = app.guest().await;
    let mut list = app.ws(&guest, "/").await;
    list.event(
        "create_document",
        json!({"title": "secret", "private": "on"}),
    )
    .await;
    let html = list
        .wait_html("the refusal", |h| {
            h.contains("Log in to create a private document")
        })
        .await;
    assert!(!html.contains(">secret<"), "{html}");
}
