//! `idle`: C connections tracked in rooms of k, doing nothing; the server's memory per
//! connection beyond its empty baseline.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Crowd, ErrorReport, Stage, Windows, arrival, header, progress, ratio, run_id};
use crate::cli::IdleArgs;
use crate::client::{ClientSpec, RunShared};
use crate::error::BenchError;
use crate::procfs::{Proc, round3};
use crate::setup::{arrive, user_name};

/// Runs the scenario and returns its JSON report.
pub(crate) async fn run(args: IdleArgs) -> Result<Value, BenchError> {
    let c = &args.common;
    if args.connections == 0 || args.room_size == 0 {
        return Err(BenchError::Params(
            "idle needs --connections >= 1 and --room-size >= 1".into(),
        ));
    }
    let n = args.connections;
    let k = args.room_size;
    let stage = Stage::single(c).await?;
    let rooms = stage.rooms(n.div_ceil(k)).await?;
    let pages: Vec<String> = (0..n).map(|g| format!("/doc/{}", rooms[g / k])).collect();
    let id = run_id();
    progress!("{n} users arrive over HTTP");
    let jars = arrive(
        &stage.target,
        (0..n).map(|g| user_name(&id, g)).collect(),
        pages.clone(),
        arrival(c),
    )
    .await?;
    let server = stage.pid.map(Proc::Pid);
    // The baseline: everything set up (rooms, users, templates warm) except the connections.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = server.and_then(Proc::rss_kb);
    let specs = jars
        .into_iter()
        .zip(pages)
        .map(|(jar, path)| ClientSpec {
            target: stage.target.clone(),
            jar,
            path,
            seat: None,
        })
        .collect();
    let run = RunShared::new(c.ws_read_buffer, &c.count_suffix);
    let pids: Vec<u32> = stage.pid.into_iter().collect();
    let t0 = std::time::Instant::now();
    progress!("opening {n} connections");
    let crowd = Crowd::spawn(specs, run.clone(), c.connect_concurrency.unwrap_or(64));
    let mounted = crowd.wait_mounted(Duration::from_secs(600)).await;
    let mount_s = t0.elapsed().as_secs_f64();
    progress!("{mounted} of {n} mounted in {mount_s:.1} s");
    let size_of = |g: usize| Some(u32::try_from(k.min(n - (g / k) * k)).unwrap_or(u32::MAX));
    let settled = crowd
        .wait_counts(size_of, Duration::from_secs(120))
        .await
        .is_some();
    crowd
        .wait_quiet(Duration::from_secs(1), Duration::from_secs(30))
        .await;
    let windows = Windows::open(&pids, c.threads);
    tokio::time::sleep(Duration::from_secs_f64(args.secs)).await;
    let windows = windows.close();
    let held = server.and_then(Proc::rss_kb);
    let outcomes = crowd.finish().await;
    let errors = ErrorReport::of(&run, &outcomes, |_| false);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_close = server.and_then(Proc::rss_kb);

    let per_conn = match (baseline, held) {
        (Some(b), Some(h)) if mounted > 0 => ratio(h.saturating_sub(b) as f64, mounted as f64),
        _ => None,
    };
    let mut r = header(
        "idle",
        c,
        json!({"connections": n, "room_size": k, "secs": args.secs, "anon": c.anon, "page_get": !c.no_page}),
    );
    r.insert("server".into(), stage.describe());
    r.insert("mounted".into(), json!(mounted));
    r.insert("mount_s".into(), json!(round3(mount_s)));
    r.insert("all_show_room_size".into(), json!(settled));
    r.insert("baseline_rss_kb".into(), json!(baseline));
    r.insert("held_rss_kb".into(), json!(held));
    r.insert("rss_after_close_kb".into(), json!(after_close));
    r.insert("rss_per_connection_kb".into(), json!(per_conn));
    r.insert("server_idle_cpu_s".into(), json!(windows.server_cpu_s()));
    windows.fields(&mut r);
    errors.fields(&mut r);
    Ok(Value::Object(r))
}
