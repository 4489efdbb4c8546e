//! Rendering a view: context → template → HTML (the page GET) or → rendered tree / diff
//! against what the connection's client has (live).

use djust_render::{Output, RenderInput, View, ViewState};

use crate::context::Context;
use crate::error::ViewError;
use crate::socket::Socket;
use crate::template::Generation;
use crate::view::LiveView;

/// Renders `view` with its own template to HTML; returns the context too (the page layout
/// needs it).
pub(crate) fn render_view<V: LiveView>(
    templates: &Generation,
    view: &V,
    socket: &Socket,
) -> Result<(Context, String), ViewError> {
    let ctx = view.get_context_data(socket)?;
    let html = templates.render(V::TEMPLATE, &ctx)?;
    Ok((ctx, html))
}

/// The compiled template of `V` (compiled with the generation, so it exists).
pub(crate) fn compiled<V: LiveView>(templates: &Generation) -> Result<View, ViewError> {
    templates
        .engine()
        .view(V::TEMPLATE)
        .ok_or_else(|| ViewError::other(format!("template {} was not compiled", V::TEMPLATE)))
}

/// Renders `view` for a live connection: the whole tree if `state` is empty (mount,
/// resync, after a failed render), else only what changed since the last render.
pub(crate) fn render_live<V: LiveView>(
    templates: &Generation,
    compiled: &View,
    view: &V,
    socket: &Socket,
    state: &mut ViewState,
) -> Result<Output, ViewError> {
    let ctx = view.get_context_data(socket)?;
    let (root, entries) = (ctx.root_value(), ctx.fingerprints());
    let input = RenderInput {
        root: &root,
        entries: &entries,
    };
    Ok(templates.engine().render(compiled, input, state)?)
}
