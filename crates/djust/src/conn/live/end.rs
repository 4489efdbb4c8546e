//! How a connection ends: a refused mount, and after the loop the view's `terminate`, the
//! presence exit its close reason calls for, and the Close frame.

use serde_json::Value;

use super::Live;
use crate::app::App;
use crate::conn::io::{self, Transport};
use crate::conn::warn::clip;
use crate::error::ViewError;
use crate::protocol::{close, code};
use crate::view::{CloseReason, LiveView};

/// Answers a refused or failed mount (`authorize` or `mount` returned `err`): an `error` frame,
/// then the close code that tells the client whether retrying can help.
pub(super) async fn refuse_mount<T: Transport>(
    io: &mut T,
    app: &App,
    path: &str,
    reference: Option<&Value>,
    err: &ViewError,
) {
    let (code, close_code, reason) = match err {
        ViewError::NotFound(_) => (code::NOT_FOUND, close::MOUNT_REFUSED, "mount failed"),
        ViewError::Forbidden(_) => (code::FORBIDDEN, close::FORBIDDEN, "forbidden"),
        ViewError::BadRequest(_) | ViewError::Param(_) => {
            (code::MOUNT_FAILED, close::MOUNT_REFUSED, "mount failed")
        }
        _ => (code::MOUNT_FAILED, close::MOUNT_ERROR, "mount failed"),
    };
    // The path comes from the client: clipped and escaped in the log.
    tracing::warn!(path = ?clip(path), error = %err, "djust: mount refused or failed");
    let msg = err.to_string();
    let _ = io::send_error(io, reference, code, &msg, app.config.send_timeout).await;
    io::close(io, close_code, reason).await;
}

impl<V: LiveView, T: Transport> Live<V, T> {
    /// The loop ended for `reason`: runs `terminate`, leaves presence as the reason calls for,
    /// and sends the Close frame.
    pub(super) async fn end(&mut self, reason: CloseReason) {
        tracing::debug!(conn = %self.socket.conn_id(), ?reason, "djust: connection closed");
        Box::pin(self.view.terminate(&reason, &mut self.socket)).await;
        let presence = self.socket.presence_link();
        match reason {
            // Silent: its presence expires at `presence_timeout` after its last heartbeat.
            CloseReason::IdleTimeout => presence.abandon(),
            _ => presence.terminate(reason.is_clean()),
        }
        match reason {
            CloseReason::Server => {
                let text = if crate::shutdown::is_shutting_down(&self.app) {
                    "service restart"
                } else {
                    "closed by server"
                };
                io::close(&mut self.io, close::SERVER_CLOSE, text).await;
            }
            CloseReason::IdleTimeout => {
                io::close(&mut self.io, close::GOING_AWAY, "idle timeout").await;
            }
            CloseReason::SendTimeout => {
                tracing::info!(conn = %self.socket.conn_id(), "djust: client did not read within send_timeout; closed");
                io::close(
                    &mut self.io,
                    close::POLICY,
                    "send timeout: the client did not read",
                )
                .await;
            }
            // Send the Close reply the codec queued.
            CloseReason::Client { .. } => self.io.flush().await,
            // The peer is gone, or the violation's Close was sent already.
            CloseReason::ConnectionLost | CloseReason::ProtocolViolation => {}
        }
    }
}
