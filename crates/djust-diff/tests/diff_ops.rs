//! Exact ops for each kind of change, checked against the DOM model as well.

mod common;

use common::check_roundtrip;
use djust_diff::{Namespace, NodeKind, Op, Tree, diff};
use serde_json::json;

fn set_text(path: &[u32], text: &str) -> Op {
    Op::SetText {
        path: path.to_vec(),
        text: text.into(),
    }
}

fn insert(path: &[u32], html: &str) -> Op {
    Op::Insert {
        path: path.to_vec(),
        html: html.into(),
    }
}

fn keyed(range: impl Iterator<Item = usize>) -> String {
    range
        .map(|i| format!(r#"<li dj-key="k{i}">item {i}</li>"#))
        .collect()
}

#[test]
fn unchanged_render_produces_no_ops() {
    let html = r#"<div class="a"><p>x</p><!--c--><ul><li>1</li></ul></div>"#;
    assert!(check_roundtrip(html, html).is_empty());
}

#[test]
fn text_change_is_one_set_text() {
    assert_eq!(
        check_roundtrip("<p>a</p>", "<p>b</p>"),
        vec![set_text(&[0, 0], "b")]
    );
    assert_eq!(
        check_roundtrip("<!--a--><p></p>", "<!--b--><p></p>"),
        vec![set_text(&[0], "b")]
    );
}

#[test]
fn attributes_are_set_and_removed() {
    let ops = check_roundtrip(
        r#"<div class="a" hidden>x</div>"#,
        r#"<div class="b">x</div>"#,
    );
    assert_eq!(
        ops,
        vec![
            Op::RemoveAttr {
                path: vec![0],
                name: "hidden".into()
            },
            Op::SetAttr {
                path: vec![0],
                name: "class".into(),
                value: "b".into()
            },
        ]
    );
}

#[test]
fn attribute_order_is_reproduced() {
    let ops = check_roundtrip(
        r#"<div id="a" title="t"></div>"#,
        r#"<div id="a" class="new" title="t"></div>"#,
    );
    assert_eq!(
        ops,
        vec![
            Op::RemoveAttr {
                path: vec![0],
                name: "title".into()
            },
            Op::SetAttr {
                path: vec![0],
                name: "class".into(),
                value: "new".into()
            },
            Op::SetAttr {
                path: vec![0],
                name: "title".into(),
                value: "t".into()
            },
        ]
    );
    // Appending at the end needs no re-adds.
    let ops = check_roundtrip(r#"<div id="a"></div>"#, r#"<div id="a" class="x"></div>"#);
    assert_eq!(
        ops,
        vec![Op::SetAttr {
            path: vec![0],
            name: "class".into(),
            value: "x".into()
        }]
    );
}

#[test]
fn new_children_are_inserted_at_their_index() {
    let ops = check_roundtrip(
        "<ul><li>a</li></ul>",
        "<ul><li>a</li><li>b</li><li>c</li></ul>",
    );
    assert_eq!(ops, vec![insert(&[0, 1], "<li>b</li><li>c</li>")]);
}

#[test]
fn removed_children_are_removed_as_a_range() {
    let ops = check_roundtrip(
        "<ul><li>a</li><li>b</li><li>c</li><li>d</li></ul>",
        "<ul><li>a</li><li>d</li></ul>",
    );
    assert_eq!(
        ops,
        vec![Op::Remove {
            path: vec![0, 1],
            count: 2
        }]
    );
}

#[test]
fn different_node_types_are_replaced() {
    assert_eq!(
        check_roundtrip("<p>a</p>", "<div>a</div>"),
        vec![Op::Replace {
            path: vec![0],
            html: "<div>a</div>".into()
        }]
    );
    assert_eq!(
        check_roundtrip("x<p>a</p>", "<!--x--><p>a</p>"),
        vec![Op::Replace {
            path: vec![0],
            html: "<!--x-->".into()
        }]
    );
}

#[test]
fn same_tag_is_patched_in_place_so_inputs_survive() {
    let old = r#"<label>Name <input name="q" value="a"></label><span>1 online</span>"#;
    let new = r#"<label class="x">Name: <input name="q" value="a"></label><span>2 online</span>"#;
    let ops = check_roundtrip(old, new);
    assert_eq!(
        ops,
        vec![
            Op::SetAttr {
                path: vec![0],
                name: "class".into(),
                value: "x".into()
            },
            set_text(&[0, 0], "Name: "),
            set_text(&[1, 0], "2 online"),
        ]
    );
}

#[test]
fn keyed_insert_at_front_of_fifty_is_one_insert() {
    let old = format!("<ul>{}</ul>", keyed(0..50));
    let new = format!("<ul>{}{}</ul>", keyed(50..51), keyed(0..50));
    assert_eq!(
        check_roundtrip(&old, &new),
        vec![insert(&[0, 0], r#"<li dj-key="k50">item 50</li>"#)]
    );
}

#[test]
fn unkeyed_insert_at_front_is_still_one_insert_when_the_rest_is_unchanged() {
    let items: String = (0..20).map(|i| format!("<li>{i}</li>")).collect();
    let ops = check_roundtrip(
        &format!("<ul>{items}</ul>"),
        &format!("<ul><li>new</li>{items}</ul>"),
    );
    assert_eq!(ops, vec![insert(&[0, 0], "<li>new</li>")]);
}

#[test]
fn keyed_moves_keep_nodes() {
    let ops = check_roundtrip(
        r#"<ol><li id="a">A</li><li id="b">B</li><li id="c">C</li></ol>"#,
        r#"<ol><li id="c">C</li><li id="a">A</li><li id="b">B!</li></ol>"#,
    );
    assert_eq!(
        ops,
        vec![
            Op::Move {
                from: vec![0, 2],
                to: 0
            },
            set_text(&[0, 2, 0], "B!")
        ]
    );

    // Moving the first item to the end is one move, not n-1.
    let old = format!("<ul>{}</ul>", keyed(0..30));
    let new = format!("<ul>{}{}</ul>", keyed(1..30), keyed(0..1));
    assert_eq!(
        check_roundtrip(&old, &new),
        vec![Op::Move {
            from: vec![0, 0],
            to: 29
        }]
    );

    // A full reversal keeps one node in place and moves the others.
    let old = format!("<ul>{}</ul>", keyed(0..6));
    let new = format!("<ul>{}</ul>", keyed((0..6).rev()));
    let ops = check_roundtrip(&old, &new);
    assert_eq!(ops.len(), 5);
    assert!(
        ops.iter().all(|op| matches!(op, Op::Move { .. })),
        "{ops:?}"
    );
}

#[test]
fn keyed_removal_from_the_middle_is_one_remove() {
    let old = format!("<ul>{}</ul>", keyed(0..10));
    let new = format!("<ul>{}{}</ul>", keyed(0..4), keyed(5..10));
    assert_eq!(
        check_roundtrip(&old, &new),
        vec![Op::Remove {
            path: vec![0, 4],
            count: 1
        }]
    );
}

#[test]
fn a_changed_key_means_a_different_element() {
    let ops = check_roundtrip(r#"<p dj-key="a">x</p>"#, r#"<p dj-key="b">x</p>"#);
    assert_eq!(
        ops,
        vec![Op::Replace {
            path: vec![0],
            html: r#"<p dj-key="b">x</p>"#.into()
        }]
    );
    // Duplicate keys are ignored for matching (still correct).
    check_roundtrip(
        r#"<i id="d">1</i><i id="d">2</i>"#,
        r#"<i id="d">2</i><i id="e">3</i>"#,
    );
}

#[test]
fn nested_change_addresses_the_deep_node() {
    let old = "<main><section><article><p>a<b>b</b></p></article></section></main>";
    let new = "<main><section><article><p>a<b>c</b></p></article></section></main>";
    assert_eq!(
        check_roundtrip(old, new),
        vec![set_text(&[0, 0, 0, 0, 1, 0], "c")]
    );
}

#[test]
fn whitespace_text_nodes_are_real_nodes() {
    assert_eq!(
        check_roundtrip("<div> <b>x</b> </div>", "<div>  <b>x</b> </div>"),
        vec![set_text(&[0, 0], "  ")]
    );
    assert_eq!(
        check_roundtrip("<div><b>x</b> </div>", "<div><b>x</b></div>"),
        vec![Op::Remove {
            path: vec![0, 1],
            count: 1
        }]
    );
    // Removing an element between two text nodes must not leave a merged text the DOM lacks.
    check_roundtrip("a<b>x</b>c", "ac");
    check_roundtrip("ac", "a<b>x</b>c");
}

#[test]
fn tables_get_their_implied_tbody() {
    let old = "<table><tr><td>1</td></tr></table>";
    let new = "<table><tr><td>2</td></tr><tr><td>3</td></tr></table>";
    let ops = check_roundtrip(old, new);
    assert_eq!(
        ops,
        vec![
            insert(&[0, 0, 1], "<tr><td>3</td></tr>"),
            set_text(&[0, 0, 0, 0, 0], "2")
        ]
    );
    let tree = Tree::parse(old);
    let table = tree
        .children()
        .next()
        .map(|t| t.children().map(|c| c.tag()).collect::<Vec<_>>());
    assert_eq!(table, Some(vec![Some("tbody")]));
}

#[test]
fn escaped_markup_stays_text() {
    let payload = "&lt;img src=x onerror=alert(1)&gt;";
    let ops = check_roundtrip("<p></p>", &format!("<p>{payload}</p>"));
    assert_eq!(ops, vec![insert(&[0, 0], payload)]);
    let ops = check_roundtrip("<p>hi</p>", &format!("<p>{payload}</p>"));
    assert_eq!(ops, vec![set_text(&[0, 0], "<img src=x onerror=alert(1)>")]);
    // Inserted into a raw-text parent, text is still escaped: the client parses in a template.
    let ops = check_roundtrip(
        "<textarea></textarea>",
        "<textarea>&lt;/textarea&gt;&lt;img&gt;</textarea>",
    );
    assert_eq!(ops, vec![insert(&[0, 0], "&lt;/textarea&gt;&lt;img&gt;")]);
    let ops = check_roundtrip("<div></div>", r#"<div title="&quot;><img src=x>">x</div>"#);
    assert_eq!(
        ops,
        vec![
            Op::SetAttr {
                path: vec![0],
                name: "title".into(),
                value: "\"><img src=x>".into()
            },
            insert(&[0, 0], "x"),
        ]
    );
}

#[test]
fn changed_scripts_are_replaced_never_edited() {
    let ops = check_roundtrip("<script></script>", "<script>run()</script>");
    assert_eq!(
        ops,
        vec![Op::Replace {
            path: vec![0],
            html: "<script>run()</script>".into()
        }]
    );
}

#[test]
fn svg_and_template_content_are_diffed_in_place() {
    let ops = check_roundtrip(
        r##"<svg viewBox="0 0 1 1"><use xlink:href="#a"></use></svg>"##,
        r##"<svg viewBox="0 0 2 2"><use xlink:href="#b"></use></svg>"##,
    );
    assert_eq!(
        ops,
        vec![
            Op::SetAttr {
                path: vec![0],
                name: "viewBox".into(),
                value: "0 0 2 2".into()
            },
            Op::SetAttr {
                path: vec![0, 0],
                name: "xlink:href".into(),
                value: "#b".into()
            },
        ]
    );
    let ops = check_roundtrip(
        "<template><p>a</p></template>",
        "<template><p>b</p></template>",
    );
    assert_eq!(ops, vec![set_text(&[0, 0, 0], "b")]);
}

#[test]
fn ops_serialize_to_compact_arrays() {
    let ops = vec![
        set_text(&[0, 2, 1], "new text"),
        Op::SetAttr {
            path: vec![0],
            name: "class".into(),
            value: "on".into(),
        },
        Op::RemoveAttr {
            path: vec![0],
            name: "hidden".into(),
        },
        insert(&[0, 3], "<li>x</li>"),
        Op::Remove {
            path: vec![0, 3],
            count: 1,
        },
        Op::Remove {
            path: vec![0, 3],
            count: 4,
        },
        Op::Replace {
            path: vec![1],
            html: "<p>new</p>".into(),
        },
        Op::Move {
            from: vec![0, 5],
            to: 0,
        },
    ];
    assert_eq!(
        serde_json::to_value(&ops).ok(),
        Some(json!([
            ["t", [0, 2, 1], "new text"],
            ["a", [0], "class", "on"],
            ["ra", [0], "hidden"],
            ["i", [0, 3], "<li>x</li>"],
            ["rm", [0, 3]],
            ["rm", [0, 3], 4],
            ["rp", [1], "<p>new</p>"],
            ["mv", [0, 5], 0],
        ]))
    );
    assert_eq!(ops[7].path(), &[0, 5]);
}

#[test]
fn tree_exposes_the_parsed_nodes() {
    let tree = Tree::parse(
        r##"<p class="a">x &amp; y</p><!--c--><svg><use xlink:href="#i"></use></svg>"##,
    );
    let nodes: Vec<_> = tree.children().collect();
    assert_eq!(nodes.len(), 3);
    assert_eq!(
        (nodes[0].kind(), nodes[0].tag(), nodes[0].attr("class")),
        (NodeKind::Element, Some("p"), Some("a"))
    );
    assert_eq!(
        nodes[0].children().next().and_then(|t| t.text()),
        Some("x & y")
    );
    assert_eq!(
        (nodes[1].kind(), nodes[1].text()),
        (NodeKind::Comment, Some("c"))
    );
    let used = nodes[2].children().next();
    assert_eq!(used.and_then(|u| u.namespace()), Some(Namespace::Svg));
    assert_eq!(used.and_then(|u| u.attr("xlink:href")), Some("#i"));
    assert_eq!(tree.node_count(), 5); // p, text, comment, svg, use
    assert_eq!(nodes[0].to_html(), r#"<p class="a">x &amp; y</p>"#);
}

#[test]
fn to_html_round_trips_tricky_content() {
    for html in [
        "<pre>\n\nx</pre>",
        "<textarea>\nx</textarea>",
        "<style>a>b{}</style><script>1<2</script>",
        "<p>a\u{a0}b &lt;c&gt;</p>",
        r#"<input value="&quot;&amp;"><br><img alt="">"#,
        "<table><tr><td>1</td></tr></table>",
        "<template><tr><td>x</td></tr></template>",
        "<noscript><p>raw</p></noscript>",
    ] {
        let tree = Tree::parse(html);
        assert_eq!(
            Tree::parse(&tree.to_html()),
            tree,
            "{html:?} -> {:?}",
            tree.to_html()
        );
    }
    assert_eq!(
        Tree::parse("<pre>\n\nx</pre>").to_html(),
        "<pre>\n\nx</pre>"
    );
    assert_eq!(Tree::parse("<p>a\u{a0}b</p>").to_html(), "<p>a&nbsp;b</p>");
}

#[test]
fn diff_result_does_not_depend_on_parse_order() {
    // Hashes are process-wide: trees parsed at different times still compare equal.
    let a = Tree::parse("<p>same</p>");
    let _other = Tree::parse("<div>noise</div>");
    let b = Tree::parse("<p>same</p>");
    assert!(diff(&a, &b).is_empty());
    assert_eq!(a, b);
}

#[test]
fn trees_and_ops_can_live_in_async_tasks() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Tree>();
    assert_send_sync::<Op>();
}
