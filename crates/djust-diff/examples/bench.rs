//! Rough timings of parse and diff on a render typical for a live view.
//!
//! `cargo run --release -p djust-diff --example bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use djust_diff::{Tree, diff};

/// A presence page: a member list, a 200-row table, a cursor layer and an editor.
fn render(online: usize, cursor_x: usize, edited_row: usize) -> String {
    let mut html = String::from(r#"<div class="presence-bar"><span class="count">"#);
    html.push_str(&format!("{online} online</span><div class=\"avatars\">"));
    for i in 0..online {
        html.push_str(&format!(
            r#"<div class="avatar" dj-key="u{i}" style="background: #6c63ff" title="user {i}">U</div>"#
        ));
    }
    html.push_str("</div></div><div id=\"canvas\" dj-mousemove=\"cursor_move\">");
    for i in 0..online {
        html.push_str(&format!(
            r#"<div class="remote-cursor" dj-key="c{i}" style="left: {}px; top: {}px"><span class="cursor-label">user {i}</span></div>"#,
            cursor_x + i * 7,
            40 + i * 3
        ));
    }
    html.push_str("<table><thead><tr><th>#</th><th>name</th><th>status</th></tr></thead><tbody>");
    for row in 0..200 {
        let status = if row == edited_row { "editing" } else { "idle" };
        html.push_str(&format!(
            "<tr dj-key=\"r{row}\"><td>{row}</td><td>Row &amp; item {row}</td><td class=\"{status}\">{status}</td></tr>\n"
        ));
    }
    html.push_str("</tbody></table><textarea dj-input=\"update_content\">Some &lt;document&gt; text</textarea></div>");
    html
}

fn time<T>(label: &str, runs: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        black_box(f());
    }
    let each = start.elapsed() / runs;
    println!("{label:<42} {each:>10.2?}");
    each
}

fn main() {
    let old_html = render(8, 100, 3);
    let cursor_moved = render(8, 101, 3);
    let row_changed = render(8, 100, 150);
    let joined = render(9, 100, 3);
    let (old, moved, changed, more) = (
        Tree::parse(&old_html),
        Tree::parse(&cursor_moved),
        Tree::parse(&row_changed),
        Tree::parse(&joined),
    );
    println!(
        "render: {} bytes, {} nodes",
        old_html.len(),
        old.node_count()
    );
    time("parse", 200, || Tree::parse(&old_html));
    time("to_html", 200, || old.to_html());
    time("diff (identical)", 200, || {
        diff(&old, &Tree::parse(&old_html))
    });
    time("diff (cursor moved: 8 style attrs)", 200, || {
        diff(&old, &moved)
    });
    time("diff (one table cell changed)", 200, || {
        diff(&old, &changed)
    });
    time("diff (user joined: keyed inserts)", 200, || {
        diff(&old, &more)
    });
    time("parse + diff (cursor moved)", 200, || {
        diff(&old, &Tree::parse(&cursor_moved))
    });
    println!(
        "ops: cursor moved {}, row changed {}, user joined {}",
        diff(&old, &moved).len(),
        diff(&old, &changed).len(),
        diff(&old, &more).len()
    );

    // Pathological: two unrelated lists of 2000 siblings.
    let a: String = (0..2000).map(|i| format!("<p>a{i}</p>")).collect();
    let b: String = (0..2000).map(|i| format!("<span>b{i}</span>")).collect();
    let (ta, tb) = (Tree::parse(&a), Tree::parse(&b));
    time("diff (2000 siblings, all different)", 5, || diff(&ta, &tb));
}
