//! Bursts of shared-text updates and a follower that applies what it receives, for the tests of
//! a fan-out that falls behind (`TextConfig::fanout_capacity`).

use std::time::Duration;

use serde_json::json;

use super::Ws;
use super::text_pad::Client;

/// Updates in one burst: far more than a fan-out capacity of 2.
pub const BURST: usize = 120;

/// Sends [`BURST`] insertions at the end of `client`'s text, tagged `tag`, without waiting for
/// anything in between.
pub async fn burst(ws: &mut Ws, client: &Client, tag: &str) {
    for n in 0..BURST {
        let at = u32::try_from(client.text().len()).expect("small text");
        let update = client.insert(at, &format!("{tag}{n};"));
        ws.send(json!({"t": "text_update", "field": "body", "id": n, "update": update}))
            .await;
    }
}

/// Applies every `text_update` arriving on `ws` to `client` until its text is `want`; panics
/// after `limit` with both texts, or on a `text_error`.
pub async fn follow(ws: &mut Ws, client: &Client, want: &str, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while client.text() != want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no convergence within {limit:?}:\nwant {want:?}\nhave {:?}",
            client.text()
        );
        match ws.try_recv(Duration::from_millis(100)).await {
            Some(frame) if frame["t"] == "text_update" => client.apply(&frame["update"]),
            Some(frame) if frame["t"] == "text_error" => panic!("refused: {frame}"),
            _ => {}
        }
    }
}

/// Bursts from `writer` (its socket and client) until the Prometheus counter `counter` of
/// `router`'s `/metrics` grew past `before` — whether one burst outruns a fan-out depends on
/// scheduling — with `reader` converging to the writer's text after each burst (within
/// `limit`). Panics after 5 bursts without the counter moving.
pub async fn burst_until_counted(
    router: &axum::Router,
    counter: &str,
    before: f64,
    writer: (&mut Ws, &Client),
    reader: (&mut Ws, &Client),
    limit: Duration,
) {
    let (wa, a) = writer;
    let (wb, b) = reader;
    let mut rounds = 0;
    while series(
        &super::get(router.clone(), "/metrics", &[]).await.2,
        counter,
    ) <= before
    {
        rounds += 1;
        assert!(
            rounds <= 5,
            "5 bursts of {BURST} updates and {counter} never moved"
        );
        burst(wa, a, &format!("r{rounds}-")).await;
        follow(wb, b, &a.text(), limit).await;
    }
}

/// The value of the Prometheus sample `series` (name and labels exactly) in `scrape`; 0 when
/// absent.
pub fn series(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}
