//! In Chromium, dev mode: an edited template shows on the open page without a click (the view
//! keeps its state), and a changed static file makes the page reload itself (the `reload`
//! frame of `docs/protocol.md`).

mod support;

use djust::Djust;
use djust_testkit::TestkitError;
use support::dev_views::Page;
use support::{serve, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_shows_on_the_open_page_and_a_static_file_reloads_it() -> Result<(), TestkitError> {
    let Some(browser) = djust_testkit::browser().await else {
        return Ok(());
    };
    let root = std::env::temp_dir().join(format!("djust-browser-dev-{}", std::process::id()));
    let (templates, statics) = (root.join("templates"), root.join("static"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&templates).expect("templates dir");
    std::fs::create_dir_all(&statics).expect("static dir");
    let page_src = |word: &str| {
        format!("<button id=\"b\" dj-click=\"inc\">inc</button><p id=\"v\">{word} {{{{ n }}}}</p>")
    };
    std::fs::write(templates.join("page.html"), page_src("one")).expect("write");
    let router = Djust::builder()
        .config(test_config().with_dev(true))
        .templates_dir(&templates)
        .reload_pages_on_change(&statics)
        .live::<Page>("/")
        .into_router()
        .expect("router");
    let addr = serve(router).await;
    let page = browser.new_context().await?;
    page.goto(&format!("http://{addr}/")).await?;
    page.wait_for("document.body.classList.contains('dj-connected')")
        .await?;
    page.eval("document.getElementById('b').click(); return true")
        .await?;
    page.wait_for("document.getElementById('v').textContent === 'one 1'")
        .await?;
    // A marker that only a reload clears.
    page.eval("window.__marker = 1; return true").await?;

    std::fs::write(templates.join("page.html"), page_src("two")).expect("write");
    page.wait_for("document.getElementById('v').textContent === 'two 1'")
        .await?;
    assert_eq!(
        page.eval("return window.__marker === 1").await?,
        true,
        "a template edit re-renders in place, without a reload"
    );

    std::fs::write(statics.join("site.css"), "p { color: red }").expect("write");
    page.wait_for(
        "window.__marker === undefined && document.body.classList.contains('dj-connected')",
    )
    .await?;
    assert_eq!(
        page.eval("return document.getElementById('v').textContent")
            .await?,
        "two 0",
        "reloaded: a new page, a new view"
    );
    std::fs::remove_dir_all(&root).expect("clean up");
    Ok(())
}
