//! Who someone is on screen: their display name, colour and public id, for logged-in users
//! and anonymous guests alike.

use djust::Identity;
use serde::Serialize;

/// The spec's palette (`CollaborativeEditor.COLORS`).
pub const COLORS: [&str; 6] = [
    "#ff6b6b", "#4ecdc4", "#45b7d1", "#96c93d", "#f9ca24", "#a55eea",
];

/// A person as the pages show them, and the presence meta they are tracked with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Display name: the login name, or `Guest NNNN` for an anonymous visitor.
    pub name: String,
    /// One of [`COLORS`].
    pub color: &'static str,
    /// A public id for markup (`u7` for user 7, `g` + 8 hex digits for a guest). Presence user
    /// ids of guests contain their session key, which must not be written into pages.
    pub uid: String,
    /// True for anonymous visitors.
    pub guest: bool,
}

impl Person {
    /// The person behind `identity`: the logged-in user, or a guest named after a stable hash
    /// of their session key (all tabs of one browser share it).
    pub fn of(identity: &Identity) -> Person {
        match identity.auth_user() {
            Some(user) => Person {
                name: user.username.clone(),
                color: color_for_user(user.id),
                uid: format!("u{}", user.id),
                guest: false,
            },
            None => {
                let h = fnv1a(identity.session_key().as_bytes());
                Person {
                    name: guest_name(h),
                    color: COLORS[palette_index(h)],
                    uid: format!("g{:08x}", h >> 32),
                    guest: true,
                }
            }
        }
    }

    /// The presence meta the views track: `{"name", "color", "uid"}`.
    pub fn meta(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name, "color": self.color, "uid": self.uid })
    }
}

/// `COLORS[user_id % 6]`, the spec's rule (ids are positive; `rem_euclid` keeps any i64 in range).
pub fn color_for_user(user_id: i64) -> &'static str {
    let len = i64::try_from(COLORS.len()).unwrap_or(1);
    COLORS[usize::try_from(user_id.rem_euclid(len)).unwrap_or(0)]
}

fn palette_index(hash: u64) -> usize {
    // COLORS.len() is 6: the remainder always fits.
    usize::try_from(hash % COLORS.len() as u64).unwrap_or(0)
}

/// `Guest 1000` ..= `Guest 9999`.
fn guest_name(hash: u64) -> String {
    format!("Guest {}", 1000 + (hash >> 16) % 9000)
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
    use djust::AuthUser;

    #[test]
    fn users_take_the_palette_by_id() {
        for id in 1..=12_i64 {
            let who = Identity::new(
                Some(AuthUser {
                    id,
                    username: format!("user{id}"),
                }),
                "k".repeat(32),
            );
            let p = Person::of(&who);
            assert_eq!(p.color, COLORS[(id % 6) as usize]);
            assert_eq!(p.name, format!("user{id}"));
            assert_eq!(p.uid, format!("u{id}"));
            assert!(!p.guest);
        }
    }

    #[test]
    fn guests_are_stable_per_session_and_differ_between_sessions() {
        let a = Person::of(&Identity::new(None, "a".repeat(32)));
        assert_eq!(a, Person::of(&Identity::new(None, "a".repeat(32))));
        assert!(a.guest);
        let n: u32 = a.name.strip_prefix("Guest ").unwrap().parse().unwrap();
        assert!((1000..=9999).contains(&n));
        assert!(
            !a.uid.contains(&"a".repeat(8)),
            "the session key must not leak"
        );
        // Many sessions spread over names and every colour.
        let people: Vec<Person> = (0..200)
            .map(|i| Person::of(&Identity::new(None, format!("{i:032}"))))
            .collect();
        let names: std::collections::HashSet<_> = people.iter().map(|p| &p.name).collect();
        assert!(names.len() > 190, "{} distinct names", names.len());
        for color in COLORS {
            assert!(people.iter().any(|p| p.color == color), "{color} unused");
        }
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
