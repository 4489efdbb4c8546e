use std::time::Duration;

use super::*;

#[test]
fn messages_come_out_in_order_up_to_the_capacity() {
    let (tx, mut rx) = bounded(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!((tx.len(), rx.len(), tx.capacity()), (3, 3, 3));
    assert_eq!(rx.try_recv(), Ok(0));
    tx.try_send(3).unwrap();
    let got: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(got, [1, 2, 3]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_drained_queue_gives_its_slots_back() {
    let (tx, mut rx) = bounded(64);
    for i in 0..40 {
        tx.try_send(i).unwrap();
    }
    assert!(rx.shared.state.lock().items.capacity() >= 40);
    while rx.try_recv().is_ok() {}
    assert_eq!(rx.shared.state.lock().items.capacity(), 0);
    // The whole queue, empty, is a small fixed header (a tokio channel is ~1 KiB).
    assert!(std::mem::size_of::<Shared<u64>>() <= 128);
}

#[test]
fn sending_to_a_dropped_receiver_hands_the_message_back() {
    let (tx, rx) = bounded(2);
    tx.try_send(1).unwrap();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    // The queued message went with the receiver.
    assert_eq!(tx.len(), 0);
}

#[tokio::test]
async fn the_queue_ends_after_the_last_sender_and_its_messages() {
    let (tx, mut rx) = bounded(2);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "tx2 is still alive"
    );
    tx2.try_send(2).unwrap();
    drop(tx2);
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_receiver_wakes_for_each_message_and_for_the_end() {
    let (tx, mut rx) = bounded(1);
    let producer = tokio::spawn(async move {
        for i in 0..200 {
            // Capacity 1: wait until the receiver took the last one.
            while let Err(TrySendError::Full(_)) = tx.try_send(i) {
                tokio::task::yield_now().await;
            }
        }
    });
    let mut got = Vec::new();
    while let Some(i) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a send or the end must wake the receiver")
    {
        got.push(i);
    }
    producer.await.unwrap();
    assert_eq!(got, (0..200).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_cancelled_receive_loses_nothing() {
    let (tx, mut rx) = bounded(4);
    tokio::select! {
        biased;
        _ = rx.recv() => panic!("nothing was sent"),
        () = std::future::ready(()) => {}
    }
    tx.try_send(7).unwrap();
    // The cancelled wait did not take the message, and a new wait gets it at once.
    assert_eq!(rx.recv().await, Some(7));
}
