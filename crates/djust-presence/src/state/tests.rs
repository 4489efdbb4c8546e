//! Unit tests of the pure state: changes in, events out, time passed in by hand.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::change::MetaStamp;
use crate::meta::Meta;

const LOCAL: NodeId = NodeId::from_u128(1);
const REMOTE: NodeId = NodeId::from_u128(2);
const KEY: &str = "doc:1";

fn conn(n: u128) -> ConnId {
    ConnId::from_u128(n)
}

fn meta(value: Value) -> Arc<Meta> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => unreachable!("test meta is an object"),
    }
}

/// A state plus the bookkeeping a `Presence` would do (stamps, clock).
struct Harness {
    state: State,
    now: Timestamp,
    seq: u64,
}

impl Harness {
    fn new() -> Self {
        Self::with(PresenceConfig::default())
    }

    fn with(config: PresenceConfig) -> Self {
        Self {
            state: State::new(LOCAL, &config),
            now: Timestamp::from_millis(1_000_000),
            seq: 0,
        }
    }

    fn advance(&mut self, ms: u64) {
        self.now = Timestamp::from_millis(self.now.as_millis() + ms);
    }

    fn apply(&mut self, change: ConnChange) -> (Outcome, Vec<PresenceEvent>) {
        let mut out = Vec::new();
        let outcome = self.state.apply(&change, self.now, &mut out);
        (outcome, out)
    }

    fn track_on(&mut self, node: NodeId, c: ConnId, user: &str, m: Value) -> Vec<PresenceEvent> {
        self.seq += 1;
        let change = ConnChange::Track {
            node,
            key: KEY.into(),
            conn: c,
            user_id: user.into(),
            meta: meta(m),
            stamp: MetaStamp {
                at: self.now,
                seq: self.seq,
            },
            joined_at: self.now,
        };
        self.apply(change).1
    }

    fn track(&mut self, c: ConnId, user: &str, m: Value) -> Vec<PresenceEvent> {
        self.track_on(LOCAL, c, user, m)
    }

    fn untrack(&mut self, c: ConnId, reason: UntrackReason) -> (Outcome, Vec<PresenceEvent>) {
        let change = ConnChange::Untrack {
            node: LOCAL,
            key: KEY.into(),
            conn: c,
            reason,
            at: self.now,
        };
        self.apply(change)
    }

    fn cursor(&mut self, c: ConnId, seq: u64, x: f64) -> (Outcome, Vec<PresenceEvent>) {
        let change = ConnChange::Cursor {
            node: LOCAL,
            key: KEY.into(),
            conn: c,
            seq,
            x,
            y: 0.0,
            anchor: None,
            hidden: false,
        };
        self.apply(change)
    }

    fn sweep(&mut self) -> (SweepResult, Vec<PresenceEvent>) {
        let mut out = Vec::new();
        let result = self.state.sweep(self.now, &mut out);
        (result, out)
    }

    fn list(&self) -> Vec<PresenceRecord> {
        self.state.key(KEY).map(KeyState::list).unwrap_or_default()
    }

    fn ids(&self) -> Vec<String> {
        self.list().iter().map(|r| r.id().to_owned()).collect()
    }
}

use crate::record::PresenceRecord;

/// Event kinds as short strings: `join:u1`, `leave:u1`, `update:u1`, `cursor:u1`, `uncursor:u1`.
fn kinds(events: &[PresenceEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Join(r) => format!("join:{}", r.id()),
            EventKind::Leave(r) => format!("leave:{}", r.id()),
            EventKind::Update(r) => format!("update:{}", r.id()),
            EventKind::CursorMoved { user_id, .. } => format!("cursor:{user_id}"),
            EventKind::CursorRemoved { user_id } => format!("uncursor:{user_id}"),
            EventKind::Broadcast { event, .. } => format!("broadcast:{event}"),
        })
        .collect()
}

#[test]
fn tabs_of_one_user_are_one_presence() {
    let mut h = Harness::new();
    assert_eq!(kinds(&h.track(conn(1), "u1", json!({"n": 1}))), ["join:u1"]);
    assert_eq!(
        kinds(&h.track(conn(2), "u1", json!({"n": 1}))),
        Vec::<String>::new()
    );
    assert_eq!(h.list()[0].connections(), 2);
    let (_, events) = h.untrack(conn(1), UntrackReason::Clean);
    assert!(events.is_empty());
    assert_eq!(h.list()[0].connections(), 1);
    let (_, events) = h.untrack(conn(2), UntrackReason::Clean);
    assert_eq!(kinds(&events), ["leave:u1"]);
    assert!(h.state.key(KEY).is_none(), "an empty key is dropped");
    assert_eq!(
        h.state.conn_count(),
        0,
        "no connection bookkeeping is left behind"
    );
    assert!(h.state.timeouts.is_empty());
}

#[test]
fn the_newest_meta_shows_and_the_next_newest_returns_when_its_tab_goes() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({"typing": false}));
    h.advance(10);
    let events = h.track(conn(2), "u1", json!({"typing": true}));
    assert_eq!(kinds(&events), ["update:u1"]);
    assert_eq!(h.list()[0].get("typing"), Some(&json!(true)));
    let (_, events) = h.untrack(conn(2), UntrackReason::Clean);
    assert_eq!(kinds(&events), ["update:u1"]);
    assert_eq!(h.list()[0].get("typing"), Some(&json!(false)));
}

#[test]
fn same_millisecond_writes_are_ordered_by_sequence() {
    let mut h = Harness::new();
    h.track(conn(2), "u1", json!({"v": "first"}));
    h.track(conn(1), "u1", json!({"v": "second"}));
    assert_eq!(h.list()[0].get_str("v"), Some("second"));
}

#[test]
fn an_identical_meta_write_emits_nothing() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({"a": 1}));
    assert!(h.track(conn(1), "u1", json!({"a": 1})).is_empty());
}

#[test]
fn joined_at_is_the_earliest_entry_and_orders_the_list() {
    let mut h = Harness::new();
    h.track(conn(1), "b", json!({}));
    h.advance(5);
    h.track(conn(2), "a", json!({}));
    h.track(conn(3), "c", json!({}));
    assert_eq!(h.ids(), ["b", "a", "c"], "joined_at first, then id");
    let joined_b = h.list()[0].joined_at();
    h.advance(5);
    h.track(conn(4), "b", json!({}));
    assert_eq!(h.list()[0].joined_at(), joined_b);
}

#[test]
fn tracking_a_connection_under_another_user_moves_it() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({}));
    let events = h.track(conn(1), "u2", json!({}));
    assert_eq!(kinds(&events), ["leave:u1", "join:u2"]);
    assert_eq!(h.ids(), ["u2"]);
    assert_eq!(h.state.keys_of(conn(1)).len(), 1);
}

#[test]
fn abnormal_untrack_keeps_the_user_until_the_grace_ends() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({}));
    let (outcome, events) = h.untrack(conn(1), UntrackReason::Abnormal);
    assert_eq!(outcome, Outcome::Applied);
    assert!(events.is_empty());
    assert_eq!(
        h.list()[0].connections(),
        1,
        "a pending connection still counts"
    );
    h.advance(5_000);
    assert!(
        h.sweep().1.is_empty(),
        "still within the grace at exactly 5 s"
    );
    h.advance(1);
    let (result, events) = h.sweep();
    assert_eq!(kinds(&events), ["leave:u1"]);
    assert_eq!(result.lapsed, 1);
    assert_eq!(result.changes.len(), 1, "the owner publishes the removal");
    assert_eq!(h.state.conn_count(), 0);
    assert!(h.state.graces.is_empty());
}

#[test]
fn a_track_within_the_grace_supersedes_the_dropped_connection_silently() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({"c": "red"}));
    h.untrack(conn(1), UntrackReason::Abnormal);
    h.advance(3_000);
    assert!(h.track(conn(2), "u1", json!({"c": "red"})).is_empty());
    assert_eq!(
        h.list()[0].connections(),
        1,
        "the dropped connection is gone"
    );
    assert!(h.state.graces.is_empty(), "its grace is cancelled");
    h.advance(10_000);
    assert!(h.sweep().1.is_empty());
    assert_eq!(h.ids(), ["u1"]);
}

#[test]
fn a_grace_rejoin_with_new_meta_is_an_update() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({"c": "red"}));
    h.untrack(conn(1), UntrackReason::Abnormal);
    assert_eq!(
        kinds(&h.track(conn(2), "u1", json!({"c": "blue"}))),
        ["update:u1"]
    );
}

#[test]
fn a_second_abnormal_untrack_keeps_the_first_deadline() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({}));
    h.untrack(conn(1), UntrackReason::Abnormal);
    h.advance(4_000);
    assert_eq!(
        h.untrack(conn(1), UntrackReason::Abnormal).0,
        Outcome::NotTracked
    );
    h.advance(1_001);
    assert_eq!(kinds(&h.sweep().1), ["leave:u1"]);
}

#[test]
fn zero_grace_makes_abnormal_untracks_immediate() {
    let mut h = Harness::with(PresenceConfig {
        reconnect_grace: Duration::ZERO,
        ..PresenceConfig::default()
    });
    h.track(conn(1), "u1", json!({}));
    assert_eq!(
        kinds(&h.untrack(conn(1), UntrackReason::Abnormal).1),
        ["leave:u1"]
    );
}

#[test]
fn silent_connections_expire_strictly_after_the_timeout_and_are_remembered() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({"n": 1}));
    h.advance(60_000);
    assert_eq!(
        h.sweep().0.expired,
        0,
        "silent for exactly the timeout is not longer than it"
    );
    h.advance(1);
    let (result, events) = h.sweep();
    assert_eq!(
        (result.expired, kinds(&events)),
        (1, vec!["leave:u1".to_owned()])
    );
    assert_eq!(h.state.expired_count(), 1);
    let found = h.state.heartbeat(conn(1), h.now);
    assert!(!found.alive);
    assert_eq!(found.buried.len(), 1);
    assert_eq!(found.buried[0].meta.get("n"), Some(&json!(1)));
    assert_eq!(h.state.expired_count(), 0, "exhumed once");
}

#[test]
fn a_heartbeat_restarts_the_timeout() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({}));
    h.advance(50_000);
    assert!(h.state.heartbeat(conn(1), h.now).alive);
    h.advance(50_000);
    assert_eq!(h.sweep().0.expired, 0);
    h.advance(10_001);
    assert_eq!(h.sweep().0.expired, 1);
}

#[test]
fn remote_connections_do_not_time_out_here_but_their_graces_end() {
    let mut h = Harness::new();
    h.track_on(REMOTE, conn(1), "u1", json!({}));
    h.advance(3_600_000);
    assert_eq!(
        h.sweep().0.expired,
        0,
        "the owner decides when its connections expire"
    );
    let change = ConnChange::Untrack {
        node: REMOTE,
        key: KEY.into(),
        conn: conn(1),
        reason: UntrackReason::Abnormal,
        at: h.now,
    };
    h.apply(change);
    h.advance(5_001);
    let (result, events) = h.sweep();
    assert_eq!(kinds(&events), ["leave:u1"]);
    assert!(
        result.changes.is_empty(),
        "a remote removal is not published here"
    );
}

#[test]
fn cursors_follow_sequence_numbers_and_vanish_with_the_user() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({"color": "red"}));
    assert_eq!(h.cursor(conn(1), 2, 20.0).0, Outcome::Applied);
    assert_eq!(h.cursor(conn(1), 1, 10.0).0, Outcome::Stale);
    assert_eq!(
        h.cursor(conn(1), 2, 10.0).0,
        Outcome::Stale,
        "a repeated seq is stale too"
    );
    let cursors = h
        .state
        .key(KEY)
        .map(|k| k.cursors(None))
        .unwrap_or_default();
    assert_eq!(cursors[0].1.x(), 20.0);
    assert_eq!(cursors[0].1.meta().get("color"), Some(&json!("red")));
    assert_eq!(h.cursor(conn(9), 1, 0.0).0, Outcome::NotTracked);
    let (_, events) = h.untrack(conn(1), UntrackReason::Clean);
    assert_eq!(kinds(&events), ["leave:u1", "uncursor:u1"]);
}

#[test]
fn pending_connections_cannot_move_cursors_or_change_meta() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({}));
    h.untrack(conn(1), UntrackReason::Abnormal);
    assert_eq!(h.cursor(conn(1), 1, 0.0).0, Outcome::NotTracked);
    let change = ConnChange::Meta {
        node: LOCAL,
        key: KEY.into(),
        conn: conn(1),
        meta: meta(json!({"x": 1})),
        stamp: MetaStamp::default(),
    };
    assert_eq!(h.apply(change).0, Outcome::NotTracked);
}

#[test]
fn local_changes_rebuild_the_same_state_elsewhere() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({"n": 1}));
    h.track(conn(2), "u2", json!({"n": 2}));
    h.cursor(conn(1), 4, 33.0);
    h.untrack(conn(2), UntrackReason::Abnormal);
    h.track_on(REMOTE, conn(3), "u3", json!({}));
    let changes = h.state.local_changes();
    assert_eq!(
        changes.len(),
        4,
        "two tracks, one cursor, one pending untrack; nothing remote"
    );
    let mut replica = State::new(REMOTE, &PresenceConfig::default());
    for change in &changes {
        replica.apply(change, h.now, &mut Vec::new());
    }
    let replica_list = replica.key(KEY).map(KeyState::list).unwrap_or_default();
    let local_list: Vec<_> = h.list().into_iter().filter(|r| r.id() != "u3").collect();
    assert_eq!(replica_list, local_list);
    let replica_cursors = replica
        .key(KEY)
        .map(|k| k.cursors(None))
        .unwrap_or_default();
    assert_eq!(replica_cursors.len(), 1);
    assert_eq!(
        replica.graces.len(),
        1,
        "the pending entry is pending there too"
    );
}

#[test]
fn remove_node_drops_only_that_nodes_connections() {
    let mut h = Harness::new();
    h.track(conn(1), "u1", json!({}));
    h.track_on(REMOTE, conn(2), "u1", json!({}));
    h.track_on(REMOTE, conn(3), "u2", json!({}));
    let mut out = Vec::new();
    assert_eq!(h.state.remove_node(REMOTE, h.now, &mut out), 2);
    assert_eq!(kinds(&out), ["leave:u2"]);
    assert_eq!(h.ids(), ["u1"]);
    assert_eq!(h.list()[0].connections(), 1);
}

#[test]
fn broadcasts_pass_through_without_touching_state() {
    let mut h = Harness::new();
    let change = ConnChange::Broadcast {
        node: LOCAL,
        key: KEY.into(),
        event: "ping".into(),
        payload: Arc::new(json!(1)),
    };
    let (outcome, events) = h.apply(change);
    assert_eq!(
        (outcome, kinds(&events)),
        (Outcome::Applied, vec!["broadcast:ping".to_owned()])
    );
    assert_eq!(h.state.key_count(), 0);
}

#[test]
fn expiry_leaves_pending_entries_to_their_grace() {
    let mut h = Harness::with(PresenceConfig {
        reconnect_grace: Duration::from_secs(50),
        ..PresenceConfig::default()
    });
    h.track(conn(1), "u1", json!({}));
    let change = ConnChange::Track {
        node: LOCAL,
        key: "other".into(),
        conn: conn(1),
        user_id: "u1".into(),
        meta: meta(json!({})),
        stamp: MetaStamp::default(),
        joined_at: h.now,
    };
    h.apply(change);
    h.advance(20_000);
    h.untrack(conn(1), UntrackReason::Abnormal);
    h.advance(40_001);
    let (result, _) = h.sweep();
    assert_eq!(result.expired, 1);
    assert!(
        h.state.key(KEY).is_some(),
        "the pending entry waits for its grace"
    );
    assert!(h.state.key("other").is_none());
    h.advance(10_000);
    h.sweep();
    assert!(h.state.key(KEY).is_none());
    assert_eq!(h.state.conn_count(), 0);
}
