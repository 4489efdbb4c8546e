//! The WebSocket wire protocol: JSON text frames tagged by `"t"` (documented with examples in
//! `docs/protocol.md`).

use std::sync::Arc;

use djust_presence::CursorAnchor;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::socket::PushEvent;

/// The protocol version a client sends in its `mount` frame.
pub const PROTOCOL_VERSION: u32 = 2;

/// Frames the client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum ClientFrame {
    Mount {
        v: u32,
        path: String,
        #[serde(default)]
        query: String,
        #[serde(default, rename = "ref")]
        reference: Option<Value>,
    },
    Event {
        #[serde(default, rename = "ref")]
        reference: Option<Value>,
        name: String,
        #[serde(default)]
        payload: Value,
        #[serde(default)]
        coalesce: bool,
        /// The event's sequence id among its client's events (`crate::replay`).
        #[serde(default)]
        seq: Option<u64>,
        /// The client (page) that numbered the event.
        #[serde(default)]
        client: Option<String>,
    },
    Heartbeat {
        #[serde(default, rename = "ref")]
        reference: Option<Value>,
    },
    Resync {
        #[serde(default)]
        ver: Option<u64>,
    },
    /// Shared text: the client's state vector (see [`TextClientFrame::Sync`]).
    TextSync { field: String, sv: String },
    /// Shared text: a local edit (see [`TextClientFrame::Update`]).
    TextUpdate {
        field: String,
        id: Value,
        update: String,
    },
    /// Shared text: the client's caret and selection (see [`TextClientFrame::Caret`]).
    TextCaret {
        field: String,
        anchor: String,
        head: String,
    },
}

impl ClientFrame {
    /// The frame as a shared-text frame, if it is one (kept in the one tagged enum so that an
    /// unknown `"t"` gets serde's "unknown variant …, expected one of …" message).
    pub(crate) fn into_text(self) -> Option<TextClientFrame> {
        match self {
            Self::TextSync { field, sv } => Some(TextClientFrame::Sync { field, sv }),
            Self::TextUpdate { field, id, update } => {
                Some(TextClientFrame::Update { field, id, update })
            }
            Self::TextCaret {
                field,
                anchor,
                head,
            } => Some(TextClientFrame::Caret {
                field,
                anchor,
                head,
            }),
            _ => None,
        }
    }
}

/// The client's shared-text frames (`docs/protocol.md`, *Shared text*). Binary values are
/// base64 (standard alphabet, padded) in JSON strings.
#[derive(Debug)]
pub(crate) enum TextClientFrame {
    /// The client's state vector: answered with what it misses and the server's state vector.
    Sync { field: String, sv: String },
    /// A local edit (a Yjs update); acknowledged with `text_ack` carrying `id` once durable.
    Update {
        field: String,
        id: Value,
        update: String,
    },
    /// The client's caret (`head`) and selection (`anchor`..`head`), encoded Yjs relative
    /// positions in base64; shown to the other connections of the document.
    Caret {
        field: String,
        anchor: String,
        head: String,
    },
}

/// Frames the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum ServerFrame<'a> {
    Mounted {
        v: u32,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
        ver: u64,
        /// The rendered tree (`docs/protocol.md`, *Rendered trees*).
        rendered: &'a Value,
        #[serde(skip_serializing_if = "Map::is_empty")]
        statics: &'a Map<String, Value>,
        conn: String,
        heartbeat_ms: u64,
        max_frame_bytes: usize,
    },
    Patch {
        ver: u64,
        /// The root block's diff.
        diff: &'a Map<String, Value>,
        #[serde(skip_serializing_if = "Map::is_empty")]
        statics: &'a Map<String, Value>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        events: &'a [PushEvent],
        /// Cursor moves to apply after the ops (see [`CursorMove`]).
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        cursors: &'a [CursorMove],
    },
    /// The cursor fast path: moves of cursors the client already shows, without a render.
    Cursors {
        cursors: &'a [CursorMove],
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        events: &'a [PushEvent],
    },
    Push {
        events: &'a [PushEvent],
    },
    Render {
        ver: u64,
        rendered: &'a Value,
        #[serde(skip_serializing_if = "Map::is_empty")]
        statics: &'a Map<String, Value>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        events: &'a [PushEvent],
    },
    Heartbeat {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
    },
    /// Every event of `client` up to `seq` was handled (or refused) here: the client forgets
    /// them (`crate::replay`).
    Ack {
        client: &'a str,
        seq: u64,
    },
    Error {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
        code: &'a str,
        message: &'a str,
    },
    /// The answer to the client's `text_sync`: what it misses, and the server's state vector.
    TextSync {
        field: &'a str,
        update: String,
        sv: String,
    },
    /// Another connection's edit of a shared text (or, after a lag, the whole document).
    TextUpdate {
        field: &'a str,
        update: String,
    },
    /// The client's updates with these ids are applied and durable.
    TextAck {
        field: &'a str,
        ids: &'a [Value],
    },
    /// Every other connection's caret (the client's whole set: after `text_sync`, and after
    /// the connection fell behind on caret changes).
    TextCarets {
        field: &'a str,
        carets: Vec<CaretOut<'a>>,
    },
    /// Another connection's caret moved (`anchor` and `head` set) or left (both absent).
    TextCaret {
        field: &'a str,
        peer: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        color: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        anchor: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        head: Option<&'a str>,
    },
    /// A shared-text frame was refused; the document is unchanged.
    TextError {
        field: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a Value>,
        code: &'a str,
        message: &'a str,
    },
    /// Dev mode: a file outside the view's render changed (the layout, a client or static
    /// file); the page reloads itself.
    Reload,
}

/// One caret of a `text_carets` frame.
#[derive(Debug, Serialize)]
pub(crate) struct CaretOut<'a> {
    pub(crate) peer: &'a str,
    pub(crate) name: &'a str,
    pub(crate) color: &'a str,
    pub(crate) anchor: &'a str,
    pub(crate) head: &'a str,
}

/// One cursor move of the fast path: the element `[dj-cursor="<id>"]` moves to `x`, `y`
/// (pixels in the cursor area), or to its anchor where the client resolves it. Serialized as
/// `["<id>", x, y]` or `["<id>", x, y, anchor]`, the id being
/// `crate::presence::format_dom_id(hash)`, written without an allocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CursorMove {
    pub(crate) hash: u64,
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) anchor: Option<Arc<CursorAnchor>>,
}

impl Serialize for CursorMove {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let id = crate::presence::DomIdBuf::new(self.hash);
        let mut t = s.serialize_tuple(3 + usize::from(self.anchor.is_some()))?;
        t.serialize_element(id.as_str())?;
        t.serialize_element(&crate::presence::Coord(self.x))?;
        t.serialize_element(&crate::presence::Coord(self.y))?;
        if let Some(anchor) = &self.anchor {
            t.serialize_element(&**anchor)?;
        }
        t.end()
    }
}

impl ServerFrame<'_> {
    /// The frame's `"t"` (the `kind` label of `djust_frames_out_total`).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Mounted { .. } => "mounted",
            Self::Patch { .. } => "patch",
            Self::Cursors { .. } => "cursors",
            Self::Push { .. } => "push",
            Self::Render { .. } => "render",
            Self::Heartbeat { .. } => "heartbeat",
            Self::Ack { .. } => "ack",
            Self::Error { .. } => "error",
            Self::TextSync { .. } => "text_sync",
            Self::TextUpdate { .. } => "text_update",
            Self::TextAck { .. } => "text_ack",
            Self::TextCaret { .. } => "text_caret",
            Self::TextCarets { .. } => "text_carets",
            Self::TextError { .. } => "text_error",
            Self::Reload => "reload",
        }
    }

    /// The frame as JSON text.
    pub(crate) fn to_json(&self) -> String {
        // Serializing these types cannot fail: every field is a plain value or a `Value`.
        serde_json::to_string(self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "djust: failed to serialize a server frame");
            String::from(
                r#"{"t":"error","code":"internal","message":"frame serialization failed"}"#,
            )
        })
    }
}

/// Error codes of `error` frames (see `docs/protocol.md`).
pub(crate) mod code {
    pub(crate) const BAD_JSON: &str = "bad_json";
    pub(crate) const BINARY_UNSUPPORTED: &str = "binary_unsupported";
    pub(crate) const FRAME_TOO_LARGE: &str = "frame_too_large";
    pub(crate) const UNSUPPORTED_VERSION: &str = "unsupported_version";
    pub(crate) const NOT_MOUNTED: &str = "not_mounted";
    pub(crate) const ALREADY_MOUNTED: &str = "already_mounted";
    pub(crate) const NOT_FOUND: &str = "not_found";
    pub(crate) const MOUNT_FAILED: &str = "mount_failed";
    pub(crate) const RENDER_FAILED: &str = "render_failed";
    pub(crate) const RATE_LIMITED: &str = "rate_limited";
    pub(crate) const FORBIDDEN: &str = "forbidden";
    /// A shared-text frame names a field the view did not declare.
    pub(crate) const TEXT_UNKNOWN_FIELD: &str = "text_unknown_field";
    /// A shared-text frame's base64 is invalid.
    pub(crate) const TEXT_BAD_UPDATE: &str = "text_bad_update";
    /// A `text_caret` frame's positions are not base64 or too long.
    pub(crate) const TEXT_BAD_CARET: &str = "text_bad_caret";
}

/// WebSocket close codes the server uses.
pub(crate) mod close {
    /// Idle timeout (no frame for `idle_timeout`): the client may reconnect.
    pub(crate) const GOING_AWAY: u16 = 1001;
    /// A malformed WebSocket frame (bad control frame, reserved bits, unknown opcode).
    pub(crate) const PROTOCOL_ERROR: u16 = 1002;
    /// A text frame that is not valid UTF-8.
    pub(crate) const INVALID_DATA: u16 = 1007;
    /// The client did not read a frame within `send_timeout`.
    pub(crate) const POLICY: u16 = 1008;
    /// A frame larger than `max_frame_bytes`.
    pub(crate) const TOO_BIG: u16 = 1009;
    /// Server-side disconnect or shutdown ("service restart"): the client reconnects and
    /// remounts.
    pub(crate) const SERVER_CLOSE: u16 = 1012;
    /// The view refused this identity (`LiveView::authorize`): retrying won't help.
    pub(crate) const FORBIDDEN: u16 = 4403;
    /// Mount refused for a reason retrying won't fix (unknown path, bad params, bad version).
    pub(crate) const MOUNT_REFUSED: u16 = 4400;
    /// Mount or first render failed on the server: the client retries with backoff.
    pub(crate) const MOUNT_ERROR: u16 = 4500;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_frames_parse_with_optional_fields() {
        let f: ClientFrame =
            serde_json::from_value(json!({"t":"mount","v":1,"path":"/doc/1"})).unwrap();
        assert!(matches!(f, ClientFrame::Mount { v: 1, ref query, .. } if query.is_empty()));
        let f: ClientFrame = serde_json::from_value(
            json!({"t":"event","ref":3,"name":"cursor_move","payload":{"x":1},"coalesce":true}),
        )
        .unwrap();
        assert!(matches!(f, ClientFrame::Event { coalesce: true, .. }));
        assert!(serde_json::from_value::<ClientFrame>(json!({"t":"nope"})).is_err());
        let f: ClientFrame =
            serde_json::from_value(json!({"t":"text_sync","field":"content","sv":"AA=="})).unwrap();
        assert!(matches!(f, ClientFrame::TextSync { ref field, .. } if field == "content"));
        let f: ClientFrame = serde_json::from_value(
            json!({"t":"text_update","field":"content","id":3,"update":"AAA="}),
        )
        .unwrap();
        assert!(matches!(f, ClientFrame::TextUpdate { ref id, .. } if id == &json!(3)));
        // A text frame missing a field is still malformed.
        assert!(
            serde_json::from_value::<ClientFrame>(json!({"t":"text_update","field":"c"})).is_err()
        );
    }

    #[test]
    fn server_frames_serialize_compactly() {
        let r = json!(7);
        let f = ServerFrame::Error {
            reference: Some(&r),
            code: code::BAD_JSON,
            message: "m",
        };
        assert_eq!(
            f.to_json(),
            r#"{"t":"error","ref":7,"code":"bad_json","message":"m"}"#
        );
        let diff = Map::from_iter([("3".to_owned(), json!("x"))]);
        let f = ServerFrame::Patch {
            ver: 2,
            diff: &diff,
            statics: &Map::new(),
            events: &[],
            cursors: &[],
        };
        assert_eq!(f.to_json(), r#"{"t":"patch","ver":2,"diff":{"3":"x"}}"#);
        let moves = [
            CursorMove {
                hash: 7,
                x: 120.0,
                y: -3.0,
                anchor: None,
            },
            CursorMove {
                hash: u64::MAX,
                x: 1.5,
                y: 2.0,
                anchor: Some(Arc::new(
                    serde_json::from_value(json!({"n": "content", "i": 12, "dx": 2})).unwrap(),
                )),
            },
        ];
        let f = ServerFrame::Cursors {
            cursors: &moves,
            events: &[],
        };
        assert_eq!(
            f.to_json(),
            r#"{"t":"cursors","cursors":[["c0000000000000007",120,-3],["cffffffffffffffff",1.5,2,{"n":"content","i":12,"dx":2.0}]]}"#
        );
    }
}
