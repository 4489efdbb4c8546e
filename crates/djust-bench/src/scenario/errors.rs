//! Errors seen by a run's clients, as the report counts them.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde::Serialize;
use serde_json::{Value, json};

use crate::client::{ClientOutcome, RunShared};

/// Errors seen by a run's clients.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ErrorReport {
    /// Connections that could not connect or mount.
    pub connect_or_mount: usize,
    /// The first of those failures.
    pub first_connect_error: Option<String>,
    /// `error` frames by code.
    pub error_frames: BTreeMap<String, u64>,
    /// Connections the server closed (or that broke) before the bench stopped them.
    pub unexpected_closes: usize,
    /// A few of those closes.
    pub close_samples: Vec<String>,
    /// Frames the bench failed to send.
    pub send_errors: u64,
}

impl ErrorReport {
    /// Collects the errors of `outcomes` (closes of those for which `close_expected` holds
    /// are not errors: multi-node's killed process).
    pub fn of(
        run: &RunShared,
        outcomes: &[ClientOutcome],
        close_expected: impl Fn(usize) -> bool,
    ) -> Self {
        let mut r = ErrorReport {
            connect_or_mount: run.failed.load(Ordering::Relaxed),
            first_connect_error: run.first_error(),
            ..Self::default()
        };
        for (i, o) in outcomes.iter().enumerate() {
            for (code, n) in &o.error_codes {
                *r.error_frames.entry(code.clone()).or_default() += n;
            }
            r.send_errors += o.send_errors;
            if let Some(why) = &o.unexpected_close
                && !close_expected(i)
            {
                r.unexpected_closes += 1;
                if r.close_samples.len() < 5 {
                    r.close_samples.push(why.clone());
                }
            }
        }
        r
    }

    /// Adds `errors` (the total), `unexpected_closes` and `error_detail` to a report.
    pub fn fields(&self, into: &mut serde_json::Map<String, Value>) {
        into.insert("errors".into(), json!(self.total()));
        into.insert("unexpected_closes".into(), json!(self.unexpected_closes));
        into.insert("error_detail".into(), json!(self));
    }

    /// Everything counted.
    pub fn total(&self) -> u64 {
        self.connect_or_mount as u64
            + self.error_frames.values().sum::<u64>()
            + self.unexpected_closes as u64
            + self.send_errors
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::client::FrameTypes;

    /// An outcome of a mounted client that sent `moves` moves.
    pub(crate) fn outcome(moves: u32) -> ClientOutcome {
        ClientOutcome {
            mounted: true,
            tracker: None,
            frames: 0,
            bytes: 0,
            types: FrameTypes::default(),
            error_codes: BTreeMap::new(),
            unexpected_close: None,
            closed_at_ns: None,
            moves_sent: moves,
            send_errors: 0,
        }
    }

    #[test]
    fn errors_add_up_and_expected_closes_are_not_errors() {
        let run = RunShared::new(1024, " Editing");
        let mut a = outcome(0);
        a.error_codes.insert("rate_limited".into(), 2);
        a.unexpected_close = Some("server closed: 1012".into());
        let mut b = outcome(0);
        b.unexpected_close = Some("connection ended".into());
        b.send_errors = 1;
        let r = ErrorReport::of(&run, &[a, b], |i| i == 1);
        assert_eq!(r.error_frames["rate_limited"], 2);
        assert_eq!(r.unexpected_closes, 1, "client 1's close was expected");
        assert_eq!(r.close_samples, ["server closed: 1012"]);
        assert_eq!(r.total(), 2 + 1 + 1);
        let mut fields = serde_json::Map::new();
        r.fields(&mut fields);
        assert_eq!(fields["errors"], 4);
        assert_eq!(fields["unexpected_closes"], 1);
    }
}
