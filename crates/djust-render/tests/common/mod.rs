//! The random workload shared by the model round trips (Rust model and Chromium).
#![allow(dead_code)]

use minijinja::Environment;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value as Json, json};

pub const TEMPLATE: &str = r#"<h3>{{ users|length }} Editing</h3>
<ul>{% for u in users %}<li dj-key="u-{{ u.id }}" class="{% if u.typing %}typing{% endif %}">{{ u.name|first }}{{ u.name }}{% if u.admin %}<b>admin</b>{% elif u.typing %}<i>…</i>{% else %}-{% endif %}{% for t in u.tags %}<em>{{ loop.index }}:{{ t }}</em>{% endfor %}</li>{% endfor %}</ul>
{% for user_id, c in cursors.items %}<div dj-cursor="{{ user_id }}" style="left: {{ c.x }}px; top: {{ c.y }}px;">{{ c.meta.name }}</div>{% endfor %}
{% if title %}<h1>{{ title }}</h1>{% endif %}<textarea>{{ content }}</textarea>
{% for n in numbers %}{{ n }}{% if not loop.last %},{% endif %}{% endfor %}{{ raw|safe }}"#;

pub fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("t.html", TEMPLATE).unwrap();
    env.add_template("inc.html", "<p>{{ title }}</p>").unwrap();
    env.add_template(
        "outer.html",
        "<div>{% include \"inc.html\" %}{{ content }}</div>",
    )
    .unwrap();
    env
}

pub const NAMES: &[&str] = &["Ann", "Bob", "<script>", "Zoë", "a&b", "\"q\"", ""];

pub fn random_user(rng: &mut StdRng, id: u32) -> Json {
    let tags: Vec<&str> = (0..rng.random_range(0..3))
        .map(|_| NAMES[rng.random_range(0..NAMES.len())])
        .collect();
    json!({"id": id, "name": NAMES[rng.random_range(0..NAMES.len())], "typing": rng.random_bool(0.3),
           "admin": rng.random_bool(0.2), "tags": tags})
}

pub fn random_change(rng: &mut StdRng, ctx: &mut Json, next_id: &mut u32) {
    let users = ctx["users"].as_array_mut().unwrap();
    match rng.random_range(0..10) {
        0 | 1 => {
            *next_id += 1;
            let at = rng.random_range(0..=users.len());
            users.insert(at, random_user(rng, *next_id));
        }
        2 if !users.is_empty() => {
            let at = rng.random_range(0..users.len());
            users.remove(at);
        }
        3 if !users.is_empty() => {
            let at = rng.random_range(0..users.len());
            let id = users[at]["id"].as_u64().unwrap() as u32;
            users[at] = random_user(rng, id);
        }
        4 if users.len() > 1 => {
            let a = rng.random_range(0..users.len());
            let u = users.remove(a);
            let b = rng.random_range(0..=users.len());
            users.insert(b, u);
        }
        5 => {
            let cursors = ctx["cursors"].as_object_mut().unwrap();
            let id = format!("user_{}", rng.random_range(0..6));
            if rng.random_bool(0.2) {
                cursors.shift_remove(&id);
            } else {
                cursors.insert(id.clone(), json!({"x": rng.random_range(0..500), "y": rng.random_range(0..500), "meta": {"name": id}}));
            }
        }
        6 => ctx["title"] = json!(NAMES[rng.random_range(0..NAMES.len())]),
        7 => ctx["content"] = json!(format!("text {}", rng.random_range(0..1000))),
        8 => {
            let n: Vec<u32> = (0..rng.random_range(0..5))
                .map(|_| rng.random_range(0..3))
                .collect();
            ctx["numbers"] = json!(n);
        }
        _ => ctx["raw"] = json!(["<br>", "<hr>", "x"][rng.random_range(0..3)]),
    }
}

/// The starting context of a random run.
pub fn empty_context() -> Json {
    json!({"users": [], "cursors": {}, "title": "", "content": "", "numbers": [], "raw": ""})
}
