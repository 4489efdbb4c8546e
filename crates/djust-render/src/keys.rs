//! Keyed list diff: which old keys are gone, and which kept items must move.
//!
//! The client applies a loop diff as: remove `del`, take out every kept item that moves,
//! then insert (new items and moved ones) at their final index in increasing order. The
//! items that stay are a longest increasing subsequence of the kept items' old positions,
//! so a single move costs one entry, not a shift of everything after it.

use crate::keyhash::KeyMap;

/// The result of [`diff_keys`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyedDiff {
    /// Old keys absent from the new list, in old order.
    pub(crate) removed: Vec<u64>,
    /// New indices of kept items that move (are not in the stable subsequence).
    pub(crate) placed: Vec<usize>,
}

/// Diffs two key lists (keys are unique within each list).
///
/// The common prefix and suffix are trimmed first, so the usual changes of a big list — one
/// item joined at the end, one left from the middle — cost a scan, not a hash map of every key.
pub(crate) fn diff_keys(old: &[u64], new: &[u64]) -> KeyedDiff {
    let (prefix, suffix) = common_ends(old, new);
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    let mut d = diff_middle(old_mid, new_mid);
    for i in &mut d.placed {
        *i += prefix;
    }
    d
}

/// Lengths of the longest common prefix and (not overlapping it) suffix of `a` and `b`.
pub(crate) fn common_ends(a: &[u64], b: &[u64]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    (prefix, suffix)
}

fn diff_middle(old: &[u64], new: &[u64]) -> KeyedDiff {
    if old.is_empty() {
        return KeyedDiff::default();
    }
    if new.is_empty() {
        return KeyedDiff {
            removed: old.to_vec(),
            placed: Vec::new(),
        };
    }
    let old_pos: KeyMap<usize> = old.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let new_set: KeyMap<usize> = new.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let removed = old
        .iter()
        .filter(|k| !new_set.contains_key(k))
        .copied()
        .collect();
    // Kept items in new order, with their old positions.
    let kept: Vec<(usize, usize)> = new
        .iter()
        .enumerate()
        .filter_map(|(ni, k)| old_pos.get(k).map(|oi| (ni, *oi)))
        .collect();
    let olds: Vec<usize> = kept.iter().map(|(_, o)| *o).collect();
    let stable = longest_increasing(&olds);
    let mut is_stable = vec![false; kept.len()];
    for i in stable {
        is_stable[i] = true;
    }
    let placed = kept
        .iter()
        .zip(is_stable)
        .filter(|(_, s)| !s)
        .map(|((ni, _), _)| *ni)
        .collect();
    KeyedDiff { removed, placed }
}

/// Indices (into `seq`) of one longest strictly increasing subsequence, O(n log n).
fn longest_increasing(seq: &[usize]) -> Vec<usize> {
    // tails[l] = index in seq of the smallest tail of an increasing run of length l + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; seq.len()];
    for (i, &v) in seq.iter().enumerate() {
        let pos = tails.partition_point(|&t| seq[t] < v);
        prev[i] = pos.checked_sub(1).map(|p| tails[p]);
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut cur = tails.last().copied();
    while let Some(i) = cur {
        out.push(i);
        cur = prev[i];
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a diff the way the client does and returns the resulting key list.
    fn apply(old: &[u64], new: &[u64], d: &KeyedDiff) -> Vec<u64> {
        let moving: Vec<u64> = d.placed.iter().map(|i| new[*i]).collect();
        let mut list: Vec<u64> = old
            .iter()
            .filter(|k| !d.removed.contains(k) && !moving.contains(k))
            .copied()
            .collect();
        for (i, k) in new.iter().enumerate() {
            if !old.contains(k) || moving.contains(k) {
                list.insert(i, *k);
            }
        }
        list
    }

    #[test]
    fn one_move_costs_one_entry() {
        let old = [1, 2, 3, 4, 5];
        let new = [2, 3, 4, 5, 1];
        let d = diff_keys(&old, &new);
        assert_eq!(d.placed, [4]);
        assert!(d.removed.is_empty());
        assert_eq!(apply(&old, &new, &d), new);
    }

    #[test]
    fn inserts_removals_and_shuffles_reach_the_new_order() {
        let cases: &[(&[u64], &[u64])] = &[
            (&[], &[1, 2]),
            (&[1, 2], &[]),
            (&[1, 2, 3], &[3, 2, 1]),
            (&[1, 2, 3, 4], &[9, 4, 1, 8, 3]),
            (&[5, 6, 7], &[5, 7]),
            (&[1, 2, 3], &[1, 2, 3, 4]),
        ];
        for (old, new) in cases {
            let d = diff_keys(old, new);
            assert_eq!(apply(old, new, &d), *new, "{old:?} -> {new:?}");
        }
        assert_eq!(
            diff_keys(&[1, 2, 3], &[1, 2, 3, 4]).placed,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn trimmed_ends_keep_indices_and_reach_the_new_order() {
        // A move inside a long list with equal ends: the placed index is in the whole list.
        let old: Vec<u64> = (0..100).collect();
        let mut new = old.clone();
        new.swap(40, 60);
        let d = diff_keys(&old, &new);
        assert!(
            d.placed.iter().all(|i| (40..=60).contains(i)),
            "{:?}",
            d.placed
        );
        assert_eq!(apply(&old, &new, &d), new);
        // Pseudo-random edits of lists sharing ends.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for _ in 0..300 {
            let old: Vec<u64> = (0..(next() % 12)).collect();
            let mut new: Vec<u64> = old.iter().copied().filter(|_| next() % 4 != 0).collect();
            for _ in 0..(next() % 3) {
                let at = (next() as usize) % (new.len() + 1);
                new.insert(at, 100 + next() % 1000);
            }
            new.dedup();
            let mut seen = std::collections::HashSet::new();
            new.retain(|k| seen.insert(*k));
            if new.len() > 2 && next() % 2 == 0 {
                let (a, b) = ((next() as usize) % new.len(), (next() as usize) % new.len());
                new.swap(a, b);
            }
            let d = diff_keys(&old, &new);
            assert_eq!(apply(&old, &new, &d), new, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn common_ends_do_not_overlap() {
        assert_eq!(common_ends(&[1, 2, 1], &[1, 2, 1]), (3, 0));
        assert_eq!(common_ends(&[1, 1], &[1, 1, 1]), (2, 0));
        assert_eq!(common_ends(&[1, 2, 3], &[1, 9, 3]), (1, 1));
        assert_eq!(common_ends(&[], &[4]), (0, 0));
    }

    #[test]
    fn lis_is_longest() {
        assert_eq!(longest_increasing(&[3, 1, 2, 5, 4]).len(), 3);
        assert_eq!(longest_increasing(&[]), Vec::<usize>::new());
        assert_eq!(longest_increasing(&[4, 3, 2]).len(), 1);
    }
}
