//! [`PresenceBuilder`]: an engine with a chosen clock, backend or node id.

use std::sync::Arc;

use crate::backend::PresenceBackend;
use crate::clock::{Clock, SystemClock};
use crate::config::PresenceConfig;
use crate::error::PresenceError;
use crate::ids::NodeId;
use crate::memory::MemoryBackend;
use crate::presence::Presence;

/// Builds a [`Presence`]. Everything is optional: the defaults are [`PresenceConfig::default()`], the
/// [`SystemClock`], the [`MemoryBackend`] and a random [`NodeId`].
///
/// ```
/// use std::sync::Arc;
/// use djust_presence::{ManualClock, Presence, PresenceConfig};
///
/// let clock = ManualClock::default();
/// let presence = Presence::builder()
///     .config(PresenceConfig::default())
///     .clock(Arc::new(clock.clone()))
///     .build()
///     .unwrap();
/// assert_eq!(presence.backend_name(), "memory");
/// ```
#[derive(Debug, Default)]
#[must_use = "call `build()` to get the engine"]
pub struct PresenceBuilder {
    config: PresenceConfig,
    clock: Option<Arc<dyn Clock>>,
    backend: Option<Arc<dyn PresenceBackend>>,
    node: Option<NodeId>,
}

impl PresenceBuilder {
    /// The engine's settings (checked by [`build`](Self::build)).
    pub fn config(mut self, config: PresenceConfig) -> Self {
        self.config = config;
        self
    }

    /// The clock every timeout is measured with.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The backend local changes are published to.
    pub fn backend(mut self, backend: Arc<dyn PresenceBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// This process's node id (random by default; set it to keep one id across restarts of a backend
    /// connection, or in tests).
    pub fn node_id(mut self, node: NodeId) -> Self {
        self.node = Some(node);
        self
    }

    /// Checks the settings and builds the engine.
    pub fn build(self) -> Result<Presence, PresenceError> {
        self.config.validate()?;
        Ok(Presence::from_parts(
            self.config,
            self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            self.backend.unwrap_or_else(|| Arc::new(MemoryBackend)),
            self.node.unwrap_or_else(NodeId::random),
        ))
    }
}
