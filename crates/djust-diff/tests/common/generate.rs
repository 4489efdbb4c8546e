//! Deterministic generator of (old, new) HTML pairs: random fragments over a vocabulary full of
//! parser corner cases (implied tbody, foster parenting, SVG/MathML, raw text, keyed lists),
//! and a mutated copy of each.

/// SplitMix64: tiny, seedable, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn tag(&mut self, tags: &[&'static str]) -> &'static str {
        tags[self.below(tags.len())]
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Debug)]
pub enum G {
    El {
        tag: &'static str,
        attrs: Vec<(String, String)>,
        kids: Vec<G>,
    },
    Text(String),
    Comment(String),
}

const TEXTS: &[&str] = &[
    "hello",
    " ",
    "\n  ",
    "a & b",
    "<img src=x onerror=alert(1)>",
    "x\u{a0}y",
    "Ünïcödé ✓",
    "1 < 2 > 0",
    "&lt;b&gt;",
    "\"quoted\" 'single'",
    "42",
    "\nleading newline",
];

const BLOCKS: &[&str] = &["div", "p", "span", "b", "section"];
const CELLS: &[&str] = &["td", "th"];
const VOID: &[&str] = &["br", "img", "hr", "input"];

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;")
}

/// Renders the generated tree as template output would look.
pub fn render(nodes: &[G]) -> String {
    let mut out = String::new();
    for node in nodes {
        render_node(node, &mut out);
    }
    out
}

fn render_node(node: &G, out: &mut String) {
    match node {
        G::Text(t) => out.push_str(&escape_text(t)),
        G::Comment(t) => {
            out.push_str("<!--");
            out.push_str(t);
            out.push_str("-->");
        }
        G::El { tag, attrs, kids } => {
            out.push('<');
            out.push_str(tag);
            for (name, value) in attrs {
                out.push(' ');
                out.push_str(name);
                out.push_str("=\"");
                out.push_str(&escape_attr(value));
                out.push('"');
            }
            out.push('>');
            if VOID.contains(tag) {
                return;
            }
            for kid in kids {
                match (tag, kid) {
                    // Raw-text content is written verbatim, as a template would.
                    (&"style" | &"script", G::Text(t)) => out.push_str(t),
                    _ => render_node(kid, out),
                }
            }
            out.push_str("</");
            out.push_str(tag);
            out.push('>');
        }
    }
}

fn text(rng: &mut Rng) -> G {
    G::Text(rng.pick(TEXTS).to_string())
}

fn attrs(rng: &mut Rng) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let pool: &[(&str, &[&str])] = &[
        ("class", &["a", "b c", "on"]),
        ("title", &["t \"q\" & <x>", "plain"]),
        ("data-n", &["1", "2", "3"]),
        ("hidden", &[""]),
        ("style", &["color: red", "left: 10px; top: 4px"]),
        ("dj-click", &["go", "stop"]),
    ];
    for (name, values) in pool {
        if rng.chance(20) {
            attrs.push((name.to_string(), rng.pick(values).to_string()));
        }
    }
    attrs
}

fn el(tag: &'static str, attrs: Vec<(String, String)>, kids: Vec<G>) -> G {
    G::El { tag, attrs, kids }
}

/// Random flow content of at most `n` nodes.
pub fn flow(rng: &mut Rng, depth: usize, n: usize) -> Vec<G> {
    (0..rng.below(n + 1))
        .map(|_| flow_node(rng, depth))
        .collect()
}

pub fn flow_node(rng: &mut Rng, depth: usize) -> G {
    let leaf = depth == 0;
    match rng.below(if leaf { 6 } else { 26 }) {
        0..=2 => text(rng),
        3 => G::Comment(rng.pick(&["c", " note ", "x-y"]).to_string()),
        4 => el("br", vec![], vec![]),
        5 => el("input", input_attrs(rng), vec![]),
        6 | 7 => el(rng.tag(BLOCKS), attrs(rng), flow(rng, depth - 1, 4)),
        8 => el(
            "a",
            vec![("href".into(), "/x?a=1&b=2".into())],
            flow(rng, depth - 1, 2),
        ),
        9 | 10 => keyed_list(rng, depth),
        11 => el(
            "ul",
            attrs(rng),
            (0..rng.below(4))
                .map(|_| el("li", attrs(rng), flow(rng, depth - 1, 2)))
                .collect(),
        ),
        12 => table(rng, depth),
        13 => el(
            "textarea",
            vec![("name".into(), "body".into())],
            vec![text(rng)],
        ),
        14 => select(rng),
        15 => svg(rng, depth),
        16 => el("pre", vec![], vec![text(rng)]),
        17 => el(
            "style",
            vec![],
            vec![G::Text(
                rng.pick(&["a>b{color:red}", "p{x:'<&>'}"]).to_string(),
            )],
        ),
        18 => el("template", vec![], flow(rng, depth - 1, 3)),
        19 => el(
            "math",
            vec![],
            vec![
                el("mi", vec![], vec![text(rng)]),
                el("mo", vec![], vec![G::Text("+".into())]),
            ],
        ),
        20 => el("button", attrs(rng), vec![text(rng)]),
        21 => el(
            "label",
            vec![],
            vec![text(rng), el("input", input_attrs(rng), vec![])],
        ),
        22 => el("img", vec![("alt".into(), "pic".into())], vec![]),
        23 => el(
            "script",
            vec![],
            vec![G::Text(
                rng.pick(&["var x = 1 < 2;", "window.__djustTestRan = true;"])
                    .to_string(),
            )],
        ),
        _ => el("div", attrs(rng), flow(rng, depth - 1, 5)),
    }
}

fn input_attrs(rng: &mut Rng) -> Vec<(String, String)> {
    let mut a = vec![(
        "name".to_string(),
        rng.pick(&["q", "email", "agree"]).to_string(),
    )];
    if rng.chance(50) {
        a.push(("value".into(), rng.pick(&["", "v1", "x & y"]).to_string()));
    }
    if rng.chance(30) {
        a.push(("type".into(), "checkbox".into()));
        if rng.chance(50) {
            a.push(("checked".into(), String::new()));
        }
    }
    a
}

fn keyed_list(rng: &mut Rng, depth: usize) -> G {
    let count = rng.below(7);
    let key_attr = if rng.chance(50) { "dj-key" } else { "id" };
    let base = rng.below(3) * 10;
    let items = (0..count)
        .map(|i| {
            let key = format!("k{}", base + i);
            el(
                "li",
                vec![(key_attr.to_string(), key.clone())],
                vec![G::Text(key)]
                    .into_iter()
                    .chain(flow(rng, depth.saturating_sub(1), 1))
                    .collect(),
            )
        })
        .collect();
    el("ol", vec![], items)
}

fn table(rng: &mut Rng, depth: usize) -> G {
    let rows = (0..rng.below(4))
        .map(|r| {
            let cells = (0..rng.below(3) + 1)
                .map(|_| {
                    el(
                        rng.tag(CELLS),
                        vec![],
                        flow(rng, depth.saturating_sub(1), 2),
                    )
                })
                .collect();
            el("tr", vec![("dj-key".into(), format!("r{r}"))], cells)
        })
        .collect();
    let mut kids: Vec<G> = rows;
    if rng.chance(20) {
        // Text in a table is foster-parented before it.
        kids.insert(0, G::Text("stray".into()));
    }
    el("table", attrs(rng), kids)
}

fn select(rng: &mut Rng) -> G {
    let options = (0..rng.below(4) + 1)
        .map(|i| {
            let mut a = vec![("value".to_string(), format!("o{i}"))];
            if rng.chance(30) {
                a.push(("selected".into(), String::new()));
            }
            el("option", a, vec![G::Text(format!("Option {i}"))])
        })
        .collect();
    el("select", vec![("name".into(), "pick".into())], options)
}

fn svg(rng: &mut Rng, depth: usize) -> G {
    let shapes = (0..rng.below(4))
        .map(|_| match rng.below(5) {
            0 => el(
                "circle",
                vec![
                    ("cx".into(), rng.below(50).to_string()),
                    ("r".into(), "4".into()),
                ],
                vec![],
            ),
            1 => el(
                "path",
                vec![("d".into(), "M0 0 L16 6 L6 16 Z".into())],
                vec![],
            ),
            2 => el("text", vec![("x".into(), "1".into())], vec![text(rng)]),
            3 => el("use", vec![("xlink:href".into(), "#c".into())], vec![]),
            _ => el(
                "foreignObject",
                vec![],
                flow(rng, depth.saturating_sub(1), 2),
            ),
        })
        .collect();
    el(
        "svg",
        vec![("viewBox".into(), "0 0 16 16".into())],
        vec![el("g", vec![], shapes)],
    )
}

/// Applies a few random edits to a copy of `nodes`.
pub fn mutate(rng: &mut Rng, nodes: &[G]) -> Vec<G> {
    let mut out = nodes.to_vec();
    for _ in 0..rng.below(4) + 1 {
        let count = count_lists(&out);
        let target = rng.below(count);
        let mut seen = 0;
        edit_list(rng, &mut out, target, &mut seen);
    }
    out
}

/// Number of child lists (the root plus every element's kids).
fn count_lists(nodes: &[G]) -> usize {
    1 + nodes
        .iter()
        .map(|n| match n {
            G::El { kids, .. } => count_lists(kids),
            _ => 0,
        })
        .sum::<usize>()
}

fn edit_list(rng: &mut Rng, list: &mut Vec<G>, target: usize, seen: &mut usize) -> bool {
    if *seen == target {
        edit(rng, list);
        return true;
    }
    *seen += 1;
    for node in list.iter_mut() {
        if let G::El { kids, .. } = node
            && edit_list(rng, kids, target, seen)
        {
            return true;
        }
    }
    false
}

fn edit(rng: &mut Rng, list: &mut Vec<G>) {
    let len = list.len();
    match rng.below(9) {
        0 => list.insert(rng.below(len + 1), flow_node(rng, 2)),
        1 if len > 0 => {
            list.remove(rng.below(len));
        }
        2 if len > 1 => {
            let (a, b) = (rng.below(len), rng.below(len));
            list.swap(a, b);
        }
        3 if len > 1 => {
            let item = list.remove(rng.below(len));
            list.insert(rng.below(len), item);
        }
        4 if len > 0 => list.reverse(),
        5 if len > 0 => {
            let i = rng.below(len);
            match &mut list[i] {
                G::Text(t) | G::Comment(t) => *t = rng.pick(TEXTS).replace("-->", ""),
                G::El { attrs, .. } => *attrs = self::attrs(rng),
            }
        }
        6 if len > 0 => {
            let i = rng.below(len);
            if let G::El { attrs, .. } = &mut list[i] {
                if let Some(first) = attrs.first_mut() {
                    first.1.push('x');
                } else {
                    attrs.push(("class".into(), "added".into()));
                }
            }
        }
        7 if len > 0 => {
            let i = rng.below(len);
            list[i] = flow_node(rng, 2);
        }
        _ => list.insert(rng.below(len + 1), text(rng)),
    }
}

/// The `index`-th generated pair (deterministic).
pub fn pair(index: u64) -> (String, String) {
    let mut rng = Rng::new(index);
    let old = flow(&mut rng, 3, 6);
    let new = if rng.chance(15) {
        flow(&mut rng, 3, 6)
    } else {
        mutate(&mut rng, &old)
    };
    (render(&old), render(&new))
}
