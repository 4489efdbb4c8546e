//! Round trip in a real Chromium: for hundreds of (old, new) pairs, `patch.js` applying
//! `diff(old, new)` to a div holding `old` must leave exactly what `div.innerHTML = new` gives.
//! Also checks that the server-side parse matches the browser's DOM node for node, and that
//! `DjustPatch.morphRoot` (full re-sync) reaches the same DOM.

mod common;

use djust_diff::{Tree, diff};
use djust_testkit::{Page, StaticFiles, TestkitError, browser, serve_dir_or_files};
use serde_json::{Value, json};

const PATCH_JS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../djust/assets/patch.js"
));
const GENERATED: u64 = 300;

const INDEX: &str = r#"<!doctype html><html><head><meta charset="utf-8">
<script>window.__globalsBefore = Object.getOwnPropertyNames(window);</script>
<script src="/patch.js"></script>
<script>
window.__globalsAdded = Object.getOwnPropertyNames(window)
  .filter(function (n) { return window.__globalsBefore.indexOf(n) < 0 && n !== "__globalsBefore"; });
window.shape = function shape(n) {
  if (n.nodeType !== 1) return [n.nodeType, n.data];
  var kids = n.namespaceURI === "http://www.w3.org/1999/xhtml" && n.localName === "template" ? n.content : n;
  return [n.namespaceURI, n.localName, Array.from(n.attributes, function (a) { return [a.name, a.value]; }),
          Array.from(kids.childNodes, shape)];
};
window.shapeOf = function (div) { return Array.from(div.childNodes, shape); };
</script></head><body><div id="root"></div></body></html>"#;

const RUN_CASES: &str = r#"
const cases = arguments[0];
const failures = [];
for (const c of cases) {
  const live = document.createElement("div");
  document.body.appendChild(live);
  live.innerHTML = c.old;
  const parsedOld = JSON.stringify(shapeOf(live));
  let ok;
  try { ok = DjustPatch.apply(live, c.ops); } catch (e) { ok = "threw " + e; }
  const want = document.createElement("div");
  want.innerHTML = c.new;
  const got = JSON.stringify(shapeOf(live)), wanted = JSON.stringify(shapeOf(want));
  const problems = [];
  if (parsedOld !== c.serverOld) problems.push("server parse of old differs from browser");
  if (wanted !== c.serverNew) problems.push("server parse of new differs from browser");
  if (ok !== true) problems.push("apply returned " + ok);
  if (live.innerHTML !== want.innerHTML) problems.push("innerHTML differs");
  if (got !== wanted) problems.push("node structure differs");
  const morphed = document.createElement("div");
  document.body.appendChild(morphed);
  morphed.innerHTML = c.old;
  DjustPatch.morphRoot(morphed, c.new);
  if (JSON.stringify(shapeOf(morphed)) !== wanted) problems.push("morphRoot result differs");
  morphed.remove();
  if (problems.length) failures.push({ name: c.name, problems, got: live.innerHTML, want: want.innerHTML,
    browserOld: parsedOld, serverOld: c.serverOld, browserNew: wanted, serverNew: c.serverNew });
  live.remove();
}
return failures;
"#;

async fn open_page(
    browser: &djust_testkit::Browser,
) -> Result<(Page, djust_testkit::StaticServer), TestkitError> {
    let files = StaticFiles::new()
        .file("/index.html", INDEX)
        .file("/patch.js", PATCH_JS);
    let server = serve_dir_or_files(files).await?;
    let page = browser.new_context().await?;
    page.goto(&server.url("/")).await?;
    page.wait_for("window.DjustPatch && window.shapeOf").await?;
    Ok((page, server))
}

fn case(name: String, old: &str, new: &str) -> Value {
    let (old_tree, new_tree) = (Tree::parse(old), Tree::parse(new));
    json!({
        "name": name,
        "old": old,
        "new": new,
        "ops": diff(&old_tree, &new_tree),
        "serverOld": common::shape(&old_tree).to_string(),
        "serverNew": common::shape(&new_tree).to_string(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn patches_match_a_fresh_parse_in_chromium() -> Result<(), TestkitError> {
    let Some(browser) = browser().await else {
        return Ok(());
    };
    let (page, _server) = open_page(&browser).await?;

    let mut cases: Vec<Value> = common::cases::tricky()
        .iter()
        .enumerate()
        .map(|(i, (old, new))| case(format!("tricky #{i}"), old, new))
        .collect();
    for seed in 0..GENERATED {
        let (old, new) = common::generate::pair(seed);
        cases.push(case(format!("generated seed {seed}"), &old, &new));
        // And backwards, which turns inserts into removals.
        cases.push(case(format!("generated seed {seed} reversed"), &new, &old));
    }
    let total = cases.len();
    let failures = page.eval_with(RUN_CASES, vec![Value::Array(cases)]).await?;
    let failures = failures.as_array().cloned().unwrap_or_default();
    let ran_scripts = page.eval("return window.__djustTestRan === true").await?;
    let globals = page.eval("return window.__globalsAdded").await?;
    page.close().await?;

    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.iter().map(describe).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        ran_scripts,
        json!(false),
        "a <script> or inline handler from patched HTML executed"
    );
    assert_eq!(
        globals,
        json!(["DjustPatch"]),
        "patch.js must define exactly one global"
    );
    Ok(())
}

/// One failure, with long fields cut so the report stays readable.
fn describe(failure: &Value) -> String {
    let cut = |v: &Value| {
        let s = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        match s.char_indices().nth(400) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s,
        }
    };
    let mut out = format!("- {} {}", cut(&failure["name"]), failure["problems"]);
    for field in [
        "got",
        "want",
        "browserOld",
        "serverOld",
        "browserNew",
        "serverNew",
    ] {
        out.push_str(&format!("\n    {field}: {}", cut(&failure[field])));
    }
    out
}
