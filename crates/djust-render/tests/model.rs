//! Model-based round trip: random contexts and random changes, rendered as diffs and
//! applied by the reference client, equal a full minijinja render byte for byte.

mod common;

use common::{empty_context, env, random_change};
use djust_render::{ClientModel, Engine, Output, RenderInput, ViewState, context_entries};
use minijinja::Environment;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value as Json, json};

fn render(engine: &Engine, name: &str, ctx: &Json, state: &mut ViewState) -> Output {
    let (root, entries) = context_entries(ctx.as_object().unwrap());
    engine
        .render(
            &engine.view(name).unwrap(),
            RenderInput {
                root: &root,
                entries: &entries,
            },
            state,
        )
        .unwrap()
}

fn expected(env: &Environment<'_>, name: &str, ctx: &Json) -> String {
    env.get_template(name)
        .unwrap()
        .render(djust_render::map_to_value(ctx.as_object().unwrap()))
        .unwrap()
}

fn apply(client: &mut ClientModel, out: &Output) {
    match out {
        Output::Full { rendered, statics } => client.apply_full(rendered, &json!(statics)).unwrap(),
        Output::Diff { diff, statics } => {
            client.apply_diff(&json!(diff), &json!(statics)).unwrap();
        }
    }
}

#[test]
fn random_changes_round_trip_byte_for_byte() {
    let engine = Engine::new(env(), ["t.html"]).unwrap();
    let reference = env();
    for seed in 0..40 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut next_id = 0;
        let mut ctx = empty_context();
        let mut state = ViewState::new();
        let mut client = ClientModel::new();
        for step in 0..150 {
            random_change(&mut rng, &mut ctx, &mut next_id);
            let out = render(&engine, "t.html", &ctx, &mut state);
            apply(&mut client, &out);
            assert_eq!(
                client.html().unwrap(),
                expected(&reference, "t.html", &ctx),
                "seed {seed} step {step}"
            );
            if rng.random_bool(0.02) {
                state.reset(); // a resync: the next render is full
                client = ClientModel::new();
            }
        }
    }
}

/// The context as the runtime builds it for presence: `users` a [`SharedList`] of
/// fingerprinted maps, `cursors` a fingerprinted map seen without the viewer's own entry.
fn render_shared(engine: &Engine, ctx: &Json, viewer: &str, state: &mut ViewState) -> Output {
    use djust_render::{ExceptMap, SharedList, fingerprint, map_from_values, to_value};
    use std::sync::Arc;
    let map = ctx.as_object().unwrap();
    let mut values: Vec<(Arc<str>, minijinja::Value)> = Vec::new();
    for (k, v) in map {
        let value = match k.as_str() {
            "users" => SharedList::new_value(
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|u| djust_render::map_to_value_fingerprinted(u.as_object().unwrap()))
                    .collect(),
            ),
            "cursors" => ExceptMap::new_value(
                djust_render::map_to_value_fingerprinted(v.as_object().unwrap()),
                viewer,
            ),
            _ => to_value(v),
        };
        values.push((Arc::from(k.as_str()), value));
    }
    let mut entries: Vec<(Arc<str>, u64)> = values
        .iter()
        .map(|(k, v)| (k.clone(), fingerprint(v)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let root = map_from_values(values);
    engine
        .render(
            &engine.view("t.html").unwrap(),
            RenderInput {
                root: &root,
                entries: &entries,
            },
            state,
        )
        .unwrap()
}

#[test]
fn shared_snapshots_round_trip_byte_for_byte() {
    let engine = Engine::new(env(), ["t.html"]).unwrap();
    let reference = env();
    for seed in 0..40 {
        let mut rng = StdRng::seed_from_u64(1000 + seed);
        let mut next_id = 0;
        let mut ctx = empty_context();
        let mut state = ViewState::new();
        let mut client = ClientModel::new();
        for step in 0..150 {
            random_change(&mut rng, &mut ctx, &mut next_id);
            let out = render_shared(&engine, &ctx, "user_0", &mut state);
            apply(&mut client, &out);
            let mut want = ctx.clone();
            want["cursors"]
                .as_object_mut()
                .unwrap()
                .shift_remove("user_0");
            assert_eq!(
                client.html().unwrap(),
                expected(&reference, "t.html", &want),
                "seed {seed} step {step}"
            );
        }
    }
}

#[test]
fn a_join_in_a_big_room_sends_one_item() {
    let engine = Engine::new(env(), ["t.html"]).unwrap();
    let users: Vec<Json> = (0..1000)
        .map(|i| json!({"id": i, "name": format!("u{i}"), "tags": []}))
        .collect();
    let mut ctx = json!({"users": users, "cursors": {}, "content": "x"});
    let mut state = ViewState::new();
    render(&engine, "t.html", &ctx, &mut state);
    ctx["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": 5000, "name": "new", "tags": []}));
    let Output::Diff { diff, statics } = render(&engine, "t.html", &ctx, &mut state) else {
        panic!("diff expected")
    };
    assert!(statics.is_empty(), "statics are sent once");
    assert_eq!(diff["0"], json!("1001"));
    let ins = diff["1"]["ins"].as_array().unwrap();
    assert_eq!(ins.len(), 1, "{diff:?}");
    assert_eq!(ins[0][0], json!(1000));
    assert!(diff["1"].get("upd").is_none() && diff["1"].get("del").is_none());
    assert_eq!(
        diff.len(),
        2,
        "only the count and the list changed: {diff:?}"
    );
    // A leave: one removal.
    ctx["users"].as_array_mut().unwrap().remove(3);
    let Output::Diff { diff, .. } = render(&engine, "t.html", &ctx, &mut state) else {
        panic!()
    };
    assert_eq!(diff["1"]["del"].as_array().unwrap().len(), 1);
    assert!(diff["1"].get("ins").is_none());
    // A meta change: one update.
    ctx["users"][10]["typing"] = json!(true);
    let Output::Diff { diff, .. } = render(&engine, "t.html", &ctx, &mut state) else {
        panic!()
    };
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert_eq!(diff["1"]["upd"].as_array().unwrap().len(), 1);
    // Nothing changed: nothing to send.
    let Output::Diff { diff, .. } = render(&engine, "t.html", &ctx, &mut state) else {
        panic!()
    };
    assert!(diff.is_empty());
}

#[test]
fn unchanged_entries_are_not_evaluated() {
    // `boom` fails when evaluated; it is only evaluated when its input changes.
    let mut e = env();
    e.add_template("boom.html", "{{ a }}{{ b|int(strict) }}")
        .ok();
    e.add_filter(
        "int",
        |v: minijinja::Value, _s: minijinja::Value| -> Result<i64, minijinja::Error> {
            v.as_i64().ok_or_else(|| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, "not an int")
            })
        },
    );
    e.add_global("strict", true);
    let engine = Engine::new(e, ["boom.html"]).unwrap();
    let view = engine.view("boom.html").unwrap();
    let mut state = ViewState::new();
    let go = |ctx: Json, state: &mut ViewState| {
        let (root, entries) = context_entries(ctx.as_object().unwrap());
        engine.render(
            &view,
            RenderInput {
                root: &root,
                entries: &entries,
            },
            state,
        )
    };
    go(json!({"a": 1, "b": 2}), &mut state).unwrap();
    // b unchanged → its slot is skipped, whatever a does.
    let Output::Diff { diff, .. } = go(json!({"a": 2, "b": 2}), &mut state).unwrap() else {
        panic!()
    };
    assert_eq!(
        diff,
        serde_json::Map::from_iter([("0".to_owned(), json!("2"))])
    );
    // b changes to a bad value → a render error, and the state is reset.
    let err = go(json!({"a": 2, "b": "x"}), &mut state).unwrap_err();
    assert!(err.to_string().contains("boom.html"), "{err}");
    assert!(state.is_empty());
}

#[test]
fn includes_are_inlined_and_unsupported_constructs_are_refused_with_line() {
    let engine = Engine::new(env(), ["outer.html"]).unwrap();
    let mut state = ViewState::new();
    let mut client = ClientModel::new();
    let ctx = json!({"title": "<T>", "content": "c"});
    apply(
        &mut client,
        &render(&engine, "outer.html", &ctx, &mut state),
    );
    assert_eq!(client.html().unwrap(), "<div><p>&lt;T&gt;</p>c</div>");

    for (src, construct) in [
        ("a\n{% set x = 1 %}", "{% set %}"),
        ("{% macro m() %}{% endmacro %}", "{% macro %}"),
        (
            "\n\n{% for x in y %}{% else %}none{% endfor %}",
            "`else` branch",
        ),
        ("{% extends \"b.html\" %}", "{% extends %}"),
        ("{% for x in y if x %}{% endfor %}", "`if` filter"),
    ] {
        let mut e = env();
        e.add_template_owned("bad.html", src.to_owned()).unwrap();
        let err = Engine::new(e, ["bad.html"])
            .map(|_| ())
            .map_err(|e| e.to_string())
            .err()
            .unwrap_or_else(|| panic!("{src} compiled"));
        assert!(err.contains("bad.html") && err.contains(construct), "{err}");
        let line = src.matches('\n').count() + 1;
        assert!(err.contains(&format!("line {line}")), "{err}");
    }
    let mut e = env();
    e.add_template("inc_missing.html", "x\n{% include \"nope.html\" %}")
        .unwrap();
    let err = Engine::new(e, ["inc_missing.html"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("inc_missing.html") && err.contains("line 2") && err.contains("nope.html"),
        "{err}"
    );
}

#[test]
fn markers_follow_the_page() {
    let engine = Engine::new(env(), ["t.html"]).unwrap();
    let mut state = ViewState::new();
    let mut ctx = json!({"users": [], "cursors": {"a": {"x": 1, "y": 2, "meta": {}}, "b": {"x": 1, "y": 2, "meta": {}}}});
    render(&engine, "t.html", &ctx, &mut state);
    let mut m = Vec::new();
    state.markers(&mut m);
    assert_eq!(m.len(), 2);
    ctx["cursors"].as_object_mut().unwrap().shift_remove("a");
    render(&engine, "t.html", &ctx, &mut state);
    m.clear();
    state.markers(&mut m);
    assert_eq!(m.len(), 1);
}

#[test]
fn comparisons_and_attribute_chains_compile() {
    let mut e = env();
    e.add_template("cmp.html", "{% if page.count > 1 %}many{% else %}one{% endif %}|{{ a.b.c|default('x') ~ 'y' }}|{% if not (x or y) and z is defined %}t{% endif %}|{{ -z + 2 * 3 }}|{{ 'a' if z > 0 else 'b' }}|{{ [1, 2]|length }}{{ {'k': 5}.k }}{{ 'abc'[1:] }}{{ range(2)|list|length }}|{{ (z + 1) * 2 }}{% if (z + 1) > 1 and (z or (x)) %}!{% endif %}{{ [z, (z)]|join('-') }}").unwrap();
    let engine = Engine::new(e, ["cmp.html"])
        .map_err(|e| e.to_string())
        .unwrap();
    let mut state = ViewState::new();
    let mut client = ClientModel::new();
    let ctx = json!({"page": {"count": 2}, "a": {"b": {"c": "q"}}, "z": 1});
    apply(&mut client, &render(&engine, "cmp.html", &ctx, &mut state));
    assert_eq!(client.html().unwrap(), "many|qy|t|5|a|25bc2|4!1-1");
}

/// Items rendered by one viewer are reused by the others (`cache.rs`): several viewers of one
/// engine, whose loop bodies read a per-viewer entry (`me`), their position (`loop.index`) and,
/// in a nested loop, the outer item (`u.name`), each still get exactly their own page.
#[test]
fn viewers_sharing_rendered_items_each_get_their_own_page() {
    const T: &str = "<ul>{% for u in users %}<li dj-key=\"{{ u.id }}\">{{ loop.index }}{% if u.id == me %}(you){% endif %}{% for t in u.tags %}<em>{{ u.name }}:{{ t }}</em>{% endfor %}</li>{% endfor %}</ul>";
    let make_env = || {
        let mut env = env();
        env.add_template("v.html", T).unwrap();
        env
    };
    let engine = Engine::new(make_env(), ["v.html"]).unwrap();
    let reference = make_env();
    let mut rng = StdRng::seed_from_u64(77);
    let mut next_id = 0;
    let mut ctx = empty_context();
    let mut viewers: Vec<(ViewState, ClientModel)> = (0..3)
        .map(|_| (ViewState::new(), ClientModel::new()))
        .collect();
    for step in 0..300 {
        random_change(&mut rng, &mut ctx, &mut next_id);
        for (me, (state, client)) in viewers.iter_mut().enumerate() {
            let mut mine = ctx.clone();
            mine["me"] = json!(me);
            apply(client, &render(&engine, "v.html", &mine, state));
            assert_eq!(
                client.html().unwrap(),
                expected(&reference, "v.html", &mine),
                "viewer {me} step {step}"
            );
        }
    }
}
