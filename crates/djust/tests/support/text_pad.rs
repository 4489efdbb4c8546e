//! A view with one shared-text field (`/pad/{id}`, field `body`, document `pad:<id>` in a
//! [`MemoryStore`]) and a Yjs client driven by hand, for the shared-text tests.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use djust::text::{Loaded, MemoryStore, TextConfig, TextStore};
use djust::{Context, Djust, DjustConfig, LiveView, MountRequest, Socket, ViewError};
use serde_json::{Value, json};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, Text, Transact, Update};

use super::{Ws, serve, test_config};

const PAD_HTML: &str = r#"<textarea dj-shared-text="body">{{ body }}</textarea>"#;

#[derive(Clone)]
struct Stores(Arc<MemoryStore>);

struct Pad {
    body: String,
}

impl LiveView for Pad {
    const TEMPLATE: &'static str = "pad.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let id: u32 = req.params.get("id")?;
        let store = req
            .state::<Stores>()
            .ok_or_else(|| ViewError::other("no store"))?;
        let store: Arc<dyn TextStore> = store.0.clone();
        let text = socket
            .shared_text("body", &format!("pad:{id}"), store)
            .await?;
        Ok(Self { body: text.text() })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        let mut ctx = Context::new();
        ctx.insert("body", &self.body)?;
        Ok(ctx)
    }
}

#[djust::event_handlers]
impl Pad {}

/// A store holding `pad:1` = "hello".
pub fn hello_store() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    store.insert_text("pad:1", "hello");
    store
}

/// The pad app on `config` (e.g. a Redis backend) and `store`, served on a free port.
pub async fn start_on(
    config: DjustConfig,
    text: TextConfig,
    store: Arc<MemoryStore>,
) -> (std::net::SocketAddr, axum::Router) {
    let router = Djust::builder()
        .config(config)
        .templates_embedded([("pad.html", PAD_HTML)])
        .state(Stores(store))
        .shared_text_config(text)
        .live::<Pad>("/pad/{id}")
        .into_router()
        .expect("app builds");
    (serve(router.clone()).await, router)
}

/// The pad app with the test configuration and a [`hello_store`].
pub async fn start(text: TextConfig) -> (std::net::SocketAddr, Arc<MemoryStore>, axum::Router) {
    let store = hello_store();
    let (addr, router) = start_on(test_config(), text, store.clone()).await;
    (addr, store, router)
}

/// A browser's Yjs document, driven by hand.
pub struct Client {
    doc: Doc,
}

impl Client {
    pub fn new(id: u64) -> Self {
        Self {
            doc: Doc::with_client_id(id),
        }
    }
    pub fn sv(&self) -> String {
        B64.encode(self.doc.transact().state_vector().encode_v1())
    }
    pub fn apply(&self, b64: &Value) {
        let bytes = B64.decode(b64.as_str().expect("base64 string")).unwrap();
        let update = Update::decode_v1(&bytes).unwrap();
        self.doc.transact_mut().apply_update(update).unwrap();
    }
    pub fn insert(&self, at: u32, s: &str) -> String {
        let text = self.doc.get_or_insert_text("text");
        let mut txn = self.doc.transact_mut();
        text.insert(&mut txn, at, s);
        B64.encode(txn.encode_update_v1())
    }
    pub fn text(&self) -> String {
        let text = self.doc.get_or_insert_text("text");
        text.get_string(&self.doc.transact())
    }
    /// Everything a server with state vector `sv` lacks.
    pub fn missing(&self, sv: &Value) -> String {
        let sv = B64.decode(sv.as_str().unwrap()).unwrap();
        let sv = yrs::StateVector::decode_v1(&sv).unwrap();
        B64.encode(self.doc.transact().encode_state_as_update_v1(&sv))
    }
}

/// Mounts `/pad/1` and syncs: returns the socket and the server's `text_sync` answer.
pub async fn join(addr: std::net::SocketAddr, client: &Client) -> (Ws, Value) {
    let (mut ws, _) = Ws::mounted(addr, "/pad/1", "").await;
    ws.send(json!({"t": "text_sync", "field": "body", "sv": client.sv()}))
        .await;
    let sync = ws.recv().await;
    assert_eq!(sync["t"], "text_sync", "{sync}");
    client.apply(&sync["update"]);
    (ws, sync)
}

pub fn stored(store: &MemoryStore) -> String {
    match store.get("pad:1") {
        Some(Loaded::State(state)) => {
            let doc = Doc::new();
            let text = doc.get_or_insert_text("text");
            let update = Update::decode_v1(&state).unwrap();
            doc.transact_mut().apply_update(update).unwrap();
            text.get_string(&doc.transact())
        }
        other => format!("{other:?}"),
    }
}
