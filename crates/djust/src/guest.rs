//! Default display names and colours: what a user looks like in presence lists and cursors
//! before (or without) the application saying otherwise.
//!
//! - An authenticated user ([`crate::AuthUser`]) is shown by username, in the preferred colour
//!   `PALETTE[id % PALETTE.len()]` (the spec's `COLORS[request.user.id % len(COLORS)]`).
//! - An anonymous user is `Guest 3f2a` (four hex digits) in a palette colour, both derived from
//!   a hash of the session key: stable across tabs, reloads and restarts, distinct between
//!   browsers (two guests share a name about once in 65 536 pairs), and revealing nothing of the
//!   key itself.
//! - Filled in by `track_presence` when the meta has no `"color"`, a colour another user of the
//!   group already shows is skipped for the next free one ([`free_color`]), so two people on a
//!   page never look alike while the palette lasts; beyond [`PALETTE`]`.len()` users the
//!   preferred (hashed) colour is used.
//!
//! **Distinct colours.** The palette's colours are pairwise at least [`MIN_DISTANCE`] apart in
//! [OKLab](https://bottosson.github.io/posts/oklab/) (Euclidean ΔE, [`color_distance`]); the
//! first six, which a room of six gets, at least 0.16. For scale: ΔE ≈ 0.02 is a just-noticeable
//! difference, and the spec's `#4ecdc4` / `#45b7d1` (two teals) are 0.072 apart. Every colour
//! also carries white text (initials, cursor labels) at a contrast ratio of at least 3:1.

/// The default palette: ten colours, ordered so that the first `n` are as far apart as the
/// palette allows (red, blue, green, purple, gold, teal, crimson, brown, slate, plum).
pub const PALETTE: [&str; 10] = [
    "#e03131", "#3b5bdb", "#2f9e44", "#ae3ec9", "#b8860b", "#0c8599", "#a61e4d", "#846358",
    "#495057", "#862e9c",
];

/// The smallest OKLab distance ([`color_distance`]) between two colours of [`PALETTE`].
pub const MIN_DISTANCE: f64 = 0.10;

/// `PALETTE[user_id % PALETTE.len()]` (`rem_euclid`, so any `i64` maps into the palette).
pub fn color_for_user(user_id: i64) -> &'static str {
    PALETTE[index(user_id.rem_euclid(PALETTE.len() as i64) as u64)]
}

/// The default name of the anonymous user with this session key: `Guest` and four hex digits.
pub fn guest_name(session_key: &str) -> String {
    format!("Guest {:04x}", (hash(session_key) >> 48) & 0xffff)
}

/// The default colour of the anonymous user with this session key.
pub fn guest_color(session_key: &str) -> &'static str {
    PALETTE[index(hash(session_key))]
}

/// `preferred` unless another present user already shows it; then the next palette colour
/// (in palette order, wrapping) nobody shows, or `preferred` if all are taken.
pub fn free_color(preferred: &'static str, taken: &[String]) -> &'static str {
    let start = PALETTE.iter().position(|c| *c == preferred).unwrap_or(0);
    (0..PALETTE.len())
        .map(|i| PALETTE[(start + i) % PALETTE.len()])
        .find(|c| !taken.iter().any(|t| t.eq_ignore_ascii_case(c)))
        .unwrap_or(preferred)
}

/// The palette's own `&'static str` for `color` (compared without case), if it is one.
pub fn palette_color(color: &str) -> Option<&'static str> {
    PALETTE
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(color))
}

/// A `#rrggbb` colour in OKLab (`[L, a, b]`, L from 0 to 1), after Björn Ottosson's reference
/// conversion from linear sRGB. `None` for anything but `#` and six hex digits.
pub fn oklab(color: &str) -> Option<[f64; 3]> {
    let hex = color.strip_prefix('#').filter(|h| h.len() == 6)?;
    let channel = |i: usize| -> Option<f64> {
        let v = u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?;
        let c = f64::from(v) / 255.0;
        Some(if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        })
    };
    let (r, g, b) = (channel(0)?, channel(2)?, channel(4)?);
    let l = (0.412_221_470_8 * r + 0.536_332_536_3 * g + 0.051_445_992_9 * b).cbrt();
    let m = (0.211_903_498_2 * r + 0.680_699_545_1 * g + 0.107_396_956_6 * b).cbrt();
    let s = (0.088_302_461_9 * r + 0.281_718_837_6 * g + 0.629_978_700_5 * b).cbrt();
    Some([
        0.210_454_255_3 * l + 0.793_617_785_0 * m - 0.004_072_046_8 * s,
        1.977_998_495_1 * l - 2.428_592_205_0 * m + 0.450_593_709_9 * s,
        0.025_904_037_1 * l + 0.782_771_766_2 * m - 0.808_675_766_0 * s,
    ])
}

/// The perceptual distance of two `#rrggbb` colours: Euclidean ΔE in [`oklab`] (0 = same
/// colour; black to white is 1). `None` if either is not `#rrggbb`.
pub fn color_distance(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (oklab(a)?, oklab(b)?);
    Some(
        a.iter()
            .zip(b.iter())
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt(),
    )
}

fn index(hash: u64) -> usize {
    // The remainder is below PALETTE.len(): the conversion cannot fail.
    usize::try_from(hash % PALETTE.len() as u64).unwrap_or(0)
}

/// FNV-1a followed by murmur3's 64-bit finaliser, so that every bit of the result depends on
/// every byte of the key (plain FNV-1a leaves the high bits of similar keys alike).
fn hash(key: &str) -> u64 {
    let mut h = fnv1a(key.as_bytes());
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// FNV-1a: tiny and fixed forever, so a guest keeps their name and colour across restarts and
/// Rust versions (std's `DefaultHasher` promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn guests_are_stable_and_distinct() {
        let key = "a".repeat(32);
        assert_eq!(guest_name(&key), guest_name(&key));
        assert!(guest_name(&key).starts_with("Guest "));
        assert_eq!(guest_name(&key).len(), "Guest 3f2a".len());
        let keys: Vec<String> = (0..300).map(|i| format!("{i:032}")).collect();
        let names: HashSet<String> = keys.iter().map(|k| guest_name(k)).collect();
        assert!(names.len() > 295, "{} distinct names of 300", names.len());
        for color in PALETTE {
            assert!(
                keys.iter().any(|k| guest_color(k) == color),
                "{color} unused"
            );
        }
    }

    #[test]
    fn a_colour_taken_by_someone_else_moves_to_the_next_free_one() {
        assert_eq!(free_color(PALETTE[2], &[]), PALETTE[2]);
        assert_eq!(free_color(PALETTE[2], &[PALETTE[2].into()]), PALETTE[3]);
        assert_eq!(
            free_color(PALETTE[9], &[PALETTE[9].into(), PALETTE[0].into()]),
            PALETTE[1]
        );
        let all: Vec<String> = PALETTE.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(free_color(PALETTE[4], &all), PALETTE[4]);
    }

    #[test]
    fn users_take_the_palette_by_id() {
        assert_eq!(color_for_user(1), PALETTE[1]);
        assert_eq!(color_for_user(10), PALETTE[0]);
        assert_eq!(color_for_user(-1), PALETTE[9]);
    }

    #[test]
    fn oklab_matches_the_reference_values() {
        // Ottosson's published values: white is L = 1, a = b = 0; sRGB red.
        let white = oklab("#ffffff").unwrap();
        assert!((white[0] - 1.0).abs() < 1e-4 && white[1].abs() < 1e-4 && white[2].abs() < 1e-4);
        let red = oklab("#FF0000").unwrap();
        for (got, want) in red.iter().zip([0.627_955, 0.224_863, 0.125_846]) {
            assert!((got - want).abs() < 1e-5, "{red:?}");
        }
        assert_eq!(oklab("#fff"), None);
        assert_eq!(oklab("ff0000"), None);
        assert_eq!(oklab("#gg0000"), None);
        assert!((color_distance("#000000", "#ffffff").unwrap() - 1.0).abs() < 1e-4);
    }

    #[test]
    fn the_palette_is_pairwise_distinct() {
        let mut closest = f64::MAX;
        for (i, a) in PALETTE.iter().enumerate() {
            for b in &PALETTE[i + 1..] {
                let d = color_distance(a, b).unwrap();
                assert!(d >= MIN_DISTANCE, "{a} and {b} are only {d:.3} apart");
                closest = closest.min(d);
            }
        }
        // The first six (a room of six) are further apart still.
        for (i, a) in PALETTE[..6].iter().enumerate() {
            for b in &PALETTE[i + 1..6] {
                assert!(color_distance(a, b).unwrap() >= 0.16, "{a} {b}");
            }
        }
        // The metric does tell the spec's two teals apart as too close.
        assert!(color_distance("#4ecdc4", "#45b7d1").unwrap() < MIN_DISTANCE);
        assert!(
            closest < 0.2,
            "MIN_DISTANCE is meant to be close to the real minimum"
        );
    }

    #[test]
    fn white_text_is_readable_on_every_colour() {
        // WCAG relative luminance from the same linear sRGB; 3:1 is the bar for large/bold text.
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        for color in PALETTE {
            let v = |i: usize| u8::from_str_radix(&color[i..i + 2], 16).unwrap();
            let lum = 0.2126 * lin(v(1)) + 0.7152 * lin(v(3)) + 0.0722 * lin(v(5));
            let ratio = 1.05 / (lum + 0.05);
            assert!(ratio >= 3.0, "{color}: white text at {ratio:.2}:1");
        }
    }

    #[test]
    fn palette_colours_are_found_without_case() {
        assert_eq!(palette_color("#E03131"), Some(PALETTE[0]));
        assert_eq!(palette_color("#4ecdc4"), None);
        assert_eq!(free_color(PALETTE[0], &["#E03131".into()]), PALETTE[1]);
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
