//! A live view whose presence subscription overflowed (`presence.subscriber_queue`, here 2 set
//! through `DjustConfig`) re-renders from the engine's current state: the users whose joins were
//! dropped appear on the page, although their join hooks never ran.

mod support;

use std::time::Duration;

use djust_presence::ConnId;
use djust_render::ClientModel;
use serde_json::{Value, json};
use support::presence_views::room_parts;
use support::{Ws, serve, test_config};

/// Push events named `name` in a frame.
fn events_named(frame: &Value, name: &str) -> usize {
    frame["events"]
        .as_array()
        .map_or(0, |evs| evs.iter().filter(|e| e["name"] == name).count())
}

#[tokio::test]
async fn a_lagged_view_re_renders_from_the_current_presence() {
    let mut config = test_config();
    config.presence.subscriber_queue = 2;
    let (router, handle) = room_parts(config, None);
    let presence = handle.presence().clone();
    let addr = serve(router).await;
    let mut bob = Ws::connect_with(addr, &[("x-test-user", "2:bob")])
        .await
        .expect("connect");
    let mounted = bob.mount("/room/lag", "").await;
    assert_eq!(mounted["t"], "mounted", "{mounted}");
    let mut model = ClientModel::new();
    model
        .apply_full(&mounted["rendered"], &mounted["statics"])
        .expect("mounted render");
    assert!(model.html().unwrap().contains(r#"<p id="count">1</p>"#));

    // Bob's task is busy for a while: two broadcasts fill its queue of two, and the joins of
    // five users after them are dropped for it.
    bob.event("stall", json!({"ms": 2500})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    presence.broadcast("room:lag", "ping", json!({}));
    presence.broadcast("room:lag", "ping", json!({}));
    for i in 0..5 {
        let user = format!("{}", 100 + i);
        presence
            .track(
                "room:lag",
                ConnId::random(),
                &user,
                json!({"name": format!("user{i}")}),
            )
            .expect("track");
    }

    // After the stall: the two queued pings, then a render from the current state.
    let (mut pings, mut joined) = (0, 0);
    let html = loop {
        let frame = bob.recv().await;
        pings += events_named(&frame, "ping");
        joined += events_named(&frame, "joined");
        match frame["t"].as_str() {
            Some("patch") => {
                model
                    .apply_diff(&frame["diff"], &frame["statics"])
                    .expect("the diff applies");
                break model.html().unwrap();
            }
            Some("render") => {
                model
                    .apply_full(&frame["rendered"], &frame["statics"])
                    .expect("render");
                break model.html().unwrap();
            }
            _ => {}
        }
    };
    assert!(html.contains(r#"<p id="count">6</p>"#), "{html}");
    for i in 0..5 {
        assert!(
            html.contains(&format!(">user{i}<")),
            "user{i} listed: {html}"
        );
    }
    assert_eq!(
        pings, 2,
        "the queued events are delivered, the rest dropped"
    );
    assert_eq!(
        joined, 0,
        "the dropped joins ran no hook: the page came from the state"
    );
}
