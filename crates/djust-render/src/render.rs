//! Rendering a compiled view against a connection's [`ViewState`]: a full render (mount,
//! resync) or a diff of only the slots whose inputs changed.
//!
//! Change tracking: every context entry has a fingerprint; a slot whose dependencies all
//! kept theirs is not evaluated at all. An evaluated slot is sent only if its output hash
//! changed. Loops are keyed (tuple key, the item's `id`, its `dj-key`, or its content) and
//! diffed into removals, insertions/moves and updates of whole items.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use minijinja::value::merge_maps;
use minijinja::{Error, ErrorKind, Value};
use serde_json::{Map, Value as Json, json};

use crate::error::RenderError;
use crate::keyhash::{KeyMap, KeySet};
use crate::keys::{KeyedDiff, common_ends, diff_keys};
use crate::set::{Engine, View};
use crate::shared::{ItemKeys, SharedKeys, tagged};
use crate::state::{BlockState, Item, SlotState, ViewState, mark_sent};
use crate::tree::{Block, Loop, Slot, SlotKind};

/// Keys are sent as JSON numbers: 53 bits fit a JavaScript number exactly.
const KEY_MASK: u64 = (1 << 53) - 1;
const NO_BRANCH: u32 = u32::MAX;

/// The values one render sees.
#[derive(Debug, Clone, Copy)]
pub struct RenderInput<'a> {
    /// The root context (a map value).
    pub root: &'a Value,
    /// Every entry's fingerprint, sorted by name ([`crate::fingerprint`] of its value).
    pub entries: &'a [(Arc<str>, u64)],
}

/// What to send after a render.
#[derive(Debug, PartialEq)]
pub enum Output {
    /// The whole view: `{"s": id, "d": [...]}` plus the statics the client lacks.
    Full {
        /// The rendered tree.
        rendered: Json,
        /// Statics by block id (as strings).
        statics: Map<String, Json>,
    },
    /// Only what changed: slot index → new value or nested diff; empty = nothing changed.
    Diff {
        /// The root block's diff.
        diff: Map<String, Json>,
        /// Statics of blocks the diff introduces.
        statics: Map<String, Json>,
    },
}

impl Engine {
    /// Renders `view` for a connection: a full render if `state` is empty, else a diff.
    /// Updates `state` to what the client will have once it applies the output.
    ///
    /// # Errors
    /// A slot failed to evaluate. `state` is then reset, so the next render is a full one.
    pub fn render(
        &self,
        view: &View,
        input: RenderInput<'_>,
        state: &mut ViewState,
    ) -> Result<Output, RenderError> {
        let changed = changed_entries(&state.entries, input.entries);
        let mut cx = Cx {
            engine: self,
            changed,
            entries: input.entries,
            statics: Map::new(),
            sent: std::mem::take(&mut state.sent),
            mark: 0,
            record: None,
        };
        let result = match state.root.take() {
            None => cx
                .full_block(&view.root, input.root, true)
                .map(|(rendered, st)| {
                    state.root = st;
                    Output::Full {
                        rendered,
                        statics: Map::new(),
                    }
                }),
            Some(mut root) => {
                let mut diff = Map::new();
                cx.diff_block(&view.root, input.root, &mut root, &mut diff)
                    .map(|()| {
                        state.root = Some(root);
                        Output::Diff {
                            diff,
                            statics: Map::new(),
                        }
                    })
            }
        };
        match result {
            Ok(mut out) => {
                let statics = std::mem::take(&mut cx.statics);
                match &mut out {
                    Output::Full { statics: s, .. } | Output::Diff { statics: s, .. } => {
                        *s = statics;
                    }
                }
                state.sent = cx.sent;
                state.entries = input.entries.to_vec();
                Ok(out)
            }
            Err(e) => {
                state.reset();
                Err(e)
            }
        }
    }
}

/// Names whose fingerprint differs (or that appeared or vanished), sorted.
fn changed_entries(old: &[(Arc<str>, u64)], new: &[(Arc<str>, u64)]) -> Vec<Arc<str>> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a.0 == b.0 => {
                if a.1 != b.1 {
                    out.push(b.0.clone());
                }
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.0 < b.0 => {
                out.push(a.0.clone());
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                out.push(b.0.clone());
                j += 1;
            }
            (Some(a), None) => {
                out.push(a.0.clone());
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// A block's statics, shared with the compiled template (a pointer, not a copy).
pub(crate) type Statics = Arc<[Arc<str>]>;

/// Statics as sent in a frame's `statics` map.
fn statics_json(statics: &[Arc<str>]) -> Json {
    Json::Array(statics.iter().map(|s| Json::from(&**s)).collect())
}

struct Cx<'a> {
    engine: &'a Engine,
    changed: Vec<Arc<str>>,
    entries: &'a [(Arc<str>, u64)],
    statics: Map<String, Json>,
    sent: Vec<u64>,
    /// The first marker seen since the last reset (per loop item).
    mark: u64,
    /// While a top-level item renders (so: `Some` = inside a loop item): every block whose
    /// statics its output uses.
    record: Option<Vec<(u32, Statics)>>,
}

impl Cx<'_> {
    fn is_changed(&self, slot: &Slot) -> bool {
        slot.deps
            .iter()
            .any(|d| self.changed.binary_search(d).is_ok())
    }

    fn need_statics(&mut self, b: &Block) {
        if let Some(record) = self.record.as_mut() {
            record.push((b.id, b.statics.clone()));
        }
        if mark_sent(&mut self.sent, b.id) {
            self.statics
                .insert(b.id.to_string(), statics_json(&b.statics));
        }
    }

    /// [`Self::need_statics`] for a block known by its id and statics (a cached item's).
    fn need_cached_statics(&mut self, id: u32, statics: &Statics) {
        if let Some(record) = self.record.as_mut() {
            record.push((id, statics.clone()));
        }
        if mark_sent(&mut self.sent, id) {
            self.statics.insert(id.to_string(), statics_json(statics));
        }
    }

    fn full_block(
        &mut self,
        b: &Block,
        ctx: &Value,
        keep: bool,
    ) -> Result<(Json, Option<BlockState>), RenderError> {
        let (d, st) = self.block_dyns(b, ctx, keep)?;
        self.need_statics(b);
        Ok((json!({"s": b.id, "d": d}), st))
    }

    fn block_dyns(
        &mut self,
        b: &Block,
        ctx: &Value,
        keep: bool,
    ) -> Result<(Vec<Json>, Option<BlockState>), RenderError> {
        let mut d = Vec::with_capacity(b.slots.len());
        let mut states = keep.then(|| Vec::with_capacity(b.slots.len()));
        for slot in &b.slots {
            let (v, st) = self.full_slot(slot, ctx, keep)?;
            d.push(v);
            if let (Some(states), Some(st)) = (states.as_mut(), st) {
                states.push(st);
            }
        }
        Ok((d, states.map(|slots| BlockState { slots })))
    }

    fn full_slot(
        &mut self,
        slot: &Slot,
        ctx: &Value,
        keep: bool,
    ) -> Result<(Json, Option<SlotState>), RenderError> {
        match &slot.kind {
            SlotKind::Emit { emit, marker, .. } => {
                let s = self.engine.emit(*emit, ctx)?;
                let mark = if *marker { self.marker(&s) } else { 0 };
                let st = keep.then(|| SlotState::Emit {
                    hash: hash_str(&s),
                    mark,
                });
                Ok((Json::String(s), st))
            }
            SlotKind::If(branches) => {
                let idx = self.branch(branches, ctx)?;
                let Some(branch) = branches.get(idx as usize) else {
                    let st = keep.then(|| SlotState::If {
                        branch: NO_BRANCH,
                        inner: BlockState::default(),
                    });
                    return Ok((Json::String(String::new()), st));
                };
                let (v, inner) = self.full_block(&branch.body, ctx, keep)?;
                let st = inner.map(|inner| SlotState::If { branch: idx, inner });
                Ok((v, st))
            }
            SlotKind::For(l) => {
                let values = self.iter(l, ctx)?;
                let keyed = self.keys(l, &values, ctx)?;
                let n = values.len();
                let mut out = Vec::with_capacity(n);
                let mut items = Vec::with_capacity(if keep { n } else { 0 });
                for (i, &(key, fp)) in keyed.iter().enumerate() {
                    let v = values.get(i);
                    let (dyns, mark) = self.item(l, ctx, &v, i, n, fp)?;
                    out.push(json!([key, dyns]));
                    if keep {
                        items.push(Item { key, fp, mark });
                    }
                }
                self.need_statics(&l.body);
                let st = keep.then_some(SlotState::Loop { items });
                Ok((json!({"s": l.body.id, "k": out}), st))
            }
        }
    }

    fn diff_block(
        &mut self,
        b: &Block,
        ctx: &Value,
        st: &mut BlockState,
        out: &mut Map<String, Json>,
    ) -> Result<(), RenderError> {
        for (i, slot) in b.slots.iter().enumerate() {
            if !self.is_changed(slot) {
                continue;
            }
            let Some(state) = st.slots.get_mut(i) else {
                continue;
            };
            if let Some(v) = self.diff_slot(slot, ctx, state)? {
                out.insert(i.to_string(), v);
            }
        }
        Ok(())
    }

    fn diff_slot(
        &mut self,
        slot: &Slot,
        ctx: &Value,
        state: &mut SlotState,
    ) -> Result<Option<Json>, RenderError> {
        match (&slot.kind, state) {
            (SlotKind::Emit { emit, marker, .. }, SlotState::Emit { hash, mark }) => {
                let s = self.engine.emit(*emit, ctx)?;
                let h = hash_str(&s);
                if h == *hash {
                    return Ok(None);
                }
                *hash = h;
                if *marker {
                    *mark = self.marker(&s);
                }
                Ok(Some(Json::String(s)))
            }
            (SlotKind::If(branches), SlotState::If { branch, inner }) => {
                let idx = self.branch(branches, ctx)?;
                if idx == *branch {
                    let Some(b) = branches.get(idx as usize) else {
                        return Ok(None);
                    };
                    let mut sub = Map::new();
                    self.diff_block(&b.body, ctx, inner, &mut sub)?;
                    return Ok((!sub.is_empty()).then(|| json!({ "d": sub })));
                }
                *branch = idx;
                match branches.get(idx as usize) {
                    None => {
                        *inner = BlockState::default();
                        Ok(Some(Json::String(String::new())))
                    }
                    Some(b) => {
                        let (v, st) = self.full_block(&b.body, ctx, true)?;
                        *inner = st.unwrap_or_default();
                        Ok(Some(v))
                    }
                }
            }
            (SlotKind::For(l), SlotState::Loop { items }) => self.diff_loop(l, ctx, items),
            // A state of another shape cannot happen (the view's tree does not change).
            (_, state) => {
                let (v, st) = self.full_slot(slot, ctx, true)?;
                if let Some(st) = st {
                    *state = st;
                }
                Ok(Some(v))
            }
        }
    }

    fn diff_loop(
        &mut self,
        l: &Loop,
        ctx: &Value,
        items: &mut Vec<Item>,
    ) -> Result<Option<Json>, RenderError> {
        let values = self.iter(l, ctx)?;
        let keyed = self.keys(l, &values, ctx)?;
        let new_keys: Vec<u64> = keyed.iter().map(|k| k.0).collect();
        let old_keys: Vec<u64> = items.iter().map(|i| i.key).collect();
        let KeyedDiff { removed, placed } = diff_keys(&old_keys, &new_keys);
        // `placed` is in increasing order (new positions of moved items), usually empty.
        debug_assert!(placed.is_sorted());
        let moved = |i: usize| !placed.is_empty() && placed.binary_search(&i).is_ok();
        // The old item of a new key: by position in the common prefix and suffix (a big list
        // usually changes in one place), by a map of the middle's keys otherwise.
        let (prefix, suffix) = common_ends(&old_keys, &new_keys);
        let middle: KeyMap<Item> = items[prefix..items.len() - suffix]
            .iter()
            .map(|i| (i.key, *i))
            .collect();
        let (n_old, n_new) = (items.len(), values.len());
        let old_of = |i: usize, key: u64| -> Option<Item> {
            if i < prefix {
                Some(items[i])
            } else if i >= n_new - suffix {
                Some(items[i + n_old - n_new])
            } else {
                middle.get(&key).copied()
            }
        };
        let mut ins = Vec::new();
        let mut upd = Vec::new();
        let mut next = Vec::with_capacity(n_new);
        for (i, &(key, fp)) in keyed.iter().enumerate() {
            let prev = old_of(i, key);
            let prev = prev.as_ref();
            let changed = prev.is_none_or(|p| p.fp != fp);
            let (dyns, mark) = if changed {
                // Only a changed item is looked at (a shared list's are not even copied).
                let v = values.get(i);
                let (d, m) = self.item(l, ctx, &v, i, n_new, fp)?;
                (Some(d), m)
            } else {
                (None, prev.map_or(0, |p| p.mark))
            };
            match (prev, moved(i)) {
                (None, _) => ins.push(json!([i, key, dyns])),
                (Some(_), true) => {
                    ins.push(json!([i, key, Json::Null]));
                    if let Some(d) = dyns {
                        upd.push(json!([key, d]));
                    }
                }
                (Some(_), false) => {
                    if let Some(d) = dyns {
                        upd.push(json!([key, d]));
                    }
                }
            }
            next.push(Item { key, fp, mark });
        }
        *items = next;
        if removed.is_empty() && ins.is_empty() && upd.is_empty() {
            return Ok(None);
        }
        self.need_statics(&l.body);
        let mut diff = Map::new();
        if !removed.is_empty() {
            diff.insert("del".into(), json!(removed));
        }
        if !ins.is_empty() {
            diff.insert("ins".into(), Json::Array(ins));
        }
        if !upd.is_empty() {
            diff.insert("upd".into(), Json::Array(upd));
        }
        Ok(Some(Json::Object(diff)))
    }

    /// One item's dynamics (its body rendered in the item's scope) and its first marker; a
    /// top-level item whose fingerprint `fp` another connection rendered already is copied
    /// from the shared cache (`cache.rs`).
    fn item(
        &mut self,
        l: &Loop,
        ctx: &Value,
        v: &Value,
        i: usize,
        n: usize,
        fp: u64,
    ) -> Result<(Vec<Json>, u64), RenderError> {
        // Inside another item: not cached (module docs of `cache.rs`).
        if self.record.is_some() {
            return self.render_item(l, ctx, v, i, n);
        }
        let key = mix(fp, u64::from(l.body.id));
        if let Some(hit) = self.engine.items.get(key) {
            for (id, statics) in &hit.nested {
                self.need_cached_statics(*id, statics);
            }
            return Ok((hit.dyns.clone(), hit.mark));
        }
        self.record = Some(Vec::new());
        let rendered = self.render_item(l, ctx, v, i, n);
        let nested = self.record.take().unwrap_or_default();
        let (dyns, mark) = rendered?;
        self.engine.items.insert(
            key,
            Arc::new(crate::cache::CachedItem {
                dyns: dyns.clone(),
                mark,
                nested,
            }),
        );
        Ok((dyns, mark))
    }

    fn render_item(
        &mut self,
        l: &Loop,
        ctx: &Value,
        v: &Value,
        i: usize,
        n: usize,
    ) -> Result<(Vec<Json>, u64), RenderError> {
        let scope = self.scope(l, ctx, v, i, n)?;
        let saved = std::mem::take(&mut self.mark);
        let (dyns, _) = self.block_dyns(&l.body, &scope, false)?;
        let mark = std::mem::replace(&mut self.mark, saved);
        Ok((dyns, mark))
    }

    fn scope(
        &self,
        l: &Loop,
        ctx: &Value,
        v: &Value,
        i: usize,
        n: usize,
    ) -> Result<Value, RenderError> {
        let mut vars: Vec<(Value, Value)> = Vec::with_capacity(l.targets.len() + 1);
        if let [one] = l.targets.as_slice() {
            vars.push((Value::from(one.clone()), v.clone()));
        } else {
            let parts: Vec<Value> = v
                .try_iter()
                .map_err(|e| self.engine.error(l.iter, e))?
                .collect();
            if parts.len() != l.targets.len() {
                return Err(self.engine.error(
                    l.iter,
                    Error::new(
                        ErrorKind::CannotUnpack,
                        format!(
                            "cannot unpack {} values into {} names",
                            parts.len(),
                            l.targets.len()
                        ),
                    ),
                ));
            }
            vars.extend(l.targets.iter().cloned().map(Value::from).zip(parts));
        }
        if l.uses_loop {
            let info: Vec<(&str, Value)> = vec![
                ("index", Value::from(i + 1)),
                ("index0", Value::from(i)),
                ("revindex", Value::from(n - i)),
                ("revindex0", Value::from(n - i - 1)),
                ("first", Value::from(i == 0)),
                ("last", Value::from(i + 1 == n)),
                ("length", Value::from(n)),
                ("depth", Value::from(1)),
                ("depth0", Value::from(0)),
            ];
            vars.push((Value::from("loop"), Value::from_iter(info)));
        }
        Ok(merge_maps([Value::from_iter(vars), ctx.clone()]))
    }

    /// The loop's items: a shared list as it is (with its keys), anything else collected.
    fn iter(&self, l: &Loop, ctx: &Value) -> Result<Items, RenderError> {
        let v = self.engine.eval(l.iter, ctx)?;
        if v.is_undefined() || v.is_none() {
            return Ok(Items::Owned(Vec::new()));
        }
        if let Some(keys) = SharedKeys::of(&v) {
            let len = v.len().unwrap_or(0);
            return Ok(Items::Shared { list: v, keys, len });
        }
        let items = v
            .try_iter()
            .map_err(|e| self.engine.error(l.iter, e))?
            .collect();
        Ok(Items::Owned(items))
    }

    /// `(key, fingerprint)` per item. Keys: the first of a tuple (`for k, v in m.items`), the
    /// item's `id`, its rendered `dj-key`, or its content; on a duplicate, the positions.
    fn keys(&self, l: &Loop, values: &Items, ctx: &Value) -> Result<Vec<(u64, u64)>, RenderError> {
        let outer = self.outer_fp(l);
        let n = values.len();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            // A shared list's items were looked into once, for every viewer.
            let ik = values.keys(i);
            let fp_v = ik.fp;
            let key = if l.targets.len() > 1 {
                ik.first
            } else if let Some(id) = ik.id {
                id
            } else if let Some(slot) = l.key_slot {
                let SlotKind::Emit { emit, .. } = l.body.slots[slot].kind else {
                    unreachable!("key_slot points at an emit slot")
                };
                let scope = self.scope(l, ctx, &values.get(i), i, n)?;
                tagged(3, hash_str(&self.engine.emit(emit, &scope)?))
            } else {
                tagged(4, fp_v)
            };
            // Inputs are hashes already: mixing them is enough (and N times cheaper).
            let mut fp = mix(fp_v, outer);
            if l.uses_loop {
                fp = mix(fp, mix(i as u64, n as u64));
            }
            out.push((key & KEY_MASK, fp));
        }
        let mut seen = KeySet::with_capacity_and_hasher(n, Default::default());
        if !out.iter().all(|(k, _)| seen.insert(*k)) {
            for (i, item) in out.iter_mut().enumerate() {
                item.0 = i as u64;
            }
        }
        Ok(out)
    }

    /// A fingerprint of the root entries the loop body reads (besides its own variables):
    /// when one changes, every item re-renders.
    fn outer_fp(&self, l: &Loop) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        for slot in &l.body.slots {
            for d in &slot.deps {
                if let Ok(i) = self.entries.binary_search_by(|(n, _)| (**n).cmp(&**d)) {
                    self.entries[i].1.hash(&mut h);
                }
            }
        }
        h.finish()
    }

    fn branch(&self, branches: &[crate::tree::Branch], ctx: &Value) -> Result<u32, RenderError> {
        for (i, b) in branches.iter().enumerate() {
            let taken = match b.cond {
                None => true,
                Some(c) => self.engine.eval(c, ctx)?.is_true(),
            };
            if taken {
                return Ok(u32::try_from(i).unwrap_or(NO_BRANCH));
            }
        }
        Ok(NO_BRANCH)
    }

    fn marker(&mut self, s: &str) -> u64 {
        let m = (self.engine.marker_parser())(s).unwrap_or(0);
        if self.mark == 0 {
            self.mark = m;
        }
        m
    }
}

/// A loop's items: a shared list is left as it is — an item is only fetched when it must be
/// rendered, and its keys come precomputed — anything else is collected.
enum Items {
    Owned(Vec<Value>),
    Shared {
        list: Value,
        keys: SharedKeys,
        len: usize,
    },
}

impl Items {
    fn len(&self) -> usize {
        match self {
            Self::Owned(v) => v.len(),
            Self::Shared { len, .. } => *len,
        }
    }

    fn get(&self, i: usize) -> Value {
        match self {
            Self::Owned(v) => v.get(i).cloned().unwrap_or_default(),
            Self::Shared { list, .. } => list.get_item_by_index(i).unwrap_or_default(),
        }
    }

    fn keys(&self, i: usize) -> ItemKeys {
        match self {
            Self::Owned(v) => v
                .get(i)
                .map(ItemKeys::of)
                .unwrap_or_else(|| ItemKeys::of(&Value::UNDEFINED)),
            Self::Shared { keys, list, .. } => match keys.get(i) {
                Some(k) => *k,
                None => ItemKeys::of(&list.get_item_by_index(i).unwrap_or_default()),
            },
        }
    }
}

/// Combines two 64-bit hashes (splitmix64's finaliser over `a` and a rotated `b`).
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.rotate_left(29).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hash_str(s: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}
