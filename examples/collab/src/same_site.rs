//! Same-site rules for the login routes: a POST must come from this site (login and logout
//! CSRF), and `next` must be a path on this site (open redirect).

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// Why a state-changing request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrossSiteError {
    /// The browser said the request comes from another origin.
    #[error(
        "cross-site request refused: Origin {origin:?} is not this site ({host:?}); submit the form from this site's pages"
    )]
    Origin {
        /// The `Origin` header sent.
        origin: String,
        /// The `Host` it was sent to.
        host: String,
    },
    /// No `Origin`, and `Sec-Fetch-Site` says another site.
    #[error(
        "cross-site request refused: Sec-Fetch-Site is {0:?}; submit the form from this site's pages"
    )]
    FetchSite(String),
}

/// Checks that a POST comes from this site. Browsers send `Origin` with every POST: it must
/// name this host (or one of `allowed`, the same list as djust's WebSocket Origin check,
/// `DJUST_ALLOWED_ORIGINS`). Without `Origin`, `Sec-Fetch-Site` (if sent) must be
/// `same-origin` or `none`. A request with neither comes from a non-browser client (a script),
/// which cannot carry a victim's cookies: it is allowed.
///
/// # Errors
/// [`CrossSiteError`] saying which header did not match.
pub fn check_same_site(headers: &HeaderMap, allowed: &[String]) -> Result<(), CrossSiteError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not ASCII)");
        let host = headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if origin_matches(origin, host, allowed) {
            return Ok(());
        }
        return Err(CrossSiteError::Origin {
            origin: origin.to_owned(),
            host: host.to_owned(),
        });
    }
    match header("sec-fetch-site") {
        None | Some("same-origin" | "none") => Ok(()),
        Some(other) => Err(CrossSiteError::FetchSite(other.to_owned())),
    }
}

fn origin_matches(origin: &str, host: &str, allowed: &[String]) -> bool {
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a.eq_ignore_ascii_case(origin));
    }
    // `scheme://authority`, nothing after; "null" (sandboxed frames, data: URLs) never matches.
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!(authority, Some(a) if !host.is_empty() && a.eq_ignore_ascii_case(host))
}

/// Longest `next` accepted, in bytes.
const MAX_NEXT_BYTES: usize = 2048;

/// `next` if it is a path on this site, else `/`. It must start with exactly one `/` (not
/// `//` or `/\`, which browsers read as another host), contain no control characters
/// (browsers drop tabs and newlines from URLs, so `/<TAB>/evil.example/` would become
/// `//evil.example/`), no backslash, no spaces and nothing outside printable ASCII (it goes
/// into a `Location` header as is).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if is_same_site_path(n) => n,
        _ => "/",
    }
}

fn is_same_site_path(n: &str) -> bool {
    let bytes = n.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && bytes.len() <= MAX_NEXT_BYTES
        && bytes.iter().all(|&b| b.is_ascii_graphic() && b != b'\\')
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn next_must_be_a_path_on_this_site() {
        for ok in ["/", "/doc/1", "/doc/1?x=%2F%2Fa#top", "/a/b/"] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/a\\b",
            "/a b",
            "https://evil.example/",
            "evil.example",
            "/é",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn a_post_must_come_from_this_site() {
        let host = ("host", "127.0.0.1:8000");
        assert!(
            check_same_site(&headers(&[host, ("origin", "http://127.0.0.1:8000")]), &[]).is_ok()
        );
        assert!(
            check_same_site(&headers(&[host, ("origin", "https://127.0.0.1:8000")]), &[]).is_ok()
        );
        for evil in [
            "http://evil.example",
            "null",
            "http://127.0.0.1:8001",
            "http://127.0.0.1:8000.evil",
        ] {
            let err = check_same_site(&headers(&[host, ("origin", evil)]), &[]).unwrap_err();
            assert!(err.to_string().contains(evil), "{err}");
        }
        let err = check_same_site(&headers(&[host, ("sec-fetch-site", "cross-site")]), &[]);
        assert_eq!(err, Err(CrossSiteError::FetchSite("cross-site".into())));
        assert!(check_same_site(&headers(&[host, ("sec-fetch-site", "same-origin")]), &[]).is_ok());
        assert!(
            check_same_site(&headers(&[host]), &[]).is_ok(),
            "a script, not a browser"
        );
        let allowed = ["https://app.example".to_owned()];
        assert!(
            check_same_site(
                &headers(&[host, ("origin", "https://app.example")]),
                &allowed
            )
            .is_ok()
        );
        assert!(
            check_same_site(
                &headers(&[host, ("origin", "http://127.0.0.1:8000")]),
                &allowed
            )
            .is_err()
        );
    }
}
