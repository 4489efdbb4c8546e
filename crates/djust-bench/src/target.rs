//! Where the server under test listens, and the URLs derived from it.

use crate::error::BenchError;

/// A server's address (`http://host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or IP.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Target {
    /// Parses `http://host:port` (a trailing `/` or path is ignored).
    ///
    /// # Errors
    /// [`BenchError::BadUrl`] for anything else (https is not supported: the bench measures
    /// the server, not TLS).
    pub fn parse(url: &str) -> Result<Self, BenchError> {
        let bad = || BenchError::BadUrl(url.to_owned());
        let rest = url.trim().strip_prefix("http://").ok_or_else(bad)?;
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = authority.rsplit_once(':').ok_or_else(bad)?;
        let port = port.parse().map_err(|_| bad())?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// `http://host:port`.
    pub fn http_base(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// The `Origin` a browser on this server's pages would send.
    pub fn origin(&self) -> String {
        self.http_base()
    }

    /// The live-view WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://{}:{}/djust/ws", self.host, self.port)
    }

    /// `host:port` for a TCP connect.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The URL in the collab server's start-up line `collab: serving http://127.0.0.1:8000/`.
pub fn url_in_line(line: &str) -> Option<&str> {
    let start = line.find("http://")?;
    line[start..].split_whitespace().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_with_and_without_path() {
        let t = Target::parse("http://127.0.0.1:8000/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 8000));
        assert_eq!(t.ws_url(), "ws://127.0.0.1:8000/djust/ws");
        assert_eq!(Target::parse("http://localhost:1/doc/1").unwrap().port, 1);
        for bad in [
            "127.0.0.1:80",
            "https://a:1",
            "http://a",
            "http://:80",
            "http://a:x",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn finds_the_url_in_the_startup_line() {
        let line = "collab: serving http://127.0.0.1:41234/";
        assert_eq!(url_in_line(line), Some("http://127.0.0.1:41234/"));
        assert_eq!(url_in_line("collab: starting"), None);
    }
}
