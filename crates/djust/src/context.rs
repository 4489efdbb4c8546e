//! The template [`Context`]: an ordered map of serializable values.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::error::ViewError;

/// The values a template sees (the spec's `ctx` dict). Keys keep insertion order.
///
/// Values are converted to template values when inserted (serde, without a JSON detour), and
/// each entry keeps a fingerprint, so a render evaluates only the template parts whose
/// entries changed. Values the runtime shares between viewers (`list_presences()`,
/// `get_cursors()`) are inserted as they are, without a copy.
///
/// ```
/// # use djust::Context;
/// # fn main() -> Result<(), djust::ViewError> {
/// let mut ctx = Context::new();
/// ctx.insert("presence_count", &3)?
///     .insert("document", &serde_json::json!({"content": "Hello"}))?;
/// assert_eq!(ctx.get("presence_count"), Some(serde_json::json!(3)));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Context {
    entries: Vec<(Arc<str>, minijinja::Value)>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context from any value that serializes to a map (a struct with named fields, a map,
    /// `serde_json::json!({..})`).
    ///
    /// # Errors
    /// [`ViewError::Other`] if `value` does not serialize to a map; [`ViewError::Serialize`]
    /// if it fails to serialize.
    pub fn from_serialize(value: &impl Serialize) -> Result<Self, ViewError> {
        match serde_json::to_value(value)? {
            Value::Object(map) => {
                let mut ctx = Self::new();
                for (k, v) in &map {
                    ctx.insert(k.as_str(), v)?;
                }
                Ok(ctx)
            }
            other => Err(ViewError::other(format!(
                "a template context must serialize to a map, got {}",
                json_type(&other)
            ))),
        }
    }

    /// Sets `key` to `value` (converted now) and returns `self` for chaining.
    ///
    /// # Errors
    /// Never for values that serialize; kept as a `Result` so that a failing `Serialize`
    /// implementation can be reported in the future without an API change (today such a value
    /// fails the render, which names the template).
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: &impl Serialize,
    ) -> Result<&mut Self, ViewError> {
        let key: String = key.into();
        let value = djust_render::djangoize(minijinja::Value::from_serialize(value));
        match self.entries.iter_mut().find(|(k, _)| **k == *key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((djust_render::intern(&key), value)),
        }
        Ok(self)
    }

    /// The value of `key` as JSON, if set.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.entries
            .iter()
            .find(|(k, _)| &**k == key)
            .and_then(|(_, v)| serde_json::to_value(v).ok())
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| &**k)
    }

    /// The root template value (a map of every entry).
    pub(crate) fn root_value(&self) -> minijinja::Value {
        djust_render::map_from_values(self.entries.clone())
    }

    /// The entries' fingerprints, sorted by name (what change tracking compares).
    pub(crate) fn fingerprints(&self) -> Vec<(Arc<str>, u64)> {
        let mut fps: Vec<(Arc<str>, u64)> = self
            .entries
            .iter()
            .map(|(k, v)| (k.clone(), djust_render::fingerprint(v)))
            .collect();
        fps.sort_by(|a, b| a.0.cmp(&b.0));
        fps
    }
}

/// The JSON type name of a value, for error messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a [`Context`] from `key => value` pairs (values by reference, any `Serialize`);
/// evaluates to `Result<Context, ViewError>`.
///
/// ```
/// # use djust::{Context, ViewError};
/// # fn main() -> Result<(), ViewError> {
/// let presences = vec!["alice", "bob"];
/// let ctx: Context = djust::context! {
///     presence_count => presences.len(),
///     presences => presences,
/// }?;
/// assert_eq!(ctx.get("presence_count"), Some(serde_json::json!(2)));
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! context {
    ($($key:ident => $value:expr),* $(,)?) => {{
        let mut ctx = $crate::Context::new();
        let filled: ::core::result::Result<(), $crate::ViewError> = (|| {
            $( ctx.insert(::core::stringify!($key), &$value)?; )*
            ::core::result::Result::Ok(())
        })();
        filled.map(|()| ctx)
    }};
}
