//! `join-storm`: N users join one room at once; how long until every client shows N, and how
//! many frames and bytes each client received on the way.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    Crowd, ErrorReport, Stage, Windows, arrival, frame_types, header, progress, ratio, run_id,
};
use crate::cli::JoinStormArgs;
use crate::client::{ClientSpec, RunShared};
use crate::error::BenchError;
use crate::procfs::round3;
use crate::setup::{arrive, user_name};

/// Runs the scenario and returns its JSON report.
pub(crate) async fn run(args: JoinStormArgs) -> Result<Value, BenchError> {
    let c = &args.common;
    if args.users == 0 {
        return Err(BenchError::Params("join-storm needs --users >= 1".into()));
    }
    let n = args.users;
    let stage = Stage::single(c).await?;
    let room = stage.rooms(1).await?[0];
    let path = format!("/doc/{room}");
    let id = run_id();
    progress!("{n} users arrive over HTTP");
    let prep = std::time::Instant::now();
    let jars = arrive(
        &stage.target,
        (0..n).map(|g| user_name(&id, g)).collect(),
        vec![path.clone(); n],
        arrival(c),
    )
    .await?;
    let prep_s = prep.elapsed().as_secs_f64();
    let specs = jars
        .into_iter()
        .map(|jar| ClientSpec {
            target: stage.target.clone(),
            jar,
            path: path.clone(),
            seat: None,
        })
        .collect();
    let run = RunShared::new(c.ws_read_buffer, &c.count_suffix);
    let pids: Vec<u32> = stage.pid.into_iter().collect();
    let windows = Windows::open(&pids, c.threads);
    let t0 = run.epoch.nanos();
    progress!("{n} WebSockets join at once");
    let crowd = Crowd::spawn(specs, run.clone(), c.connect_concurrency.unwrap_or(n));
    let timeout = Duration::from_secs_f64(args.timeout);
    let mounted = crowd.wait_mounted(timeout).await;
    let mounted_s = (run.epoch.nanos() - t0) as f64 / 1e9;
    let want = u32::try_from(n).unwrap_or(u32::MAX);
    let all_at = crowd.wait_counts(|_| Some(want), timeout).await;
    let showing = crowd.showing(|_| Some(want));
    progress!("{showing} of {mounted} clients show {n}");
    // Count the frames still on their way after everyone shows N.
    crowd
        .wait_quiet(Duration::from_secs(1), Duration::from_secs(10))
        .await;
    let windows = windows.close();
    // Mount latency of a page in the full room: newcomers arrive one by one while everyone
    // stays (each probe's join and leave reach the crowd too: counted in its frames).
    let probes = probe_mounts(&stage.target, &path, MOUNT_PROBES, c.ws_read_buffer).await;
    let outcomes = crowd.finish().await;
    let errors = ErrorReport::of(&run, &outcomes, |_| false);
    let mounted_outcomes: Vec<_> = outcomes.iter().filter(|o| o.mounted).collect();
    let frames: Vec<u64> = mounted_outcomes.iter().map(|o| o.frames).collect();
    let bytes: Vec<u64> = mounted_outcomes.iter().map(|o| o.bytes).collect();
    let mean = |v: &[u64]| ratio(v.iter().sum::<u64>() as f64, v.len() as f64);

    let mut r = header(
        "join-storm",
        c,
        json!({"users": n, "timeout": args.timeout, "anon": c.anon, "page_get": !c.no_page}),
    );
    r.insert("server".into(), stage.describe());
    r.insert("mounted".into(), json!(mounted));
    r.insert("prep_s".into(), json!(round3(prep_s)));
    r.insert("all_mounted_s".into(), json!(round3(mounted_s)));
    r.insert(
        "all_show_n_s".into(),
        json!(all_at.map(|at| round3(at.saturating_sub(t0) as f64 / 1e9))),
    );
    r.insert("clients_showing_n".into(), json!(showing));
    r.insert(
        "frames_per_client".into(),
        json!({"mean": mean(&frames), "max": frames.iter().max()}),
    );
    r.insert(
        "bytes_per_client".into(),
        json!({"mean": mean(&bytes).map(f64::round), "max": bytes.iter().max()}),
    );
    r.insert("frames_by_type".into(), json!(frame_types(&outcomes)));
    r.insert("mount_probes".into(), probes);
    windows.fields(&mut r);
    errors.fields(&mut r);
    Ok(Value::Object(r))
}

/// How many newcomers measure the mount latency of the full room.
const MOUNT_PROBES: usize = 20;

/// Connects `n` anonymous newcomers to `path` one after another; returns the latency from
/// sending `mount` to receiving `mounted` (p50, p99, max in ms) and the `mounted` frame size.
async fn probe_mounts(
    target: &crate::target::Target,
    path: &str,
    n: usize,
    read_buffer: usize,
) -> Value {
    let mut ms = Vec::with_capacity(n);
    let mut bytes = 0;
    let mut failures = 0;
    for _ in 0..n {
        let Ok(mut ws) =
            crate::ws::connect(target, &crate::http::CookieJar::default(), read_buffer).await
        else {
            failures += 1;
            continue;
        };
        let t = std::time::Instant::now();
        match crate::ws::mount(&mut ws, path).await {
            Ok(m) => {
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                bytes = m.frame.len();
            }
            Err(_) => failures += 1,
        }
        drop(ws);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| -> Option<f64> {
        if ms.is_empty() {
            return None;
        }
        let i = ((ms.len() as f64 - 1.0) * p).round() as usize;
        Some(round3(ms[i.min(ms.len() - 1)]))
    };
    json!({"n": n, "failed": failures, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
           "max_ms": ms.last().map(|v| round3(*v)), "mounted_bytes": bytes})
}
