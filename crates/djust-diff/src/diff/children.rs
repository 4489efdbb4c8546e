//! Diff of one child list: match old and new siblings, then emit structural ops.
//!
//! Matching, in order of preference:
//! 1. Myers diff over sibling identities (`dj-key`/`id` for keyed elements, the subtree hash
//!    otherwise) finds the longest run of siblings that stayed in order;
//! 2. keyed siblings that changed position are matched by key (they become moves);
//! 3. in each stretch between unchanged siblings, unkeyed siblings are paired in order by
//!    node type and tag (a second Myers pass over those signatures); pairs are patched in place.
//!
//! Emission: matched siblings on a longest increasing subsequence stay; the other matched ones
//! are moved, unmatched new ones inserted (consecutive ones as one op, replacing an adjacent
//! doomed old node when there is one), then the remaining unmatched old ones removed. Finally
//! each matched pair is diffed recursively, with the list now in its final order.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use similar::{Algorithm, DiffOp, capture_diff_slices};

use super::lis::longest_increasing;
use super::{Differ, compatible, to_u32};
use crate::op::Op;
use crate::tree::{NodeData, NodeId, Tree, hash_state};

impl Differ<'_> {
    /// Diffs the child lists `old_ids` → `new_ids` of the node at `self.path`.
    pub(super) fn children(&mut self, old_ids: &[NodeId], new_ids: &[NodeId]) {
        if old_ids.is_empty() && new_ids.is_empty() {
            return;
        }
        let matching = Matching::compute(self.old, old_ids, self.new, new_ids);
        self.place(old_ids, new_ids, &matching);
        for (j, &n) in new_ids.iter().enumerate() {
            if let Some(o) = matching.new_to_old[j] {
                self.path.push(to_u32(j));
                self.node(old_ids[o], n);
                self.path.pop();
            }
        }
    }

    /// Emits moves, inserts, replaces and removes that put the children in their final order.
    fn place(&mut self, old_ids: &[NodeId], new_ids: &[NodeId], matching: &Matching) {
        let matched: Vec<usize> = (0..new_ids.len())
            .filter(|&j| matching.new_to_old[j].is_some())
            .collect();
        let olds: Vec<usize> = matched
            .iter()
            .filter_map(|&j| matching.new_to_old[j])
            .collect();
        let mut stays = vec![false; new_ids.len()];
        for (&j, keep) in matched.iter().zip(longest_increasing(&olds)) {
            stays[j] = keep;
        }

        let mut list = SiblingList::new(old_ids.len());
        // Walk the new list right to left, placing each node before the previously placed one.
        let mut anchor: Option<Slot> = None;
        let mut run: Option<(usize, usize)> = None;
        for j in (0..new_ids.len()).rev() {
            match matching.new_to_old[j] {
                None => run = Some((j, run.map_or(j, |(_, end)| end))),
                Some(o) => {
                    if let Some(run) = run.take() {
                        anchor = Some(self.insert_run(&mut list, run, anchor, new_ids, matching));
                    }
                    if !stays[j] {
                        self.move_before(&mut list, o, anchor);
                    }
                    anchor = Some(Slot::Old(o));
                }
            }
        }
        if let Some(run) = run {
            self.insert_run(&mut list, run, anchor, new_ids, matching);
        }
        self.remove_unmatched(&mut list, matching);
    }

    /// Inserts new nodes `new_ids[start..=end]` right before `anchor`; returns the new anchor.
    fn insert_run(
        &mut self,
        list: &mut SiblingList,
        (start, end): (usize, usize),
        anchor: Option<Slot>,
        new_ids: &[NodeId],
        matching: &Matching,
    ) -> Slot {
        let at = list.position(anchor);
        let html = self.html_of(new_ids[start..=end].iter().copied());
        let slots = (start..=end).map(Slot::New);
        let doomed_before = at
            .checked_sub(1)
            .is_some_and(|p| matches!(list.slots[p], Slot::Old(o) if !matching.old_matched[o]));
        if doomed_before {
            self.ops.push(Op::Replace {
                path: self.at(at - 1),
                html,
            });
            list.slots.splice(at - 1..at, slots);
        } else {
            self.ops.push(Op::Insert {
                path: self.at(at),
                html,
            });
            list.slots.splice(at..at, slots);
        }
        Slot::New(start)
    }

    fn move_before(&mut self, list: &mut SiblingList, o: usize, anchor: Option<Slot>) {
        let from = list.position(Some(Slot::Old(o)));
        list.slots.remove(from);
        let to = list.position(anchor);
        list.slots.insert(to, Slot::Old(o));
        self.ops.push(Op::Move {
            from: self.at(from),
            to: to_u32(to),
        });
    }

    /// Removes the old nodes nobody matched, last first so earlier indices stay valid.
    fn remove_unmatched(&mut self, list: &mut SiblingList, matching: &Matching) {
        let doomed = |slot: &Slot| matches!(slot, Slot::Old(o) if !matching.old_matched[*o]);
        let mut end = list.slots.len();
        while end > 0 {
            if !doomed(&list.slots[end - 1]) {
                end -= 1;
                continue;
            }
            let mut start = end - 1;
            while start > 0 && doomed(&list.slots[start - 1]) {
                start -= 1;
            }
            self.ops.push(Op::Remove {
                path: self.at(start),
                count: to_u32(end - start),
            });
            list.slots.drain(start..end);
            end = start;
        }
    }
}

/// A sibling in the simulated DOM list: an old child (by old index) or an inserted new one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Old(usize),
    New(usize),
}

/// The parent's child list as it stands after the ops emitted so far, to compute indices.
struct SiblingList {
    slots: Vec<Slot>,
}

impl SiblingList {
    fn new(old_len: usize) -> Self {
        Self {
            slots: (0..old_len).map(Slot::Old).collect(),
        }
    }

    /// Index of `slot`, or the list length for `None` (append). Slots are always present.
    fn position(&self, slot: Option<Slot>) -> usize {
        slot.and_then(|s| self.slots.iter().rposition(|&x| x == s))
            .unwrap_or(self.slots.len())
    }
}

/// Which old sibling (by index) each new sibling is patched from.
struct Matching {
    new_to_old: Vec<Option<usize>>,
    old_matched: Vec<bool>,
}

impl Matching {
    fn compute(old: &Tree, old_ids: &[NodeId], new: &Tree, new_ids: &[NodeId]) -> Matching {
        let (old_keys, new_keys) = sibling_keys(old, old_ids, new, new_ids);
        let identity = |tree: &Tree, id: NodeId, key: Option<&str>| match key {
            Some(key) => keyed_identity(tree, id, key),
            None => tree.node(id).hash,
        };
        let old_identity: Vec<u64> = old_ids
            .iter()
            .zip(&old_keys)
            .map(|(&id, key)| identity(old, id, *key))
            .collect();
        let new_identity: Vec<u64> = new_ids
            .iter()
            .zip(&new_keys)
            .map(|(&id, key)| identity(new, id, *key))
            .collect();

        let mut m = Matching {
            new_to_old: vec![None; new_ids.len()],
            old_matched: vec![false; old_ids.len()],
        };
        let ctx = Ctx {
            old,
            old_ids,
            new,
            new_ids,
            old_keys: &old_keys,
            new_keys: &new_keys,
        };
        let mut gaps = Vec::new();
        let mut gap: Option<(usize, usize, usize, usize)> = None;
        for op in capture_diff_slices(Algorithm::Myers, &old_identity, &new_identity) {
            let (old_range, new_range) = (op.old_range(), op.new_range());
            if let DiffOp::Equal {
                old_index,
                new_index,
                len,
            } = op
            {
                gaps.extend(gap.take());
                for k in 0..len {
                    let (o, n) = (old_index + k, new_index + k);
                    // Identities are hashes: confirm before trusting them.
                    if old_keys[o] == new_keys[n] && compatible(old, old_ids[o], new, new_ids[n]) {
                        m.pair(o, n);
                    }
                }
            } else {
                let (os, _, ns, _) = gap.unwrap_or((old_range.start, 0, new_range.start, 0));
                gap = Some((os, old_range.end, ns, new_range.end));
            }
        }
        gaps.extend(gap);
        m.match_moved_keys(&ctx);
        for (os, oe, ns, ne) in gaps {
            m.pair_by_signature(&ctx, os..oe, ns..ne);
        }
        m
    }

    fn pair(&mut self, o: usize, n: usize) {
        self.new_to_old[n] = Some(o);
        self.old_matched[o] = true;
    }

    /// Matches keyed siblings that are not in the unchanged run (they moved, or their
    /// neighbours changed).
    fn match_moved_keys(&mut self, ctx: &Ctx<'_>) {
        if !ctx.new_keys.iter().any(Option::is_some) {
            return;
        }
        let by_key: HashMap<&str, usize> = ctx
            .old_keys
            .iter()
            .enumerate()
            .filter(|&(o, _)| !self.old_matched[o])
            .filter_map(|(o, key)| key.map(|k| (k, o)))
            .collect();
        for (n, key) in ctx.new_keys.iter().enumerate() {
            if self.new_to_old[n].is_some() {
                continue;
            }
            if let Some(&o) = key.and_then(|k| by_key.get(k))
                && compatible(ctx.old, ctx.old_ids[o], ctx.new, ctx.new_ids[n])
            {
                self.pair(o, n);
            }
        }
    }

    /// Pairs unkeyed, unmatched siblings of one changed stretch in order by node type and tag.
    fn pair_by_signature(
        &mut self,
        ctx: &Ctx<'_>,
        olds: std::ops::Range<usize>,
        news: std::ops::Range<usize>,
    ) {
        let free_old: Vec<usize> = olds
            .filter(|&o| !self.old_matched[o] && ctx.old_keys[o].is_none())
            .collect();
        let free_new: Vec<usize> = news
            .filter(|&n| self.new_to_old[n].is_none() && ctx.new_keys[n].is_none())
            .collect();
        if free_old.is_empty() || free_new.is_empty() {
            return;
        }
        let old_sig: Vec<u64> = free_old
            .iter()
            .map(|&o| signature(ctx.old, ctx.old_ids[o]))
            .collect();
        let new_sig: Vec<u64> = free_new
            .iter()
            .map(|&n| signature(ctx.new, ctx.new_ids[n]))
            .collect();
        for op in capture_diff_slices(Algorithm::Myers, &old_sig, &new_sig) {
            if let DiffOp::Equal {
                old_index,
                new_index,
                len,
            } = op
            {
                for k in 0..len {
                    let (o, n) = (free_old[old_index + k], free_new[new_index + k]);
                    if compatible(ctx.old, ctx.old_ids[o], ctx.new, ctx.new_ids[n]) {
                        self.pair(o, n);
                    }
                }
            }
        }
    }
}

/// Both sibling lists with their usable keys, borrowed together for the matching passes.
struct Ctx<'a> {
    old: &'a Tree,
    old_ids: &'a [NodeId],
    new: &'a Tree,
    new_ids: &'a [NodeId],
    old_keys: &'a [Option<&'a str>],
    new_keys: &'a [Option<&'a str>],
}

/// The key of an element: its `dj-key`, else its `id`.
fn raw_key(tree: &Tree, id: NodeId) -> Option<&str> {
    let NodeData::Element(e) = &tree.node(id).data else {
        return None;
    };
    let find = |name: &str| {
        e.attrs
            .iter()
            .find(|a| a.name.ns.is_empty() && &*a.name.local == name)
            .map(|a| &*a.value)
    };
    find("dj-key").or_else(|| find("id"))
}

/// Keys usable for matching: a key counts only if it is unique on both sides (duplicates
/// would make matching ambiguous; such siblings are treated as unkeyed).
fn sibling_keys<'a>(
    old: &'a Tree,
    old_ids: &[NodeId],
    new: &'a Tree,
    new_ids: &[NodeId],
) -> (Vec<Option<&'a str>>, Vec<Option<&'a str>>) {
    let old_raw: Vec<Option<&str>> = old_ids.iter().map(|&id| raw_key(old, id)).collect();
    let new_raw: Vec<Option<&str>> = new_ids.iter().map(|&id| raw_key(new, id)).collect();
    if old_raw.iter().chain(&new_raw).all(Option::is_none) {
        return (old_raw, new_raw);
    }
    let mut counts: HashMap<&str, (u32, u32)> = HashMap::new();
    for key in old_raw.iter().flatten() {
        counts.entry(key).or_default().0 += 1;
    }
    for key in new_raw.iter().flatten() {
        counts.entry(key).or_default().1 += 1;
    }
    let usable = |key: &Option<&'a str>| {
        key.filter(|k| counts.get(k).is_some_and(|&(o, n)| o <= 1 && n <= 1))
    };
    (
        old_raw.iter().map(usable).collect(),
        new_raw.iter().map(usable).collect(),
    )
}

fn keyed_identity(tree: &Tree, id: NodeId, key: &str) -> u64 {
    let mut h = hash_state().build_hasher();
    h.write_u8(KEYED_MARKER);
    signature(tree, id).hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

/// Marker byte separating keyed identities from subtree hashes.
const KEYED_MARKER: u8 = 0x4b;

/// Node type plus namespace and tag: what must agree for an in-place patch.
fn signature(tree: &Tree, id: NodeId) -> u64 {
    let mut h = hash_state().build_hasher();
    match &tree.node(id).data {
        NodeData::Text(_) => h.write_u8(1),
        NodeData::Comment(_) => h.write_u8(2),
        NodeData::Element(e) => {
            h.write_u8(3);
            e.name.ns.hash(&mut h);
            e.name.local.hash(&mut h);
        }
    }
    h.finish()
}
