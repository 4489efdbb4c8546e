//! The login cookie and the middleware that turns it into a [`djust::AuthUser`] for the page
//! GET and the WebSocket.
//!
//! The signed `collab_user` cookie holds a session id and when it was issued, nothing else:
//! the user (id and name) is looked up server-side from the session row (`db/sessions.rs`), so
//! logging out revokes the cookie and a cookie cannot claim a name. It expires twice over: the
//! browser drops it after `Max-Age`, and the server refuses one whose signed issue time is
//! older than that (a copied cookie does not live forever).
//!
//! Signing uses the `cookie` crate's signed jar (HMAC-SHA256), the scheme djust uses for its own
//! session cookie, with a key derived from the same secret but separated by a context string, so
//! neither cookie can be replayed as the other.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use cookie::{Cookie, CookieJar, Key, SameSite};
use djust::AuthUser;

use crate::db::Db;

/// Name of the login cookie.
pub const AUTH_COOKIE: &str = "collab_user";

/// Longest accepted login name, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// How long a login lasts by default.
pub const DEFAULT_LOGIN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

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

/// What a valid login cookie says: which session, issued when (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionClaim {
    pub(crate) id: String,
    pub(crate) issued_at: i64,
}

/// Signs and verifies the login cookie.
pub(crate) struct AuthCookies {
    key: Key,
    secure: bool,
    ttl: Duration,
}

impl AuthCookies {
    /// `secret` is djust's secret key (≥ 32 bytes, validated by `DjustConfig`); without one a
    /// random key is used and logins end with the process, like djust's sessions. Cookies are
    /// valid for `ttl`.
    pub(crate) fn new(secret: Option<&[u8]>, secure: bool, ttl: Duration) -> Self {
        let key = match secret {
            Some(secret) if secret.len() >= djust::MIN_SECRET_BYTES => {
                let mut material = secret.to_vec();
                material.extend_from_slice(b"/collab-login-cookie");
                Key::derive_from(&material)
            }
            _ => Key::generate(),
        };
        Self { key, secure, ttl }
    }

    /// How long a login lasts.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The session the request's cookie names, if the cookie is present, untampered and was
    /// issued less than the TTL before `now` (Unix seconds).
    pub(crate) fn read(&self, headers: &HeaderMap, now: i64) -> Option<SessionClaim> {
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
        let (id, issued_at) = verified.value().split_once('.')?;
        let issued_at: i64 = issued_at.parse().ok()?;
        let age = now.checked_sub(issued_at)?;
        let fresh = u64::try_from(age).is_ok_and(|age| age < self.ttl.as_secs());
        (fresh && is_session_id(id)).then(|| SessionClaim {
            id: id.to_owned(),
            issued_at,
        })
    }

    /// The `Set-Cookie` value for session `id` issued at `now` (Unix seconds).
    pub(crate) fn issue(&self, id: &str, now: i64) -> HeaderValue {
        let mut jar = CookieJar::new();
        let max_age =
            cookie::time::Duration::seconds(i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX));
        let mut cookie = self.build(format!("{id}.{now}"));
        cookie.set_max_age(max_age);
        jar.signed_mut(&self.key).add(cookie);
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

/// A new random session id: 128 bits as 32 hex digits.
pub(crate) fn new_session_id() -> String {
    let bits: u128 = rand::random();
    format!("{bits:032x}")
}

fn is_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn set_cookie_header(jar: &CookieJar) -> HeaderValue {
    jar.delta()
        .next()
        .and_then(|c| HeaderValue::from_str(&c.to_string()).ok())
        // Signed values are base64 plus ASCII digits: always a valid header.
        .unwrap_or_else(|| HeaderValue::from_static(""))
}

/// What the middleware needs: the cookie keys and the session store.
#[derive(Clone)]
pub(crate) struct AuthState {
    pub(crate) cookies: Arc<AuthCookies>,
    pub(crate) db: Db,
}

/// Middleware: a valid, unexpired login cookie of a live session makes the request
/// authenticated for djust (page GET and WebSocket upgrade alike), as the user the session
/// belongs to.
pub(crate) async fn authenticate(
    State(auth): State<AuthState>,
    mut req: Request,
    next: Next,
) -> Response {
    let now = unix_now();
    if let Some(claim) = auth.cookies.read(req.headers(), now) {
        match auth.db.session_user(&claim.id, now).await {
            Ok(Some(user)) => {
                req.extensions_mut().insert(AuthUser {
                    id: user.id,
                    username: user.name,
                });
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "collab: session lookup failed"),
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(3600);

    fn cookie_header(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(pair).unwrap());
        h
    }

    #[test]
    fn a_cookie_names_its_session_until_it_expires() {
        let auth = AuthCookies::new(Some(&[7; 32]), false, TTL);
        let id = new_session_id();
        let set = auth.issue(&id, 1_000);
        let s = set.to_str().unwrap();
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Path=/"));
        assert!(s.contains("Max-Age=3600"), "{s}");
        let h = cookie_header(&set);
        let claim = auth.read(&h, 1_000).unwrap();
        assert_eq!((claim.id.as_str(), claim.issued_at), (id.as_str(), 1_000));
        assert!(auth.read(&h, 1_000 + 3599).is_some());
        assert_eq!(auth.read(&h, 1_000 + 3600), None, "expired at the TTL");
        assert_eq!(auth.read(&h, 999), None, "issued in the future");
    }

    #[test]
    fn tampered_or_foreign_cookies_are_ignored() {
        let auth = AuthCookies::new(Some(&[7; 32]), false, TTL);
        let set = auth.issue(&new_session_id(), 5_000);
        let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        // Moving the issue time forward breaks the signature.
        let forged = pair.replace(".5000", ".9000");
        assert_ne!(forged, pair);
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(&forged).unwrap());
        assert_eq!(auth.read(&h, 5_000), None);
        let other = AuthCookies::new(Some(&[8; 32]), false, TTL);
        assert_eq!(other.read(&cookie_header(&set), 5_000), None);
        assert_eq!(auth.read(&HeaderMap::new(), 5_000), None);
    }

    #[test]
    fn clearing_expires_the_cookie() {
        let auth = AuthCookies::new(None, true, TTL);
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
