//! Typed parameters: path/query parameters for `mount` ([`Params`]) and event-payload parameters
//! for the generated event dispatch ([`decode_event_param`]).

use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{EventError, ParamError};

/// An ordered list of string parameters (URL path parameters or the query string) with typed
/// lookups whose errors name the parameter.
///
/// ```
/// # use djust::Params;
/// let params = Params::from_query("doc_id=42&name=alice");
/// assert_eq!(params.get::<i64>("doc_id").unwrap(), 42);
/// assert_eq!(params.get_str("name"), Some("alice"));
/// assert!(params.get::<i64>("name").unwrap_err().to_string().contains("`name`"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Builds parameters from name/value pairs (the first of duplicate names wins on lookup).
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// Parses a URL query string (without the leading `?`); malformed pairs are skipped.
    pub fn from_query(query: &str) -> Self {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default();
        Self { pairs }
    }

    /// The raw value of `name`, if present.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` parsed as `T`.
    ///
    /// # Errors
    /// [`ParamError::Missing`] if absent, [`ParamError::Invalid`] if it does not parse.
    pub fn get<T>(&self, name: &str) -> Result<T, ParamError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.get_opt(name)? {
            Some(v) => Ok(v),
            None => Err(ParamError::Missing {
                name: name.to_owned(),
            }),
        }
    }

    /// `name` parsed as `T`, or `None` when absent.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] if present but not parseable.
    pub fn get_opt<T>(&self, name: &str) -> Result<Option<T>, ParamError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let Some(raw) = self.get_str(name) else {
            return Ok(None);
        };
        raw.parse()
            .map(Some)
            .map_err(|e: T::Err| ParamError::Invalid {
                name: name.to_owned(),
                value: raw.to_owned(),
                expected: std::any::type_name::<T>(),
                reason: e.to_string(),
            })
    }

    /// Iterates the pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True if there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Decodes the parameter `name` of the event `event` from its payload object.
///
/// An absent key decodes like JSON `null`, so `Option<T>` parameters are optional. If a string
/// does not decode as `T` but holds a JSON number or boolean (`"5"`, `"true"`), that is tried too:
/// `dj-value-*` attributes and form fields always arrive as strings.
pub(crate) fn decode_event_param<T: DeserializeOwned>(
    payload: &Map<String, Value>,
    event: &str,
    name: &str,
) -> Result<T, EventError> {
    let raw = payload.get(name);
    let value = raw.cloned().unwrap_or(Value::Null);
    let first_err = match serde_json::from_value::<T>(value) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if let Some(Value::String(s)) = raw
        && let Ok(coerced @ (Value::Number(_) | Value::Bool(_))) = serde_json::from_str(s.trim())
        && let Ok(v) = serde_json::from_value::<T>(coerced)
    {
        return Ok(v);
    }
    let message = if raw.is_none() {
        format!(
            "missing ({})",
            reorder_serde_message(&first_err.to_string())
        )
    } else {
        reorder_serde_message(&first_err.to_string())
    };
    Err(EventError::BadParam {
        event: event.to_owned(),
        param: name.to_owned(),
        message,
    })
}

/// serde says `invalid type: string "abc", expected i64`; the user reads better
/// `expected i64, got string "abc"` (what the handler wants first).
fn reorder_serde_message(msg: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix)
            && let Some((got, expected)) = rest.rsplit_once(", expected ")
        {
            return format!("expected {expected}, got {got}");
        }
    }
    msg.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test payloads are objects"),
        }
    }

    #[test]
    fn query_lookup_is_typed() {
        let p = Params::from_query("a=1&b=x&a=2&c=%20sp");
        assert_eq!(p.get::<u8>("a").unwrap(), 1);
        assert_eq!(p.get_str("c"), Some(" sp"));
        assert_eq!(
            p.get::<u8>("zz").unwrap_err(),
            ParamError::Missing { name: "zz".into() }
        );
        let err = p.get::<i64>("b").unwrap_err().to_string();
        assert!(
            err.contains("`b`") && err.contains("i64") && err.contains("\"x\""),
            "{err}"
        );
        assert_eq!(p.get_opt::<i64>("zz").unwrap(), None);
    }

    #[test]
    fn event_param_errors_name_event_and_param() {
        let p = payload(json!({"x": "abc"}));
        let err = decode_event_param::<i64>(&p, "cursor_move", "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "event `cursor_move`: parameter `x`: expected i64, got string \"abc\""
        );
        let err = decode_event_param::<i64>(&p, "cursor_move", "y").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("event `cursor_move`: parameter `y`: missing"),
            "{err}"
        );
        assert_eq!(err.code(), "bad_params");
    }

    #[test]
    fn options_and_string_coercion() {
        let p = payload(json!({"n": "5", "flag": "true", "s": "5"}));
        assert_eq!(
            decode_event_param::<Option<i64>>(&p, "e", "missing").unwrap(),
            None
        );
        assert_eq!(decode_event_param::<i64>(&p, "e", "n").unwrap(), 5);
        assert!(decode_event_param::<bool>(&p, "e", "flag").unwrap());
        assert_eq!(decode_event_param::<String>(&p, "e", "s").unwrap(), "5");
        assert!(decode_event_param::<u8>(&payload(json!({"n": 300})), "e", "n").is_err());
    }
}
