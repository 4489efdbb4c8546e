//! The editor's room in real Chromium contexts: distinct colours for everyone in a room; the
//! avatar stack, "(you)", and a large room shown as a few faces and a count; "Go invisible"; the layout on a 375 px phone.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use djust::guest::{MIN_DISTANCE, color_distance};
use serde_json::{Value, json};
use support::browser::{R, cursor_count, lists_exactly, open_as, text};
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
    a_large_room_shows_few_faces_and_the_count(&browser)
        .await
        .expect("large room");
    going_invisible_and_back(&browser).await.expect("invisible");
    a_phone_gets_the_text_full_width(&browser)
        .await
        .expect("375 px");
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

async fn a_large_room_shows_few_faces_and_the_count(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    // 299 people present (tracked straight into the engine), then the viewer: 300.
    for i in 0..299 {
        let meta = json!({"name": format!("P{i:03}"), "color": "#0c8599", "uid": format!("u{}", 1000 + i)});
        app.presence
            .track(
                "editor:1",
                djust::presence::ConnId::random(),
                &format!("{}", 1000 + i),
                meta,
            )
            .expect("track");
    }
    let page = open_as(browser, &app, Some("viewer"), DOC).await?;
    page.wait_for("document.querySelector('.presence-sidebar h3').textContent === '300 Editing'")
        .await?;
    let got = page
        .eval(
            "const q = (s) => [...document.querySelectorAll(s)];
             return { faces: q('.avatar-stack .avatar:not(.avatar-more)').map((a) => a.textContent.trim()),
                      me: document.querySelector('.avatar-stack .avatar-me').title,
                      more: document.querySelector('.avatar-stack .avatar-more').textContent,
                      count: document.querySelector('.room-count').textContent,
                      names: q('.user-list .name').map((n) => n.textContent),
                      you: q('.user-list li.me .you').length,
                      moreNames: document.querySelector('.more-names').textContent,
                      html: document.documentElement.outerHTML.length };",
        )
        .await?;
    let limits = collab::RoomLimits::default();
    let faces = got["faces"].as_array().map_or(usize::MAX, Vec::len);
    assert!(faces <= limits.avatars, "{got}");
    assert_eq!(got["faces"][0], "V", "the viewer first, by initial: {got}");
    assert_eq!(got["me"], "viewer (you)", "{got}");
    assert_eq!(got["more"], format!("+{}", 300 - faces), "{got}");
    assert_eq!(got["count"], "300 editing", "{got}");
    let names = got["names"].as_array().map_or(usize::MAX, Vec::len);
    assert!(names <= limits.names, "{got}");
    assert_eq!(got["names"][0], "viewer");
    assert_eq!(got["names"][1], "P000", "then in join order");
    assert_eq!(got["you"], 1, "{got}");
    assert_eq!(got["moreNames"], format!("and {} more", 300 - names));
    // The page stays light: a few kilobytes, not 300 entries.
    assert!(got["html"].as_u64().unwrap_or(u64::MAX) < 20_000, "{got}");
    page.close().await?;
    Ok(())
}

async fn going_invisible_and_back(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let a = open_as(browser, &app, Some("alice"), DOC).await?;
    let b = open_as(browser, &app, Some("bob"), DOC).await?;
    for page in [&a, &b] {
        page.wait_for(&lists_exactly(&["alice", "bob"])).await?;
    }
    a.mouse_move(".editor-main", 120.0, 80.0).await?;
    b.wait_for("document.querySelectorAll('.cursor').length === 1")
        .await?;

    // Alice goes invisible: gone from bob's list, count and cursors; she still sees bob.
    a.click("button.visibility").await?;
    b.wait_for(&format!(
        "{} && document.querySelector('.presence-sidebar h3').textContent === '1 Editing' \
         && document.querySelectorAll('.cursor').length === 0",
        lists_exactly(&["bob"])
    ))
    .await?;
    a.wait_for(&format!(
        "{} && !!document.querySelector('.invisible-note') \
         && document.querySelector('button.visibility').getAttribute('aria-pressed') === 'true'",
        lists_exactly(&["bob"])
    ))
    .await?;
    assert_eq!(app.names("editor:1"), ["bob"]);

    // She moves and edits: bob gets the text, never a cursor (the move went first).
    a.mouse_move(".editor-main", 300.0, 200.0).await?;
    a.type_into("textarea", " unseen").await?;
    b.wait_for("document.querySelector('textarea').value.includes('unseen')")
        .await?;
    assert!(text(&b).await?.contains("unseen"));
    assert_eq!(cursor_count(&b).await?, 0, "no cursor of an invisible user");
    assert!(app.presence.cursors("editor:1").is_empty());
    assert_eq!(app.names("editor:1"), ["bob"]);

    // And comes back: listed for bob again, counted, her cursor shown on the next move.
    a.click("button.visibility").await?;
    b.wait_for(&format!(
        "{} && document.querySelector('.presence-sidebar h3').textContent === '2 Editing'",
        lists_exactly(&["alice", "bob"])
    ))
    .await?;
    a.wait_for("!document.querySelector('.invisible-note')")
        .await?;
    a.mouse_move(".editor-main", 60.0, 50.0).await?;
    b.wait_for("document.querySelectorAll('.cursor').length === 1")
        .await?;
    a.close().await?;
    b.close().await?;
    Ok(())
}

async fn a_phone_gets_the_text_full_width(browser: &djust_testkit::Browser) -> R {
    let app = start().await;
    let other = open_as(browser, &app, Some("bob"), DOC).await?;
    let page = open_as(browser, &app, Some("alice"), DOC).await?;
    page.wait_for(&lists_exactly(&["alice", "bob"])).await?;
    resize(&page, 375, 812).await?;
    page.wait_for("window.innerWidth <= 400").await?;
    let got = page
        .eval(
            "const r = (s) => document.querySelector(s).getBoundingClientRect();
             return { vw: window.innerWidth, text: r('textarea').width, textTop: r('textarea').top,
                      sideBottom: r('.presence-sidebar').bottom,
                      scroll: document.documentElement.scrollWidth };",
        )
        .await?;
    let num = |k: &str| got[k].as_f64().unwrap_or(0.0);
    assert!(
        num("text") >= 300.0,
        "the textarea is {}px wide: {got}",
        num("text")
    );
    assert!(
        num("sideBottom") <= num("textTop"),
        "the sidebar is above the text: {got}"
    );
    assert!(
        num("scroll") <= num("vw") + 1.0,
        "no sideways scrolling: {got}"
    );
    // On a desktop width the sidebar is beside the text again.
    resize(&page, 1280, 800).await?;
    page.wait_for(
        "document.querySelector('.presence-sidebar').getBoundingClientRect().right \
         <= document.querySelector('textarea').getBoundingClientRect().left",
    )
    .await?;
    page.close().await?;
    other.close().await?;
    Ok(())
}

/// Sets the browser window to `width` × `height` CSS pixels.
pub async fn resize(page: &djust_testkit::Page, width: u32, height: u32) -> R {
    page.client()
        .set_window_size(width, height)
        .await
        .map_err(|source| djust_testkit::TestkitError::Command {
            what: format!("set window size {width}x{height}"),
            source: Box::new(source),
        })
}
