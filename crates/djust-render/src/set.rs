//! [`Engine`]: the environment plus every compiled view template, built once at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::{Environment, Expression, Template, Value};

use crate::compile::{Sources, compile};
use crate::error::{CompileError, RenderError};
use crate::tree::{Block, EmitId, ExprId};

/// The template environment with every live view template compiled into statics and slots.
///
/// The environment is kept for the life of the process (it is leaked once per engine): the
/// compiled slots hold minijinja templates and expressions that borrow it, and an engine is
/// built once at start-up.
pub struct Engine {
    env: &'static Environment<'static>,
    exprs: Vec<(Arc<str>, Expression<'static, 'static>)>,
    emits: Vec<(Arc<str>, Template<'static, 'static>)>,
    views: HashMap<String, Arc<Block>>,
    blocks: usize,
    marker: MarkerParser,
    /// Loop items rendered by one connection, reused by the others (`cache.rs`).
    pub(crate) items: crate::cache::ItemCache,
}

/// Turns the value of a `dj-cursor="…"` attribute into a number the caller recognises
/// (`None` = not a marker). See [`crate::ViewState::markers`].
pub type MarkerParser = fn(&str) -> Option<u64>;

fn default_marker(s: &str) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    s.hash(&mut h);
    (!s.is_empty()).then(|| h.finish() | 1)
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("views", &self.views.keys().collect::<Vec<_>>())
            .field("slots", &self.emits.len())
            .finish_non_exhaustive()
    }
}

/// A compiled view template: what a connection renders.
#[derive(Debug, Clone)]
pub struct View {
    pub(crate) root: Arc<Block>,
    pub(crate) name: Arc<str>,
}

impl View {
    /// The template name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Engine {
    /// Compiles the templates `views` (loaded through `env`) and keeps `env` for rendering.
    ///
    /// # Errors
    /// The first template that does not load, parse or compile, with its name, line and the
    /// construct at fault.
    pub fn new<I, S>(mut env: Environment<'static>, views: I) -> Result<Self, CompileError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut sources = Sources::default();
        let mut compiled = HashMap::new();
        for name in views {
            let name = name.as_ref();
            if compiled.contains_key(name) {
                continue;
            }
            let block = compile(&env, name, &mut sources)?;
            compiled.insert(name.to_owned(), Arc::new(block));
        }
        let mut emit_names = Vec::with_capacity(sources.emits.len());
        for (i, (file, src)) in sources.emits.iter().enumerate() {
            let name = format!("{file}#djust-slot-{i}");
            env.add_template_owned(name.clone(), format!("{{{{ {src} }}}}"))
                .map_err(|source| CompileError::Syntax {
                    template: file.clone(),
                    source,
                })?;
            emit_names.push(name);
        }
        let env: &'static Environment<'static> = Box::leak(Box::new(env));
        let mut exprs = Vec::with_capacity(sources.exprs.len());
        for (file, src) in sources.exprs {
            let expr = env
                .compile_expression_owned(src.clone())
                .map_err(|source| CompileError::Expression {
                    template: file.clone(),
                    line: 0,
                    expr: src,
                    source,
                })?;
            exprs.push((Arc::from(file), expr));
        }
        let mut emits = Vec::with_capacity(emit_names.len());
        for ((file, _), name) in sources.emits.iter().zip(&emit_names) {
            let t = env
                .get_template(name)
                .map_err(|source| CompileError::Syntax {
                    template: file.clone(),
                    source,
                })?;
            emits.push((Arc::from(file.as_str()), t));
        }
        Ok(Self {
            env,
            exprs,
            emits,
            views: compiled,
            blocks: sources.next_block as usize,
            marker: default_marker,
            items: crate::cache::ItemCache::default(),
        })
    }

    /// Sets how marker attribute values (`dj-cursor="…"`) are parsed (default: a hash).
    pub fn set_marker_parser(&mut self, parser: MarkerParser) {
        self.marker = parser;
    }

    pub(crate) fn marker_parser(&self) -> MarkerParser {
        self.marker
    }

    /// The environment (for whole-page renders such as the layout).
    pub fn env(&self) -> &'static Environment<'static> {
        self.env
    }

    /// The compiled template `name`, if it was passed to [`Engine::new`].
    pub fn view(&self, name: &str) -> Option<View> {
        self.views.get(name).map(|root| View {
            root: root.clone(),
            name: Arc::from(name),
        })
    }

    /// How many blocks (distinct statics lists) the engine compiled.
    pub fn block_count(&self) -> usize {
        self.blocks
    }

    pub(crate) fn emit(&self, id: EmitId, ctx: &Value) -> Result<String, RenderError> {
        let (file, t) = &self.emits[id];
        t.render(ctx).map_err(|source| RenderError {
            template: file.to_string(),
            source,
        })
    }

    pub(crate) fn eval(&self, id: ExprId, ctx: &Value) -> Result<Value, RenderError> {
        let (file, e) = &self.exprs[id];
        e.eval(ctx).map_err(|source| RenderError {
            template: file.to_string(),
            source,
        })
    }

    pub(crate) fn error(&self, id: ExprId, source: minijinja::Error) -> RenderError {
        RenderError {
            template: self.exprs[id].0.to_string(),
            source,
        }
    }
}
