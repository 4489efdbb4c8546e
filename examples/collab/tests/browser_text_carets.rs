//! Remote carets and selections in the shared textarea, in real Chromium contexts: user B sees
//! user A's caret (in A's colour, with A's name) at the character where A's caret is, after A
//! types and after B inserts text before it; A's selection is drawn too; B's own caret and
//! focus never move; A's caret is gone as soon as A leaves.
//!
//! Without chromium/chromedriver the tests fail with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use djust_testkit::Page;
use serde_json::{Value, json};
use support::browser::{R, open_as};
use support::start;
use support::text::{DOC, alice_and_bob, caret_goes_with};
const TA: &str = "textarea[dj-shared-text]";

/// WebDriver key codes (send_keys): Shift (held to the end of the call), ArrowLeft.
const SHIFT: char = '\u{E008}';
const LEFT: char = '\u{E012}';

/// The carets a page shows for others: `[{name, index, start, end}]` from the binding, plus
/// what is drawn (`drawn`: the `data-index` of the `.dj-caret` of that peer, its label and
/// whether its bar lies inside the textarea; `sel`: how many selection boxes).
async fn carets(page: &Page) -> R<Vec<Value>> {
    let v = page
        .eval(
            "const st = window.djust.sharedText('content');
             const ta = document.querySelector('textarea[dj-shared-text]').getBoundingClientRect();
             return st.carets.map((c) => {
               const g = document.querySelector('.dj-caret[data-peer=\"' + c.peer + '\"]');
               const bar = g && g.querySelector('.dj-caret-bar').getBoundingClientRect();
               return { name: c.name, color: c.color, index: c.index, start: c.start, end: c.end,
                 drawn: g ? Number(g.getAttribute('data-index')) : null,
                 label: g ? g.querySelector('.dj-caret-name').textContent : null,
                 inside: !!bar && bar.left >= ta.left && bar.right <= ta.right + 1
                   && bar.top >= ta.top && bar.bottom <= ta.bottom + 1,
                 sel: g ? g.querySelectorAll('.dj-caret-sel').length : 0 };
             });",
        )
        .await?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

/// Where the local caret is: `[selectionStart, selectionEnd]`.
async fn local_selection(page: &Page) -> R<(u64, u64)> {
    let v = page
        .eval("const t = document.querySelector('textarea[dj-shared-text]'); return [t.selectionStart, t.selectionEnd];")
        .await?;
    Ok((v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0)))
}

/// Waits until `page` shows exactly one remote caret named `name`, drawn at `start..end`
/// (caret at `end`, or at `start` for a backward selection).
async fn wait_caret(page: &Page, name: &str, start: u64, end: u64, head: u64) -> R<Value> {
    let pred = format!(
        "(() => {{ const st = window.djust.sharedText('content');
         if (!st || st.carets.length !== 1) return false;
         const c = st.carets[0];
         const g = document.querySelector('.dj-caret[data-peer=\"' + c.peer + '\"]');
         return c.name === {name} && c.start === {start} && c.end === {end} && c.index === {head}
           && !!g && Number(g.getAttribute('data-index')) === {head}; }})()",
        name = json!(name),
    );
    if let Err(e) = page.wait_for(&pred).await {
        panic!(
            "no caret of {name} at {start}..{end}: {e}; shown: {:?}",
            carets(page).await?
        );
    }
    let all = carets(page).await?;
    Ok(all[0].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_sees_as_caret_at_the_right_character_and_it_goes_when_a_leaves() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let app = start().await;
    let (a, b) = alice_and_bob(&browser, &app).await.expect("alice and bob");
    let seed = collab::db::SEED_CONTENT.chars().count() as u64;

    // B is editing somewhere in the middle: remote carets must not move B's caret or focus.
    b.eval("const t = document.querySelector('textarea[dj-shared-text]'); t.focus(); t.setSelectionRange(5, 5); return true;")
        .await
        .expect("bob's caret");

    // A types at the end: B sees A's caret right after what A typed.
    a.type_into(TA, "Hi!").await.expect("alice typed");
    let end = seed + 3;
    assert_eq!(local_selection(&a).await.expect("sel"), (end, end));
    let c = wait_caret(&b, "alice", end, end, end).await.expect("caret");
    assert_eq!(c["label"], "alice", "{c}");
    assert_eq!(c["inside"], true, "the bar is drawn over the textarea: {c}");
    assert!(
        c["color"].as_str().is_some_and(|s| s.starts_with('#')),
        "{c}"
    );
    let bob_active = b
        .eval(
            "return document.activeElement === document.querySelector('textarea[dj-shared-text]')",
        )
        .await
        .expect("focus");
    assert_eq!(bob_active, true, "bob keeps the focus");
    assert_eq!(
        local_selection(&b).await.expect("sel"),
        (5, 5),
        "bob's caret did not move"
    );

    // B inserts text before A's caret (at the very start): A's caret stays on its character,
    // on both screens.
    b.eval("const t = document.querySelector('textarea[dj-shared-text]'); t.setSelectionRange(0, 0); return true;")
        .await
        .expect("bob to the start");
    // Key presses at the caret (element "send keys" may move it to the end first).
    b.press_keys("Bob: ").await.expect("bob typed");
    let text = b
        .eval("return document.querySelector('textarea[dj-shared-text]').value")
        .await
        .expect("text");
    assert!(
        text.as_str().is_some_and(|t| t.starts_with("Bob: This")),
        "{text}"
    );
    let moved = end + 5;
    let c = wait_caret(&b, "alice", moved, moved, moved)
        .await
        .expect("caret moved along");
    assert_eq!(c["inside"], true, "{c}");
    a.wait_for(&format!(
        "document.querySelector('textarea[dj-shared-text]').selectionStart === {moved}"
    ))
    .await
    .expect("alice's own caret stays on its character");

    // A selects the three characters before the caret (Shift+Left ×3): a backward selection.
    a.type_into(TA, &format!("{SHIFT}{LEFT}{LEFT}{LEFT}"))
        .await
        .expect("alice selects");
    let c = wait_caret(&b, "alice", moved - 3, moved, moved - 3)
        .await
        .expect("selection");
    assert!(
        c["sel"].as_u64().unwrap_or(0) >= 1,
        "the selection is drawn: {c}"
    );

    // A leaves: the caret is gone at once (well within the presence grace).
    caret_goes_with(a, &b, std::time::Duration::from_secs(3)).await;
    b.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_sees_the_carets_already_there() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let app = start().await;
    let a = open_as(&browser, &app, Some("alice"), DOC)
        .await
        .expect("alice");
    a.type_into(TA, "x").await.expect("typed");
    let end = collab::db::SEED_CONTENT.chars().count() as u64 + 1;
    // Alice's caret reached the server (a peer opened before would see it).
    a.wait_for("document.querySelector('textarea[dj-shared-text]').getAttribute('dj-text-state') === 'saved'")
        .await
        .expect("saved");
    let b = open_as(&browser, &app, Some("bob"), DOC)
        .await
        .expect("bob");
    let c = wait_caret(&b, "alice", end, end, end)
        .await
        .expect("caret on join");
    assert_eq!(c["label"], "alice");
    a.close().await.expect("close");
    b.close().await.expect("close");
}
