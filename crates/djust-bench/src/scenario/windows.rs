//! CPU and memory of the server(s) and of the bench over one measured window.

use serde_json::{Value, json};

use crate::procfs::{Proc, ProcWindow, WindowReport, loadavg, round3};

/// Server and bench CPU/memory over one measured window.
pub(crate) struct Windows {
    servers: Vec<(u32, ProcWindow)>,
    bench: ProcWindow,
    threads: usize,
    load_start: Option<[f64; 3]>,
}

impl Windows {
    /// Starts measuring the given server pids and the bench itself.
    pub fn open(pids: &[u32], threads: usize) -> Self {
        Self {
            servers: pids
                .iter()
                .map(|p| (*p, ProcWindow::open(Proc::Pid(*p))))
                .collect(),
            bench: ProcWindow::open(Proc::Current),
            threads,
            load_start: loadavg(),
        }
    }

    /// Stops measuring.
    pub fn close(self) -> WindowsReport {
        let servers: Vec<(u32, WindowReport)> = self
            .servers
            .into_iter()
            .map(|(p, w)| (p, w.close()))
            .collect();
        let bench = self.bench.close();
        let saturated = bench.cores.is_some_and(|c| c > 0.9 * self.threads as f64);
        WindowsReport {
            servers,
            bench,
            threads: self.threads,
            saturated,
            load_start: self.load_start,
            load_end: loadavg(),
        }
    }
}

/// What [`Windows`] measured.
pub(crate) struct WindowsReport {
    pub servers: Vec<(u32, WindowReport)>,
    pub bench: WindowReport,
    pub threads: usize,
    pub saturated: bool,
    pub load_start: Option<[f64; 3]>,
    pub load_end: Option<[f64; 3]>,
}

impl WindowsReport {
    /// CPU seconds of all servers together.
    pub fn server_cpu_s(&self) -> Option<f64> {
        if self.servers.is_empty() {
            return None;
        }
        self.servers
            .iter()
            .map(|(_, w)| w.cpu_s)
            .sum::<Option<f64>>()
            .map(round3)
    }

    /// Cores used by all servers together.
    pub fn server_cores(&self) -> Option<f64> {
        if self.servers.is_empty() {
            return None;
        }
        self.servers
            .iter()
            .map(|(_, w)| w.cores)
            .sum::<Option<f64>>()
            .map(round3)
    }

    /// The report fields every scenario shares.
    pub fn fields(&self, into: &mut serde_json::Map<String, Value>) {
        into.insert("server_cpu_s".into(), json!(self.server_cpu_s()));
        into.insert("server_cores".into(), json!(self.server_cores()));
        let rss = match self.servers.as_slice() {
            [(_, one)] => json!(one.rss_kb),
            many => json!(many.iter().map(|(_, w)| &w.rss_kb).collect::<Vec<_>>()),
        };
        into.insert("server_rss_kb".into(), rss);
        if self.servers.len() > 1 {
            into.insert(
                "servers".into(),
                json!(self.servers.iter().map(|(pid, w)| json!({"pid": pid, "cpu_s": w.cpu_s, "cores": w.cores, "rss_kb": w.rss_kb})).collect::<Vec<_>>()),
            );
        }
        into.insert(
            "bench".into(),
            json!({
                "cpu_s": self.bench.cpu_s,
                "cores": self.bench.cores,
                "threads": self.threads,
                "saturated": self.saturated,
                "rss_kb": self.bench.rss_kb.peak_sampled,
            }),
        );
        into.insert(
            "loadavg".into(),
            json!({"start": self.load_start, "end": self.load_end}),
        );
    }
}
