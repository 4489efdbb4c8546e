//! The dev-mode tests' view (`tests/dev.rs`, `tests/browser_dev.rs`): a counter on the
//! template `page.html`, which the tests edit on disk.

use djust::{Context, LiveView, MountRequest, Socket, ViewError};

/// A page of the template `page.html`, with a counter (`inc`).
#[derive(serde::Serialize)]
pub struct Page {
    n: i64,
}

impl LiveView for Page {
    const TEMPLATE: &'static str = "page.html";
    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Page { n: 0 })
    }
    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("n", &self.n)?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl Page {
    #[event_handler]
    fn inc(&mut self) -> Result<(), ViewError> {
        self.n += 1;
        Ok(())
    }
}
