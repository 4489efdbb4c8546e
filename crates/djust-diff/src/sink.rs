//! html5ever [`TreeSink`] that builds a scratch tree, then flattens it into a [`Tree`].
//!
//! The parser needs a mutable tree with parent links (adoption agency and foster parenting move
//! nodes around), while diffing wants a compact, immutable, hashed tree. So parsing happens into
//! this scratch structure and is converted once at the end.

use std::borrow::Cow;
use std::cell::{Ref, RefCell};

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{Attribute, ParseOpts, QualName, local_name, ns, parse_fragment};

use crate::tree::{Attr, Element, NodeData, Tree, TreeBuilder};

/// Chromium attaches elements and comments that would sit deeper than this many open elements
/// to the parent's parent instead (`kMaximumHTMLParserDOMTreeDepth`). Mirroring it keeps the server tree equal
/// to the browser DOM for absurdly nested input and bounds recursion depth in diff/serialize.
pub(crate) const MAX_DEPTH: usize = 512;

type Handle = usize;

enum ScratchData {
    /// The document, or a `<template>`'s content fragment.
    Container,
    Element {
        name: QualName,
        attrs: Vec<Attribute>,
        template_contents: Option<Handle>,
        mathml_annotation_xml_integration_point: bool,
    },
    Text(StrTendril),
    Comment(StrTendril),
}

struct ScratchNode {
    parent: Option<Handle>,
    children: Vec<Handle>,
    data: ScratchData,
}

struct Sink {
    nodes: RefCell<Vec<ScratchNode>>,
}

const DOCUMENT: Handle = 0;

/// Which element the fragment is parsed "inside of".
#[derive(Clone, Copy)]
pub(crate) enum Context {
    /// `div.innerHTML = html`: how the live-view root container is filled.
    Div,
    /// `template.innerHTML = html`: how `patch.js` parses inserted HTML.
    Template,
}

/// Parses `html` as the children of a context element and returns the flattened tree.
pub(crate) fn parse(html: &str, context: Context) -> Tree {
    let sink = Sink {
        nodes: RefCell::new(vec![ScratchNode {
            parent: None,
            children: Vec::new(),
            data: ScratchData::Container,
        }]),
    };
    let local = match context {
        Context::Div => local_name!("div"),
        Context::Template => local_name!("template"),
    };
    let mut opts = ParseOpts::default();
    // Browsers parse innerHTML with scripting enabled (affects `<noscript>`).
    opts.tree_builder.scripting_enabled = true;
    let sink = parse_fragment(
        sink,
        opts,
        QualName::new(None, ns!(html), local),
        Vec::new(),
        true,
    )
    .one(html);
    sink.into_tree()
}

impl Sink {
    fn push(&self, data: ScratchData) -> Handle {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(ScratchNode {
            parent: None,
            children: Vec::new(),
            data,
        });
        nodes.len() - 1
    }

    fn detach(nodes: &mut [ScratchNode], child: Handle) {
        if let Some(parent) = nodes[child].parent.take() {
            nodes[parent].children.retain(|&c| c != child);
        }
    }

    /// Number of element ancestors of `node` (capped just past [`MAX_DEPTH`]).
    fn depth(nodes: &[ScratchNode], mut node: Handle) -> usize {
        let mut depth = 0;
        while let Some(parent) = nodes[node].parent {
            depth += 1;
            if depth > MAX_DEPTH {
                break;
            }
            node = parent;
        }
        depth
    }

    /// Inserts `child` into `parent` before position `index` (or appends), merging text with
    /// the preceding text sibling as the parser requires.
    fn insert(&self, mut parent: Handle, index: Option<usize>, child: NodeOrText<Handle>) {
        let mut nodes = self.nodes.borrow_mut();
        // Like Chromium, only elements and comments are lifted out of too-deep parents;
        // text still goes into the current node.
        if index.is_none()
            && matches!(child, NodeOrText::AppendNode(_))
            && Self::depth(&nodes, parent) > MAX_DEPTH
            && let Some(grand) = nodes[parent].parent
        {
            parent = grand;
        }
        let at = index.unwrap_or(nodes[parent].children.len());
        match child {
            NodeOrText::AppendText(text) => {
                if at > 0 {
                    let prev = nodes[parent].children[at - 1];
                    if let ScratchData::Text(existing) = &mut nodes[prev].data {
                        existing.push_tendril(&text);
                        return;
                    }
                }
                nodes.push(ScratchNode {
                    parent: Some(parent),
                    children: Vec::new(),
                    data: ScratchData::Text(text),
                });
                let id = nodes.len() - 1;
                nodes[parent].children.insert(at, id);
            }
            NodeOrText::AppendNode(node) => {
                Self::detach(&mut nodes, node);
                let at = at.min(nodes[parent].children.len());
                nodes[node].parent = Some(parent);
                nodes[parent].children.insert(at, node);
            }
        }
    }

    /// Flattens the scratch tree below the fragment root into a [`Tree`].
    fn into_tree(self) -> Tree {
        let nodes = self.nodes.into_inner();
        // Fragment parsing appends an `<html>` element to the document and parses into it.
        let root = nodes[DOCUMENT]
            .children
            .iter()
            .copied()
            .find(|&c| matches!(nodes[c].data, ScratchData::Element { .. }));
        let builder = TreeBuilder::with_capacity(nodes.len());
        let Some(root) = root else {
            return builder.finish(&[]);
        };
        let mut convert = Converter {
            nodes: &nodes,
            builder,
        };
        let top = convert.children_of(root);
        convert.builder.finish(&top)
    }
}

struct Converter<'a> {
    nodes: &'a [ScratchNode],
    builder: TreeBuilder,
}

impl Converter<'_> {
    /// Converts the children of scratch node `id` (template contents for `<template>`),
    /// returning their ids in the final tree.
    fn children_of(&mut self, id: Handle) -> Vec<u32> {
        let source = match &self.nodes[id].data {
            ScratchData::Element {
                template_contents: Some(contents),
                ..
            } => *contents,
            _ => id,
        };
        let nodes = self.nodes;
        nodes[source]
            .children
            .iter()
            .filter_map(|&c| self.convert(c))
            .collect()
    }

    fn convert(&mut self, id: Handle) -> Option<u32> {
        let data = match &self.nodes[id].data {
            ScratchData::Container => return None,
            ScratchData::Text(t) => NodeData::Text(Box::from(&**t)),
            ScratchData::Comment(t) => NodeData::Comment(Box::from(&**t)),
            ScratchData::Element { name, attrs, .. } => NodeData::Element(Element {
                name: name.clone(),
                attrs: attrs
                    .iter()
                    .map(|a| Attr {
                        name: a.name.clone(),
                        value: Box::from(&*a.value),
                    })
                    .collect(),
            }),
        };
        let children = if matches!(data, NodeData::Element(_)) {
            self.children_of(id)
        } else {
            Vec::new()
        };
        Some(self.builder.push(data, &children))
    }
}

impl TreeSink for Sink {
    type Handle = Handle;
    type Output = Self;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Self {
        self
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        DOCUMENT
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> Ref<'a, QualName> {
        Ref::map(self.nodes.borrow(), |nodes| match &nodes[*target].data {
            ScratchData::Element { name, .. } => name,
            // The tree builder only asks for names of elements it created.
            _ => unreachable!("html5ever asked for the name of a non-element"),
        })
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        let template_contents = flags.template.then(|| self.push(ScratchData::Container));
        self.push(ScratchData::Element {
            name,
            attrs,
            template_contents,
            mathml_annotation_xml_integration_point: flags.mathml_annotation_xml_integration_point,
        })
    }

    fn create_comment(&self, text: StrTendril) -> Handle {
        self.push(ScratchData::Comment(text))
    }

    fn create_pi(&self, _target: StrTendril, data: StrTendril) -> Handle {
        // Never produced by the HTML parser (processing instructions become comments).
        self.push(ScratchData::Comment(data))
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        self.insert(*parent, None, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        let has_parent = self.nodes.borrow()[*element].parent.is_some();
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &Handle) -> Handle {
        match &self.nodes.borrow()[*target].data {
            ScratchData::Element {
                template_contents: Some(contents),
                ..
            } => *contents,
            _ => unreachable!("html5ever asked for template contents of a non-template"),
        }
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, child: NodeOrText<Handle>) {
        // Detach first: the node may currently be an earlier sibling, which would shift the index.
        if let NodeOrText::AppendNode(node) = &child {
            Self::detach(&mut self.nodes.borrow_mut(), *node);
        }
        let position = {
            let nodes = self.nodes.borrow();
            nodes[*sibling].parent.and_then(|parent| {
                let index = nodes[parent].children.iter().position(|&c| c == *sibling)?;
                Some((parent, index))
            })
        };
        if let Some((parent, index)) = position {
            self.insert(parent, Some(index), child);
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        if let ScratchData::Element {
            attrs: existing, ..
        } = &mut self.nodes.borrow_mut()[*target].data
        {
            for attr in attrs {
                if !existing.iter().any(|e| e.name == attr.name) {
                    existing.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        Self::detach(&mut self.nodes.borrow_mut(), *target);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let mut nodes = self.nodes.borrow_mut();
        let moved = std::mem::take(&mut nodes[*node].children);
        for &child in &moved {
            nodes[child].parent = Some(*new_parent);
        }
        nodes[*new_parent].children.extend(moved);
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
        matches!(
            self.nodes.borrow()[*handle].data,
            ScratchData::Element {
                mathml_annotation_xml_integration_point: true,
                ..
            }
        )
    }

    fn allow_declarative_shadow_roots(&self, _intended_parent: &Handle) -> bool {
        // `innerHTML` never attaches declarative shadow roots; the template stays a template.
        false
    }
}
