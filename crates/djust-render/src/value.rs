//! Template values: JSON maps become [`DjangoMap`] objects so that Django's method-style
//! attributes (`cursors.items`, `.keys`, `.values`) work without parentheses, and
//! [`fingerprint`] tells whether a value changed without rendering it.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Error, ErrorKind, State, Value};
use serde_json::{Map, Value as Json};

use crate::shared::{ExceptList, ExceptMap, SharedList};

/// A JSON object exposed to templates.
///
/// Lookup order for `map.name`: the key `name` if the map has it, else the Django/Jinja
/// accessors `items` (list of `[key, value]` pairs), `keys` and `values`. The same accessors
/// also work as calls (`map.items()`). Iterating a map yields its keys, in insertion order.
#[derive(Debug)]
pub struct DjangoMap {
    entries: indexmap::IndexMap<Arc<str>, Value>,
    /// A fingerprint computed when the map was built (shared snapshots), so comparing it
    /// costs nothing; `None` = hash the entries.
    fp: Option<u64>,
    /// `items`, built once: a [`SharedList`] of `[key, value]` pairs whose item keys are
    /// computed once for every render that loops over it (`for k, v in map.items`).
    items: OnceLock<Value>,
    /// This map's keys as a loop item, computed once (a presence record is an item of every
    /// snapshot's list until it changes).
    item_keys: OnceLock<crate::shared::ItemKeys>,
}

impl DjangoMap {
    fn new(entries: indexmap::IndexMap<Arc<str>, Value>, fp: Option<u64>) -> Self {
        Self {
            entries,
            fp,
            items: OnceLock::new(),
            item_keys: OnceLock::new(),
        }
    }

    /// The entries' fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.fp.unwrap_or_else(|| hash_entries(&self.entries))
    }

    /// The `items` list (built on first use, then shared).
    pub(crate) fn items(&self) -> &Value {
        self.items.get_or_init(|| {
            SharedList::new_value(
                self.entries
                    .iter()
                    .map(|(k, v)| Value::from(vec![Value::from(k.clone()), v.clone()]))
                    .collect(),
            )
        })
    }

    pub(crate) fn item_keys(&self) -> &OnceLock<crate::shared::ItemKeys> {
        &self.item_keys
    }

    pub(crate) fn entries(&self) -> &indexmap::IndexMap<Arc<str>, Value> {
        &self.entries
    }

    fn accessor(&self, name: &str) -> Option<Value> {
        let list: Vec<Value> = match name {
            "items" => return Some(self.items().clone()),
            "keys" => self
                .entries
                .keys()
                .map(|k| Value::from(k.clone()))
                .collect(),
            "values" => self.entries.values().cloned().collect(),
            _ => return None,
        };
        Some(Value::from(list))
    }
}

impl Object for DjangoMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        match self.entries.get(key) {
            Some(v) => Some(v.clone()),
            None => self.accessor(key),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.entries
                .keys()
                .map(|k| Value::from(k.clone()))
                .collect(),
        )
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.entries.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match self.accessor(method) {
            Some(v) if args.is_empty() => Ok(v),
            Some(_) => Err(Error::new(
                ErrorKind::TooManyArguments,
                format!("{method}() takes no arguments"),
            )),
            None => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Converts a JSON value into a template value, wrapping every object in a [`DjangoMap`].
pub fn to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(items.iter().map(to_value).collect::<Vec<_>>()),
        Json::Object(map) => map_to_value(map),
    }
}

/// Converts a JSON object (e.g. a whole context) into a [`DjangoMap`] value.
pub fn map_to_value(map: &Map<String, Json>) -> Value {
    let entries = map
        .iter()
        .map(|(k, v)| (crate::intern::intern(k), to_value(v)))
        .collect();
    Value::from_object(DjangoMap::new(entries, None))
}

/// Makes any template value Django-compatible: every map (at any depth) becomes a
/// [`DjangoMap`]. Values that already are (shared snapshots, [`SharedList`]s) are returned as
/// they are, at no cost.
pub fn djangoize(v: Value) -> Value {
    if v.downcast_object_ref::<DjangoMap>().is_some()
        || v.downcast_object_ref::<SharedList>().is_some()
    {
        return v;
    }
    match v.kind() {
        minijinja::value::ValueKind::Map => {
            let Ok(keys) = v.try_iter() else { return v };
            let entries = keys
                .map(|k| {
                    let item = v.get_item(&k).unwrap_or_default();
                    let name: Arc<str> = match k.as_str() {
                        Some(s) => crate::intern::intern(s),
                        None => Arc::from(k.to_string()),
                    };
                    (name, djangoize(item))
                })
                .collect();
            Value::from_object(DjangoMap::new(entries, None))
        }
        minijinja::value::ValueKind::Seq => match v.try_iter() {
            Ok(items) => Value::from(items.map(djangoize).collect::<Vec<_>>()),
            Err(_) => v,
        },
        _ => v,
    }
}

/// A map value of already converted entries.
pub fn map_from_values(entries: Vec<(Arc<str>, Value)>) -> Value {
    Value::from_object(DjangoMap::new(entries.into_iter().collect(), None))
}

/// A map value of already converted entries, with its fingerprint computed now (for maps
/// shared by many renders).
pub fn map_from_values_fingerprinted(entries: Vec<(Arc<str>, Value)>) -> Value {
    let entries: indexmap::IndexMap<Arc<str>, Value> = entries.into_iter().collect();
    let fp = hash_entries(&entries);
    Value::from_object(DjangoMap::new(entries, Some(fp)))
}

/// A JSON object as a [`DjangoMap`] value that carries its fingerprint: for values shared by
/// many renders (a presence snapshot), so that change tracking compares one number.
pub fn map_to_value_fingerprinted(map: &Map<String, Json>) -> Value {
    let entries: indexmap::IndexMap<Arc<str>, Value> = map
        .iter()
        .map(|(k, v)| (crate::intern::intern(k), to_value(v)))
        .collect();
    let fp = hash_entries(&entries);
    Value::from_object(DjangoMap::new(entries, Some(fp)))
}

fn hash_entries(entries: &indexmap::IndexMap<Arc<str>, Value>) -> u64 {
    let mut h = hasher();
    for (k, v) in entries {
        k.hash(&mut h);
        fingerprint(v).hash(&mut h);
    }
    h.finish()
}

pub(crate) fn hasher() -> std::hash::DefaultHasher {
    std::hash::DefaultHasher::new()
}

/// A 64-bit fingerprint of a template value: equal values have equal fingerprints (maps
/// built with [`map_to_value_fingerprinted`] answer with the one they carry).
pub fn fingerprint(v: &Value) -> u64 {
    if let Some(m) = v.downcast_object_ref::<DjangoMap>() {
        return m.fp.unwrap_or_else(|| hash_entries(&m.entries));
    }
    if let Some(l) = v.downcast_object_ref::<SharedList>() {
        return l.fingerprint();
    }
    if let Some(e) = v.downcast_object_ref::<ExceptMap>() {
        return e.fingerprint();
    }
    if let Some(e) = v.downcast_object_ref::<ExceptList>() {
        return e.fingerprint();
    }
    if v.kind() == minijinja::value::ValueKind::Seq
        && let Ok(iter) = v.try_iter()
    {
        let mut h = hasher();
        1u8.hash(&mut h);
        for item in iter {
            fingerprint(&item).hash(&mut h);
        }
        return h.finish();
    }
    let mut h = hasher();
    v.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Environment;
    use serde_json::json;

    fn render(src: &str, ctx: Json) -> String {
        let env = Environment::new();
        let Json::Object(map) = ctx else {
            unreachable!("tests pass objects")
        };
        env.render_str(src, map_to_value(&map)).unwrap()
    }

    #[test]
    fn items_keys_values_without_parentheses() {
        let ctx = json!({"m": {"b": 1, "a": 2}});
        assert_eq!(
            render(
                "{% for k, v in m.items %}{{k}}={{v}};{% endfor %}",
                ctx.clone()
            ),
            "b=1;a=2;"
        );
        assert_eq!(render("{{ m.keys|join(',') }}", ctx.clone()), "b,a");
        assert_eq!(render("{{ m.values|join(',') }}", ctx.clone()), "1,2");
        assert_eq!(
            render("{% for k, v in m.items() %}{{k}}{% endfor %}", ctx.clone()),
            "ba"
        );
        assert_eq!(
            render("{% for k in m %}{{k}}{% endfor %}", ctx.clone()),
            "ba"
        );
        assert_eq!(render("{{ m|length }}", ctx), "2");
    }

    #[test]
    fn an_except_map_hides_one_key_everywhere() {
        let Json::Object(map) = json!({"a": {"x": 1}, "me": {"x": 2}, "b": {"x": 3}}) else {
            unreachable!()
        };
        let v = ExceptMap::new_value(map_to_value_fingerprinted(&map), "me");
        let env = Environment::new();
        let out = env
            .render_str(
                "{% for k, c in m.items %}{{k}}={{c.x}};{% endfor %}|{{ m|length }}|{{ m.me }}|{{ m.keys|join(',') }}",
                minijinja::context! { m => v.clone() },
            )
            .unwrap();
        assert_eq!(out, "a=1;b=3;|2||a,b");
        let other = ExceptMap::new_value(map_to_value_fingerprinted(&map), "a");
        assert_ne!(fingerprint(&v), fingerprint(&other));
    }

    #[test]
    fn a_real_key_wins_over_the_accessor() {
        assert_eq!(
            render("{{ m.items }}", json!({"m": {"items": "mine"}})),
            "mine"
        );
    }

    #[test]
    fn nested_attribute_access_and_truthiness() {
        let ctx = json!({"c": {"u1": {"x": 1, "meta": {"color": "#fff"}}}, "e": {}});
        assert_eq!(
            render(
                "{% for id, c in c.items %}{{id}}:{{c.x}}:{{c.meta.color}}{% endfor %}",
                ctx.clone()
            ),
            "u1:1:#fff"
        );
        assert_eq!(render("{% if e %}y{% else %}n{% endif %}", ctx), "n");
    }
}
