//! djust's render engine: each live view template is compiled once into **static parts and
//! dynamic slots** (after Phoenix LiveView's `%Rendered{}`); a connection keeps only
//! fingerprints of what its client has, and each render sends only the slots whose inputs
//! changed — keyed loop items inserted, removed, moved or updated one by one.
//!
//! ```
//! use djust_render::{ClientModel, Engine, Output, RenderInput, ViewState, context_entries};
//! use minijinja::Environment;
//! use serde_json::json;
//!
//! let mut env = Environment::new();
//! env.add_template("room.html", "<h3>{{ users|length }} online</h3><ul>{% for u in users %}<li>{{ u.name }}</li>{% endfor %}</ul>").unwrap();
//! let engine = Engine::new(env, ["room.html"]).unwrap();
//! let view = engine.view("room.html").unwrap();
//!
//! let mut state = ViewState::new();
//! let mut client = ClientModel::new();
//! let render = |ctx: serde_json::Value, state: &mut ViewState| {
//!     let map = ctx.as_object().unwrap();
//!     let (root, entries) = context_entries(map);
//!     engine.render(&view, RenderInput { root: &root, entries: &entries }, state).unwrap()
//! };
//! // Mount: the whole tree, with the statics.
//! let Output::Full { rendered, statics } = render(json!({"users": [{"id": 1, "name": "Ann"}]}), &mut state) else { panic!() };
//! client.apply_full(&rendered, &json!(statics)).unwrap();
//! assert_eq!(client.html().unwrap(), "<h3>1 online</h3><ul><li>Ann</li></ul>");
//! // A join: the count and one inserted item travel, not the list.
//! let Output::Diff { diff, statics } = render(json!({"users": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}]}), &mut state) else { panic!() };
//! assert_eq!(diff["0"], json!("2"));
//! assert_eq!(diff["1"]["ins"][0][2], json!(["Bob"]));
//! client.apply_diff(&json!(diff), &json!(statics)).unwrap();
//! assert_eq!(client.html().unwrap(), "<h3>2 online</h3><ul><li>Ann</li><li>Bob</li></ul>");
//! ```
//!
//! Supported statements: `{{ … }}` (any minijinja expression and filter, autoescaped),
//! `{% if %}/{% elif %}/{% else %}`, `{% for a in b %}` and `{% for k, v in m.items %}`
//! (with `loop.index`, `loop.first`, …), `{% include "literal" %}` (inlined) and comments.
//! Anything else is refused by [`Engine::new`] with the template, line and construct.

#![warn(missing_docs)]

mod cache;
mod client;
mod compile;
mod error;
mod intern;
mod keyhash;
mod keys;
mod render;
mod set;
mod shared;
mod state;
mod tree;
mod value;

pub use client::{ClientModel, ModelError, full_html};
pub use error::{CompileError, RenderError};
pub use intern::intern;
pub use render::{Output, RenderInput};
pub use set::{Engine, MarkerParser, View};
pub use shared::{ExceptMap, SharedList};
pub use state::ViewState;
pub use value::{
    DjangoMap, djangoize, fingerprint, map_from_values, map_from_values_fingerprinted,
    map_to_value, map_to_value_fingerprinted, to_value,
};

use std::sync::Arc;

/// A JSON context map as the root value and its sorted entry fingerprints.
pub fn context_entries(
    map: &serde_json::Map<String, serde_json::Value>,
) -> (minijinja::Value, Vec<(Arc<str>, u64)>) {
    let values: Vec<(Arc<str>, minijinja::Value)> =
        map.iter().map(|(k, v)| (intern(k), to_value(v))).collect();
    let mut entries: Vec<(Arc<str>, u64)> = values
        .iter()
        .map(|(k, v)| (k.clone(), fingerprint(v)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    (value::map_from_values(values), entries)
}
