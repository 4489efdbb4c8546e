//! The login cookie: a signed `collab_user` cookie holding the user's id and name, and the axum
//! middleware that turns it into a [`djust::AuthUser`] for the page GET and the WebSocket.
//!
//! Signing uses the `cookie` crate's signed jar (HMAC-SHA256), the scheme djust uses for its own
//! session cookie, with a key derived from the same secret but separated by a context string, so
//! neither cookie can be replayed as the other.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use cookie::{Cookie, CookieJar, Key, SameSite};
use djust::AuthUser;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::db::User;

/// Name of the login cookie.
pub const AUTH_COOKIE: &str = "collab_user";

/// Longest accepted login name, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// Everything outside unreserved URL characters is encoded, so the cookie value is plain ASCII
/// without `;`, `,`, spaces or quotes whatever the name holds.
const COOKIE_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'%')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'`')
    .add(b'\'')
    .add(b'{')
    .add(b'}');

/// Why a login name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty after trimming spaces.
    #[error("enter a name to log in")]
    Empty,
    /// Over [`MAX_NAME_CHARS`].
    #[error("names are at most {MAX_NAME_CHARS} characters; this one has {0}")]
    TooLong(usize),
    /// Contains a control character (newline, tab, ...).
    #[error("names cannot contain control characters such as newlines or tabs")]
    Control,
}

/// Trims `raw` and checks it is a usable display name. Any other character is allowed: names
/// are always escaped where they are shown.
///
/// # Errors
/// [`NameError`] saying what to change.
pub fn validate_name(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong(chars));
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    Ok(name.to_owned())
}

/// Signs and verifies the login cookie.
pub(crate) struct AuthCookies {
    key: Key,
    secure: bool,
}

impl AuthCookies {
    /// `secret` is djust's secret key (≥ 32 bytes, validated by `DjustConfig`); without one a
    /// random key is used and logins end with the process, like djust's sessions.
    pub(crate) fn new(secret: Option<&[u8]>, secure: bool) -> Self {
        let key = match secret {
            Some(secret) if secret.len() >= djust::MIN_SECRET_BYTES => {
                let mut material = secret.to_vec();
                material.extend_from_slice(b"/collab-login-cookie");
                Key::derive_from(&material)
            }
            _ => Key::generate(),
        };
        Self { key, secure }
    }

    /// The logged-in user from the request's cookies, if the cookie is present and untampered.
    pub(crate) fn read(&self, headers: &HeaderMap) -> Option<AuthUser> {
        let mut jar = CookieJar::new();
        for value in headers.get_all(COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            for cookie in Cookie::split_parse(value).flatten() {
                if cookie.name() == AUTH_COOKIE {
                    jar.add_original(cookie.into_owned());
                }
            }
        }
        let verified = jar.signed(&self.key).get(AUTH_COOKIE)?;
        let (id, name) = verified.value().split_once(':')?;
        let id = id.parse().ok()?;
        let username = percent_decode_str(name).decode_utf8().ok()?.into_owned();
        Some(AuthUser { id, username })
    }

    /// The `Set-Cookie` value that logs `user` in.
    pub(crate) fn issue(&self, user: &User) -> HeaderValue {
        let value = format!(
            "{}:{}",
            user.id,
            utf8_percent_encode(&user.name, COOKIE_VALUE)
        );
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(self.build(value));
        set_cookie_header(&jar)
    }

    /// The `Set-Cookie` value that logs out (an expired, empty cookie).
    pub(crate) fn clear(&self) -> HeaderValue {
        let mut cookie = self.build(String::new());
        cookie.make_removal();
        HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn build(&self, value: String) -> Cookie<'static> {
        Cookie::build((AUTH_COOKIE, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build()
    }
}

fn set_cookie_header(jar: &CookieJar) -> HeaderValue {
    jar.delta()
        .next()
        .and_then(|c| HeaderValue::from_str(&c.to_string()).ok())
        // Signed values are base64 plus the percent-encoded ASCII above: always a valid header.
        .unwrap_or_else(|| HeaderValue::from_static(""))
}

/// Middleware: a valid login cookie makes the request authenticated for djust (page GET and
/// WebSocket upgrade alike).
pub(crate) async fn authenticate(
    State(auth): State<Arc<AuthCookies>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(user) = auth.read(req.headers()) {
        req.extensions_mut().insert(user);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie_header(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(pair).unwrap());
        h
    }

    #[test]
    fn names_with_markup_and_unicode_round_trip() {
        let auth = AuthCookies::new(Some(&[7; 32]), false);
        for name in [
            "alice",
            "<img src=x onerror=alert(1)>",
            "Zoë; a=b, \"q\" %41 🦀",
        ] {
            let user = User {
                id: 42,
                name: name.into(),
            };
            let set = auth.issue(&user);
            let s = set.to_str().unwrap();
            assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Path=/"));
            let back = auth.read(&cookie_header(&set)).unwrap();
            assert_eq!((back.id, back.username.as_str()), (42, name));
        }
    }

    #[test]
    fn tampered_or_foreign_cookies_are_ignored() {
        let auth = AuthCookies::new(Some(&[7; 32]), false);
        let set = auth.issue(&User {
            id: 1,
            name: "alice".into(),
        });
        let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        let forged = pair.replace("1:alice", "2:alice");
        assert_ne!(forged, pair);
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(&forged).unwrap());
        assert_eq!(auth.read(&h), None);
        let other = AuthCookies::new(Some(&[8; 32]), false);
        assert_eq!(other.read(&cookie_header(&set)), None);
        assert_eq!(auth.read(&HeaderMap::new()), None);
    }

    #[test]
    fn clearing_expires_the_cookie() {
        let auth = AuthCookies::new(None, true);
        let clear = auth.clear();
        let s = clear.to_str().unwrap();
        assert!(s.starts_with("collab_user=;"), "{s}");
        assert!(s.contains("Max-Age=0") && s.contains("Secure"), "{s}");
    }

    #[test]
    fn name_rules() {
        assert_eq!(validate_name("  bob "), Ok("bob".into()));
        assert_eq!(validate_name("   "), Err(NameError::Empty));
        assert_eq!(validate_name("a\nb"), Err(NameError::Control));
        assert_eq!(validate_name(&"x".repeat(41)), Err(NameError::TooLong(41)));
        assert!(validate_name("<img src=x onerror=alert(1)>").is_ok());
    }
}
