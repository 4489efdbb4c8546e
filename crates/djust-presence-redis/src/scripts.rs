//! Every Redis operation the backend performs. Multi-step updates are Lua scripts, so they are atomic:
//! a hash write and the messages announcing it are one step, and two processes reaping the same dead
//! process cannot both do it.
//!
//! Time is Redis's (`TIME`, allowed in scripts since Redis 5's effect replication): liveness never
//! depends on the processes' clocks agreeing.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use djust_presence::{ConnChange, NodeId};
use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};

use crate::config::duration_ms;
use crate::keys::Keys;
use crate::mirror::is_meta_field;
use crate::outgoing::Publication;
use crate::wire::{BYE_JSON, HELLO_JSON};

/// `KEYS[1]` nodes, `KEYS[2]` own hash; `ARGV`: node, epoch, channel, hello payload, then field/value
/// pairs. Registers (or re-registers) the process: liveness now, the hash written from scratch under the
/// new epoch with `~seq` 0, and a hello so that everyone re-reads it.
static REGISTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], '~epoch', ARGV[2], '~seq', 0)
for i = 5, #ARGV - 1, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('PUBLISH', ARGV[3], ARGV[1] .. ' ' .. ARGV[2] .. ' 0 ' .. ARGV[4])
return 0
",
    )
});

/// `KEYS[1]` nodes, `KEYS[2]` own hash; `ARGV`: node, epoch, channel, n, n payloads, then field/value
/// pairs (an empty value deletes). Refuses (-1) if the process is no longer registered under this epoch
/// (declared dead meanwhile, or Redis lost its data): it must register again. Otherwise writes the
/// fields, publishes each payload under the next `~seq`, and returns the last one.
static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
if redis.call('HGET', KEYS[2], '~epoch') ~= ARGV[2] then return -1 end
local n = tonumber(ARGV[4])
for i = 5 + n, #ARGV - 1, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[2], ARGV[i])
  else
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
local seq = tonumber(redis.call('HGET', KEYS[2], '~seq'))
for i = 5, 4 + n do
  seq = redis.call('HINCRBY', KEYS[2], '~seq', 1)
  redis.call('PUBLISH', ARGV[3], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. seq .. ' ' .. ARGV[i])
end
return seq
",
    )
});

/// `KEYS[1]` nodes; `ARGV`: node, dead-after in ms, hash key prefix. Refreshes this process's liveness (if
/// it is still registered), removes every process silent for longer than dead-after together with its
/// hash, and returns `{registered, live nodes, reaped nodes}`.
static TICK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local registered = 0
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  registered = 1
end
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
for _, node in ipairs(dead) do
  redis.call('ZREM', KEYS[1], node)
  redis.call('DEL', ARGV[3] .. node)
end
return {registered, redis.call('ZRANGE', KEYS[1], 0, -1), dead}
",
    )
});

/// `KEYS[1]` nodes, `KEYS[2]` own hash; `ARGV`: node, epoch, channel, bye payload. A clean exit.
static LEAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[3], ARGV[1] .. ' ' .. ARGV[2] .. ' 0 ' .. ARGV[4])
return 0
",
    )
});

/// What a [`publish`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Published {
    /// Written; the last message's number.
    Seq(u64),
    /// Refused: this process is not registered under its epoch any more.
    Fenced,
}

/// What a [`tick`] found.
#[derive(Debug)]
pub(crate) struct TickReport {
    /// Whether this process was still registered (if not, it must register again).
    pub registered: bool,
    /// Every registered process, this one included if registered.
    pub live: Vec<NodeId>,
    /// The processes this tick declared dead.
    pub reaped: Vec<NodeId>,
}

/// A process's hash as read back.
#[derive(Debug)]
pub(crate) struct Stored {
    pub epoch: u64,
    pub seq: u64,
    /// Every stored change list, flattened.
    pub changes: Vec<ConnChange>,
    /// Fields that did not decode (logged by the caller).
    pub corrupt: usize,
}

pub(crate) async fn register(
    conn: &mut ConnectionManager,
    keys: &Keys,
    node: NodeId,
    epoch: u64,
    fields: &[(String, String)],
) -> RedisResult<()> {
    let mut call = REGISTER.prepare_invoke();
    call.key(&keys.nodes)
        .key(keys.node(node))
        .arg(node.to_string())
        .arg(epoch)
        .arg(&keys.channel)
        .arg(HELLO_JSON);
    for (field, value) in fields {
        call.arg(field).arg(value);
    }
    call.invoke_async(conn).await
}

pub(crate) async fn publish(
    conn: &mut ConnectionManager,
    keys: &Keys,
    node: NodeId,
    epoch: u64,
    publication: &Publication,
) -> RedisResult<Published> {
    let mut call = PUBLISH.prepare_invoke();
    call.key(&keys.nodes)
        .key(keys.node(node))
        .arg(node.to_string())
        .arg(epoch)
        .arg(&keys.channel)
        .arg(publication.payloads.len());
    for payload in &publication.payloads {
        call.arg(payload);
    }
    for (field, value) in &publication.ops {
        call.arg(field).arg(value);
    }
    let seq: i64 = call.invoke_async(conn).await?;
    Ok(u64::try_from(seq).map_or(Published::Fenced, Published::Seq))
}

pub(crate) async fn tick(
    conn: &mut ConnectionManager,
    keys: &Keys,
    node: NodeId,
    dead_after: Duration,
) -> RedisResult<TickReport> {
    let (registered, live, reaped): (i64, Vec<String>, Vec<String>) = TICK
        .key(&keys.nodes)
        .arg(node.to_string())
        .arg(duration_ms(dead_after))
        .arg(&keys.node_prefix)
        .invoke_async(conn)
        .await?;
    Ok(TickReport {
        registered: registered == 1,
        live: parse_nodes(live),
        reaped: parse_nodes(reaped),
    })
}

pub(crate) async fn leave(
    conn: &mut ConnectionManager,
    keys: &Keys,
    node: NodeId,
    epoch: u64,
) -> RedisResult<()> {
    LEAVE
        .key(&keys.nodes)
        .key(keys.node(node))
        .arg(node.to_string())
        .arg(epoch)
        .arg(&keys.channel)
        .arg(BYE_JSON)
        .invoke_async(conn)
        .await
}

/// Reads `node`'s hash; `None` if it has none (never registered, left, or reaped).
pub(crate) async fn read_node(
    conn: &mut ConnectionManager,
    keys: &Keys,
    node: NodeId,
) -> RedisResult<Option<Stored>> {
    let fields: HashMap<String, String> = redis::cmd("HGETALL")
        .arg(keys.node(node))
        .query_async(conn)
        .await?;
    Ok(decode_stored(fields))
}

fn decode_stored(fields: HashMap<String, String>) -> Option<Stored> {
    let number = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
    let (epoch, seq) = (number("~epoch")?, number("~seq")?);
    let mut stored = Stored {
        epoch,
        seq,
        changes: Vec::new(),
        corrupt: 0,
    };
    for (field, value) in &fields {
        if is_meta_field(field) {
            continue;
        }
        match serde_json::from_str::<Vec<ConnChange>>(value) {
            Ok(changes) => stored.changes.extend(changes),
            Err(_) => stored.corrupt += 1,
        }
    }
    Some(stored)
}

fn parse_nodes(raw: Vec<String>) -> Vec<NodeId> {
    raw.into_iter()
        .filter_map(|n| match n.parse() {
            Ok(node) => Some(node),
            Err(_) => {
                tracing::warn!(member = %n, "ignoring a malformed member of the presence node set");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_without_its_bookkeeping_is_no_node() {
        assert!(decode_stored(HashMap::new()).is_none());
        let mut fields = HashMap::new();
        fields.insert("~epoch".to_owned(), "5".to_owned());
        assert!(decode_stored(fields.clone()).is_none());
        fields.insert("~seq".to_owned(), "9".to_owned());
        fields.insert("e:x".to_owned(), "not json".to_owned());
        let stored = decode_stored(fields).unwrap();
        assert_eq!((stored.epoch, stored.seq, stored.corrupt), (5, 9, 1));
        assert!(stored.changes.is_empty());
    }
}
