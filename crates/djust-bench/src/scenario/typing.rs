//! `typing`: U users typing C characters per second each into one shared document for T s,
//! like the browser's shared-text binding does (docs/protocol.md, *Shared text*): each user is
//! a real Yjs document (`yrs`, the same update format), each keystroke one insert sent at once
//! as its own `text_update`, up to [`MAX_INFLIGHT`] unacknowledged per user (the browser
//! binding's bound); beyond that, keystrokes are merged into the next update.
//!
//! Latency is from the keystroke (the local insert) to the moment a peer's document contains
//! it: a peer's state vector for the sender's client id passing the keystroke's clock (each
//! keystroke is one character, one clock). So an update that arrives before one it depends
//! on counts only once it is integrated, like on a screen. At the end every copy — every user's
//! and a fresh connection's, the server's — must hold the identical text, of the seed's length
//! plus every keystroke.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

use super::{Stage, Windows, arrival, header, progress, run_id};
use crate::cli::TypingArgs;
use crate::error::BenchError;
use crate::latency::{Epoch, LatencyMs};
use crate::setup::{arrive, user_name};
use crate::ws::{Ws, connect, mount};

/// The shared-text field of the collab editor.
const FIELD: &str = "content";
/// Yjs client ids of the simulated users: `CLIENT_BASE + user`.
const CLIENT_BASE: u64 = 7_000_000;
/// Updates a user has sent and not had acknowledged, at most (as `assets/shared-text.js`).
const MAX_INFLIGHT: usize = 16;

/// Keystroke send times, per sender and clock (nanoseconds since the epoch; 0 = not yet).
struct KeyLog {
    times: Vec<Vec<AtomicU64>>,
}

impl KeyLog {
    fn new(users: usize, keys: usize) -> Self {
        Self {
            times: (0..users)
                .map(|_| (0..keys).map(|_| AtomicU64::new(0)).collect())
                .collect(),
        }
    }
}

/// What one simulated user measured.
struct UserOutcome {
    keys: u64,
    hist: Histogram<u64>,
    text: String,
    /// The first few errors (text_error frames, merge failures), and how many in all.
    errors: Vec<String>,
    error_count: u64,
    updates_sent: u64,
}

fn histogram() -> Histogram<u64> {
    crate::latency::new_histogram()
}

/// Runs the scenario and returns its JSON report.
pub(crate) async fn run(args: TypingArgs) -> Result<Value, BenchError> {
    let c = &args.common;
    if args.users < 2 || args.cps <= 0.0 || args.secs <= 0.0 {
        return Err(BenchError::Params(
            "typing needs --users >= 2 (someone must see the keystrokes), --cps > 0, --secs > 0"
                .into(),
        ));
    }
    let stage = Stage::single(c).await?;
    let room = stage.rooms(1).await?[0];
    let path = format!("/doc/{room}");
    let id = run_id();
    progress!("{} users arrive over HTTP", args.users);
    let jars = arrive(
        &stage.target,
        (0..args.users).map(|g| user_name(&id, g)).collect(),
        vec![path.clone(); args.users],
        arrival(c),
    )
    .await?;
    let keys_each = (args.cps * args.secs).ceil() as usize;
    let log = Arc::new(KeyLog::new(args.users, keys_each + 1));
    let epoch = Arc::new(Epoch::now());
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<(), String>>(args.users);
    let (go_tx, _) = tokio::sync::broadcast::channel::<u64>(1);
    let mut tasks = Vec::new();
    for (g, jar) in jars.into_iter().enumerate() {
        let mut ws = connect(&stage.target, &jar, c.ws_read_buffer)
            .await
            .map_err(|detail| BenchError::Ws {
                what: format!("connect of user {g}"),
                detail,
            })?;
        mount(&mut ws, &path)
            .await
            .map_err(|detail| BenchError::Ws {
                what: format!("mount of user {g}"),
                detail,
            })?;
        let user = User {
            g,
            users: args.users,
            keys: keys_each,
            interval: Duration::from_secs_f64(1.0 / args.cps),
            log: log.clone(),
            epoch: epoch.clone(),
            stop: stop.clone(),
        };
        let (ready, go) = (ready_tx.clone(), go_tx.subscribe());
        tasks.push(tokio::spawn(user.run(ws, ready, go)));
    }
    drop(ready_tx);
    for _ in 0..args.users {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(detail)) => {
                return Err(BenchError::Ws {
                    what: "text_sync".into(),
                    detail,
                });
            }
            None => break,
        }
    }
    progress!(
        "{} users synced; typing for {} s at {} chars/s each",
        args.users,
        args.secs,
        args.cps
    );
    let pids: Vec<u32> = stage.pid.into_iter().collect();
    let windows = Windows::open(&pids, c.threads);
    let start_ns = epoch.nanos() + 20_000_000;
    let _ = go_tx.send(start_ns);
    tokio::time::sleep(Duration::from_secs_f64(args.secs) + Duration::from_millis(20)).await;
    let windows = windows.close();
    // Typing is over: let the last updates arrive and be acknowledged.
    tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for t in tasks {
        match t.await {
            Ok(o) => outcomes.push(o),
            Err(e) => return Err(BenchError::Params(format!("a user task failed: {e}"))),
        }
    }
    // The server's copy, through a fresh connection.
    let server_text = fresh_text(&stage, &path, c.ws_read_buffer).await?;
    let keys: u64 = outcomes.iter().map(|o| o.keys).sum();
    let mut hist = histogram();
    for o in &outcomes {
        let _ = hist.add(&o.hist);
    }
    let expected = keys * (args.users as u64 - 1);
    let identical = outcomes.iter().all(|o| o.text == server_text);
    let seed_len = collab::db::SEED_CONTENT.chars().count() as u64;
    let complete = server_text.chars().count() as u64 == seed_len + keys;
    let errors: u64 = outcomes.iter().map(|o| o.error_count).sum();
    let first_errors: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.errors.iter().cloned())
        .take(5)
        .collect();
    let mut r = header(
        "typing",
        c,
        json!({"users": args.users, "cps": args.cps, "secs": args.secs, "drain": args.drain}),
    );
    r.insert("server".into(), stage.describe());
    r.insert("keystrokes".into(), json!(keys));
    r.insert(
        "updates_sent".into(),
        json!(outcomes.iter().map(|o| o.updates_sent).sum::<u64>()),
    );
    r.insert("expected_pairs".into(), json!(expected));
    r.insert("delivered_pairs".into(), json!(hist.len()));
    r.insert("latency_ms".into(), json!(LatencyMs::of(&hist)));
    r.insert("text_identical_everywhere".into(), json!(identical));
    r.insert("text_complete".into(), json!(complete));
    r.insert("text_chars".into(), json!(server_text.chars().count()));
    r.insert("errors".into(), json!(errors));
    r.insert("first_errors".into(), json!(first_errors));
    windows.fields(&mut r);
    let latency = LatencyMs::of(&hist);
    progress!(
        "typing: p99 keystroke to every peer {} ms ({} of {} pairs); server {} cores ({} s CPU); text identical {identical}, complete {complete}",
        json!(latency.p99),
        hist.len(),
        expected,
        json!(windows.server_cores()),
        json!(windows.server_cpu_s()),
    );
    Ok(Value::Object(r))
}

/// One simulated user.
struct User {
    g: usize,
    users: usize,
    keys: usize,
    interval: Duration,
    log: Arc<KeyLog>,
    epoch: Arc<Epoch>,
    stop: Arc<AtomicBool>,
}

impl User {
    async fn run(
        self,
        mut ws: Ws,
        ready: mpsc::Sender<Result<(), String>>,
        mut go: tokio::sync::broadcast::Receiver<u64>,
    ) -> UserOutcome {
        let doc = Doc::with_client_id(CLIENT_BASE + self.g as u64);
        let text = doc.get_or_insert_text("text");
        let mut out = UserOutcome {
            keys: 0,
            hist: histogram(),
            text: String::new(),
            errors: Vec::new(),
            error_count: 0,
            updates_sent: 0,
        };
        let sv = B64.encode(doc.transact().state_vector().encode_v1());
        let sync = json!({"t": "text_sync", "field": FIELD, "sv": sv}).to_string();
        if let Err(e) = ws.send(Message::text(sync)).await {
            let _ = ready.send(Err(e.to_string())).await;
            return out;
        }
        // Per sender: the clock this user's copy has integrated up to (what it has "seen").
        let mut seen = vec![0u32; self.users];
        let mut synced = false;
        let mut started: Option<u64> = None;
        let mut inflight = 0usize;
        let mut queue: Vec<Vec<u8>> = Vec::new();
        let mut next_id = 1u64;
        let mut rng =
            0x9e37_79b9_7f4a_7c15u64 ^ (self.g as u64).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut stop_check = tokio::time::interval(Duration::from_millis(50));
        loop {
            tokio::select! {
                start = go.recv(), if started.is_none() => {
                    let Ok(start) = start else { break };
                    started = Some(start);
                    let at = tokio::time::Instant::from_std(self.epoch.instant(start))
                        + self.interval.mul_f64(super::phase_of(self.g));
                    tick = tokio::time::interval_at(at, self.interval);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                }
                _ = tick.tick(), if started.is_some() && synced && (out.keys as usize) < self.keys => {
                    // One keystroke at a random place of this user's copy.
                    let update = {
                        let mut txn = doc.transact_mut();
                        let len = text.len(&txn);
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        let at = (rng % (u64::from(len) + 1)) as u32;
                        let ch = char::from(b'a' + (out.keys % 26) as u8);
                        text.insert(&mut txn, at, &ch.to_string());
                        txn.encode_update_v1()
                    };
                    if let Some(slot) = self.log.times[self.g].get(out.keys as usize) {
                        slot.store(self.epoch.nanos(), Ordering::Relaxed);
                    }
                    out.keys += 1;
                    queue.push(update);
                    if inflight < MAX_INFLIGHT && send_queued(&mut ws, &mut queue, &mut next_id, &mut out).await {
                        inflight += 1;
                    }
                }
                msg = ws.next() => {
                    let Some(Ok(msg)) = msg else { break };
                    let Message::Text(frame) = msg else { continue };
                    let Ok(frame) = serde_json::from_str::<Value>(&frame) else { continue };
                    match frame["t"].as_str() {
                        Some("text_sync") => {
                            apply(&doc, &frame["update"]);
                            synced = true;
                            let _ = ready.send(Ok(())).await;
                        }
                        Some("text_update") => {
                            apply(&doc, &frame["update"]);
                            self.observe(&doc, &mut seen, &mut out.hist);
                        }
                        Some("text_ack") => {
                            let acked = frame["ids"].as_array().map_or(0, Vec::len);
                            inflight = inflight.saturating_sub(acked);
                            if inflight < MAX_INFLIGHT && !queue.is_empty() && send_queued(&mut ws, &mut queue, &mut next_id, &mut out).await {
                                inflight += 1;
                            }
                        }
                        Some("text_error") => {
                            out.error_count += 1;
                            if out.errors.len() < 5 {
                                out.errors.push(frame.to_string());
                            }
                            inflight = inflight.saturating_sub(1);
                        }
                        _ => {}
                    }
                }
                _ = stop_check.tick() => {
                    if self.stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
        }
        out.text = text.get_string(&doc.transact());
        let _ = ws.close(None).await;
        out
    }

    /// Records the keystrokes of other users that this copy now contains.
    fn observe(&self, doc: &Doc, seen: &mut [u32], hist: &mut Histogram<u64>) {
        let sv = doc.transact().state_vector();
        let now = self.epoch.nanos();
        for (s, seen) in seen.iter_mut().enumerate() {
            if s == self.g {
                continue;
            }
            let clock = sv.get(&ClientID::new(CLIENT_BASE + s as u64));
            while *seen < clock {
                let sent = self.log.times[s]
                    .get(*seen as usize)
                    .map_or(0, |t| t.load(Ordering::Relaxed));
                if sent > 0 && now >= sent {
                    let _ = hist.record(((now - sent) / 1000).max(1));
                }
                *seen += 1;
            }
        }
    }
}

/// Sends everything queued as one `text_update` (merged); true if sent.
async fn send_queued(
    ws: &mut Ws,
    queue: &mut Vec<Vec<u8>>,
    next_id: &mut u64,
    out: &mut UserOutcome,
) -> bool {
    let update = if queue.len() == 1 {
        queue.pop().unwrap_or_default()
    } else {
        match yrs::merge_updates_v1(queue.iter().map(Vec::as_slice)) {
            Ok(u) => u,
            Err(e) => {
                out.error_count += 1;
                out.errors.push(format!("merge: {e}"));
                return false;
            }
        }
    };
    queue.clear();
    let frame =
        json!({"t": "text_update", "field": FIELD, "id": *next_id, "update": B64.encode(update)});
    *next_id += 1;
    out.updates_sent += 1;
    ws.send(Message::text(frame.to_string())).await.is_ok()
}

fn apply(doc: &Doc, b64: &Value) {
    let Some(bytes) = b64.as_str().and_then(|s| B64.decode(s).ok()) else {
        return;
    };
    if let Ok(update) = Update::decode_v1(&bytes) {
        let _ = doc.transact_mut().apply_update(update);
    }
}

/// The document's text as the server has it (a fresh connection's sync).
async fn fresh_text(stage: &Stage, path: &str, read_buffer: usize) -> Result<String, BenchError> {
    let err = |detail: String| BenchError::Ws {
        what: "the final read of the document".into(),
        detail,
    };
    let mut ws = connect(
        &stage.target,
        &crate::http::CookieJar::default(),
        read_buffer,
    )
    .await
    .map_err(err)?;
    mount(&mut ws, path).await.map_err(err)?;
    let sv = B64.encode(StateVector::default().encode_v1());
    ws.send(Message::text(
        json!({"t": "text_sync", "field": FIELD, "sv": sv}).to_string(),
    ))
    .await
    .map_err(|e| err(e.to_string()))?;
    let doc = Doc::new();
    let text = doc.get_or_insert_text("text");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| err("no text_sync answer within 10 s".into()))?;
        let Some(Ok(Message::Text(frame))) = msg else {
            return Err(err(
                "the connection ended before the text_sync answer".into()
            ));
        };
        let Ok(frame) = serde_json::from_str::<Value>(&frame) else {
            continue;
        };
        if frame["t"] == "text_sync" {
            apply(&doc, &frame["update"]);
            let _ = ws.close(None).await;
            return Ok(text.get_string(&doc.transact()));
        }
    }
}
