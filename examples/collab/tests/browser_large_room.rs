//! The browser's frame time in a large room, in real Chromium: 1000 people present, 50 of them
//! moving their cursors at 20 Hz, and the page keeps drawing on time.
//!
//! What is measured (over `WINDOW`, in the viewer's page): the deltas between animation
//! frames (`requestAnimationFrame` timestamps), long tasks (`PerformanceObserver`), and the
//! renderer main thread's CPU time (CDP `Performance.getMetrics`, `ThreadTime`) and the time
//! the renderer's main thread was runnable but waiting for a core (`/proc/<pid>/schedstat`,
//! the scheduler's run delay, of the page's renderer processes).
//!
//! What is asserted: the page's own work, in CPU time, is well inside a frame — always, so a
//! page re-rendering its cursors or its list every frame fails on any machine; and the frames
//! come on time (p95 of the deltas) — in a window where Chromium got the CPU it asked for.
//! On a machine so loaded that the renderer waited for a core for more than a fifth of the
//! window, that window says nothing about the page; up to
//! `WINDOWS` windows are measured, and if every one was starved the test says so and keeps
//! only the CPU assertion.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::time::Duration;

use djust_testkit::Page;
use serde_json::{Value, json};
use support::browser::{R, open_as, renderer_waited};
use support::crowd::Crowd;
use support::start;

const KEY: &str = "editor:1";
const PRESENT: usize = 1000;
const MOVING: usize = 50;
const HZ: u64 = 20;
const WINDOW: Duration = Duration::from_secs(4);
const WINDOWS: usize = 3;
/// The share of the window the renderer may wait for a core before it counts as starved.
const STARVED: f64 = 0.2;
/// One frame at 60 Hz.
const FRAME_MS: f64 = 1000.0 / 60.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_time_with_1000_present_and_50_moving() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    measure(&browser).await.expect("frame time");
}

/// CDP metric `name` (seconds) of `page`.
async fn metric(page: &Page, name: &str) -> R<f64> {
    let got = page.cdp("Performance.getMetrics", json!({})).await?;
    Ok(got["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|e| e["name"] == name))
        .and_then(|e| e["value"].as_f64())
        .unwrap_or(f64::NAN))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One measuring window of the viewer's page.
struct Window {
    /// Animation-frame deltas, sorted (ms).
    frames: Vec<f64>,
    /// Long tasks' durations (ms).
    long: Vec<f64>,
    /// Main-thread CPU, time waiting for a core, and wall time (s).
    cpu: f64,
    waited: f64,
    wall: f64,
    /// (cursor, frame) pairs drawn at a new position.
    moves: u64,
    /// The page's room count text.
    count: String,
}

impl Window {
    fn p(&self, q: f64) -> f64 {
        percentile(&self.frames, q)
    }

    /// Main-thread CPU per 60 Hz frame (ms).
    fn cpu_per_frame_ms(&self) -> f64 {
        self.cpu * 1000.0 / (self.wall * 60.0)
    }

    fn starved(&self) -> bool {
        self.waited > STARVED * self.wall
    }

    fn on_time(&self) -> bool {
        self.p(0.95) < 1.5 * FRAME_MS
    }
}

async fn window(page: &Page) -> R<Window> {
    let before = (
        metric(page, "ThreadTime").await?,
        renderer_waited(page),
        metric(page, "Timestamp").await?,
    );
    page.eval_with(
        "const window_ms = arguments[0];
         window.__frames = []; window.__long = []; window.__moves = 0; window.__done = false;
         if (window.__observer) window.__observer.disconnect();
         window.__observer = new PerformanceObserver((list) => {
             for (const e of list.getEntries()) window.__long.push(e.duration); });
         window.__observer.observe({ type: 'longtask' });
         // What the page drew meanwhile: (cursor, frame) pairs at a new position.
         const seen = new Map();
         let last = null, start = null;
         const tick = (t) => {
             if (last !== null) window.__frames.push(t - last);
             last = t; if (start === null) start = t;
             for (const c of document.querySelectorAll('.cursor')) {
                 const tr = c.style.transform;
                 if (seen.get(c) !== tr) { seen.set(c, tr); window.__moves++; }
             }
             if (t - start < window_ms) requestAnimationFrame(tick); else window.__done = true;
         };
         requestAnimationFrame(tick); return true;",
        vec![json!(WINDOW.as_millis() as u64)],
    )
    .await?;
    page.wait_for_within("window.__done === true", WINDOW * 4)
        .await?;
    let cpu = metric(page, "ThreadTime").await? - before.0;
    let waited = renderer_waited(page) - before.1;
    let wall = metric(page, "Timestamp").await? - before.2;
    let got: Value = page
        .eval(
            "return { frames: window.__frames, long: window.__long, moves: window.__moves,
                      count: document.querySelector('.room-count').textContent };",
        )
        .await?;
    let mut frames: Vec<f64> = serde_json::from_value(got["frames"].clone()).unwrap_or_default();
    frames.sort_by(f64::total_cmp);
    let w = Window {
        frames,
        long: serde_json::from_value(got["long"].clone()).unwrap_or_default(),
        cpu,
        waited,
        wall,
        moves: got["moves"].as_u64().unwrap_or(0),
        count: got["count"].as_str().unwrap_or_default().to_owned(),
    };
    println!(
        "large room: {} frames in {:.1} s, rAF delta p50 {:.1} / p95 {:.1} / p99 {:.1} ms; \
         main thread {:.1} ms CPU per 60 Hz frame ({:.0} % busy), waited {:.2} s for a core{}; \
         {} long tasks ({:.0} ms); {} (cursor, frame) pairs at a new position; \"{}\"",
        w.frames.len(),
        w.wall,
        w.p(0.5),
        w.p(0.95),
        w.p(0.99),
        w.cpu_per_frame_ms(),
        100.0 * w.cpu / w.wall,
        w.waited,
        if w.starved() { " (starved of CPU)" } else { "" },
        w.long.len(),
        w.long.iter().fold(0.0, |a, b| a + b),
        w.moves,
        w.count
    );
    Ok(w)
}

async fn measure(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    // 999 others, then the viewer: 1000 present.
    let crowd = Crowd::join(&app.presence, KEY, PRESENT - 1);
    let page = open_as(browser, &app, Some("viewer"), "/doc/1").await?;
    page.wait_for(&format!(
        "document.querySelector('.room-count').textContent === '{PRESENT} editing'"
    ))
    .await?;
    let _moving = crowd.move_cursors(MOVING, HZ);
    // Every mover's cursor on the page (below the default cursor_limit of 200), moving.
    page.wait_for(&format!(
        "document.querySelectorAll('.cursor').length === {MOVING}"
    ))
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    page.cdp("Performance.enable", json!({})).await?;

    let mut windows = Vec::new();
    for _ in 0..WINDOWS {
        let w = window(&page).await?;
        assert_eq!(
            w.count,
            format!("{PRESENT} editing"),
            "the room stayed full"
        );
        // The cursors really moved while measured: 50 × 20 Hz × 4 s = 4000 moves were sent,
        // and drawn smoothly each is several frames at new positions. A page that drew fewer
        // than half of them was not under the load this test is about.
        assert!(
            w.moves as f64 >= 0.5 * (MOVING as u64 * HZ) as f64 * WINDOW.as_secs_f64(),
            "only {} (cursor, frame) pairs at a new position in {WINDOW:?}",
            w.moves
        );
        // The frame budget: the page's own work per frame well inside 16 ms. CPU time, so a
        // loaded machine does not fail it; re-rendering every cursor or the list per frame
        // does.
        assert!(
            w.cpu_per_frame_ms() < FRAME_MS * 0.5,
            "the page's main thread used {:.1} ms of CPU per 60 Hz frame ({:.0} % busy); a \
             frame has {FRAME_MS:.1} ms and the page must leave most of it free",
            w.cpu_per_frame_ms(),
            100.0 * w.cpu / w.wall
        );
        let done = w.on_time() || !w.starved();
        windows.push(w);
        if done {
            break;
        }
    }
    // And the frames came on time: 95 % of them one frame (16.7 ms) after the last — a
    // dropped frame is a delta of two (33 ms), and a page whose work per frame exceeds the
    // frame drops every other one. Judged on a window where Chromium had the CPU.
    match windows.iter().find(|w| !w.starved() || w.on_time()) {
        Some(w) => assert!(
            w.on_time(),
            "p95 of the animation-frame deltas is {:.1} ms (p50 {:.1}, p99 {:.1}): more than \
             5 % of the frames were dropped; the page must draw at 60 Hz with 1000 present and \
             50 moving (main thread {:.1} ms CPU per frame)",
            w.p(0.95),
            w.p(0.5),
            w.p(0.99),
            w.cpu_per_frame_ms()
        ),
        None => println!(
            "large room: in every window the renderer waited for a core more than {STARVED} of \
             the time (other processes): frame timing not judged; the CPU budget held"
        ),
    }
    page.close().await?;
    Ok(())
}
