//! Template values: JSON maps become [`DjangoMap`] objects so that Django's method-style
//! attributes (`cursors.items`, `.keys`, `.values`) work without parentheses, and
//! [`fingerprint`] tells whether a value changed without rendering it.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Error, ErrorKind, State, Value};
use serde_json::{Map, Value as Json};

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
}

impl DjangoMap {
    /// The entries' fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.fp.unwrap_or_else(|| hash_entries(&self.entries))
    }

    fn accessor(&self, name: &str) -> Option<Value> {
        let list: Vec<Value> = match name {
            "items" => self
                .entries
                .iter()
                .map(|(k, v)| Value::from(vec![Value::from(k.clone()), v.clone()]))
                .collect(),
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
        .map(|(k, v)| (Arc::from(k.as_str()), to_value(v)))
        .collect();
    Value::from_object(DjangoMap { entries, fp: None })
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
                        Some(s) => Arc::from(s),
                        None => Arc::from(k.to_string()),
                    };
                    (name, djangoize(item))
                })
                .collect();
            Value::from_object(DjangoMap { entries, fp: None })
        }
        minijinja::value::ValueKind::Seq => match v.try_iter() {
            Ok(items) => Value::from(items.map(djangoize).collect::<Vec<_>>()),
            Err(_) => v,
        },
        _ => v,
    }
}

/// A list shared by many renders (a presence snapshot): built once, with its fingerprint,
/// so that N viewers neither copy nor hash it.
#[derive(Debug)]
pub struct SharedList {
    items: Vec<Value>,
    fp: u64,
}

impl SharedList {
    /// Wraps `items` (each ideally a [`map_to_value_fingerprinted`] map) as a list value.
    pub fn new_value(items: Vec<Value>) -> Value {
        let mut h = hasher();
        2u8.hash(&mut h);
        for item in &items {
            fingerprint(item).hash(&mut h);
        }
        Value::from_object(SharedList {
            items,
            fp: h.finish(),
        })
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
}

impl ExceptMap {
    /// `map` (a [`DjangoMap`] value) without the entry `except`. Any other value is returned
    /// unchanged.
    pub fn new_value(map: Value, except: &str) -> Value {
        match map.downcast_object_ref::<DjangoMap>() {
            Some(m) if m.entries.contains_key(except) => Value::from_object(ExceptMap {
                map,
                except: Arc::from(except),
            }),
            _ => map,
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
            .entries
            .iter()
            .filter(|(k, _)| **k != self.except)
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
        if let Some(v) = self.inner().entries.get(name) {
            return Some(v.clone());
        }
        let list: Vec<Value> = match name {
            "items" => self
                .visible()
                .map(|(k, v)| Value::from(vec![Value::from(k.clone()), v.clone()]))
                .collect(),
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
        Some(self.inner().entries.len().saturating_sub(1))
    }
}

/// A map value of already converted entries.
pub fn map_from_values(entries: Vec<(Arc<str>, Value)>) -> Value {
    Value::from_object(DjangoMap {
        entries: entries.into_iter().collect(),
        fp: None,
    })
}

/// A map value of already converted entries, with its fingerprint computed now (for maps
/// shared by many renders).
pub fn map_from_values_fingerprinted(entries: Vec<(Arc<str>, Value)>) -> Value {
    let entries: indexmap::IndexMap<Arc<str>, Value> = entries.into_iter().collect();
    let fp = hash_entries(&entries);
    Value::from_object(DjangoMap {
        entries,
        fp: Some(fp),
    })
}

/// A JSON object as a [`DjangoMap`] value that carries its fingerprint: for values shared by
/// many renders (a presence snapshot), so that change tracking compares one number.
pub fn map_to_value_fingerprinted(map: &Map<String, Json>) -> Value {
    let entries: indexmap::IndexMap<Arc<str>, Value> = map
        .iter()
        .map(|(k, v)| (Arc::from(k.as_str()), to_value(v)))
        .collect();
    let fp = hash_entries(&entries);
    Value::from_object(DjangoMap {
        entries,
        fp: Some(fp),
    })
}

fn hash_entries(entries: &indexmap::IndexMap<Arc<str>, Value>) -> u64 {
    let mut h = hasher();
    for (k, v) in entries {
        k.hash(&mut h);
        fingerprint(v).hash(&mut h);
    }
    h.finish()
}

fn hasher() -> std::hash::DefaultHasher {
    std::hash::DefaultHasher::new()
}

/// A 64-bit fingerprint of a template value: equal values have equal fingerprints (maps
/// built with [`map_to_value_fingerprinted`] answer with the one they carry).
pub fn fingerprint(v: &Value) -> u64 {
    if let Some(m) = v.downcast_object_ref::<DjangoMap>() {
        return m.fp.unwrap_or_else(|| hash_entries(&m.entries));
    }
    if let Some(l) = v.downcast_object_ref::<SharedList>() {
        return l.fp;
    }
    if let Some(e) = v.downcast_object_ref::<ExceptMap>() {
        let mut h = hasher();
        (3u8, fingerprint(&e.map), &*e.except).hash(&mut h);
        return h.finish();
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
