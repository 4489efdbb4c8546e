//! A real `redis-server` on a free local port for tests (multi-process presence), killed on drop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::require_binary;

/// A `redis-server` child process on a free port of 127.0.0.1, with persistence off, killed
/// (SIGKILL) on drop.
#[derive(Debug)]
pub struct RedisServer {
    /// The port it listens on (kept across [`RedisServer::restart`]).
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one. Without `redis-server` the test fails with the install command — or, with
    /// `DJUST_TEST_SKIP_EXTERNAL=1` outside CI, this returns `None` after a visible, counted
    /// skip ([`crate::skip`]).
    ///
    /// # Panics
    /// When the server cannot be started or does not listen within 10 s.
    pub fn start() -> Option<Self> {
        if !require_binary("redis-server") {
            return None;
        }
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server with SIGKILL (no clean shutdown, nothing saved).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty, and waits until it answers.
    ///
    /// # Panics
    /// When `redis-server` cannot be spawned or does not listen within 10 s.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        // Listening is not answering: wait for a PONG (a connection reset right after the
        // accept was seen under load).
        while !answers_ping(self.port) {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Our child must be the one listening (not a process that took the port meanwhile).
        let exited = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        assert!(
            exited.is_none(),
            "redis-server exited ({exited:?}): port {} taken?",
            self.port
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nobody listens on right now.
///
/// # Panics
/// When no local port can be bound.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether a Redis server on `port` answers `PING` with `+PONG`.
fn answers_ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 7];
    conn.write_all(b"PING\r\n").is_ok() && conn.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}
