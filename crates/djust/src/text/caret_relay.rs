//! Carets across processes, the caret side of a document's relay (`relay.rs`): each caret
//! change made by a client of this process goes to the other processes as a presence broadcast
//! (`djust:caret`), and theirs are applied here as relayed from their node.
//!
//! Single changes can be lost: the relay's caret receiver may lag (the fan-out holds
//! `TextConfig::caret_fanout_capacity` changes) and a broadcast made while Redis is down is
//! gone. A lost removal would leave a ghost caret on the other processes' screens. So, like
//! y-protocols' awareness re-broadcasting its state, the relay also sends a *sync*
//! (`djust:carets`): the full set of this process's own carets, at once when its receiver lags
//! and every `HEAL_INTERVAL` (2 s) while the document is open and has carets here, or had one
//! within [`SYNCED_CARET_TTL`], so that a removal lost in an outage is made good within one
//! interval of Redis being back. A receiver replaces that node's carets with the set
//! ([`Document::sync_relayed_carets`]). And it drops the carets of a node whose syncs stopped
//! for [`SYNCED_CARET_TTL`] (the node closed the document — its relay's last removals may have
//! been lost — or died, or the link is down; its next sync brings them back).
//!
//! Ordering: a sync is a snapshot of the carets taken in the relay task, and changes may still
//! be queued for the relay behind it, to be sent after it. That converges: carets are changed
//! and fanned out under one lock, so the snapshot holds every change queued so far, and the
//! queue holds, in order and without a gap from where the receiver resumed, every change made
//! since. The other processes apply what one relay sends in the order sent (one task, one
//! publisher). A queued change older than the sync may briefly undo part of it (a caret moved
//! back, or a caret that has left shown again), but each caret's last queued change is its
//! latest state, and a caret with no queued change is as the sync has it; so once the queue is
//! drained every process holds this one's current carets.

use std::sync::Arc;

use djust_presence::Presence;
use djust_text::{Caret, CaretChange, CaretEvent, Document, MAX_CARETS, Origin};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::relay::HEAL_INTERVAL;

/// The presence event name of relayed caret changes.
pub(super) const CARET_EVENT: &str = "djust:caret";

/// The presence event name of a process's full set of carets (a sync).
pub(super) const CARETS_EVENT: &str = "djust:carets";

/// How long a caret that came in a sync is kept without being refreshed by its process's
/// syncs (five of them missed, so a slow store read or a short Redis hiccup does not make
/// carets flicker).
pub(super) const SYNCED_CARET_TTL: std::time::Duration = HEAL_INTERVAL.saturating_mul(5);

/// The caret side of one document's relay task.
pub(super) struct CaretRelay {
    presence: Presence,
    key: String,
    node: String,
    /// When a caret of ours was last sent (moved, or in a sync): empty syncs follow for
    /// [`SYNCED_CARET_TTL`] (after it, the others have dropped such carets by themselves, or
    /// never had them in a sync and got our empty syncs).
    carried: Option<Instant>,
}

impl CaretRelay {
    pub(super) fn new(presence: Presence, key: String, node: String) -> Self {
        Self {
            presence,
            key,
            node,
            carried: None,
        }
    }

    /// Relays a caret change made in this process (one relayed from another is not sent back).
    pub(super) fn forward(&mut self, change: &CaretChange) {
        if change.origin != Origin::Remote {
            if let CaretEvent::Moved(_) = change.event {
                self.carried = Some(Instant::now());
            }
            let payload = caret_payload(&self.node, &change.event);
            self.presence.broadcast(&self.key, CARET_EVENT, payload);
        }
    }

    /// Relays the caret changes still queued (the relay is about to stop).
    pub(super) fn forward_pending(&mut self, carets: &mut broadcast::Receiver<CaretChange>) {
        use tokio::sync::broadcast::error::TryRecvError;
        loop {
            match carets.try_recv() {
                Ok(c) => self.forward(&c),
                // What was dropped is lost with the relay; the others drop our carets once
                // our syncs stop (SYNCED_CARET_TTL).
                Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }

    /// Sends this process's carets, all of them (see the module docs for why a sync sent ahead
    /// of still-queued changes is right).
    pub(super) fn sync(&mut self, doc: &Document) {
        self.send_sync(&doc.own_carets());
    }

    /// The periodic heal: drops the carets of processes that stopped syncing, and syncs ours
    /// while we have carets (or sent one lately).
    pub(super) fn tick(&mut self, doc: &Document) {
        doc.drop_stale_relayed_carets(SYNCED_CARET_TTL);
        let own = doc.own_carets();
        let lately = self
            .carried
            .is_some_and(|at| at.elapsed() < SYNCED_CARET_TTL);
        if lately || !own.is_empty() {
            self.send_sync(&own);
        }
    }

    fn send_sync(&mut self, own: &[Arc<Caret>]) {
        if !own.is_empty() {
            self.carried = Some(Instant::now());
        }
        let all: Vec<Value> = own.iter().map(|c| caret_json(c)).collect();
        let payload = json!({"n": self.node, "all": all});
        self.presence.broadcast(&self.key, CARETS_EVENT, payload);
    }
}

/// Whether `event` is one of the caret events.
pub(super) fn is_caret_event(event: &str) -> bool {
    event == CARET_EVENT || event == CARETS_EVENT
}

/// Applies another process's caret event (`payload["n"]` is its node; ignored if malformed).
pub(super) fn apply(doc: &Document, event: &str, payload: &Value) {
    let node = payload.get("n").and_then(Value::as_str);
    if event == CARETS_EVENT {
        // Without its node or its list a sync says nothing: it must not remove anything.
        let (Some(node), Some(all)) = (node, payload.get("all").and_then(Value::as_array)) else {
            return;
        };
        let carets = all.iter().take(MAX_CARETS).filter_map(caret_of).collect();
        doc.sync_relayed_carets(node, carets);
        return;
    }
    let Some(peer) = payload.get("p").and_then(Value::as_str) else {
        return;
    };
    match (caret_of(payload), node) {
        (Some(caret), Some(node)) => {
            doc.set_relayed_caret(node, caret);
        }
        (Some(caret), None) => {
            doc.set_caret(Origin::Remote, caret);
        }
        (None, _) => doc.remove_caret(Origin::Remote, peer),
    }
}

/// A caret as relayed: `p` (peer), `name`, `color`, `a` (anchor), `h` (head).
fn caret_json(c: &Caret) -> Value {
    json!({
        "p": &*c.peer, "name": &*c.name, "color": &*c.color, "a": &*c.anchor, "h": &*c.head,
    })
}

/// The caret in `v` (see [`caret_json`]), if it has every field.
fn caret_of(v: &Value) -> Option<Caret> {
    let field = |k: &str| v.get(k).and_then(Value::as_str);
    Some(Caret {
        peer: field("p")?.into(),
        name: field("name")?.into(),
        color: field("color")?.into(),
        anchor: field("a")?.into(),
        head: field("h")?.into(),
    })
}

/// A local caret change as relayed: `{"n": node, "p": peer}` plus, for a move, the rest of
/// [`caret_json`].
fn caret_payload(node: &str, event: &CaretEvent) -> Value {
    match event {
        CaretEvent::Moved(c) => {
            let mut v = caret_json(c);
            v["n"] = node.into();
            v
        }
        CaretEvent::Gone(peer) => json!({"n": node, "p": &**peer}),
    }
}
