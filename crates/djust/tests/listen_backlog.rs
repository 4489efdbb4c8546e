//! The listen backlog of `djust::Server`: users who all arrive at once (every browser
//! reconnecting after a restart, a class opening the same page) wait in the kernel's queue
//! while the server is busy, instead of losing their SYN and retrying a second or more later.
//! Tokio's and the standard library's listeners queue only 128. A binary of its own: it opens
//! several hundred sockets.

use std::net::SocketAddr;
use std::time::Duration;

use djust::{DEFAULT_LISTEN_BACKLOG, Server};
use tokio::net::TcpStream;

/// How many of `n` connections to `addr`, made at once, complete their handshake within
/// `wait` (nobody accepts them: the handshake completes only if the queue has room).
async fn connected_within(addr: SocketAddr, n: usize, wait: Duration) -> usize {
    let attempts: Vec<_> = (0..n)
        .map(|_| tokio::spawn(tokio::time::timeout(wait, TcpStream::connect(addr))))
        .collect();
    let mut open = Vec::new();
    for attempt in attempts {
        if let Ok(Ok(Ok(stream))) = attempt.await {
            // Kept open until every attempt is counted.
            open.push(stream);
        }
    }
    open.len()
}

/// Linux caps a listen backlog at `net.core.somaxconn`.
fn somaxconn() -> usize {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_arrivals_wait_in_the_queue_of_a_server_that_does_not_accept_yet() {
    // Bound but not running: like a server whose workers are all busy rendering.
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    // Well above the 128 of Tokio's own `bind`, within the default and the kernel's cap.
    let n = 600.min(somaxconn()).min(DEFAULT_LISTEN_BACKLOG as usize);
    assert_eq!(
        connected_within(addr, n, Duration::from_secs(2)).await,
        n,
        "every connection is queued until the server accepts"
    );

    // A small backlog is what it says: the rest of the SYNs are dropped (the clients would
    // retry after 1 s).
    let small = Server::bind_with_backlog("127.0.0.1:0", 8)
        .await
        .expect("bind");
    let got = connected_within(
        small.local_addr().expect("addr"),
        64,
        Duration::from_millis(500),
    )
    .await;
    assert!(
        (1..64).contains(&got),
        "{got} of 64 got through a backlog of 8"
    );
}

#[tokio::test]
async fn an_address_that_cannot_be_bound_is_named_in_the_error() {
    let taken = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    // Another socket on the same port without SO_REUSEPORT: refused, and the error says where.
    let err = Server::bind(addr.as_str()).await.expect_err("port in use");
    assert!(err.to_string().contains(&addr), "{err}");
}
