//! The connection loop's shared-text side: the client's `text_sync` and `text_update` frames,
//! and what the connection's fields produce (other connections' updates, acknowledgements once
//! the client's updates are durable). See `crate::text` and `docs/protocol.md`, *Shared text*.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::{Flow, Live};
use crate::conn::io::Transport;
use crate::protocol::{ServerFrame, TextClientFrame, code};
use crate::socket::Socket;
use crate::text::TextEvent;
use crate::view::LiveView;

/// The next shared-text event of the connection (never, while the view has no field).
pub(super) async fn recv(socket: &mut Socket) -> TextEvent {
    socket.text_link().next().await
}

impl<V: LiveView, T: Transport> Live<V, T> {
    /// A `text_sync` or `text_update` frame from the client.
    pub(super) async fn on_shared_text(&mut self, frame: TextClientFrame) -> Flow {
        match frame {
            TextClientFrame::TextSync { field, sv } => self.text_sync(&field, &sv).await,
            TextClientFrame::TextUpdate { field, id, update } => {
                self.text_update(&field, id, &update).await
            }
        }
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
                self.send(&frame).await
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
