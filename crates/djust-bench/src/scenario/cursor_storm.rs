//! `cursor-storm`: R rooms x U users, everyone moving the cursor at H Hz for T s; with
//! `--crowd N`, one more room of N users next to them, reported apart (`crowd`), so the R
//! rooms' figures show what a big room costs its neighbours.

use std::time::Duration;

use serde_json::{Value, json};

use super::storm::{Member, load_fields, room_log, run_load, tally};
use super::{
    Crowd, ErrorReport, Stage, arrival, frame_types, header, phase_of, progress, ratio, run_id,
};
use crate::cli::CursorStormArgs;
use crate::client::{ClientSpec, RunShared, Seat};
use crate::error::BenchError;
use crate::procfs::Proc;
use crate::setup::{arrive, user_name};

/// Runs the scenario and returns its JSON report.
pub(crate) async fn run(args: CursorStormArgs) -> Result<Value, BenchError> {
    let c = &args.common;
    if args.rooms == 0 || args.users < 2 || args.hz <= 0.0 || args.secs <= 0.0 {
        return Err(BenchError::Params(
            "cursor-storm needs --rooms >= 1, --users >= 2 (someone must see the moves), --hz > 0, --secs > 0".into(),
        ));
    }
    let movers = args.movers.unwrap_or(args.users).min(args.users);
    if movers == 0 {
        return Err(BenchError::Params("--movers must be at least 1".into()));
    }
    let crowd_movers = args.crowd_movers.unwrap_or(args.crowd).min(args.crowd);
    let stage = Stage::single(c).await?;
    let rooms = stage
        .rooms(args.rooms + usize::from(args.crowd > 0))
        .await?;
    // The measured rooms' clients first, then the crowd's (room index `args.rooms`).
    let measured = args.rooms * args.users;
    let n = measured + args.crowd;
    let id = run_id();
    let members: Vec<Member> = (0..n)
        .map(|g| match g.checked_sub(measured) {
            None => Member {
                room: g / args.users,
                index: g % args.users,
            },
            Some(i) => Member {
                room: args.rooms,
                index: i,
            },
        })
        .collect();
    let size_of = |room: usize| {
        if room < args.rooms {
            args.users
        } else {
            args.crowd
        }
    };
    let pages: Vec<String> = members
        .iter()
        .map(|m| format!("/doc/{}", rooms[m.room]))
        .collect();
    progress!("{n} users arrive over HTTP");
    let jars = arrive(
        &stage.target,
        (0..n).map(|g| user_name(&id, g)).collect(),
        pages.clone(),
        arrival(c),
    )
    .await?;
    let logs: Vec<_> = (0..rooms.len())
        .map(|r| room_log(size_of(r), args.hz, args.secs))
        .collect();
    let specs = members
        .iter()
        .zip(jars)
        .zip(pages)
        .enumerate()
        .map(|(g, ((m, jar), path))| ClientSpec {
            target: stage.target.clone(),
            jar,
            path,
            seat: Some(Seat {
                log: logs[m.room].clone(),
                index: m.index,
                peers: size_of(m.room).saturating_sub(1) as u64,
                classes: Vec::new(),
                phase: phase_of(g),
                moves: if m.room < args.rooms {
                    m.index < movers
                } else {
                    m.index < crowd_movers
                },
            }),
        })
        .collect();
    // Memory before any WebSocket: rooms exist, users logged in, templates warm.
    let baseline_rss = stage.pid.and_then(|p| Proc::Pid(p).rss_kb());
    let run = RunShared::new(c.ws_read_buffer, &c.count_suffix);
    let crowd = Crowd::spawn(specs, run.clone(), c.connect_concurrency.unwrap_or(64));
    let mounted = crowd.wait_mounted(Duration::from_secs(120)).await;
    progress!("{mounted} of {n} mounted");
    if mounted == 0 {
        return Err(BenchError::TooFewConnections {
            mounted,
            wanted: n,
            first_error: run.first_error().unwrap_or_default(),
        });
    }
    let shown = |g: usize| u32::try_from(size_of(members[g].room)).ok();
    if crowd
        .wait_counts(shown, Duration::from_secs(30))
        .await
        .is_none()
    {
        progress!("not every client shows its room's size; measuring anyway");
    }
    crowd
        .wait_quiet(Duration::from_millis(300), Duration::from_secs(10))
        .await;
    let settled_rss = stage.pid.and_then(|p| Proc::Pid(p).rss_kb());
    let pids: Vec<u32> = stage.pid.into_iter().collect();
    let load = run_load(&crowd, args.hz, args.secs, args.drain, &pids, c.threads).await;
    let outcomes = crowd.finish().await;
    let pairs = tally(&outcomes[..measured], &members[..measured], 1, |_, _| 0);
    let crowd_pairs = tally(&outcomes[measured..], &members[measured..], 1, |_, _| 0);
    let errors = ErrorReport::of(&run, &outcomes, |_| false);
    let moves: u64 = outcomes[..measured]
        .iter()
        .map(|o| u64::from(o.moves_sent))
        .sum();

    let mut r = header(
        "cursor-storm",
        c,
        json!({
            "rooms": args.rooms, "users": args.users, "movers": movers, "hz": args.hz, "secs": args.secs,
            "drain": args.drain, "anon": c.anon, "page_get": !c.no_page,
            "crowd": args.crowd, "crowd_movers": crowd_movers,
        }),
    );
    r.insert("server".into(), stage.describe());
    r.insert("clients".into(), json!(n));
    r.insert("mounted".into(), json!(mounted));
    load_fields(&mut r, &load, &pairs[0], mounted, moves);
    r.insert("baseline_rss_kb".into(), json!(baseline_rss));
    r.insert(
        "rss_per_connection_kb".into(),
        json!(match (baseline_rss, settled_rss) {
            (Some(b), Some(s)) => ratio(s.saturating_sub(b) as f64, mounted as f64),
            _ => None,
        }),
    );
    if args.crowd > 0 {
        // The measured rooms' figures above leave the crowd out; its own pairs are here.
        r.insert("crowd".into(), crowd_pairs[0].json());
    }
    r.insert("frames_by_type".into(), json!(frame_types(&outcomes)));
    errors.fields(&mut r);
    Ok(Value::Object(r))
}
