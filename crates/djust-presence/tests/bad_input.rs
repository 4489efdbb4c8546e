//! Bad input is a typed error and leaves the state exactly as it was.

mod common;

use std::time::Duration;

use common::{conn, default_manual, drain};
use djust_presence::{
    ConfigError, KeyError, Presence, PresenceConfig, PresenceError, PresenceRecord,
    RESERVED_META_KEYS, key,
};
use serde_json::{Value, json};

const KEY: &str = "doc:1";

/// An engine with one user and one cursor, a subscriber, and the state to compare against.
struct Fixture {
    presence: Presence,
    sub: djust_presence::Subscription,
    list: Vec<PresenceRecord>,
}

impl Fixture {
    fn new() -> Self {
        let (presence, _clock) = default_manual();
        presence
            .track(KEY, conn(1), "alice", json!({"name": "Alice"}))
            .unwrap();
        presence.update_cursor(KEY, conn(1), 1, 5.0, 5.0).unwrap();
        let sub = presence.subscribe(KEY);
        let list = presence.list(KEY);
        Self {
            presence,
            sub,
            list,
        }
    }

    /// The state is what it was, and nobody was told anything.
    fn assert_unchanged(&mut self) {
        assert_eq!(self.presence.list(KEY), self.list);
        assert_eq!(self.presence.cursors(KEY)[0].1.x(), 5.0);
        assert!(drain(&mut self.sub).is_empty());
        assert_eq!(self.presence.stats().keys, 1);
        assert_eq!(self.presence.stats().connections, 1);
    }
}

#[test]
fn meta_that_is_not_an_object() {
    let mut f = Fixture::new();
    for (meta, found) in [
        (json!(["Alice"]), "an array"),
        (json!("Alice"), "a string"),
        (json!(1), "a number"),
        (Value::Null, "null"),
    ] {
        assert_eq!(
            f.presence.track(KEY, conn(2), "bob", meta.clone()),
            Err(PresenceError::MetaNotObject { found })
        );
        assert_eq!(
            f.presence.update_meta(KEY, conn(1), meta),
            Err(PresenceError::MetaNotObject { found })
        );
    }
    f.assert_unchanged();
}

#[test]
fn every_reserved_meta_key() {
    let mut f = Fixture::new();
    for reserved in RESERVED_META_KEYS {
        let meta = json!({ reserved: "x", "name": "Bob" });
        let want = Err(PresenceError::ReservedMetaKey {
            key: reserved.to_owned(),
        });
        assert_eq!(f.presence.track(KEY, conn(2), "bob", meta.clone()), want);
        assert_eq!(f.presence.update_meta(KEY, conn(1), meta), want);
    }
    f.assert_unchanged();
    let message = PresenceError::ReservedMetaKey { key: "id".into() }.to_string();
    assert!(message.contains("`id` is reserved"), "{message}");
}

#[test]
fn meta_over_the_size_limit() {
    let mut f = Fixture::new();
    let big = json!({"bio": "x".repeat(5000)});
    let size = serde_json::to_string(&big).unwrap().len();
    let want = PresenceError::MetaTooLarge { size, limit: 4096 };
    assert_eq!(
        f.presence.track(KEY, conn(2), "bob", big.clone()),
        Err(want.clone())
    );
    assert_eq!(f.presence.update_meta(KEY, conn(1), big), Err(want.clone()));
    f.assert_unchanged();
    let message = want.to_string();
    assert!(
        message.contains(&format!("{size} bytes")) && message.contains("4096"),
        "{message}"
    );
    // Exactly at the limit is fine.
    let filler = 4096 - serde_json::to_string(&json!({"bio": ""})).unwrap().len();
    f.presence
        .track(KEY, conn(3), "carol", json!({"bio": "y".repeat(filler)}))
        .unwrap();
}

#[test]
fn non_finite_cursor_coordinates() {
    let mut f = Fixture::new();
    for (x, y) in [
        (f64::NAN, 1.0),
        (1.0, f64::INFINITY),
        (f64::NEG_INFINITY, f64::NAN),
    ] {
        assert!(matches!(
            f.presence.update_cursor(KEY, conn(1), 2, x, y),
            Err(PresenceError::NonFiniteCursor { .. })
        ));
    }
    f.assert_unchanged();
    // The refused updates did not consume sequence numbers.
    assert_eq!(
        f.presence.update_cursor(KEY, conn(1), 2, 7.0, 7.0),
        Ok(true)
    );
}

#[test]
fn a_key_template_with_a_missing_field() {
    #[derive(serde::Serialize)]
    struct View {
        document_id: u64,
    }
    let err = key::resolve("document:{doc_id}", &View { document_id: 1 }).unwrap_err();
    assert_eq!(
        err,
        KeyError::MissingField {
            field: "doc_id".into(),
            template: "document:{doc_id}".into()
        }
    );
    assert!(err.to_string().contains("`doc_id`"));
    // Converts into the engine's error for `?` in view code.
    let as_presence: PresenceError = err.into();
    assert!(matches!(
        as_presence,
        PresenceError::Key(KeyError::MissingField { .. })
    ));
}

#[test]
fn empty_keys_and_user_ids() {
    let mut f = Fixture::new();
    assert_eq!(
        f.presence.track("", conn(2), "bob", json!({})),
        Err(PresenceError::EmptyKey)
    );
    assert_eq!(
        f.presence.track(KEY, conn(2), "", json!({})),
        Err(PresenceError::EmptyUserId)
    );
    f.assert_unchanged();
}

#[test]
fn updating_an_untracked_connection() {
    let mut f = Fixture::new();
    assert_eq!(
        f.presence.update_meta(KEY, conn(9), json!({"a": 1})),
        Err(PresenceError::NotTracked {
            key: KEY.into(),
            conn: conn(9)
        })
    );
    assert!(
        f.presence
            .update_meta("nowhere", conn(1), json!({}))
            .is_err()
    );
    f.assert_unchanged();
}

#[test]
fn inconsistent_configuration() {
    let err = Presence::new(PresenceConfig {
        heartbeat_interval: Duration::from_secs(60),
        presence_timeout: Duration::from_secs(30),
        ..PresenceConfig::default()
    })
    .unwrap_err();
    assert!(matches!(
        err,
        PresenceError::Config(ConfigError::TimeoutNotAboveHeartbeat { .. })
    ));
    assert!(err.to_string().contains("presence_timeout"));
}
