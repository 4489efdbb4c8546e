//! Who someone is on screen: their display name, colour and public id, for logged-in users
//! and anonymous guests alike, and the colour they show in one room ([`room_color`]).

use djust::Identity;
use djust::presence::PresenceRecord;
use serde::Serialize;

/// The palette (the spec's `CollaborativeEditor.COLORS`, replaced by `djust::guest::PALETTE`:
/// ten colours pairwise at least `djust::guest::MIN_DISTANCE` apart in OKLab).
pub const COLORS: [&str; 10] = djust::guest::PALETTE;

/// A person as the pages show them, and the presence meta they are tracked with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Display name: the login name, or `Guest NNNN` for an anonymous visitor.
    pub name: String,
    /// One of [`COLORS`]: the preferred colour ([`Person::of`]) until a view assigns the
    /// one shown in its room ([`room_color`]).
    pub color: &'static str,
    /// The colour this person prefers where it is free: `COLORS[id % 10]` for a user, a hash of
    /// the session key for a guest.
    #[serde(skip)]
    pub preferred: &'static str,
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
                preferred: color_for_user(user.id),
                uid: format!("u{}", user.id),
                guest: false,
            },
            None => {
                let h = fnv1a(identity.session_key().as_bytes());
                Person {
                    name: guest_name(h),
                    color: COLORS[palette_index(h)],
                    preferred: COLORS[palette_index(h)],
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

/// The preferred colour of user `user_id`: `COLORS[user_id % COLORS.len()]`, the spec's rule
/// (`rem_euclid` keeps any i64 in range).
pub fn color_for_user(user_id: i64) -> &'static str {
    djust::guest::color_for_user(user_id)
}

fn palette_index(hash: u64) -> usize {
    // The remainder is below COLORS.len(): it always fits.
    usize::try_from(hash % COLORS.len() as u64).unwrap_or(0)
}

/// The colour user `me` shows in a room whose present users are `records` (`me` may be among
/// them, through another tab): the colour `me` already shows there, so it is stable while they
/// are present; else `preferred` unless another user shows it, then the next palette colour
/// nobody shows ([`djust::guest::free_color`]); `preferred` once every colour is taken.
pub fn room_color(preferred: &'static str, me: &str, records: &[PresenceRecord]) -> &'static str {
    let mine = records
        .iter()
        .find(|r| r.id() == me)
        .and_then(|r| r.get_str("color"))
        .and_then(djust::guest::palette_color);
    if let Some(color) = mine {
        return color;
    }
    djust::guest::free_color(preferred, &others_colors(me, records))
}

/// The colour `me` moves to, if it must: someone who joined earlier (ties: the smaller user id)
/// shows the same colour and a colour nobody else shows is left. Two users who joined at the
/// same moment each picked a free colour before seeing the other; this settles it: the later
/// one moves, the earlier keeps theirs.
pub fn yielded_color(
    preferred: &'static str,
    me: &str,
    records: &[PresenceRecord],
) -> Option<&'static str> {
    let mine = records.iter().find(|r| r.id() == me)?;
    let color = mine.get_str("color")?;
    let clash = records.iter().any(|r| {
        r.id() != me
            && r.get_str("color")
                .is_some_and(|c| c.eq_ignore_ascii_case(color))
            && (r.joined_at(), r.id()) < (mine.joined_at(), mine.id())
    });
    if !clash {
        return None;
    }
    let others = others_colors(me, records);
    let free = djust::guest::free_color(preferred, &others);
    let free_left = !others.iter().any(|c| c.eq_ignore_ascii_case(free));
    free_left.then_some(free)
}

/// The palette colours the users of `records` but `me` show, each once. It stops reading
/// once every palette colour is seen, so in a room of a thousand it reads a few dozen records
/// (this runs on joins and heartbeats of every viewer: a join storm in a room of N otherwise
/// reads N² records and copies their colours). Colours outside the palette are left out: a
/// free colour is always a palette one.
fn others_colors(me: &str, records: &[PresenceRecord]) -> Vec<String> {
    let mut taken: Vec<&'static str> = Vec::with_capacity(COLORS.len());
    for r in records {
        if taken.len() == COLORS.len() {
            break;
        }
        if r.id() == me {
            continue;
        }
        if let Some(c) = r.get_str("color").and_then(djust::guest::palette_color)
            && !taken.contains(&c)
        {
            taken.push(c);
        }
    }
    taken.into_iter().map(str::to_owned).collect()
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
            assert_eq!(p.color, COLORS[(id % 10) as usize]);
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

    /// A room: `(user id, colour)` joined in this order, one millisecond apart.
    fn room(users: &[(&str, &str)]) -> Vec<PresenceRecord> {
        let clock = djust_presence::ManualClock::new(djust_presence::Timestamp::from_millis(1_000));
        let engine = djust::presence::Presence::builder()
            .clock(std::sync::Arc::new(clock.clone()))
            .build()
            .unwrap();
        for (id, color) in users {
            let meta = serde_json::json!({ "name": id, "color": color });
            engine
                .track("room", djust_presence::ConnId::random(), id, meta)
                .unwrap();
            clock.advance(std::time::Duration::from_millis(1));
        }
        engine.list("room")
    }

    #[test]
    fn a_room_gives_its_users_distinct_colours() {
        // Six users who all prefer the same colour get six different ones.
        let mut users: Vec<(String, &str)> = Vec::new();
        for i in 0..6 {
            let ids: Vec<(&str, &str)> = users.iter().map(|(id, c)| (id.as_str(), *c)).collect();
            let records = room(&ids);
            let me = format!("user{i}");
            users.push((me.clone(), room_color(COLORS[3], &me, &records)));
        }
        let colors: std::collections::HashSet<&str> = users.iter().map(|(_, c)| *c).collect();
        assert_eq!(colors.len(), 6, "{users:?}");
        assert_eq!(
            users[0].1, COLORS[3],
            "the first keeps the preferred colour"
        );
        assert_eq!(users[1].1, COLORS[4], "then the next free one");
        // Someone already present (another tab) keeps their colour.
        let records = room(&[("a", COLORS[5]), ("b", COLORS[0])]);
        assert_eq!(room_color(COLORS[0], "b", &records), COLORS[0]);
        assert_eq!(room_color(COLORS[5], "c", &records), COLORS[6]);
        // Beyond the palette: the preferred colour.
        let all: Vec<(String, &str)> = COLORS
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("u{i}"), *c))
            .collect();
        let ids: Vec<(&str, &str)> = all.iter().map(|(id, c)| (id.as_str(), *c)).collect();
        assert_eq!(room_color(COLORS[2], "new", &room(&ids)), COLORS[2]);
    }

    #[test]
    fn of_two_users_with_one_colour_the_later_moves() {
        let records = room(&[("a", COLORS[1]), ("b", COLORS[1]), ("c", COLORS[2])]);
        assert_eq!(
            yielded_color(COLORS[1], "a", &records),
            None,
            "a joined first"
        );
        assert_eq!(yielded_color(COLORS[1], "b", &records), Some(COLORS[3]));
        assert_eq!(yielded_color(COLORS[2], "c", &records), None, "no clash");
        assert_eq!(yielded_color(COLORS[2], "absent", &records), None);
        // Every colour taken by others: nothing to move to.
        let mut users: Vec<(String, &str)> = COLORS
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("u{i}"), *c))
            .collect();
        users.push(("z".into(), COLORS[0]));
        let ids: Vec<(&str, &str)> = users.iter().map(|(id, c)| (id.as_str(), *c)).collect();
        assert_eq!(yielded_color(COLORS[0], "z", &room(&ids)), None);
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
