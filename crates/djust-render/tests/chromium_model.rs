//! The model round trip in a real Chromium: the browser client (`rendered.js`, then
//! `DjustPatch.morphRoot`) fed the engine's full renders and diffs for a few hundred random
//! steps ends, at every step, with exactly the HTML and DOM of a full minijinja render.

mod common;

use common::{empty_context, env, random_change};
use djust_render::{Engine, Output, RenderInput, ViewState, context_entries, map_to_value};
use djust_testkit::{StaticFiles, browser, serve_dir_or_files};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value as Json, json};

const PATCH_JS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../djust/assets/patch.js"
));
const RENDERED_JS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../djust/assets/rendered.js"
));
const STEPS: usize = 300;

const INDEX: &str = r#"<!doctype html><html><head><meta charset="utf-8">
<script src="/patch.js"></script><script src="/rendered.js"></script></head>
<body><div id="root"></div></body></html>"#;

/// Applies every step; returns the failures (step, what, got, want).
const RUN: &str = r#"
const steps = arguments[0];
const root = document.getElementById("root");
let model = null;
const failures = [];
for (let i = 0; i < steps.length; i++) {
  const s = steps[i];
  try {
    if (s.full) { model = DjustRendered.create(); model.full(s.full, s.statics); }
    else { model.diff(s.diff, s.statics); }
  } catch (e) { failures.push([i, "threw " + e.message]); break; }
  const html = model.html();
  if (html !== s.want) { failures.push([i, "html", html, s.want]); break; }
  DjustPatch.morphRoot(root, html);
  const fresh = document.createElement("div");
  fresh.innerHTML = s.want;
  if (root.innerHTML !== fresh.innerHTML) { failures.push([i, "dom", root.innerHTML, fresh.innerHTML]); break; }
}
return failures;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_steps_reach_the_full_render_in_chromium() {
    let Some(browser) = browser().await else {
        return;
    };
    let engine = Engine::new(env(), ["t.html"]).unwrap();
    let view = engine.view("t.html").unwrap();
    let reference = env();
    let mut rng = StdRng::seed_from_u64(7);
    let (mut ctx, mut next_id) = (empty_context(), 0);
    let mut state = ViewState::new();
    let mut steps = Vec::new();
    for _ in 0..STEPS {
        random_change(&mut rng, &mut ctx, &mut next_id);
        if rng.random_bool(0.02) {
            state.reset(); // a resync
        }
        let (root, entries) = context_entries(ctx.as_object().unwrap());
        let out = engine
            .render(
                &view,
                RenderInput {
                    root: &root,
                    entries: &entries,
                },
                &mut state,
            )
            .unwrap();
        let want = reference
            .get_template("t.html")
            .unwrap()
            .render(map_to_value(ctx.as_object().unwrap()))
            .unwrap();
        steps.push(match out {
            Output::Full { rendered, statics } => {
                json!({"full": rendered, "statics": statics, "want": want})
            }
            Output::Diff { diff, statics } => {
                json!({"diff": diff, "statics": statics, "want": want})
            }
        });
    }
    let files = StaticFiles::new()
        .file("/index.html", INDEX)
        .file("/patch.js", PATCH_JS)
        .file("/rendered.js", RENDERED_JS);
    let server = serve_dir_or_files(files).await.unwrap();
    let page = browser.new_context().await.unwrap();
    page.goto(&server.url("/")).await.unwrap();
    page.wait_for("window.DjustRendered && window.DjustPatch")
        .await
        .unwrap();
    let failures = page.eval_with(RUN, vec![Json::Array(steps)]).await.unwrap();
    assert_eq!(failures, json!([]), "first failing step");
    page.close().await.unwrap();
}
