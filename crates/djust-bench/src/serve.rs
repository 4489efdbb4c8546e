//! `djust-bench serve`: the collab app exactly as `examples/collab/src/main.rs` runs it (keep
//! the two in step), so the bench can start the server as a separate process without a
//! second build. `--server-bin target/release/collab` runs the real binary instead.

use std::net::SocketAddr;

use axum::serve::ListenerExt;
use collab::{AppOptions, app_parts};
use djust::DjustConfig;

use crate::cli::ServeArgs;

/// Serves until killed. Prints `collab: serving http://ADDR/` once listening (the line the
/// bench waits for).
///
/// # Errors
/// A bad `DJUST_*` variable, an unusable database or a port that cannot be bound.
pub async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = DjustConfig::from_env()?;
    let (router, handle) = app_parts(AppOptions::new(&args.db).config(config))?;
    let addr = SocketAddr::new(args.host, args.port);
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
