//! Cursors that feel modern, in real Chromium: anchored to the text (same word at another
//! width), drawn smoothly between 20 Hz samples and ending exactly (the editor's fast path and
//! the canvas's render path), touch input and a lifted finger, and at most `cursor_limit`
//! cursors on a page.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::time::Duration;

use djust::presence::PresenceConfig;
use djust_testkit::fantoccini::actions::{InputSource, PointerAction, TouchActions};
use djust_testkit::{Page, TestkitError};
use serde_json::{Value, json};
use support::browser::{DRAWN, R, open_as};
use support::{TestApp, motion, start, start_config};

const DOC: &str = "/doc/1";
const CANVAS: &str = "/canvas/1";

/// A text long enough to wrap differently at 1280 and 800 px; `zebra` is the word pointed at.
const TEXT: &str = "Anchored cursors point at content rather than pixels. The quick brown fox \
    jumps over the lazy dog while the text wraps at a different place on every screen, so a \
    pixel position means another word elsewhere. Here comes the zebra that we point at, \
    somewhere in the middle of the second paragraph of words, followed by more filler text to \
    make the lines wrap a few more times on the narrow window as well.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_in_chromium() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    anchored_to_the_same_word_at_two_widths(&browser)
        .await
        .expect("anchored cursor");
    smooth_between_samples_and_exact_at_the_end(&browser)
        .await
        .expect("interpolation");
    the_canvas_render_path_is_smooth_too(&browser)
        .await
        .expect("canvas interpolation");
    touch_shows_a_cursor_and_lifting_hides_it(&browser)
        .await
        .expect("touch");
    at_most_cursor_limit_cursors_on_a_page(&browser)
        .await
        .expect("culling");
}

async fn set_width(page: &Page, width: u32) -> R {
    page.client()
        .set_window_size(width, 900)
        .await
        .map_err(|source| TestkitError::Command {
            what: format!("window width {width}"),
            source: Box::new(source),
        })
}

/// JS: the viewport box of `word` in the textarea, measured independently of the client's
/// own measuring: an overlay with every computed style of the textarea and the word in a span.
const WORD_BOX: &str = "function wordBox(word) {
    const ta = document.querySelector('textarea.editor-textarea');
    const cs = getComputedStyle(ta);
    const div = document.createElement('div');
    for (const p of cs) div.style.setProperty(p, cs.getPropertyValue(p));
    const r = ta.getBoundingClientRect();
    Object.assign(div.style, { position: 'fixed', left: r.left + 'px', top: r.top + 'px', margin: '0',
        overflow: 'hidden', visibility: 'hidden', whiteSpace: 'pre-wrap', boxSizing: 'border-box', appearance: 'none',
        width: (ta.clientWidth + 2 * ta.clientLeft) + 'px', height: r.height + 'px' });
    const i = ta.value.indexOf(word);
    const span = document.createElement('span');
    span.textContent = word;
    div.append(ta.value.slice(0, i), span, ta.value.slice(i + word.length));
    document.body.append(div);
    div.scrollTop = ta.scrollTop;
    const s = span.getBoundingClientRect();
    div.remove();
    return { left: s.left, top: s.top, right: s.right, bottom: s.bottom };
}";

async fn word_box(page: &Page, word: &str) -> R<Value> {
    page.eval_with(
        &format!("{WORD_BOX} return wordBox(arguments[0]);"),
        vec![json!(word)],
    )
    .await
}

/// The viewport position of the cursor `uid` is drawn at (its tip), or null.
async fn drawn_tip(page: &Page, uid: &str) -> R<Value> {
    page.eval_with(
        &format!(
            "{DRAWN}
             const c = document.querySelector(`.cursor[data-uid=\"${{arguments[0]}}\"]`);
             if (!c) return null;
             const area = c.offsetParent.getBoundingClientRect(), at = drawn(c);
             return {{ x: area.left + c.offsetParent.clientLeft + at.x,
                       y: area.top + c.offsetParent.clientTop + at.y }};"
        ),
        vec![json!(uid)],
    )
    .await
}

async fn set_text(app: &TestApp) {
    let db = collab::db::Db::open(&app.db_path).expect("open the test database");
    assert!(db.save_content(1, TEXT, "test").await.expect("save"));
}

async fn anchored_to_the_same_word_at_two_widths(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    set_text(&app).await;
    let b = open_as(browser, &app, Some("bob"), DOC).await?;
    let a = open_as(browser, &app, Some("alice"), DOC).await?; // user 2: uid u2
    set_width(&a, 1280).await?;
    set_width(&b, 800).await?;
    for page in [&a, &b] {
        page.wait_for(&format!(
            "document.querySelector('textarea').value === {}",
            json!(TEXT)
        ))
        .await?;
    }
    // Alice points at the middle of "zebra".
    let on_a = word_box(&a, "zebra").await?;
    let area = a
        .eval("const r = document.querySelector('.editor-main').getBoundingClientRect(); return {left: r.left, top: r.top};")
        .await?;
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let (x, y) = (
        (f(&on_a, "left") + f(&on_a, "right")) / 2.0 - f(&area, "left"),
        (f(&on_a, "top") + f(&on_a, "bottom")) / 2.0 - f(&area, "top"),
    );
    a.mouse_move(".editor-main", x.round(), y.round()).await?;
    // Bob's window is narrower: the word is elsewhere, in pixels.
    let on_b = word_box(&b, "zebra").await?;
    let area_b = b
        .eval("const r = document.querySelector('.editor-main').getBoundingClientRect(); return {left: r.left, top: r.top};")
        .await?;
    let (bx, by) = (
        (f(&on_b, "left") + f(&on_b, "right")) / 2.0 - f(&area_b, "left"),
        (f(&on_b, "top") + f(&on_b, "bottom")) / 2.0 - f(&area_b, "top"),
    );
    assert!(
        (bx - x).abs() > 40.0 || (by - y).abs() > 10.0,
        "the layouts must differ for this test to mean anything: {on_a} vs {on_b}"
    );
    b.wait_for("document.querySelector('.cursor[data-uid=\"u2\"]')")
        .await?;
    // Wait for the glide to end, then check the tip is on the word (a few px of slack).
    let mut tip = Value::Null;
    for _ in 0..50 {
        tip = drawn_tip(&b, "u2").await?;
        let (tx, ty) = (f(&tip, "x"), f(&tip, "y"));
        if tx >= f(&on_b, "left") - 3.0
            && tx <= f(&on_b, "right") + 3.0
            && ty >= f(&on_b, "top") - 3.0
            && ty <= f(&on_b, "bottom") + 3.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (tx, ty) = (f(&tip, "x"), f(&tip, "y"));
    assert!(
        tx >= f(&on_b, "left") - 3.0
            && tx <= f(&on_b, "right") + 3.0
            && ty >= f(&on_b, "top") - 3.0
            && ty <= f(&on_b, "bottom") + 3.0,
        "bob's cursor tip {tip} is not on \"zebra\" {on_b} (alice pointed at {on_a})"
    );
    println!("anchored: alice at ({x:.0},{y:.0}) in her area, bob draws it at {tip} on {on_b}");
    a.close().await?;
    b.close().await?;
    Ok(())
}

async fn smooth_between_samples_and_exact_at_the_end(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let b = open_as(browser, &app, Some("bob"), DOC).await?;
    // Alice (user 2, u2) moves through the protocol at an exact 20 Hz: the stream's timing is
    // the test's, not a second Chromium's on a loaded machine.
    let alice = app.login("alice").await;
    let mut a = app.ws(&alice, DOC).await;
    let cursor = ".cursor[data-uid=\"u2\"]";
    motion::first_sample(&b, &mut a, cursor, "true").await?;
    motion::line_is_smooth("editor (fast path)", &b, &mut a, cursor).await?;
    // Idle: with dj-cursor-idle="300" on the area the resting cursor fades, and the next move
    // brings it back.
    let cursor = "document.querySelector('.cursor[data-uid=\"u2\"]')";
    b.eval(
        "document.querySelector('.editor-main').setAttribute('dj-cursor-idle', '300'); return true",
    )
    .await?;
    b.wait_for(&format!("{cursor}.style.opacity === '0'"))
        .await?;
    a.event("cursor_move", json!({"x": 200, "y": 60})).await;
    b.wait_for(&format!("{cursor}.style.opacity === ''"))
        .await?;
    // prefers-reduced-motion: reduce (emulated through CDP): the next move is a jump, drawn at
    // the old position or the new one and nowhere between.
    b.wait_for(&format!(
        "(() => {{ {DRAWN} return drawn({cursor}).x === 200; }})()"
    ))
    .await?;
    b.cdp(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}),
    )
    .await?;
    b.eval("window.__samples = []; return true").await?;
    a.event("cursor_move", json!({"x": 400, "y": 60})).await;
    b.wait_for(&format!(
        "(() => {{ {DRAWN} return drawn({cursor}).x === 400; }})()"
    ))
    .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let jumps = b.eval("return window.__samples.map((s) => s[1])").await?;
    let xs: Vec<f64> = serde_json::from_value(jumps).unwrap_or_default();
    assert!(
        !xs.is_empty() && xs.iter().all(|x| *x == 200.0 || *x == 400.0),
        "reduced motion jumps: {xs:?}"
    );
    a.close().await;
    b.close().await?;
    Ok(())
}

/// The spec's `collab_doc.html` (`/canvas/{id}`, no `dj-cursor`: every move is a render) is
/// drawn with the same interpolation as the editor's fast path.
async fn the_canvas_render_path_is_smooth_too(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let b = open_as(browser, &app, Some("bob"), CANVAS).await?;
    let alice = app.login("alice").await;
    let mut a = app.ws(&alice, CANVAS).await;
    let cursor = "#canvas .remote-cursor";
    // The render path: no cursor element of the page has `dj-cursor`.
    motion::first_sample(&b, &mut a, cursor, "!document.querySelector('[dj-cursor]')").await?;
    motion::line_is_smooth("canvas (render path)", &b, &mut a, cursor).await?;
    a.close().await;
    b.close().await?;
    Ok(())
}

async fn touch_shows_a_cursor_and_lifting_hides_it(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let b = open_as(browser, &app, Some("bob"), DOC).await?;
    let a = open_as(browser, &app, Some("alice"), DOC).await?;
    let main = a.find(".editor-main").await?;
    // What the page receives, for the failure message.
    a.eval("window.__pointer = []; for (const t of ['pointerdown', 'pointermove', 'pointerup', 'pointercancel', 'pointerout']) document.addEventListener(t, (e) => window.__pointer.push(t + ':' + e.pointerType), true); return true;")
        .await?;
    let finger = |actions: Vec<PointerAction>| {
        let mut touch = TouchActions::new("finger".into());
        for action in actions {
            touch = touch.then(action);
        }
        touch
    };
    // A finger down on the editor (WebDriver touch input: touch and pointer events with
    // pointerType "touch"), held for two seconds, then lifted — one action chain, run in the
    // background while bob's page is watched.
    let touch = finger(vec![
        PointerAction::MoveToElement {
            element: main.clone(),
            duration: None,
            x: -200.0,
            y: -100.0,
        },
        PointerAction::Down { button: 0 },
        PointerAction::Pause {
            duration: Duration::from_millis(2000),
        },
        PointerAction::Up { button: 0 },
    ]);
    let client = a.client().clone();
    let lifted = tokio::spawn(async move { client.perform_actions(touch).await });
    b.wait_for_within(
        "document.querySelector('.cursor[data-uid=\"u2\"]')",
        Duration::from_millis(1800),
    )
    .await?;
    println!("touch: a finger on alice's screen shows her cursor on bob's");
    // Lifting the finger hides the cursor for bob; alice is still present.
    lifted
        .await
        .expect("the touch task")
        .map_err(|source| TestkitError::Command {
            what: "touch down, hold, up".into(),
            source: Box::new(source),
        })?;
    let hidden = b
        .wait_for("!document.querySelector('.cursor[data-uid=\"u2\"]')")
        .await;
    let seen = a.eval("return window.__pointer").await?;
    assert!(
        hidden.is_ok(),
        "the cursor stayed after the lift ({hidden:?}); alice's page saw {seen}"
    );
    println!("touch: alice's page saw {seen}");
    assert_eq!(app.presence.count("editor:1"), 2, "presence unchanged");
    a.close().await?;
    b.close().await?;
    Ok(())
}

async fn at_most_cursor_limit_cursors_on_a_page(browser: &djust_testkit::Browser) -> R {
    // No linger: each move gives a place to the most recent mover (docs/presence.md).
    let app = start_config(PresenceConfig {
        cursor_limit: 3,
        cursor_linger: Duration::ZERO,
        ..PresenceConfig::default()
    })
    .await;
    let b = open_as(browser, &app, Some("bob"), DOC).await?;
    let mut movers = Vec::new();
    for name in ["ann", "cy", "dee", "eve", "fay"] {
        let cookies = app.login(name).await;
        movers.push(app.ws(&cookies, DOC).await);
    }
    for (i, ws) in movers.iter_mut().enumerate() {
        ws.event("cursor_move", json!({"x": 20 + 40 * i, "y": 30}))
            .await;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    // Five cursors in the room, three on the page: the three that moved last.
    support::eventually_true(|| app.presence.cursors("editor:1").len() == 5).await;
    b.wait_for("document.querySelectorAll('.cursor').length === 3 && ['dee', 'eve', 'fay'].every((n) => [...document.querySelectorAll('.cursor .cursor-name')].some((e) => e.textContent.trim() === n))")
        .await?;
    // Ann moves: she is back, cy (the least recent) is gone; still three.
    movers[0]
        .event("cursor_move", json!({"x": 300, "y": 60}))
        .await;
    b.wait_for("[...document.querySelectorAll('.cursor .cursor-name')].some((e) => e.textContent.trim() === 'ann')")
        .await?;
    let count = b
        .eval("return document.querySelectorAll('.cursor').length")
        .await?;
    assert_eq!(count, 3, "at most cursor_limit cursor elements");
    for ws in movers {
        ws.close().await;
    }
    b.close().await?;
    Ok(())
}
