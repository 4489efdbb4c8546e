//! Template source → [`Block`] tree, once per template at start-up.
//!
//! minijinja's parser gives the statement tree with spans; every expression is kept as its
//! source text, which the compiled set later turns into a minijinja template (`{{ expr }}`,
//! so escaping and formatting are minijinja's own) or a minijinja expression (conditions,
//! loop iterables). Only the statements whose output the engine can track are accepted;
//! anything else is refused with the template, line and construct named.

use std::collections::HashSet;
use std::sync::Arc;

use minijinja::Environment;
use minijinja::machinery::{WhitespaceConfig, ast, parse};
use minijinja::syntax::SyntaxConfig;

use crate::error::CompileError;
use crate::tree::{Block, Branch, EmitId, ExprId, Loop, Slot, SlotKind};

/// How deep `{% include %}` may nest (a cycle would otherwise never end).
const MAX_INCLUDE_DEPTH: usize = 16;

/// The attribute whose value marks an element for the caller (the cursor fast path).
pub(crate) const MARKER_ATTR: &str = "dj-cursor=\"";
const KEY_ATTR: &str = "dj-key=\"";

/// Sources collected while compiling; turned into minijinja objects by the compiled set.
#[derive(Default)]
pub(crate) struct Sources {
    /// `(template name, expression source)` for conditions and loop iterables.
    pub(crate) exprs: Vec<(String, String)>,
    /// `(template name, expression source)` for `{{ … }}` outputs.
    pub(crate) emits: Vec<(String, String)>,
    pub(crate) next_block: u32,
}

/// Compiles the template `name` (loaded through `env`) into a block tree.
pub(crate) fn compile(
    env: &Environment<'static>,
    name: &str,
    sources: &mut Sources,
) -> Result<Block, CompileError> {
    let source = load(env, name, None)?;
    let mut c = Compiler {
        env,
        sources,
        files: vec![name.to_owned()],
    };
    let root = parse_source(&source, name)?;
    let mut b = BlockBuilder::default();
    c.walk_stmt(&root, &source, &mut b, &HashSet::new())?;
    Ok(c.finish(b))
}

fn load(
    env: &Environment<'static>,
    name: &str,
    from: Option<(&str, u16)>,
) -> Result<String, CompileError> {
    env.get_template(name)
        .map(|t| t.source().to_owned())
        .map_err(|source| match from {
            None => CompileError::Load {
                template: name.to_owned(),
                source,
            },
            Some((parent, line)) => CompileError::Include {
                template: parent.to_owned(),
                line,
                name: name.to_owned(),
                source,
            },
        })
}

fn parse_source<'s>(source: &'s str, name: &'s str) -> Result<ast::Stmt<'s>, CompileError> {
    parse(source, name, SyntaxConfig, WhitespaceConfig::default()).map_err(|source| {
        CompileError::Syntax {
            template: name.to_owned(),
            source,
        }
    })
}

struct Compiler<'a> {
    env: &'a Environment<'static>,
    sources: &'a mut Sources,
    /// The include chain, innermost last (errors name the innermost file).
    files: Vec<String>,
}

/// The block being built: statics so far, the static being extended, the slots.
#[derive(Default)]
struct BlockBuilder {
    statics: Vec<Arc<str>>,
    current: String,
    slots: Vec<Slot>,
}

impl BlockBuilder {
    fn push_slot(&mut self, kind: SlotKind, deps: Vec<Arc<str>>) {
        self.statics
            .push(Arc::from(std::mem::take(&mut self.current)));
        self.slots.push(Slot { kind, deps });
    }
}

impl Compiler<'_> {
    fn file(&self) -> &str {
        self.files.last().map_or("", String::as_str)
    }

    fn finish(&mut self, mut b: BlockBuilder) -> Block {
        b.statics.push(Arc::from(std::mem::take(&mut b.current)));
        let id = self.sources.next_block;
        self.sources.next_block += 1;
        Block {
            id,
            statics: b.statics.into(),
            slots: b.slots,
        }
    }

    fn unsupported(&self, line: u16, construct: &str) -> CompileError {
        CompileError::Unsupported {
            template: self.file().to_owned(),
            line,
            construct: construct.to_owned(),
        }
    }

    fn walk(
        &mut self,
        stmts: &[ast::Stmt<'_>],
        src: &str,
        b: &mut BlockBuilder,
        bound: &HashSet<Arc<str>>,
    ) -> Result<(), CompileError> {
        stmts
            .iter()
            .try_for_each(|s| self.walk_stmt(s, src, b, bound))
    }

    fn walk_stmt(
        &mut self,
        stmt: &ast::Stmt<'_>,
        src: &str,
        b: &mut BlockBuilder,
        bound: &HashSet<Arc<str>>,
    ) -> Result<(), CompileError> {
        match stmt {
            ast::Stmt::Template(t) => self.walk(&t.children, src, b, bound),
            ast::Stmt::EmitRaw(r) => {
                b.current.push_str(r.raw);
                Ok(())
            }
            ast::Stmt::EmitExpr(e) => {
                let text = expr_source(&e.expr, src);
                let deps = self.deps(text, bound, e.span().start_line)?;
                let marker = b.current.ends_with(MARKER_ATTR);
                let key = b.current.ends_with(KEY_ATTR);
                let emit = self.emit(text);
                b.push_slot(SlotKind::Emit { emit, marker, key }, deps);
                Ok(())
            }
            ast::Stmt::IfCond(c) => {
                let mut branches = Vec::new();
                let mut deps = Vec::new();
                self.if_chain(c, src, bound, &mut branches, &mut deps)?;
                b.push_slot(SlotKind::If(branches), deps);
                Ok(())
            }
            ast::Stmt::ForLoop(f) => {
                let (l, deps) = self.for_loop(f, src, bound)?;
                b.push_slot(SlotKind::For(Box::new(l)), deps);
                Ok(())
            }
            ast::Stmt::Include(i) => self.include(i, b, bound),
            other => Err(self.unsupported(stmt_line(other), stmt_name(other))),
        }
    }

    fn if_chain(
        &mut self,
        c: &ast::Spanned<ast::IfCond<'_>>,
        src: &str,
        bound: &HashSet<Arc<str>>,
        branches: &mut Vec<Branch>,
        deps: &mut Vec<Arc<str>>,
    ) -> Result<(), CompileError> {
        let line = c.span().start_line;
        let text = expr_source(&c.expr, src);
        merge(deps, self.deps(text, bound, line)?);
        let cond = self.expr(text);
        let body = self.block(&c.true_body, src, bound)?;
        block_deps(&body, deps);
        branches.push(Branch {
            cond: Some(cond),
            body,
        });
        // `{% elif %}` parses as an `if` that is the only statement of the false branch, and
        // so does `{% else %}{% if %}…{% endif %}`; both mean the same, so both are a chain.
        if let [ast::Stmt::IfCond(next)] = c.false_body.as_slice() {
            return self.if_chain(next, src, bound, branches, deps);
        }
        if !c.false_body.is_empty() {
            let body = self.block(&c.false_body, src, bound)?;
            block_deps(&body, deps);
            branches.push(Branch { cond: None, body });
        }
        Ok(())
    }

    fn for_loop(
        &mut self,
        f: &ast::Spanned<ast::ForLoop<'_>>,
        src: &str,
        bound: &HashSet<Arc<str>>,
    ) -> Result<(Loop, Vec<Arc<str>>), CompileError> {
        let line = f.span().start_line;
        if f.recursive {
            return Err(self.unsupported(line, "recursive for loop"));
        }
        if f.filter_expr.is_some() {
            return Err(self.unsupported(line, "for loop with an `if` filter (filter the list in the view, or use an `if` inside the loop)"));
        }
        if !f.else_body.is_empty() {
            return Err(self.unsupported(
                line,
                "for loop with an `else` branch (use `{% if list %}` around the loop)",
            ));
        }
        let targets: Vec<Arc<str>> = match &f.target {
            ast::Expr::Var(v) => vec![Arc::from(v.id)],
            ast::Expr::List(l) => l
                .items
                .iter()
                .map(|i| match i {
                    ast::Expr::Var(v) => Ok(Arc::from(v.id)),
                    _ => Err(self.unsupported(line, "nested unpacking in a for loop target")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(self.unsupported(line, "for loop target that is not a name")),
        };
        let text = expr_source(&f.iter, src);
        let mut deps = self.deps(text, bound, line)?;
        let iter = self.expr(text);
        let mut inner = bound.clone();
        inner.extend(targets.iter().cloned());
        inner.insert(Arc::from("loop"));
        let body = self.block(&f.body, src, &inner)?;
        let uses_loop = reads_loop(self, src, &f.body);
        block_deps(&body, &mut deps);
        let key_slot = body
            .slots
            .iter()
            .position(|s| matches!(s.kind, SlotKind::Emit { key: true, .. }));
        Ok((
            Loop {
                targets,
                iter,
                body,
                uses_loop,
                key_slot,
            },
            deps,
        ))
    }

    fn include(
        &mut self,
        i: &ast::Spanned<ast::Include<'_>>,
        b: &mut BlockBuilder,
        bound: &HashSet<Arc<str>>,
    ) -> Result<(), CompileError> {
        let line = i.span().start_line;
        let ast::Expr::Const(c) = &i.name else {
            return Err(
                self.unsupported(line, "include with a computed name (use a string literal)")
            );
        };
        let Some(name) = c.value.as_str().map(str::to_owned) else {
            return Err(self.unsupported(line, "include of a non-string name"));
        };
        if self.files.len() > MAX_INCLUDE_DEPTH {
            return Err(self.unsupported(line, "include nested too deeply (a cycle?)"));
        }
        let source = load(self.env, &name, Some((self.file(), line)))?;
        self.files.push(name.clone());
        let stmt = parse_source(&source, &name)?;
        let r = self.walk_stmt(&stmt, &source, b, bound);
        self.files.pop();
        r
    }

    fn block(
        &mut self,
        stmts: &[ast::Stmt<'_>],
        src: &str,
        bound: &HashSet<Arc<str>>,
    ) -> Result<Block, CompileError> {
        let mut b = BlockBuilder::default();
        self.walk(stmts, src, &mut b, bound)?;
        Ok(self.finish(b))
    }

    fn deps(
        &self,
        text: &str,
        bound: &HashSet<Arc<str>>,
        line: u16,
    ) -> Result<Vec<Arc<str>>, CompileError> {
        let expr =
            self.env
                .compile_expression(text)
                .map_err(|source| CompileError::Expression {
                    template: self.file().to_owned(),
                    line,
                    expr: text.to_owned(),
                    source,
                })?;
        let mut deps: Vec<Arc<str>> = expr
            .undeclared_variables(false)
            .into_iter()
            .map(Arc::from)
            .filter(|n| !bound.contains(n))
            .collect();
        deps.sort();
        Ok(deps)
    }

    fn expr(&mut self, text: &str) -> ExprId {
        self.sources
            .exprs
            .push((self.file().to_owned(), text.to_owned()));
        self.sources.exprs.len() - 1
    }

    fn emit(&mut self, text: &str) -> EmitId {
        self.sources
            .emits
            .push((self.file().to_owned(), text.to_owned()));
        self.sources.emits.len() - 1
    }
}

/// Whether the loop body's expressions read the `loop` variable.
fn reads_loop(c: &Compiler<'_>, src: &str, stmts: &[ast::Stmt<'_>]) -> bool {
    let mut found = false;
    visit_exprs(stmts, &mut |e| {
        if !found && let Ok(expr) = c.env.compile_expression(expr_source(e, src)) {
            found = expr.undeclared_variables(false).contains("loop");
        }
    });
    found
}

fn visit_exprs<'a>(stmts: &'a [ast::Stmt<'a>], f: &mut dyn FnMut(&'a ast::Expr<'a>)) {
    for s in stmts {
        match s {
            ast::Stmt::Template(t) => visit_exprs(&t.children, f),
            ast::Stmt::EmitExpr(e) => f(&e.expr),
            ast::Stmt::IfCond(c) => {
                f(&c.expr);
                visit_exprs(&c.true_body, f);
                visit_exprs(&c.false_body, f);
            }
            // A nested loop has its own `loop`; its iterable is evaluated in this body.
            ast::Stmt::ForLoop(l) => f(&l.iter),
            _ => {}
        }
    }
}

fn merge(deps: &mut Vec<Arc<str>>, more: Vec<Arc<str>>) {
    for d in more {
        if !deps.contains(&d) {
            deps.push(d);
        }
    }
    deps.sort();
}

fn block_deps(b: &Block, deps: &mut Vec<Arc<str>>) {
    for s in &b.slots {
        merge(deps, s.deps.clone());
    }
}

/// The source text of an expression. A node's own span does not always cover its operands
/// (`a.b` spans `.b`, `x|f` spans `f`), so the range is the union over the whole subtree.
fn expr_source<'s>(e: &ast::Expr<'_>, src: &'s str) -> &'s str {
    let (start, end) = expr_range(e);
    let (start, end) = balance(src, start as usize, end as usize);
    src.get(start..end).unwrap_or("").trim()
}

/// Widens `start..end` to the parentheses and brackets it cuts (`(a + b) > 1`: the parser
/// keeps no node for the parentheses, so the operands' spans leave them out).
fn balance(src: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    for _ in 0..32 {
        let Some(text) = src.get(start..end) else {
            break;
        };
        let (close, open) = unmatched(text);
        if close == 0 && open == 0 {
            break;
        }
        if close > 0 {
            match src.get(..start).and_then(|b| b.rfind(['(', '['])) {
                Some(i) => start = i,
                None => break,
            }
        }
        if open > 0 {
            match src.get(end..).and_then(|a| a.find([')', ']'])) {
                Some(i) => end += i + 1,
                None => break,
            }
        }
    }
    (start, end)
}

/// Unmatched closing and opening brackets of `text`, outside string literals.
fn unmatched(text: &str) -> (usize, usize) {
    let (mut close, mut depth) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' => depth += 1,
            ')' | ']' => {
                if depth == 0 {
                    close += 1;
                } else {
                    depth -= 1;
                }
            }
            _ => {}
        }
    }
    (close, depth)
}

fn expr_range(e: &ast::Expr<'_>) -> (u32, u32) {
    let mut r = (u32::MAX, 0);
    let mut add = |span: minijinja::machinery::Span| {
        r.0 = r.0.min(span.start_offset);
        r.1 = r.1.max(span.end_offset);
    };
    let sub = |e: &ast::Expr<'_>, r: &mut (u32, u32)| {
        let (s, t) = expr_range(e);
        r.0 = r.0.min(s);
        r.1 = r.1.max(t);
    };
    let mut kids: Vec<&ast::Expr<'_>> = Vec::new();
    match e {
        ast::Expr::Var(s) => add(s.span()),
        ast::Expr::Const(s) => add(s.span()),
        ast::Expr::Slice(s) => {
            add(s.span());
            kids.push(&s.expr);
            kids.extend(s.start.iter().chain(&s.stop).chain(&s.step));
        }
        ast::Expr::UnaryOp(s) => {
            add(s.span());
            kids.push(&s.expr);
        }
        // The operands cover these completely; their own span may start at the enclosing
        // statement (`if a > 1` spans from `if`).
        ast::Expr::BinOp(s) => kids.extend([&s.left, &s.right]),
        ast::Expr::Compare(s) => {
            kids.push(&s.expr);
            kids.extend(s.ops.iter().map(|o| &o.expr));
        }
        ast::Expr::IfExpr(s) => {
            kids.extend([&s.test_expr, &s.true_expr]);
            kids.extend(s.false_expr.iter());
        }
        ast::Expr::Filter(s) => {
            add(s.span());
            kids.extend(s.expr.iter());
            kids.extend(s.args.iter().map(call_arg));
        }
        ast::Expr::Test(s) => {
            add(s.span());
            kids.push(&s.expr);
            kids.extend(s.args.iter().map(call_arg));
        }
        ast::Expr::GetAttr(s) => {
            add(s.span());
            kids.push(&s.expr);
        }
        ast::Expr::GetItem(s) => {
            add(s.span());
            kids.extend([&s.expr, &s.subscript_expr]);
        }
        ast::Expr::Call(s) => {
            add(s.span());
            kids.push(&s.expr);
            kids.extend(s.args.iter().map(call_arg));
        }
        ast::Expr::List(s) => {
            add(s.span());
            kids.extend(s.items.iter());
        }
        ast::Expr::Map(s) => {
            add(s.span());
            kids.extend(s.keys.iter().chain(&s.values));
        }
    }
    for k in kids {
        sub(k, &mut r);
    }
    r
}

fn call_arg<'a>(a: &'a ast::CallArg<'a>) -> &'a ast::Expr<'a> {
    match a {
        ast::CallArg::Pos(e)
        | ast::CallArg::Kwarg(_, e)
        | ast::CallArg::PosSplat(e)
        | ast::CallArg::KwargSplat(e) => e,
    }
}

fn stmt_line(s: &ast::Stmt<'_>) -> u16 {
    match s {
        ast::Stmt::Template(x) => x.span().start_line,
        ast::Stmt::EmitExpr(x) => x.span().start_line,
        ast::Stmt::EmitRaw(x) => x.span().start_line,
        ast::Stmt::ForLoop(x) => x.span().start_line,
        ast::Stmt::IfCond(x) => x.span().start_line,
        ast::Stmt::WithBlock(x) => x.span().start_line,
        ast::Stmt::Set(x) => x.span().start_line,
        ast::Stmt::SetBlock(x) => x.span().start_line,
        ast::Stmt::AutoEscape(x) => x.span().start_line,
        ast::Stmt::FilterBlock(x) => x.span().start_line,
        ast::Stmt::Block(x) => x.span().start_line,
        ast::Stmt::Import(x) => x.span().start_line,
        ast::Stmt::FromImport(x) => x.span().start_line,
        ast::Stmt::Extends(x) => x.span().start_line,
        ast::Stmt::Include(x) => x.span().start_line,
        ast::Stmt::Macro(x) => x.span().start_line,
        ast::Stmt::CallBlock(x) => x.span().start_line,
        ast::Stmt::Do(x) => x.span().start_line,
    }
}

fn stmt_name(s: &ast::Stmt<'_>) -> &'static str {
    match s {
        ast::Stmt::WithBlock(_) => "{% with %}",
        ast::Stmt::Set(_) | ast::Stmt::SetBlock(_) => {
            "{% set %} (compute the value in get_context_data)"
        }
        ast::Stmt::AutoEscape(_) => "{% autoescape %} (autoescape is always on; use |safe)",
        ast::Stmt::FilterBlock(_) => "{% filter %}",
        ast::Stmt::Block(_) => "{% block %}",
        ast::Stmt::Import(_) | ast::Stmt::FromImport(_) => "{% import %}",
        ast::Stmt::Extends(_) => {
            "{% extends %} (live view templates are fragments; use the page layout)"
        }
        ast::Stmt::Macro(_) | ast::Stmt::CallBlock(_) => {
            "{% macro %} / {% call %} (use {% include %})"
        }
        ast::Stmt::Do(_) => "{% do %}",
        _ => "statement",
    }
}
