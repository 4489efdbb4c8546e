//! Names of everything the backend keeps in Redis, all under one prefix.
//!
//! - `{prefix}:nodes` — a sorted set: every live process's node id, scored by its last heartbeat in
//!   milliseconds of Redis's own clock (`TIME`), so the processes' clocks never matter.
//! - `{prefix}:node:{node id}` — a hash per process: its connections (see `mirror`), plus `~epoch` (a random
//!   number chosen each time the process registers) and `~seq` (the number of its last message).
//! - `{prefix}:events` — the one pub/sub channel every process publishes and listens on.

use djust_presence::NodeId;

/// The Redis key and channel names for one prefix.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    /// The liveness sorted set.
    pub nodes: String,
    /// The pub/sub channel.
    pub channel: String,
    /// `{prefix}:node:`, to which a node id is appended.
    pub node_prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            nodes: format!("{prefix}:nodes"),
            channel: format!("{prefix}:events"),
            node_prefix: format!("{prefix}:node:"),
        }
    }

    /// The hash holding `node`'s connections.
    pub(crate) fn node(&self, node: NodeId) -> String {
        format!("{}{node}", self.node_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_under_the_prefix() {
        let keys = Keys::new("app");
        assert_eq!(keys.nodes, "app:nodes");
        assert_eq!(keys.channel, "app:events");
        assert_eq!(
            keys.node(NodeId::from_u128(255)),
            format!("app:node:{:032x}", 255)
        );
    }
}
