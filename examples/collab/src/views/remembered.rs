//! What this browser remembers of a person in the editor between connections: that they went
//! invisible, and the colour they showed in a document. The `Editor` hook
//! (`assets/collab.js`) writes two cookies from the attributes the editor renders on its
//! container, and the editor reads them on every mount — so a reconnect (a dropped socket, a
//! restarted server) or a reload comes back as the person left it (docs/presence.md, "Go
//! invisible").
//!
//! - `collab_invisible=<uid>`: the person `uid` went invisible (kept 30 days; removed when
//!   they become visible). Every tab and document of this browser opens invisible for them.
//! - `collab_color_<doc id>=<uid>.<rrggbb>`: the colour `uid` last showed in that document's
//!   editor (a session cookie). It is asked for again where it is free.
//!
//! Both carry the person's public id, so someone else logging in on the same browser is not
//! affected, and both only ever change how the person themself is shown: a forged value can
//! hide oneself or pick another palette colour, nothing more.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::Cookie;

/// The cookie naming the person who went invisible in this browser.
pub(crate) const INVISIBLE_COOKIE: &str = "collab_invisible";

/// The cookie holding the colour shown in document `doc_id`.
pub(crate) fn color_cookie(doc_id: i64) -> String {
    format!("collab_color_{doc_id}")
}

/// What the cookies say of one person in one document.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Remembered {
    /// They went invisible and have not become visible since.
    pub(crate) invisible: bool,
    /// The palette colour they last showed here (anything not in the palette is ignored).
    pub(crate) color: Option<&'static str>,
}

impl Remembered {
    /// Reads the cookies of `headers` (the page GET's or the WebSocket upgrade's) for the
    /// person of public id `uid` in document `doc_id`.
    pub(crate) fn read(headers: &HeaderMap, uid: &str, doc_id: i64) -> Self {
        let mut out = Self::default();
        let color_name = color_cookie(doc_id);
        for value in headers.get_all(COOKIE) {
            let Ok(value) = value.to_str() else {
                continue;
            };
            for cookie in Cookie::split_parse(value).flatten() {
                if cookie.name() == INVISIBLE_COOKIE && cookie.value() == uid {
                    out.invisible = true;
                } else if cookie.name() == color_name
                    && let Some((who, hex)) = cookie.value().split_once('.')
                    && who == uid
                {
                    out.color = djust::guest::palette_color(&format!("#{hex}"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(cookies: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookies).unwrap());
        h
    }

    #[test]
    fn the_cookies_of_this_person_and_document_are_read() {
        let h =
            headers("a=1; collab_invisible=u7; collab_color_3=u7.3B5BDB; collab_color_4=u7.e03131");
        assert_eq!(
            Remembered::read(&h, "u7", 3),
            Remembered {
                invisible: true,
                color: Some("#3b5bdb")
            }
        );
        assert_eq!(Remembered::read(&h, "u7", 4).color, Some("#e03131"));
        assert_eq!(Remembered::read(&h, "u7", 5).color, None);
    }

    #[test]
    fn another_person_and_colours_outside_the_palette_are_ignored() {
        let h = headers("collab_invisible=u7; collab_color_3=u7.4ecdc4");
        assert_eq!(Remembered::read(&h, "u8", 3), Remembered::default());
        assert_eq!(Remembered::read(&h, "u7", 3).color, None);
        let h = headers("collab_color_3=u8.3b5bdb; collab_color_3x=u7.3b5bdb; garbage");
        assert_eq!(Remembered::read(&h, "u7", 3), Remembered::default());
        assert_eq!(
            Remembered::read(&HeaderMap::new(), "u7", 3),
            Remembered::default()
        );
    }
}
