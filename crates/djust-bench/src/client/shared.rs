//! What a client shares with the coordinator while it runs, and the frame counters it returns.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use serde::Serialize;

/// Connection state as the coordinator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Connecting or mounting.
    Pending,
    /// Mounted and reading.
    Mounted,
    /// Could not connect or mount.
    Failed,
    /// Closed (by us or by the server).
    Closed,
}

/// What one client exposes while it runs.
#[derive(Debug, Default)]
pub struct ClientShared {
    state: AtomicU8,
    count: AtomicU32,
    count_changed_ns: AtomicU64,
}

impl ClientShared {
    /// The connection's state.
    pub fn state(&self) -> ConnState {
        match self.state.load(Ordering::Acquire) {
            0 => ConnState::Pending,
            1 => ConnState::Mounted,
            2 => ConnState::Failed,
            _ => ConnState::Closed,
        }
    }

    pub(super) fn set_state(&self, s: ConnState) {
        let v = match s {
            ConnState::Pending => 0,
            ConnState::Mounted => 1,
            ConnState::Failed => 2,
            ConnState::Closed => 3,
        };
        self.state.store(v, Ordering::Release);
    }

    /// The last presence count this client was shown, and when it changed (ns since epoch).
    pub fn count(&self) -> (u32, u64) {
        (
            self.count.load(Ordering::Acquire),
            self.count_changed_ns.load(Ordering::Acquire),
        )
    }

    pub(super) fn set_count(&self, n: u32, now_ns: u64) {
        if self.count.swap(n, Ordering::AcqRel) != n {
            self.count_changed_ns.store(now_ns, Ordering::Release);
        }
    }
}

/// Frames received, by type.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct FrameTypes {
    /// `mounted`.
    pub mounted: u64,
    /// `patch`.
    pub patch: u64,
    /// `push`.
    pub push: u64,
    /// `render`.
    pub render: u64,
    /// `heartbeat`.
    pub heartbeat: u64,
    /// `error`.
    pub error: u64,
    /// `cursors` (fast path).
    pub cursors: u64,
    /// Anything else.
    pub other: u64,
}

impl FrameTypes {
    pub(super) fn count(&mut self, t: &str) {
        let slot = match t {
            "mounted" => &mut self.mounted,
            "patch" => &mut self.patch,
            "push" => &mut self.push,
            "render" => &mut self.render,
            "heartbeat" => &mut self.heartbeat,
            "error" => &mut self.error,
            "cursors" => &mut self.cursors,
            _ => &mut self.other,
        };
        *slot += 1;
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, o: &FrameTypes) {
        self.mounted += o.mounted;
        self.patch += o.patch;
        self.push += o.push;
        self.render += o.render;
        self.heartbeat += o.heartbeat;
        self.error += o.error;
        self.cursors += o.cursors;
        self.other += o.other;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_types_are_counted() {
        let mut t = FrameTypes::default();
        for k in ["patch", "patch", "mounted", "cursors", "weird"] {
            t.count(k);
        }
        assert_eq!((t.patch, t.mounted, t.cursors, t.other), (2, 1, 1, 1));
        let mut sum = FrameTypes::default();
        sum.add(&t);
        sum.add(&t);
        assert_eq!(sum.patch, 4);
    }

    #[test]
    fn count_changes_are_timestamped_once() {
        let c = ClientShared::default();
        c.set_count(3, 10);
        c.set_count(3, 20);
        assert_eq!(c.count(), (3, 10));
        c.set_count(4, 30);
        assert_eq!(c.count(), (4, 30));
    }
}
