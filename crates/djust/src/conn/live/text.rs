//! The connection loop's shared-text side: the client's `text_sync` and `text_update` frames,
//! and what the connection's fields produce (other connections' updates, acknowledgements once
//! the client's updates are durable). See `crate::text` and `docs/protocol.md`, *Shared text*.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use djust_text::{Caret, CaretEvent};
use serde_json::Value;

use super::{Flow, Live};
use crate::conn::io::Transport;
use crate::protocol::{CaretOut, ServerFrame, TextClientFrame, code};
use crate::socket::Socket;
use crate::text::TextEvent;
use crate::view::LiveView;

/// The longest accepted encoded relative position (base64). One is a few bytes (a client id
/// and a clock, or the type's name); this leaves ample room.
const MAX_POSITION_B64: usize = 256;

/// Longest caret name and colour taken from the presence meta (longer ones are cut).
const MAX_LABEL_CHARS: usize = 64;

/// The name and colour a connection's caret is drawn with.
fn caret_label(socket: &Socket) -> (String, String) {
    let meta = socket.presence_link().meta();
    let pick = |key: &str| {
        meta.as_ref()
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.chars().take(MAX_LABEL_CHARS).collect::<String>())
    };
    let identity = socket.identity();
    (
        pick("name").unwrap_or_else(|| identity.display_name()),
        pick("color").unwrap_or_else(|| identity.color().to_owned()),
    )
}

/// The next shared-text event of the connection (never, while the view has no field).
pub(super) async fn recv(socket: &mut Socket) -> TextEvent {
    socket.text_link().next().await
}

impl<V: LiveView, T: Transport> Live<V, T> {
    /// A `text_sync` or `text_update` frame from the client.
    pub(super) async fn on_shared_text(&mut self, frame: TextClientFrame) -> Flow {
        match frame {
            TextClientFrame::Sync { field, sv } => self.text_sync(&field, &sv).await,
            TextClientFrame::Update { field, id, update } => {
                self.text_update(&field, id, &update).await
            }
            TextClientFrame::Caret {
                field,
                anchor,
                head,
            } => self.text_caret(&field, anchor, head).await,
        }
    }

    /// The client's caret: shown to the document's other connections under this connection's
    /// name and colour (its presence meta's `name` / `color`, else the identity's defaults).
    async fn text_caret(&mut self, name: &str, anchor: String, head: String) -> Flow {
        let valid = |p: &str| {
            p.len() <= MAX_POSITION_B64 && B64.decode(p).is_ok_and(|bytes| !bytes.is_empty())
        };
        if !valid(&anchor) || !valid(&head) {
            let msg = format!(
                "`anchor` and `head` must be encoded Yjs relative positions in base64, at most {MAX_POSITION_B64} characters"
            );
            return self
                .text_error(name, None, code::TEXT_BAD_CARET, &msg)
                .await;
        }
        let (label, color) = caret_label(&self.socket);
        let link = self.socket.text_link();
        let (origin, peer) = (link.origin(), link.peer());
        let Some(field) = link.field(name) else {
            return self.unknown_field(name, None).await;
        };
        let caret = Caret {
            peer,
            name: label.into(),
            color: color.into(),
            anchor: anchor.into(),
            head: head.into(),
        };
        // A document with MAX_CARETS carets shows no more; the caret is simply not shown.
        field.doc.set_caret(origin, caret);
        Flow::Continue
    }

    /// Every other connection's caret on `name` (after a sync, or after a lag: `always`, so
    /// that carets gone meanwhile are dropped too).
    async fn send_carets(&mut self, name: &str, always: bool) -> Flow {
        let link = self.socket.text_link();
        let peer = link.peer();
        let Some(field) = link.field(name) else {
            return Flow::Continue;
        };
        let carets = field.doc.carets();
        let out = carets
            .iter()
            .filter(|c| c.peer != peer)
            .map(|c| CaretOut {
                peer: &c.peer,
                name: &c.name,
                color: &c.color,
                anchor: &c.anchor,
                head: &c.head,
            })
            .collect::<Vec<_>>();
        if out.is_empty() && !always {
            return Flow::Continue;
        }
        self.send(&ServerFrame::TextCarets {
            field: name,
            carets: out,
        })
        .await
    }

    async fn text_sync(&mut self, name: &str, sv: &str) -> Flow {
        let Ok(sv) = B64.decode(sv) else {
            let msg = "`sv` is not base64 (standard alphabet, padded)";
            return self
                .text_error(name, None, code::TEXT_BAD_UPDATE, msg)
                .await;
        };
        let Some(field) = self.socket.text_link().field(name) else {
            return self.unknown_field(name, None).await;
        };
        // Forward from now on; what was queued before is in the diff below.
        field.start_forwarding();
        let answer = field
            .doc
            .diff(&sv)
            .map(|update| (update, field.doc.state_vector()));
        match answer {
            Ok((update, server_sv)) => {
                let frame = ServerFrame::TextSync {
                    field: name,
                    update: B64.encode(update),
                    sv: B64.encode(server_sv),
                };
                match self.send(&frame).await {
                    // A fresh connection shows no carets: only a non-empty set is news.
                    Flow::Continue => self.send_carets(name, false).await,
                    stop => stop,
                }
            }
            Err(e) => self.text_error(name, None, e.code(), &e.to_string()).await,
        }
    }

    async fn text_update(&mut self, name: &str, id: Value, update: &str) -> Flow {
        // An update costs a token like an event; the client keeps it and sends it again.
        if !self.bucket.try_take(tokio::time::Instant::now()) {
            let msg = "too many updates: this one was not applied; send it again later";
            return self
                .text_error(name, Some(&id), code::RATE_LIMITED, msg)
                .await;
        }
        let Ok(bytes) = B64.decode(update) else {
            let msg = "`update` is not base64 (standard alphabet, padded)";
            return self
                .text_error(name, Some(&id), code::TEXT_BAD_UPDATE, msg)
                .await;
        };
        let origin = self.socket.text_link().origin();
        let Some(field) = self.socket.text_link().field(name) else {
            return self.unknown_field(name, Some(&id)).await;
        };
        match field.doc.apply(&bytes, origin) {
            Ok(generation) => {
                if field.expect_ack(generation, id.clone()) {
                    Flow::Continue
                } else {
                    let msg = "too many unacknowledged updates; wait for acks before sending more";
                    self.text_error(name, Some(&id), code::RATE_LIMITED, msg)
                        .await
                }
            }
            Err(e) => {
                tracing::warn!(conn = %self.socket.conn_id(), field = %name.escape_debug(), error = %e, "djust: shared-text update refused");
                self.text_error(name, Some(&id), e.code(), &e.to_string())
                    .await
            }
        }
    }

    /// Something the connection's fields produced: forward it to the client.
    pub(super) async fn on_text_event(&mut self, event: TextEvent) -> Flow {
        match event {
            TextEvent::Update { field, update } => {
                let frame = ServerFrame::TextUpdate {
                    field: &field,
                    update: B64.encode(update),
                };
                self.send(&frame).await
            }
            TextEvent::Lagged { field } => {
                // Updates were dropped for this slow connection: send the whole document, which
                // the client merges (what it has already changes nothing).
                crate::metrics::text_resync("connection");
                let whole = self
                    .socket
                    .text_link()
                    .field(&field)
                    .and_then(|f| f.doc.diff(&[]).ok());
                let Some(whole) = whole else {
                    return Flow::Continue;
                };
                let frame = ServerFrame::TextUpdate {
                    field: &field,
                    update: B64.encode(whole),
                };
                self.send(&frame).await
            }
            TextEvent::Caret { field, event } => {
                let frame = match &event {
                    CaretEvent::Moved(c) => ServerFrame::TextCaret {
                        field: &field,
                        peer: &c.peer,
                        name: Some(&c.name),
                        color: Some(&c.color),
                        anchor: Some(&c.anchor),
                        head: Some(&c.head),
                    },
                    CaretEvent::Gone(peer) => ServerFrame::TextCaret {
                        field: &field,
                        peer,
                        name: None,
                        color: None,
                        anchor: None,
                        head: None,
                    },
                };
                self.send(&frame).await
            }
            TextEvent::CaretsLagged { field } => self.send_carets(&field, true).await,
            TextEvent::Acks { field, ids } => {
                self.send(&ServerFrame::TextAck {
                    field: &field,
                    ids: &ids,
                })
                .await
            }
        }
    }

    async fn unknown_field(&mut self, name: &str, id: Option<&Value>) -> Flow {
        let msg = format!(
            "this view has no shared-text field `{}`; declare it with socket.shared_text in mount",
            name.escape_debug()
        );
        self.text_error(name, id, code::TEXT_UNKNOWN_FIELD, &msg)
            .await
    }

    async fn text_error(&mut self, field: &str, id: Option<&Value>, code: &str, msg: &str) -> Flow {
        self.send(&ServerFrame::TextError {
            field,
            id,
            code,
            message: msg,
        })
        .await
    }
}
