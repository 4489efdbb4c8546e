//! One user's keystrokes keep their order when another user's text arrives right after their
//! caret, in real Chromium contexts. The race of two people typing at one spot, driven by hand:
//! alice's space arrives on bob's screen after his caret (a caret sticks to the character
//! before it), then bob types a space too — a character equal to the one after his caret. The
//! client must take it as typed *before* alice's space (left of the caret), or bob's caret ends
//! up before his own space in the merged document and the rest of what he types goes in front
//! of it (what `browser_shared_text_redis.rs` met under load, about 1 run in 8: `  {b-one}a-one}{`).
//! Keys are pressed with WebDriver actions, one step after the other, so the race is the same on
//! every run.
//!
//! Without chromium/chromedriver the tests fail with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use djust_testkit::fantoccini::actions::{InputSource, KeyAction, KeyActions};
use djust_testkit::{Page, TestkitError};
use serde_json::json;
use support::browser::{R, open_as};
use support::start;
use support::text::{DOC, alice_and_bob, value};

const FIELD: &str = "document.querySelector('textarea[dj-shared-text]')";

/// Focuses the field with the caret at the end of its text.
async fn caret_at_end(page: &Page) -> R {
    page.eval(&format!(
        "const ta = {FIELD}; ta.focus(); ta.setSelectionRange(ta.value.length, ta.value.length); \
         return true;"
    ))
    .await
    .map(|_| ())
}

/// Types `text` with real key presses where the caret is (WebDriver's element "send keys" would
/// put the caret at the end first).
async fn press(page: &Page, text: &str) -> R {
    let mut keys = KeyActions::new("keyboard".into());
    for c in text.chars() {
        keys = keys
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
    }
    page.client()
        .perform_actions(keys)
        .await
        .map_err(|source| TestkitError::Command {
            what: format!("press {text:?}"),
            source: Box::new(source),
        })
}

/// Waits until the field shows `want`.
async fn shows(page: &Page, want: &str) -> R {
    page.wait_for(&format!(
        "{FIELD}.value === {}",
        serde_json::to_string(want).unwrap_or_default()
    ))
    .await
    .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keystroke_equal_to_the_remote_character_after_the_caret_keeps_the_typists_order() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let app = start().await;
    let (a, b) = alice_and_bob(&browser, &app).await.expect("alice and bob");
    let seed = value(&a).await.expect("the text");
    caret_at_end(&a).await.expect("alice's caret");
    caret_at_end(&b).await.expect("bob's caret");

    // Alice types a space at the end; it reaches bob after his caret, which stays put.
    press(&a, " ").await.expect("alice typed");
    shows(&b, &format!("{seed} "))
        .await
        .expect("bob has alice's space");
    let caret = b
        .eval(&format!(
            "return [{FIELD}.selectionStart, {FIELD}.selectionEnd]"
        ))
        .await
        .expect("bob's caret");
    let at = seed.encode_utf16().count();
    assert_eq!(
        caret,
        json!([at, at]),
        "bob's caret stays before alice's space"
    );

    // Bob types a space (equal to alice's, right after his caret) and more: on his screen it
    // is " {b}" before alice's space either way; the merged document must agree.
    press(&b, " {b}").await.expect("bob typed");
    shows(&a, &format!("{seed} {{b}} "))
        .await
        .expect("alice has bob's text before her space");
    // Alice, her caret after her space (at the end), types on: after bob's run, not inside
    // it. Had bob's space been taken as typed after alice's, his caret would have been before
    // it: the document would read "{a}{b} " (bob's space after his "{b}", alice's "{a}" in
    // front of it).
    press(&a, "{a}").await.expect("alice typed on");
    let want = format!("{seed} {{b}} {{a}}");
    let len = want.encode_utf16().count();
    for (who, page) in [("alice", &a), ("bob", &b)] {
        page.wait_for(&format!("{FIELD}.value.length === {len}"))
            .await
            .unwrap_or_else(|e| panic!("{who} has everything: {e}"));
        let text = value(page).await.expect("the text");
        assert_eq!(text.strip_prefix(&seed), Some(" {b} {a}"), "{who}'s screen");
    }
    for page in [a, b] {
        page.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_span_ends_at_the_caret() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let app = start().await;
    let page = open_as(&browser, &app, Some("alice"), DOC)
        .await
        .expect("alice");
    // [before, after, caret after the edit] -> [start, removed, inserted].
    let cases = json!([
        // A space typed before an equal one (another user's, after the caret).
        [["ab ", "ab  ", 3], [2, 0, " "]],
        // A character typed inside a run of equal ones, and at its end.
        [["aaaa", "aaaaa", 2], [1, 0, "a"]],
        [["aaaa", "aaaaa", 5], [4, 0, "a"]],
        // Backspace and Delete next to equal characters.
        [["a  b", "a b", 1], [1, 1, ""]],
        [["aab", "ab", 1], [1, 1, ""]],
        // A word pasted before an equal character; a selection replaced by what was typed.
        [["hello world", "hello there world", 12], [6, 0, "there "]],
        [["abcdef", "abXef", 3], [2, 2, "X"]],
        // A caret that does not tell (e.g. an edit by a script): still the smallest span.
        [["abc", "abcd", 0], [3, 0, "d"]],
    ]);
    let got = page
        .eval_with(
            "return arguments[0].map((c) => window.djust.__changedSpan(c[0][0], c[0][1], c[0][2]));",
            vec![cases.clone()],
        )
        .await
        .expect("changed spans");
    let want: Vec<_> = cases
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c[1].clone())
        .collect();
    assert_eq!(got, json!(want), "cases: {cases}");
    page.close().await.expect("close");
}
