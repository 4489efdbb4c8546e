//! The parsed, immutable fragment tree and its read-only public view.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::OnceLock;

use html5ever::{QualName, ns};

use crate::serialize;
use crate::sink::{self, Context};

/// Index of a node inside [`Tree::nodes`].
pub(crate) type NodeId = u32;

/// A parsed HTML fragment: what `div.innerHTML = html` produces in a browser, node for node.
///
/// Cheap to keep around per connection: nodes live in two flat vectors, strings are boxed once,
/// and every node carries a hash of its whole subtree so unchanged subtrees are skipped quickly.
#[derive(Clone)]
pub struct Tree {
    pub(crate) nodes: Vec<Node>,
    /// Child lists, each stored contiguously; a node's children are `kids[start..start + len]`.
    pub(crate) kids: Vec<NodeId>,
    /// The top-level nodes of the fragment.
    pub(crate) top: Span,
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) data: NodeData,
    pub(crate) children: Span,
    /// Hash of the whole subtree (kind, name, attributes in order, text, children).
    pub(crate) hash: u64,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeData {
    Element(Element),
    Text(Box<str>),
    Comment(Box<str>),
}

#[derive(Clone, Debug)]
pub(crate) struct Element {
    pub(crate) name: QualName,
    pub(crate) attrs: Vec<Attr>,
}

#[derive(Clone, Debug)]
pub(crate) struct Attr {
    pub(crate) name: QualName,
    pub(crate) value: Box<str>,
}

/// Process-wide random hash keys: subtree hashes only need to agree between trees of one
/// process, and random keys keep crafted content from forcing collisions. (Collisions would
/// only cost speed anyway: the diff confirms hash-equal subtrees structurally.)
pub(crate) fn hash_state() -> &'static RandomState {
    static STATE: OnceLock<RandomState> = OnceLock::new();
    STATE.get_or_init(RandomState::new)
}

/// Accumulates nodes bottom-up (children before parents) into a [`Tree`].
pub(crate) struct TreeBuilder {
    nodes: Vec<Node>,
    kids: Vec<NodeId>,
}

impl TreeBuilder {
    pub(crate) fn with_capacity(nodes: usize) -> Self {
        Self {
            nodes: Vec::with_capacity(nodes),
            kids: Vec::with_capacity(nodes),
        }
    }

    /// Adds a node whose children were already pushed; returns its id.
    pub(crate) fn push(&mut self, data: NodeData, children: &[NodeId]) -> NodeId {
        let mut h = hash_state().build_hasher();
        match &data {
            NodeData::Text(t) => {
                h.write_u8(1);
                t.hash(&mut h);
            }
            NodeData::Comment(t) => {
                h.write_u8(2);
                t.hash(&mut h);
            }
            NodeData::Element(e) => {
                h.write_u8(3);
                e.name.ns.hash(&mut h);
                e.name.local.hash(&mut h);
                h.write_usize(e.attrs.len());
                for a in &e.attrs {
                    a.name.ns.hash(&mut h);
                    a.name.local.hash(&mut h);
                    a.value.hash(&mut h);
                }
                h.write_usize(children.len());
                for &c in children {
                    h.write_u64(self.nodes[c as usize].hash);
                }
            }
        }
        let span = self.span(children);
        self.nodes.push(Node {
            data,
            children: span,
            hash: h.finish(),
        });
        to_id(self.nodes.len() - 1)
    }

    fn span(&mut self, children: &[NodeId]) -> Span {
        let start = to_id(self.kids.len());
        self.kids.extend_from_slice(children);
        Span {
            start,
            len: to_id(children.len()),
        }
    }

    pub(crate) fn finish(mut self, top: &[NodeId]) -> Tree {
        let top = self.span(top);
        Tree {
            nodes: self.nodes,
            kids: self.kids,
            top,
        }
    }
}

/// Converts an index to a node id. A fragment cannot hold 2^32 nodes: it would need far more
/// than 4 GiB of HTML, which never fits a render.
fn to_id(index: usize) -> NodeId {
    NodeId::try_from(index).unwrap_or(NodeId::MAX)
}

impl Tree {
    /// Parses `html` exactly like a browser does for `div.innerHTML = html`.
    ///
    /// Infallible: HTML5 parsing recovers from every error the same way browsers do.
    pub fn parse(html: &str) -> Tree {
        sink::parse(html, Context::Div)
    }

    /// Parses `html` like `template.innerHTML = html`: the way `patch.js` turns the HTML of
    /// insert/replace ops into nodes. Exposed so tests and tools can model the client exactly.
    pub fn parse_as_template_content(html: &str) -> Tree {
        sink::parse(html, Context::Template)
    }

    /// Serializes the fragment back to HTML (the HTML fragment serialization algorithm,
    /// i.e. what `div.innerHTML` returns). Parsing the result yields an equal tree.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(self.nodes.len() * 16);
        for &id in self.child_ids(self.top) {
            serialize::write_node(self, id, false, &mut out);
        }
        out
    }

    /// The top-level nodes of the fragment (the container's `childNodes`).
    pub fn children(&self) -> impl ExactSizeIterator<Item = NodeRef<'_>> + '_ {
        self.child_ids(self.top)
            .iter()
            .map(move |&id| NodeRef { tree: self, id })
    }

    /// Total number of nodes (elements, text and comments) in the fragment.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn child_ids(&self, span: Span) -> &[NodeId] {
        &self.kids[span.start as usize..(span.start + span.len) as usize]
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub(crate) fn kids_of(&self, id: NodeId) -> &[NodeId] {
        self.child_ids(self.node(id).children)
    }

    /// The top-level node ids.
    pub(crate) fn top_ids(&self) -> &[NodeId] {
        self.child_ids(self.top)
    }
}

impl PartialEq for Tree {
    /// Structural equality: same nodes, names, attributes (in order) and text.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.top_ids(), other.top_ids());
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(&x, &y)| crate::equal::subtree_eq(self, x, other, y))
    }
}

impl Eq for Tree {}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Tree").field(&self.to_html()).finish()
    }
}

/// Namespace of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// An HTML element.
    Html,
    /// An element inside `<svg>`.
    Svg,
    /// An element inside `<math>`.
    MathMl,
}

/// A read-only handle to one node of a [`Tree`].
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    tree: &'a Tree,
    id: NodeId,
}

/// What kind of node a [`NodeRef`] points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// An element (`<div>`, `<svg>`, ...).
    Element,
    /// A text node.
    Text,
    /// A comment node.
    Comment,
}

impl<'a> NodeRef<'a> {
    fn data(&self) -> &'a NodeData {
        &self.tree.node(self.id).data
    }

    /// Element, text or comment.
    pub fn kind(&self) -> NodeKind {
        match self.data() {
            NodeData::Element(_) => NodeKind::Element,
            NodeData::Text(_) => NodeKind::Text,
            NodeData::Comment(_) => NodeKind::Comment,
        }
    }

    /// The element's local name as the DOM reports it in `localName` (`"div"`,
    /// `"foreignObject"`), or `None` for text and comments.
    pub fn tag(&self) -> Option<&'a str> {
        match self.data() {
            NodeData::Element(e) => Some(&e.name.local),
            _ => None,
        }
    }

    /// The element's namespace, or `None` for text and comments.
    pub fn namespace(&self) -> Option<Namespace> {
        match self.data() {
            NodeData::Element(e) => Some(namespace_of(&e.name)),
            _ => None,
        }
    }

    /// The data of a text or comment node (entities already decoded), `None` for elements.
    pub fn text(&self) -> Option<&'a str> {
        match self.data() {
            NodeData::Text(t) | NodeData::Comment(t) => Some(t),
            NodeData::Element(_) => None,
        }
    }

    /// The element's attributes in document order, as `(qualified name, value)`
    /// (`xlink:href` on SVG elements keeps its prefix). Empty for text and comments.
    pub fn attrs(&self) -> impl Iterator<Item = (Cow<'a, str>, &'a str)> + 'a {
        let attrs: &'a [Attr] = match self.data() {
            NodeData::Element(e) => &e.attrs,
            _ => &[],
        };
        attrs
            .iter()
            .map(|a| (attr_qualified_name(&a.name), &*a.value))
    }

    /// The value of the attribute with this qualified name, if present.
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.attrs().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Child nodes (for `<template>`: the nodes of its content fragment).
    pub fn children(&self) -> impl ExactSizeIterator<Item = NodeRef<'a>> + 'a {
        let tree = self.tree;
        tree.kids_of(self.id)
            .iter()
            .map(move |&id| NodeRef { tree, id })
    }

    /// The node's outer HTML.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        serialize::write_node(self.tree, self.id, false, &mut out);
        out
    }
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("NodeRef").field(&self.to_html()).finish()
    }
}

pub(crate) fn namespace_of(name: &QualName) -> Namespace {
    if name.ns == ns!(svg) {
        Namespace::Svg
    } else if name.ns == ns!(mathml) {
        Namespace::MathMl
    } else {
        Namespace::Html
    }
}

/// The attribute name as written in markup and as `patch.js` receives it: `xlink:href`,
/// `xml:lang`, `xmlns:xlink` for the namespaced attributes the parser adjusts, else the local name.
pub(crate) fn attr_qualified_name(name: &QualName) -> Cow<'_, str> {
    let prefix = if name.ns == ns!(xlink) {
        "xlink"
    } else if name.ns == ns!(xml) {
        "xml"
    } else if name.ns == ns!(xmlns) && &*name.local != "xmlns" {
        "xmlns"
    } else {
        return Cow::Borrowed(&name.local);
    };
    Cow::Owned(format!("{prefix}:{}", &*name.local))
}
