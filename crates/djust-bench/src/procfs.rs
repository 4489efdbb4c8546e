//! CPU time and memory of a process from `/proc` (Linux), and the machine's load average.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Clock ticks per second of `utime`/`stime` in `/proc/<pid>/stat`. The kernel ABI fixes
/// `USER_HZ` at 100 on every architecture Rust targets on Linux, whatever `CONFIG_HZ` is.
const USER_HZ: f64 = 100.0;

/// Which process to read: a pid, or the bench itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proc {
    /// `/proc/self`.
    Current,
    /// `/proc/<pid>`.
    Pid(u32),
}

impl Proc {
    fn path(self, file: &str) -> String {
        match self {
            Proc::Current => format!("/proc/self/{file}"),
            Proc::Pid(pid) => format!("/proc/{pid}/{file}"),
        }
    }

    /// User + system CPU seconds used so far (all threads), or `None` if the process is gone.
    pub fn cpu_seconds(self) -> Option<f64> {
        parse_stat_cpu(&std::fs::read_to_string(self.path("stat")).ok()?)
    }

    /// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), or `None`.
    pub fn status_kb(self, key: &str) -> Option<u64> {
        parse_status_kb(&std::fs::read_to_string(self.path("status")).ok()?, key)
    }

    /// Current resident set size in KiB.
    pub fn rss_kb(self) -> Option<u64> {
        self.status_kb("VmRSS")
    }
}

/// `utime + stime` in seconds from the text of `/proc/<pid>/stat`. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_stat_cpu(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After ')' come field 3 (state) onwards; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

/// The value of `key:   1234 kB` in the text of `/proc/<pid>/status`.
pub fn parse_status_kb(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        value.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// The 1-, 5- and 15-minute load averages (`/proc/loadavg`): the machine is shared, so every
/// report records how busy it was.
pub fn loadavg() -> Option<[f64; 3]> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// Peak RSS of one process, sampled in the background every 100 ms (VmHWM alone cannot say
/// what the peak was *during* a phase).
#[derive(Debug)]
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    /// Starts sampling `proc` (inside a Tokio runtime).
    pub fn start(proc: Proc) -> Self {
        let peak = Arc::new(AtomicU64::new(proc.rss_kb().unwrap_or(0)));
        let shared = peak.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                match proc.rss_kb() {
                    Some(kb) => {
                        shared.fetch_max(kb, Ordering::Relaxed);
                    }
                    None => break,
                }
            }
        });
        Self { peak, task }
    }

    /// The highest RSS seen so far, in KiB.
    pub fn peak_kb(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Memory of the server over a phase.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RssReport {
    /// VmRSS when the phase started.
    pub start: Option<u64>,
    /// VmRSS when it ended.
    pub end: Option<u64>,
    /// The highest VmRSS sampled (every 100 ms) during the phase.
    pub peak_sampled: u64,
    /// VmHWM at the end: the process's all-time peak.
    pub hwm: Option<u64>,
}

/// CPU and memory of a process between [`ProcWindow::open`] and [`ProcWindow::close`].
#[derive(Debug)]
pub struct ProcWindow {
    proc: Proc,
    cpu0: Option<f64>,
    rss0: Option<u64>,
    sampler: RssSampler,
    started: std::time::Instant,
}

/// What a [`ProcWindow`] measured.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WindowReport {
    /// CPU seconds (user + system) used during the window.
    pub cpu_s: Option<f64>,
    /// `cpu_s` divided by the window's wall time: 1.0 is one core busy.
    pub cores: Option<f64>,
    /// Memory during the window.
    pub rss_kb: RssReport,
}

impl ProcWindow {
    /// Starts measuring `proc` now.
    pub fn open(proc: Proc) -> Self {
        Self {
            proc,
            cpu0: proc.cpu_seconds(),
            rss0: proc.rss_kb(),
            sampler: RssSampler::start(proc),
            started: std::time::Instant::now(),
        }
    }

    /// Stops measuring and reports.
    pub fn close(self) -> WindowReport {
        let wall = self.started.elapsed().as_secs_f64();
        let cpu_s = match (self.cpu0, self.proc.cpu_seconds()) {
            (Some(a), Some(b)) => Some(round3(b - a)),
            _ => None,
        };
        let end = self.proc.rss_kb();
        let peak = self.sampler.peak_kb().max(end.unwrap_or(0));
        WindowReport {
            cpu_s,
            cores: cpu_s.filter(|_| wall > 0.0).map(|c| round3(c / wall)),
            rss_kb: RssReport {
                start: self.rss0,
                end,
                peak_sampled: peak,
                hwm: self.proc.status_kb("VmHWM"),
            },
        }
    }
}

/// Rounds to 3 decimals for the report.
pub(crate) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_cpu_counts_fields_after_the_command_name() {
        // A command name with spaces and a ')' must not shift the fields.
        let stat = "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 9 0 1000 \
                    123456 789 18446744073709551615";
        assert_eq!(parse_stat_cpu(stat), Some(3.8));
        assert_eq!(parse_stat_cpu("garbage"), None);
    }

    #[test]
    fn status_fields_are_read_by_exact_key() {
        let status = "Name:\tcollab\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nVmRSSx:\t1 kB\n";
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(10240));
        assert_eq!(parse_status_kb(status, "VmHWM"), Some(20480));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
    }

    #[test]
    fn loadavg_parses_three_numbers() {
        assert_eq!(
            parse_loadavg("0.52 1.10 2.00 3/456 789\n"),
            Some([0.52, 1.1, 2.0])
        );
        assert_eq!(parse_loadavg("x"), None);
    }

    #[test]
    fn own_process_is_readable() {
        assert!(Proc::Current.cpu_seconds().is_some());
        assert!(Proc::Current.rss_kb().is_some_and(|kb| kb > 0));
    }
}
