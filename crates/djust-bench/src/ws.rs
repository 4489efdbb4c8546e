//! The live-view WebSocket: connecting like a browser (Origin, cookies), mounting, and reading
//! the few fields of a server frame the bench needs.

use std::borrow::Cow;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::http::CookieJar;
use crate::target::Target;

/// A client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The fields of a server frame the bench looks at; the rest is skipped unparsed.
#[derive(Debug, Deserialize)]
pub struct FrameHead<'a> {
    /// The frame type (`mounted`, `patch`, `push`, `render`, `heartbeat`, `error`, ...).
    #[serde(borrow)]
    pub t: Cow<'a, str>,
    /// An `error` frame's code.
    #[serde(default, borrow)]
    pub code: Option<Cow<'a, str>>,
    /// `mounted`: how often to send heartbeats.
    #[serde(default)]
    pub heartbeat_ms: Option<u64>,
}

impl<'a> FrameHead<'a> {
    /// Parses the head of a text frame.
    pub fn parse(text: &'a str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A successful mount.
#[derive(Debug)]
pub struct Mounted {
    /// The `mounted` frame's text (its HTML shows the initial presence count).
    pub frame: Utf8Bytes,
    /// Heartbeat interval the server asked for.
    pub heartbeat_ms: u64,
}

/// Connects to the live-view socket with `jar`'s cookies and a same-origin `Origin`, with
/// Nagle off (the bench measures latency) and a `read_buffer` sized for many connections.
///
/// # Errors
/// The handshake's error, as text (it is counted, not fatal, for one connection).
pub async fn connect(target: &Target, jar: &CookieJar, read_buffer: usize) -> Result<Ws, String> {
    let mut req = target
        .ws_url()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    let headers = req.headers_mut();
    headers.insert(
        "Origin",
        HeaderValue::from_str(&target.origin()).map_err(|e| e.to_string())?,
    );
    if let Some(cookie) = jar.header() {
        headers.insert(
            "Cookie",
            HeaderValue::from_str(&cookie).map_err(|e| e.to_string())?,
        );
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(ws)
}

/// Sends `mount` for `path` and waits for `mounted`.
///
/// # Errors
/// The server's `error` (code and message), a close, or a transport error, as text.
pub async fn mount(ws: &mut Ws, path: &str) -> Result<Mounted, String> {
    let frame = serde_json::json!({"t": "mount", "v": 2, "ref": 1, "path": path, "query": ""});
    ws.send(Message::text(frame.to_string()))
        .await
        .map_err(|e| format!("send mount: {e}"))?;
    while let Some(msg) = ws.next().await {
        match msg.map_err(|e| format!("mount: {e}"))? {
            Message::Text(text) => {
                let Some(head) = FrameHead::parse(&text) else {
                    return Err(format!("mount: not a djust frame: {:.200}", text.as_str()));
                };
                match head.t.as_ref() {
                    "mounted" => {
                        let heartbeat_ms = head.heartbeat_ms.unwrap_or(30_000);
                        return Ok(Mounted {
                            frame: text,
                            heartbeat_ms,
                        });
                    }
                    "error" => return Err(format!("mount refused: {:.300}", text.as_str())),
                    _ => {}
                }
            }
            Message::Close(frame) => return Err(format!("closed during mount: {frame:?}")),
            _ => {}
        }
    }
    Err("connection ended during mount".into())
}

/// The text of a `cursor_move` event at `(x, y)`, flagged `coalesce` like the browser's
/// throttled `dj-mousemove`.
pub fn cursor_move_frame(x: i64, y: i64) -> String {
    format!(r#"{{"t":"event","name":"cursor_move","payload":{{"x":{x},"y":{y}}},"coalesce":true}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_without_the_body() {
        let h = FrameHead::parse(r#"{"t":"patch","ver":3,"ops":[["t",[0],"x"]]}"#).unwrap();
        assert_eq!(h.t, "patch");
        let h = FrameHead::parse(r#"{"t":"error","code":"rate_limited","message":"m"}"#).unwrap();
        assert_eq!(h.code.as_deref(), Some("rate_limited"));
        let h = FrameHead::parse(r#"{"t":"mounted","heartbeat_ms":2000,"html":"<p>"}"#).unwrap();
        assert_eq!(h.heartbeat_ms, Some(2000));
        assert!(FrameHead::parse("not json").is_none());
    }

    #[test]
    fn cursor_move_is_a_protocol_event() {
        let v: serde_json::Value = serde_json::from_str(&cursor_move_frame(101, -2)).unwrap();
        assert_eq!(v["t"], "event");
        assert_eq!(v["name"], "cursor_move");
        assert_eq!(v["payload"]["x"], 101);
        assert_eq!(v["payload"]["y"], -2);
        assert_eq!(v["coalesce"], true);
    }
}
