//! Serving the app with djust's [`Server`]: `TCP_NODELAY`, header-read timeout, connection
//! limits, and a graceful shutdown on SIGTERM or Ctrl-C (every browser gets Close 1012 and
//! reconnects, every view's `terminate` runs, and with the Redis backend this process's users
//! leave on the other processes at once). Shared by `main.rs` and the benchmark's server mode,
//! so both run the very same server.

use std::net::SocketAddr;

use djust::{ServeOptions, Server};

use crate::{AppOptions, app_parts};

/// Builds the app and serves it on `addr` until SIGTERM or Ctrl-C, with the `DJUST_*` serve
/// settings (`docs/deployment.md`, *Limits and defaults*). Prints `collab: serving
/// http://ADDR/` once listening (scripts wait for that line).
///
/// # Errors
/// An unusable database, a configuration djust rejects, or an address that cannot be bound.
pub async fn serve(opts: AppOptions, addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let db = opts.db_path.clone();
    let serve_options = ServeOptions::from_env()?;
    let (router, handle) = app_parts(opts)?;
    let server = Server::bind_with_backlog(addr, serve_options.listen_backlog)
        .await
        .map_err(|e| format!("{e} (try another --port)"))?
        .options(serve_options);
    let local = server.local_addr()?;
    println!("collab: serving http://{local}/");
    tracing::info!(db = %db.display(), "collab: documents database");
    server.run(router, handle).await?;
    Ok(())
}
