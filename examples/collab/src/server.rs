//! Serving the app: bind, `TCP_NODELAY`, serve until Ctrl-C, then a clean presence shutdown.
//! Shared by `main.rs` and the benchmark's server mode, so both run the very same server.

use std::net::SocketAddr;

use axum::serve::ListenerExt;

use crate::{AppOptions, app_parts};

/// Builds the app and serves it on `addr` until Ctrl-C. Prints `collab: serving http://ADDR/`
/// once listening (scripts wait for that line). With the Redis backend, this process's users
/// leave on the other processes at once when it stops.
///
/// # Errors
/// An unusable database, a configuration djust rejects, or an address that cannot be bound.
pub async fn serve(opts: AppOptions, addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let db = opts.db_path.clone();
    let (router, handle) = app_parts(opts)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e} (try another --port)"))?;
    let local = listener.local_addr()?;
    // Live views send many small frames: without TCP_NODELAY, Nagle's algorithm holds each one
    // back until the client's delayed ACK (20–40 ms of latency per update).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "collab: could not set TCP_NODELAY");
        }
    });
    println!("collab: serving http://{local}/");
    tracing::info!(db = %db.display(), "collab: documents database");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    // With the Redis backend: tell the other processes this one's users are gone.
    handle.shutdown().await;
    Ok(())
}
