//! What readers get: one [`PresenceRecord`] per user, one [`Cursor`] per user.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::anchor::CursorAnchor;
use crate::clock::Timestamp;
use crate::meta::Meta;

/// One user present on a key, however many connections (tabs) they have there.
///
/// Serializes as `{"id", "joined_at", "connections", "meta": {..}, ..meta keys}`: the meta keys are also
/// flattened next to the record's own fields, so a template can write `p.name` (as the spec does) or
/// `p.meta.name`. Meta may not use the record's own field names, so the two never clash.
///
/// ```
/// # use djust_presence::{ConnId, Presence, PresenceConfig};
/// let presence = Presence::new(PresenceConfig::default()).unwrap();
/// presence.track("doc:1", ConnId::random(), "u1", serde_json::json!({"name": "Alice"})).unwrap();
/// let p = &presence.list("doc:1")[0];
/// assert_eq!(p.get_str("name"), Some("Alice"));
/// let json = serde_json::to_value(p).unwrap();
/// assert_eq!(json["name"], "Alice");
/// assert_eq!(json["meta"]["name"], "Alice");
/// assert_eq!(json["id"], "u1");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PresenceRecord {
    id: Arc<str>,
    joined_at: Timestamp,
    connections: usize,
    meta: Arc<Meta>,
}

impl PresenceRecord {
    pub(crate) fn new(
        id: Arc<str>,
        joined_at: Timestamp,
        connections: usize,
        meta: Arc<Meta>,
    ) -> Self {
        Self {
            id,
            joined_at,
            connections,
            meta,
        }
    }

    /// The user id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The user id, shared.
    pub fn id_arc(&self) -> &Arc<str> {
        &self.id
    }

    /// When the user's current, uninterrupted presence on the key began (their earliest connection).
    pub fn joined_at(&self) -> Timestamp {
        self.joined_at
    }

    /// How many connections (tabs) the user has on the key, including connections within their
    /// reconnect grace.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// The user's meta: that of their most recently tracked or updated connection.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The user's meta, shared.
    pub fn meta_arc(&self) -> &Arc<Meta> {
        &self.meta
    }

    /// One meta value (`record.get("color")`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.meta.get(key)
    }

    /// One meta value that is a string (`record.get_str("name")`).
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.meta.get(key).and_then(Value::as_str)
    }
}

impl Serialize for PresenceRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4 + self.meta.len()))?;
        map.serialize_entry("id", &*self.id)?;
        map.serialize_entry("joined_at", &self.joined_at)?;
        map.serialize_entry("connections", &self.connections)?;
        map.serialize_entry("meta", &*self.meta)?;
        for (k, v) in self.meta.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A user's live cursor on a key: the latest position and the user's current presence meta (so a
/// template can write `cursor.meta.color`).
///
/// Serializes as `{"x", "y", "meta"}` (plus `"anchor"` when it has one); a whole-number coordinate serializes as an integer (`150`, not
/// `150.0`) so it drops straight into `left: {{ cursor.x }}px`.
///
/// Two cursors are equal when position, meta and anchor are: [`Cursor::last_active`] is this
/// process's ordering of moves, which replicas need not share.
#[derive(Clone, Debug)]
pub struct Cursor {
    x: f64,
    y: f64,
    meta: Arc<Meta>,
    anchor: Option<Arc<CursorAnchor>>,
    /// The key's move counter when this position was set: higher is more recent.
    active: u64,
    /// In a move event: the cursor is not in the key's listing for live views (above
    /// `cursor_limit`), so no page shows it.
    culled: bool,
}

impl PartialEq for Cursor {
    fn eq(&self, other: &Self) -> bool {
        self.x == other.x
            && self.y == other.y
            && self.meta == other.meta
            && self.anchor == other.anchor
    }
}

/// Every cursor of a key in listing order, as [`crate::Presence::cursors_shared`] hands it out.
pub type SharedCursors = Arc<[(Arc<str>, Cursor)]>;

impl Cursor {
    pub(crate) fn new(x: f64, y: f64, meta: Arc<Meta>) -> Self {
        Self {
            x,
            y,
            meta,
            anchor: None,
            active: 0,
            culled: false,
        }
    }

    pub(crate) fn with_culled(mut self, culled: bool) -> Self {
        self.culled = culled;
        self
    }

    /// In a [`CursorMoved`](crate::EventKind::CursorMoved) event: whether the moved cursor is
    /// left out of the key's listing for live views
    /// ([`Presence::cursors_shared`](crate::Presence::cursors_shared), above
    /// [`cursor_limit`](crate::PresenceConfig::cursor_limit)). No page shows it, so a live view
    /// need not re-render for this move. Always false in listings.
    pub fn is_culled(&self) -> bool {
        self.culled
    }

    pub(crate) fn with_anchor(mut self, anchor: Option<Arc<CursorAnchor>>, active: u64) -> Self {
        self.anchor = anchor;
        self.active = active;
        self
    }

    /// Where the cursor points in the page's content, if the client sent an anchor (peers
    /// resolve it on their own layout and fall back to `x`/`y`).
    pub fn anchor(&self) -> Option<&Arc<CursorAnchor>> {
        self.anchor.as_ref()
    }

    /// How recently the cursor moved, as an ordinal within its key (greater is more recent);
    /// the order [`PresenceConfig::cursor_limit`](crate::PresenceConfig::cursor_limit) keeps.
    pub fn last_active(&self) -> u64 {
        self.active
    }

    /// Horizontal position, as sent by the client.
    pub fn x(&self) -> f64 {
        self.x
    }

    /// Vertical position, as sent by the client.
    pub fn y(&self) -> f64 {
        self.y
    }

    /// The cursor owner's current presence meta.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The shared meta itself: pointer-equal while the meta is unchanged (for caches).
    pub fn meta_arc(&self) -> &Arc<Meta> {
        &self.meta
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3 + usize::from(self.anchor.is_some())))?;
        map.serialize_entry("x", &Coordinate(self.x))?;
        map.serialize_entry("y", &Coordinate(self.y))?;
        map.serialize_entry("meta", &*self.meta)?;
        if let Some(anchor) = &self.anchor {
            map.serialize_entry("anchor", &**anchor)?;
        }
        map.end()
    }
}

/// A coordinate that serializes whole numbers as integers.
struct Coordinate(f64);

impl Serialize for Coordinate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Within ±2^53 every integer is exact in an f64, so the cast below loses nothing.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        let v = self.0;
        if v.fract() == 0.0 && v.abs() <= EXACT {
            serializer.serialize_i64(v as i64)
        } else {
            serializer.serialize_f64(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(value: Value) -> Arc<Meta> {
        match value {
            Value::Object(map) => Arc::new(map),
            _ => unreachable!("test meta is an object"),
        }
    }

    #[test]
    fn record_flattens_meta_and_keeps_it_nested() {
        let r = PresenceRecord::new(
            "u1".into(),
            Timestamp::from_millis(5),
            2,
            meta(json!({"name": "Alice", "color": "#f00"})),
        );
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({
                "id": "u1", "joined_at": 5, "connections": 2,
                "meta": {"name": "Alice", "color": "#f00"},
                "name": "Alice", "color": "#f00"
            })
        );
        assert_eq!(r.get("color"), Some(&json!("#f00")));
        assert_eq!(r.get_str("missing"), None);
    }

    #[test]
    fn cursor_serializes_whole_numbers_as_integers() {
        let c = Cursor::new(150.0, 20.5, meta(json!({"color": "#0f0"})));
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"x\":150,"), "{json}");
        assert!(json.contains("\"y\":20.5"), "{json}");
        assert_eq!(serde_json::to_value(&c).unwrap()["meta"]["color"], "#0f0");
        let negative = serde_json::to_value(Cursor::new(-3.0, 1e300, meta(json!({})))).unwrap();
        assert_eq!(negative["x"], json!(-3));
        assert_eq!(negative["y"], json!(1e300));
    }
}
