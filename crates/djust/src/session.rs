//! Identity: the signed `djust_session` cookie (anonymous users) and the application-supplied
//! [`AuthUser`] (authenticated users).

use cookie::{Cookie, CookieJar, Key, SameSite};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use rand::Rng;
use rand::distr::Alphanumeric;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "djust_session";
const SESSION_KEY_LEN: usize = 32;

/// An authenticated user, supplied by the application: insert it into the request extensions
/// in an axum middleware (`req.extensions_mut().insert(AuthUser { .. })`) and both the page
/// GET and the WebSocket upgrade see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuthUser {
    /// The user's id (the spec's `request.user.id`).
    pub id: i64,
    /// The user's name (the spec's `request.user.username`).
    pub username: String,
}

/// Who is on the other end of a request or connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    user_id: String,
    auth: Option<AuthUser>,
    session_key: String,
}

impl Identity {
    /// Builds the identity: an authenticated user is `"{id}"`, anyone else `anon_{session_key}`.
    pub fn new(auth: Option<AuthUser>, session_key: String) -> Self {
        let user_id = match &auth {
            Some(user) => user.id.to_string(),
            None => format!("anon_{session_key}"),
        };
        Self {
            user_id,
            auth,
            session_key,
        }
    }

    /// The user id for presence: the authenticated user's id, or `anon_{session_key}`.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The authenticated user, if the application supplied one.
    pub fn auth_user(&self) -> Option<&AuthUser> {
        self.auth.as_ref()
    }

    /// The authenticated user's name, if any.
    pub fn username(&self) -> Option<&str> {
        self.auth.as_ref().map(|u| u.username.as_str())
    }

    /// True for an application-supplied [`AuthUser`].
    pub fn is_authenticated(&self) -> bool {
        self.auth.is_some()
    }

    /// The name to show for this user: the username, or `Guest 3f2a` (four hex digits from a
    /// hash of the session key) for an anonymous user. See [`crate::guest`].
    pub fn display_name(&self) -> String {
        match &self.auth {
            Some(user) => user.username.clone(),
            None => crate::guest::guest_name(&self.session_key),
        }
    }

    /// The colour to show for this user: `PALETTE[id % PALETTE.len()]`, or a palette colour from a
    /// hash of the session key for an anonymous user. See [`crate::guest`].
    pub fn color(&self) -> &'static str {
        match &self.auth {
            Some(user) => crate::guest::color_for_user(user.id),
            None => crate::guest::guest_color(&self.session_key),
        }
    }

    /// The random session key from the signed cookie (or a per-connection key for a WebSocket
    /// client that sent no valid cookie).
    pub fn session_key(&self) -> &str {
        &self.session_key
    }
}

/// Signs and verifies the session cookie.
pub(crate) struct Sessions {
    key: Key,
    secure: bool,
}

impl Sessions {
    /// `secret` must be ≥ 32 bytes (checked by `DjustConfig::validate`); `None` generates a
    /// process-local key.
    pub(crate) fn new(secret: Option<&[u8]>, secure: bool) -> Self {
        let key = match secret {
            Some(secret) if secret.len() >= crate::config::MIN_SECRET_BYTES => {
                Key::derive_from(secret)
            }
            _ => {
                crate::env::startup_warning(
                    "no DJUST_SECRET_KEY configured; generated a random session key. \
                     Sessions will not survive a restart, and several processes behind one \
                     load balancer need a shared key.",
                );
                Key::generate()
            }
        };
        Self { key, secure }
    }

    /// The verified session key from the request's cookies, if present and untampered.
    pub(crate) fn read(&self, headers: &HeaderMap) -> Option<String> {
        let mut jar = CookieJar::new();
        for value in headers.get_all(COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            for cookie in Cookie::split_parse(value).flatten() {
                if cookie.name() == SESSION_COOKIE {
                    jar.add_original(cookie.into_owned());
                }
            }
        }
        let verified = jar.signed(&self.key).get(SESSION_COOKIE)?;
        let value = verified.value();
        (value.len() == SESSION_KEY_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| value.to_owned())
    }

    /// A fresh random session key and its `Set-Cookie` header value.
    pub(crate) fn issue(&self) -> (String, HeaderValue) {
        let session_key = random_key();
        let mut jar = CookieJar::new();
        let cookie = Cookie::build((SESSION_COOKIE, session_key.clone()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build();
        jar.signed_mut(&self.key).add(cookie);
        let header = jar
            .delta()
            .next()
            .and_then(|c| HeaderValue::from_str(&c.to_string()).ok())
            // The signed value is base64 plus ASCII attributes, always a valid header value.
            .unwrap_or_else(|| HeaderValue::from_static(""));
        (session_key, header)
    }
}

/// A random alphanumeric session key (≈190 bits).
pub(crate) fn random_key() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(SESSION_KEY_LEN)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn issued_cookie_round_trips_and_tampering_is_rejected() {
        let s = Sessions::new(Some(b"0123456789abcdef0123456789abcdef"), false);
        let (key, set_cookie) = s.issue();
        let set_cookie = set_cookie.to_str().unwrap();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
        let pair = set_cookie.split(';').next().unwrap();
        assert_eq!(
            s.read(&headers_with(&format!("other=1; {pair}"))),
            Some(key.clone())
        );
        let tampered = pair.replacen(&key[..4], "AAAA", 1);
        assert_eq!(s.read(&headers_with(&tampered)), None);
        let other = Sessions::new(Some(b"ffffffffffffffffffffffffffffffffffff"), false);
        assert_eq!(other.read(&headers_with(pair)), None);
    }

    #[test]
    fn identity_prefers_authenticated_user() {
        let anon = Identity::new(None, "k".repeat(32));
        assert_eq!(anon.user_id(), format!("anon_{}", "k".repeat(32)));
        assert!(!anon.is_authenticated());
        let user = AuthUser {
            id: 7,
            username: "alice".into(),
        };
        let auth = Identity::new(Some(user), "k".repeat(32));
        assert_eq!(auth.user_id(), "7");
        assert_eq!(auth.username(), Some("alice"));
    }
}
