//! Remote carets across two processes: two app instances on one redis-server and one SQLite
//! file; Alice on process 1, Bob on process 2. Bob sees Alice's caret at the right character
//! (relayed through Redis), and it is gone as soon as Alice leaves.
//!
//! Needs redis-server, chromium and chromedriver; without them it fails with the install command
//! (a counted skip with `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use serde_json::json;
use support::text::{alice_and_bob_on, caret_goes_with};

const TA: &str = "textarea[dj-shared-text]";

/// JS: the page shows exactly one remote caret, named `name`, drawn at character `at`.
fn one_caret_at(name: &str, at: u64) -> String {
    format!(
        "(() => {{ const st = window.djust.sharedText('content');
         if (!st || st.carets.length !== 1) return false;
         const c = st.carets[0];
         const g = document.querySelector('.dj-caret[data-peer=\"' + c.peer + '\"]');
         return c.name === {name} && c.index === {at} && !!g
           && Number(g.getAttribute('data-index')) === {at}; }})()",
        name = json!(name),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caret_on_one_process_is_seen_on_the_other_and_goes_when_its_user_leaves() {
    let Some((_redis, browser, p1, p2)) = support::two_processes().await else {
        return;
    };
    let (a, b) = alice_and_bob_on(&browser, [&p1, &p2])
        .await
        .expect("alice on process 1, bob on process 2");
    let seed = collab::db::SEED_CONTENT.chars().count() as u64;

    // Alice types at the end (focusing moves the caret there): her caret is after "Hi!".
    a.type_into(TA, "Hi!").await.expect("alice typed");
    let end = seed + 3;
    if let Err(e) = b.wait_for(&one_caret_at("alice", end)).await {
        let shown = b
            .eval("return JSON.stringify(window.djust.sharedText('content'))")
            .await
            .unwrap_or_default();
        panic!("bob does not show alice's caret at {end}: {e}; shown: {shown}");
    }

    // Bob inserts text before it: the caret stays on its character.
    b.eval("const t = document.querySelector('textarea[dj-shared-text]'); t.focus(); t.setSelectionRange(0, 0); return true;")
        .await
        .expect("bob to the start");
    b.press_keys("Bob: ").await.expect("bob typed");
    b.wait_for(&one_caret_at("alice", end + 5))
        .await
        .expect("the caret moved along with its character");

    // Alice leaves process 1: gone on process 2 at once (well before the 30 s caret expiry).
    caret_goes_with(a, &b, std::time::Duration::from_secs(5)).await;
    b.close().await.expect("close");
}
