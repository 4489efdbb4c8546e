//! Cursor motion as a peer's Chromium page draws it: a straight line streamed at 20 Hz by a
//! protocol client (tokio timer, no WebDriver round trip between samples), sampled in the
//! peer's page on every animation frame with the frame's own timestamp.

use std::time::Duration;

use serde_json::{Value, json};

use super::Ws;
use super::browser::{DRAWN, R, renderer_waited};
use djust_testkit::Page;

/// The line: `MOVES` samples at `HZ`, x from `FROM_X` in steps of `STEP_X`, y fixed at `Y`.
pub const FROM_X: i64 = 100;
/// Pixels per sample.
pub const STEP_X: i64 = 10;
/// Samples after the first (which makes the cursor appear).
pub const MOVES: i64 = 39;
/// The sender's rate.
pub const HZ: u64 = 20;
/// The line's height.
pub const Y: i64 = 40;

/// Where the line ends.
pub const fn to_x() -> i64 {
    FROM_X + STEP_X * MOVES
}

/// What the peer drew while the cursor travelled the line.
#[derive(Debug)]
pub struct Motion {
    /// Distinct x positions drawn, first frame that left the start to first frame at the end.
    pub distinct: usize,
    /// Frames Chromium produced over that time.
    pub frames: usize,
    /// That time, in seconds of the page's clock (animation-frame timestamps).
    pub secs: f64,
    /// Whether x never went back.
    pub monotonic: bool,
    /// The last drawn position.
    pub last: (f64, f64),
}

impl Motion {
    /// Distinct positions per second of browser time.
    pub fn per_sec(&self) -> f64 {
        self.distinct as f64 / self.secs
    }

    /// Frames per second of browser time.
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.secs
    }
}

/// Sends the first sample and waits until `page` shows the element `cursor` (a CSS selector;
/// it appears by a render) and `also` (a JS expression) holds.
pub async fn first_sample(page: &Page, mover: &mut Ws, cursor: &str, also: &str) -> R {
    mover
        .event("cursor_move", json!({"x": FROM_X, "y": Y}))
        .await;
    page.wait_for(&format!(
        "!!document.querySelector({}) && ({also})",
        json!(cursor)
    ))
    .await
    .map(|_| ())
}

/// Runs of the line at most: a run during which other processes starved Chromium of CPU (its
/// renderer waited for a core more than a fifth of the time) is run again.
pub const RUNS: usize = 3;
/// The share of a run the renderer may wait for a core before the run counts as starved.
pub const STARVED: f64 = 0.2;

/// Streams the line from `mover` while `page` samples `cursor`, then checks
/// [`assert_smooth`]. A run under [`STARVED`] is judged; a starved one that fell short is run
/// again, at most [`RUNS`] times, and the last is judged whatever it was.
pub async fn line_is_smooth(what: &str, page: &Page, mover: &mut Ws, cursor: &str) -> R {
    for run in 1..=RUNS {
        if run > 1 {
            // Back to the start (a jump or a glide), then the line again.
            first_sample(page, mover, cursor, "true").await?;
            page.wait_for(&format!(
                "(() => {{ {DRAWN} return drawn(document.querySelector({})).x === {FROM_X}; }})()",
                json!(cursor)
            ))
            .await?;
        }
        let waited = renderer_waited(page);
        let started = std::time::Instant::now();
        start_sampling(page, cursor).await?;
        stream_line(mover).await;
        let m = measured(page, cursor).await?;
        let starved = renderer_waited(page) - waited > STARVED * started.elapsed().as_secs_f64();
        if m.per_sec() >= 50.0 || !starved || run == RUNS {
            assert_smooth(what, &m);
            return Ok(());
        }
        println!(
            "{what}: run {run} starved of CPU by other processes ({:.0}/s at {:.0} frames/s): again",
            m.per_sec(),
            m.fps()
        );
    }
    Ok(())
}

/// Starts sampling, in `page`, the drawn position of the element `cursor` (a CSS selector)
/// on every animation frame: `[timestamp, x, y]`.
pub async fn start_sampling(page: &Page, cursor: &str) -> R {
    page.eval_with(
        &format!(
            "{DRAWN}
             const c = document.querySelector(arguments[0]);
             window.__samples = [];
             const tick = (t) => {{ const at = drawn(c); window.__samples.push([t, at.x, at.y]);
                                   if (window.__samples.length < 5000) requestAnimationFrame(tick); }};
             requestAnimationFrame(tick); return true;"
        ),
        vec![json!(cursor)],
    )
    .await
    .map(|_| ())
}

/// Streams the rest of the line from `mover` at [`HZ`] (a tokio interval: even spacing).
pub async fn stream_line(mover: &mut Ws) {
    let mut every = tokio::time::interval(Duration::from_millis(1000 / HZ));
    every.tick().await;
    for i in 1..=MOVES {
        every.tick().await;
        mover
            .event("cursor_move", json!({"x": FROM_X + STEP_X * i, "y": Y}))
            .await;
    }
}

/// Waits until `page` draws `cursor` exactly at the end of the line, then reads the samples.
pub async fn measured(page: &Page, cursor: &str) -> R<Motion> {
    page.wait_for(&format!(
        "(() => {{ {DRAWN} const c = document.querySelector({});
                 if (!c) return false; const at = drawn(c); return at.x === {} && at.y === {Y}; }})()",
        json!(cursor),
        to_x()
    ))
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let samples: Value = page.eval("return window.__samples").await?;
    let samples: Vec<(f64, f64, f64)> = serde_json::from_value(samples).unwrap_or_default();
    let start = samples
        .iter()
        .position(|s| s.1 > FROM_X as f64)
        .unwrap_or(0);
    let end = samples
        .iter()
        .position(|s| s.1 >= to_x() as f64)
        .unwrap_or(samples.len().saturating_sub(1));
    let moving = samples.get(start..=end).unwrap_or_default();
    let distinct = moving
        .windows(2)
        .filter(|w| (w[1].1 - w[0].1).abs() > 1e-6)
        .count()
        + 1;
    let secs = match (moving.first(), moving.last()) {
        (Some(a), Some(b)) => (b.0 - a.0) / 1000.0,
        _ => 0.0,
    };
    Ok(Motion {
        distinct,
        frames: moving.len(),
        secs,
        monotonic: moving.windows(2).all(|w| w[1].1 >= w[0].1 - 1e-6),
        last: samples.last().map_or((f64::NAN, f64::NAN), |s| (s.1, s.2)),
    })
}

/// The interpolation rule, with a message that says what the page did: at least 50
/// positions per second of browser time, never backwards, ending exactly on the last sample.
pub fn assert_smooth(what: &str, m: &Motion) {
    println!(
        "{what}: {} positions drawn in {:.2} s ({:.0}/s; the page ran at {:.0} frames/s) for {MOVES} moves at {HZ} Hz",
        m.distinct,
        m.secs,
        m.per_sec(),
        m.fps()
    );
    assert!(
        m.secs > 1.5,
        "{what}: the stream lasts about 1.95 s, the motion {:.2} s",
        m.secs
    );
    assert!(
        m.per_sec() >= 50.0,
        "{what}: {:.0} positions per second ({} in {:.2} s) — at least 50 wanted; Chromium \
         produced {} frames ({:.0}/s) meanwhile{}",
        m.per_sec(),
        m.distinct,
        m.secs,
        m.frames,
        m.fps(),
        if m.fps() < 50.0 {
            " (fewer than 50: the machine starved Chromium of CPU)"
        } else {
            " (so frames were drawn without moving the cursor)"
        }
    );
    assert!(m.monotonic, "{what}: a straight line never goes back");
    assert_eq!(
        m.last,
        (to_x() as f64, Y as f64),
        "{what}: ends exactly on the last sample"
    );
}
