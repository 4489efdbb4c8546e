//! [`Cursors`]: the other users' cursors, as `get_cursors()` returns them.

use std::sync::Arc;

use djust_presence::Cursor;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Other users' cursors on the view's presence key, in the presence list's order.
///
/// Serializes as a map `user_id → {"x", "y", "meta"}` (the spec's shape), so a template
/// iterates it with `{% for user_id, cursor in cursors.items %}` and reads
/// `{{ cursor.meta.color }}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cursors(Vec<(Arc<str>, Cursor)>);

impl Cursors {
    pub(crate) fn new(cursors: Vec<(Arc<str>, Cursor)>) -> Self {
        Self(cursors)
    }

    /// The cursor of `user_id`, if that user has one.
    pub fn get(&self, user_id: &str) -> Option<&Cursor> {
        self.0
            .iter()
            .find(|(id, _)| &**id == user_id)
            .map(|(_, c)| c)
    }

    /// `(user_id, cursor)` pairs.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Cursor)> {
        self.0.iter().map(|(id, c)| (&**id, c))
    }

    /// Number of cursors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no other user has a cursor.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Cursors {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (id, cursor) in &self.0 {
            map.serialize_entry(&**id, cursor)?;
        }
        map.end()
    }
}
