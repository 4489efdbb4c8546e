//! Presence tracking and live cursors for djust: who is on which page, with which meta, where their
//! cursor is, and the join / leave / update events between.
//!
//! ```
//! use djust_presence::{ConnId, EventKind, Presence, PresenceConfig, UntrackReason};
//! use serde_json::json;
//!
//! let presence = Presence::new(PresenceConfig::default()).unwrap();
//! let key = djust_presence::key::resolve("document:{doc_id}", &json!({"doc_id": 42})).unwrap();
//!
//! // Alice opens the document in two tabs; Bob watches the key.
//! let mut bob = presence.subscribe(&key);
//! let (tab1, tab2) = (ConnId::random(), ConnId::random());
//! presence.track(&key, tab1, "alice", json!({"name": "Alice", "color": "#ff6b6b"})).unwrap();
//! presence.track(&key, tab2, "alice", json!({"name": "Alice", "color": "#ff6b6b"})).unwrap();
//!
//! // One user, two connections, one join.
//! let list = presence.list(&key);
//! assert_eq!(list.len(), 1);
//! assert_eq!((list[0].id(), list[0].connections()), ("alice", 2));
//! assert!(matches!(&bob.try_recv().unwrap().kind, EventKind::Join(p) if p.id() == "alice"));
//! assert!(bob.try_recv().is_err());
//!
//! // Cursors are per user and latest-wins by the connection's sequence number.
//! assert_eq!(presence.update_cursor(&key, tab1, 1, 150.0, 300.0), Ok(true));
//! assert_eq!(presence.update_cursor(&key, tab1, 0, 0.0, 0.0), Ok(false)); // stale
//! assert_eq!(presence.cursors(&key)[0].1.x(), 150.0);
//!
//! // Closing one tab is not a leave; closing the last one is.
//! presence.untrack(&key, tab1, UntrackReason::Clean);
//! assert_eq!(presence.count(&key), 1);
//! presence.untrack(&key, tab2, UntrackReason::Clean);
//! assert_eq!(presence.count(&key), 0);
//! ```
//!
//! Design, after Phoenix's tracker: a pure state module (`state`, no locks, no IO, time passed in) takes
//! connection-level [`ConnChange`]s and emits user-level [`PresenceEvent`]s; [`Presence`] is the
//! synchronous handle that drives it under one mutex and fans events out to [`Subscription`]s; a small
//! [`PresenceBackend`] trait is the seam where a multi-process backend plugs in ([`MemoryBackend`] is the
//! embedded default); every timeout is read from an injectable [`Clock`]. The semantics, including the
//! choices made where the spec is silent, are described in `docs/presence.md`.

#![warn(missing_docs)]

mod anchor;
mod backend;
mod builder;
mod change;
mod clock;
mod config;
mod error;
mod event;
mod ids;
pub mod key;
mod memory;
mod meta;
mod presence;
mod record;
mod replication;
mod state;
mod subscription;
mod sweeper;

pub use anchor::{
    AnchorError, AnchorPoint, AnchorTarget, CursorAnchor, MAX_ANCHOR_INDEX, MAX_ANCHOR_NAME_BYTES,
    MAX_ANCHOR_OFFSET,
};
pub use backend::PresenceBackend;
pub use builder::PresenceBuilder;
pub use change::{ConnChange, MetaStamp, UntrackReason};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp, TokioClock};
pub use config::PresenceConfig;
pub use error::{ConfigError, KeyError, PresenceError};
pub use event::{EventKind, PresenceEvent};
pub use ids::{ConnId, NodeId, ParseIdError};
pub use key::KeyTemplate;
pub use memory::MemoryBackend;
pub use meta::{Meta, RESERVED_META_KEYS, check_meta};
pub use presence::{Heartbeat, Presence, PresenceStats, SweepReport, WeakPresence};
pub use record::{Cursor, PresenceRecord, SharedCursors};
pub use subscription::{RecvError, Snapshot, Subscription, TryRecvError};
pub use sweeper::SweeperHandle;
