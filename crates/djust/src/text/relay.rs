//! Shared text across processes: each open document's updates travel through the presence
//! backend's broadcast (`Presence::broadcast` on the key `djust:text:<document key>`), so with
//! the Redis backend every process applies every other process's edits.
//!
//! Updates are commutative and idempotent, so order and duplicates do not matter. What a
//! broadcast outage (Redis down) drops is healed through the store: before each save a process
//! merges the stored state, which holds what the other processes saved (`djust_text`), and the
//! relay also merges it every [`HEAL_INTERVAL`] while the document is open (one store read), so a
//! side where nobody types catches up too.
//!
//! Carets travel the same way (`caret_relay.rs`): single changes, and every [`HEAL_INTERVAL`]
//! (and when the relay lagged) the full set of this process's carets, which makes good a
//! removal that was lost.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use djust_presence::{EventKind, Presence};
use djust_text::{Document, Origin, WeakDocument};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::caret_relay::{self, CaretRelay};

/// How often an open, relayed document merges the stored state.
pub(crate) const HEAL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// The presence event name of relayed updates.
const EVENT: &str = "djust:text";

/// The presence key a document's updates are relayed on.
pub(crate) fn relay_key(doc_key: &str) -> String {
    format!("djust:text:{doc_key}")
}

/// Starts relaying `doc` to and from the other processes, once per open document; nothing
/// to do with the memory backend (one process).
pub(crate) fn ensure(presence: &Presence, doc: &Document) {
    if presence.backend_name() == "memory" || !doc.claim_relay() {
        return;
    }
    start(presence, doc);
}

/// Spawns the relay task of `doc`.
fn start(presence: &Presence, doc: &Document) {
    // Subscribed here, before the task first runs: the connection that opened the document
    // applies its first update or caret right after this returns, and a subscription made
    // inside the task could come after it (that caret then never reached the other processes).
    let key = relay_key(doc.key());
    let feeds = Feeds {
        local: doc.subscribe(),
        carets: doc.subscribe_carets(),
        remote: presence.subscribe(&key),
    };
    // The relay must not keep the document open: it holds it weakly.
    tokio::spawn(run(presence.clone(), doc.downgrade(), key, feeds));
}

/// What a relay listens to.
struct Feeds {
    local: tokio::sync::broadcast::Receiver<djust_text::TextUpdate>,
    carets: tokio::sync::broadcast::Receiver<djust_text::CaretChange>,
    remote: djust_presence::Subscription,
}

async fn run(presence: Presence, weak: WeakDocument, key: String, feeds: Feeds) {
    let node = presence.node_id().to_string();
    let Feeds {
        mut local,
        mut carets,
        mut remote,
    } = feeds;
    let mut caret_relay = CaretRelay::new(presence.clone(), key.clone(), node.clone());
    // Not at once: the document was just loaded from the store, and has no carets yet.
    let mut heal =
        tokio::time::interval_at(tokio::time::Instant::now() + HEAL_INTERVAL, HEAL_INTERVAL);
    heal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = heal.tick() => {
                let Some(doc) = weak.upgrade() else { break };
                // Before the store read, which may take a while.
                caret_relay.tick(&doc);
                if let Err(e) = doc.refresh().await {
                    tracing::warn!(key = %key.escape_debug(), error = %e, "djust: shared text not refreshed from the store");
                }
            }
            got = local.recv() => match got {
                Ok(u) if u.origin == Origin::Remote => {}
                Ok(u) => {
                    let payload = json!({"n": node, "u": B64.encode(&u.update)});
                    presence.broadcast(&key, EVENT, payload);
                }
                Err(RecvError::Lagged(_)) => {
                    // Send the whole document: the others merge what they miss. (With Redis
                    // down this is lost too; the store heal below brings it.)
                    crate::metrics::text_resync("relay");
                    let Some(doc) = weak.upgrade() else { break };
                    if let Ok(all) = doc.diff(&[]) {
                        presence.broadcast(&key, EVENT, json!({"n": node, "u": B64.encode(all)}));
                    }
                }
                Err(RecvError::Closed) => break,
            },
            got = carets.recv() => match got {
                Ok(c) => caret_relay.forward(&c),
                // Dropped changes, removals among them: send all our carets; the others drop
                // those of ours they did not get (see caret_relay.rs for the order).
                Err(RecvError::Lagged(_)) => {
                    let Some(doc) = weak.upgrade() else { break };
                    caret_relay.sync(&doc);
                }
                Err(RecvError::Closed) => break,
            },
            event = remote.recv() => {
                let event = match event {
                    Ok(event) => event,
                    // Relayed updates were dropped for this subscriber: the periodic merge
                    // through the store (`refresh`) brings what they carried, the other
                    // processes' next caret syncs what caret changes did.
                    Err(djust_presence::RecvError::Lagged(_)) => continue,
                    Err(djust_presence::RecvError::Closed) => break,
                };
                let EventKind::Broadcast { event: name, payload } = &event.kind else { continue };
                if payload.get("n").and_then(|n| n.as_str()) == Some(node.as_str()) {
                    continue;
                }
                if caret_relay::is_caret_event(name) {
                    let Some(doc) = weak.upgrade() else { break };
                    caret_relay::apply(&doc, name, payload);
                    continue;
                }
                if name.as_ref() != EVENT {
                    continue;
                }
                let Some(bytes) = payload.get("u").and_then(|u| u.as_str()).and_then(|u| B64.decode(u).ok()) else {
                    tracing::warn!(key = %key.escape_debug(), "djust: malformed relayed text update ignored");
                    continue;
                };
                let Some(doc) = weak.upgrade() else { break };
                if let Err(e) = doc.apply(&bytes, Origin::Remote) {
                    tracing::warn!(key = %key.escape_debug(), error = %e, "djust: relayed text update refused");
                }
            }
        }
    }
    // The document closed (its last connection left) or the engine stopped. What was sent
    // last may still be queued: a leaving user's caret removal must reach the other
    // processes, or their users see the caret until it expires (if it is lost, until our
    // syncs are missed for SYNCED_CARET_TTL).
    caret_relay.forward_pending(&mut carets);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use djust_presence::{EventKind, Presence, Subscription};
    use djust_text::{Caret, CaretEvent, Document, MemoryStore, Origin, TextConfig, TextHub};
    use serde_json::{Value, json};

    use super::caret_relay::{CARET_EVENT, CARETS_EVENT};
    use super::{HEAL_INTERVAL, relay_key, start};

    fn caret(peer: &str, head: &str) -> Caret {
        Caret {
            peer: peer.into(),
            name: "Ann".into(),
            color: "#f00".into(),
            anchor: "AQID".into(),
            head: head.into(),
        }
    }

    /// A document `pad:1` with its relay started and a subscription to what the relay sends.
    async fn relayed(presence: &Presence) -> (Document, Subscription) {
        let hub = TextHub::new(TextConfig::default());
        let doc = hub
            .open("pad:1", Arc::new(MemoryStore::new()))
            .await
            .unwrap();
        let others = presence.subscribe(&relay_key(doc.key()));
        start(presence, &doc);
        (doc, others)
    }

    /// The next broadcast on `sub` within `within`, as (event, payload).
    async fn next_broadcast(sub: &mut Subscription, within: Duration) -> (String, Value) {
        let event = tokio::time::timeout(within, sub.recv())
            .await
            .expect("a broadcast in time")
            .unwrap();
        match &event.kind {
            EventKind::Broadcast { event, payload } => (event.to_string(), (**payload).clone()),
            other => panic!("expected a broadcast, got {other:?}"),
        }
    }

    /// The race `start` avoids, forced: on a current-thread runtime the relay task cannot run
    /// before the caret is set, so a relay that subscribed only once running would miss it.
    #[tokio::test(flavor = "current_thread")]
    async fn a_caret_set_right_after_the_relay_starts_is_relayed() {
        let presence = Presence::new(Default::default()).unwrap();
        let (doc, mut others) = relayed(&presence).await;
        assert!(doc.set_caret(Origin::Client(1), caret("p1", "AQID")));
        let (event, payload) = next_broadcast(&mut others, Duration::from_secs(2)).await;
        assert_eq!(event, CARET_EVENT);
        assert_eq!(payload["p"], "p1");
        assert_eq!(payload["h"], "AQID");
    }

    /// More caret changes than the fan-out holds (16) before the relay runs: it lags, and
    /// sends every caret of this process at once (well before the first heal tick), so the
    /// removal it missed is not lost.
    #[tokio::test(flavor = "current_thread")]
    async fn a_lagging_relay_sends_all_its_carets() {
        let presence = Presence::new(Default::default()).unwrap();
        let (doc, mut others) = relayed(&presence).await;
        for i in 0..10 {
            assert!(doc.set_caret(Origin::Client(i), caret(&format!("p{i}"), "AQID")));
        }
        doc.remove_caret(Origin::Client(0), "p0");
        assert!(doc.set_relayed_caret("elsewhere", caret("theirs", "AQID")));
        for i in 1..10 {
            assert!(doc.set_caret(Origin::Client(i), caret(&format!("p{i}"), "BAUG")));
        }
        let within = HEAL_INTERVAL / 2;
        let payload = loop {
            match next_broadcast(&mut others, within).await {
                (event, payload) if event == CARETS_EVENT => break payload,
                _ => {}
            }
        };
        assert_eq!(payload["n"], presence.node_id().to_string());
        let mut all: Vec<String> = payload["all"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c["p"].as_str().unwrap(), c["h"].as_str().unwrap()))
            .collect();
        all.sort();
        let want: Vec<String> = (1..10).map(|i| format!("p{i} BAUG")).collect();
        assert_eq!(
            all, want,
            "our carets, not the gone one nor the relayed one"
        );
    }

    /// Another process's sync replaces its carets here: a ghost it no longer has goes (with
    /// the removal fanned out to the connections); a malformed sync or entry is ignored, and
    /// so is a sync with our own node id.
    #[tokio::test(flavor = "current_thread")]
    async fn a_sync_from_another_process_removes_its_ghost_carets() {
        let presence = Presence::new(Default::default()).unwrap();
        let (doc, _) = relayed(&presence).await;
        let mut seen = doc.subscribe_carets();
        let key = relay_key(doc.key());
        let entry = |peer: &str| json!({"p": peer, "name": "Bo", "color": "#00f", "a": "AQID", "h": "AQID"});
        let mut ghost = entry("ghost");
        ghost["n"] = "other".into();
        presence.broadcast(&key, CARET_EVENT, ghost);
        let ours = presence.node_id().to_string();
        presence.broadcast(&key, CARETS_EVENT, json!({"n": ours, "all": []}));
        presence.broadcast(&key, CARETS_EVENT, json!({"n": "other", "all": "nonsense"}));
        presence.broadcast(&key, CARETS_EVENT, json!({"all": []}));
        let all = json!([entry("kept"), {"p": 5}, 7, {"p": "half", "h": "AQID"}]);
        presence.broadcast(&key, CARETS_EVENT, json!({"n": "other", "all": all}));
        let mut events = Vec::new();
        while events.len() < 3 {
            let change = tokio::time::timeout(Duration::from_secs(1), seen.recv())
                .await
                .expect("the relay applies them")
                .unwrap();
            assert_eq!(change.origin, Origin::Remote);
            events.push(match change.event {
                CaretEvent::Moved(c) => format!("moved {}", c.peer),
                CaretEvent::Gone(p) => format!("gone {p}"),
            });
        }
        assert_eq!(events, ["moved ghost", "gone ghost", "moved kept"]);
        let now: Vec<_> = doc.carets().iter().map(|c| c.peer.to_string()).collect();
        assert_eq!(now, ["kept"]);
    }
}
