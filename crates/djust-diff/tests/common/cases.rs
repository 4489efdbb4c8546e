//! Hand-picked (old, new) pairs that exercise parser and patcher corner cases.

/// `n` keyed list items `<li dj-key="k{i}">item {i}</li>` for i in `range`.
fn keyed(range: impl Iterator<Item = usize>) -> String {
    range
        .map(|i| format!(r#"<li dj-key="k{i}">item {i}</li>"#))
        .collect()
}

fn nested(depth: usize, leaf: &str) -> String {
    format!("{}{leaf}{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

pub fn tricky() -> Vec<(String, String)> {
    let fifty = keyed(0..50);
    let mut cases: Vec<(String, String)> = [
        ("<p>a</p>", "<p>b</p>"),
        ("<div> <span>a</span> </div>", "<div><span>a</span> </div>"),
        ("a<b>x</b>c", "ac"),
        ("ac", "a<b>x</b>c"),
        ("a<!--x-->b", "ab"),
        ("", "just text"),
        ("just text", ""),
        ("<p>x</p>", ""),
        ("<table><tr><td>1</td></tr></table>", "<table><tr><td>1</td></tr><tr><td>2</td></tr></table>"),
        ("<table><tr><td>1</td></tr></table>", "<table><thead><tr><th>h</th></tr></thead><tr><td>1</td></tr></table>"),
        ("<table>x<tr><td>1</td></tr></table>", "<table>y<tr><td>2</td></tr></table>"),
        ("<table><caption>c</caption><tr><td>1</td></tr></table>", "<table><caption>d</caption><colgroup><col span=2></colgroup><tr><td>1</td><td>2</td></tr></table>"),
        ("<p>&lt;img src=x onerror=alert(1)&gt;</p>", "<p>&lt;img src=y onerror=alert(2)&gt;</p>"),
        ("<p></p>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("<ul></ul>", "<ul><li>&lt;script&gt;alert(1)&lt;/script&gt;</li></ul>"),
        ("<p>a</p>", "&lt;b&gt;bold?&lt;/b&gt;<p>a</p>"),
        ("<p>a&nbsp;b</p>", "<p>a b &amp; c</p>"),
        ("<p title=\"a\">x</p>", "<p title=\"a &amp; b &quot;q&quot; &lt;i&gt;\">x</p>"),
        ("<svg><circle r=\"1\"></circle></svg>", "<svg><circle r=\"2\"></circle><path d=\"M0 0 L1 1\"></path></svg>"),
        ("<svg><use xlink:href=\"#a\"></use></svg>", "<svg><use xlink:href=\"#b\"></use><use xlink:href=\"#c\"></use></svg>"),
        ("<svg><use xlink:href=\"#a\"></use></svg>", "<svg><use></use></svg>"),
        ("<svg viewBox=\"0 0 1 1\"><g></g></svg>", "<svg viewBox=\"0 0 2 2\" preserveAspectRatio=\"none\"><g><text x=\"1\">t</text></g></svg>"),
        ("<svg><foreignObject><div>a</div></foreignObject></svg>", "<svg><foreignObject><div>a</div><p>b</p></foreignObject></svg>"),
        ("<svg><title>t</title></svg>", "<svg><title>t<b>u</b></title><desc>d</desc></svg>"),
        ("<math><mi>x</mi></math>", "<math><mi>x</mi><mo>+</mo><mi>y</mi></math>"),
        ("<math><mi>x</mi></math>", "<math><mi>x<b>bold</b></mi></math>"),
        ("<math><annotation-xml encoding=\"text/html\"><div>x</div></annotation-xml></math>", "<math><annotation-xml encoding=\"text/html\"><div>x</div><p>y</p></annotation-xml></math>"),
        ("<select><option>a</option></select>", "<select><option>a</option><option selected>b</option></select>"),
        ("<select><optgroup label=g><option>a</option></optgroup></select>", "<select><optgroup label=g><option>b</option><option>c</option></optgroup></select>"),
        ("<pre>a</pre>", "<pre>\n\nb</pre>"),
        ("<pre></pre>", "<pre>\n\nb</pre>"),
        ("<textarea>a</textarea>", "<textarea>\nb</textarea>"),
        ("<textarea></textarea>", "<textarea>&lt;b&gt;x</textarea>"),
        ("<style>a{}</style>", "<style>a>b{color:red}</style>"),
        ("<style></style>", "<style>p{x:'</b>&amp;'}</style>"),
        ("<template><p>a</p></template>", "<template><p>b</p><i>c</i></template>"),
        ("<template></template>", "<template><tr><td>row</td></tr></template>"),
        ("<!--a--><p>x</p>", "<!--b--><p>x</p><!--c-->"),
        ("<div id=\"a\" class=\"b\">x</div>", "<div class=\"b\" id=\"a\">x</div>"),
        ("<div id=\"a\" title=\"t\">x</div>", "<div id=\"a\" class=\"new\" title=\"t\">x</div>"),
        ("<div @click=\"x\" :class=\"y\">x</div>", "<div @click=\"z\" :class=\"y\" x:y=\"1\">x</div>"),
        ("<noscript><p>a</p></noscript>", "<noscript><p>b</p></noscript>"),
        ("", "<noscript><b>x</b></noscript>"),
        ("<p>a<div>b</div>", "<p>a</p><div>c</div>"),
        ("<b><p>x</b>y</p>", "<b><p>x</b>z</p>"),
        ("<a href=\"1\">x<a href=\"2\">y</a></a>", "<a href=\"1\">x<a href=\"3\">y</a></a>"),
        ("<p>a</p>", "<div>a</div>"),
        ("text", "<p>text</p>"),
        ("<p>x</p>", "<!--x-->"),
        ("<script>var a = 1</script>", "<script>window.__djustTestRan = true</script>"),
        ("<script></script>", "<script>window.__djustTestRan = true</script>"),
        ("<p>a</p>", "<p>a</p><script>window.__djustTestRan = true</script><img alt=\"x\">"),
        ("<input value=\"a\">", "<input value=\"b\">"),
        ("<input type=\"checkbox\" checked>", "<input type=\"checkbox\">"),
        ("<my-el foo=\"1\"><span>x</span></my-el>", "<my-el foo=\"2\" bar=\"\"><span>y</span></my-el>"),
        ("<iframe>&lt;b&gt;</iframe>", "<iframe>&lt;i&gt;</iframe>"),
        ("a\r\nb", "a\r\nc"),
        ("<select><div>x</div><option>a</option></select>", "<select><div>y</div><option>a</option></select>"),
        ("<image src=\"x\">", "<image src=\"y\">"),
        ("<svg><font color=\"red\">x</font></svg>", "<svg><font>x</font></svg>"),
        ("<form><input name=\"a\"></form>", "<form><input name=\"a\"><input name=\"b\"></form>"),
        ("<ul><li>1<li>2</ul>", "<ul><li>1<li>2<li>3</ul>"),
        ("<dl><dt>a<dd>b</dl>", "<dl><dt>a<dd>c<dt>d</dl>"),
        ("<button>x</button>", "<button disabled>y</button>"),
        ("<p>\u{1F600} ünï</p>", "<p>\u{1F601} ünï ✓</p>"),
        ("<plaintext><b>x", "<plaintext><b>y"),
        ("<div><span>a</span><span>b</span></div>", "<div><span>b</span></div>"),
        ("<ol><li id=\"a\">A</li><li id=\"b\">B</li><li id=\"c\">C</li></ol>", "<ol><li id=\"c\">C</li><li id=\"a\">A!</li><li id=\"b\">B</li></ol>"),
        ("<ol><li id=\"a\">A</li><li id=\"b\">B</li><li id=\"c\">C</li></ol>", "<ol><li id=\"b\">B</li><li id=\"c\">C</li><li id=\"a\">A</li></ol>"),
        ("<ol><li dj-key=\"a\">A</li><li dj-key=\"a\">dup</li></ol>", "<ol><li dj-key=\"a\">dup</li><li dj-key=\"b\">B</li></ol>"),
        ("<div dj-key=\"x\"><p>1</p></div>", "<section dj-key=\"x\"><p>1</p></section>"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    cases.push((
        format!("<ul>{fifty}</ul>"),
        format!("<ul>{}{fifty}</ul>", keyed(50..51)),
    ));
    cases.push((
        format!("<ul>{fifty}</ul>"),
        format!("<ul>{}</ul>", keyed((0..50).rev())),
    ));
    cases.push((
        format!("<ul>{fifty}</ul>"),
        format!("<ul>{}{}</ul>", keyed(1..50), keyed(0..1)),
    ));
    cases.push((
        format!("<ul>{fifty}</ul>"),
        format!("<ul>{}{}</ul>", keyed(0..20), keyed(30..50)),
    ));
    cases.push((String::new(), format!("<ul>{}</ul>", keyed(0..100))));
    cases.push((nested(30, "<b>deep</b>"), nested(30, "<i>deeper</i>")));
    cases.push((nested(600, "x"), nested(600, "y")));
    cases
}
