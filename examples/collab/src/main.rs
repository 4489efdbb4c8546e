//! `cargo run --release -p collab [-- --db collab.sqlite3 --port 8000 --host 127.0.0.1]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::serve::ListenerExt;
use clap::Parser;
use collab::{AppOptions, app_parts};
use djust::DjustConfig;

/// The collaborative editor example of djust: presence, live cursors and a shared textarea.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// SQLite database file (created with a seeded document if missing).
    #[arg(long, default_value = "collab.sqlite3")]
    db: PathBuf,
    /// Port to listen on.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("collab: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // DJUST_* variables (secret key, tick, heartbeat, ...) as documented in docs/runtime.md.
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
    tracing::info!(db = %args.db.display(), "collab: documents database");
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
