//! `djust-redis-node`: a minimal presence process for trying a Redis deployment (and for the crash test).
//!
//! It joins `--users N` users (`user-0` …) on `--key`, keeps them alive with heartbeats, prints
//! `ready <node id>` once they are in Redis, and runs until killed or until its standard input closes
//! (then it leaves cleanly).
//!
//! ```text
//! djust-redis-node --url redis://127.0.0.1:6379/0 --key document:1 --users 3 [--timeout-ms 60000]
//! ```

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use djust_presence::{ConnId, Presence, PresenceConfig};
use djust_presence_redis::{RedisConfig, RedisPresence, RedisStatus};
use serde_json::json;

struct Args {
    url: String,
    key: String,
    users: usize,
    timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut url = std::env::var(djust_presence_redis::REDIS_URL_ENV).ok();
    let (mut key, mut users, mut timeout_ms) = ("presence:demo".to_owned(), 1usize, 60_000u64);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--key" => key = value()?,
            "--users" => users = value()?.parse().map_err(|e| format!("--users: {e}"))?,
            "--timeout-ms" => {
                timeout_ms = value()?.parse().map_err(|e| format!("--timeout-ms: {e}"))?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let url = url.ok_or("give --url or set DJUST_REDIS_URL")?;
    Ok(Args {
        url,
        key,
        users,
        timeout: Duration::from_millis(timeout_ms),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("djust-redis-node: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let config = PresenceConfig {
        presence_timeout: args.timeout,
        heartbeat_interval: args.timeout / 4,
        ..PresenceConfig::default()
    };
    let redis = RedisPresence::connect(RedisConfig::new(args.url))
        .await
        .map_err(|e| e.to_string())?;
    let presence = Presence::builder()
        .config(config)
        .backend(redis.backend())
        .build()
        .map_err(|e| e.to_string())?;
    let conns: Vec<ConnId> = (0..args.users).map(|_| ConnId::random()).collect();
    for (i, conn) in conns.iter().enumerate() {
        let user = format!("user-{i}");
        presence
            .track(&args.key, *conn, &user, json!({ "name": user }))
            .map_err(|e| e.to_string())?;
    }
    // Tracked before the driver starts: registering writes them to Redis, so "connected" means "visible".
    let handle = redis.start(&presence).map_err(|e| e.to_string())?;
    let _sweeper = presence.spawn_sweeper().map_err(|e| e.to_string())?;
    handle.wait_for(RedisStatus::Connected).await;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "ready {}", presence.node_id());
    let _ = stdout.flush();

    let stdin_closed = tokio::task::spawn_blocking(|| {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
        }
    });
    tokio::pin!(stdin_closed);
    let mut heartbeat = tokio::time::interval(presence.config().heartbeat_interval);
    loop {
        tokio::select! {
            _ = heartbeat.tick() => {
                for conn in &conns {
                    presence.heartbeat(*conn);
                }
            }
            _ = &mut stdin_closed => break,
        }
    }
    handle.shutdown().await;
    Ok(())
}
