//! Templates: autoescape, the page layout, build errors, dev-mode reloads.

use super::*;

fn sources(list: &[(&str, &str)]) -> TemplateSources {
    TemplateSources {
        dir: None,
        embedded: list
            .iter()
            .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
            .collect(),
    }
}

fn embedded(list: &[(&str, &str)]) -> Arc<Generation> {
    let views: Vec<(&str, &str)> = list.iter().map(|(n, _)| (*n, "V")).collect();
    let templates = Templates::new(sources(list), DEFAULT_LAYOUT, views).unwrap();
    assert!(!templates.reloads());
    templates.current().generation
}

#[test]
fn autoescape_is_on_for_every_name() {
    let t = embedded(&[("x.txt", "{{ v }}")]);
    let mut ctx = Context::new();
    ctx.insert("v", &"<img src=x onerror=alert(1)>").unwrap();
    assert_eq!(
        t.render("x.txt", &ctx).unwrap(),
        "&lt;img src=x onerror=alert(1)&gt;"
    );
}

#[test]
fn page_wraps_view_in_layout_with_escaped_attributes() {
    let t = embedded(&[("v.html", "<p>{{ n }}</p>")]);
    let mut ctx = Context::new();
    ctx.insert("n", &1).unwrap();
    let content = t.render("v.html", &ctx).unwrap();
    let page = t
        .render_page(
            DEFAULT_LAYOUT,
            &ctx,
            &PageParts {
                path: "/d/1",
                query: "a=1&b=\"",
                content: &content,
                username: "al\"ice",
                user_id: "7",
            },
        )
        .unwrap();
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.contains(SCRIPT_TAG));
    assert!(page.contains(r#"data-username="al&quot;ice""#), "{page}");
    assert!(
        page.contains(r#"dj-path="&#x2f;d&#x2f;1" dj-query="a=1&amp;b=&quot;"><p>1</p></div>"#),
        "{page}"
    );
}

#[test]
fn missing_dir_and_bad_template_are_build_errors() {
    let err = Templates::new(
        TemplateSources {
            dir: Some("/nonexistent/djust-templates".into()),
            embedded: vec![],
        },
        DEFAULT_LAYOUT,
        [],
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("/nonexistent/djust-templates"));
    let err = Templates::new(sources(&[]), DEFAULT_LAYOUT, [("nope.html", "MyView")])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("nope.html") && err.contains("MyView"), "{err}");
    let err = Templates::new(
        sources(&[("v.html", "<p>\n{% set x = 1 %}</p>")]),
        DEFAULT_LAYOUT,
        [("v.html", "MyView")],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("v.html") && err.contains("line 2") && err.contains("{% set %}"),
        "{err}"
    );
}

/// A fresh directory under the system's temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("djust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn render_v(current: &Current) -> String {
    let mut ctx = Context::new();
    ctx.insert("n", &7).unwrap();
    current.generation.render("v.html", &ctx).unwrap()
}

#[test]
fn dev_mode_rebuilds_on_change_and_keeps_the_last_good_build_on_a_broken_edit() {
    let dir = temp_dir("reload-unit");
    std::fs::write(dir.join("v.html"), "<p>{{ n }}</p>").unwrap();
    let sources = TemplateSources {
        dir: Some(dir.clone()),
        embedded: vec![],
    };
    let templates = Templates::build(
        sources.clone(),
        DEFAULT_LAYOUT,
        [("v.html", "MyView")],
        true,
    )
    .unwrap();
    assert!(templates.reloads());
    let first = templates.current();
    assert_eq!(render_v(&first), "<p>7</p>");
    assert_eq!(templates.current().generation.id(), first.generation.id());

    std::fs::write(dir.join("v.html"), "<b>{{ n }}</b>").unwrap();
    let second = templates.current();
    assert!(second.error.is_none());
    assert_ne!(second.generation.id(), first.generation.id());
    assert_eq!(render_v(&second), "<b>7</b>");
    assert!(second.generation.engine().view("v.html").is_some());

    // A construct the render engine refuses: the start-up message, and the last good build.
    std::fs::write(dir.join("v.html"), "<b>\n{% set x = 1 %}</b>").unwrap();
    let broken = templates.current();
    let error = broken.error.as_deref().unwrap_or_default().to_owned();
    let at_start = Templates::build(sources, DEFAULT_LAYOUT, [("v.html", "MyView")], false)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(error, at_start, "the same message as at start-up");
    assert!(
        error.contains("v.html") && error.contains("line 2"),
        "{error}"
    );
    assert_eq!(broken.generation.id(), second.generation.id());
    assert_eq!(render_v(&broken), "<b>7</b>");
    // Still broken on the next look, without rebuilding; fixed once the file is.
    assert!(templates.current().error.is_some());
    std::fs::write(dir.join("v.html"), "<i>{{ n }}</i>").unwrap();
    let fixed = templates.current();
    assert!(fixed.error.is_none());
    assert_eq!(render_v(&fixed), "<i>7</i>");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_dev_mode_or_a_directory_nothing_reloads() {
    let dir = temp_dir("reload-off");
    std::fs::write(dir.join("v.html"), "<p>{{ n }}</p>").unwrap();
    let from_dir = TemplateSources {
        dir: Some(dir.clone()),
        embedded: vec![],
    };
    let templates = Templates::build(from_dir, DEFAULT_LAYOUT, [("v.html", "V")], false).unwrap();
    assert!(!templates.reloads());
    std::fs::write(dir.join("v.html"), "<b>{{ n }}</b>").unwrap();
    assert_eq!(render_v(&templates.current()), "<p>7</p>");
    let embedded_only =
        Templates::build(sources(&[("v.html", "x")]), DEFAULT_LAYOUT, [], true).unwrap();
    assert!(!embedded_only.reloads());
    std::fs::remove_dir_all(&dir).unwrap();
}
