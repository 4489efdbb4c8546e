//! Starting the processes under test: collab servers (the bench's own `serve` mode or a given
//! binary) and `redis-server`, each killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::error::BenchError;
use crate::target::{Target, url_in_line};

/// How long a server may take to print its URL.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What to run as the server.
#[derive(Debug, Clone)]
pub enum ServerBin {
    /// This executable's hidden `serve` subcommand: the collab app, built into the bench.
    BuiltIn,
    /// A collab binary (`target/release/collab`), started as `BIN --port 0 --db PATH`.
    Path(PathBuf),
}

/// How to start one server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The executable.
    pub bin: ServerBin,
    /// Its SQLite database (several servers may share one).
    pub db: PathBuf,
    /// Extra environment (`DJUST_*`), on top of the bench's own environment.
    pub env: Vec<(String, String)>,
    /// Where its stderr (logs) goes.
    pub log: PathBuf,
}

/// A running server, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub target: Target,
    /// Its process id (for `/proc`).
    pub pid: u32,
}

impl ServerProcess {
    /// Starts a server on a free port and waits until it prints its URL.
    ///
    /// # Errors
    /// [`BenchError::Spawn`] if it cannot be executed, [`BenchError::ServerStart`] if it exits
    /// or stays silent.
    pub async fn start(spec: &ServerSpec) -> Result<Self, BenchError> {
        let exe = match &spec.bin {
            ServerBin::BuiltIn => std::env::current_exe().map_err(|source| BenchError::Spawn {
                bin: PathBuf::from("djust-bench"),
                source,
            })?,
            ServerBin::Path(p) => p.clone(),
        };
        let log = std::fs::File::create(&spec.log)
            .map_err(BenchError::io(format!("create {}", spec.log.display())))?;
        let mut cmd = Command::new(&exe);
        if matches!(spec.bin, ServerBin::BuiltIn) {
            cmd.arg("serve");
        }
        cmd.arg("--port")
            .arg("0")
            .arg("--db")
            .arg(&spec.db)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| BenchError::Spawn {
            bin: exe.clone(),
            source,
        })?;
        let pid = child.id().unwrap_or(0);
        // The scratch directory may not outlive the error: quote the log's end.
        let failed = || BenchError::ServerStart {
            secs: START_TIMEOUT.as_secs(),
            log: log_tail(&spec.log),
        };
        let stdout = child.stdout.take().ok_or_else(failed)?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = url_in_line(&line) {
                    return Some(url.to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(failed)?;
        // Keep reading so the server never blocks on a full stdout pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            target: Target::parse(&url)?,
            pid,
        })
    }

    /// Kills the server with SIGKILL (no clean shutdown) and reaps it.
    pub async fn kill9(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// A `redis-server` on a free local port, persistence off, killed when dropped.
#[derive(Debug)]
pub struct RedisProcess {
    _child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl RedisProcess {
    /// Starts one and waits until it accepts connections.
    ///
    /// # Errors
    /// [`BenchError::Redis`] if `redis-server` is missing or does not listen within 10 s.
    pub async fn start(dir: &Path) -> Result<Self, BenchError> {
        let mut last = String::from("no attempt");
        // A port found free may be taken before redis binds it: try a few.
        for _ in 0..3 {
            let port = free_port().map_err(|e| BenchError::Redis(e.to_string()))?;
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| BenchError::Redis(e.to_string()))?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while tokio::time::Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("exited with {status} on port {port}");
                    break;
                }
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return Ok(Self {
                        _child: child,
                        port,
                    });
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if last == "no attempt" {
                last = format!("did not listen on port {port} within 10 s");
            }
        }
        Err(BenchError::Redis(last))
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

/// The last lines of a log file, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("{}:\n{tail}", path.display())
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Parses `KEY=VALUE` options.
///
/// # Errors
/// [`BenchError::BadEnv`] for an entry without `=` or with an empty key.
pub fn parse_env(entries: &[String]) -> Result<Vec<(String, String)>, BenchError> {
    entries
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(BenchError::BadEnv(e.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_entries_split_at_the_first_equals() {
        let env = parse_env(&["DJUST_TICK_MS=10".into(), "A=b=c".into()]).unwrap();
        assert_eq!(
            env,
            [
                ("DJUST_TICK_MS".into(), "10".into()),
                ("A".into(), "b=c".into())
            ]
        );
        assert!(parse_env(&["NOVALUE".into()]).is_err());
        assert!(parse_env(&["=x".into()]).is_err());
    }
}
