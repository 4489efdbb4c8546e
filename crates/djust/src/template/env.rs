//! The minijinja environment of one template generation: autoescape, the loader, the built-in
//! layout and mount point, and the embedded sources.

use minijinja::{AutoEscape, Environment};

use super::TemplateSources;
use crate::error::BuildError;

/// Name of the built-in page layout.
pub(crate) const DEFAULT_LAYOUT: &str = "djust/layout.html";
pub(super) const ROOT_TEMPLATE: &str = "djust/root.html";

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

/// Loads (and caches) `name`, so a missing or broken template fails the build.
pub(super) fn check(env: &Environment<'static>, name: &str, user: &str) -> Result<(), BuildError> {
    env.get_template(name)
        .map(|_| ())
        .map_err(|source| BuildError::Template {
            name: name.to_owned(),
            user: user.to_owned(),
            source,
        })
}

/// A fresh environment over `sources` (the directory is read again: nothing is cached across
/// environments).
pub(super) fn environment(sources: &TemplateSources) -> Result<Environment<'static>, BuildError> {
    let mut env = Environment::new();
    // Autoescape everything, whatever the file extension: live views only render HTML.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    if let Some(dir) = &sources.dir {
        if !dir.is_dir() {
            return Err(BuildError::TemplatesDir { path: dir.clone() });
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
    for (name, src) in &sources.embedded {
        env.add_template_owned(name.clone(), src.clone())
            .map_err(|source| BuildError::Template {
                name: name.clone(),
                user: "templates_embedded".to_owned(),
                source,
            })?;
    }
    Ok(env)
}
