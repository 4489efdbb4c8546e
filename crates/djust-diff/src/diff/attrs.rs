//! Attribute diff that also reproduces the new attribute *order*.
//!
//! `setAttribute` keeps an existing attribute in place and appends a new one, so attributes
//! added in the middle (e.g. a conditional `class` before `id`) need the attributes after them
//! removed and re-added. Exact order keeps the patched DOM identical to a fresh render, which
//! makes `innerHTML` comparisons (and the full-resync fallback) reliable.

use crate::op::{Op, Path};
use crate::tree::{Attr, Element, attr_qualified_name};

fn same_name(a: &Attr, b: &Attr) -> bool {
    a.name.ns == b.name.ns && a.name.local == b.name.local
}

/// Appends ops turning the attributes of `old` into those of `new` on the element at `path`.
pub(super) fn diff(old: &Element, new: &Element, path: &Path, ops: &mut Vec<Op>) {
    // Old attributes that survive, in their current order.
    let kept: Vec<&Attr> = old
        .attrs
        .iter()
        .filter(|a| new.attrs.iter().any(|b| same_name(a, b)))
        .collect();
    // The longest prefix of `new` that the surviving attributes already have in order.
    let in_place = kept
        .iter()
        .zip(&new.attrs)
        .take_while(|(a, b)| same_name(a, b))
        .count();
    for attr in &old.attrs {
        let position = new.attrs.iter().position(|b| same_name(attr, b));
        if position.is_none_or(|p| p >= in_place) {
            ops.push(Op::RemoveAttr {
                path: path.clone(),
                name: attr_qualified_name(&attr.name).into_owned(),
            });
        }
    }
    for (i, attr) in new.attrs.iter().enumerate() {
        if i < in_place && kept[i].value == attr.value {
            continue;
        }
        ops.push(Op::SetAttr {
            path: path.clone(),
            name: attr_qualified_name(&attr.name).into_owned(),
            value: attr.value.to_string(),
        });
    }
}
