//! Warnings about client input: at most a few per connection per minute, each with the
//! client's text clipped and logged as a `tracing` Debug field (`?`), so a newline or an ESC
//! byte reaches the log escaped (`\n`, `\u{1b}`) and cannot forge lines or drive a terminal.

use std::time::Duration;

use tokio::time::Instant;

/// Warnings logged per connection per [`WINDOW`]; the rest are counted and reported with the
/// next warning that is logged (`suppressed = n`).
pub(crate) const PER_WINDOW: u32 = 5;
/// The warning window.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// Characters of client text kept in a log line or an error frame.
pub(crate) const CLIP_CHARS: usize = 120;

/// A connection's warning budget.
#[derive(Debug)]
pub(crate) struct Warnings {
    window_start: Instant,
    in_window: u32,
    suppressed: u64,
}

impl Warnings {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            window_start: now,
            in_window: 0,
            suppressed: 0,
        }
    }

    /// `Some(suppressed since the last logged warning)` if a warning may be logged now.
    pub(crate) fn allow(&mut self, now: Instant) -> Option<u64> {
        if now.saturating_duration_since(self.window_start) >= WINDOW {
            self.window_start = now;
            self.in_window = 0;
        }
        if self.in_window >= PER_WINDOW {
            self.suppressed += 1;
            return None;
        }
        self.in_window += 1;
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// `text` cut to [`CLIP_CHARS`] characters (with `…` when cut). Log it with `?`, never `%`.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(CLIP_CHARS) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// Logs a warning about client input through the connection's budget. The message is a
/// literal; `detail` is the client-influenced text, clipped and Debug-escaped.
macro_rules! client_warn {
    ($warnings:expr, $conn:expr, $detail:expr, $msg:literal) => {
        if let Some(suppressed) = $warnings.allow(::tokio::time::Instant::now()) {
            ::tracing::warn!(
                conn = %$conn,
                detail = ?$crate::conn::warn::clip(&$detail),
                suppressed,
                $msg
            );
        }
    };
}
pub(crate) use client_warn;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_per_window_then_a_count_of_what_was_suppressed() {
        let t0 = Instant::now();
        let mut w = Warnings::new(t0);
        assert_eq!((0..10).filter(|_| w.allow(t0).is_some()).count(), 5);
        assert_eq!(
            w.allow(t0 + WINDOW),
            Some(5),
            "the next window reports the suppressed"
        );
        assert_eq!(w.allow(t0 + WINDOW), Some(0));
    }

    #[test]
    fn clipping_keeps_char_boundaries_and_debug_escapes_controls() {
        let long = "é".repeat(500);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), CLIP_CHARS + 1);
        assert_eq!(clip("short"), "short");
        let logged = format!("{:?}", clip("a\nb\u{1b}[31m"));
        assert!(
            !logged.contains('\n') && !logged.contains('\u{1b}'),
            "{logged}"
        );
    }
}
