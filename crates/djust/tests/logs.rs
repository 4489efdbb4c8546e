//! Warnings about client input: escaped, clipped, and rate-limited per connection (a flood
//! of bad frames must neither forge log lines nor fill the disk).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::{Ws, start, test_config};

/// Everything the global subscriber writes (this test binary has one test).
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn bad_frames_log_a_bounded_number_of_escaped_warnings() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let (addr, _probe) = start(test_config()).await;
    let (mut ws, _) = Ws::mounted(addr, "/counter/1", "").await;
    // An unknown frame type with a newline and an ESC sequence: serde's error quotes it.
    let forged = "x\n2026-01-01T00:00:00Z  WARN forged: owned\u{1b}[2J";
    for _ in 0..1000 {
        ws.send(json!({"t": forged})).await;
    }
    // And events with an unknown name, which warn on another path.
    for _ in 0..100 {
        ws.event(
            &format!("no\nsuch\u{1b}[31m{}", "e".repeat(5000)),
            json!({}),
        )
        .await;
    }
    // The connection still works.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let warns: Vec<&str> = log.lines().filter(|l| l.contains(" WARN ")).collect();
    assert!(
        !warns.is_empty(),
        "the bad frames were warned about:\n{log}"
    );
    assert!(
        warns.len() <= 5,
        "{} WARN lines for 1100 bad frames:\n{log}",
        warns.len()
    );
    assert!(!log.contains('\u{1b}'), "a raw ESC reached the log:\n{log}");
    assert!(
        !log.lines().any(|l| l.starts_with("2026-01-01")),
        "a forged line:\n{log}"
    );
    assert!(
        log.contains(r"\n2026-01-01"),
        "the newline is escaped:\n{log}"
    );
    assert!(
        warns.iter().all(|l| l.len() < 1000),
        "client text is clipped:\n{log}"
    );
}
