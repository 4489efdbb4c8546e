//! Shared-text fields in a real headless Chromium, beyond the collab example's textarea: an
//! `<input dj-shared-text>` merges like a textarea (and a reconnect's re-render does not reset
//! it), and an IME composition is not diffed while it lasts — a remote edit made meanwhile
//! waits for `compositionend`, then both are in the text on every screen.
//!
//! Without chromium/chromedriver the test fails with the install command (a counted skip with
//! `DJUST_TEST_SKIP_EXTERNAL=1`; never under CI=true).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use djust::text::{MemoryStore, TextStore};
use djust::{Context, Djust, LiveView, MountRequest, Socket, ViewError};
use djust_testkit::{Page, TestkitError};
use serde_json::{Value, json};
use support::{serve, test_config};

type R = Result<(), TestkitError>;

const FORM_HTML: &str = r#"<input type="text" dj-shared-text="title" value="{{ title }}"><textarea dj-shared-text="body">{{ body }}</textarea>"#;

#[derive(Clone)]
struct Stores(Arc<MemoryStore>);

struct Form {
    title: String,
    body: String,
}

impl LiveView for Form {
    const TEMPLATE: &'static str = "form.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let store = req
            .state::<Stores>()
            .ok_or_else(|| ViewError::other("no store"))?;
        let store: Arc<dyn TextStore> = store.0.clone();
        let title = socket
            .shared_text("title", "form:title", store.clone())
            .await?;
        let body = socket.shared_text("body", "form:body", store).await?;
        Ok(Self {
            title: title.text(),
            body: body.text(),
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("title", &self.title)?
            .insert("body", &self.body)?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl Form {}

async fn start() -> SocketAddr {
    let store = Arc::new(MemoryStore::new());
    store.insert_text("form:title", "Title");
    store.insert_text("form:body", "hello");
    let router = Djust::builder()
        .config(test_config())
        .templates_embedded([("form.html", FORM_HTML)])
        .state(Stores(store))
        .live::<Form>("/form")
        .into_router()
        .expect("app builds");
    serve(router).await
}

async fn open(page: &Page, addr: SocketAddr) -> R {
    page.goto(&format!("http://{addr}/form")).await?;
    page.wait_for(
        "window.djust && window.djust.connected && ['title', 'body'].every((f) => \
           window.djust.sharedText(f) && window.djust.sharedText(f).state === 'saved')",
    )
    .await?;
    Ok(())
}

async fn eval(page: &Page, js: &str, args: Vec<Value>) -> Value {
    page.eval_with(js, args).await.expect("eval")
}

async fn converged(pages: [&Page; 2], field: &str, want: &str) {
    let pred = format!(
        "(() => {{ const s = window.djust.sharedText({f}); return !!s && s.text === {w} && s.state === 'saved' \
           && document.querySelector('[dj-shared-text=' + {f} + ']').value === {w}; }})()",
        f = json!(field),
        w = json!(want)
    );
    for page in pages {
        if let Err(e) = page.wait_for(&pred).await {
            let now = eval(page, "return [window.djust.sharedText(arguments[0]), document.querySelector('[dj-shared-text=' + arguments[0] + ']').value]", vec![json!(field)]).await;
            panic!("{field} never became {want:?}: {e}; now {now}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_fields_and_ime_composition() {
    let Some(browser) = djust_testkit::browser().await else {
        return;
    };
    let addr = start().await;
    let a = browser.new_context().await.expect("context a");
    let b = browser.new_context().await.expect("context b");
    open(&a, addr).await.expect("a");
    open(&b, addr).await.expect("b");

    // <input dj-shared-text>: A types, then B (real keystrokes); both texts on both screens.
    a.type_into("input[dj-shared-text]", " by A")
        .await
        .expect("a typed");
    converged([&a, &b], "title", "Title by A").await;
    b.type_into("input[dj-shared-text]", " by B")
        .await
        .expect("b typed");
    let title = "Title by A by B".to_owned();
    converged([&a, &b], "title", &title).await;
    // A reconnect re-renders the page (value="…" from the server): the binding keeps the field.
    a.eval("window.djust.disconnect(); return true")
        .await
        .expect("drop");
    a.eval(
        "const i = document.querySelector('input[dj-shared-text]'); i.blur(); \
         i.value = i.value + '!'; i.dispatchEvent(new Event('input', {bubbles: true})); return true",
    )
    .await
    .expect("offline edit");
    a.eval("window.djust.connect(); return true")
        .await
        .expect("reconnect");
    let title = format!("{title}!");
    converged([&a, &b], "title", &title).await;

    // IME composition in A's textarea: the composing text is not diffed...
    eval(
        &a,
        "const t = document.querySelector('textarea[dj-shared-text]'); t.focus();
         t.setSelectionRange(5, 5);
         t.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
         t.value = 'helloにほ'; t.setSelectionRange(7, 7);
         t.dispatchEvent(new InputEvent('input', {bubbles: true, isComposing: true, data: 'にほ'}));
         return true;",
        vec![],
    )
    .await;
    assert_eq!(
        eval(&a, "return window.djust.sharedText('body').text", vec![]).await,
        "hello",
        "nothing diffed mid-composition"
    );
    // ...and B's edit meanwhile does not disturb it: it waits for compositionend.
    eval(
        &b,
        "const t = document.querySelector('textarea[dj-shared-text]'); t.focus(); t.setSelectionRange(0, 0); return true;",
        vec![],
    )
    .await;
    b.type_into("textarea[dj-shared-text]", "B:")
        .await
        .expect("b typed");
    b.wait_for("window.djust.sharedText('body').text === 'B:hello' && window.djust.sharedText('body').state === 'saved'")
        .await
        .expect("b saved");
    // Give A the time to receive it (it is held, not applied).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        eval(
            &a,
            "return document.querySelector('textarea[dj-shared-text]').value",
            vec![]
        )
        .await,
        "helloにほ",
        "the composition was left alone"
    );
    // The user commits: the composed text is diffed once, B's edit is applied, the caret stays
    // after the committed text.
    eval(
        &a,
        "const t = document.querySelector('textarea[dj-shared-text]');
         t.value = 'hello日本'; t.setSelectionRange(7, 7);
         t.dispatchEvent(new InputEvent('input', {bubbles: true, isComposing: true, data: '日本'}));
         t.dispatchEvent(new CompositionEvent('compositionend', {data: '日本'}));
         return true;",
        vec![],
    )
    .await;
    converged([&a, &b], "body", "B:hello日本").await;
    assert_eq!(
        eval(&a, "const t = document.querySelector('textarea[dj-shared-text]'); return [t.selectionStart, t.selectionEnd]", vec![]).await,
        json!([9, 9]),
        "A's caret after the committed text"
    );
    a.close().await.expect("close");
    b.close().await.expect("close");
}
