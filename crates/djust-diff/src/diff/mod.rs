//! Tree diff: turns the DOM of one [`Tree`] into another with [`Op`]s.

mod attrs;
mod children;
mod lis;

use html5ever::ns;

use crate::equal::subtree_eq;
use crate::op::{Op, Path};
use crate::serialize::write_node;
use crate::tree::{NodeData, NodeId, Tree};

/// Computes the ops that turn the DOM of `old` into the DOM of `new`.
///
/// Applying the ops in order to a container whose children are `old` (as parsed by the
/// browser) leaves children equal to `new`, node for node: same elements, attributes in the
/// same order, same text nodes (never merged or split). Elements with the same tag are
/// patched in place rather than replaced; siblings carrying `dj-key` (or `id`) are matched by
/// key and moved instead of rebuilt.
pub fn diff(old: &Tree, new: &Tree) -> Vec<Op> {
    let mut differ = Differ {
        old,
        new,
        path: Vec::new(),
        ops: Vec::new(),
    };
    differ.children(old.top_ids(), new.top_ids());
    differ.ops
}

/// Shared state of one diff run: both trees, the path of the parent being worked on, the output.
struct Differ<'a> {
    old: &'a Tree,
    new: &'a Tree,
    /// Path of the node currently being diffed (or of the parent whose children are).
    path: Path,
    ops: Vec<Op>,
}

impl Differ<'_> {
    fn at(&self, index: usize) -> Path {
        let mut path = Vec::with_capacity(self.path.len() + 1);
        path.extend_from_slice(&self.path);
        path.push(to_u32(index));
        path
    }

    /// Outer HTML of new nodes, for insert/replace ops.
    fn html_of(&self, ids: impl IntoIterator<Item = NodeId>) -> String {
        let mut html = String::new();
        for id in ids {
            // `false`: patch.js parses this in a <template>, where text is always decoded.
            write_node(self.new, id, false, &mut html);
        }
        html
    }

    /// Diffs two nodes already known to be compatible (see [`compatible`]) at `self.path`.
    fn node(&mut self, o: NodeId, n: NodeId) {
        if subtree_eq(self.old, o, self.new, n) {
            return;
        }
        match (&self.old.node(o).data, &self.new.node(n).data) {
            (NodeData::Text(a), NodeData::Text(b))
            | (NodeData::Comment(a), NodeData::Comment(b)) => {
                if a != b {
                    self.ops.push(Op::SetText {
                        path: self.path.clone(),
                        text: b.to_string(),
                    });
                }
            }
            (NodeData::Element(a), NodeData::Element(b)) if !is_script(b) => {
                attrs::diff(a, b, &self.path, &mut self.ops);
                self.children(self.old.kids_of(o), self.new.kids_of(n));
            }
            _ => {
                // A changed <script> is replaced whole: mutating its text in place could make
                // the browser run it (an empty, never-started script runs when text arrives).
                let html = self.html_of([n]);
                self.ops.push(Op::Replace {
                    path: self.path.clone(),
                    html,
                });
            }
        }
    }
}

fn is_script(element: &crate::tree::Element) -> bool {
    element.name.ns == ns!(html) && &*element.name.local == "script"
}

/// Whether an old node can be patched into a new one in place: same node type and, for
/// elements, the same namespace and tag.
fn compatible(old: &Tree, o: NodeId, new: &Tree, n: NodeId) -> bool {
    match (&old.node(o).data, &new.node(n).data) {
        (NodeData::Text(_), NodeData::Text(_)) | (NodeData::Comment(_), NodeData::Comment(_)) => {
            true
        }
        (NodeData::Element(a), NodeData::Element(b)) => {
            a.name.ns == b.name.ns && a.name.local == b.name.local
        }
        _ => false,
    }
}

/// Converts a child index to a path component. Child lists never reach 2^32 entries.
fn to_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}
