//! Errors of compiling (start-up) and rendering (run time).

/// A template the engine cannot compile. Raised at start-up, so a template never renders
/// wrongly at run time: the message names the template, the line and what to change.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The template could not be loaded (missing file, loader error).
    #[error("template `{template}` could not be loaded: {source}")]
    Load {
        /// The template name.
        template: String,
        /// minijinja's error.
        source: minijinja::Error,
    },
    /// A syntax error.
    #[error("template `{template}`: {source}")]
    Syntax {
        /// The template name.
        template: String,
        /// minijinja's error (it carries the line).
        source: minijinja::Error,
    },
    /// An expression that does not compile.
    #[error("template `{template}`, line {line}: expression `{expr}`: {source}")]
    Expression {
        /// The template name.
        template: String,
        /// 1-based line.
        line: u16,
        /// The expression's source.
        expr: String,
        /// minijinja's error.
        source: minijinja::Error,
    },
    /// An `{% include %}` whose template could not be loaded.
    #[error("template `{template}`, line {line}: include of `{name}` failed: {source}")]
    Include {
        /// The including template.
        template: String,
        /// 1-based line of the include.
        line: u16,
        /// The included name.
        name: String,
        /// minijinja's error.
        source: minijinja::Error,
    },
    /// A construct live views do not support.
    #[error(
        "template `{template}`, line {line}: {construct} is not supported in live view templates"
    )]
    Unsupported {
        /// The template (the included file, for an include).
        template: String,
        /// 1-based line.
        line: u16,
        /// What was found, and what to use instead.
        construct: String,
    },
}

/// A render that failed at run time (a filter error, iterating a number, …). Nothing was
/// sent; the connection's state is reset so the next render is a full one.
#[derive(Debug, thiserror::Error)]
#[error("template `{template}`: {source}")]
pub struct RenderError {
    /// The template (or included file) of the failing part.
    pub template: String,
    /// minijinja's error.
    #[source]
    pub source: minijinja::Error,
}
