//! Shared text across processes: each open document's updates travel through the presence
//! backend's broadcast (`Presence::broadcast` on the key `djust:text:<document key>`), so with
//! the Redis backend every process applies every other process's edits.
//!
//! Updates are commutative and idempotent, so order and duplicates do not matter. What a
//! broadcast outage (Redis down) drops is healed through the store: before each save a process
//! merges the stored state, which holds what the other processes saved (`djust_text`), and the
//! relay also merges it every [`HEAL_INTERVAL`] while the document is open (one store read), so a
//! side where nobody types catches up too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use djust_presence::{EventKind, Presence};
use djust_text::{Caret, CaretEvent, Document, Origin, WeakDocument};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

/// How often an open, relayed document merges the stored state.
pub(crate) const HEAL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// The presence event name of relayed updates.
const EVENT: &str = "djust:text";

/// The presence event name of relayed caret changes.
const CARET_EVENT: &str = "djust:caret";

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
    let mut heal = tokio::time::interval(HEAL_INTERVAL);
    heal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = heal.tick() => {
                let Some(doc) = weak.upgrade() else { break };
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
                Ok(c) => relay_caret(&presence, &key, &node, &c),
                // Dropped caret moves are made good by the next move or refresh (a client
                // re-sends its caret every CARET_REFRESH).
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            event = remote.recv() => {
                let event = match event {
                    Ok(event) => event,
                    // Relayed updates were dropped for this subscriber: the periodic merge
                    // through the store (`refresh`) brings what they carried.
                    Err(djust_presence::RecvError::Lagged(_)) => continue,
                    Err(djust_presence::RecvError::Closed) => break,
                };
                let EventKind::Broadcast { event: name, payload } = &event.kind else { continue };
                if payload.get("n").and_then(|n| n.as_str()) == Some(node.as_str()) {
                    continue;
                }
                if name.as_ref() == CARET_EVENT {
                    let Some(doc) = weak.upgrade() else { break };
                    apply_caret(&doc, payload);
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
    // processes, or their users see the caret until it expires.
    forward_pending_carets(&mut carets, &presence, &key, &node);
}

/// Relays a caret change made in this process (one relayed from another is not sent back).
fn relay_caret(presence: &Presence, key: &str, node: &str, change: &djust_text::CaretChange) {
    if change.origin != Origin::Remote {
        presence.broadcast(key, CARET_EVENT, caret_payload(node, &change.event));
    }
}

/// Relays the caret changes still queued for this relay (it is about to stop).
fn forward_pending_carets(
    carets: &mut tokio::sync::broadcast::Receiver<djust_text::CaretChange>,
    presence: &Presence,
    key: &str,
    node: &str,
) {
    use tokio::sync::broadcast::error::TryRecvError;
    loop {
        match carets.try_recv() {
            Ok(c) => relay_caret(presence, key, node, &c),
            Err(TryRecvError::Lagged(_)) => {}
            Err(TryRecvError::Empty | TryRecvError::Closed) => return,
        }
    }
}

/// A local caret change as relayed: `{"n": node, "p": peer}` plus, for a move, `name`,
/// `color`, `a` (anchor) and `h` (head).
fn caret_payload(node: &str, event: &CaretEvent) -> serde_json::Value {
    match event {
        CaretEvent::Moved(c) => json!({
            "n": node, "p": &*c.peer, "name": &*c.name, "color": &*c.color,
            "a": &*c.anchor, "h": &*c.head,
        }),
        CaretEvent::Gone(peer) => json!({"n": node, "p": &**peer}),
    }
}

/// Applies a relayed caret change (ignored if malformed).
fn apply_caret(doc: &Document, payload: &serde_json::Value) {
    let field = |k: &str| payload.get(k).and_then(|v| v.as_str());
    let Some(peer) = field("p") else { return };
    match (field("name"), field("color"), field("a"), field("h")) {
        (Some(name), Some(color), Some(anchor), Some(head)) => {
            doc.set_caret(
                Origin::Remote,
                Caret {
                    peer: peer.into(),
                    name: name.into(),
                    color: color.into(),
                    anchor: anchor.into(),
                    head: head.into(),
                },
            );
        }
        _ => doc.remove_caret(Origin::Remote, peer),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use djust_presence::{EventKind, Presence};
    use djust_text::{Caret, MemoryStore, Origin, TextConfig, TextHub};

    use super::{CARET_EVENT, relay_key, start};

    /// The race `start` avoids, forced: on a current-thread runtime the relay task cannot run
    /// before the caret is set, so a relay that subscribed only once running would miss it.
    #[tokio::test(flavor = "current_thread")]
    async fn a_caret_set_right_after_the_relay_starts_is_relayed() {
        let presence = Presence::new(Default::default()).unwrap();
        let hub = TextHub::new(TextConfig::default());
        let doc = hub
            .open("pad:1", Arc::new(MemoryStore::new()))
            .await
            .unwrap();
        let mut others = presence.subscribe(&relay_key(doc.key()));
        start(&presence, &doc);
        let caret = Caret {
            peer: "p1".into(),
            name: "Ann".into(),
            color: "#f00".into(),
            anchor: "AQID".into(),
            head: "AQID".into(),
        };
        assert!(doc.set_caret(Origin::Client(1), caret));
        let event = tokio::time::timeout(Duration::from_secs(2), others.recv())
            .await
            .expect("the caret was relayed")
            .unwrap();
        match &event.kind {
            EventKind::Broadcast { event, payload } => {
                assert_eq!(event.as_ref(), CARET_EVENT);
                assert_eq!(payload["p"], "p1");
                assert_eq!(payload["h"], "AQID");
            }
            other => panic!("expected the relayed caret, got {other:?}"),
        }
    }
}
