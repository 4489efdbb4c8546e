//! Server-side HTML diff for djust live views.
//!
//! A live view re-renders its template on every change. Instead of shipping the whole HTML,
//! the runtime keeps the last rendered [`Tree`] per connection, parses the new render and
//! sends the [`Op`]s returned by [`diff`]; the browser applies them with `patch.js`
//! (`DjustPatch.apply(root, ops)`).
//!
//! ```
//! use djust_diff::{Op, Tree, diff};
//!
//! let old = Tree::parse(r#"<ul><li dj-key="a">A</li></ul><p>1 online</p>"#);
//! let new = Tree::parse(r#"<ul><li dj-key="b">B</li><li dj-key="a">A</li></ul><p>2 online</p>"#);
//! let ops = diff(&old, &new);
//! assert_eq!(
//!     ops,
//!     vec![
//!         Op::Insert { path: vec![0, 0], html: r#"<li dj-key="b">B</li>"#.into() },
//!         Op::SetText { path: vec![1, 0], text: "2 online".into() },
//!     ]
//! );
//! assert_eq!(
//!     serde_json::to_string(&ops).unwrap(),
//!     r#"[["i",[0,0],"<li dj-key=\"b\">B</li>"],["t",[1,0],"2 online"]]"#
//! );
//! // Full re-sync frames carry the serialized tree instead.
//! assert_eq!(new.to_html(), r#"<ul><li dj-key="b">B</li><li dj-key="a">A</li></ul><p>2 online</p>"#);
//! ```
//!
//! Guarantees (see `docs/patch-ops.md` for the wire format and client rules):
//! - [`Tree::parse`] builds exactly the node tree a browser builds for `div.innerHTML = html`
//!   (html5ever fragment parsing in a `<div>` context: whitespace text nodes, comments,
//!   implied `<tbody>`, foster-parented table content, SVG/MathML namespaces).
//! - Applying `diff(old, new)` in order to a container holding `old` yields `new` node for node,
//!   attributes in the same order. Text is carried as text: escaped markup in the render
//!   (`&lt;img&gt;`) never becomes elements.

mod diff;
mod equal;
mod op;
mod serialize;
mod sink;
mod tree;

pub use diff::diff;
pub use op::{Op, Path};
pub use tree::{Namespace, NodeKind, NodeRef, Tree};
