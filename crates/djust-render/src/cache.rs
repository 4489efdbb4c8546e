//! Rendered loop items shared by every connection: a join in a room of N is one new item that N
//! viewers render — the same output for all of them, since an item's fingerprint covers
//! everything its output depends on (the item's value, the root entries the loop body reads,
//! its position when the body reads `loop.*`). The first viewer renders it; the others copy
//! the result.
//!
//! Only items of loops at the top level (not inside another loop's item) are cached: a nested
//! loop's body may read the outer loop's variables, which its fingerprint does not cover.
//!
//! Bounded: each of the [`SHARDS`] shards keeps two generations of at most [`PER_SHARD`]
//! entries; when the current one is full it becomes the old one and the previous old one is
//! dropped, and a hit in the old generation moves the entry back to the current one. So what is
//! used survives (the items of a big room, rendered again by each viewer that mounts), what is
//! not goes within two generations, and the cache never holds more than
//! 2 × [`SHARDS`] × [`PER_SHARD`] items — an unbounded cache keyed by content would grow with
//! every edit, and a large one is memory every process carries (it was 32,768 items, ~20 MB in
//! the `idle` benchmark's rooms, before it had generations).

use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value as Json;

use crate::keyhash::KeyMap;

const SHARDS: usize = 16;
const PER_SHARD: usize = 256;

/// One rendered item.
#[derive(Debug)]
pub(crate) struct CachedItem {
    /// The item's dynamics.
    pub(crate) dyns: Vec<Json>,
    /// Its first marker (0 = none).
    pub(crate) mark: u64,
    /// The nested blocks its dynamics use, with their statics (shared with the compiled
    /// template): a connection that has not had them yet is sent them, as if it had rendered
    /// the item itself.
    pub(crate) nested: Vec<(u32, crate::render::Statics)>,
}

/// One shard: the current generation and the one before it.
#[derive(Debug, Default)]
struct Generations {
    current: KeyMap<Arc<CachedItem>>,
    old: KeyMap<Arc<CachedItem>>,
}

impl Generations {
    fn insert(&mut self, key: u64, item: Arc<CachedItem>) {
        if self.current.len() >= PER_SHARD {
            self.old = std::mem::take(&mut self.current);
        }
        self.current.insert(key, item);
    }
}

type Shard = Mutex<Generations>;

/// Rendered items by `(fingerprint, loop body)`.
#[derive(Debug)]
pub(crate) struct ItemCache {
    shards: Box<[Shard]>,
}

impl Default for ItemCache {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Generations::default()))
                .collect(),
        }
    }
}

impl ItemCache {
    fn shard(&self, key: u64) -> &Shard {
        // The key is a hash already; its top bits pick the shard.
        &self.shards[(key >> 60) as usize % SHARDS]
    }

    pub(crate) fn get(&self, key: u64) -> Option<Arc<CachedItem>> {
        let mut shard = self.shard(key).lock();
        if let Some(hit) = shard.current.get(&key) {
            return Some(hit.clone());
        }
        // Still in use: back into the current generation.
        let hit = shard.old.remove(&key)?;
        shard.insert(key, hit.clone());
        Some(hit)
    }

    pub(crate) fn insert(&self, key: u64, item: Arc<CachedItem>) {
        self.shard(key).lock().insert(key, item);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock();
                s.current.len() + s.old.len()
            })
            .sum()
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

    /// `n` pseudo-random keys (an LCG from `seed`): spread over every shard.
    fn keys(seed: u64, n: usize) -> impl Iterator<Item = u64> {
        std::iter::successors(Some(seed), |x| {
            Some(
                x.wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407),
            )
        })
        .skip(1)
        .take(n)
    }

    #[test]
    fn hits_what_was_inserted_and_stays_bounded() {
        let cache = ItemCache::default();
        cache.insert(42, item(1));
        assert_eq!(cache.get(42).map(|i| i.mark), Some(1));
        assert!(cache.get(43).is_none());
        // Far more keys than the bound: the cache never holds more than its capacity.
        for x in keys(1, SHARDS * PER_SHARD * 3) {
            cache.insert(x, item(0));
        }
        assert!(cache.len() <= 2 * SHARDS * PER_SHARD);
    }

    #[test]
    fn an_item_in_use_survives_any_number_of_other_inserts() {
        let cache = ItemCache::default();
        cache.insert(7, item(7));
        for (n, x) in keys(1, SHARDS * PER_SHARD * 8).enumerate() {
            cache.insert(x, item(0));
            // Read now and then (a viewer mounting): it stays.
            if n % 64 == 0 {
                assert_eq!(cache.get(7).map(|i| i.mark), Some(7), "lost after {n}");
            }
        }
        // Unused, it goes within two generations of its shard.
        for x in keys(99, SHARDS * PER_SHARD * 8) {
            cache.insert(x, item(0));
        }
        assert!(cache.get(7).is_none());
    }
}
