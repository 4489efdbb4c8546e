//! The scenarios, and what they share: starting the stage (servers), running a crowd of
//! clients through phases, and the common parts of the report.

pub(crate) mod cursor_storm;
mod errors;
pub(crate) mod idle;
pub(crate) mod join_storm;
pub(crate) mod multi_node;
pub(crate) mod storm;
pub(crate) mod typing;
mod windows;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::cli::CommonArgs;
use crate::client::{
    ClientOutcome, ClientShared, ClientSpec, ConnState, FrameTypes, Phase, RunShared, run_client,
};
use crate::error::BenchError;
use crate::procfs::round3;
use crate::server::{ServerBin, ServerProcess, ServerSpec, parse_env};
use crate::setup::Arrival;
use crate::target::Target;

/// Prints progress to stderr (stdout carries only the JSON line).
macro_rules! progress {
    ($($arg:tt)*) => { eprintln!("djust-bench: {}", format_args!($($arg)*)) };
}
pub(crate) use progress;

pub(crate) use errors::ErrorReport;
pub(crate) use windows::{Windows, WindowsReport};

/// The run's scratch directory (database, server logs): removed at the end unless
/// `--keep-scratch`.
pub(crate) struct Scratch {
    path: std::path::PathBuf,
    _guard: Option<tempfile::TempDir>,
}

impl Scratch {
    /// Creates one; `keep` leaves it on disk after the run.
    pub fn new(keep: bool) -> Result<Self, BenchError> {
        // /dev/shm when there is one: SQLite's fsyncs on a real disk would make thousands of
        // logins a disk benchmark.
        let base = std::path::Path::new("/dev/shm");
        let dir = if base.is_dir() {
            tempfile::Builder::new()
                .prefix("djust-bench-")
                .tempdir_in(base)
        } else {
            tempfile::Builder::new().prefix("djust-bench-").tempdir()
        }
        .map_err(BenchError::io("create a scratch directory"))?;
        if keep {
            return Ok(Self {
                path: dir.keep(),
                _guard: None,
            });
        }
        Ok(Self {
            path: dir.path().to_owned(),
            _guard: Some(dir),
        })
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The path, if it outlives the run.
    pub fn kept(&self) -> Option<String> {
        self._guard
            .is_none()
            .then(|| self.path.display().to_string())
    }
}

/// The server(s) under test and the scratch directory of the run.
pub(crate) struct Stage {
    /// Scratch directory (database, logs).
    pub scratch: Scratch,
    /// Servers the bench started (empty with `--url`).
    pub servers: Vec<ServerProcess>,
    /// The (first) server's address.
    pub target: Target,
    /// The pid to read `/proc` of, if known.
    pub pid: Option<u32>,
}

impl Stage {
    /// Starts a server (unless `--url`), with `env` added to its environment.
    pub async fn single(common: &CommonArgs) -> Result<Self, BenchError> {
        let scratch = Scratch::new(common.keep_scratch)?;
        if let Some(url) = &common.url {
            return Ok(Self {
                scratch,
                servers: Vec::new(),
                target: Target::parse(url)?,
                pid: common.server_pid,
            });
        }
        let spec = server_spec(common, &scratch, 0, Vec::new())?;
        let server = ServerProcess::start(&spec).await?;
        progress!("server pid {} at {}", server.pid, server.target.http_base());
        Ok(Self {
            target: server.target.clone(),
            pid: Some(server.pid),
            servers: vec![server],
            scratch,
        })
    }

    /// `n` rooms (documents): made directly in the database when the bench started the server
    /// (the app limits document creation per user and per minute, which a benchmark of 1000
    /// rooms would hit), else created over the WebSocket like a user would.
    pub async fn rooms(&self, n: usize) -> Result<Vec<i64>, BenchError> {
        if !self.servers.is_empty() {
            return crate::setup::seed_rooms(&self.scratch.path().join("bench.sqlite3"), n).await;
        }
        // Over the WebSocket the list shows one page (50) of documents: enough for the rows
        // of docs/benchmarks.md that run against `--url`.
        crate::setup::ensure_rooms(&self.target, n).await
    }

    /// How the report describes the server.
    pub fn describe(&self) -> Value {
        json!({
            "url": self.target.http_base(),
            "pid": self.pid,
            "started_by_bench": !self.servers.is_empty(),
            "scratch": self.scratch.kept(),
        })
    }
}

/// The spec of server number `n` of a run (database `bench.sqlite3` in `dir`, shared).
pub(crate) fn server_spec(
    common: &CommonArgs,
    dir: &Scratch,
    n: usize,
    mut env: Vec<(String, String)>,
) -> Result<ServerSpec, BenchError> {
    // Every simulated user connects from 127.0.0.1: the per-address cap (a defence against
    // one client holding all sockets) would stop the run at 1024. `--server-env` may set it.
    env.insert(0, ("DJUST_MAX_CONNECTIONS_PER_IP".into(), "0".into()));
    env.extend(parse_env(&common.server_env)?);
    Ok(ServerSpec {
        bin: common
            .server_bin
            .clone()
            .map_or(ServerBin::BuiltIn, ServerBin::Path),
        db: dir.path().join("bench.sqlite3"),
        env,
        log: dir.path().join(format!("server{n}.log")),
    })
}

/// How users arrive, from the common options.
pub(crate) fn arrival(common: &CommonArgs) -> Arrival {
    Arrival {
        login: !common.anon,
        page: !common.no_page,
        concurrency: common.http_concurrency,
    }
}

/// A short id making this run's user names unique on a shared server.
pub(crate) fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

/// A fraction in 0..1 spreading client `g`'s sends over the period (golden-ratio sequence:
/// any number of clients ends up evenly spread, without randomness).
pub(crate) fn phase_of(g: usize) -> f64 {
    (g as f64 * 0.618_033_988_749_895).fract()
}

/// The clients of a run.
pub(crate) struct Crowd {
    pub run: Arc<RunShared>,
    phase: watch::Sender<Phase>,
    pub clients: Vec<Arc<ClientShared>>,
    tasks: Vec<JoinHandle<ClientOutcome>>,
}

impl Crowd {
    /// Starts every client (they connect and mount, at most `concurrency` at a time).
    pub fn spawn(specs: Vec<ClientSpec>, run: Arc<RunShared>, concurrency: usize) -> Self {
        let (phase, rx) = watch::channel(Phase::Hold);
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        let mut clients = Vec::with_capacity(specs.len());
        let mut tasks = Vec::with_capacity(specs.len());
        for spec in specs {
            let me = Arc::new(ClientShared::default());
            clients.push(me.clone());
            tasks.push(tokio::spawn(run_client(
                spec,
                run.clone(),
                me,
                rx.clone(),
                permits.clone(),
            )));
        }
        Self {
            run,
            phase,
            clients,
            tasks,
        }
    }

    /// Waits until every client mounted or failed (or `timeout`); returns how many mounted.
    pub async fn wait_mounted(&self, timeout: Duration) -> usize {
        let n = self.clients.len();
        wait_for(timeout, || {
            self.run.mounted.load(Ordering::Relaxed) + self.run.failed.load(Ordering::Relaxed) >= n
        })
        .await;
        self.run.mounted.load(Ordering::Relaxed)
    }

    /// Waits until every mounted client `i` shows the count `want(i)` (or `timeout`).
    /// Returns the ns (since the epoch) of the last count change among them when all do.
    pub async fn wait_counts(
        &self,
        want: impl Fn(usize) -> Option<u32>,
        timeout: Duration,
    ) -> Option<u64> {
        let all = || {
            self.clients.iter().enumerate().all(|(i, c)| {
                c.state() != ConnState::Mounted || want(i).is_none_or(|w| c.count().0 == w)
            })
        };
        if !wait_for(timeout, all).await {
            return None;
        }
        self.clients
            .iter()
            .enumerate()
            .filter(|(i, c)| c.state() == ConnState::Mounted && want(*i).is_some())
            .map(|(_, c)| c.count().1)
            .max()
    }

    /// How many mounted clients `i` show `want(i)` now.
    pub fn showing(&self, want: impl Fn(usize) -> Option<u32>) -> usize {
        self.clients
            .iter()
            .enumerate()
            .filter(|(i, c)| c.state() == ConnState::Mounted && want(*i) == Some(c.count().0))
            .count()
    }

    /// Waits until no frame arrived for `quiet` (at most `max`).
    pub async fn wait_quiet(&self, quiet: Duration, max: Duration) {
        let deadline = tokio::time::Instant::now() + max;
        let mut last = self.run.frames.load(Ordering::Relaxed);
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(quiet).await;
            let now = self.run.frames.load(Ordering::Relaxed);
            if now == last {
                return;
            }
            last = now;
        }
    }

    /// Tells every client the phase.
    pub fn set_phase(&self, phase: Phase) {
        let _ = self.phase.send(phase);
    }

    /// Stops every client and collects what they saw (in spawn order).
    pub async fn finish(self) -> Vec<ClientOutcome> {
        self.set_phase(Phase::Stop);
        let mut out = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            match t.await {
                Ok(o) => out.push(o),
                Err(e) => progress!("a client task failed: {e}"),
            }
        }
        out
    }
}

/// Polls `cond` every 10 ms until it holds (true) or `timeout` passes (false).
pub(crate) async fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Frames by type over all outcomes.
pub(crate) fn frame_types(outcomes: &[ClientOutcome]) -> FrameTypes {
    let mut t = FrameTypes::default();
    outcomes.iter().for_each(|o| t.add(&o.types));
    t
}

/// The report's opening fields.
pub(crate) fn header(
    scenario: &str,
    common: &CommonArgs,
    params: Value,
) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("scenario".into(), json!(scenario));
    m.insert("label".into(), json!(common.label));
    m.insert("impl".into(), json!("djust-rust"));
    m.insert("bench_version".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert(
        "unix_time".into(),
        json!(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        ),
    );
    m.insert("params".into(), params);
    m
}

/// `num / den` rounded to 3 decimals, `None` when `den` is 0.
pub(crate) fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| round3(num / den))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_spread_evenly() {
        let mut p: Vec<f64> = (0..10).map(phase_of).collect();
        assert!(p.iter().all(|x| (0.0..1.0).contains(x)));
        p.sort_by(f64::total_cmp);
        // No two of ten clients closer than 1/20 of the period.
        assert!(p.windows(2).all(|w| w[1] - w[0] > 0.05), "{p:?}");
    }

    #[test]
    fn ratio_guards_zero() {
        assert_eq!(ratio(1.0, 3.0), Some(0.333));
        assert_eq!(ratio(1.0, 0.0), None);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_reports_success_and_timeout() {
        assert!(wait_for(Duration::from_millis(50), || true).await);
        assert!(!wait_for(Duration::from_millis(30), || false).await);
    }
}
