//! What a connection keeps between renders: fingerprints, not HTML.
//!
//! Per slot a hash of its last output (or the branch taken, or the keys and fingerprints of
//! the loop items the client has), per context entry its fingerprint, and which statics the
//! client already has. The memory is proportional to the number of dynamic values on the
//! page (16–24 bytes per loop item), not to the page.

use std::sync::Arc;

/// The render state of one connection's view.
#[derive(Debug, Default)]
pub struct ViewState {
    pub(crate) root: Option<BlockState>,
    /// Context entries as of the last render: name → fingerprint, sorted by name.
    pub(crate) entries: Vec<(Arc<str>, u64)>,
    /// Ids of the blocks whose statics the client has (bit `id`).
    pub(crate) sent: Vec<u64>,
}

impl ViewState {
    /// A state for a connection that has nothing yet: the next render is a full one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything the client has (after a resync request or a failed render): the
    /// next render is a full one and carries every statics list again.
    pub fn reset(&mut self) {
        self.root = None;
        self.entries.clear();
        self.sent.clear();
    }

    /// Whether the next render must be a full one.
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// The marker values (`dj-cursor="…"`, as parsed by the caller's function) of the page
    /// the client has, in page order.
    pub fn markers(&self, out: &mut Vec<u64>) {
        if let Some(root) = &self.root {
            root.markers(out);
        }
    }
}

/// Marks block `id` as sent; returns whether it was not before.
pub(crate) fn mark_sent(sent: &mut Vec<u64>, id: u32) -> bool {
    let (word, bit) = (id as usize / 64, id % 64);
    if sent.len() <= word {
        sent.resize(word + 1, 0);
    }
    let fresh = sent[word] & (1 << bit) == 0;
    sent[word] |= 1 << bit;
    fresh
}

#[derive(Debug, Default)]
pub(crate) struct BlockState {
    pub(crate) slots: Vec<SlotState>,
}

#[derive(Debug)]
pub(crate) enum SlotState {
    /// Hash of the output; `mark`: the parsed marker value when the slot is one (0 = none).
    Emit { hash: u64, mark: u64 },
    /// The branch taken (`u32::MAX` = none) and its state.
    If { branch: u32, inner: BlockState },
    /// The items as the client has them, in order.
    Loop { items: Vec<Item> },
}

/// One loop item the client has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Item {
    /// The key as sent (53 bits, so JavaScript numbers hold it exactly).
    pub(crate) key: u64,
    /// Fingerprint of everything the item's output depends on.
    pub(crate) fp: u64,
    /// The first marker inside the item (0 = none).
    pub(crate) mark: u64,
}

impl BlockState {
    fn markers(&self, out: &mut Vec<u64>) {
        for s in &self.slots {
            match s {
                SlotState::Emit { mark, .. } => {
                    if *mark != 0 {
                        out.push(*mark);
                    }
                }
                SlotState::If { inner, .. } => inner.markers(out),
                SlotState::Loop { items } => {
                    out.extend(items.iter().filter(|i| i.mark != 0).map(|i| i.mark));
                }
            }
        }
    }
}
