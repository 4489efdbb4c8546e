//! The HTML fragment serialization algorithm (what `element.innerHTML` returns).

use html5ever::ns;

use crate::tree::{NodeData, NodeId, Tree, attr_qualified_name};

/// HTML elements without end tag or children.
fn is_void(local: &str) -> bool {
    matches!(
        local,
        "area"
            | "base"
            | "basefont"
            | "bgsound"
            | "br"
            | "col"
            | "embed"
            | "frame"
            | "hr"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// HTML elements whose text children are serialized verbatim (scripting is on, so `noscript` too).
pub(crate) fn is_raw_text(local: &str) -> bool {
    matches!(
        local,
        "style" | "script" | "xmp" | "iframe" | "noembed" | "noframes" | "plaintext" | "noscript"
    )
}

/// Appends the outer HTML of `id` to `out`.
///
/// `raw_text_parent` says whether the node is a child of a raw-text element (its text is then
/// written verbatim). Callers serializing HTML for `patch.js` inserts pass `false` even for
/// children of `<style>` or `<textarea>`: the client parses inserted HTML in a `<template>`,
/// where text is always decoded, so it must always be escaped.
pub(crate) fn write_node(tree: &Tree, id: NodeId, raw_text_parent: bool, out: &mut String) {
    let node = tree.node(id);
    match &node.data {
        NodeData::Text(text) => {
            if raw_text_parent {
                out.push_str(text);
            } else {
                escape(text, false, out);
            }
        }
        NodeData::Comment(text) => {
            out.push_str("<!--");
            out.push_str(text);
            out.push_str("-->");
        }
        NodeData::Element(element) => {
            let local: &str = &element.name.local;
            let is_html = element.name.ns == ns!(html);
            out.push('<');
            out.push_str(local);
            for attr in &element.attrs {
                out.push(' ');
                out.push_str(&attr_qualified_name(&attr.name));
                out.push_str("=\"");
                escape(&attr.value, true, out);
                out.push('"');
            }
            out.push('>');
            if is_html && is_void(local) {
                return;
            }
            let kids = tree.kids_of(id);
            // The parser drops one newline right after these start tags; write an extra one so
            // a leading newline in the content survives a round trip.
            if is_html
                && matches!(local, "pre" | "textarea" | "listing")
                && let Some(&first) = kids.first()
                && let NodeData::Text(t) = &tree.node(first).data
                && t.starts_with('\n')
            {
                out.push('\n');
            }
            let raw = is_html && is_raw_text(local);
            for &kid in kids {
                write_node(tree, kid, raw, out);
            }
            out.push_str("</");
            out.push_str(local);
            out.push('>');
        }
    }
}

/// Escapes text (`&`, NBSP, `<`, `>`) or attribute values (additionally `"`).
fn escape(text: &str, attribute: bool, out: &mut String) {
    let mut rest = text;
    while let Some(pos) = rest.find(['&', '\u{a0}', '<', '>', '"']) {
        out.push_str(&rest[..pos]);
        let ch = rest[pos..].chars().next().unwrap_or('&');
        match ch {
            '&' => out.push_str("&amp;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            other => out.push(other),
        }
        rest = &rest[pos + ch.len_utf8()..];
    }
    out.push_str(rest);
}
