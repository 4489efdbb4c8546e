//! Template values of presence records and cursors, built once per record version and shared
//! by every viewer of the key.
//!
//! Without this, each of N viewers of a room of N users would serialize and convert the same
//! N records on every render (O(N²) per change). Here a record's value is built the first
//! time a viewer needs it and reused until the record changes (its meta `Arc`, connection
//! count or join time, or a cursor's position); each value carries its fingerprint, so change
//! tracking compares one number per item. The cache holds the metas it compares, so a pointer
//! cannot be reused for other content while cached.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use djust_presence::{Cursor, Meta, PresenceRecord, Timestamp};
use minijinja::Value;
use parking_lot::Mutex;
use serde_json::Map;

use super::cursors::{Coord, dom_id};

/// Cached entries above which a cache starts over (bounds memory if keys churn).
const MAX_ENTRIES: usize = 200_000;

struct RecordEntry {
    meta: Arc<Meta>,
    joined_at: Timestamp,
    connections: usize,
    value: Value,
}

struct CursorEntry {
    meta: Arc<Meta>,
    x: f64,
    y: f64,
    anchor: Option<Arc<djust_presence::CursorAnchor>>,
    value: Value,
}

/// key → user id → the last value built.
type Cache<E> = Mutex<(usize, HashMap<String, HashMap<Arc<str>, E>>)>;

static RECORDS: LazyLock<Cache<RecordEntry>> = LazyLock::new(Default::default);
static CURSORS: LazyLock<Cache<CursorEntry>> = LazyLock::new(Default::default);

/// key → the engine's last shared snapshot and the value built from it. Holding the `Arc`
/// keeps its address from being reused while it is compared.
type Snapshots<T> = Mutex<HashMap<String, (Arc<[T]>, Value)>>;
static LISTS: LazyLock<Snapshots<PresenceRecord>> = LazyLock::new(Default::default);
static CURSOR_MAPS: LazyLock<Snapshots<(Arc<str>, Cursor)>> = LazyLock::new(Default::default);

/// The value of a snapshot: the cached one while the engine hands out the same `Arc`, else
/// built by `build` and cached.
fn snapshot_value<T>(
    cache: &Snapshots<T>,
    key: &str,
    snap: &Arc<[T]>,
    build: impl FnOnce(&[T]) -> Value,
) -> Value {
    if let Some((cached, value)) = cache.lock().get(key)
        && Arc::ptr_eq(cached, snap)
    {
        return value.clone();
    }
    let value = build(snap);
    let mut cache = cache.lock();
    if cache.len() > MAX_ENTRIES {
        cache.clear();
    }
    cache.insert(key.to_owned(), (snap.clone(), value.clone()));
    value
}

/// The engine's shared listing of `key` as a shared template value (O(1) while unchanged).
pub(crate) fn list_value(key: &str, records: &Arc<[PresenceRecord]>) -> Value {
    snapshot_value(&LISTS, key, records, |r| records_value(key, r))
}

/// The engine's shared cursors of `key` as one shared map value (O(1) while unchanged).
pub(crate) fn cursor_map_value(key: &str, cursors: &Arc<[(Arc<str>, Cursor)]>) -> Value {
    snapshot_value(&CURSOR_MAPS, key, cursors, |c| cursors_value(key, c))
}

/// The list of `records` of `key` as a shared template value.
pub(crate) fn records_value(key: &str, records: &[PresenceRecord]) -> Value {
    let mut guard = RECORDS.lock();
    let (count, cache) = &mut *guard;
    if *count > MAX_ENTRIES {
        cache.clear();
        *count = 0;
    }
    let users = cache.entry(key.to_owned()).or_default();
    let items = records
        .iter()
        .map(|r| {
            if let Some(e) = users.get(r.id())
                && Arc::ptr_eq(&e.meta, r.meta_arc())
                && e.joined_at == r.joined_at()
                && e.connections == r.connections()
            {
                return e.value.clone();
            }
            let value = to_shared(r);
            let entry = RecordEntry {
                meta: r.meta_arc().clone(),
                joined_at: r.joined_at(),
                connections: r.connections(),
                value: value.clone(),
            };
            if users.insert(Arc::from(r.id()), entry).is_none() {
                *count += 1;
            }
            value
        })
        .collect();
    djust_render::SharedList::new_value(items)
}

/// `user_id → {x, y, meta, dom_id, anchor}` of `key`'s cursors as a shared template value.
pub(crate) fn cursors_value(key: &str, cursors: &[(Arc<str>, Cursor)]) -> Value {
    let mut guard = CURSORS.lock();
    let (count, cache) = &mut *guard;
    if *count > MAX_ENTRIES {
        cache.clear();
        *count = 0;
    }
    let users = cache.entry(key.to_owned()).or_default();
    let entries = cursors
        .iter()
        .map(|(id, c)| {
            if let Some(e) = users.get(id)
                && Arc::ptr_eq(&e.meta, c.meta_arc())
                && e.x.to_bits() == c.x().to_bits()
                && e.y.to_bits() == c.y().to_bits()
                && e.anchor.as_deref() == c.anchor().map(|a| &**a)
            {
                return (id.clone(), e.value.clone());
            }
            let mut map = Map::new();
            map.insert("x".into(), json_of(&Coord(c.x())));
            map.insert("y".into(), json_of(&Coord(c.y())));
            map.insert("meta".into(), serde_json::Value::Object(c.meta().clone()));
            map.insert("dom_id".into(), dom_id(id).into());
            // The anchor as compact JSON for `dj-cursor-anchor="{{ cursor.anchor }}"` ("" without).
            let anchor = c.anchor().map(|a| a.to_json()).unwrap_or_default();
            map.insert("anchor".into(), anchor.into());
            let value = djust_render::map_to_value_fingerprinted(&map);
            let entry = CursorEntry {
                meta: c.meta_arc().clone(),
                x: c.x(),
                y: c.y(),
                anchor: c.anchor().cloned(),
                value: value.clone(),
            };
            if users.insert(id.clone(), entry).is_none() {
                *count += 1;
            }
            (id.clone(), value)
        })
        .collect();
    djust_render::map_from_values_fingerprinted(entries)
}

fn to_shared(r: &PresenceRecord) -> Value {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::Object(map)) => djust_render::map_to_value_fingerprinted(&map),
        _ => Value::UNDEFINED,
    }
}

fn json_of(c: &Coord) -> serde_json::Value {
    serde_json::to_value(c).unwrap_or_default()
}

/// Everyone in a presence group, as `list_presences()` returns it: one record per user, in
/// join order. Derefs to `[PresenceRecord]`; iterates by value or by reference.
///
/// Serializes as the list of records; into a template context it is inserted as one shared
/// value (no copy per viewer).
#[derive(Debug, Clone)]
pub struct PresenceList {
    records: Arc<[PresenceRecord]>,
    value: Value,
}

impl PresenceList {
    pub(crate) fn new(key: &str, records: Arc<[PresenceRecord]>) -> Self {
        let value = list_value(key, &records);
        Self { records, value }
    }

    /// The records.
    pub fn into_vec(self) -> Vec<PresenceRecord> {
        self.records.to_vec()
    }
}

impl Default for PresenceList {
    fn default() -> Self {
        Self {
            records: Arc::from(Vec::new()),
            value: djust_render::SharedList::new_value(Vec::new()),
        }
    }
}

impl PartialEq for PresenceList {
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records
    }
}

impl std::ops::Deref for PresenceList {
    type Target = [PresenceRecord];
    fn deref(&self) -> &[PresenceRecord] {
        &self.records
    }
}

impl IntoIterator for PresenceList {
    type Item = PresenceRecord;
    type IntoIter = std::vec::IntoIter<PresenceRecord>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a> IntoIterator for &'a PresenceList {
    type Item = &'a PresenceRecord;
    type IntoIter = std::slice::Iter<'a, PresenceRecord>;
    fn into_iter(self) -> Self::IntoIter {
        self.records.iter()
    }
}

impl serde::Serialize for PresenceList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use djust_presence::{ConnId, Presence, PresenceConfig};
    use serde_json::json;

    fn engine_with(users: &[(&str, &str)]) -> Presence {
        let p = Presence::new(PresenceConfig::default()).unwrap();
        for (id, name) in users {
            p.track("k", ConnId::random(), id, json!({"name": name}))
                .unwrap();
        }
        p
    }

    #[test]
    fn a_record_value_is_built_once_and_rebuilt_when_the_record_changes() {
        let p = engine_with(&[("u1", "Ann"), ("u2", "Bob")]);
        let a = records_value("shared-test", &p.list("k"));
        let b = records_value("shared-test", &p.list("k"));
        assert_eq!(djust_render::fingerprint(&a), djust_render::fingerprint(&b));
        // Same record version → the very same item object (no copy per viewer).
        let (ia, ib) = (
            a.get_item_by_index(0).unwrap(),
            b.get_item_by_index(0).unwrap(),
        );
        assert!(std::ptr::eq(
            ia.downcast_object_ref::<djust_render::DjangoMap>().unwrap(),
            ib.downcast_object_ref::<djust_render::DjangoMap>().unwrap()
        ));
        assert_eq!(ia.get_attr("name").unwrap().as_str(), Some("Ann"));
        // A meta change → a new value with a new fingerprint.
        let conn = ConnId::random();
        p.track("k", conn, "u3", json!({"name": "Cy"})).unwrap();
        p.update_meta("k", conn, json!({"name": "Cyd"})).unwrap();
        let c = records_value("shared-test", &p.list("k"));
        assert_ne!(djust_render::fingerprint(&a), djust_render::fingerprint(&c));
        assert_eq!(
            c.get_item_by_index(2)
                .unwrap()
                .get_attr("name")
                .unwrap()
                .as_str(),
            Some("Cyd")
        );
    }

    #[test]
    fn presence_lists_serialize_as_records() {
        let p = engine_with(&[("u1", "Ann")]);
        let list = PresenceList::new("shared-json", p.list_shared("k"));
        let again = PresenceList::new("shared-json", p.list_shared("k"));
        assert_eq!(
            djust_render::fingerprint(&list.value),
            djust_render::fingerprint(&again.value)
        );
        let v = serde_json::to_value(&list).unwrap();
        assert_eq!(v[0]["id"], "u1");
        assert_eq!(v[0]["name"], "Ann");
        assert_eq!(v[0]["meta"]["name"], "Ann");
        assert_eq!(list.len(), 1);
    }
}
