//! Shared text over the wire: `text_sync`, `text_update` → fan-out to the other connections,
//! `text_ack` only once the store has the update, refusals that leave the document intact,
//! and a reconnect that re-sends what the server never acknowledged.

mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use djust::text::{TextConfig, TextLimits};
use serde_json::{Value, json};
use support::Ws;
use support::text_pad::{Client, join, start, stored};

#[tokio::test]
async fn concurrent_edits_of_two_connections_merge_and_are_acked_once_saved() {
    let (addr, store, router) = start(TextConfig {
        save_delay: Duration::from_millis(300),
        ..TextConfig::default()
    })
    .await;
    let (a, b) = (Client::new(100), Client::new(200));
    let (mut wa, _) = join(addr, &a).await;
    let (mut wb, _) = join(addr, &b).await;
    assert_eq!(a.text(), "hello");
    // Both type at the same moment, on the same version.
    let ua = a.insert(5, " world");
    let ub = b.insert(0, ">> ");
    wa.send(json!({"t": "text_update", "field": "body", "id": 1, "update": ua}))
        .await;
    wb.send(json!({"t": "text_update", "field": "body", "id": "b1", "update": ub}))
        .await;
    // Each receives the other's edit at once, long before the save.
    let got = wb.recv().await;
    assert_eq!(got["t"], "text_update", "{got}");
    b.apply(&got["update"]);
    let got = wa.recv().await;
    assert_eq!(got["t"], "text_update", "{got}");
    a.apply(&got["update"]);
    assert_eq!(a.text(), ">> hello world");
    assert_eq!(b.text(), a.text());
    // Not acknowledged before the store has it.
    assert_eq!(store.saves(), 0);
    let ack = wa.recv().await;
    assert_eq!(ack, json!({"t": "text_ack", "field": "body", "ids": [1]}));
    assert!(store.saves() >= 1);
    assert_eq!(stored(&store), ">> hello world");
    let ack = wb.recv().await;
    assert_eq!(
        ack,
        json!({"t": "text_ack", "field": "body", "ids": ["b1"]})
    );
    // A page GET renders the merged text.
    let (_, _, html) = support::get(router, "/pad/1", &[]).await;
    assert!(html.contains("&gt;&gt; hello world"), "{html}");
}

#[tokio::test]
async fn bad_and_oversized_updates_are_refused_and_the_document_is_intact() {
    let (addr, store, _) = start(TextConfig {
        limits: TextLimits {
            max_update_bytes: 200,
            max_document_bytes: 1000,
        },
        save_delay: Duration::from_millis(10),
        ..TextConfig::default()
    })
    .await;
    let a = Client::new(7);
    let (mut ws, _) = join(addr, &a).await;
    let good = a.insert(5, "!");
    ws.send(json!({"t": "text_update", "field": "body", "id": 1, "update": good}))
        .await;
    assert_eq!(ws.recv().await["t"], "text_ack");
    for (id, update, code) in [
        (2, "not base64!".to_owned(), "text_bad_update"),
        (3, B64.encode([0xff, 0x00, 0x12]), "text_bad_update"),
        (4, a.insert(0, &"x".repeat(300)), "text_update_too_large"),
    ] {
        ws.send(json!({"t": "text_update", "field": "body", "id": id, "update": update}))
            .await;
        let err = ws.recv().await;
        assert_eq!(err["t"], "text_error", "{err}");
        assert_eq!(err["id"], id);
        assert_eq!(err["code"], code, "{err}");
    }
    ws.send(json!({"t": "text_update", "field": "nope", "id": 5, "update": good}))
        .await;
    assert_eq!(ws.recv().await["code"], "text_unknown_field");
    // The stored document still loads and equals the last good state; so does a new client's.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stored(&store), "hello!");
    let fresh = Client::new(8);
    let _ = join(addr, &fresh).await;
    assert_eq!(fresh.text(), "hello!");
}

#[tokio::test]
async fn a_reconnect_sends_what_the_server_never_acknowledged() {
    let (addr, store, _) = start(TextConfig {
        save_delay: Duration::from_secs(3600),
        ..TextConfig::default()
    })
    .await;
    let a = Client::new(9);
    let (mut ws, _) = join(addr, &a).await;
    // Typed while the connection is down: never sent.
    ws.close(1000).await;
    a.insert(5, " offline");
    let (mut ws, sync) = join(addr, &a).await;
    // The server's state vector says what it lacks; the client sends exactly that.
    let missing = a.missing(&sync["sv"]);
    ws.send(json!({"t": "text_update", "field": "body", "id": 1, "update": missing}))
        .await;
    ws.expect_silence(Duration::from_millis(100)).await;
    assert_eq!(store.saves(), 0, "the save delay has not passed");
    let other = Client::new(10);
    let _ = join(addr, &other).await;
    assert_eq!(other.text(), "hello offline");
}

#[tokio::test]
async fn text_frames_before_mount_are_not_mounted_errors() {
    let (addr, _, _) = start(TextConfig::default()).await;
    let mut ws = Ws::connect(addr).await;
    ws.send(json!({"t": "text_sync", "field": "body", "sv": ""}))
        .await;
    assert_eq!(ws.recv().await["code"], "not_mounted");
}

/// The next frame of type `t` (other frames, e.g. presence patches, are skipped).
async fn recv_kind(ws: &mut Ws, t: &str) -> Value {
    loop {
        let frame = ws.recv().await;
        if frame["t"] == t {
            return frame;
        }
    }
}

#[tokio::test]
async fn carets_reach_the_other_connections_with_a_label_and_go_when_the_connection_ends() {
    let (addr, _, _) = start(TextConfig::default()).await;
    let a = Client::new(21);
    let b = Client::new(22);
    let (mut wa, _) = join(addr, &a).await;
    let (mut wb, _) = join(addr, &b).await;
    wa.send(json!({"t": "text_caret", "field": "body", "anchor": "AQID", "head": "BAUG"}))
        .await;
    let moved = recv_kind(&mut wb, "text_caret").await;
    assert_eq!(
        (moved["anchor"].as_str(), moved["head"].as_str()),
        (Some("AQID"), Some("BAUG")),
        "{moved}"
    );
    let peer = moved["peer"].as_str().expect("peer").to_owned();
    // Without presence meta: the identity's guest name and colour.
    assert!(
        moved["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("Guest ")),
        "{moved}"
    );
    assert!(
        moved["color"].as_str().is_some_and(|c| c.starts_with('#')),
        "{moved}"
    );
    wa.expect_silence(Duration::from_millis(100)).await;
    // A connection that syncs later gets the carets already there.
    let c = Client::new(23);
    let (mut wc, _) = join(addr, &c).await;
    let all = recv_kind(&mut wc, "text_carets").await;
    assert_eq!(all["carets"].as_array().map(Vec::len), Some(1), "{all}");
    assert_eq!(all["carets"][0]["peer"], peer.as_str());
    assert_eq!(all["carets"][0]["head"], "BAUG");
    // Positions that are not base64 are refused; nothing is relayed.
    wa.send(json!({"t": "text_caret", "field": "body", "anchor": "not base64!", "head": "AQID"}))
        .await;
    assert_eq!(
        recv_kind(&mut wa, "text_error").await["code"],
        "text_bad_caret"
    );
    wb.expect_silence(Duration::from_millis(100)).await;
    // The connection ends: its caret leaves every other screen at once.
    wa.close(1000).await;
    for ws in [&mut wb, &mut wc] {
        let gone = recv_kind(ws, "text_caret").await;
        assert_eq!(gone["peer"], peer.as_str(), "{gone}");
        assert!(
            gone.get("head").is_none() && gone.get("name").is_none(),
            "{gone}"
        );
    }
}
