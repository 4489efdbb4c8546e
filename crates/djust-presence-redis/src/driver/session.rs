//! One connected session: subscribe, register, catch up, then replicate until Redis fails or we stop.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use djust_presence::{ConnChange, NodeId};
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubStream};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

use super::{Driver, End, Lost, stop_requested};
use crate::mirror::HashOps;
use crate::outgoing::Publication;
use crate::peers::Verdict;
use crate::scripts::{self, Published, TickReport};
use crate::status::{Counters, RedisStatus};
use crate::wire::{self, Payload};

/// At most this many queued changes go into one message.
const MAX_BATCH: usize = 1024;

/// What woke the session up.
enum Event {
    Local(Option<ConnChange>),
    Remote(Option<redis::Msg>),
    CursorTick,
    LivenessTick,
    Stop,
}

impl Driver {
    pub(super) async fn session(&mut self, outage: &mut Option<Instant>) -> End {
        let mut messages = match self.start_session().await {
            Ok(messages) => messages,
            Err(error) => {
                return End::Lost {
                    error,
                    was_connected: false,
                };
            }
        };
        // Counted before the status changes, so whoever sees `Connected` sees the count too.
        if self.counters.snapshot().connects > 0 {
            Counters::bump(&self.counters.reconnects, 1);
            self.observer.reconnected();
        }
        Counters::bump(&self.counters.connects, 1);
        self.status.send_replace(RedisStatus::Connected);
        match outage.take() {
            Some(since) => tracing::info!(
                node = %self.node,
                outage = ?since.elapsed(),
                connections = self.mirror.len(),
                peers = self.peers.nodes().len(),
                "presence reconnected to Redis: local state re-published, other processes re-read"
            ),
            None => tracing::debug!(node = %self.node, "presence connected to Redis"),
        }
        let mut cursor_timer = ticker(self.config.cursor_tick);
        let mut liveness_timer = ticker(self.liveness.interval);
        loop {
            let event = tokio::select! {
                change = self.outbox.recv() => Event::Local(change),
                message = messages.next() => Event::Remote(message),
                _ = cursor_timer.tick() => Event::CursorTick,
                _ = liveness_timer.tick() => Event::LivenessTick,
                () = stop_requested(&mut self.stop) => Event::Stop,
            };
            let step = match event {
                Event::Local(Some(change)) => self.on_local(change).await,
                Event::Remote(Some(message)) => self.on_message(message.get_payload_bytes()).await,
                Event::Remote(None) => Err(Lost::SubscriptionClosed),
                Event::CursorTick => self.flush().await,
                Event::LivenessTick => self.on_liveness().await,
                Event::Local(None) | Event::Stop => {
                    self.leave().await;
                    return End::Stop;
                }
            };
            if let Err(error) = step {
                return End::Lost {
                    error,
                    was_connected: true,
                };
            }
        }
    }

    /// Subscribes, registers and catches up with every live process.
    async fn start_session(&mut self) -> Result<PubSubStream, Lost> {
        let limit = self.config.command_timeout;
        // Subscribe before registering and reading: every message published after our reads is then
        // sure to reach us, and the ones before are recognised by their numbers.
        let mut pubsub = within(limit, self.client.get_async_pubsub()).await?;
        within(limit, pubsub.subscribe(&self.keys.channel)).await?;
        if self.conn.is_none() {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(limit))
                .set_response_timeout(Some(limit))
                .set_number_of_retries(1)
                .set_max_delay(self.config.reconnect_max_delay);
            let conn = within(
                limit,
                ConnectionManager::new_with_config(self.client.clone(), config),
            )
            .await?;
            self.conn = Some(conn);
        }
        self.register().await?;
        let report = scripts::tick(
            &mut self.conn()?,
            &self.keys,
            self.node,
            self.liveness.dead_after,
        )
        .await?;
        for node in self.on_tick_report(report, true) {
            self.resync(node).await?;
        }
        Ok(pubsub.into_on_message())
    }

    fn conn(&self) -> Result<ConnectionManager, Lost> {
        // Set by `start_session` before any command; a clone shares the one connection.
        self.conn.clone().ok_or(Lost::NoConnection)
    }

    /// Writes this process's whole state under a new epoch, and says hello.
    async fn register(&mut self) -> Result<(), Lost> {
        self.drain_outbox_into_mirror();
        self.outgoing.clear();
        self.epoch = rand::random();
        let fields = self.mirror.dump();
        self.echoes.reset(self.epoch);
        scripts::register(
            &mut self.conn()?,
            &self.keys,
            self.node,
            self.epoch,
            &fields,
        )
        .await?;
        self.note_round_trip();
        Ok(())
    }

    async fn on_local(&mut self, first: ConnChange) -> Result<(), Lost> {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match self.outbox.try_recv() {
                Ok(change) => batch.push(change),
                Err(_) => break,
            }
        }
        match self.outgoing.take_batch(&mut self.mirror, batch) {
            Some(publication) => self.send(publication).await,
            None => Ok(()),
        }
    }

    async fn flush(&mut self) -> Result<(), Lost> {
        match self.outgoing.flush_cursors() {
            Some(publication) => self.send(publication).await,
            None => Ok(()),
        }
    }

    async fn send(&mut self, publication: Publication) -> Result<(), Lost> {
        let sent = Instant::now();
        let result = scripts::publish(
            &mut self.conn()?,
            &self.keys,
            self.node,
            self.epoch,
            &publication,
        )
        .await?;
        self.note_round_trip();
        match result {
            Published::Seq(seq) => {
                if !publication.payloads.is_empty() {
                    self.echoes.published(seq, sent);
                }
                Counters::bump(&self.counters.published, publication.payloads.len() as u64);
                Ok(())
            }
            // What was refused is in the mirror already: registering again writes it.
            Published::Fenced => self.reregister().await,
        }
    }

    async fn reregister(&mut self) -> Result<(), Lost> {
        tracing::warn!(
            node = %self.node,
            "this process was missing from Redis (declared dead after a pause or partition longer than \
             the presence timeout, or Redis lost its data): registering again"
        );
        Counters::bump(&self.counters.reregistrations, 1);
        self.register().await
    }

    async fn on_message(&mut self, bytes: &[u8]) -> Result<(), Lost> {
        let (header, payload) = match wire::decode(bytes) {
            Ok(decoded) => decoded,
            Err(error) => {
                tracing::warn!(node = %self.node, %error, "ignoring a malformed presence message");
                return Ok(());
            }
        };
        if header.node == self.node {
            // Our own message, back: how long the channel took.
            if let Some(lag) = self
                .echoes
                .received(header.epoch, header.seq, Instant::now())
            {
                self.observer.lag(lag);
            }
            return Ok(());
        }
        Counters::bump(&self.counters.received, 1);
        if payload == Payload::Bye {
            self.drop_peer(header.node, "process left");
            return Ok(());
        }
        match self.peers.judge(&header) {
            Verdict::Skip => {}
            Verdict::Resync => self.resync(header.node).await?,
            Verdict::Apply => {
                if let (Payload::Changes { changes }, Some(presence)) =
                    (payload, self.presence.upgrade())
                {
                    for change in changes {
                        if let Err(error) = presence.apply_remote(change) {
                            tracing::warn!(peer = %header.node, %error, "ignoring a bad remote change");
                        }
                    }
                }
                self.peers.applied(&header);
            }
        }
        Ok(())
    }

    /// Re-reads `node`'s hash and makes the engine hold exactly that for it.
    async fn resync(&mut self, node: NodeId) -> Result<(), Lost> {
        Counters::bump(&self.counters.resyncs, 1);
        let stored = scripts::read_node(&mut self.conn()?, &self.keys, node).await?;
        let Some(stored) = stored else {
            self.drop_peer(node, "process no longer registered");
            return Ok(());
        };
        if stored.corrupt > 0 {
            tracing::warn!(peer = %node, fields = stored.corrupt, "ignoring undecodable stored presence");
        }
        if let Some(presence) = self.presence.upgrade()
            && let Err(error) = presence.reconcile_node(node, stored.changes)
        {
            tracing::warn!(peer = %node, %error, "refusing a process's malformed stored presence");
        }
        self.peers.synced(node, stored.epoch, stored.seq);
        self.suspects.remove(&node);
        Ok(())
    }

    async fn on_liveness(&mut self) -> Result<(), Lost> {
        let report = scripts::tick(
            &mut self.conn()?,
            &self.keys,
            self.node,
            self.liveness.dead_after,
        )
        .await?;
        self.note_round_trip();
        if !report.registered {
            self.reregister().await?;
        }
        for node in self.on_tick_report(report, false) {
            self.resync(node).await?;
        }
        if let Some(presence) = self.presence.upgrade() {
            let mut ops = HashOps::new();
            self.mirror.prune(presence.now(), &mut ops);
            self.outgoing.add_ops(ops);
        }
        Ok(())
    }

    /// Removes the processes that are gone; returns the live ones to read. At (re)connection every live
    /// process is read, and known processes missing from Redis only become suspects (Redis may have
    /// restarted empty, and they are about to register again).
    fn on_tick_report(&mut self, report: TickReport, connecting: bool) -> Vec<NodeId> {
        let now = Instant::now();
        for node in report.reaped {
            if node != self.node {
                self.drop_peer(node, "process declared dead (liveness expired)");
            }
        }
        let live: HashSet<NodeId> = report.live.into_iter().collect();
        for node in self.peers.nodes() {
            if live.contains(&node) {
                continue;
            }
            if connecting {
                let deadline = now + self.liveness.dead_after;
                self.suspects.entry(node).or_insert(deadline);
            } else if self.suspects.get(&node).is_none_or(|&d| d <= now) {
                self.drop_peer(node, "process gone from Redis");
            }
        }
        live.into_iter()
            .filter(|&n| n != self.node && (connecting || !self.peers.knows(n)))
            .collect()
    }

    /// Removes this process from Redis (best effort: on failure, the others reap it after the timeout).
    async fn leave(&mut self) {
        let Ok(mut conn) = self.conn() else { return };
        let left = within(
            self.config.command_timeout,
            scripts::leave(&mut conn, &self.keys, self.node, self.epoch),
        )
        .await;
        if let Err(error) = left {
            tracing::warn!(node = %self.node, %error, "could not remove this process from Redis");
        }
    }
}

/// A timer that first fires one period from now, and skips ticks it missed.
fn ticker(period: Duration) -> tokio::time::Interval {
    let mut timer = interval_at(Instant::now() + period, period);
    timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    timer
}

/// `fut`, or [`Lost::Timeout`] after `limit`.
async fn within<T, E: Into<Lost>>(
    limit: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, Lost> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(Lost::Timeout(limit)),
    }
}
