//! The table of mounted live views: path pattern → type-erased view entry.
//!
//! The same table serves the page GET (to find the path parameters) and the WebSocket `mount`
//! frame (to find which view type to run), so both see identical parameters.

use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use percent_encoding::percent_decode_str;

use crate::app::App;
use crate::conn::{ConnInit, MountTarget, Transport};
use crate::error::BuildError;
use crate::params::Params;
use crate::view::LiveView;

/// Runs the connection of one view type, erased so the route table can hold many types.
pub(crate) trait ServeView<T: Transport>: Send + Sync {
    fn serve(
        &self,
        io: T,
        app: Arc<App>,
        init: ConnInit,
        target: MountTarget,
    ) -> BoxFuture<'static, ()>;
}

/// The [`ServeView`] of view type `V`.
pub(crate) struct ViewEntry<V>(PhantomData<fn() -> V>);

impl<V> ViewEntry<V> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<V: LiveView, T: Transport> ServeView<T> for ViewEntry<V> {
    fn serve(
        &self,
        io: T,
        app: Arc<App>,
        init: ConnInit,
        target: MountTarget,
    ) -> BoxFuture<'static, ()> {
        // The future itself, not wrapped in another async block: a wrapper would hold it twice
        // (as the captured value and as the awaited one).
        Box::pin(crate::conn::live::run_view::<V, T>(io, app, init, target))
    }
}

/// Path pattern → view entry.
pub(crate) struct Routes<T> {
    router: matchit::Router<Arc<dyn ServeView<T>>>,
}

impl<T: Transport> Routes<T> {
    pub(crate) fn new() -> Self {
        Self {
            router: matchit::Router::new(),
        }
    }

    /// Mounts `entry` at `pattern` (axum syntax: `/doc/{doc_id}`).
    pub(crate) fn insert(
        &mut self,
        pattern: &str,
        entry: Arc<dyn ServeView<T>>,
    ) -> Result<(), BuildError> {
        if !pattern.starts_with('/') {
            return Err(BuildError::Route {
                path: pattern.to_owned(),
                reason: "the path must start with '/'".to_owned(),
            });
        }
        if pattern == "/djust" || pattern.starts_with("/djust/") {
            return Err(BuildError::Route {
                path: pattern.to_owned(),
                reason: "paths under /djust/ are reserved for the runtime".to_owned(),
            });
        }
        self.router
            .insert(pattern, entry)
            .map_err(|e| BuildError::Route {
                path: pattern.to_owned(),
                reason: e.to_string(),
            })
    }

    /// The view at `path` and its (percent-decoded) path parameters.
    pub(crate) fn lookup(&self, path: &str) -> Option<(Arc<dyn ServeView<T>>, Params)> {
        let found = self.router.at(path).ok()?;
        let mut pairs = Vec::new();
        for (name, raw) in found.params.iter() {
            let value = percent_decode_str(raw).decode_utf8().ok()?;
            pairs.push((name.to_owned(), value.into_owned()));
        }
        Some((found.value.clone(), Params::new(pairs)))
    }
}
