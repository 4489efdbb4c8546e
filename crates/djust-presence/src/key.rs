//! Presence key templates such as `"document:{doc_id}"`, filled from any `serde::Serialize` value.
//!
//! Grammar: `{name}` is replaced by the field `name` of the value (a dotted path `{project.id}` reaches
//! into nested objects); `{{` and `}}` stand for literal braces. Strings are inserted as they are, numbers
//! and booleans in their JSON form. A missing or `null` field is an error that names the field: a key must
//! never silently fall back to the raw template, or unrelated views would share one presence group.

use serde::Serialize;
use serde_json::Value;

use crate::error::{KeyError, json_kind};

/// A parsed key template, reusable for many views (parse once, resolve per view).
///
/// ```
/// use djust_presence::KeyTemplate;
///
/// #[derive(serde::Serialize)]
/// struct DocView { doc_id: u64 }
///
/// let template = KeyTemplate::parse("document:{doc_id}").unwrap();
/// assert_eq!(template.resolve(&DocView { doc_id: 42 }).unwrap(), "document:42");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyTemplate {
    source: String,
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// A field path, already split at dots.
    Field(Vec<String>),
}

impl KeyTemplate {
    /// Parses `template`, checking its braces.
    pub fn parse(template: &str) -> Result<Self, KeyError> {
        let malformed = |position, problem| KeyError::Malformed {
            template: template.to_owned(),
            position,
            problem,
        };
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = template.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(malformed(
                        i,
                        "a `}` without a matching `{` (write `}}` for a literal brace)",
                    ));
                }
                '{' => {
                    let start = i + 1;
                    let end = loop {
                        match chars.next() {
                            Some((j, '}')) => break j,
                            Some((_, '{')) | None => {
                                return Err(malformed(
                                    i,
                                    "a `{` that is not closed by `}` (write `{{` for a literal brace)",
                                ));
                            }
                            Some(_) => {}
                        }
                    };
                    let name = template[start..end].trim();
                    if name.is_empty() {
                        return Err(malformed(
                            i,
                            "an empty placeholder `{}`; name a field, e.g. `{doc_id}`",
                        ));
                    }
                    let path: Vec<String> = name.split('.').map(|p| p.trim().to_owned()).collect();
                    if path.iter().any(String::is_empty) {
                        return Err(malformed(start, "an empty part in a dotted field path"));
                    }
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Field(path));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Self {
            source: template.to_owned(),
            segments,
        })
    }

    /// The template text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The field paths the template uses, in order (`"project.id"` for a nested field).
    pub fn fields(&self) -> impl Iterator<Item = String> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Field(path) => Some(path.join(".")),
            Segment::Literal(_) => None,
        })
    }

    /// Whether the template has no placeholders (a static key such as `"document_editors"`).
    pub fn is_static(&self) -> bool {
        self.fields().next().is_none()
    }

    /// Fills the template from `fields`, which must serialize to a JSON object (a struct or a map).
    pub fn resolve<T: Serialize + ?Sized>(&self, fields: &T) -> Result<String, KeyError> {
        if self.is_static() {
            // A static key needs no fields; do not require the view to be serializable as an object.
            return Ok(self.literal_text());
        }
        let value = serde_json::to_value(fields).map_err(|e| KeyError::Serialize(e.to_string()))?;
        if !value.is_object() {
            return Err(KeyError::FieldsNotObject {
                found: json_kind(&value),
            });
        }
        let mut out = String::with_capacity(self.source.len() + 16);
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Field(path) => self.push_field(&mut out, &value, path)?,
            }
        }
        Ok(out)
    }

    fn literal_text(&self) -> String {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(text) => text.as_str(),
                Segment::Field(_) => "",
            })
            .collect()
    }

    fn push_field(&self, out: &mut String, root: &Value, path: &[String]) -> Result<(), KeyError> {
        let field = || path.join(".");
        let mut value = root;
        for part in path {
            value = match value.get(part) {
                Some(v) => v,
                None => {
                    return Err(KeyError::MissingField {
                        field: field(),
                        template: self.source.clone(),
                    });
                }
            };
        }
        match value {
            Value::String(s) => out.push_str(s),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Null => {
                return Err(KeyError::NullField {
                    field: field(),
                    template: self.source.clone(),
                });
            }
            Value::Array(_) | Value::Object(_) => {
                return Err(KeyError::NotScalar {
                    field: field(),
                    template: self.source.clone(),
                    found: json_kind(value),
                });
            }
        }
        Ok(())
    }
}

/// Parses `template` and fills it from `fields` in one step.
///
/// ```
/// use djust_presence::{key, KeyError};
///
/// let fields = serde_json::json!({"doc_id": "a7"});
/// assert_eq!(key::resolve("document:{doc_id}", &fields).unwrap(), "document:a7");
/// assert!(matches!(
///     key::resolve("document:{doc}", &fields),
///     Err(KeyError::MissingField { field, .. }) if field == "doc"
/// ));
/// ```
pub fn resolve<T: Serialize + ?Sized>(template: &str, fields: &T) -> Result<String, KeyError> {
    KeyTemplate::parse(template)?.resolve(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_numbers_and_booleans_are_rendered_plainly() {
        let fields = json!({"s": "abc", "n": 42, "f": 1.5, "neg": -3, "b": true});
        assert_eq!(
            resolve("{s}|{n}|{f}|{neg}|{b}", &fields).unwrap(),
            "abc|42|1.5|-3|true"
        );
    }

    #[test]
    fn braces_escape_and_nested_paths_resolve() {
        let fields = json!({"project": {"id": 7}, "doc": "x"});
        assert_eq!(
            resolve("{{lit}}:project:{project.id}:doc:{ doc }", &fields).unwrap(),
            "{lit}:project:7:doc:x"
        );
    }

    #[test]
    fn static_templates_need_no_object() {
        assert_eq!(
            resolve("document_editors", &()).unwrap(),
            "document_editors"
        );
        assert!(KeyTemplate::parse("a{{b}}").unwrap().is_static());
    }

    #[test]
    fn missing_and_nested_missing_fields_are_named() {
        let fields = json!({"project": {"name": "p"}});
        assert_eq!(
            resolve("document:{doc_id}", &fields),
            Err(KeyError::MissingField {
                field: "doc_id".into(),
                template: "document:{doc_id}".into()
            })
        );
        assert!(matches!(
            resolve("{project.id}", &fields),
            Err(KeyError::MissingField { field, .. }) if field == "project.id"
        ));
    }

    #[test]
    fn null_and_non_scalar_fields_are_typed_errors() {
        let fields = json!({"none": null, "list": [1], "obj": {}});
        assert!(
            matches!(resolve("{none}", &fields), Err(KeyError::NullField { field, .. }) if field == "none")
        );
        assert!(matches!(
            resolve("{list}", &fields),
            Err(KeyError::NotScalar {
                found: "an array",
                ..
            })
        ));
        assert!(matches!(
            resolve("{obj}", &fields),
            Err(KeyError::NotScalar {
                found: "an object",
                ..
            })
        ));
    }

    #[test]
    fn malformed_templates_are_rejected_with_a_position() {
        for (template, position) in [
            ("a{b", 1),
            ("a}b", 1),
            ("{}", 0),
            ("x{a{b}", 1),
            ("{a..b}", 1),
        ] {
            match KeyTemplate::parse(template) {
                Err(KeyError::Malformed { position: p, .. }) => {
                    assert_eq!(p, position, "{template}")
                }
                other => panic!("{template}: {other:?}"),
            }
        }
    }

    #[test]
    fn fields_must_serialize_to_an_object() {
        assert_eq!(
            resolve("{a}", &5),
            Err(KeyError::FieldsNotObject { found: "a number" })
        );
    }

    #[test]
    fn fields_lists_the_placeholders() {
        let t = KeyTemplate::parse("p:{project.id}:d:{doc_id}").unwrap();
        assert_eq!(t.fields().collect::<Vec<_>>(), ["project.id", "doc_id"]);
        assert_eq!(t.as_str(), "p:{project.id}:d:{doc_id}");
    }
}
