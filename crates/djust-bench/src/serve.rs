//! `djust-bench serve`: the collab app exactly as `examples/collab/src/main.rs` runs it (both
//! call `collab::serve`), so the bench can start the server as a separate process without a
//! second build. `--server-bin target/release/collab` runs the real binary instead.

use std::net::SocketAddr;

use collab::AppOptions;
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
    let addr = SocketAddr::new(args.host, args.port);
    collab::serve(AppOptions::new(&args.db).config(config), addr).await
}
