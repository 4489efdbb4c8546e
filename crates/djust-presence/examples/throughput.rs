//! Throughput of the presence engine: track / list / cursor update / untrack with 10,000 connections in
//! 1,000 keys, plus the hot-room case (200 users moving their cursors in one key, every user watching).
//!
//! Run with `cargo run --release -p djust-presence --example throughput`. Plain `Instant` timing, no
//! benchmark framework, so CI builds stay small; each figure is the best of a few rounds.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use djust_presence::{ConnId, ManualClock, Presence, PresenceConfig, Subscription, UntrackReason};
use serde_json::json;

const KEYS: usize = 1_000;
const CONNS_PER_KEY: usize = 10;
const CONNS: usize = KEYS * CONNS_PER_KEY;
const ROUNDS: usize = 5;

fn key(k: usize) -> String {
    format!("document:{k}")
}

/// Connection `i` is on key `i / 10`, user `i % 5` of that key: five users with two tabs each.
fn layout() -> Vec<(String, ConnId, String)> {
    (0..CONNS)
        .map(|i| {
            let k = i / CONNS_PER_KEY;
            (
                key(k),
                ConnId::from_u128(i as u128),
                format!("user-{k}-{}", i % 5),
            )
        })
        .collect()
}

fn engine() -> (Presence, ManualClock) {
    let clock = ManualClock::default();
    let presence = Presence::builder()
        .config(PresenceConfig::default())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("default config is valid");
    (presence, clock)
}

fn track_all(presence: &Presence, conns: &[(String, ConnId, String)]) {
    for (k, c, u) in conns {
        presence
            .track(k, *c, u, json!({"name": u, "color": "#6c63ff"}))
            .expect("valid meta");
    }
}

/// Runs `f` `ROUNDS` times and reports the best round as operations per second.
fn measure(label: &str, ops: usize, mut setup: impl FnMut(), mut f: impl FnMut()) {
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        setup();
        let start = Instant::now();
        f();
        best = best.min(start.elapsed());
    }
    let per_op = best.as_nanos() as f64 / ops as f64;
    let per_sec = ops as f64 / best.as_secs_f64();
    println!("{label:<58} {ops:>9} ops  {per_op:>9.0} ns/op  {per_sec:>12.0} ops/s");
}

fn drain(subs: &mut [Subscription]) -> usize {
    subs.iter_mut()
        .map(|s| std::iter::from_fn(|| s.try_recv().ok()).count())
        .sum()
}

fn main() {
    let conns = layout();
    println!(
        "djust-presence throughput: {CONNS} connections in {KEYS} keys (best of {ROUNDS} rounds)"
    );

    let (presence, _clock) = engine();
    measure(
        "track (join or second tab)",
        CONNS,
        || {
            for (_, c, _) in &conns {
                presence.untrack_all(*c, UntrackReason::Clean);
            }
        },
        || track_all(&presence, &conns),
    );

    let (presence, _clock) = engine();
    track_all(&presence, &conns);
    measure(
        "list (5 users per key)",
        KEYS * 10,
        || {},
        || {
            for _ in 0..10 {
                for k in 0..KEYS {
                    black_box(presence.list(&key(k)));
                }
            }
        },
    );
    measure(
        "count",
        KEYS * 10,
        || {},
        || {
            for _ in 0..10 {
                for k in 0..KEYS {
                    black_box(presence.count(&key(k)));
                }
            }
        },
    );

    let updates = 1_000_000;
    let mut seq = 0u64;
    measure(
        "update_cursor (no subscribers)",
        updates,
        || {},
        || {
            for n in 0..updates {
                let (k, c, _) = &conns[n % CONNS];
                seq += 1;
                black_box(
                    presence
                        .update_cursor(k, *c, seq, n as f64, 1.0)
                        .expect("tracked"),
                );
            }
        },
    );

    let mut subs: Vec<Subscription> = (0..KEYS).map(|k| presence.subscribe(&key(k))).collect();
    measure(
        "update_cursor + fan-out to 1 subscriber per key (drained)",
        updates,
        || {},
        || {
            for n in 0..updates {
                let (k, c, _) = &conns[n % CONNS];
                seq += 1;
                black_box(
                    presence
                        .update_cursor(k, *c, seq, n as f64, 1.0)
                        .expect("tracked"),
                );
                if n % 10_000 == 0 {
                    drain(&mut subs);
                }
            }
            drain(&mut subs);
        },
    );
    drop(subs);

    measure(
        "heartbeat",
        CONNS,
        || {},
        || {
            for (_, c, _) in &conns {
                black_box(presence.heartbeat(*c));
            }
        },
    );

    let (presence, _clock) = engine();
    measure(
        "untrack (clean; leave or tab close)",
        CONNS,
        || track_all(&presence, &conns),
        || {
            for (k, c, _) in &conns {
                presence.untrack(k, *c, UntrackReason::Clean);
            }
        },
    );

    let (presence, clock) = engine();
    measure(
        "sweep expiring every connection at once (per connection)",
        CONNS,
        || {
            track_all(&presence, &conns);
            clock.advance(Duration::from_secs(61));
        },
        || {
            black_box(presence.sweep());
        },
    );

    hot_room();
}

/// 200 users in one key, each watching it (200 subscribers), moving cursors: the spec's 20 Hz per user
/// needs 4,000 updates/s and 800,000 deliveries/s.
fn hot_room() {
    const USERS: usize = 200;
    let (presence, _clock) = engine();
    let room = "document:hot";
    for u in 0..USERS {
        presence
            .track(
                room,
                ConnId::from_u128(u as u128),
                &format!("user-{u}"),
                json!({"name": u}),
            )
            .expect("valid meta");
    }
    let mut subs: Vec<Subscription> = (0..USERS).map(|_| presence.subscribe(room)).collect();
    let updates = 100_000;
    let mut seq = 0u64;
    let mut delivered = 0;
    measure(
        "hot room: update_cursor, 200 users, 200 subscribers",
        updates,
        || {},
        || {
            for n in 0..updates {
                seq += 1;
                let c = ConnId::from_u128((n % USERS) as u128);
                black_box(
                    presence
                        .update_cursor(room, c, seq, n as f64, 1.0)
                        .expect("tracked"),
                );
                if n % 1_000 == 0 {
                    delivered += drain(&mut subs);
                }
            }
            delivered += drain(&mut subs);
        },
    );
    black_box(delivered);
    measure(
        "hot room: list (200 users)",
        10_000,
        || {},
        || {
            for _ in 0..10_000 {
                black_box(presence.list(room));
            }
        },
    );
    measure(
        "hot room: cursors_except (199 cursors)",
        10_000,
        || {},
        || {
            for _ in 0..10_000 {
                black_box(presence.cursors_except(room, "user-0"));
            }
        },
    );
}
