//! Typed errors. Every message says what was wrong and what to do about it.

use std::time::Duration;

use thiserror::Error;

use crate::ids::ConnId;

/// An error from a [`Presence`](crate::Presence) operation. The engine's state is unchanged whenever one
/// is returned.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PresenceError {
    /// Meta must be a JSON object (`{"name": "Alice"}`), so its keys can be read as `p.name`.
    #[error("presence meta must be a JSON object such as {{\"name\": \"Alice\"}}, got {found}")]
    MetaNotObject {
        /// The JSON type that was given instead (`"array"`, `"string"`, ...).
        found: &'static str,
    },
    /// Meta uses a key that the presence record itself defines.
    #[error(
        "presence meta key `{key}` is reserved (a presence record already has `id`, `joined_at`, \
         `connections` and `meta`); rename it, e.g. to `user_{key}`"
    )]
    ReservedMetaKey {
        /// The offending key.
        key: String,
    },
    /// Meta is larger than [`PresenceConfig::max_meta_bytes`](crate::PresenceConfig::max_meta_bytes).
    #[error(
        "presence meta is {size} bytes of JSON, over the limit of {limit} bytes; keep meta small \
         (names, colours, ids) or raise `max_meta_bytes`"
    )]
    MetaTooLarge {
        /// Size of the meta's compact JSON form, in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The connection has no live presence on the key (never tracked, untracked, or expired).
    #[error("connection {conn} is not tracked on presence key `{key}`; call `track` first")]
    NotTracked {
        /// The presence key.
        key: String,
        /// The connection.
        conn: ConnId,
    },
    /// A cursor coordinate was NaN or infinite.
    #[error("cursor coordinates must be finite numbers, got x={x}, y={y}")]
    NonFiniteCursor {
        /// The x coordinate given.
        x: f64,
        /// The y coordinate given.
        y: f64,
    },
    /// A presence key was empty.
    #[error("presence key is empty; use a key such as \"document:42\"")]
    EmptyKey,
    /// A live view used presence (list, broadcast, cursor) before it had a presence key.
    #[error(
        "this view has no presence key yet: call `track_presence` first, or set `PRESENCE_KEY` / \
         override `get_presence_key`"
    )]
    NoKey,
    /// A broadcast payload could not be serialized to JSON.
    #[error("broadcast payload could not be serialized to JSON: {0}")]
    Payload(String),
    /// A user id was empty.
    #[error("presence user id is empty; every tracked connection needs the id of its user")]
    EmptyUserId,
    /// A key template could not be filled.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The configuration is inconsistent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// [`Presence::spawn_sweeper`](crate::Presence::spawn_sweeper) was called outside a Tokio runtime.
    #[error("the presence sweeper needs a Tokio runtime; call `spawn_sweeper` from inside one")]
    NoRuntime,
}

/// An error filling a presence key template such as `"document:{doc_id}"`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The template names a field the value does not have.
    #[error(
        "presence key template `{template}` needs field `{field}`, which the view does not have; \
         add the field or change the template"
    )]
    MissingField {
        /// The missing field (a dotted path for nested fields).
        field: String,
        /// The template.
        template: String,
    },
    /// The field exists but is `null` (an unset `Option`), which would give a key such as `document:null`.
    #[error(
        "presence key template `{template}` needs field `{field}`, which is null; set it before \
         tracking presence"
    )]
    NullField {
        /// The field.
        field: String,
        /// The template.
        template: String,
    },
    /// The field is an object or an array, which has no natural text form.
    #[error(
        "presence key template `{template}` uses field `{field}`, which is {found}; only strings, \
         numbers and booleans can be placed in a key"
    )]
    NotScalar {
        /// The field.
        field: String,
        /// The template.
        template: String,
        /// `"an object"` or `"an array"`.
        found: &'static str,
    },
    /// The template itself is malformed (an unclosed `{`, a stray `}`, an empty `{}`).
    #[error("presence key template `{template}` is malformed at byte {position}: {problem}")]
    Malformed {
        /// The template.
        template: String,
        /// Byte offset of the problem.
        position: usize,
        /// What is wrong there.
        problem: &'static str,
    },
    /// The value holding the fields did not serialize to a JSON object (a struct or a map).
    #[error("presence key fields must serialize to an object (a struct or a map), got {found}")]
    FieldsNotObject {
        /// The JSON type that was given instead.
        found: &'static str,
    },
    /// The value holding the fields failed to serialize.
    #[error("presence key fields failed to serialize: {0}")]
    Serialize(String),
}

/// An inconsistent [`PresenceConfig`](crate::PresenceConfig).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `presence_timeout` must be longer than `heartbeat_interval`.
    #[error(
        "presence_timeout ({timeout:?}) must be longer than heartbeat_interval ({heartbeat:?}), \
         or a connection is dropped between two heartbeats; twice the interval is usual"
    )]
    TimeoutNotAboveHeartbeat {
        /// The configured timeout.
        timeout: Duration,
        /// The configured heartbeat interval.
        heartbeat: Duration,
    },
    /// The sweeper would run less often than connections time out.
    #[error(
        "sweep_interval ({sweep:?}) must not exceed presence_timeout ({timeout:?}), or expired \
         connections linger for more than a whole timeout"
    )]
    SweepSlowerThanTimeout {
        /// The configured sweep interval.
        sweep: Duration,
        /// The configured timeout.
        timeout: Duration,
    },
    /// A duration that must be positive is zero.
    #[error("{field} must be greater than zero")]
    ZeroDuration {
        /// The field's name.
        field: &'static str,
    },
    /// `max_meta_bytes` is zero, which would reject every meta (even `{}`).
    #[error("max_meta_bytes must be greater than zero (4096 is the default)")]
    ZeroMetaLimit,
    /// `subscriber_queue` is zero, which would drop every event.
    #[error("subscriber_queue must be greater than zero (1024 is the default)")]
    ZeroSubscriberQueue,
    /// `cursor_limit` is zero, which would show no cursor at all.
    #[error("cursor_limit must be greater than zero (200 is the default)")]
    ZeroCursorLimit,
}

/// The JSON type of a value, for error messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
