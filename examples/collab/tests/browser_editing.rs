//! Editing in real Chromium contexts: `content_changed` reaches the others (the sender's other
//! tab included) and never clobbers the sender, the receiver keeps caret and selection, unsent
//! local typing wins over a remote change, and the typing indicator.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use djust_testkit::Page;
use serde_json::json;
use support::browser::{R, lists_exactly, open_as, open_tab, text};
use support::start;

/// The spec's simple variant of the editor (`dj-input="update_content"`); the lossless field
/// is tested in `browser_shared_text.rs`.
const DOC: &str = "/doc/1?simple=true";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_in_chromium() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let app = start().await;
    let b = open_as(&browser, &app, Some("bob"), DOC)
        .await
        .expect("bob");
    let a = open_as(&browser, &app, Some("alice"), DOC)
        .await
        .expect("alice");
    // Alice's second tab: same user, another connection.
    let _a_first = open_tab(&a, &app, DOC).await.expect("alice's second tab");
    b.wait_for(&lists_exactly(&["alice", "bob"]))
        .await
        .expect("both listed");

    typed_text_reaches_others_and_the_sender_keeps_its_own(&a, &b)
        .await
        .expect("sync");
    own_echo_is_ignored(&a, &b).await.expect("own echo");
    receiver_keeps_caret_and_selection(&a, &b)
        .await
        .expect("caret");
    unsent_local_typing_wins(&a, &b)
        .await
        .expect("unsent typing");
    typing_indicator(&a, &b).await.expect("typing indicator");
    a.close().await.expect("close a");
    b.close().await.expect("close b");
}

/// Sets the textarea to `value` as typing would (an `input` event), focused, caret at the end.
async fn set_text(page: &Page, value: &str) -> R {
    page.eval_with(
        "const ta = document.querySelector('textarea');
         ta.focus(); ta.value = arguments[0]; ta.setSelectionRange(ta.value.length, ta.value.length);
         ta.dispatchEvent(new Event('input', { bubbles: true }));
         return true;",
        vec![json!(value)],
    )
    .await
    .map(|_| ())
}

/// Blurs the textarea: djust sends the pending debounced input at once.
async fn blur(page: &Page) -> R {
    page.eval("document.querySelector('textarea').blur(); return true")
        .await
        .map(|_| ())
}

async fn wait_text(page: &Page, value: &str) -> R {
    page.wait_for(&format!(
        "document.querySelector('textarea').value === {}",
        json!(value)
    ))
    .await
    .map(|_| ())
}

async fn typed_text_reaches_others_and_the_sender_keeps_its_own(a: &Page, b: &Page) -> R {
    // Real keystrokes into alice's (second-tab) textarea.
    a.eval("const ta = document.querySelector('textarea'); ta.value = ''; return true")
        .await?;
    a.type_into("textarea", "Hello from alice").await?;
    wait_text(b, "Hello from alice").await?;
    // The sender's text and caret are untouched by its own broadcast coming back.
    assert_eq!(text(a).await?, "Hello from alice");
    let caret = a
        .eval("const ta = document.querySelector('textarea'); return [ta.selectionStart, ta.selectionEnd, document.activeElement === ta]")
        .await?;
    assert_eq!(caret, json!([16, 16, true]));
    // Alice's first tab (same user, other connection) follows too.
    let tabs = a.client().windows().await.expect("tabs");
    let current = a.client().window().await.expect("current tab");
    let other = tabs.into_iter().find(|t| *t != current).expect("first tab");
    a.client().switch_to_window(other).await.expect("switch");
    wait_text(a, "Hello from alice").await?;
    a.client()
        .switch_to_window(current)
        .await
        .expect("switch back");
    Ok(())
}

async fn own_echo_is_ignored(a: &Page, b: &Page) -> R {
    // Alice's edit leaves on blur (so nothing counts as unsent any more); right after it she
    // is back in the field with different text (changed without an `input` event, so only the
    // origin rule can protect it). Her own broadcast then comes back with the older text: it
    // must not replace what she has now. (The field is focused, so the server's re-render of
    // her own view leaves its value alone too.)
    a.eval(
        "window.__echoes = 0;
         window.addEventListener('djust:content_changed', () => { window.__echoes++; });
         const send = WebSocket.prototype.send;
         WebSocket.prototype.send = function (data) {
           send.call(this, data);
           if (String(data).includes('\"update_content\"')) {
             WebSocket.prototype.send = send;
             const ta = document.querySelector('textarea');
             ta.focus();
             ta.value += ' + not sent yet';
           }
         };
         return true;",
    )
    .await?;
    set_text(a, "Second version").await?;
    blur(a).await?;
    wait_text(b, "Second version").await?;
    a.wait_for("window.__echoes >= 1").await?;
    assert_eq!(text(a).await?, "Second version + not sent yet");
    Ok(())
}

async fn receiver_keeps_caret_and_selection(a: &Page, b: &Page) -> R {
    set_text(a, "one two three").await?;
    blur(a).await?;
    wait_text(b, "one two three").await?;
    // Bob selects "two" and keeps his focus there.
    b.eval("const ta = document.querySelector('textarea'); ta.focus(); ta.setSelectionRange(4, 7); return true")
        .await?;
    // Alice inserts text before it.
    set_text(a, "zero one two three").await?;
    blur(a).await?;
    wait_text(b, "zero one two three").await?;
    let sel = b
        .eval("const ta = document.querySelector('textarea'); return [ta.value.slice(ta.selectionStart, ta.selectionEnd), document.activeElement === ta]")
        .await?;
    assert_eq!(
        sel,
        json!(["two", true]),
        "bob's selection follows the text"
    );
    // A change after the caret leaves the caret where it is.
    b.eval(
        "const ta = document.querySelector('textarea'); ta.setSelectionRange(2, 2); return true",
    )
    .await?;
    set_text(a, "zero one two three four").await?;
    blur(a).await?;
    wait_text(b, "zero one two three four").await?;
    let caret = b
        .eval("const ta = document.querySelector('textarea'); return [ta.selectionStart, ta.selectionEnd]")
        .await?;
    assert_eq!(caret, json!([2, 2]));
    b.eval("document.querySelector('textarea').blur(); return true")
        .await?;
    Ok(())
}

async fn unsent_local_typing_wins(a: &Page, b: &Page) -> R {
    // A long debounce on bob's side makes "typed but not sent yet" last long enough to test.
    b.eval("document.querySelector('textarea').setAttribute('dj-debounce', '3000'); return true")
        .await?;
    b.eval(
        "window.__remote = 0;
         window.addEventListener('djust:content_changed', (e) => {
           if (e.detail.content === 'alice overwrites') window.__remote++;
         });
         return true;",
    )
    .await?;
    set_text(b, "bob is typing this").await?;
    set_text(a, "alice overwrites").await?;
    blur(a).await?;
    // Alice's change arrives at bob while his own text is unsent: his text stays...
    b.wait_for("window.__remote >= 1").await?;
    // ...and once bob's text goes out (on blur), it is the latest version for everyone.
    assert_eq!(text(b).await?, "bob is typing this");
    blur(b).await?;
    wait_text(a, "bob is typing this").await?;
    assert_eq!(text(b).await?, "bob is typing this");
    b.eval("document.querySelector('textarea').setAttribute('dj-debounce', '500'); return true")
        .await?;
    Ok(())
}

async fn typing_indicator(a: &Page, b: &Page) -> R {
    let bob_typing = "(() => { const li = document.querySelector('.user-list li[data-uid=\"u1\"]'); return !!(li && li.querySelector('.typing')); })()";
    let bob_idle = "(() => { const li = document.querySelector('.user-list li[data-uid=\"u1\"]'); return !!(li && !li.querySelector('.typing')); })()";
    a.wait_for(bob_idle).await?;
    b.type_into("textarea", " and more").await?;
    a.wait_for(bob_typing).await?;
    // Bob sees his own state too, alice's row stays idle.
    b.wait_for(bob_typing).await?;
    assert_eq!(
        a.eval("return !!document.querySelector('.user-list li[data-uid=\"u2\"] .typing')")
            .await?,
        json!(false)
    );
    // 1.5 s without input ends it.
    a.wait_for(bob_idle).await?;
    // Typing then leaving the field ends it at once.
    b.type_into("textarea", "!").await?;
    a.wait_for(bob_typing).await?;
    blur(b).await?;
    a.wait_for_within(bob_idle, std::time::Duration::from_millis(1000))
        .await?;
    Ok(())
}
