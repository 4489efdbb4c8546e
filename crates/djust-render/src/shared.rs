//! Values shared by many renders — a presence snapshot seen by every viewer of a room — built
//! once, with what change tracking needs computed once too: the list's fingerprint, and each
//! item's fingerprint and loop keys ([`ItemKeys`]), so that N viewers diffing the same list
//! neither hash nor look into its items again.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use crate::value::{DjangoMap, fingerprint, hasher};

/// What a keyed loop needs of one item, whatever the loop (see `render.rs`, `keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ItemKeys {
    /// The item's fingerprint.
    pub(crate) fp: u64,
    /// The key of a loop that unpacks the item (`for k, v in ..`): its first element.
    pub(crate) first: u64,
    /// The key from the item's `id` attribute, if it has one.
    pub(crate) id: Option<u64>,
}

impl ItemKeys {
    pub(crate) fn of(v: &Value) -> Self {
        match v.downcast_object_ref::<DjangoMap>() {
            Some(m) => *m.item_keys().get_or_init(|| Self::compute(v)),
            None => Self::compute(v),
        }
    }

    fn compute(v: &Value) -> Self {
        let fp = fingerprint(v);
        let first = v
            .get_item_by_index(0)
            .ok()
            .filter(|k| !k.is_undefined())
            .map_or(fp, |k| tagged(1, fingerprint(&k)));
        let id = v
            .get_attr("id")
            .ok()
            .filter(|id| !id.is_undefined())
            .map(|id| tagged(2, fingerprint(&id)));
        Self { fp, first, id }
    }
}

/// A hash of `h` tagged with where it came from, so keys of different origins do not collide.
pub(crate) fn tagged(tag: u8, h: u64) -> u64 {
    let mut hasher = hasher();
    (tag, h).hash(&mut hasher);
    hasher.finish()
}

/// The item keys of a list value, when they were computed once for every render.
pub(crate) enum SharedKeys {
    /// Every item of a [`SharedList`].
    All(Arc<[ItemKeys]>),
    /// A [`SharedList`] but one index (an [`ExceptMap`]'s `items`).
    Except(Arc<[ItemKeys]>, usize),
}

impl SharedKeys {
    /// The shared keys of `v`, if it is a shared list.
    pub(crate) fn of(v: &Value) -> Option<Self> {
        if let Some(l) = v.downcast_object_ref::<SharedList>() {
            return Some(Self::All(l.keys()));
        }
        let e = v.downcast_object_ref::<ExceptList>()?;
        let l = e.list.downcast_object_ref::<SharedList>()?;
        Some(Self::Except(l.keys(), e.skip))
    }

    /// The keys of item `i` (as the loop sees it).
    pub(crate) fn get(&self, i: usize) -> Option<&ItemKeys> {
        match self {
            Self::All(keys) => keys.get(i),
            Self::Except(keys, skip) => keys.get(if i < *skip { i } else { i + 1 }),
        }
    }
}

/// A list shared by many renders (a presence snapshot): built once, with its fingerprint,
/// so that N viewers neither copy nor hash it.
#[derive(Debug)]
pub struct SharedList {
    items: Vec<Value>,
    fp: u64,
    keys: OnceLock<Arc<[ItemKeys]>>,
}

impl SharedList {
    /// Wraps `items` (each ideally a [`map_to_value_fingerprinted`](crate::map_to_value_fingerprinted)
    /// map) as a list value.
    pub fn new_value(items: Vec<Value>) -> Value {
        let mut h = hasher();
        2u8.hash(&mut h);
        for item in &items {
            fingerprint(item).hash(&mut h);
        }
        Value::from_object(SharedList {
            items,
            fp: h.finish(),
            keys: OnceLock::new(),
        })
    }

    /// The list's fingerprint (computed when it was built).
    pub fn fingerprint(&self) -> u64 {
        self.fp
    }

    /// Each item's [`ItemKeys`], computed by the first render that needs them.
    pub(crate) fn keys(&self) -> Arc<[ItemKeys]> {
        self.keys
            .get_or_init(|| self.items.iter().map(ItemKeys::of).collect())
            .clone()
    }
}

impl Object for SharedList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = usize::try_from(key.as_i64()?).ok()?;
        self.items.get(i).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.items.len())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A shared [`DjangoMap`] seen without one of its keys (another user's view of a cursors map
/// that leaves out the viewer's own): built in O(1) per viewer, the map itself is not copied.
#[derive(Debug)]
pub struct ExceptMap {
    map: Value,
    except: Arc<str>,
    /// Where `except` is in the map.
    index: usize,
}

impl ExceptMap {
    /// `map` (a [`DjangoMap`] value) without the entry `except`. Any other value is returned
    /// unchanged.
    pub fn new_value(map: Value, except: &str) -> Value {
        let index = map
            .downcast_object_ref::<DjangoMap>()
            .and_then(|m| m.entries().get_index_of(except));
        match index {
            Some(index) => Value::from_object(ExceptMap {
                map,
                except: Arc::from(except),
                index,
            }),
            None => map,
        }
    }

    fn inner(&self) -> &DjangoMap {
        // `new_value` only builds an ExceptMap around a DjangoMap.
        self.map
            .downcast_object_ref::<DjangoMap>()
            .unwrap_or_else(|| unreachable!("ExceptMap wraps a DjangoMap"))
    }

    fn visible(&self) -> impl Iterator<Item = (&Arc<str>, &Value)> {
        self.inner()
            .entries()
            .iter()
            .filter(|(k, _)| **k != self.except)
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        let mut h = hasher();
        (3u8, fingerprint(&self.map), &*self.except).hash(&mut h);
        h.finish()
    }
}

impl Object for ExceptMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if *name == *self.except {
            return None;
        }
        if let Some(v) = self.inner().entries().get(name) {
            return Some(v.clone());
        }
        let list: Vec<Value> = match name {
            // The shared map's `items` minus one index: no copy, and its item keys are shared.
            "items" => {
                return Some(Value::from_object(ExceptList {
                    list: self.inner().items().clone(),
                    skip: self.index,
                }));
            }
            "keys" => self
                .visible()
                .map(|(k, _)| Value::from(k.clone()))
                .collect(),
            "values" => self.visible().map(|(_, v)| v.clone()).collect(),
            _ => return None,
        };
        Some(Value::from(list))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.visible()
                .map(|(k, _)| Value::from(k.clone()))
                .collect(),
        )
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.inner().entries().len().saturating_sub(1))
    }
}

/// A [`SharedList`] seen without the item at one index (an [`ExceptMap`]'s `items`).
#[derive(Debug)]
pub(crate) struct ExceptList {
    list: Value,
    skip: usize,
}

impl ExceptList {
    fn inner(&self) -> Option<&SharedList> {
        self.list.downcast_object_ref::<SharedList>()
    }

    fn len(&self) -> usize {
        self.inner().map_or(0, |l| l.items.len().saturating_sub(1))
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        let mut h = hasher();
        (4u8, fingerprint(&self.list), self.skip).hash(&mut h);
        h.finish()
    }
}

impl Object for ExceptList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = usize::try_from(key.as_i64()?).ok()?;
        let i = if i < self.skip { i } else { i + 1 };
        self.inner()?.items.get(i).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.len())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> Value {
        let map = json!({"a": {"id": 1, "x": 1}, "b": {"id": 2, "x": 2}, "c": {"id": 3, "x": 3}});
        crate::map_to_value_fingerprinted(map.as_object().unwrap_or(&serde_json::Map::new()))
    }

    #[test]
    fn a_shared_list_computes_its_item_keys_once() {
        let map = snapshot();
        let items = map.get_attr("items").unwrap_or_default();
        // The same list every time it is asked for, and the same keys for every viewer.
        assert!(items.is_true());
        let again = map.get_attr("items").unwrap_or_default();
        let (Some(SharedKeys::All(k1)), Some(SharedKeys::All(k2))) =
            (SharedKeys::of(&items), SharedKeys::of(&again))
        else {
            panic!("items of a map are a shared list");
        };
        assert!(Arc::ptr_eq(&k1, &k2));
        assert_eq!(k1.len(), 3);
        // The keys are the ones computed from each item directly.
        let first = items.get_item_by_index(0).unwrap_or_default();
        assert_eq!(k1[0], ItemKeys::of(&first));
    }

    #[test]
    fn an_except_map_shares_the_items_and_keys_without_its_entry() {
        let map = snapshot();
        let all = map.get_attr("items").unwrap_or_default();
        let except = ExceptMap::new_value(map, "b");
        let items = except.get_attr("items").unwrap_or_default();
        let names: Vec<String> = items
            .try_iter()
            .map(|it| {
                it.map(|p| p.get_item_by_index(0).unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(names, ["a", "c"]);
        let Some(keys) = SharedKeys::of(&items) else {
            panic!("items of an except map have shared keys");
        };
        let full = all.get_item_by_index(2).unwrap_or_default();
        assert_eq!(keys.get(1), Some(&ItemKeys::of(&full)));
        assert_eq!(keys.get(2), None);
        assert_ne!(fingerprint(&items), fingerprint(&all));
    }
}
