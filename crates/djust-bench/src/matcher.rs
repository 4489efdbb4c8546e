//! Recognising what a server frame shows: cursor positions and the presence count.
//!
//! The bench does not keep a DOM. It scans the raw text of each frame, which works for every
//! way the server may show a cursor: a `patch` attribute op setting
//! `style="left: {x}px; top: {y}px;"`, an inserted cursor element (HTML carrying the same
//! style), a full `mounted`/`render`, or the fast path: a `cursors` field of
//! `[user_id, x, y]` triples (a `{"t":"cursors",...}` frame, or alongside a patch's ops). Matchers are pluggable
//! ([`PositionMatcher`]) so a new wire shape needs one more matcher, not a new bench.

use memchr::memmem::Finder;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// A cursor position shown by a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Horizontal pixel coordinate.
    pub x: i64,
    /// Vertical pixel coordinate.
    pub y: i64,
}

/// Finds the cursor positions a frame shows.
pub trait PositionMatcher: Send + Sync {
    /// Appends every position in `frame` (whose `"t"` is `kind`) to `out`.
    fn scan(&self, kind: &str, frame: &str, out: &mut Vec<Position>);
}

/// `left: {x}px; top: {y}px` anywhere in the frame: the editor template's cursor style, in an
/// attribute op's value or in inserted/rendered HTML.
#[derive(Debug)]
pub struct StyleMatcher {
    left: Finder<'static>,
}

impl Default for StyleMatcher {
    fn default() -> Self {
        Self {
            left: Finder::new("left: "),
        }
    }
}

impl PositionMatcher for StyleMatcher {
    fn scan(&self, _kind: &str, frame: &str, out: &mut Vec<Position>) {
        let bytes = frame.as_bytes();
        for start in self.left.find_iter(bytes) {
            let rest = &bytes[start + "left: ".len()..];
            let Some((x, rest)) = leading_int(rest) else {
                continue;
            };
            let Some(rest) = rest.strip_prefix(b"px; top: ") else {
                continue;
            };
            let Some((y, rest)) = leading_int(rest) else {
                continue;
            };
            if rest.starts_with(b"px") {
                out.push(Position { x, y });
            }
        }
    }
}

/// The fast path: a `cursors` field of `[user_id, x, y]` triples, in a
/// `{"t":"cursors","cursors":[...]}` frame or alongside a patch's ops.
#[derive(Debug)]
pub struct CursorsFieldMatcher {
    key: Finder<'static>,
}

impl Default for CursorsFieldMatcher {
    fn default() -> Self {
        Self {
            key: Finder::new("\"cursors\""),
        }
    }
}

/// Only the `cursors` field is decoded; serde skips the rest without building it.
#[derive(Deserialize)]
struct CursorsField {
    #[serde(default)]
    cursors: Vec<(IgnoredAny, f64, f64)>,
}

impl PositionMatcher for CursorsFieldMatcher {
    fn scan(&self, _kind: &str, frame: &str, out: &mut Vec<Position>) {
        if self.key.find(frame.as_bytes()).is_none() {
            return;
        }
        let Ok(field) = serde_json::from_str::<CursorsField>(frame) else {
            return;
        };
        out.extend(field.cursors.into_iter().filter_map(|(_, x, y)| {
            // Our moves are whole pixels; anything else is not one of ours.
            (x.fract() == 0.0 && y.fract() == 0.0 && x.abs() < 1e15 && y.abs() < 1e15).then_some(
                Position {
                    x: x as i64,
                    y: y as i64,
                },
            )
        }));
    }
}

/// The matchers the bench uses: the editor's style and the `cursors` fast path.
pub fn default_matchers() -> Vec<Box<dyn PositionMatcher>> {
    vec![
        Box::new(StyleMatcher::default()),
        Box::new(CursorsFieldMatcher::default()),
    ]
}

/// Reads a presence count shown as `{n}{suffix}` (the editor's `<h3>{n} Editing</h3>`); the
/// last one in a frame wins (a frame's later ops are newer).
#[derive(Debug)]
pub struct CountMatcher {
    suffix: Finder<'static>,
}

impl CountMatcher {
    /// Matches numbers followed by `suffix` (e.g. `" Editing"`).
    pub fn new(suffix: &str) -> Self {
        Self {
            suffix: Finder::new(suffix.as_bytes()).into_owned(),
        }
    }

    /// The last count in `frame`, if it shows one.
    pub fn last_count(&self, frame: &str) -> Option<u32> {
        let bytes = frame.as_bytes();
        self.suffix
            .find_iter(bytes)
            .filter_map(|end| trailing_uint(&bytes[..end]))
            .last()
    }
}

impl Default for CountMatcher {
    fn default() -> Self {
        Self::new(" Editing")
    }
}

/// An optionally negative decimal integer at the start of `bytes`, and what follows it.
fn leading_int(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (neg, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 || len > 15 {
        return None;
    }
    let n = digits[..len]
        .iter()
        .fold(0_i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    Some((if neg { -n } else { n }, &digits[len..]))
}

/// The decimal number that `bytes` ends with.
fn trailing_uint(bytes: &[u8]) -> Option<u32> {
    let len = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if len == 0 || len > 9 {
        return None;
    }
    std::str::from_utf8(&bytes[bytes.len() - len..])
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(m: &dyn PositionMatcher, kind: &str, frame: &str) -> Vec<Position> {
        let mut out = Vec::new();
        m.scan(kind, frame, &mut out);
        out
    }

    #[test]
    fn style_matcher_reads_attribute_ops_and_inserted_html() {
        let m = StyleMatcher::default();
        let patch = r#"{"t":"patch","ver":3,"ops":[["a",[1,3,5],"style","left: 117px; top: 4px;"],
            ["i",[1,3,7],"<div class=\"cursor\" style=\"left: 200px; top: 12px;\">x</div>"]]}"#;
        assert_eq!(
            scan(&m, "patch", patch),
            [Position { x: 117, y: 4 }, Position { x: 200, y: 12 }]
        );
    }

    #[test]
    fn style_matcher_skips_near_misses() {
        let m = StyleMatcher::default();
        let frame =
            "left: px; top: 1px; left: 5em; top: 2px; left: 7px; top: 8em; left: -3px; top: 9px";
        assert_eq!(scan(&m, "patch", frame), [Position { x: -3, y: 9 }]);
    }

    #[test]
    fn cursors_fields_yield_their_triples() {
        let m = CursorsFieldMatcher::default();
        let frame = r#"{"t":"cursors","cursors":[["u7",10,20],["8",30.0,40]],"events":[]}"#;
        assert_eq!(
            scan(&m, "cursors", frame),
            [Position { x: 10, y: 20 }, Position { x: 30, y: 40 }]
        );
        // A patch carrying moves next to its ops: the ops' paths are not positions.
        let patch = r#"{"t":"patch","ver":2,"ops":[["rm",[1,3,5]]],"cursors":[["9",7,8]]}"#;
        assert_eq!(scan(&m, "patch", patch), [Position { x: 7, y: 8 }]);
        assert!(scan(&m, "patch", r#"{"t":"patch","ops":[[1,2,3]]}"#).is_empty());
        assert!(scan(&m, "cursors", r#"{"t":"cursors","cursors":[["a",1.5,2]]}"#).is_empty());
    }

    #[test]
    fn count_matcher_takes_the_last_count() {
        let m = CountMatcher::default();
        assert_eq!(m.last_count("<h3>3 Editing</h3>"), Some(3));
        assert_eq!(
            m.last_count(r#"[["t",[1,0],"4 Editing"],["t",[2,0],"1000 Editing"]]"#),
            Some(1000)
        );
        assert_eq!(m.last_count("Editing"), None);
        assert_eq!(m.last_count("left: 3px"), None);
    }
}
