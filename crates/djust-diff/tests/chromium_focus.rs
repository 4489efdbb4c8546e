//! In Chromium: patching keeps focus, typed value and selection; live properties follow
//! `value`/`checked`/`selected` attributes except on the focused control; failures return false.

use djust_diff::{Tree, diff};
use djust_testkit::{Page, StaticFiles, TestkitError, browser, serve_dir_or_files};
use serde_json::{Value, json};

const PATCH_JS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../djust/assets/patch.js"
));
const INDEX: &str = r#"<!doctype html><html><head><meta charset="utf-8"><script src="/patch.js"></script></head>
<body><div id="root"></div><button id="elsewhere">elsewhere</button></body></html>"#;

/// Puts `html` into the root (as the initial render would).
async fn render(page: &Page, html: &str) -> Result<(), TestkitError> {
    page.eval_with(
        "document.getElementById('root').innerHTML = arguments[0]; return null",
        vec![json!(html)],
    )
    .await
    .map(drop)
}

/// Applies `diff(old, new)` to the root; returns what `DjustPatch.apply` returned.
async fn patch(page: &Page, old: &str, new: &str) -> Result<Value, TestkitError> {
    let ops = diff(&Tree::parse(old), &Tree::parse(new));
    assert!(!ops.is_empty(), "test pair without changes: {old}");
    page.eval_with(
        "return DjustPatch.apply(document.getElementById('root'), arguments[0])",
        vec![json!(ops)],
    )
    .await
}

const FOCUS_STATE: &str = "const el = document.activeElement;
    return { marked: el.__marked === true, id: el.id, name: el.name || null, value: el.value,
             start: el.selectionStart, end: el.selectionEnd, dir: el.selectionDirection };";

#[tokio::test(flavor = "multi_thread")]
async fn focus_value_and_selection_survive_patches() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let server = serve_dir_or_files(
        StaticFiles::new()
            .file("/index.html", INDEX)
            .file("/patch.js", PATCH_JS),
    )
    .await?;
    let page = browser.new_context().await?;
    page.goto(&server.url("/")).await?;
    page.wait_for("window.DjustPatch").await?;

    // 1. Siblings change, the parent's attributes change, a node is inserted before it.
    let old = r#"<div class="wrap" data-v="1"><p>before</p><textarea name="body" id="ta">server text</textarea><span>1 online</span></div>"#;
    let new = r#"<div class="wrap active" data-v="2"><p>inserted</p><p>before!</p><textarea name="body" id="ta">server text</textarea><span>2 online</span><b>new</b></div>"#;
    render(&page, old).await?;
    page.type_into("#ta", " typed").await?;
    page.eval("const ta = document.getElementById('ta'); ta.__marked = true; ta.setSelectionRange(2, 8, 'backward'); return null").await?;
    assert_eq!(patch(&page, old, new).await?, json!(true));
    let state = page.eval(FOCUS_STATE).await?;
    assert_eq!(
        state,
        json!({"marked": true, "id": "ta", "name": "body", "value": "server text typed", "start": 2, "end": 8, "dir": "backward"})
    );
    let parent = page.eval("const p = document.querySelector('.wrap'); return [p.className, p.dataset.v, p.children.length]").await?;
    assert_eq!(parent, json!(["wrap active", "2", 5]));

    // 2. The focused input is re-created (its parent changed tag): focus, typed value and
    //    selection move to the equivalent new input.
    let old = r#"<form><input name="q" value="a"></form>"#;
    let new = r#"<section><input name="q" value="a"></section>"#;
    render(&page, old).await?;
    page.type_into("input[name=q]", "bcd").await?;
    page.eval("document.activeElement.__marked = true; document.activeElement.setSelectionRange(1, 3); return null").await?;
    assert_eq!(patch(&page, old, new).await?, json!(true));
    let state = page.eval(FOCUS_STATE).await?;
    assert_eq!(
        state,
        json!({"marked": false, "id": "", "name": "q", "value": "abcd", "start": 1, "end": 3, "dir": "forward"})
    );
    assert_eq!(
        page.eval("return document.querySelector('section > input') === document.activeElement")
            .await?,
        json!(true)
    );

    // 3. A keyed move of the focused element keeps focus.
    let old = r#"<ul><li dj-key="a"><input id="in-a"></li><li dj-key="b">b</li><li dj-key="c">c</li></ul>"#;
    let new = r#"<ul><li dj-key="b">b</li><li dj-key="c">c</li><li dj-key="a"><input id="in-a"></li></ul>"#;
    render(&page, old).await?;
    page.type_into("#in-a", "moving").await?;
    page.eval("document.activeElement.__marked = true; return null")
        .await?;
    assert_eq!(patch(&page, old, new).await?, json!(true));
    let state = page.eval(FOCUS_STATE).await?;
    assert_eq!(state["marked"], json!(true));
    assert_eq!(state["value"], json!("moving"));

    // 4. The server changing `value` never overwrites what the focused user is typing...
    let old = r#"<input id="i" value="a">"#;
    let new = r#"<input id="i" value="server">"#;
    render(&page, old).await?;
    page.type_into("#i", "bc").await?;
    assert_eq!(patch(&page, old, new).await?, json!(true));
    assert_eq!(
        page.eval(
            "const i = document.getElementById('i'); return [i.value, i.getAttribute('value')]"
        )
        .await?,
        json!(["abc", "server"])
    );

    // ...but does update it once the user is elsewhere.
    page.click("#elsewhere").await?;
    let newer = r#"<input id="i" value="later">"#;
    assert_eq!(patch(&page, new, newer).await?, json!(true));
    assert_eq!(
        page.eval("return document.getElementById('i').value")
            .await?,
        json!("later")
    );

    page.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn properties_follow_attributes_after_user_interaction() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let server = serve_dir_or_files(
        StaticFiles::new()
            .file("/index.html", INDEX)
            .file("/patch.js", PATCH_JS),
    )
    .await?;
    let page = browser.new_context().await?;
    page.goto(&server.url("/")).await?;
    page.wait_for("window.DjustPatch").await?;

    // Checkbox: the user checks it; the server renders it checked, then unchecked.
    let (a, b, c) = (
        r#"<input type="checkbox" id="c">"#,
        r#"<input type="checkbox" id="c" checked>"#,
        r#"<input type="checkbox" id="c">"#,
    );
    render(&page, a).await?;
    page.click("#c").await?;
    page.click("#elsewhere").await?;
    assert_eq!(patch(&page, a, b).await?, json!(true));
    assert_eq!(patch(&page, b, c).await?, json!(true));
    assert_eq!(
        page.eval("return document.getElementById('c').checked")
            .await?,
        json!(false)
    );

    // Select: the user picks c; the server then selects b.
    let old = r#"<select id="s"><option value="a" selected>a</option><option value="b">b</option><option value="c">c</option></select>"#;
    let new = r#"<select id="s"><option value="a">a</option><option value="b" selected>b</option><option value="c">c</option></select>"#;
    render(&page, old).await?;
    page.eval("const s = document.getElementById('s'); s.value = 'c'; s.dispatchEvent(new Event('change')); return null").await?;
    assert_eq!(patch(&page, old, new).await?, json!(true));
    assert_eq!(
        page.eval("return document.getElementById('s').value")
            .await?,
        json!("b")
    );

    // Textarea: typed into, then left; the server's new content wins.
    let old = r#"<textarea id="t">a</textarea>"#;
    let new = r#"<textarea id="t">server</textarea>"#;
    render(&page, old).await?;
    page.type_into("#t", "typed").await?;
    page.click("#elsewhere").await?;
    assert_eq!(patch(&page, old, new).await?, json!(true));
    assert_eq!(
        page.eval("return document.getElementById('t').value")
            .await?,
        json!("server")
    );

    // Removing `value` from a checkbox must not leave `value=""` behind.
    let old = r#"<input type="checkbox" id="v" value="x">"#;
    let new = r#"<input type="checkbox" id="v">"#;
    render(&page, old).await?;
    assert_eq!(patch(&page, old, new).await?, json!(true));
    assert_eq!(
        page.eval("return document.getElementById('v').hasAttribute('value')")
            .await?,
        json!(false)
    );

    page.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_return_false_and_morph_root_keeps_focus() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let server = serve_dir_or_files(
        StaticFiles::new()
            .file("/index.html", INDEX)
            .file("/patch.js", PATCH_JS),
    )
    .await?;
    let page = browser.new_context().await?;
    page.goto(&server.url("/")).await?;
    page.wait_for("window.DjustPatch").await?;
    render(&page, "<p>x</p>").await?;

    let results = page
        .eval(
            "const root = document.getElementById('root');
             return [
               DjustPatch.apply(root, [['t', [5, 0], 'x']]),
               DjustPatch.apply(root, [['t', [0], 'not text']]),
               DjustPatch.apply(root, [['i', [0, 9], '<b>x</b>']]),
               DjustPatch.apply(root, [['rm', [0], 2]]),
               DjustPatch.apply(root, [['zz', [0]]]),
               DjustPatch.apply(root, [['t', [0, 0], 'ok'], ['mv', [0], 3]]),
               root.innerHTML,
             ];",
        )
        .await?;
    assert_eq!(
        results,
        json!([false, false, false, false, false, false, "<p>ok</p>"])
    );

    // Full re-sync: morphRoot re-renders everything but keeps the textarea and its state.
    let old = r#"<h1>Doc</h1><textarea name="body">text</textarea><ul><li>1</li></ul>"#;
    let new = r#"<h1 class="x">Doc v2</h1><p>new para</p><textarea name="body">text</textarea><ul><li>1</li><li>2</li></ul>"#;
    render(&page, old).await?;
    page.type_into("textarea", "!").await?;
    page.eval("document.activeElement.setSelectionRange(1, 2); document.activeElement.__marked = true; return null").await?;
    assert_eq!(
        page.eval_with(
            "return DjustPatch.morphRoot(document.getElementById('root'), arguments[0])",
            vec![json!(new)]
        )
        .await?,
        json!(true)
    );
    let state = page.eval(FOCUS_STATE).await?;
    assert_eq!(state["value"], json!("text!"));
    assert_eq!(
        (state["start"].clone(), state["end"].clone()),
        (json!(1), json!(2))
    );
    let html = page
        .eval("return document.getElementById('root').innerHTML")
        .await?;
    assert_eq!(html, json!(new));

    page.close().await
}
