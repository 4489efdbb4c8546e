use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, Text, Transact};

use super::*;
use crate::store::{MemoryStore, StoreFuture};
use crate::{StoreError, TEXT_NAME};

fn insert(doc: &Doc, at: u32, s: &str) -> Vec<u8> {
    let text = doc.get_or_insert_text(TEXT_NAME);
    let mut txn = doc.transact_mut();
    text.insert(&mut txn, at, s);
    txn.encode_update_v1()
}

fn stored_text(store: &MemoryStore, key: &str) -> String {
    match store.get(key) {
        Some(Loaded::State(state)) => SharedDoc::from_state(&state, TextLimits::default())
            .unwrap()
            .text(),
        Some(Loaded::Text(text)) => format!("plain:{text}"),
        None => "none".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn updates_fan_out_and_are_saved_within_the_delay() {
    let store = Arc::new(MemoryStore::new());
    store.insert_text("doc:1", "hi");
    let hub = TextHub::new(TextConfig::default());
    let doc = hub.open("doc:1", store.clone()).await.unwrap();
    assert_eq!(doc.text(), "hi");
    let mut sub = doc.subscribe();
    let client = Doc::with_client_id(50);
    let sync = doc
        .diff(&client.transact().state_vector().encode_v1())
        .unwrap();
    {
        use yrs::updates::decoder::Decode;
        let u = yrs::Update::decode_v1(&sync).unwrap();
        client.transact_mut().apply_update(u).unwrap();
    }
    let update = insert(&client, 2, " there");
    let generation = doc.apply(&update, Origin::Client(7)).unwrap();
    let got = sub.recv().await.unwrap();
    assert_eq!(got.origin, Origin::Client(7));
    assert_eq!(&*got.update, &update[..]);
    // Not durable yet: the save waits for the delay.
    let mut saved = doc.saved();
    assert!(*saved.borrow() < generation);
    assert_eq!(store.saves(), 0);
    tokio::time::sleep(Duration::from_millis(99)).await;
    assert_eq!(store.saves(), 0);
    saved.wait_for(|&g| g >= generation).await.unwrap();
    assert_eq!(store.saves(), 1);
    assert_eq!(stored_text(&store, "doc:1"), "hi there");
    // Opening again while it is open gives the same document; after it is dropped, the store's.
    let again = hub.open("doc:1", store.clone()).await.unwrap();
    assert_eq!(again.generation(), generation);
    drop((doc, again, sub));
    let reopened = hub.open("doc:1", store.clone()).await.unwrap();
    assert_eq!(reopened.generation(), 0);
    assert_eq!(reopened.text(), "hi there");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_document_is_still_saved_and_flush_all_saves_at_once() {
    let store = Arc::new(MemoryStore::new());
    let hub = TextHub::new(TextConfig {
        save_delay: Duration::from_secs(3600),
        ..TextConfig::default()
    });
    let doc = hub.open("a", store.clone()).await.unwrap();
    let client = Doc::with_client_id(9);
    doc.apply(&insert(&client, 0, "typed"), Origin::Client(1))
        .unwrap();
    // The connection goes away: the save cycle keeps the document until it is saved.
    drop(doc);
    let started = tokio::time::Instant::now();
    assert!(hub.flush_all(Duration::from_secs(1)).await.is_empty());
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(stored_text(&store, "a"), "typed");
}

/// A store that fails while `down` is set.
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    down: AtomicBool,
}

impl TextStore for Flaky {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Loaded>> {
        self.inner.load(key)
    }
    fn save<'a>(&'a self, key: &'a str, doc: &'a StoredText) -> StoreFuture<'a, ()> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(StoreError::new("disk full")) });
        }
        self.inner.save(key, doc)
    }
}

#[tokio::test(start_paused = true)]
async fn nothing_is_durable_while_the_store_fails_and_it_retries() {
    let store = Arc::new(Flaky::default());
    store.down.store(true, Ordering::SeqCst);
    let hub = TextHub::new(TextConfig::default());
    let doc = hub.open("k", store.clone()).await.unwrap();
    let client = Doc::with_client_id(3);
    let generation = doc
        .apply(&insert(&client, 0, "x"), Origin::Client(1))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(*doc.saved().borrow(), 0);
    let err = doc.flush(Duration::from_millis(10)).await.unwrap_err();
    assert!(err.to_string().contains("not saved"), "{err}");
    store.down.store(false, Ordering::SeqCst);
    doc.saved().wait_for(|&g| g >= generation).await.unwrap();
    assert_eq!(stored_text(&store.inner, "k"), "x");
}

/// Document `d` ("base" in a fresh store) opened by two hubs, standing for two processes whose
/// relay is down: only the store connects them.
async fn two_processes() -> (Arc<MemoryStore>, Document, Document) {
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    store.insert_text("d", "base");
    let (one, two) = (
        TextHub::new(TextConfig::default()),
        TextHub::new(TextConfig::default()),
    );
    let a = one.open("d", store.clone()).await.unwrap();
    let b = two.open("d", store.clone()).await.unwrap();
    (store, a, b)
}

#[tokio::test(start_paused = true)]
async fn two_processes_on_one_store_never_overwrite_each_other() {
    let (store, a, b) = two_processes().await;
    let mut b_updates = b.subscribe();
    let (ca, cb) = (Doc::with_client_id(11), Doc::with_client_id(22));
    for (client, doc) in [(&ca, &a), (&cb, &b)] {
        use yrs::updates::decoder::Decode;
        let sync = doc.diff(&[]).unwrap();
        client
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(&sync).unwrap())
            .unwrap();
    }
    let ga = a.apply(&insert(&ca, 4, " A"), Origin::Client(1)).unwrap();
    a.flush(Duration::from_secs(1)).await.unwrap();
    assert_eq!(*a.saved().borrow(), ga);
    let gb = b.apply(&insert(&cb, 0, "B "), Origin::Client(2)).unwrap();
    b.flush(Duration::from_secs(1)).await.unwrap();
    assert!(*b.saved().borrow() >= gb);
    assert_eq!(stored_text(&store, "d"), "B base A");
    // `two` learned A's edit from the store and told its subscribers.
    assert_eq!(b.text(), "B base A");
    let mut origins = Vec::new();
    while let Ok(u) = b_updates.try_recv() {
        origins.push(u.origin);
    }
    assert_eq!(origins, [Origin::Client(2), Origin::Store]);
    // `one` has not saved since: a refresh brings B's edit from the store, once.
    let mut a_updates = a.subscribe();
    assert_eq!(a.text(), "base A");
    assert!(a.refresh().await.unwrap());
    assert_eq!(a.text(), "B base A");
    assert_eq!(a_updates.try_recv().unwrap().origin, Origin::Store);
    assert!(!a.refresh().await.unwrap(), "nothing new the second time");
    let _ = ca.get_or_insert_text(TEXT_NAME).get_string(&ca.transact());
}

#[tokio::test(start_paused = true)]
async fn a_refresh_saves_again_what_a_concurrent_save_overwrote() {
    let (store, a, b) = two_processes().await;
    // The state before `one`'s edit: `two`'s save, racing with `one`'s, writes it back.
    let before = SharedDoc::from_text("base", TextLimits::default()).encode_state();
    let ca = Doc::with_client_id(11);
    {
        use yrs::updates::decoder::Decode;
        let sync = a.diff(&[]).unwrap();
        ca.transact_mut()
            .apply_update(yrs::Update::decode_v1(&sync).unwrap())
            .unwrap();
    }
    a.apply(&insert(&ca, 4, " A"), Origin::Client(1)).unwrap();
    a.flush(Duration::from_secs(1)).await.unwrap();
    assert_eq!(stored_text(&store, "d"), "base A");
    let lost = StoredText {
        state: before,
        text: "base".into(),
    };
    store.save("d", &lost).await.unwrap();
    assert_eq!(
        stored_text(&store, "d"),
        "base",
        "the race lost A's edit in the store"
    );
    // Nobody types any more. `two` refreshing finds nothing new; `one` refreshing finds the
    // store behind it and saves again, so `two`'s next refresh brings A's edit.
    assert!(!b.refresh().await.unwrap());
    assert!(!a.refresh().await.unwrap(), "nothing new for `one`");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stored_text(&store, "d"), "base A");
    assert!(b.refresh().await.unwrap());
    assert_eq!(b.text(), "base A");
    // In step again: no further saves.
    let saves = store.saves();
    assert!(!a.refresh().await.unwrap());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(store.saves(), saves);
}

#[tokio::test]
async fn a_corrupt_stored_state_is_a_typed_error() {
    struct Corrupt;
    impl TextStore for Corrupt {
        fn load<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<Loaded>> {
            Box::pin(async { Ok(Some(Loaded::State(vec![0xff, 0xfe]))) })
        }
        fn save<'a>(&'a self, _: &'a str, _: &'a StoredText) -> StoreFuture<'a, ()> {
            Box::pin(async { Ok(()) })
        }
    }
    let hub = TextHub::new(TextConfig::default());
    let err = hub.open("doc:9", Arc::new(Corrupt)).await.unwrap_err();
    assert!(
        matches!(err, TextError::BadStoredState { ref key, .. } if key == "doc:9"),
        "{err}"
    );
}

#[tokio::test]
async fn carets_and_updates_each_have_their_own_fanout_capacity() {
    use tokio::sync::broadcast::error::TryRecvError;
    let hub = TextHub::new(TextConfig {
        fanout_capacity: 8,
        caret_fanout_capacity: 2,
        ..TextConfig::default()
    });
    let doc = hub.open("d", Arc::new(MemoryStore::new())).await.unwrap();
    let (mut updates, mut carets) = (doc.subscribe(), doc.subscribe_carets());
    let client = Doc::with_client_id(7);
    for i in 0..3u32 {
        doc.apply(&insert(&client, i, "x"), Origin::Client(1))
            .unwrap();
        let caret = crate::Caret {
            peer: "p".into(),
            name: "Ann".into(),
            color: "#f00".into(),
            anchor: format!("a{i}").into(),
            head: format!("h{i}").into(),
        };
        assert!(doc.set_caret(Origin::Client(1), caret));
    }
    // Three carets into two slots: the receiver lagged and then reads the newest two.
    assert!(matches!(carets.try_recv(), Err(TryRecvError::Lagged(1))));
    let next = carets.try_recv().unwrap();
    assert!(matches!(&next.event, crate::CaretEvent::Moved(c) if &*c.head == "h1"));
    // Three updates fit in eight slots: none lost.
    for _ in 0..3 {
        assert!(updates.try_recv().is_ok());
    }
    assert!(matches!(updates.try_recv(), Err(TryRecvError::Empty)));
}
