//! The command line (`djust-bench <scenario> [options]`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Load generator for djust's collab example: speaks the live-view protocol over real
/// WebSockets and prints one JSON line per run on stdout (progress goes to stderr).
#[derive(Debug, Parser)]
#[command(name = "djust-bench", version, about)]
pub struct Cli {
    /// The scenario to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// R rooms x U users each moving the cursor at H Hz for T seconds.
    CursorStorm(CursorStormArgs),
    /// N users join one room at once: time until every client shows N, frames per client.
    JoinStorm(JoinStormArgs),
    /// C idle connections tracked in rooms of k: server RSS per connection.
    Idle(IdleArgs),
    /// Two server processes sharing presence through Redis: cross-process cursor latency and
    /// clean-up after kill -9 of one process.
    MultiNode(MultiNodeArgs),
    /// U users typing C characters/s each into one shared-text document (Yjs updates made
    /// with yrs): keystroke-to-peer latency, server CPU, and the same text everywhere at the end.
    Typing(TypingArgs),
    /// Runs the collab app (what `cargo run -p collab` runs); used by the scenarios to start
    /// the server as a separate process.
    #[command(hide = true)]
    Serve(ServeArgs),
}

/// Options every scenario has.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// A running server to measure (`http://127.0.0.1:8000`); by default the bench starts one
    /// on a free port with a fresh database. Server CPU/RSS are then only reported if
    /// `--server-pid` is given.
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: the server's pid, for its CPU and RSS.
    #[arg(long, requires = "url")]
    pub server_pid: Option<u32>,
    /// Start this collab binary (e.g. target/release/collab) instead of the bench's built-in
    /// copy of the app; it is run as `BIN --port 0 --db PATH`.
    #[arg(long, conflicts_with = "url")]
    pub server_bin: Option<PathBuf>,
    /// Extra environment for the started server(s), e.g. `--server-env DJUST_TICK_MS=10`
    /// (repeatable).
    #[arg(long = "server-env", value_name = "KEY=VALUE")]
    pub server_env: Vec<String>,
    /// Worker threads of the load generator (its CPU is reported; keep it below the cores
    /// the server needs).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// How many WebSockets connect and mount at once (default: scenario-specific).
    #[arg(long)]
    pub connect_concurrency: Option<usize>,
    /// Parallel HTTP connections for logins and page loads.
    #[arg(long, default_value_t = 8)]
    pub http_concurrency: usize,
    /// Anonymous visitors instead of logged-in users (no `/login`).
    #[arg(long)]
    pub anon: bool,
    /// Skip the page GET before the WebSocket (saves a render per user during set-up).
    #[arg(long)]
    pub no_page: bool,
    /// WebSocket read buffer per client, bytes.
    #[arg(long, default_value_t = 16 * 1024)]
    pub ws_read_buffer: usize,
    /// Text following the presence count in the page (`<h3>N Editing</h3>`).
    #[arg(long, default_value = " Editing")]
    pub count_suffix: String,
    /// Keep the scratch directory (database, server logs) after the run; its path is in the
    /// report.
    #[arg(long)]
    pub keep_scratch: bool,
    /// A free-form label copied into the JSON line.
    #[arg(long)]
    pub label: Option<String>,
}

/// `cursor-storm` options.
#[derive(Debug, Clone, Args)]
pub struct CursorStormArgs {
    /// Rooms (documents).
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// Users per room.
    #[arg(long, default_value_t = 10)]
    pub users: usize,
    /// Users per room who move (the first K; the others only watch). Default: all.
    #[arg(long)]
    pub movers: Option<usize>,
    /// Cursor moves per second per user.
    #[arg(long, default_value_t = 20.0)]
    pub hz: f64,
    /// Seconds of moving.
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// Seconds to wait after the last move for late frames.
    #[arg(long, default_value_t = 2.0)]
    pub drain: f64,
    /// A crowd of this many users in one more room, measured apart (fairness: do the R rooms
    /// keep their latency next to a big room?).
    #[arg(long, default_value_t = 0)]
    pub crowd: usize,
    /// Crowd users who move (the first K) [default: all of the crowd].
    #[arg(long)]
    pub crowd_movers: Option<usize>,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `join-storm` options.
#[derive(Debug, Clone, Args)]
pub struct JoinStormArgs {
    /// Users joining the room at once (N).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Give up waiting for every client to show N after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `idle` options.
#[derive(Debug, Clone, Args)]
pub struct IdleArgs {
    /// Connections (C).
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    /// Users per room (k).
    #[arg(long, default_value_t = 10)]
    pub room_size: usize,
    /// Seconds to hold the connections idle before reading the server's memory.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `multi-node` options.
#[derive(Debug, Clone, Args)]
pub struct MultiNodeArgs {
    /// Users in the one room, split round-robin over the two processes.
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Cursor moves per second per user.
    #[arg(long, default_value_t = 20.0)]
    pub hz: f64,
    /// Seconds of moving.
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// Seconds to wait after the last move for late frames.
    #[arg(long, default_value_t = 2.0)]
    pub drain: f64,
    /// The servers' presence timeout (`DJUST_PRESENCE_TIMEOUT`), seconds: the kill -9
    /// clean-up target is this + 1 s.
    #[arg(long, default_value_t = 5.0)]
    pub presence_timeout: f64,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `typing` options.
#[derive(Debug, Clone, Args)]
pub struct TypingArgs {
    /// Users typing into the one document.
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    /// Characters per second per user.
    #[arg(long, default_value_t = 5.0)]
    pub cps: f64,
    /// Seconds of typing.
    #[arg(long, default_value_t = 20.0)]
    pub secs: f64,
    /// Seconds to wait after the last keystroke for the last updates and acknowledgements.
    #[arg(long, default_value_t = 2.0)]
    pub drain: f64,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `serve` options (the same as collab's binary).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// SQLite database file.
    #[arg(long, default_value = "collab.sqlite3")]
    pub db: PathBuf,
    /// Port (0: any free port; the URL is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
}
