//! Crash cleanup: a real server process (`djust-redis-node`) is killed with SIGKILL; the survivor removes
//! its users, with leaves, within `presence_timeout`, without anybody calling `list`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{RedisServer, events_until, fast_presence, node, users, within};
use djust_presence::ConnId;
use serde_json::json;

const KEY: &str = "document:crash";

/// The child process, killed on drop if the test fails early.
struct Child9(Child);

impl Drop for Child9 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_users_vanish_within_the_timeout() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let survivor = node(&server).await;
    let timeout = fast_presence().presence_timeout; // 2 s
    survivor
        .presence
        .track(KEY, ConnId::random(), "local", json!({}))
        .unwrap();

    let mut child = Child9(
        Command::new(env!("CARGO_BIN_EXE_djust-redis-node"))
            .args(["--url", &server.url(), "--key", KEY, "--users", "5"])
            .args(["--timeout-ms", &timeout.as_millis().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the node binary starts"),
    );
    let stdout = child.0.stdout.take().expect("piped stdout");
    let ready = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(ready.starts_with("ready "), "child said {ready:?}");
    let child_node: djust_presence::NodeId = ready.trim()["ready ".len()..].parse().unwrap();

    within(
        Duration::from_secs(5),
        "the survivor sees the child's users",
        || survivor.presence.count(KEY) == 6,
    )
    .await;
    // The child keeps its users alive well past the timeout (its liveness and heartbeats work).
    tokio::time::sleep(timeout + Duration::from_millis(500)).await;
    assert_eq!(survivor.presence.count(KEY), 6);

    let mut watch = survivor.presence.subscribe(KEY);
    let killed_at = Instant::now();
    child.0.kill().expect("SIGKILL");
    let _ = child.0.wait();
    let seen = events_until(
        &mut watch,
        timeout + Duration::from_secs(1),
        "the child's users leave",
        |e| e.len() == 5,
    )
    .await;
    let took = killed_at.elapsed();
    assert!(
        seen.iter().all(|e| e.starts_with("leave:user-")),
        "{seen:?}"
    );
    assert!(
        took <= timeout + Duration::from_millis(300),
        "took {took:?}"
    );
    assert_eq!(users(&survivor.presence, KEY), ["local"]);
    assert!(
        survivor
            .presence
            .node_changes_snapshot(child_node)
            .is_empty()
    );
    eprintln!(
        "crash cleanup: the killed process's 5 users left after {took:?} (timeout {timeout:?})"
    );
}
