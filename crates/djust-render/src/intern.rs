//! Shared map keys: the keys of template maps (`name`, `color`, `id`, …) as one `Arc<str>`
//! per distinct key and thread instead of one allocation per map.
//!
//! Why: every present user has a template value of their record, a map of about ten entries
//! whose keys are the same for everyone; each key was a 32-byte allocation of its own, about
//! 0.3 KiB per user. Per thread, so that converting a context takes no lock; bounded, so
//! that a client inventing keys (in its presence meta, say) cannot grow it: once full, or for
//! a long key, a key is allocated as before.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

/// Distinct keys kept per thread, at most.
const MAX_KEYS: usize = 1024;
/// Longer keys are not kept.
const MAX_KEY_LEN: usize = 32;

thread_local! {
    static KEYS: RefCell<HashSet<Arc<str>>> = RefCell::new(HashSet::new());
}

/// `key` as an `Arc<str>`, shared with earlier maps of this thread when it is short: for
/// the keys of template maps and contexts.
///
/// ```
/// let (a, b) = (djust_render::intern("name"), djust_render::intern("name"));
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// ```
pub fn intern(key: &str) -> Arc<str> {
    if key.len() > MAX_KEY_LEN {
        return Arc::from(key);
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(k) = keys.get(key) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(key);
        if keys.len() < MAX_KEYS {
            keys.insert(k.clone());
        }
        k
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_shared_and_long_ones_are_not() {
        let (a, b) = (intern("color"), intern("color"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "color");
        let long = "k".repeat(MAX_KEY_LEN + 1);
        assert!(!Arc::ptr_eq(&intern(&long), &intern(&long)));
    }

    #[test]
    fn the_table_is_bounded() {
        std::thread::spawn(|| {
            for i in 0..MAX_KEYS + 100 {
                let _ = intern(&format!("k{i}"));
            }
            KEYS.with(|keys| assert_eq!(keys.borrow().len(), MAX_KEYS));
            // Beyond the bound a key is still right, only not shared.
            let (a, b) = (intern("new-one"), intern("new-one"));
            assert_eq!((&*a, &*b), ("new-one", "new-one"));
            assert!(!Arc::ptr_eq(&a, &b));
        })
        .join()
        .unwrap();
    }
}
