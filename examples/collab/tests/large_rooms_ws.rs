//! The spec's `DocumentView` in a large room, over a real WebSocket: the presence bar shows the
//! first few avatars and "+N", and the count is everyone.

mod support;

use support::crowd::Crowd;
use support::{count, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_document_room_shows_the_first_avatars_and_the_rest_as_a_count() {
    let app = start().await;
    let _crowd = Crowd::join(&app.presence, "document:1", 299);
    let viewer = app.login("viewer").await;
    let mut ws = app.ws(&viewer, "/document/1").await;
    let html = ws
        .wait_html("300 online", |h| h.contains("300 online"))
        .await;
    let limits = collab::RoomLimits::default();
    let avatars = count(&html, r#"<div class="avatar""#);
    assert_eq!(avatars, limits.avatars, "{html}");
    assert_eq!(count(&html, r#"class="avatar avatar-more""#), 1, "{html}");
    assert!(
        html.contains(&format!(">+{}</div>", 300 - limits.avatars)),
        "{html}"
    );
    // The first in join order, as the spec's loop lists them.
    assert!(html.contains(r#"title="P0000""#), "{html}");
    assert!(!html.contains(r#"title="P0298""#), "{html}");
}
