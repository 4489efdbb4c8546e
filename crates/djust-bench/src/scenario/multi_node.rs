//! `multi-node`: two collab processes sharing presence through Redis, users split between
//! them in one room. Measures cursor latency across processes, then kills one process with
//! SIGKILL and times how long the other's clients keep showing its users.

use std::time::Duration;

use serde_json::{Value, json};

use super::storm::{Member, load_fields, room_log, run_load, tally};
use super::{
    Crowd, ErrorReport, Scratch, arrival, frame_types, header, phase_of, progress, run_id,
    server_spec,
};
use crate::cli::MultiNodeArgs;
use crate::client::{ClientSpec, RunShared, Seat};
use crate::error::BenchError;
use crate::procfs::round3;
use crate::server::{RedisProcess, ServerProcess};
use crate::setup::{arrive, ensure_rooms, user_name};

/// Runs the scenario and returns its JSON report.
pub(crate) async fn run(args: MultiNodeArgs) -> Result<Value, BenchError> {
    let c = &args.common;
    if c.url.is_some() {
        return Err(BenchError::Params(
            "multi-node starts its own Redis and two servers; --url is not supported".into(),
        ));
    }
    if args.users < 2 || args.hz <= 0.0 || args.secs <= 0.0 || args.presence_timeout <= 0.0 {
        return Err(BenchError::Params(
            "multi-node needs --users >= 2, --hz > 0, --secs > 0, --presence-timeout > 0".into(),
        ));
    }
    let n = args.users;
    let dir = Scratch::new(c.keep_scratch)?;
    let redis = RedisProcess::start(dir.path()).await?;
    progress!("redis-server on port {}", redis.port);
    let timeout = args.presence_timeout;
    let env = vec![
        ("DJUST_PRESENCE_BACKEND".to_owned(), "redis".to_owned()),
        ("DJUST_REDIS_URL".to_owned(), redis.url()),
        // Both processes must accept each other's login and session cookies.
        (
            "DJUST_SECRET_KEY".to_owned(),
            format!("{}{}{}{}", run_id(), run_id(), run_id(), run_id()),
        ),
        ("DJUST_PRESENCE_TIMEOUT".to_owned(), format!("{timeout}")),
        // Heartbeats well inside the timeout, so live users never expire.
        (
            "DJUST_PRESENCE_HEARTBEAT_INTERVAL".to_owned(),
            format!("{}", timeout / 3.0),
        ),
    ];
    let mut nodes = Vec::new();
    for i in 0..2 {
        let spec = server_spec(c, &dir, i, env.clone())?;
        let server = ServerProcess::start(&spec).await?;
        progress!(
            "node {i}: pid {} at {}",
            server.pid,
            server.target.http_base()
        );
        nodes.push(server);
    }
    let room = ensure_rooms(&nodes[0].target, 1).await?[0];
    let path = format!("/doc/{room}");
    let node_of = |g: usize| g % 2;
    let id = run_id();
    let mut jars = vec![Default::default(); n];
    for (k, node) in nodes.iter().enumerate() {
        let mine: Vec<usize> = (0..n).filter(|g| node_of(*g) == k).collect();
        let got = arrive(
            &node.target,
            mine.iter().map(|g| user_name(&id, *g)).collect(),
            vec![path.clone(); mine.len()],
            arrival(c),
        )
        .await?;
        for (g, jar) in mine.into_iter().zip(got) {
            jars[g] = jar;
        }
    }
    let log = room_log(n, args.hz, args.secs);
    let members: Vec<Member> = (0..n).map(|g| Member { room: 0, index: g }).collect();
    let class = |p: usize, s: usize| u8::from(node_of(p) != node_of(s));
    let specs = jars
        .into_iter()
        .enumerate()
        .map(|(g, jar)| ClientSpec {
            target: nodes[node_of(g)].target.clone(),
            jar,
            path: path.clone(),
            seat: Some(Seat {
                log: log.clone(),
                index: g,
                peers: (n - 1) as u64,
                classes: (0..n).map(|s| class(g, s)).collect(),
                phase: phase_of(g),
                moves: true,
            }),
        })
        .collect();
    let run = RunShared::new(c.ws_read_buffer, &c.count_suffix);
    let crowd = Crowd::spawn(specs, run.clone(), c.connect_concurrency.unwrap_or(64));
    let mounted = crowd.wait_mounted(Duration::from_secs(120)).await;
    progress!("{mounted} of {n} mounted");
    let everyone = u32::try_from(n).unwrap_or(u32::MAX);
    let converged = crowd
        .wait_counts(|_| Some(everyone), Duration::from_secs(30))
        .await
        .is_some();
    if !converged {
        progress!("not every client shows all {n} users across both processes");
    }
    crowd
        .wait_quiet(Duration::from_millis(300), Duration::from_secs(10))
        .await;
    let pids: Vec<u32> = nodes.iter().map(|s| s.pid).collect();
    let load = run_load(&crowd, args.hz, args.secs, args.drain, &pids, c.threads).await;

    // Kill node 0; node 1's clients must drop node 0's users from the count.
    let survivors = u32::try_from((0..n).filter(|g| node_of(*g) == 1).count()).unwrap_or(0);
    let survivor_count = |g: usize| (node_of(g) == 1).then_some(survivors);
    let kill_at = run.epoch.nanos();
    nodes[0].kill9().await;
    progress!("killed node 0 (SIGKILL); waiting for node 1's clients to show {survivors}");
    let cleanup_wait = Duration::from_secs_f64(timeout * 3.0 + 10.0);
    let cleaned = crowd.wait_counts(survivor_count, cleanup_wait).await;
    let cleanup_s = cleaned.map(|at| round3(at.saturating_sub(kill_at) as f64 / 1e9));
    let outcomes = crowd.finish().await;
    let pairs = tally(&outcomes, &members, 2, class);
    let mut all = pairs[0].clone();
    all.expected += pairs[1].expected;
    all.stats.merge(&pairs[1].stats);
    let errors = ErrorReport::of(&run, &outcomes, |g| {
        node_of(g) == 0 && outcomes[g].closed_at_ns.is_some_and(|t| t >= kill_at)
    });
    let moves: u64 = outcomes.iter().map(|o| u64::from(o.moves_sent)).sum();

    let mut r = header(
        "multi-node",
        c,
        json!({
            "nodes": 2, "users": n, "hz": args.hz, "secs": args.secs, "drain": args.drain,
            "presence_timeout": timeout, "anon": c.anon, "page_get": !c.no_page,
        }),
    );
    r.insert(
        "server".into(),
        json!({"urls": nodes.iter().map(|s| s.target.http_base()).collect::<Vec<_>>(), "pids": pids, "redis_port": redis.port, "started_by_bench": true, "scratch": dir.kept()}),
    );
    r.insert("clients".into(), json!(n));
    r.insert("mounted".into(), json!(mounted));
    r.insert("presence_converged".into(), json!(converged));
    load_fields(&mut r, &load, &all, mounted, moves);
    r.insert("same_process".into(), pairs[0].json());
    r.insert("cross_process".into(), pairs[1].json());
    r.insert("kill_cleanup_s".into(), json!(cleanup_s));
    r.insert("kill_cleanup_target_s".into(), json!(timeout + 1.0));
    r.insert("frames_by_type".into(), json!(frame_types(&outcomes)));
    errors.fields(&mut r);
    Ok(Value::Object(r))
}
