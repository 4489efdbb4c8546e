//! Default display names and colours: what a user looks like in presence lists and cursors
//! before (or without) the application saying otherwise.
//!
//! - An authenticated user ([`crate::AuthUser`]) is shown by username, coloured
//!   `PALETTE[id % 6]` (the spec's `COLORS[request.user.id % len(COLORS)]`).
//! - An anonymous user is `Guest 3f2a` (four hex digits) in a palette colour, both derived from
//!   a hash of the session key: stable across tabs, reloads and restarts, distinct between
//!   browsers (two guests share a name about once in 65 536 pairs), and revealing nothing of the
//!   key itself.
//! - Filled in by `track_presence` when the meta has no `"color"`, a colour another user of the
//!   group already shows is skipped for the next free one ([`free_color`]), so two people on a
//!   page never look alike while the palette lasts.

/// The spec's palette (`CollaborativeEditor.COLORS`).
pub const PALETTE: [&str; 6] = [
    "#ff6b6b", "#4ecdc4", "#45b7d1", "#96c93d", "#f9ca24", "#a55eea",
];

/// `PALETTE[user_id % 6]` (`rem_euclid`, so any `i64` maps into the palette).
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
/// nobody shows (so the first six users of a group are told apart), or `preferred` if all are
/// taken.
pub fn free_color(preferred: &'static str, taken: &[String]) -> &'static str {
    let start = PALETTE.iter().position(|c| *c == preferred).unwrap_or(0);
    (0..PALETTE.len())
        .map(|i| PALETTE[(start + i) % PALETTE.len()])
        .find(|c| !taken.iter().any(|t| t == c))
        .unwrap_or(preferred)
}

fn index(hash: u64) -> usize {
    // The remainder is below 6: the conversion cannot fail.
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
            free_color(PALETTE[5], &[PALETTE[5].into(), PALETTE[0].into()]),
            PALETTE[1]
        );
        let all: Vec<String> = PALETTE.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(free_color(PALETTE[4], &all), PALETTE[4]);
    }

    #[test]
    fn users_take_the_palette_by_id() {
        assert_eq!(color_for_user(1), PALETTE[1]);
        assert_eq!(color_for_user(6), PALETTE[0]);
        assert_eq!(color_for_user(-1), PALETTE[5]);
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
