//! `cargo run --release -p collab [-- --db collab.sqlite3 --port 8000 --host 127.0.0.1]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use collab::AppOptions;
use djust::DjustConfig;

// A server allocating many small, short-lived values per frame runs measurably faster on
// mimalloc than on glibc's malloc (see docs/benchmarks.md); djust itself does not choose one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    // `RUST_LOG` (default: info), `DJUST_LOG_FORMAT=json` for JSON lines.
    if let Err(e) = djust::ops::init_tracing() {
        eprintln!("collab: {e}");
        return ExitCode::FAILURE;
    }
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
    let addr = SocketAddr::new(args.host, args.port);
    collab::serve(AppOptions::new(&args.db).config(config), addr).await
}
