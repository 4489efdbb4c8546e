//! The compiled form of a template: blocks of static strings around dynamic slots.
//!
//! A [`Block`] with `n` slots has `n + 1` statics: its HTML is
//! `statics[0] + slot[0] + statics[1] + … + slot[n-1] + statics[n]`. Slots are `{{ … }}`
//! outputs, `{% if %}` chains (one block per branch) and `{% for %}` loops (one block for
//! the body, rendered once per item). Statics are sent to a client once per connection;
//! after that only slot values travel.

use std::sync::Arc;

/// Index into the compiled set's table of expressions (conditions, loop iterables).
pub(crate) type ExprId = usize;
/// Index into the compiled set's table of output templates (`{{ expr }}`).
pub(crate) type EmitId = usize;

/// Statics and slots of one template region.
#[derive(Debug)]
pub(crate) struct Block {
    /// Unique id in the compiled set: the client caches statics by it.
    pub(crate) id: u32,
    pub(crate) statics: Arc<[Arc<str>]>,
    pub(crate) slots: Vec<Slot>,
}

/// One dynamic part of a block.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) kind: SlotKind,
    /// The root context names the slot reads (free variables, loop variables excluded).
    pub(crate) deps: Vec<Arc<str>>,
}

#[derive(Debug)]
pub(crate) enum SlotKind {
    /// `{{ expr }}`; `marker`: the slot is the value of the marker attribute (`dj-cursor="…"`).
    /// `key`: the slot is the value of a `dj-key="…"` attribute.
    Emit {
        emit: EmitId,
        marker: bool,
        key: bool,
    },
    /// `{% if %}…{% elif %}…{% else %}…{% endif %}`: the first branch whose condition holds
    /// (`None` = `else`) renders; none → empty.
    If(Vec<Branch>),
    /// `{% for targets in iter %}body{% endfor %}`.
    For(Box<Loop>),
}

#[derive(Debug)]
pub(crate) struct Branch {
    pub(crate) cond: Option<ExprId>,
    pub(crate) body: Block,
}

#[derive(Debug)]
pub(crate) struct Loop {
    /// One name, or several for tuple unpacking (`for user_id, cursor in cursors.items`).
    pub(crate) targets: Vec<Arc<str>>,
    pub(crate) iter: ExprId,
    pub(crate) body: Block,
    /// The body reads `loop.*`: an item's output depends on its position too.
    pub(crate) uses_loop: bool,
    /// Index of the body slot that renders the item's `dj-key`, if any (top level of the body).
    pub(crate) key_slot: Option<usize>,
}
