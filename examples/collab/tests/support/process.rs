//! The real `collab` binary as a child process: started on a free port, its log collected,
//! stopped with a signal like systemd, Docker or Kubernetes would.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::SECRET;

/// A running `collab` process, killed on drop.
pub struct Collab {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Collab {
    /// Starts `collab --port 0 --db DB` with `DJUST_SECRET_KEY` set to the tests' secret and
    /// `env` on top; waits for its `collab: serving http://ADDR/` line. `shell_prefix` runs it
    /// through `sh -c "<prefix>; exec collab ..."` (e.g. `ulimit -S -n 256`).
    pub fn start(db: &Path, env: &[(&str, &str)], shell_prefix: Option<&str>) -> Collab {
        Self::start_on(db, 0, env, shell_prefix)
    }

    /// [`Collab::start`] on `port` (0: a free one), e.g. to restart on the same port.
    pub fn start_on(
        db: &Path,
        port: u16,
        env: &[(&str, &str)],
        shell_prefix: Option<&str>,
    ) -> Collab {
        let bin = env!("CARGO_BIN_EXE_collab");
        let db = db.to_str().expect("UTF-8 temp path");
        let mut cmd = match shell_prefix {
            Some(prefix) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("{prefix} && exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let port = port.to_string();
        cmd.args(["--port", port.as_str(), "--db", db])
            .env("DJUST_SECRET_KEY", SECRET)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("collab starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        // Logs may come before it on stdout: the line that matters is the `serving` one.
        let (first_tx, first_rx) = std::sync::mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for (stream, first) in [
            (
                Box::new(stdout) as Box<dyn std::io::Read + Send>,
                Some(first_tx),
            ),
            (Box::new(stderr), None),
        ] {
            let sink = log.clone();
            std::thread::spawn(move || {
                let mut first = first;
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.starts_with("collab: serving http://")
                        && let Some(tx) = first.take()
                    {
                        let _ = tx.send(line.clone());
                    }
                    sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        let first = first_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_default();
        let addr = first
            .trim()
            .strip_prefix("collab: serving http://")
            .and_then(|s| s.strip_suffix('/'))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let log = log.lock().map(|l| l.join("\n")).unwrap_or_default();
                panic!("no `collab: serving` line, got {first:?}; log:\n{log}")
            });
        Collab { addr, child, log }
    }

    /// `kill -9`: the process dies at once, with no shutdown of any kind.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` (`TERM`, `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits up to `limit` for the process to exit; returns its status and how long it took.
    pub fn wait_exit(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (status, started.elapsed());
            }
            assert!(
                started.elapsed() < limit,
                "collab did not exit within {limit:?}; log:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The stderr lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Collab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
