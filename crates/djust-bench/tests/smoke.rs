//! Smoke runs of every scenario at tiny sizes against a freshly started collab server (the
//! bench starts it): the binary works end to end and its JSON line has sane fields. No timing
//! is asserted: benchmarks are not tests.

use std::process::Command;

use serde_json::Value;

/// Runs `djust-bench ARGS` and parses its one JSON line.
fn bench(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_djust-bench"))
        .args(args)
        .output()
        .expect("djust-bench runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "djust-bench {args:?} failed:\n{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one JSON line on stdout, got:\n{stdout}"
    );
    serde_json::from_str(lines[0]).expect("the line is JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {v}"))
}

/// The fields every load report has, with sane values.
fn assert_server_fields(r: &Value) {
    assert!(num(r, "server_cpu_s") >= 0.0, "{r}");
    // One server: an object; multi-node: one per process.
    let rss = match &r["server_rss_kb"] {
        Value::Array(each) => each.clone(),
        one => vec![one.clone()],
    };
    assert!(!rss.is_empty(), "{r}");
    for server in rss {
        assert!(server["peak_sampled"].as_u64().unwrap_or(0) > 0, "{r}");
    }
    assert!(r["bench"]["cpu_s"].as_f64().is_some(), "{r}");
    assert!(r["bench"]["saturated"].is_boolean(), "{r}");
    assert_eq!(r["errors"], 0, "{r}");
}

fn assert_latency(l: &Value) {
    let (p50, p95, p99, max) = (num(l, "p50"), num(l, "p95"), num(l, "p99"), num(l, "max"));
    assert!(0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= max, "{l}");
}

#[test]
fn cursor_storm_reports_delivery_and_latency() {
    let r = bench(&[
        "cursor-storm",
        "--rooms",
        "2",
        "--users",
        "2",
        "--hz",
        "10",
        "--secs",
        "1",
        "--drain",
        "1",
        "--label",
        "smoke",
    ]);
    assert_eq!(r["scenario"], "cursor-storm");
    assert_eq!(r["label"], "smoke");
    assert_eq!(r["mounted"], 4);
    assert!(num(&r, "events_sent") > 0.0, "{r}");
    let ratio = num(&r, "delivery_ratio");
    assert!((0.0..=1.0).contains(&ratio), "{r}");
    // Peers saw moves: the matcher recognises what the server sends.
    assert!(num(&r, "updates_delivered") > 0.0, "{r}");
    assert_latency(&r["latency_ms"]);
    assert!(num(&r, "frames_per_client_per_s") > 0.0, "{r}");
    assert_server_fields(&r);
}

#[test]
fn join_storm_sees_everyone_arrive() {
    let r = bench(&["join-storm", "--users", "5", "--timeout", "30"]);
    assert_eq!(r["scenario"], "join-storm");
    assert_eq!(r["mounted"], 5);
    assert_eq!(r["clients_showing_n"], 5, "{r}");
    assert!(num(&r, "all_show_n_s") > 0.0, "{r}");
    assert!(num(&r["frames_per_client"], "mean") >= 1.0, "{r}");
    assert_server_fields(&r);
}

#[test]
fn idle_measures_memory_per_connection() {
    let r = bench(&[
        "idle",
        "--connections",
        "6",
        "--room-size",
        "3",
        "--secs",
        "0.5",
        "--anon",
        "--no-page",
    ]);
    assert_eq!(r["scenario"], "idle");
    assert_eq!(r["mounted"], 6);
    assert_eq!(r["all_show_room_size"], true, "{r}");
    assert!(num(&r, "baseline_rss_kb") > 0.0, "{r}");
    assert!(num(&r, "rss_per_connection_kb") >= 0.0, "{r}");
    assert_server_fields(&r);
}

#[test]
fn multi_node_measures_cross_process_latency_and_kill_cleanup() {
    if !djust_testkit::require_binary("redis-server") {
        return;
    }
    let r = bench(&[
        "multi-node",
        "--users",
        "4",
        "--hz",
        "10",
        "--secs",
        "1",
        "--drain",
        "1",
        "--presence-timeout",
        "2",
    ]);
    assert_eq!(r["scenario"], "multi-node");
    assert_eq!(r["mounted"], 4);
    assert_eq!(r["presence_converged"], true, "{r}");
    assert!(num(&r["cross_process"], "expected") > 0.0, "{r}");
    assert!(num(&r["cross_process"], "delivered_within_1s") > 0.0, "{r}");
    assert_latency(&r["cross_process"]["latency_ms"]);
    assert!(num(&r, "kill_cleanup_s") > 0.0, "{r}");
    assert_eq!(r["servers"].as_array().map(Vec::len), Some(2), "{r}");
    assert_server_fields(&r);
}

#[test]
fn typing_reports_keystroke_latency_and_one_text_everywhere() {
    let r = bench(&[
        "typing", "--users", "3", "--cps", "5", "--secs", "1", "--drain", "1",
    ]);
    assert_eq!(r["scenario"], "typing");
    assert!(num(&r, "keystrokes") >= 10.0, "{r}");
    // Every keystroke reached both other users, and everyone has the same, complete text.
    assert_eq!(r["delivered_pairs"], r["expected_pairs"], "{r}");
    assert_eq!(r["text_identical_everywhere"], true, "{r}");
    assert_eq!(r["text_complete"], true, "{r}");
    assert_latency(&r["latency_ms"]);
    assert_server_fields(&r);
}
