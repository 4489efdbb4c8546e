//! [`CursorAnchor`]: where a cursor points, in terms of the page's content rather than pixels.
//!
//! A cursor's `x`/`y` are pixels relative to the cursor area, which differ between screens (the
//! text wraps differently at another width). An anchor names a server-rendered element (by its
//! `dj-key`, `id` or form-field `name`) and a spot inside it — fractions of its box, or a
//! character of a text field plus a small pixel offset — so every peer can find the same spot on
//! its own layout. `x`/`y` stay the fallback when a peer has no such element.
//!
//! Wire form (compact JSON, see `docs/protocol.md`, *Cursor anchors*): exactly one of `k`, `id`,
//! `n`; then either `fx` and `fy`, or `i` (with optional `dx`, `dy`):
//!
//! ```json
//! {"k": "msg-3", "fx": 0.25, "fy": 0.5}
//! {"n": "content", "i": 120, "dx": 3.5, "dy": 8}
//! ```

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Longest element name (`dj-key`, `id` or `name`), in bytes.
pub const MAX_ANCHOR_NAME_BYTES: usize = 128;
/// Largest character index of a text anchor.
pub const MAX_ANCHOR_INDEX: u32 = 16_777_216;
/// Largest pixel offset from the anchored character, either way.
pub const MAX_ANCHOR_OFFSET: f64 = 1000.0;

/// What a bad anchor got wrong (the message says what a client must send instead).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnchorError {
    /// None or several of `k`, `id`, `n`.
    #[error(
        "a cursor anchor names exactly one element: one of \"k\" (dj-key), \"id\" or \"n\" (field name)"
    )]
    Target,
    /// An element name that is empty, too long or has control characters.
    #[error(
        "a cursor anchor's element name must be 1 to {MAX_ANCHOR_NAME_BYTES} bytes without control characters"
    )]
    Name,
    /// Neither (or both) of the fraction pair and the text index, or half a fraction pair.
    #[error(
        "a cursor anchor has either \"fx\" and \"fy\" (fractions of the element's box) or \"i\" (a character index, with optional \"dx\", \"dy\")"
    )]
    Shape,
    /// A fraction outside 0..=1 or not finite.
    #[error("a cursor anchor's \"fx\"/\"fy\" must be finite numbers from 0 to 1, got {0}")]
    Fraction(f64),
    /// A text index above [`MAX_ANCHOR_INDEX`].
    #[error("a cursor anchor's \"i\" must be at most {MAX_ANCHOR_INDEX}, got {0}")]
    Index(u64),
    /// An offset beyond [`MAX_ANCHOR_OFFSET`] or not finite.
    #[error(
        "a cursor anchor's \"dx\"/\"dy\" must be finite and within ±{MAX_ANCHOR_OFFSET} px, got {0}"
    )]
    Offset(f64),
}

/// The element an anchor is relative to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AnchorTarget {
    /// `[dj-key="…"]` inside the cursor area.
    Key(Arc<str>),
    /// `#id` inside the cursor area.
    Id(Arc<str>),
    /// A form field (`textarea`, `input`) with this `name` inside the cursor area.
    Name(Arc<str>),
}

/// The spot inside the element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AnchorPoint {
    /// Fractions of the element's border box, each in `0..=1`.
    Box {
        /// From the left edge.
        fx: f64,
        /// From the top edge.
        fy: f64,
    },
    /// The character at UTF-16 index `index` of a text field's value, plus an offset in pixels from
    /// that character's top-left corner.
    Text {
        /// The character's index in the field's value (UTF-16 code units, as JavaScript counts).
        index: u32,
        /// Horizontal offset from the character, in pixels.
        dx: f64,
        /// Vertical offset from the character, in pixels.
        dy: f64,
    },
}

/// A cursor position relative to the page's content; validated when decoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AnchorWire", into = "AnchorWire")]
pub struct CursorAnchor {
    target: AnchorTarget,
    point: AnchorPoint,
}

impl CursorAnchor {
    /// An anchor at `point` of `target`.
    ///
    /// # Errors
    /// A name or number out of range (see [`AnchorError`]).
    pub fn new(target: AnchorTarget, point: AnchorPoint) -> Result<Self, AnchorError> {
        let name = match &target {
            AnchorTarget::Key(n) | AnchorTarget::Id(n) | AnchorTarget::Name(n) => n,
        };
        if name.is_empty()
            || name.len() > MAX_ANCHOR_NAME_BYTES
            || name.chars().any(char::is_control)
        {
            return Err(AnchorError::Name);
        }
        match point {
            AnchorPoint::Box { fx, fy } => {
                for f in [fx, fy] {
                    if !(0.0..=1.0).contains(&f) {
                        return Err(AnchorError::Fraction(f));
                    }
                }
            }
            AnchorPoint::Text { index, dx, dy } => {
                if index > MAX_ANCHOR_INDEX {
                    return Err(AnchorError::Index(index.into()));
                }
                for d in [dx, dy] {
                    if !d.is_finite() || d.abs() > MAX_ANCHOR_OFFSET {
                        return Err(AnchorError::Offset(d));
                    }
                }
            }
        }
        Ok(Self { target, point })
    }

    /// The element.
    pub fn target(&self) -> &AnchorTarget {
        &self.target
    }

    /// The spot inside it.
    pub fn point(&self) -> AnchorPoint {
        self.point
    }

    /// The compact JSON form (what templates put into `dj-cursor-anchor`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The flat JSON shape.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnchorWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fx: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    i: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dx: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dy: Option<f64>,
}

impl TryFrom<AnchorWire> for CursorAnchor {
    type Error = AnchorError;

    fn try_from(w: AnchorWire) -> Result<Self, AnchorError> {
        let target = match (w.k, w.id, w.n) {
            (Some(k), None, None) => AnchorTarget::Key(k),
            (None, Some(id), None) => AnchorTarget::Id(id),
            (None, None, Some(n)) => AnchorTarget::Name(n),
            _ => return Err(AnchorError::Target),
        };
        let point = match (w.fx, w.fy, w.i) {
            (Some(fx), Some(fy), None) if w.dx.is_none() && w.dy.is_none() => {
                AnchorPoint::Box { fx, fy }
            }
            (None, None, Some(i)) => AnchorPoint::Text {
                index: u32::try_from(i)
                    .ok()
                    .filter(|i| *i <= MAX_ANCHOR_INDEX)
                    .ok_or(AnchorError::Index(i))?,
                dx: w.dx.unwrap_or(0.0),
                dy: w.dy.unwrap_or(0.0),
            },
            _ => return Err(AnchorError::Shape),
        };
        Self::new(target, point)
    }
}

impl From<CursorAnchor> for AnchorWire {
    fn from(a: CursorAnchor) -> Self {
        let (mut k, mut id, mut n) = (None, None, None);
        match a.target {
            AnchorTarget::Key(v) => k = Some(v),
            AnchorTarget::Id(v) => id = Some(v),
            AnchorTarget::Name(v) => n = Some(v),
        }
        let (mut fx, mut fy, mut i, mut dx, mut dy) = (None, None, None, None, None);
        match a.point {
            AnchorPoint::Box { fx: x, fy: y } => {
                fx = Some(x);
                fy = Some(y);
            }
            AnchorPoint::Text {
                index,
                dx: ox,
                dy: oy,
            } => {
                i = Some(u64::from(index));
                dx = (ox != 0.0).then_some(ox);
                dy = (oy != 0.0).then_some(oy);
            }
        }
        Self {
            k,
            id,
            n,
            fx,
            fy,
            i,
            dx,
            dy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<CursorAnchor, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn anchors_round_trip_in_their_compact_form() {
        for v in [
            json!({"k": "msg-3", "fx": 0.25, "fy": 0.5}),
            json!({"id": "title", "fx": 0.0, "fy": 1.0}),
            json!({"n": "content", "i": 120, "dx": 3.5, "dy": 8.0}),
            json!({"n": "content", "i": 0}),
        ] {
            let a = parse(v.clone()).unwrap();
            assert_eq!(serde_json::to_value(&a).unwrap(), v);
            assert_eq!(parse(serde_json::from_str(&a.to_json()).unwrap()), Ok(a));
        }
        let a = parse(json!({"n": "content", "i": 7, "dx": -2})).unwrap();
        assert_eq!(
            a.point(),
            AnchorPoint::Text {
                index: 7,
                dx: -2.0,
                dy: 0.0
            }
        );
        assert_eq!(a.target(), &AnchorTarget::Name("content".into()));
    }

    #[test]
    fn bad_anchors_are_refused_with_what_to_send() {
        let long = "x".repeat(MAX_ANCHOR_NAME_BYTES + 1);
        for (v, want) in [
            (json!({"fx": 0.5, "fy": 0.5}), "exactly one element"),
            (
                json!({"k": "a", "id": "b", "fx": 0.5, "fy": 0.5}),
                "exactly one element",
            ),
            (json!({"k": "", "fx": 0.5, "fy": 0.5}), "1 to 128 bytes"),
            (json!({"k": long, "fx": 0.5, "fy": 0.5}), "1 to 128 bytes"),
            (json!({"k": "a\nb", "fx": 0.5, "fy": 0.5}), "control"),
            (json!({"k": "a", "fx": 0.5}), "either"),
            (json!({"k": "a", "fx": 0.5, "fy": 0.5, "i": 3}), "either"),
            (json!({"k": "a", "fx": 0.5, "fy": 0.5, "dx": 3}), "either"),
            (json!({"k": "a", "fx": 1.5, "fy": 0.5}), "from 0 to 1"),
            (json!({"k": "a", "fx": -0.1, "fy": 0.5}), "from 0 to 1"),
            (json!({"n": "t", "i": 20_000_000}), "at most"),
            (json!({"n": "t", "i": -1}), "invalid"),
            (json!({"n": "t", "i": 3, "dx": 5000}), "±1000"),
            (json!({"n": "t", "i": 3, "zz": 1}), "unknown field"),
            (json!("k"), "invalid type"),
        ] {
            let err = parse(v.clone()).expect_err(&v.to_string());
            assert!(err.contains(want), "{v}: {err}");
        }
        assert!(
            CursorAnchor::new(
                AnchorTarget::Key("a".into()),
                AnchorPoint::Box {
                    fx: f64::NAN,
                    fy: 0.0
                }
            )
            .unwrap_err()
            .to_string()
            .contains("finite")
        );
        assert!(
            CursorAnchor::new(
                AnchorTarget::Key("a".into()),
                AnchorPoint::Text {
                    index: 1,
                    dx: f64::INFINITY,
                    dy: 0.0
                }
            )
            .is_err()
        );
    }
}
