//! Rendering a view: context → template → HTML.

use crate::context::Context;
use crate::error::ViewError;
use crate::socket::Socket;
use crate::template::Templates;
use crate::view::LiveView;

/// Renders `view` with its own template; returns the context too (the page layout needs it).
pub(crate) fn render_view<V: LiveView>(
    templates: &Templates,
    view: &V,
    socket: &Socket,
) -> Result<(Context, String), ViewError> {
    let ctx = view.get_context_data(socket)?;
    let html = templates.render(V::TEMPLATE, &ctx)?;
    Ok((ctx, html))
}
