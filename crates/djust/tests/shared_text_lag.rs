//! A connection whose shared-text fan-out falls behind (`TextConfig::fanout_capacity` of 2, a
//! burst of 120 updates from another connection) re-syncs with the whole document and ends with
//! exactly the writer's text; the lag is counted in `djust_text_resyncs_total`. A binary of its
//! own: the counter is process-wide.

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
