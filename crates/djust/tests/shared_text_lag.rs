//! A connection whose shared-text fan-out falls behind (`TextConfig::fanout_capacity` of 2, a
//! burst of 120 updates from another connection) re-syncs with the whole document and ends with
//! exactly the writer's text; the lag is counted in `djust_text_resyncs_total`. A binary of its
//! own: the counter is process-wide. Carets lag apart (`caret_fanout_capacity`), and a lag
//! sends them all again.

mod support;

use std::time::Duration;

use djust::text::TextConfig;
use support::text_burst::{burst_until_counted, series};
use support::text_pad::{Client, hello_store, join, start_on};
use support::{get, test_config};

const SERIES: &str = r#"djust_text_resyncs_total{path="connection"}"#;

#[tokio::test]
async fn a_lagging_connection_resyncs_and_loses_nothing() {
    let text = TextConfig {
        fanout_capacity: 2,
        save_delay: Duration::from_millis(20),
        ..TextConfig::default()
    };
    let config = test_config()
        .with_rate_limit(100_000, 100_000)
        .with_frame_rate_limit(100_000, 100_000);
    let (addr, router) = start_on(config, text, hello_store()).await;
    let before = series(&get(router.clone(), "/metrics", &[]).await.2, SERIES);
    let (a, b) = (Client::new(100), Client::new(200));
    let (mut wa, _) = join(addr, &a).await;
    let (mut wb, _) = join(addr, &b).await;
    let (writer, reader) = ((&mut wa, &a), (&mut wb, &b));
    burst_until_counted(
        &router,
        SERIES,
        before,
        writer,
        reader,
        Duration::from_secs(5),
    )
    .await;
    assert!(b.text().starts_with("hello") && b.text().contains("r1-119;"));
    // The writer's own connection got the others' nothing, only its acks; a third connection
    // syncing now has the same text.
    let c = Client::new(300);
    let _ = join(addr, &c).await;
    assert_eq!(c.text(), a.text());
}

/// A connection whose caret fan-out falls behind (`caret_fanout_capacity` of 1, bursts of
/// carets from another connection) gets every caret again in one `text_carets` frame, and it
/// holds the other's latest caret.
#[tokio::test]
async fn a_connection_whose_carets_lag_gets_them_all_again() {
    use base64::Engine as _;
    let text = TextConfig {
        caret_fanout_capacity: 1,
        ..TextConfig::default()
    };
    let config = test_config()
        .with_rate_limit(100_000, 100_000)
        .with_frame_rate_limit(100_000, 100_000);
    let (addr, _router) = start_on(config, text, hello_store()).await;
    let (a, b) = (Client::new(100), Client::new(200));
    let (mut wa, _) = join(addr, &a).await;
    let (mut wb, _) = join(addr, &b).await;
    let head = |i: u32| base64::engine::general_purpose::STANDARD.encode(i.to_be_bytes());
    let mut sent = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let all = 'burst: loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no text_carets after {sent} carets"
        );
        // A burst in one go: the server reads them one after another while B's task waits.
        for _ in 0..50 {
            sent += 1;
            let frame = serde_json::json!({"t": "text_caret", "field": "body", "anchor": head(sent), "head": head(sent)});
            wa.send(frame).await;
        }
        while let Some(frame) = wb.try_recv(Duration::from_millis(200)).await {
            if frame["t"] == "text_carets" {
                break 'burst frame;
            }
        }
    };
    let carets = all["carets"].as_array().expect("carets");
    assert_eq!(carets.len(), 1, "{all}");
    // The list is read when the lag is seen: a caret of this burst, never one from before it.
    let at = |v: &serde_json::Value| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        u32::from_be_bytes(bytes.try_into().unwrap())
    };
    assert!(at(&carets[0]["head"]) > sent - 50, "{all}");
    // After the lag, moves flow one by one again and the latest is the last one sent.
    let last = loop {
        match wb.try_recv(Duration::from_millis(300)).await {
            Some(frame) if frame["t"] == "text_caret" => {
                if at(&frame["head"]) == sent {
                    break frame;
                }
            }
            Some(_) => {}
            None => panic!("the last caret ({sent}) never arrived after the lag"),
        }
    };
    assert_eq!(last["peer"], carets[0]["peer"]);
}
