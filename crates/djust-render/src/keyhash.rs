//! Hash maps and sets of loop keys.
//!
//! Loop keys and fingerprints are 64-bit hashes already, so running them through SipHash
//! again (the std default) only costs time: a keyed diff of a 1000-item list did three SipHash
//! passes per render. They are not trusted either — they derive from user content with a
//! fixed-key hash — so the hasher folds in a per-process random seed before it multiplies:
//! colliding buckets cannot be precomputed from outside.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::OnceLock;

/// A map from loop keys.
pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;
/// A set of loop keys.
pub(crate) type KeySet = HashSet<u64, BuildHasherDefault<KeyHasher>>;

fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| RandomState::new().build_hasher().finish())
}

/// Hashes one `u64` (a key that is a hash already) with the process seed.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        // MurmurHash3's fmix64: every input bit reaches every output bit (hashbrown takes the
        // bucket from the low bits and the tag from the high ones).
        let mut x = self.0 ^ seed();
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; anything else still hashes correctly.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, k: u64) {
        self.0 ^= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_find_their_values_and_sets_dedupe() {
        let mut m = KeyMap::default();
        for k in 0..1000u64 {
            m.insert(k.wrapping_mul(0x1000_0000_0000), k);
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(&(7u64.wrapping_mul(0x1000_0000_0000))), Some(&7));
        let mut s = KeySet::default();
        assert!(s.insert(42));
        assert!(!s.insert(42));
    }

    #[test]
    fn distinct_keys_spread_over_buckets() {
        // Keys differing only in their high bits still get distinct low bits (bucket indices).
        let low: HashSet<u64> = (0..256u64)
            .map(|k| {
                let mut h = KeyHasher::default();
                h.write_u64(k << 56);
                h.finish() & 0xff
            })
            .collect();
        assert!(low.len() > 128, "only {} of 256 buckets used", low.len());
    }
}
