//! The editor's room in real Chromium contexts: distinct colours for everyone in a room.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use djust::guest::{MIN_DISTANCE, color_distance};
use serde_json::Value;
use support::browser::{R, lists_exactly, open_as};
use support::start;

const DOC: &str = "/doc/1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_in_chromium() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    six_users_get_six_distinct_colours(&browser)
        .await
        .expect("six colours");
}

/// `[name, colour as #rrggbb]` of every entry in the sidebar, from the computed style.
async fn sidebar_colours(page: &djust_testkit::Page) -> R<Vec<(String, String)>> {
    let v = page
        .eval(
            "const hex = (rgb) => '#' + rgb.match(/\\d+/g).slice(0, 3)
                 .map((n) => Number(n).toString(16).padStart(2, '0')).join('');
             return [...document.querySelectorAll('.user-list li[data-uid]')].map((li) =>
                 [li.querySelector('.name').textContent,
                  hex(getComputedStyle(li.querySelector('.dot')).backgroundColor)]);",
        )
        .await?;
    let pairs: Vec<(String, String)> = serde_json::from_value(v).unwrap_or_default();
    Ok(pairs)
}

async fn six_users_get_six_distinct_colours(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    // Users 1..=13 exist; 1 and 11, 2 and 12, 3 and 13 prefer the same colour (id % 10).
    for i in 1..=13 {
        app.login(&format!("n{i}")).await;
    }
    let names = ["n1", "n11", "n2", "n12", "n3", "n13"];
    let mut pages = Vec::new();
    for name in names {
        pages.push(open_as(browser, &app, Some(name), DOC).await?);
    }
    for page in &pages {
        page.wait_for(&lists_exactly(&names)).await?;
    }
    let mut seen: Option<Vec<(String, String)>> = None;
    for page in &pages {
        let mut colours = sidebar_colours(page).await?;
        colours.sort();
        assert_eq!(colours.len(), 6, "{colours:?}");
        for (i, (a_name, a)) in colours.iter().enumerate() {
            for (b_name, b) in &colours[i + 1..] {
                let d = color_distance(a, b).unwrap_or(0.0);
                assert!(
                    d >= MIN_DISTANCE,
                    "{a_name} {a} and {b_name} {b} are {d:.3} apart (< {MIN_DISTANCE})"
                );
            }
        }
        // Everyone sees the same colour for each person.
        match &seen {
            Some(first) => assert_eq!(first, &colours),
            None => seen = Some(colours),
        }
    }
    // The colour is the one in the presence meta (the spec's `color` key).
    let records = app.presence.list("editor:1");
    for (name, colour) in seen.unwrap_or_default() {
        let meta = records
            .iter()
            .find(|r| r.get_str("name") == Some(&name))
            .map(|r| r.meta().get("color").cloned().unwrap_or(Value::Null));
        assert_eq!(meta, Some(Value::from(colour)), "{name}");
    }
    for page in pages {
        page.close().await?;
    }
    Ok(())
}
