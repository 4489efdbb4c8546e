//! [`Cursors`]: the other users' cursors, as `get_cursors()` returns them.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use djust_presence::{Cursor, SharedCursors};
use serde::ser::{Serialize, Serializer};

/// Other users' cursors on the view's presence key, in the presence list's order.
///
/// Serializes as a map `user_id → {"x", "y", "meta"}` (the spec's shape), so a template
/// iterates it with `{% for user_id, cursor in cursors.items %}` and reads
/// `{{ cursor.meta.color }}`.
///
/// The template value is built once per cursor position and shared by every viewer
/// (`presence/shared.rs`).
#[derive(Debug, Clone)]
pub struct Cursors {
    /// Every cursor of the key (the engine's shared snapshot).
    all: SharedCursors,
    /// The viewer's own user, left out.
    except: Arc<str>,
    value: minijinja::Value,
}

impl Default for Cursors {
    fn default() -> Self {
        Self {
            all: Arc::from(Vec::new()),
            except: Arc::from(""),
            value: djust_render::map_from_values_fingerprinted(Vec::new()),
        }
    }
}

impl PartialEq for Cursors {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Cursors {
    pub(crate) fn new(key: &str, all: SharedCursors, except: &str) -> Self {
        let map = super::shared::cursor_map_value(key, &all);
        let value = djust_render::ExceptMap::new_value(map, except);
        Self {
            all,
            except: Arc::from(except),
            value,
        }
    }

    /// The cursor of `user_id`, if that user has one.
    pub fn get(&self, user_id: &str) -> Option<&Cursor> {
        self.iter().find(|(id, _)| *id == user_id).map(|(_, c)| c)
    }

    /// `(user_id, cursor)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Cursor)> {
        self.all
            .iter()
            .filter(|(id, _)| **id != *self.except)
            .map(|(id, c)| (&**id, c))
    }

    /// Number of cursors.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when no other user has a cursor.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Serialize for Cursors {
    /// As a map `user_id → {"x", "y", "meta", "dom_id"}`. Into a template context the shared
    /// value passes through as it is (minijinja keeps values identical through serde).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

/// What the client sends besides `x`/`y` in a cursor event's `_cursor` field (the reference
/// client's pointer-based `dj-mousemove`): an anchor, or `hidden` when the pointer left the area.
/// The runtime takes it out of the payload before the handler sees it and hands it to the
/// handler's `update_cursor_position` (docs/protocol.md, *Cursor anchors*).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CursorExtras {
    /// The pointer left the cursor area (or the finger was lifted).
    #[serde(default)]
    pub(crate) hidden: bool,
    /// Where the pointer is in the page's content.
    #[serde(default)]
    pub(crate) anchor: Option<djust_presence::CursorAnchor>,
}

impl CursorExtras {
    /// The payload key the extras travel under.
    pub(crate) const FIELD: &'static str = "_cursor";

    /// Decodes the payload's `_cursor` value.
    ///
    /// # Errors
    /// Not an object of that shape, or a bad anchor: the message says what to send.
    pub(crate) fn decode(value: serde_json::Value) -> Result<Self, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

/// A coordinate as an integer when it is one (the usual case: pixels), else as a float —
/// the same rule as the engine's own cursor serialization, so `{{ cursor.x }}` prints `120`.
pub(crate) struct Coord(pub(crate) f64);

impl Serialize for Coord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        // Integers up to 2^53 are exact in an f64.
        #[allow(clippy::cast_possible_truncation)]
        if v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

/// The id a template puts in `dj-cursor="{{ cursor.dom_id }}"` to enable the cursor fast path
/// (moves sent as `[dom_id, x, y]` without a render).
///
/// A keyed hash of the user id, stable for the life of this process (a client gets its renders
/// and its cursor moves from the same process), so pages never have to show user ids — an
/// anonymous user's id contains their session key.
pub(crate) fn dom_id(user_id: &str) -> String {
    format_dom_id(dom_hash(user_id))
}

/// The number behind [`dom_id`] (the connection loop keys its cursor state by it, so a move
/// costs no allocation).
pub(crate) fn dom_hash(user_id: &str) -> u64 {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new).hash_one(user_id)
}

/// `c` + 16 hex digits.
pub(crate) fn format_dom_id(hash: u64) -> String {
    DomIdBuf::new(hash).as_str().to_owned()
}

/// [`format_dom_id`] on the stack (the cursor fast path writes one per move).
pub(crate) struct DomIdBuf([u8; 17]);

impl DomIdBuf {
    pub(crate) fn new(hash: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut b = [b'c'; 17];
        for (i, slot) in b[1..].iter_mut().enumerate() {
            *slot = HEX[((hash >> (60 - 4 * i)) & 0xf) as usize];
        }
        Self(b)
    }

    pub(crate) fn as_str(&self) -> &str {
        // ASCII only: `c` and hex digits.
        std::str::from_utf8(&self.0).unwrap_or("c")
    }
}

/// The inverse of [`format_dom_id`]; `None` for anything else a template put in `dj-cursor`.
pub(crate) fn parse_dom_id(id: &str) -> Option<u64> {
    let hex = id.strip_prefix('c')?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}
