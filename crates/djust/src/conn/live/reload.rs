//! Dev mode: before a render, the connection follows the newest template generation
//! (`template/reload.rs`). A new generation means a full `render` frame with its statics; an
//! edit that does not build keeps the connection on its last good generation, and the client
//! gets one `error` frame (`render_failed`) with the build's message per distinct error.
//!
//! The file watcher (`dev/push.rs`) wakes open connections when files change: a re-render with
//! the new templates, or a `reload` frame.

use super::{Flow, Live};
use crate::conn::io::Transport;
use crate::dev::DevReload;
use crate::protocol::{ServerFrame, code};
use crate::socket::Info;
use crate::view::LiveView;

impl<V: LiveView, T: Transport> Live<V, T> {
    /// Handles the watcher's [`DevReload`]; any other message is handed back (for the view's
    /// `handle_info`). A failed send is noticed by the loop's next receive.
    pub(super) async fn on_dev_reload(&mut self, info: Info) -> Result<(), Info> {
        match info.downcast::<DevReload>()? {
            // The render follows the templates' current generation (`follow_templates`).
            DevReload::Render => self.mark_dirty(),
            DevReload::Page => {
                let _ = self.send(&ServerFrame::Reload).await;
            }
        }
        Ok(())
    }

    /// Switches to the templates' current generation if it changed; reports a failed reload
    /// once.
    pub(super) async fn follow_templates(&mut self) -> Flow {
        let current = self.app.templates.current();
        if current.generation.id() != self.templates.id()
            && let Some(compiled) = current.generation.engine().view(V::TEMPLATE)
        {
            self.templates = current.generation;
            self.compiled = compiled;
            // The statics changed: the next render is a full one.
            self.rendered.reset();
        }
        match current.error {
            Some(error) if self.template_error.as_ref() != Some(&error) => {
                let message =
                    format!("templates not reloaded (the page keeps the last good ones): {error}");
                self.template_error = Some(error);
                self.send_error(None, code::RENDER_FAILED, &message).await
            }
            Some(_) => Flow::Continue,
            None => {
                self.template_error = None;
                Flow::Continue
            }
        }
    }
}
