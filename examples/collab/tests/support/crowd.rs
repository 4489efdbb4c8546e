//! A large room for browser tests: many people tracked straight into the app's presence
//! engine (no socket each: the page under test sees exactly what it would see with real
//! clients — the same records, events and cursors — while the test machine does not run a
//! thousand WebSocket clients and their fan-out in a debug build), and some of them moving
//! their cursors at a steady rate through the engine, as their connections' handlers would.

use std::time::Duration;

use djust::presence::{ConnId, Presence};
use serde_json::json;
use tokio::task::JoinHandle;

/// People tracked on one key.
pub struct Crowd {
    key: String,
    conns: Vec<ConnId>,
    presence: Presence,
}

impl Crowd {
    /// Tracks `n` people on `key`: user ids `1000 + i`, named `P0000`…, public ids `u1000`…,
    /// in palette colours.
    pub fn join(presence: &Presence, key: &str, n: usize) -> Crowd {
        let conns = (0..n)
            .map(|i| {
                let conn = ConnId::random();
                let color = collab::people::COLORS[i % collab::people::COLORS.len()];
                let meta = json!({"name": format!("P{i:04}"), "color": color, "uid": format!("u{}", 1000 + i)});
                presence
                    .track(key, conn, &format!("{}", 1000 + i), meta)
                    .expect("track a crowd member");
                conn
            })
            .collect();
        Crowd {
            key: key.to_owned(),
            conns,
            presence: presence.clone(),
        }
    }

    /// Moves the cursors of the first `movers` people at `hz` each until the task is aborted:
    /// one move at a time, spread evenly over the period, each cursor going round its own
    /// circle (so every move changes its position).
    pub fn move_cursors(&self, movers: usize, hz: u64) -> Mover {
        let conns: Vec<ConnId> = self.conns.iter().take(movers).copied().collect();
        let presence = self.presence.clone();
        let key = self.key.clone();
        let spacing = Duration::from_micros(1_000_000 / hz / conns.len().max(1) as u64);
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(spacing);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut seq = 0u64;
            loop {
                for (i, conn) in conns.iter().enumerate() {
                    every.tick().await;
                    let angle = seq as f64 * 0.2 + i as f64;
                    let (x, y) = (
                        (320.0 + 250.0 * angle.cos()).round(),
                        (260.0 + 180.0 * angle.sin()).round(),
                    );
                    // The engine refuses nothing here: the key and connection are tracked.
                    let _ = presence.update_cursor(&key, *conn, seq + 1, x, y);
                }
                seq += 1;
            }
        });
        Mover { task }
    }
}

/// The moving cursors' task; stops when dropped.
pub struct Mover {
    task: JoinHandle<()>,
}

impl Drop for Mover {
    fn drop(&mut self) {
        self.task.abort();
    }
}
