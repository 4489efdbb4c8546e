//! Template environment: minijinja with HTML autoescape always on, loading from a directory
//! and/or from embedded sources, plus the page layout. View templates are compiled by
//! `djust-render` into statics and slots at start-up (see `crate::render`).
//!
//! One build of everything is a [`Generation`]. Outside dev mode there is one for the life of
//! the process. In dev mode with a templates directory (`reload.rs`), [`Templates::current`]
//! notices a changed file and builds a new generation; a build that fails keeps the last good
//! one in use and hands out its error (the start-up message) until the files change again.

mod env;
mod reload;

use std::path::PathBuf;
use std::sync::Arc;

use djust_render::Engine;
use minijinja::{Environment, Value};

use crate::context::Context;
use crate::error::BuildError;

pub(crate) use env::{DEFAULT_LAYOUT, SCRIPT_TAG};

/// Where templates come from (both may be combined; embedded sources win on a name clash).
#[derive(Debug, Default, Clone)]
pub(crate) struct TemplateSources {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) embedded: Vec<(String, String)>,
}

/// What a generation is built from.
#[derive(Debug, Clone)]
struct Spec {
    sources: TemplateSources,
    layout: String,
    /// `(template, view type name)`.
    views: Vec<(String, String)>,
}

/// One build of the environment and every compiled view template.
pub(crate) struct Generation {
    engine: Engine,
    env: &'static Environment<'static>,
    /// Distinguishes generations (a connection re-renders in full when it changes).
    id: u64,
}

/// The template set of the application (cheap to clone).
#[derive(Clone)]
pub(crate) struct Templates {
    inner: Arc<Inner>,
}

enum Inner {
    /// Built once at start-up.
    Fixed(Arc<Generation>),
    /// Dev mode with a templates directory: rebuilt when a file changes.
    Reloading(reload::Reloader),
}

/// What [`Templates::current`] hands out: the generation to use, and (dev mode) why the
/// templates on disk could not replace it.
pub(crate) struct Current {
    pub(crate) generation: Arc<Generation>,
    pub(crate) error: Option<Arc<str>>,
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
    /// (`(template, view type name)` pairs); the first failure is the error. Never reloads.
    #[cfg(test)]
    pub(crate) fn new<'a>(
        sources: TemplateSources,
        layout: &str,
        views: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, BuildError> {
        Self::build(sources, layout, views, false)
    }

    /// Like [`Templates::new`]; with `reload` (dev mode) and a templates directory, the
    /// directory is watched for changes (see the module documentation).
    pub(crate) fn build<'a>(
        sources: TemplateSources,
        layout: &str,
        views: impl IntoIterator<Item = (&'a str, &'a str)>,
        reload: bool,
    ) -> Result<Self, BuildError> {
        let spec = Spec {
            sources,
            layout: layout.to_owned(),
            views: views
                .into_iter()
                .map(|(t, v)| (t.to_owned(), v.to_owned()))
                .collect(),
        };
        let inner = match spec.sources.dir.clone() {
            Some(dir) if reload => Inner::Reloading(reload::Reloader::new(spec, dir)?),
            _ => Inner::Fixed(Arc::new(Generation::build(&spec, 0)?)),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Whether the templates are reloaded on change (dev mode with a templates directory).
    pub(crate) fn reloads(&self) -> bool {
        matches!(*self.inner, Inner::Reloading(_))
    }

    /// The generation to render with. In dev mode this reads the templates directory (a walk
    /// and a read of each file: development only) and rebuilds if anything changed.
    pub(crate) fn current(&self) -> Current {
        match &*self.inner {
            Inner::Fixed(generation) => Current {
                generation: generation.clone(),
                error: None,
            },
            Inner::Reloading(reloader) => reloader.current(),
        }
    }
}

impl Generation {
    fn build(spec: &Spec, id: u64) -> Result<Self, BuildError> {
        let env = env::environment(&spec.sources)?;
        env::check(&env, &spec.layout, "layout")?;
        let mut names = Vec::new();
        for (template, view) in &spec.views {
            env::check(&env, template, view)?;
            names.push(template.as_str());
        }
        // The engine keeps its environment for the life of the process; a reload in dev mode
        // therefore keeps each replaced environment too (a few kilobytes per edit).
        let mut engine = Engine::new(env, names).map_err(BuildError::Compile)?;
        engine.set_marker_parser(crate::presence::parse_dom_id);
        let env = engine.env();
        Ok(Self { engine, env, id })
    }

    /// Which build this is.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The render engine (compiled view templates).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
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
            .get_template(env::ROOT_TEMPLATE)?
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
mod tests;
