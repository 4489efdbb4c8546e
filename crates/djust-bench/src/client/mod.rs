//! One simulated browser tab: connect, mount, then read every frame (counting it, matching
//! cursor positions and the presence count) while sending cursor moves and heartbeats on
//! schedule, until told to stop.

use djust_render::ClientModel;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::http::CookieJar;
use crate::latency::{Epoch, PeerTracker, RoomLog, encode};
use crate::matcher::{CountMatcher, Position, PositionMatcher, default_matchers};
use crate::target::Target;
use crate::ws::{FrameHead, Ws, connect, cursor_move_frame, mount};

mod shared;

pub use shared::{ClientShared, ConnState, FrameTypes};

/// How long one connection may take to connect and mount.
const MOUNT_TIMEOUT: Duration = Duration::from_secs(60);

/// What every client of a run shares: the clock, matchers and run-wide counters the
/// coordinator polls.
pub struct RunShared {
    /// The run's clock.
    pub epoch: Epoch,
    matchers: Vec<Box<dyn PositionMatcher>>,
    counter: CountMatcher,
    /// Frames received by all clients.
    pub frames: AtomicU64,
    /// Bytes (frame payloads) received by all clients.
    pub bytes: AtomicU64,
    /// (move, peer) pairs that should be shown: each move adds its room's peer count.
    pub expected_pairs: AtomicU64,
    /// (move, peer) pairs shown so far (at any latency).
    pub resolved_pairs: AtomicU64,
    /// Clients that mounted.
    pub mounted: AtomicUsize,
    /// Clients that failed to connect or mount.
    pub failed: AtomicUsize,
    first_error: Mutex<Option<String>>,
    read_buffer: usize,
}

impl std::fmt::Debug for RunShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunShared").finish_non_exhaustive()
    }
}

impl RunShared {
    /// Shared state for a run whose clients use `read_buffer`-byte WebSocket read buffers and
    /// read the presence count as `{n}{count_suffix}`.
    pub fn new(read_buffer: usize, count_suffix: &str) -> Arc<Self> {
        Arc::new(Self {
            epoch: Epoch::now(),
            matchers: default_matchers(),
            counter: CountMatcher::new(count_suffix),
            frames: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            expected_pairs: AtomicU64::new(0),
            resolved_pairs: AtomicU64::new(0),
            mounted: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            first_error: Mutex::new(None),
            read_buffer,
        })
    }

    fn fail(&self, msg: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.first_error.lock().get_or_insert(msg);
    }

    /// The first connect/mount failure, if any.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().clone()
    }
}

/// The client's place in a room whose cursors are measured.
#[derive(Debug, Clone)]
pub struct Seat {
    /// The room's send log.
    pub log: Arc<RoomLog>,
    /// This client's index in the room (its `y` when it moves).
    pub index: usize,
    /// Other members of the room: every move should reach this many peers.
    pub peers: u64,
    /// Per sender index, which latency class its moves fall in for this peer (multi-node:
    /// 0 = same process, 1 = other process). Empty: all class 0.
    pub classes: Vec<u8>,
    /// Spreads this client's send times over the period (0..1).
    pub phase: f64,
    /// Whether this client moves its cursor during the load (others only watch).
    pub moves: bool,
}

/// What the coordinator tells every client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Read frames, send heartbeats, no moves.
    Hold,
    /// Move the cursor at `hz` from `start_ns` until `end_ns` (ns since the epoch).
    Load {
        /// First move (plus the client's phase offset).
        start_ns: u64,
        /// No move at or after this.
        end_ns: u64,
        /// Moves per second.
        hz: f64,
    },
    /// Close the connection and report.
    Stop,
}

/// One client to run.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// The server.
    pub target: Target,
    /// The browser's cookies (login, session).
    pub jar: CookieJar,
    /// The page to mount (`/doc/1`).
    pub path: String,
    /// Where it sits, if its cursor is measured.
    pub seat: Option<Seat>,
}

/// What one client saw, returned when it ends.
#[derive(Debug)]
pub struct ClientOutcome {
    /// Whether it mounted.
    pub mounted: bool,
    /// Its latency tracker (if seated).
    pub tracker: Option<PeerTracker>,
    /// Frames received (mount included).
    pub frames: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Frames by type.
    pub types: FrameTypes,
    /// `error` frames by code.
    pub error_codes: BTreeMap<String, u64>,
    /// Why the connection ended before we stopped it (server close, transport error).
    pub unexpected_close: Option<String>,
    /// When that happened (ns since the epoch).
    pub closed_at_ns: Option<u64>,
    /// Cursor moves sent.
    pub moves_sent: u32,
    /// Frames that could not be sent.
    pub send_errors: u64,
}

/// Runs one client to completion. `connect_permits` bounds how many clients connect and
/// mount at once.
pub async fn run_client(
    spec: ClientSpec,
    run: Arc<RunShared>,
    me: Arc<ClientShared>,
    mut phase: watch::Receiver<Phase>,
    connect_permits: Arc<Semaphore>,
) -> ClientOutcome {
    let mut out = ClientOutcome {
        mounted: false,
        tracker: spec
            .seat
            .as_ref()
            .map(|s| PeerTracker::with_classes(s.index, s.log.senders(), s.classes.clone())),
        frames: 0,
        bytes: 0,
        types: FrameTypes::default(),
        error_codes: BTreeMap::new(),
        unexpected_close: None,
        closed_at_ns: None,
        moves_sent: 0,
        send_errors: 0,
    };
    let setup = async {
        let _permit = connect_permits.acquire().await.map_err(|e| e.to_string())?;
        let mut ws = connect(&spec.target, &spec.jar, run.read_buffer).await?;
        let mounted = mount(&mut ws, &spec.path).await?;
        Ok::<_, String>((ws, mounted))
    };
    let (mut ws, mounted) = match tokio::time::timeout(MOUNT_TIMEOUT, setup).await {
        Ok(Ok(ok)) => ok,
        Ok(Err(e)) => {
            run.fail(e);
            me.set_state(ConnState::Failed);
            return out;
        }
        Err(_) => {
            run.fail(format!("no `mounted` within {MOUNT_TIMEOUT:?}"));
            me.set_state(ConnState::Failed);
            return out;
        }
    };
    out.mounted = true;
    let mut reader = Reader {
        run: &run,
        me: &me,
        seat: spec.seat.as_ref(),
        positions: Vec::new(),
        model: ClientModel::new(),
    };
    reader.frame(&mounted.frame, &mut out);
    run.mounted.fetch_add(1, Ordering::Relaxed);
    me.set_state(ConnState::Mounted);

    let heartbeat = Duration::from_millis(mounted.heartbeat_ms.max(100));
    let mut next_heartbeat = Instant::now() + heartbeat;
    let mut schedule: Option<Schedule> = None;
    loop {
        let next_move = schedule.as_ref().and_then(|s| s.next_at(&run.epoch));
        tokio::select! {
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
                match *phase.borrow_and_update() {
                    Phase::Hold => schedule = None,
                    Phase::Load { start_ns, end_ns, hz } => {
                        schedule = spec
                            .seat
                            .as_ref()
                            .filter(|seat| seat.moves)
                            .map(|seat| Schedule::new(seat, start_ns, end_ns, hz));
                    }
                    Phase::Stop => break,
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => reader.frame(&text, &mut out),
                Some(Ok(Message::Close(frame))) => {
                    out.unexpected_close = Some(format!("server closed: {frame:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    out.unexpected_close = Some(format!("transport error: {e}"));
                    break;
                }
                None => {
                    out.unexpected_close = Some("connection ended".into());
                    break;
                }
            },
            () = sleep_until_opt(next_move) => {
                if let (Some(s), Some(seat)) = (schedule.as_mut(), spec.seat.as_ref()) {
                    s.seq += 1;
                    let pos = encode(seat.index, s.seq);
                    seat.log.record_send(seat.index, s.seq, run.epoch.nanos());
                    run.expected_pairs.fetch_add(seat.peers, Ordering::Relaxed);
                    out.moves_sent += 1;
                    if ws.send(Message::text(cursor_move_frame(pos.x, pos.y))).await.is_err() {
                        out.send_errors += 1;
                    }
                }
            }
            () = tokio::time::sleep_until(next_heartbeat) => {
                next_heartbeat += heartbeat;
                if ws.send(Message::text(r#"{"t":"heartbeat"}"#)).await.is_err() {
                    out.send_errors += 1;
                }
            }
        }
    }
    if out.unexpected_close.is_some() {
        out.closed_at_ns = Some(run.epoch.nanos());
    } else {
        let _ = tokio::time::timeout(Duration::from_secs(1), close(&mut ws)).await;
    }
    me.set_state(ConnState::Closed);
    out
}

async fn close(ws: &mut Ws) {
    let _ = ws.close(None).await;
    // Read until the server's Close arrives, so the server sees a clean close.
    while let Some(Ok(_)) = ws.next().await {}
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A client's move schedule: `start + (phase + k) * period` while before `end`.
#[derive(Debug)]
struct Schedule {
    start_ns: u64,
    end_ns: u64,
    period_ns: f64,
    phase: f64,
    seq: u32,
    max: u32,
}

impl Schedule {
    fn new(seat: &Seat, start_ns: u64, end_ns: u64, hz: f64) -> Self {
        Self {
            start_ns,
            end_ns,
            period_ns: 1e9 / hz.max(0.001),
            phase: seat.phase,
            seq: 0,
            max: seat.log.max_moves(),
        }
    }

    /// When the next move is due, or `None` when the schedule is over.
    fn next_at(&self, epoch: &Epoch) -> Option<Instant> {
        if self.seq >= self.max {
            return None;
        }
        let at = self.start_ns as f64 + (self.phase + f64::from(self.seq)) * self.period_ns;
        let at = at as u64;
        (at < self.end_ns).then(|| Instant::from_std(epoch.instant(at)))
    }
}

/// Handles received frames.
struct Reader<'a> {
    run: &'a RunShared,
    me: &'a ClientShared,
    seat: Option<&'a Seat>,
    positions: Vec<Position>,
    /// The view as the browser would have it (rendered tree + statics).
    model: ClientModel,
}

impl Reader<'_> {
    fn frame(&mut self, text: &str, out: &mut ClientOutcome) {
        let now = self.run.epoch.nanos();
        out.frames += 1;
        out.bytes += text.len() as u64;
        self.run.frames.fetch_add(1, Ordering::Relaxed);
        self.run
            .bytes
            .fetch_add(text.len() as u64, Ordering::Relaxed);
        let Some(head) = FrameHead::parse(text) else {
            out.types.count("?");
            return;
        };
        out.types.count(&head.t);
        if head.t == "error" {
            let code = head.code.as_deref().unwrap_or("?");
            *out.error_codes.entry(code.to_owned()).or_default() += 1;
            return;
        }
        // What the frame shows: the whole page for a full render, the touched parts (an output
        // with its surrounding statics, a whole loop item) for a patch, plus the raw frame
        // (the fast path's `cursors` field).
        let shown = self.shown(&head.t, text, out);
        if let Some(n) = self.run.counter.last_count(&shown) {
            self.me.set_count(n, now);
        }
        if let (Some(seat), Some(tracker)) = (self.seat, out.tracker.as_mut()) {
            self.positions.clear();
            for m in &self.run.matchers {
                m.scan(&head.t, text, &mut self.positions);
                m.scan(&head.t, &shown, &mut self.positions);
            }
            let mut resolved = 0;
            for pos in &self.positions {
                let r = tracker.observe(&seat.log, *pos, now);
                resolved += r.within_deadline + r.late;
            }
            if resolved > 0 {
                self.run
                    .resolved_pairs
                    .fetch_add(resolved, Ordering::Relaxed);
            }
        }
    }
}

impl Reader<'_> {
    /// Decodes `mounted` / `render` / `patch` into the HTML they show (empty for others).
    fn shown(&mut self, t: &str, text: &str, out: &mut ClientOutcome) -> String {
        if !matches!(t, "mounted" | "render" | "patch") {
            return String::new();
        }
        let Ok(frame) = serde_json::from_str::<serde_json::Value>(text) else {
            return String::new();
        };
        let result = if t == "patch" {
            self.model
                .apply_diff(&frame["diff"], &frame["statics"])
                .map(|parts| parts.concat())
        } else {
            self.model = ClientModel::new();
            self.model
                .apply_full(&frame["rendered"], &frame["statics"])
                .and_then(|()| self.model.html())
        };
        result.unwrap_or_else(|e| {
            *out.error_codes
                .entry(format!("client model: {e}"))
                .or_default() += 1;
            String::new()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_spreads_moves_and_stops_at_the_end() {
        let epoch = Epoch::now();
        let seat = Seat {
            log: Arc::new(RoomLog::new(1, 3)),
            index: 0,
            peers: 0,
            classes: Vec::new(),
            phase: 0.5,
            moves: true,
        };
        // 10 Hz from 1 s: moves due at 1.05 s, 1.15 s, 1.25 s; the log holds 3.
        let mut s = Schedule::new(&seat, 1_000_000_000, 2_000_000_000, 10.0);
        let due = |s: &Schedule| {
            s.next_at(&epoch)
                .map(|at| (at.into_std() - epoch.instant(0)).as_millis())
        };
        assert_eq!(due(&s), Some(1050));
        s.seq = 2;
        assert_eq!(due(&s), Some(1250));
        s.seq = 3;
        assert_eq!(due(&s), None, "log capacity reached");
        let mut short = Schedule::new(&seat, 0, 100_000_000, 10.0);
        short.seq = 1;
        assert_eq!(due(&short), None, "1.5 periods are past the end");
    }
}
