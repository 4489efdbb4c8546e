//! Hardening on paused time: held events capped to the view's own names, the frame bucket,
//! presence after silent and "I will reconnect" closes, shutdown before mount, authorization.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use serde::Serialize;
use serde_json::json;

use super::tests::{Closes, Senders, close_code, mounted, start_with};
use crate::config::DjustConfig;
use crate::presence::{LivePresence, PresenceMixin};
use crate::routes::ViewEntry;
use crate::shutdown::{LiveConnections, Registry};
use crate::{Context, LiveView, MountRequest, Socket, ViewError};

/// A view tracked on presence key `room`; `?private=1` is refused by `authorize`.
#[derive(Serialize)]
struct Tracked {
    #[serde(skip)]
    presence: LivePresence,
}

impl PresenceMixin for Tracked {
    const PRESENCE_KEY: &'static str = "room";
    fn presence(&self) -> &LivePresence {
        &self.presence
    }
}

impl LiveView for Tracked {
    const TEMPLATE: &'static str = "p.html";

    async fn authorize(req: &MountRequest) -> Result<(), ViewError> {
        if req.query.get_opt::<String>("private")?.is_some() {
            return Err(ViewError::forbidden("this room is private"));
        }
        Ok(())
    }

    async fn mount(_req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let view = Tracked {
            presence: LivePresence::new(socket),
        };
        view.track_presence(json!({}))?;
        Ok(view)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        crate::context! { n => self.presence_count() }
    }
}

#[djust::event_handlers]
impl Tracked {}

fn engine() -> djust_presence::Presence {
    djust_presence::Presence::new(Default::default()).unwrap()
}

/// An engine on tokio's (paused) clock with its sweeper running, and a client of `/p`.
fn presence_app(config: DjustConfig) -> (super::tests::Client, djust_presence::Presence) {
    let engine = djust_presence::Presence::builder()
        .config(
            config
                .presence
                .engine_config(config.heartbeat_interval)
                .unwrap(),
        )
        .clock(Arc::new(djust_presence::TokioClock::new()))
        .build()
        .unwrap();
    // The sweeper runs until the test's runtime ends.
    std::mem::forget(engine.spawn_sweeper().unwrap());
    let client = start_with(config, http::Extensions::new(), engine.clone(), |routes| {
        routes
            .insert("/p", Arc::new(ViewEntry::<Tracked>::new()))
            .unwrap();
    });
    (client, engine)
}

async fn mount_p(c: &mut super::tests::Client, query: &str) -> serde_json::Value {
    c.send(json!({"t": "mount", "v": 2, "path": "/p", "query": query}));
    c.recv_json().await
}

fn close(code: u16) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: "".into(),
    }))
}

#[tokio::test(start_paused = true)]
async fn unknown_coalesced_names_are_refused_before_they_are_held() {
    let senders = Senders::default();
    let mut state = http::Extensions::new();
    state.insert(senders.clone());
    let config = DjustConfig::default().with_rate_limit(1, 1);
    let mut c = start_with(config, state, engine(), |routes| {
        routes
            .insert("/v", Arc::new(ViewEntry::<super::tests::View>::new()))
            .unwrap();
    });
    c.send(json!({"t": "mount", "v": 2, "path": "/v"}));
    assert_eq!(c.recv_json().await["t"], "mounted");
    let sender = senders.0.lock().unwrap()[0].clone();
    c.send(json!({"t": "event", "name": "inc", "payload": {}}));
    assert_eq!(c.recv_json().await["t"], "patch", "the only token");
    for i in 0..50 {
        let name = format!("{}{i}", "n".repeat(1000));
        c.send(json!({"t": "event", "name": name, "coalesce": true, "payload": {}}));
        let err = c.recv_json().await;
        assert_eq!(err["code"], "unknown_event", "{err}");
        assert!(
            err["message"].as_str().unwrap().len() < 400,
            "the name is clipped"
        );
        assert_eq!(
            sender.stats().held_events,
            0,
            "nothing held for unknown names"
        );
    }
    c.send(json!({"t": "event", "name": "cursor_move", "coalesce": true, "payload": {"x": 5}}));
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
    assert_eq!(sender.stats().held_events, 1, "a known name is held");
    let patch = c.recv_json().await;
    assert!(patch["diff"].to_string().contains("\"5\""), "{patch}");
    assert_eq!(sender.stats().held_events, 0);
}

#[tokio::test(start_paused = true)]
async fn every_frame_takes_a_frame_token() {
    let config = DjustConfig::default().with_frame_rate_limit(5, 5);
    let mut c = mounted(config, Closes::default()).await;
    for _ in 0..20 {
        c.send(json!({"t": "heartbeat", "ref": 1}));
        c.tx.send(Message::Binary(vec![1, 2].into())).unwrap();
        c.send(json!({"t": "nope"}));
    }
    let mut kinds = Vec::new();
    while let Some(Message::Text(t)) = c.recv_within(Duration::from_millis(1)).await {
        let frame: serde_json::Value = serde_json::from_str(&t).unwrap();
        kinds.push(frame["code"].as_str().unwrap_or("heartbeat").to_owned());
    }
    // The burst of 5 answered, then one rate-limit error for the 55 dropped frames.
    assert_eq!(
        kinds,
        [
            "heartbeat",
            "binary_unsupported",
            "bad_json",
            "heartbeat",
            "binary_unsupported",
            "rate_limited"
        ],
    );
    // A second later the bucket has refilled.
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.send(json!({"t": "heartbeat", "ref": 2}));
    assert_eq!(c.recv_json().await["t"], "heartbeat");
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_leaves_at_the_presence_timeout_with_the_defaults_shape() {
    // The defaults: idle timeout = presence timeout = 60 s, 5 s grace, 1 s sweeps.
    let config = DjustConfig::default();
    assert_eq!(config.idle_timeout, config.presence.timeout);
    let (mut c, engine) = presence_app(config);
    assert_eq!(mount_p(&mut c, "").await["t"], "mounted");
    let t0 = tokio::time::Instant::now();
    assert_eq!(engine.count("room"), 1);
    tokio::time::sleep_until(t0 + Duration::from_secs(59)).await;
    assert_eq!(engine.count("room"), 1, "present until the timeout");
    let msg = c.recv_within(Duration::from_secs(2)).await;
    assert_eq!(close_code(msg), Some(1001), "the idle close");
    // Timeout + one sweep interval, not idle timeout + reconnect grace (65 s).
    tokio::time::sleep_until(t0 + Duration::from_millis(61_500)).await;
    assert_eq!(
        engine.count("room"),
        0,
        "left at presence_timeout + one sweep"
    );
}

#[tokio::test(start_paused = true)]
async fn reconnecting_closes_enter_the_grace_and_1000_1001_leave_at_once() {
    for (code, grace) in [(4000, true), (4001, true), (1000, false), (1001, false)] {
        let (mut c, engine) = presence_app(DjustConfig::default());
        assert_eq!(mount_p(&mut c, "").await["t"], "mounted");
        c.tx.send(close(code)).unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let expected = usize::from(grace);
        assert_eq!(engine.count("room"), expected, "close {code} right after");
        tokio::time::sleep(Duration::from_secs(7)).await;
        assert_eq!(engine.count("room"), 0, "close {code} after the grace");
    }
}

#[tokio::test(start_paused = true)]
async fn a_refused_mount_gets_forbidden_4403_and_never_joins_presence() {
    let (mut c, engine) = presence_app(DjustConfig::default());
    let err = mount_p(&mut c, "private=1").await;
    assert_eq!(err["code"], "forbidden", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("private"),
        "{err}"
    );
    let msg = c.recv_within(Duration::from_secs(1)).await;
    assert_eq!(close_code(msg), Some(4403));
    assert_eq!(engine.count("room"), 0);
    let (mut ok, engine) = presence_app(DjustConfig::default());
    assert_eq!(mount_p(&mut ok, "").await["t"], "mounted");
    assert_eq!(engine.count("room"), 1);
}

fn registry_state() -> (http::Extensions, Arc<LiveConnections>) {
    let live = Arc::new(LiveConnections::default());
    let mut state = http::Extensions::new();
    state.insert(Registry(live.clone()));
    (state, live)
}

fn shutdown_reason(msg: Option<Message>) -> (u16, String) {
    match msg {
        Some(Message::Close(Some(frame))) => (frame.code, frame.reason.to_string()),
        other => panic!("expected a Close frame, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_mounted_and_unmounted_sockets_with_1012_service_restart() {
    let routes = |routes: &mut crate::routes::Routes<super::tests::Fake>| {
        routes
            .insert("/v", Arc::new(ViewEntry::<super::tests::View>::new()))
            .unwrap();
    };
    let (state, live) = registry_state();
    let mut idle = start_with(DjustConfig::default(), state.clone(), engine(), routes);
    let mut mounted = start_with(DjustConfig::default(), state, engine(), routes);
    mounted.send(json!({"t": "mount", "v": 2, "path": "/v"}));
    assert_eq!(mounted.recv_json().await["t"], "mounted");
    tokio::task::yield_now().await;
    assert_eq!(
        live.disconnect_all(),
        1,
        "only the mounted one is registered"
    );
    let restart = (1012, "service restart".to_owned());
    let within = Duration::from_millis(10);
    assert_eq!(shutdown_reason(mounted.recv_within(within).await), restart);
    assert_eq!(shutdown_reason(idle.recv_within(within).await), restart);
}
