//! The editor's shared text across two app instances (two "processes": own shared-text hubs, own
//! presence engines) on one redis-server and one SQLite file, in real Chromium contexts: users on
//! either side typing at the same moment converge; with Redis stopped both sides keep typing and
//! still converge (healed through the store); after Redis is back, edits flow again.
//!
//! Needs redis-server, chromium and chromedriver; without them it fails with the install command
//! (a counted skip with `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::time::Duration;

use djust_testkit::{Page, RedisServer};
use support::browser::R;
use support::start_redis;
use support::text::{alice_and_bob_on, is_interleaving, stored_becomes, value};

/// Waits (at most 15 s: the store heal runs every 2 s) until both pages show the same text,
/// which is `before` followed by exactly the characters of `a` and `b`, each in the order typed
/// (two users typing at the same spot at the same moment may interleave); returns it.
async fn converged_with(
    pages: [&Page; 2],
    before: &str,
    [a, b]: [&str; 2],
) -> Result<String, djust_testkit::TestkitError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (one, two) = (value(pages[0]).await?, value(pages[1]).await?);
        let typed = one.strip_prefix(before);
        if one == two && typed.is_some_and(|typed| is_interleaving(typed, a, b)) {
            return Ok(one);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no convergence on {before:?} + {a:?} and {b:?}:\n{one:?}\n{two:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn type_at_end(page: &Page, text: &str) -> R {
    page.eval_with(
        "const ta = document.querySelector('textarea[dj-shared-text]');
         ta.focus(); ta.setSelectionRange(ta.value.length, ta.value.length); return true;",
        vec![],
    )
    .await?;
    page.type_into("textarea", text).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_text_converges_across_processes_and_through_a_redis_outage() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let p1 = start_redis(&redis.url(), None).await;
    let p2 = start_redis(&redis.url(), Some(&p1.db_path)).await;
    let (a, b) = alice_and_bob_on(&browser, [&p1, &p2])
        .await
        .expect("alice on process 1, bob on process 2");
    // At the same moment, on two processes.
    let (ra, rb) = tokio::join!(type_at_end(&a, " {a-one}"), type_at_end(&b, " {b-one}"));
    ra.and(rb).expect("typed");
    let one = converged_with([&a, &b], collab::db::SEED_CONTENT, [" {a-one}", " {b-one}"])
        .await
        .expect("converged through Redis");

    // Redis goes away; both keep typing.
    redis.kill();
    let (ra, rb) = tokio::join!(type_at_end(&a, " {a-two}"), type_at_end(&b, " {b-two}"));
    ra.and(rb).expect("typed during the outage");
    let two = converged_with([&a, &b], &one, [" {a-two}", " {b-two}"])
        .await
        .expect("converged through the store while Redis is down");

    // Redis is back: new edits flow again, nothing was lost.
    redis.restart();
    type_at_end(&b, " {b-three}").await.expect("typed after");
    let three = converged_with([&a, &b], &two, [" {b-three}", ""])
        .await
        .expect("converged after Redis returned");
    for page in [&a, &b] {
        page.wait_for("document.querySelector('textarea[dj-shared-text]').getAttribute('dj-text-state') === 'saved'")
            .await
            .expect("saved");
    }
    stored_becomes(&p1.db_path, &three).await;
    a.close().await.expect("close a");
    b.close().await.expect("close b");
}
