//! Structural equality of subtrees, possibly across two trees.

use crate::tree::{NodeData, NodeId, Tree};

/// True when the subtree `a` of `ta` and `b` of `tb` are identical (names, attributes in order,
/// text, children). Hashes are compared first, so unequal subtrees are usually rejected in O(1).
pub(crate) fn subtree_eq(ta: &Tree, a: NodeId, tb: &Tree, b: NodeId) -> bool {
    let (na, nb) = (ta.node(a), tb.node(b));
    if na.hash != nb.hash || na.children.len != nb.children.len {
        return false;
    }
    let same_data = match (&na.data, &nb.data) {
        (NodeData::Text(x), NodeData::Text(y)) | (NodeData::Comment(x), NodeData::Comment(y)) => {
            x == y
        }
        (NodeData::Element(x), NodeData::Element(y)) => {
            x.name.ns == y.name.ns
                && x.name.local == y.name.local
                && x.attrs.len() == y.attrs.len()
                && x.attrs.iter().zip(&y.attrs).all(|(p, q)| {
                    p.name.ns == q.name.ns && p.name.local == q.name.local && p.value == q.value
                })
        }
        _ => false,
    };
    same_data
        && ta
            .kids_of(a)
            .iter()
            .zip(tb.kids_of(b))
            .all(|(&x, &y)| subtree_eq(ta, x, tb, y))
}
