//! Patch operations and their compact JSON form (see `docs/patch-ops.md`).

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// A node path: child indices over `childNodes`, starting at the live-view root container.
/// `[2, 0]` is `root.childNodes[2].childNodes[0]`. A `<template>`'s children are the
/// `childNodes` of its `content` fragment.
pub type Path = Vec<u32>;

/// One DOM mutation. Ops apply in order, each against the DOM as left by the previous one.
///
/// Serialized as a JSON array whose first element names the op:
///
/// | op | JSON |
/// |---|---|
/// | [`Op::SetText`] | `["t", [0,1], "new text"]` |
/// | [`Op::SetAttr`] | `["a", [0], "class", "on"]` |
/// | [`Op::RemoveAttr`] | `["ra", [0], "hidden"]` |
/// | [`Op::Insert`] | `["i", [0,3], "<li>x</li>"]` |
/// | [`Op::Remove`] | `["rm", [0,3]]` or `["rm", [0,3], 4]` |
/// | [`Op::Replace`] | `["rp", [1], "<p>new</p>"]` |
/// | [`Op::Move`] | `["mv", [0,5], 0]` |
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Set the data of the text or comment node at `path`.
    SetText {
        /// The text or comment node.
        path: Path,
        /// Its new data (raw text, not HTML: never parsed as markup).
        text: String,
    },
    /// Set an attribute on the element at `path` (an existing attribute keeps its position,
    /// a new one is appended). For `value`/`checked`/`selected` the client also sets the
    /// DOM property, unless the element has focus.
    SetAttr {
        /// The element.
        path: Path,
        /// Qualified attribute name (`class`, `xlink:href`).
        name: String,
        /// The new value.
        value: String,
    },
    /// Remove an attribute from the element at `path`.
    RemoveAttr {
        /// The element.
        path: Path,
        /// Qualified attribute name.
        name: String,
    },
    /// Parse `html` (as `template.innerHTML`) and insert the nodes so that the first one gets
    /// the last index of `path` in the parent `path[..len-1]`; an index equal to the number
    /// of children appends.
    Insert {
        /// Parent path plus the index the first inserted node will have.
        path: Path,
        /// One or more nodes as HTML.
        html: String,
    },
    /// Remove `count` consecutive nodes starting at `path`.
    Remove {
        /// The first node to remove.
        path: Path,
        /// How many siblings to remove (at least 1).
        count: u32,
    },
    /// Replace the node at `path` by the nodes parsed from `html`.
    Replace {
        /// The node to replace.
        path: Path,
        /// The replacement node(s) as HTML.
        html: String,
    },
    /// Move the node at `from` within its parent: detach it, then insert it so that its index
    /// becomes `to` (counted after detaching). Keeps the node itself (state, focus, listeners).
    Move {
        /// The node to move.
        from: Path,
        /// Its index in the parent afterwards.
        to: u32,
    },
}

impl Op {
    /// The path the op addresses (for [`Op::Insert`]: parent path plus insertion index).
    pub fn path(&self) -> &[u32] {
        match self {
            Op::SetText { path, .. }
            | Op::SetAttr { path, .. }
            | Op::RemoveAttr { path, .. }
            | Op::Insert { path, .. }
            | Op::Remove { path, .. }
            | Op::Replace { path, .. } => path,
            Op::Move { from, .. } => from,
        }
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = match self {
            Op::SetAttr { .. } => 4,
            Op::Remove { count: 1, .. } => 2,
            _ => 3,
        };
        let mut seq = serializer.serialize_seq(Some(len))?;
        match self {
            Op::SetText { path, text } => {
                seq.serialize_element("t")?;
                seq.serialize_element(path)?;
                seq.serialize_element(text)?;
            }
            Op::SetAttr { path, name, value } => {
                seq.serialize_element("a")?;
                seq.serialize_element(path)?;
                seq.serialize_element(name)?;
                seq.serialize_element(value)?;
            }
            Op::RemoveAttr { path, name } => {
                seq.serialize_element("ra")?;
                seq.serialize_element(path)?;
                seq.serialize_element(name)?;
            }
            Op::Insert { path, html } => {
                seq.serialize_element("i")?;
                seq.serialize_element(path)?;
                seq.serialize_element(html)?;
            }
            Op::Remove { path, count } => {
                seq.serialize_element("rm")?;
                seq.serialize_element(path)?;
                if *count != 1 {
                    seq.serialize_element(count)?;
                }
            }
            Op::Replace { path, html } => {
                seq.serialize_element("rp")?;
                seq.serialize_element(path)?;
                seq.serialize_element(html)?;
            }
            Op::Move { from, to } => {
                seq.serialize_element("mv")?;
                seq.serialize_element(from)?;
                seq.serialize_element(to)?;
            }
        }
        seq.end()
    }
}
