//! The HTTP side of a user's arrival: `POST /login` (the signed login cookie) and the
//! page GET (the `djust_session` cookie), over a keep-alive HTTP/1.1 connection.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;

use crate::error::BenchError;
use crate::target::Target;

/// The cookies one simulated browser holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// Stores the cookie of a `Set-Cookie` header value (attributes are ignored; an empty
    /// value deletes it).
    pub fn set_from_header(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        self.cookies.retain(|(n, _)| n != name);
        if !value.is_empty() {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    /// The `Cookie` header value, or `None` when empty.
    pub fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        Some(
            self.cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// Whether a cookie called `name` is held.
    pub fn has(&self, name: &str) -> bool {
        self.cookies.iter().any(|(n, _)| n == name)
    }
}

/// One keep-alive HTTP/1.1 connection to the server.
pub struct HttpConn {
    target: Target,
    sender: SendRequest<Full<Bytes>>,
}

impl HttpConn {
    /// Connects.
    ///
    /// # Errors
    /// [`BenchError::Http`] if the TCP connection or handshake fails.
    pub async fn connect(target: &Target) -> Result<Self, BenchError> {
        let err = |detail: String| BenchError::Http {
            what: format!("connect to {}", target.http_base()),
            detail,
        };
        let tcp = tokio::net::TcpStream::connect(target.authority())
            .await
            .map_err(|e| err(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| err(e.to_string()))?;
        tokio::spawn(async move {
            // Ends when the server closes the connection; the next request reconnects.
            let _ = conn.await;
        });
        Ok(Self {
            target: target.clone(),
            sender,
        })
    }

    /// `GET path` with the jar's cookies; stores the response's cookies in the jar and reads
    /// the whole body. Reconnects once if the kept-alive connection was closed.
    ///
    /// # Errors
    /// [`BenchError::Http`] on a transport error or a status other than 2xx/3xx.
    pub async fn get(&mut self, path: &str, jar: &mut CookieJar) -> Result<StatusCode, BenchError> {
        self.send("GET", path, None, jar).await
    }

    /// `POST path` with a form `body` (`application/x-www-form-urlencoded`) and the jar's
    /// cookies, like [`HttpConn::get`]. No `Origin` is sent: a non-browser client.
    ///
    /// # Errors
    /// As for [`HttpConn::get`].
    pub async fn post_form(
        &mut self,
        path: &str,
        body: &str,
        jar: &mut CookieJar,
    ) -> Result<StatusCode, BenchError> {
        self.send("POST", path, Some(body), jar).await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        form: Option<&str>,
        jar: &mut CookieJar,
    ) -> Result<StatusCode, BenchError> {
        if self.sender.ready().await.is_err() {
            *self = Self::connect(&self.target).await?;
        }
        let err = |detail: String| BenchError::Http {
            what: format!("{method} {path}"),
            detail,
        };
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.target.authority());
        if let Some(cookie) = jar.header() {
            req = req.header(COOKIE, cookie);
        }
        let body = match form {
            Some(form) => {
                req = req.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::from(form.to_owned()))
            }
            None => Full::new(Bytes::new()),
        };
        let req = req.body(body).map_err(|e| err(e.to_string()))?;
        let res = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| err(e.to_string()))?;
        let status = res.status();
        for value in res.headers().get_all(SET_COOKIE) {
            if let Ok(v) = value.to_str() {
                jar.set_from_header(v);
            }
        }
        res.into_body()
            .collect()
            .await
            .map_err(|e| err(e.to_string()))?;
        if status.is_client_error() || status.is_server_error() {
            return Err(err(format!("status {status}")));
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jar_keeps_the_latest_value_per_name() {
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.set_from_header("collab_user=abc%20def; Path=/; HttpOnly; SameSite=Lax");
        jar.set_from_header("djust_session=k1; Path=/");
        jar.set_from_header("djust_session=k2; Path=/");
        assert_eq!(
            jar.header().unwrap(),
            "collab_user=abc%20def; djust_session=k2"
        );
        assert!(jar.has("collab_user"));
        jar.set_from_header("collab_user=; Max-Age=0");
        assert!(!jar.has("collab_user"));
        jar.set_from_header("no-equals-sign");
        assert_eq!(jar.header().unwrap(), "djust_session=k2");
    }
}
