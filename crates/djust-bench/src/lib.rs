//! `djust-bench`: a load generator for djust that speaks the real live-view protocol over
//! real WebSockets to the collab example, and prints one JSON line per run.
//!
//! Scenarios (`djust-bench <scenario> --help` lists the options):
//!
//! - `cursor-storm`: R rooms x U users, each moving the cursor at H Hz for T s; latency from a
//!   move to each peer's first frame showing it (or a newer position of the same user: renders
//!   are coalesced), delivery ratio within 1 s, frames and bytes per client, server CPU/RSS.
//! - `join-storm`: N users join one room at once; time until every client shows N.
//! - `idle`: C connections in rooms of k; server RSS per connection beyond the baseline.
//! - `multi-node`: two processes sharing presence through Redis; cross-process latency and
//!   the clean-up time after `kill -9` of one process.
//!
//! The bench starts the server itself (a separate process, so `/proc` numbers are the
//! server's own) unless `--url` names a running one. See `docs/benchmarks.md`.
//!
//! How a peer frame is matched to the moves it shows: every move encodes its sender and
//! sequence number in its coordinates, and the matchers find positions in any frame.
//!
//! ```
//! use djust_bench::latency::{PeerTracker, RoomLog, encode};
//! use djust_bench::matcher::{PositionMatcher, StyleMatcher};
//!
//! // Sender 1 of a two-user room sends moves 1 and 2 at t = 0 and t = 50 ms.
//! let log = RoomLog::new(2, 10);
//! log.record_send(1, 1, 0);
//! log.record_send(1, 2, 50_000_000);
//! assert_eq!(encode(1, 2).x, 102);
//!
//! // Peer 0 receives one coalesced patch showing only move 2, at t = 60 ms.
//! let frame = r#"{"t":"patch","ver":4,"ops":[["a",[1,3,1],"style","left: 102px; top: 101px;"]]}"#;
//! let mut seen = Vec::new();
//! StyleMatcher::default().scan("patch", frame, &mut seen);
//! let mut peer = PeerTracker::new(0, 2);
//! let resolved = peer.observe(&log, seen[0], 60_000_000);
//! assert_eq!(resolved.within_deadline, 2); // move 1 was skipped, not lost
//! assert_eq!(peer.total().hist.max() / 1000, 60); // move 1 waited 60 ms
//! ```

#![warn(missing_docs)]

pub mod cli;
pub(crate) mod client;
pub mod error;
pub(crate) mod http;
pub mod latency;
pub mod matcher;
pub mod procfs;
mod scenario;
mod serve;
pub(crate) mod server;
pub(crate) mod setup;
pub mod target;
pub(crate) mod ws;

use std::process::ExitCode;

use clap::Parser;

pub use crate::cli::{Cli, Command};
pub use crate::error::BenchError;

/// Runs one scenario and returns its report (the JSON line). Call inside a multi-threaded
/// Tokio runtime.
///
/// # Errors
/// [`BenchError`] when the run cannot be set up (server, rooms, logins); errors *during* the
/// run are counted in the report instead.
pub async fn run(command: Command) -> Result<serde_json::Value, BenchError> {
    match command {
        Command::CursorStorm(a) => scenario::cursor_storm::run(a).await,
        Command::JoinStorm(a) => scenario::join_storm::run(a).await,
        Command::Idle(a) => scenario::idle::run(a).await,
        Command::MultiNode(a) => scenario::multi_node::run(a).await,
        Command::Typing(a) => scenario::typing::run(a).await,
        Command::Serve(_) => Err(BenchError::Params(
            "`serve` runs the server; it is not a scenario".into(),
        )),
    }
}

/// The `djust-bench` executable: parses the command line, runs the scenario (or the server),
/// prints the JSON line on stdout.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Serve(args) = cli.command {
        // The server gets Tokio's default runtime, like collab's `#[tokio::main]`.
        let served = tokio::runtime::Runtime::new()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(serve::serve(args)).map_err(|e| e.to_string()));
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("collab: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // Thousands of sockets in `idle`; the server started by the bench inherits the limit.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("djust-bench: cannot raise the open-files limit: {e}");
    }
    let threads = match &cli.command {
        Command::CursorStorm(a) => a.common.threads,
        Command::JoinStorm(a) => a.common.threads,
        Command::Idle(a) => a.common.threads,
        Command::MultiNode(a) => a.common.threads,
        Command::Typing(a) => a.common.threads,
        Command::Serve(_) => 1,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("djust-bench: cannot start the Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("djust-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
