//! The template [`Context`]: an ordered map of serializable values.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ViewError;

/// The values a template sees (the spec's `ctx` dict). Keys keep insertion order.
///
/// ```
/// # use djust::Context;
/// # fn main() -> Result<(), djust::ViewError> {
/// let mut ctx = Context::new();
/// ctx.insert("presence_count", &3)?
///     .insert("document", &serde_json::json!({"content": "Hello"}))?;
/// assert_eq!(ctx.get("presence_count"), Some(&serde_json::json!(3)));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    map: Map<String, Value>,
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
            Value::Object(map) => Ok(Self { map }),
            other => Err(ViewError::other(format!(
                "a template context must serialize to a map, got {}",
                json_type(&other)
            ))),
        }
    }

    /// Sets `key` to `value` (serialized now) and returns `self` for chaining.
    ///
    /// # Errors
    /// [`ViewError::Serialize`] if `value` fails to serialize (e.g. a map with non-string keys).
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: &impl Serialize,
    ) -> Result<&mut Self, ViewError> {
        self.map.insert(key.into(), serde_json::to_value(value)?);
        Ok(self)
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.map.iter()
    }

    pub(crate) fn as_map(&self) -> &Map<String, Value> {
        &self.map
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
/// assert_eq!(ctx.get("presence_count"), Some(&serde_json::json!(2)));
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
