//! Rendered loop items shared by every connection: a join in a room of N is one new item that N
//! viewers render — the same output for all of them, since an item's fingerprint covers
//! everything its output depends on (the item's value, the root entries the loop body reads,
//! its position when the body reads `loop.*`). The first viewer renders it; the others copy
//! the result.
//!
//! Only items of loops at the top level (not inside another loop's item) are cached: a nested
//! loop's body may read the outer loop's variables, which its fingerprint does not cover.
//!
//! Bounded: [`SHARDS`] × [`PER_SHARD`] entries; a full shard is cleared (the entries are cheap
//! to recompute, and an unbounded cache keyed by content would grow with every edit).

use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value as Json;

use crate::keyhash::KeyMap;

const SHARDS: usize = 16;
const PER_SHARD: usize = 2048;

/// One rendered item.
#[derive(Debug)]
pub(crate) struct CachedItem {
    /// The item's dynamics.
    pub(crate) dyns: Vec<Json>,
    /// Its first marker (0 = none).
    pub(crate) mark: u64,
    /// The nested blocks its dynamics use, with their statics: a connection that has not had
    /// them yet is sent them, as if it had rendered the item itself.
    pub(crate) nested: Vec<(u32, Json)>,
}

type Shard = Mutex<KeyMap<Arc<CachedItem>>>;

/// Rendered items by `(fingerprint, loop body)`.
#[derive(Debug)]
pub(crate) struct ItemCache {
    shards: Box<[Shard]>,
}

impl Default for ItemCache {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(KeyMap::default())).collect(),
        }
    }
}

impl ItemCache {
    fn shard(&self, key: u64) -> &Shard {
        // The key is a hash already; its top bits pick the shard.
        &self.shards[(key >> 60) as usize % SHARDS]
    }

    pub(crate) fn get(&self, key: u64) -> Option<Arc<CachedItem>> {
        self.shard(key).lock().get(&key).cloned()
    }

    pub(crate) fn insert(&self, key: u64, item: Arc<CachedItem>) {
        let mut shard = self.shard(key).lock();
        if shard.len() >= PER_SHARD {
            shard.clear();
        }
        shard.insert(key, item);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u64) -> Arc<CachedItem> {
        Arc::new(CachedItem {
            dyns: vec![Json::from(n)],
            mark: n,
            nested: Vec::new(),
        })
    }

    #[test]
    fn hits_what_was_inserted_and_stays_bounded() {
        let cache = ItemCache::default();
        cache.insert(42, item(1));
        assert_eq!(cache.get(42).map(|i| i.mark), Some(1));
        assert!(cache.get(43).is_none());
        // Far more keys than the bound: the cache never holds more than its capacity.
        let mut x = 1u64;
        for _ in 0..(SHARDS * PER_SHARD * 3) {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            cache.insert(x, item(0));
        }
        assert!(cache.len() <= SHARDS * PER_SHARD);
    }
}
