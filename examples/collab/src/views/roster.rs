//! Who is in a room, as a page shows it: an avatar stack of the first few faces with "+N",
//! a capped list of names with "(you)" and the typing indicator, and the count — so a room of
//! 1000 renders a handful of elements, not 1000.

use djust::presence::PresenceRecord;
use serde::Serialize;

/// How many people a page shows by face and by name; the rest are only counted. Set with
/// [`crate::AppOptions::room_limits`]; the views read it from the app state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomLimits {
    /// Avatars in a stack (the editor's header, a row of the document list); beyond them
    /// `+N`. Default 5.
    pub avatars: usize,
    /// Names in the editor's sidebar list; beyond them "and N more". Default 12.
    pub names: usize,
}

impl Default for RoomLimits {
    fn default() -> Self {
        Self {
            avatars: 5,
            names: 12,
        }
    }
}

/// One person on the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Face {
    /// The public id (`u7`, `g1a2b3c4d`): `dj-key` and `data-uid`.
    pub(crate) uid: String,
    pub(crate) name: String,
    pub(crate) color: String,
    /// An image URL from the meta's `avatar` (a same-site path; anything else is dropped).
    pub(crate) avatar: Option<String>,
    pub(crate) typing: bool,
    /// The viewer themself ("(you)").
    pub(crate) me: bool,
}

impl Face {
    fn of(record: &PresenceRecord, me: bool) -> Self {
        Self {
            uid: record.get_str("uid").unwrap_or_default().to_owned(),
            name: record.get_str("name").unwrap_or("someone").to_owned(),
            color: record.get_str("color").unwrap_or("#495057").to_owned(),
            avatar: record
                .get_str("avatar")
                .filter(|a| same_site_path(a))
                .map(str::to_owned),
            typing: record.get("typing").and_then(serde_json::Value::as_bool) == Some(true),
            me,
        }
    }
}

/// `/path` on this site (not `//host`, no backslash or control character): the CSP allows
/// `img-src 'self'` only, and a URL elsewhere would tell another site who is looking.
fn same_site_path(url: &str) -> bool {
    url.starts_with('/')
        && !url.starts_with("//")
        && !url.chars().any(|c| c == '\\' || c.is_control())
}

/// The room as the page shows it (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Roster {
    /// Everyone present.
    pub(crate) count: usize,
    /// The first [`RoomLimits::avatars`] faces, the viewer first.
    pub(crate) faces: Vec<Face>,
    /// How many are not in `faces`.
    pub(crate) more_faces: usize,
    /// The first [`RoomLimits::names`] people, the viewer first.
    pub(crate) names: Vec<Face>,
    /// How many are not in `names`.
    pub(crate) more_names: usize,
}

impl Roster {
    /// The room of `records` (in join order) seen by the user `me` (a presence user id, or
    /// `None` for nobody in particular).
    pub(crate) fn new(records: &[PresenceRecord], me: Option<&str>, limits: RoomLimits) -> Self {
        let mine = me.and_then(|me| records.iter().position(|r| r.id() == me));
        let want = limits.avatars.max(limits.names);
        let mut shown: Vec<Face> = Vec::with_capacity(want.min(records.len()));
        if let Some(i) = mine {
            shown.push(Face::of(&records[i], true));
        }
        shown.extend(
            records
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != mine)
                .take(want.saturating_sub(shown.len()))
                .map(|(_, r)| Face::of(r, false)),
        );
        let count = records.len();
        let faces: Vec<Face> = shown.iter().take(limits.avatars).cloned().collect();
        shown.truncate(limits.names);
        Self {
            count,
            more_faces: count - faces.len(),
            faces,
            more_names: count - shown.len(),
            names: shown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn room(n: usize) -> Vec<PresenceRecord> {
        let engine = djust::presence::Presence::new(Default::default()).unwrap();
        for i in 0..n {
            let meta =
                json!({"name": format!("user{i}"), "color": "#e03131", "uid": format!("u{i}")});
            engine
                .track(
                    "room",
                    djust_presence::ConnId::random(),
                    &format!("{i}"),
                    meta,
                )
                .unwrap();
        }
        engine.list("room")
    }

    #[test]
    fn a_large_room_shows_the_first_faces_and_names_and_counts_the_rest() {
        let records = room(300);
        let r = Roster::new(&records, Some("120"), RoomLimits::default());
        assert_eq!(r.count, 300);
        assert_eq!(r.faces.len(), 5);
        assert_eq!(r.more_faces, 295);
        assert_eq!(r.names.len(), 12);
        assert_eq!(r.more_names, 288);
        // The viewer comes first, marked; the others in join order.
        assert!(r.faces[0].me && r.faces[0].name == "user120");
        assert_eq!(r.faces[1].name, "user0");
        assert!(r.names.iter().skip(1).all(|f| !f.me));
        assert_eq!(r.names[0], r.faces[0]);
    }

    #[test]
    fn a_small_room_shows_everyone() {
        let records = room(3);
        let r = Roster::new(&records, Some("nobody"), RoomLimits::default());
        assert_eq!((r.count, r.faces.len(), r.more_faces), (3, 3, 0));
        assert_eq!((r.names.len(), r.more_names), (3, 0));
        assert!(r.names.iter().all(|f| !f.me));
        let r = Roster::new(
            &records,
            None,
            RoomLimits {
                avatars: 2,
                names: 1,
            },
        );
        assert_eq!(
            (r.faces.len(), r.more_faces, r.names.len(), r.more_names),
            (2, 1, 1, 2)
        );
    }

    #[test]
    fn typing_and_only_same_site_avatars_are_kept() {
        let engine = djust::presence::Presence::new(Default::default()).unwrap();
        for (id, avatar) in [
            ("a", "/avatars/a.png"),
            ("b", "https://x.example/b.png"),
            ("c", "//x/c.png"),
        ] {
            let meta = json!({"name": id, "avatar": avatar, "typing": id == "a", "uid": id});
            engine
                .track("k", djust_presence::ConnId::random(), id, meta)
                .unwrap();
        }
        let r = Roster::new(&engine.list("k"), None, RoomLimits::default());
        let avatars: Vec<Option<&str>> = r.faces.iter().map(|f| f.avatar.as_deref()).collect();
        assert_eq!(avatars, [Some("/avatars/a.png"), None, None]);
        assert!(r.faces[0].typing && !r.faces[1].typing);
    }
}
