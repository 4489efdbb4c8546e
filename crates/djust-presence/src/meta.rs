//! Presence meta: the JSON object a connection shares with its peers (`{"name": "Alice", "color": ...}`).

use std::io;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{PresenceError, json_kind};

/// A validated presence meta object. Shared by `Arc` between the engine's state, records and events, so
/// listing presences or fanning out an event never copies it.
pub type Meta = serde_json::Map<String, Value>;

/// Keys a meta object may not use, because a [`PresenceRecord`](crate::PresenceRecord) flattens meta next to
/// its own fields (`p.name` and `p.id` must never be ambiguous).
pub const RESERVED_META_KEYS: [&str; 4] = ["id", "joined_at", "connections", "meta"];

/// Checks `value` as meta: a JSON object, no reserved key, at most `max_bytes` of compact JSON.
pub(crate) fn validate_meta(value: Value, max_bytes: usize) -> Result<Arc<Meta>, PresenceError> {
    let map = match value {
        Value::Object(map) => map,
        other => {
            return Err(PresenceError::MetaNotObject {
                found: json_kind(&other),
            });
        }
    };
    check_reserved(&map)?;
    let size = json_size(&map);
    if size > max_bytes {
        return Err(PresenceError::MetaTooLarge {
            size,
            limit: max_bytes,
        });
    }
    Ok(Arc::new(map))
}

/// Checks `value` as presence meta without tracking anything: a JSON object, no reserved key,
/// at most `max_bytes` of compact JSON. The same check [`crate::Presence::track`] makes; a
/// caller that only records meta (e.g. a live view's static render) uses it to fail the same way.
///
/// # Errors
/// [`PresenceError::MetaNotObject`], [`PresenceError::ReservedMetaKey`] or
/// [`PresenceError::MetaTooLarge`].
pub fn check_meta(value: &Value, max_bytes: usize) -> Result<(), PresenceError> {
    validate_meta(value.clone(), max_bytes).map(|_| ())
}

/// Rejects meta using a reserved key (the first one found, in [`RESERVED_META_KEYS`] order).
pub(crate) fn check_reserved(map: &Meta) -> Result<(), PresenceError> {
    match RESERVED_META_KEYS.iter().find(|k| map.contains_key(**k)) {
        Some(key) => Err(PresenceError::ReservedMetaKey {
            key: (*key).to_owned(),
        }),
        None => Ok(()),
    }
}

/// The length of `map`'s compact JSON form, counted without building the string.
fn json_size(map: &Meta) -> usize {
    struct Counter(usize);
    impl io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Serializing a `Map<String, Value>` cannot fail: keys are strings and every `Value` is representable.
    match serde_json::to_writer(&mut counter, map) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_within_the_limit_pass() {
        let meta = validate_meta(json!({"name": "Alice", "color": "#fff"}), 4096).unwrap();
        assert_eq!(meta.get("name"), Some(&json!("Alice")));
    }

    #[test]
    fn non_objects_are_rejected_with_their_type() {
        for (value, found) in [
            (json!([1]), "an array"),
            (json!("x"), "a string"),
            (json!(null), "null"),
            (json!(3), "a number"),
            (json!(true), "a boolean"),
        ] {
            assert_eq!(
                validate_meta(value, 4096),
                Err(PresenceError::MetaNotObject { found })
            );
        }
    }

    #[test]
    fn every_reserved_key_is_rejected() {
        for key in RESERVED_META_KEYS {
            let mut map = Meta::new();
            map.insert(key.to_owned(), json!(1));
            assert_eq!(
                validate_meta(Value::Object(map), 4096),
                Err(PresenceError::ReservedMetaKey {
                    key: key.to_owned()
                })
            );
        }
    }

    #[test]
    fn size_is_the_compact_json_length() {
        let value = json!({"a": "xyz"});
        let exact = serde_json::to_string(&value).unwrap().len();
        assert_eq!(exact, 11);
        assert!(validate_meta(value.clone(), exact).is_ok());
        assert_eq!(
            validate_meta(value, exact - 1),
            Err(PresenceError::MetaTooLarge {
                size: exact,
                limit: exact - 1
            })
        );
    }
}
