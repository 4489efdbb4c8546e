//! Subscribers get the full current state, then every diff after it: no gap, no duplicate.

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{conn, default_manual, drain, kinds, manual};
use djust_presence::{
    EventKind, Presence, PresenceConfig, Subscription, TryRecvError, UntrackReason,
};
use serde_json::json;

#[test]
fn the_snapshot_comes_first_then_only_later_changes() {
    let (presence, _clock) = default_manual();
    presence
        .track("k", conn(1), "u1", json!({"name": "A"}))
        .unwrap();
    presence.update_cursor("k", conn(1), 1, 5.0, 6.0).unwrap();
    let mut sub = presence.subscribe("k");
    assert_eq!(sub.key(), "k");
    assert_eq!(sub.initial.presences.len(), 1);
    assert_eq!(sub.initial.presences[0].id(), "u1");
    assert_eq!(sub.initial.cursors.len(), 1);
    assert_eq!(&*sub.initial.cursors[0].0, "u1");
    assert_eq!(
        sub.try_recv(),
        Err(TryRecvError::Empty),
        "the snapshot is not replayed as events"
    );

    presence.track("k", conn(2), "u2", json!({})).unwrap();
    presence
        .update_meta("k", conn(1), json!({"name": "B"}))
        .unwrap();
    presence.update_cursor("k", conn(2), 1, 1.0, 1.0).unwrap();
    presence.untrack("k", conn(1), UntrackReason::Clean);
    assert_eq!(
        kinds(&drain(&mut sub)),
        [
            "join:u2",
            "update:u1",
            "cursor:u2",
            "leave:u1",
            "uncursor:u1"
        ]
    );
}

#[tokio::test]
async fn recv_waits_for_the_next_event_and_ends_with_the_engine() {
    let (presence, _clock) = default_manual();
    let mut sub = presence.subscribe("k");
    let tracker = presence.clone();
    let task = tokio::spawn(async move {
        tracker.track("k", conn(1), "u1", json!({})).unwrap();
    });
    let event = sub.recv().await.unwrap();
    assert!(matches!(&event.kind, EventKind::Join(p) if p.id() == "u1"));
    assert_eq!(&*event.key, "k");
    task.await.unwrap();
    drop(presence);
    assert_eq!(
        sub.recv().await,
        Err(djust_presence::RecvError::Closed),
        "no engine, no more events"
    );
}

#[test]
fn dropping_a_subscription_unsubscribes() {
    let (presence, _clock) = default_manual();
    let a = presence.subscribe("k");
    let b = presence.subscribe("k");
    let c = presence.subscribe("other");
    assert_eq!(presence.stats().subscriptions, 3);
    drop(a);
    assert_eq!(presence.stats().subscriptions, 2);
    drop((b, c));
    assert_eq!(presence.stats().subscriptions, 0);
    presence.track("k", conn(1), "u1", json!({})).unwrap();
    assert_eq!(presence.stats().subscriptions, 0);
}

#[test]
fn a_subscription_outliving_its_engine_drops_cleanly() {
    let (presence, _clock) = default_manual();
    let mut sub = presence.subscribe("k");
    drop(presence);
    assert_eq!(sub.try_recv(), Err(TryRecvError::Disconnected));
    drop(sub);
}

#[test]
fn broadcasts_reach_every_subscriber_of_the_key_and_only_them() {
    let (presence, _clock) = default_manual();
    let mut sender_own = presence.subscribe("room");
    let mut peer = presence.subscribe("room");
    let mut elsewhere = presence.subscribe("other-room");
    presence.broadcast(
        "room",
        "content_changed",
        json!({"content": "hi", "by": "alice"}),
    );
    for sub in [&mut sender_own, &mut peer] {
        let events = drain(sub);
        assert_eq!(events.len(), 1);
        match &events[0].kind {
            EventKind::Broadcast { event, payload } => {
                assert_eq!(&**event, "content_changed");
                assert_eq!(payload["by"], "alice");
            }
            other => panic!("expected a broadcast, got {other:?}"),
        }
    }
    assert!(drain(&mut elsewhere).is_empty());
    // A broadcast to a key nobody is on, or nobody watches, is simply dropped.
    presence.broadcast("empty", "x", json!(null));
    assert_eq!(presence.stats().keys, 0);
}

#[test]
fn subscribers_of_one_key_share_one_snapshot_list_until_it_changes() {
    let (presence, _clock) = default_manual();
    for i in 0..50 {
        presence
            .track("room", conn(i), &format!("u{i}"), json!({}))
            .unwrap();
    }
    let (a, b) = (presence.subscribe("room"), presence.subscribe("room"));
    assert_eq!(a.initial.presences.len(), 50);
    // One list for every subscriber, not a copy each (a room of N would hold N² records).
    assert!(std::sync::Arc::ptr_eq(
        &a.initial.presences,
        &b.initial.presences
    ));
    presence.track("room", conn(99), "u99", json!({})).unwrap();
    let c = presence.subscribe("room");
    assert_eq!(c.initial.presences.len(), 51);
    assert_eq!(a.initial.presences.len(), 50, "a snapshot does not change");
}

/// Replays a subscription into the set of present users, failing on any join of a user already present
/// or leave of a user absent (which is what a gap or a duplicate looks like).
fn replay(sub: &mut Subscription) -> BTreeSet<String> {
    let mut present: BTreeSet<String> = sub
        .initial
        .presences
        .iter()
        .map(|p| p.id().to_owned())
        .collect();
    for event in drain(sub) {
        match &event.kind {
            EventKind::Join(p) => assert!(
                present.insert(p.id().to_owned()),
                "duplicate join of {}",
                p.id()
            ),
            EventKind::Leave(p) => assert!(present.remove(p.id()), "leave of absent {}", p.id()),
            _ => {}
        }
    }
    present
}

#[test]
fn concurrent_joins_are_neither_lost_nor_doubled_for_subscribers_arriving_midway() {
    const TRACKERS: usize = 6;
    const PER_TRACKER: u128 = 300;
    // Every subscriber replays the whole stream after the fact: room for all of it.
    let presence = Presence::new(PresenceConfig {
        subscriber_queue: 10_000,
        ..PresenceConfig::default()
    })
    .unwrap();
    let start = Barrier::new(TRACKERS + 1);
    let halfway = AtomicUsize::new(0);
    let midway_subscribed = AtomicBool::new(false);
    let finished = AtomicUsize::new(0);
    let mut subs = Vec::new();
    std::thread::scope(|s| {
        for t in 0..TRACKERS as u128 {
            let presence = presence.clone();
            let (start, halfway, midway_subscribed, finished) =
                (&start, &halfway, &midway_subscribed, &finished);
            s.spawn(move || {
                start.wait();
                for i in 0..PER_TRACKER {
                    if i == PER_TRACKER / 2 {
                        // Guarantee one subscription while every tracker is mid-stream (on a loaded
                        // machine the subscribing thread might otherwise only run before or after).
                        halfway.fetch_add(1, Ordering::SeqCst);
                        while !midway_subscribed.load(Ordering::SeqCst) {
                            std::thread::yield_now();
                        }
                    }
                    let c = t * 10_000 + i;
                    let user = format!("u{t}-{i}");
                    presence.track("room", conn(c), &user, json!({})).unwrap();
                    // Every third user leaves again, so leaves race with subscribing too.
                    if i % 3 == 0 {
                        presence.untrack("room", conn(c), UntrackReason::Clean);
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        let presence = presence.clone();
        let (subs, start, halfway, midway_subscribed, finished) =
            (&mut subs, &start, &halfway, &midway_subscribed, &finished);
        s.spawn(move || {
            start.wait();
            while finished.load(Ordering::SeqCst) < TRACKERS {
                let midway_due = !midway_subscribed.load(Ordering::SeqCst)
                    && halfway.load(Ordering::SeqCst) == TRACKERS;
                if midway_due || subs.len() < 300 {
                    subs.push(presence.subscribe("room"));
                }
                if midway_due {
                    midway_subscribed.store(true, Ordering::SeqCst);
                }
                std::thread::yield_now();
            }
        });
    });
    let final_users: BTreeSet<String> = presence
        .list("room")
        .iter()
        .map(|p| p.id().to_owned())
        .collect();
    assert_eq!(final_users.len(), TRACKERS * 200);
    assert!(
        subs.iter()
            .any(|s| !s.initial.presences.is_empty() && s.initial.presences.len() < TRACKERS * 200),
        "no subscription started while joins were under way"
    );
    for (i, sub) in subs.iter_mut().enumerate() {
        assert_eq!(replay(sub), final_users, "subscription {i}");
    }
}

#[test]
fn a_subscriber_that_stops_reading_is_bounded_and_told_it_lagged() {
    let (presence, _clock) = manual(PresenceConfig {
        subscriber_queue: 8,
        ..PresenceConfig::default()
    });
    let mut slow = presence.subscribe("room");
    let mut fast = presence.subscribe("room");
    let mut fast_seen = 0;
    for i in 0..50 {
        presence
            .track("room", conn(i), &format!("u{i}"), json!({}))
            .unwrap();
        fast_seen += drain(&mut fast).len();
    }
    // The reader that kept up saw every join; the one that did not holds only its bound.
    assert_eq!(fast_seen, 50);
    assert_eq!(slow.queued(), 8);
    let first: Vec<_> = (0..8).map(|_| slow.try_recv().unwrap()).collect();
    assert!(matches!(&first[0].kind, EventKind::Join(p) if p.id() == "u0"));
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(42)));
    // The state is intact for it to re-read, and later events arrive again.
    assert_eq!(presence.list_shared("room").len(), 50);
    presence.untrack("room", conn(0), UntrackReason::Clean);
    assert!(matches!(&slow.try_recv().unwrap().kind, EventKind::Leave(p) if p.id() == "u0"));
}

#[test]
fn a_zero_subscriber_queue_is_refused() {
    let err = Presence::new(PresenceConfig {
        subscriber_queue: 0,
        ..PresenceConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("subscriber_queue"), "{err}");
}
