//! A minimal DOM model that applies ops exactly the way `patch.js` does, to check
//! `apply(old, diff(old, new)) == new` without a browser.

use djust_diff::{Namespace, NodeKind, NodeRef, Op, Tree};

/// One DOM node: enough state to compare trees node for node (attribute order included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MNode {
    Element {
        ns: Namespace,
        tag: String,
        attrs: Vec<(String, String)>,
        children: Vec<MNode>,
    },
    Text(String),
    Comment(String),
}

/// The top-level nodes of `tree` as model nodes.
pub fn from_tree(tree: &Tree) -> Vec<MNode> {
    tree.children().map(convert).collect()
}

fn convert(node: NodeRef<'_>) -> MNode {
    match node.kind() {
        NodeKind::Text => MNode::Text(node.text().unwrap_or_default().to_owned()),
        NodeKind::Comment => MNode::Comment(node.text().unwrap_or_default().to_owned()),
        NodeKind::Element => MNode::Element {
            ns: node.namespace().unwrap_or(Namespace::Html),
            tag: node.tag().unwrap_or_default().to_owned(),
            attrs: node
                .attrs()
                .map(|(n, v)| (n.into_owned(), v.to_owned()))
                .collect(),
            children: node.children().map(convert).collect(),
        },
    }
}

/// Applies `ops` in order to the children of a root `<div>`; an error names the first op
/// that does not resolve (where patch.js would return `false`).
pub fn apply(root: &mut Vec<MNode>, ops: &[Op]) -> Result<(), String> {
    for (i, op) in ops.iter().enumerate() {
        apply_one(root, op).map_err(|e| format!("op #{i} {op:?}: {e}"))?;
    }
    Ok(())
}

/// Parsing context of a child list: namespace, tag and `encoding` attribute of the parent.
type Context = (Namespace, String, Option<String>);

/// Children of the node at `path` plus that node's parsing context (None = root div).
fn children_at<'a>(
    root: &'a mut Vec<MNode>,
    path: &[u32],
) -> Result<(&'a mut Vec<MNode>, Option<Context>), String> {
    let mut list = root;
    let mut context = None;
    for &index in path {
        match list.get_mut(index as usize) {
            Some(MNode::Element {
                ns,
                tag,
                attrs,
                children,
            }) => {
                let encoding = attrs
                    .iter()
                    .find(|(n, _)| n == "encoding")
                    .map(|(_, v)| v.clone());
                context = Some((*ns, tag.clone(), encoding));
                list = children;
            }
            Some(_) => return Err(format!("{index} is not an element")),
            None => return Err(format!("no child {index}")),
        }
    }
    Ok((list, context))
}

fn split(path: &[u32]) -> Result<(&[u32], usize), String> {
    match path.split_last() {
        Some((last, parent)) => Ok((parent, *last as usize)),
        None => Err("empty path".into()),
    }
}

fn node_at<'a>(root: &'a mut Vec<MNode>, path: &[u32]) -> Result<&'a mut MNode, String> {
    let (parent, index) = split(path)?;
    let (list, _) = children_at(root, parent)?;
    list.get_mut(index)
        .ok_or_else(|| format!("no node at {path:?}"))
}

/// Parses HTML like patch.js's `parseFragment`: in a template, wrapped for SVG/MathML parents.
fn parse_in(context: &Option<Context>, html: &str) -> Vec<MNode> {
    let (outer, local, encoding) = match context {
        Some((Namespace::Svg, local, enc)) => ("svg", local.as_str(), enc),
        Some((Namespace::MathMl, local, enc)) => ("math", local.as_str(), enc),
        _ => return from_tree(&Tree::parse_as_template_content(html)),
    };
    let wrapped = if local == outer {
        format!("<{outer}>{html}</{outer}>")
    } else {
        let attrs = match (local, encoding) {
            ("annotation-xml", Some(enc)) => format!(
                " encoding=\"{}\"",
                enc.replace('&', "&amp;").replace('"', "&quot;")
            ),
            _ => String::new(),
        };
        format!("<{outer}><{local}{attrs}>{html}</{local}></{outer}>")
    };
    let mut nodes = from_tree(&Tree::parse_as_template_content(&wrapped));
    let mut holder = nodes.drain(..).next();
    if local != outer {
        holder = match holder {
            Some(MNode::Element { children, .. }) => children.into_iter().next(),
            _ => None,
        };
    }
    match holder {
        Some(MNode::Element { children, .. }) => children,
        _ => Vec::new(),
    }
}

fn apply_one(root: &mut Vec<MNode>, op: &Op) -> Result<(), String> {
    match op {
        Op::SetText { path, text } => match node_at(root, path)? {
            MNode::Text(t) | MNode::Comment(t) => {
                *t = text.clone();
                Ok(())
            }
            MNode::Element { .. } => Err("not text".into()),
        },
        Op::SetAttr { path, name, value } => match node_at(root, path)? {
            MNode::Element { attrs, .. } => {
                match attrs.iter_mut().find(|(n, _)| n == name) {
                    Some((_, v)) => *v = value.clone(),
                    None => attrs.push((name.clone(), value.clone())),
                }
                Ok(())
            }
            _ => Err("not an element".into()),
        },
        Op::RemoveAttr { path, name } => match node_at(root, path)? {
            MNode::Element { attrs, .. } => {
                attrs.retain(|(n, _)| n != name);
                Ok(())
            }
            _ => Err("not an element".into()),
        },
        Op::Insert { path, html } => {
            let (parent, index) = split(path)?;
            let (list, context) = children_at(root, parent)?;
            if index > list.len() {
                return Err("insert index".into());
            }
            let nodes = parse_in(&context, html);
            list.splice(index..index, nodes);
            Ok(())
        }
        Op::Remove { path, count } => {
            let (parent, index) = split(path)?;
            let (list, _) = children_at(root, parent)?;
            let end = index + *count as usize;
            if *count == 0 || end > list.len() {
                return Err("remove count".into());
            }
            list.drain(index..end);
            Ok(())
        }
        Op::Replace { path, html } => {
            let (parent, index) = split(path)?;
            let (list, context) = children_at(root, parent)?;
            if index >= list.len() {
                return Err("replace index".into());
            }
            let nodes = parse_in(&context, html);
            list.splice(index..=index, nodes);
            Ok(())
        }
        Op::Move { from, to } => {
            let (parent, index) = split(from)?;
            let (list, _) = children_at(root, parent)?;
            if index >= list.len() {
                return Err("move source".into());
            }
            let node = list.remove(index);
            if *to as usize > list.len() {
                return Err("move target".into());
            }
            list.insert(*to as usize, node);
            Ok(())
        }
    }
}
