//! Helpers shared by the integration tests (each test binary uses a subset).
#![allow(dead_code)]

pub mod cases;
pub mod generate;
pub mod model;

use djust_diff::{Op, Tree, diff};

/// Diffs `old` → `new`, applies the ops to a model of `old` and asserts the result equals
/// `new` node for node. Returns the ops for further assertions.
pub fn check_roundtrip(old: &str, new: &str) -> Vec<Op> {
    let (old_tree, new_tree) = (Tree::parse(old), Tree::parse(new));
    let ops = diff(&old_tree, &new_tree);
    let mut dom = model::from_tree(&old_tree);
    if let Err(e) = model::apply(&mut dom, &ops) {
        panic!("ops did not apply: {e}\nold: {old:?}\nnew: {new:?}\nops: {ops:#?}");
    }
    let expected = model::from_tree(&new_tree);
    assert!(
        dom == expected,
        "patched DOM differs\nold: {old:?}\nnew: {new:?}\nops: {ops:#?}\ngot: {dom:#?}\nwant: {expected:#?}"
    );
    ops
}

/// A JSON description of a parsed fragment, node for node, in the same form the browser-side
/// `shape()` in the Chromium tests produces from a live DOM:
/// elements `[namespaceURI, localName, [[attr, value]...], [children]]`, text `[3, data]`,
/// comments `[8, data]`.
pub fn shape(tree: &Tree) -> serde_json::Value {
    serde_json::Value::Array(tree.children().map(shape_node).collect())
}

fn shape_node(node: djust_diff::NodeRef<'_>) -> serde_json::Value {
    use djust_diff::{Namespace, NodeKind};
    use serde_json::json;
    match node.kind() {
        NodeKind::Text => json!([3, node.text()]),
        NodeKind::Comment => json!([8, node.text()]),
        NodeKind::Element => {
            let ns = match node.namespace() {
                Some(Namespace::Svg) => "http://www.w3.org/2000/svg",
                Some(Namespace::MathMl) => "http://www.w3.org/1998/Math/MathML",
                _ => "http://www.w3.org/1999/xhtml",
            };
            let attrs: Vec<_> = node.attrs().map(|(n, v)| json!([n, v])).collect();
            let kids: Vec<_> = node.children().map(shape_node).collect();
            json!([ns, node.tag(), attrs, kids])
        }
    }
}
