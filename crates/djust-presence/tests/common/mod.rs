//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses its own subset

use std::sync::Arc;

use djust_presence::{
    ConnId, EventKind, ManualClock, Presence, PresenceConfig, PresenceEvent, Subscription,
};

/// An engine on a manual clock, and the clock.
pub fn manual(config: PresenceConfig) -> (Presence, ManualClock) {
    let clock = ManualClock::default();
    let presence = Presence::builder()
        .config(config)
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("valid test config");
    (presence, clock)
}

/// An engine with default settings on a manual clock.
pub fn default_manual() -> (Presence, ManualClock) {
    manual(PresenceConfig::default())
}

/// Connection `n`.
pub fn conn(n: u128) -> ConnId {
    ConnId::from_u128(n)
}

/// Every event queued on `sub` right now.
pub fn drain(sub: &mut Subscription) -> Vec<Arc<PresenceEvent>> {
    std::iter::from_fn(|| sub.try_recv().ok()).collect()
}

/// Event kinds as short strings: `join:u1`, `leave:u1`, `update:u1`, `cursor:u1`, `uncursor:u1`,
/// `broadcast:name`.
pub fn kinds(events: &[Arc<PresenceEvent>]) -> Vec<String> {
    events.iter().map(|e| kind(e)).collect()
}

/// One event kind as a short string.
pub fn kind(event: &PresenceEvent) -> String {
    match &event.kind {
        EventKind::Join(r) => format!("join:{}", r.id()),
        EventKind::Leave(r) => format!("leave:{}", r.id()),
        EventKind::Update(r) => format!("update:{}", r.id()),
        EventKind::CursorMoved { user_id, .. } => format!("cursor:{user_id}"),
        EventKind::CursorRemoved { user_id } => format!("uncursor:{user_id}"),
        EventKind::Broadcast { event, .. } => format!("broadcast:{event}"),
    }
}

/// Sorted user ids present on `key`.
pub fn users(presence: &Presence, key: &str) -> Vec<String> {
    let mut ids: Vec<String> = presence
        .list(key)
        .iter()
        .map(|r| r.id().to_owned())
        .collect();
    ids.sort();
    ids
}
