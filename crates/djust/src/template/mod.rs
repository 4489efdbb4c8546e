//! Template environment: minijinja with HTML autoescape always on, loading from a directory
//! and/or from embedded sources, plus the page layout. View templates are compiled by
//! `djust-render` into statics and slots at start-up (see `crate::render`).

use std::path::PathBuf;
use std::sync::Arc;

use djust_render::Engine;
use minijinja::{AutoEscape, Environment, Value};

use crate::context::Context;
use crate::error::BuildError;

/// Name of the built-in page layout.
pub(crate) const DEFAULT_LAYOUT: &str = "djust/layout.html";
const ROOT_TEMPLATE: &str = "djust/root.html";

const DEFAULT_LAYOUT_SRC: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page_title | default("djust") }}</title>
{{ djust.script }}
</head>
<body data-username="{{ djust.username }}">
{{ djust.root }}
</body>
</html>
"#;

// The mount point the client looks for. `dj-path`/`dj-query` tell it what to mount.
const ROOT_SRC: &str =
    r#"<div dj-root id="dj-root" dj-path="{{ path }}" dj-query="{{ query }}">{{ content }}</div>"#;

/// The script tag every page needs (loaded synchronously: inline page scripts may assign
/// `window.djust.hooks` while the page parses).
pub(crate) const SCRIPT_TAG: &str = r#"<script src="/djust/djust.js"></script>"#;

/// Where templates come from (both may be combined; embedded sources win on a name clash).
#[derive(Debug, Default)]
pub(crate) struct TemplateSources {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) embedded: Vec<(String, String)>,
}

/// The shared, immutable template environment with the compiled view templates.
#[derive(Clone)]
pub(crate) struct Templates {
    engine: Arc<Engine>,
    env: &'static Environment<'static>,
}

/// Loads (and caches) `name`, so a missing or broken template fails at start-up.
fn check(env: &Environment<'static>, name: &str, user: &str) -> Result<(), BuildError> {
    env.get_template(name)
        .map(|_| ())
        .map_err(|source| BuildError::Template {
            name: name.to_owned(),
            user: user.to_owned(),
            source,
        })
}

/// What the page layout needs besides the view's own context.
pub(crate) struct PageParts<'a> {
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) content: &'a str,
    pub(crate) username: &'a str,
    pub(crate) user_id: &'a str,
}

impl Templates {
    /// Builds the environment, checks that `layout` loads, and compiles every view template
    /// (`(template, view type name)` pairs); the first failure is the error.
    pub(crate) fn new<'a>(
        sources: TemplateSources,
        layout: &str,
        views: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, BuildError> {
        let env = Self::environment(sources)?;
        check(&env, layout, "layout")?;
        let mut names = Vec::new();
        for (template, view) in views {
            check(&env, template, view)?;
            names.push(template);
        }
        let mut engine = Engine::new(env, names).map_err(BuildError::Compile)?;
        engine.set_marker_parser(crate::presence::parse_dom_id);
        let env = engine.env();
        Ok(Self {
            engine: Arc::new(engine),
            env,
        })
    }

    /// The render engine (compiled view templates).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    fn environment(sources: TemplateSources) -> Result<Environment<'static>, BuildError> {
        let mut env = Environment::new();
        // Autoescape everything, whatever the file extension: live views only render HTML.
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        if let Some(dir) = sources.dir {
            if !dir.is_dir() {
                return Err(BuildError::TemplatesDir { path: dir });
            }
            env.set_loader(minijinja::path_loader(dir));
        }
        let builtin = [
            (DEFAULT_LAYOUT, DEFAULT_LAYOUT_SRC),
            (ROOT_TEMPLATE, ROOT_SRC),
        ];
        for (name, src) in builtin {
            env.add_template(name, src)
                .map_err(|source| BuildError::Template {
                    name: name.to_owned(),
                    user: "djust".to_owned(),
                    source,
                })?;
        }
        for (name, src) in sources.embedded {
            env.add_template_owned(name.clone(), src)
                .map_err(|source| BuildError::Template {
                    name,
                    user: "templates_embedded".to_owned(),
                    source,
                })?;
        }
        Ok(env)
    }

    /// Renders the view template `name` with `ctx`.
    pub(crate) fn render(&self, name: &str, ctx: &Context) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx.root_value())
    }

    /// Renders a whole page: `layout` with the view's context plus the `djust` namespace
    /// (`djust.root`, `djust.script`, `djust.username`, `djust.user_id`).
    pub(crate) fn render_page(
        &self,
        layout: &str,
        ctx: &Context,
        parts: &PageParts<'_>,
    ) -> Result<String, minijinja::Error> {
        let root = self
            .env
            .get_template(ROOT_TEMPLATE)?
            .render(minijinja::context! {
                path => parts.path,
                query => parts.query,
                content => Value::from_safe_string(parts.content.to_owned()),
            })?;
        let djust = minijinja::context! {
            root => Value::from_safe_string(root),
            script => Value::from_safe_string(SCRIPT_TAG.to_owned()),
            username => parts.username,
            user_id => parts.user_id,
        };
        let page_ctx = minijinja::context! { djust => djust, ..ctx.root_value() };
        self.env.get_template(layout)?.render(page_ctx)
    }
}

#[cfg(test)]
mod tests {
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

    fn embedded(list: &[(&str, &str)]) -> Templates {
        let views: Vec<(&str, &str)> = list.iter().map(|(n, _)| (*n, "V")).collect();
        Templates::new(sources(list), DEFAULT_LAYOUT, views).unwrap()
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
}
