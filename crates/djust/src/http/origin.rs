//! `Origin` check of the WebSocket upgrade, against cross-site WebSocket hijacking: a page on
//! another site must not open a socket that rides on the user's cookies.

/// Decides whether a WebSocket upgrade with this `Origin` is allowed.
///
/// - No `Origin` header: allowed. Browsers always send one on WebSocket requests, so its
///   absence means a non-browser client, which cannot borrow a victim's cookies.
/// - A non-empty allow-list: the origin must equal an entry (`scheme://host[:port]`, case
///   insensitive, trailing `/` ignored).
/// - Otherwise: the origin's `host[:port]` must equal the request's `Host` header.
pub(crate) fn allowed(origin: Option<&str>, host: Option<&str>, allow_list: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let origin = origin.trim().trim_end_matches('/');
    if !allow_list.is_empty() {
        return allow_list
            .iter()
            .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(origin));
    }
    // "null" (sandboxed iframes, file://) has no authority and is refused here.
    let Some((_scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    host.is_some_and(|h| h.trim().eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn same_host_by_default() {
        assert!(allowed(
            Some("http://127.0.0.1:8000"),
            Some("127.0.0.1:8000"),
            &[]
        ));
        assert!(allowed(
            Some("https://Example.com"),
            Some("example.com"),
            &[]
        ));
        assert!(!allowed(
            Some("http://evil.test"),
            Some("127.0.0.1:8000"),
            &[]
        ));
        assert!(!allowed(
            Some("http://127.0.0.1:9999"),
            Some("127.0.0.1:8000"),
            &[]
        ));
        assert!(!allowed(Some("null"), Some("127.0.0.1:8000"), &[]));
        assert!(!allowed(Some("http://a.test"), None, &[]));
    }

    #[test]
    fn missing_origin_is_a_non_browser_client() {
        assert!(allowed(None, Some("x"), &[]));
    }

    #[test]
    fn allow_list_replaces_the_host_rule() {
        let list = vec!["https://app.example.com/".to_owned()];
        assert!(allowed(
            Some("https://app.example.com"),
            Some("internal:8080"),
            &list
        ));
        assert!(!allowed(
            Some("http://internal:8080"),
            Some("internal:8080"),
            &list
        ));
    }
}
