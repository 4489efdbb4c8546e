//! [`ClientModel`]: the reference decoder of rendered trees and diffs — what `djust.js`
//! does in the browser, in Rust, for tests and load generators.
//!
//! A value is a string (an output), a block `{"s": id, "d": [values]}`, or a loop
//! `{"s": body_id, "k": [[key, [values]], …]}`. A diff of a block is `{"d": {"i": value or
//! diff}}` (the root's diff is that inner map); of a loop `{"del": [keys], "ins": [[index,
//! key, values or null]], "upd": [[key, values]]}`.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

/// A diff or tree the model could not apply (the server and client disagree: resync).
#[derive(Debug, thiserror::Error)]
#[error("cannot apply rendered tree: {0}")]
pub struct ModelError(String);

fn err<T>(msg: impl Into<String>) -> Result<T, ModelError> {
    Err(ModelError(msg.into()))
}

/// The client's copy of one view: statics by id and the current rendered tree.
#[derive(Debug, Default, Clone)]
pub struct ClientModel {
    statics: HashMap<u64, Vec<String>>,
    root: Option<Json>,
}

impl ClientModel {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds statics (`{"id": ["…", …]}`) from a frame.
    ///
    /// # Errors
    /// A malformed table.
    pub fn add_statics(&mut self, statics: &Json) -> Result<(), ModelError> {
        let Some(map) = statics.as_object() else {
            return if statics.is_null() {
                Ok(())
            } else {
                err("statics is not an object")
            };
        };
        for (id, list) in map {
            let id: u64 = id
                .parse()
                .map_err(|_| ModelError(format!("bad statics id {id}")))?;
            let Some(list) = list.as_array() else {
                return err("statics entry is not a list");
            };
            let parts = list
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ModelError("statics entry holds a non-string".into()))?;
            self.statics.insert(id, parts);
        }
        Ok(())
    }

    /// Replaces the tree (a `mounted` or `render` frame).
    ///
    /// # Errors
    /// Malformed statics.
    pub fn apply_full(&mut self, rendered: &Json, statics: &Json) -> Result<(), ModelError> {
        self.add_statics(statics)?;
        self.root = Some(rendered.clone());
        Ok(())
    }

    /// Applies a `patch` frame's diff; returns the HTML of the parts it touched (an output
    /// with the statics around it, a whole inserted or updated loop item).
    ///
    /// # Errors
    /// The diff does not fit the tree.
    pub fn apply_diff(&mut self, diff: &Json, statics: &Json) -> Result<Vec<String>, ModelError> {
        self.add_statics(statics)?;
        let Some(mut root) = self.root.take() else {
            return err("diff before the first render");
        };
        let Some(d) = diff.as_object() else {
            return err("diff is not an object");
        };
        let mut touched = Vec::new();
        let r = self.merge_block(&mut root, d, &mut touched);
        self.root = Some(root);
        r.map(|()| touched)
    }

    /// The view's current HTML.
    ///
    /// # Errors
    /// A block whose statics never arrived.
    pub fn html(&self) -> Result<String, ModelError> {
        let mut out = String::new();
        if let Some(root) = &self.root {
            self.write(root, &mut out)?;
        }
        Ok(out)
    }

    fn merge_block(
        &self,
        block: &mut Json,
        d: &Map<String, Json>,
        touched: &mut Vec<String>,
    ) -> Result<(), ModelError> {
        let sid = block.get("s").and_then(Json::as_u64);
        let Some(dyns) = block.get_mut("d").and_then(Json::as_array_mut) else {
            return err("block diff for a value that is not a block");
        };
        for (i, v) in d {
            let i: usize = i
                .parse()
                .map_err(|_| ModelError(format!("bad slot index {i}")))?;
            let Some(slot) = dyns.get_mut(i) else {
                return err(format!("slot {i} out of range"));
            };
            self.merge(slot, v, touched)?;
            if v.is_string() {
                // An output with its surrounding statics, so a reader sees it in context.
                let st = sid.and_then(|s| self.statics.get(&s));
                let before = st.and_then(|s| s.get(i)).map_or("", String::as_str);
                let after = st.and_then(|s| s.get(i + 1)).map_or("", String::as_str);
                touched.push(format!("{before}{}{after}", v.as_str().unwrap_or("")));
            }
        }
        Ok(())
    }

    fn merge(
        &self,
        old: &mut Json,
        new: &Json,
        touched: &mut Vec<String>,
    ) -> Result<(), ModelError> {
        match new {
            Json::String(_) => *old = new.clone(),
            Json::Object(o) if o.contains_key("s") => {
                *old = new.clone();
                let mut html = String::new();
                self.write(old, &mut html)?;
                touched.push(html);
            }
            Json::Object(o) if o.contains_key("d") => {
                let Some(d) = o.get("d").and_then(Json::as_object) else {
                    return err("block diff without a map");
                };
                self.merge_block(old, d, touched)?;
            }
            Json::Object(o) => self.merge_loop(old, o, touched)?,
            _ => return err("unexpected value in a diff"),
        }
        Ok(())
    }

    fn merge_loop(
        &self,
        old: &mut Json,
        d: &Map<String, Json>,
        touched: &mut Vec<String>,
    ) -> Result<(), ModelError> {
        let sid = old.get("s").and_then(Json::as_u64);
        let Some(items) = old.get_mut("k").and_then(Json::as_array_mut) else {
            return err("loop diff for a value that is not a loop");
        };
        let key_of = |item: &Json| item.get(0).cloned().unwrap_or(Json::Null);
        if let Some(del) = d.get("del").and_then(Json::as_array) {
            items.retain(|it| !del.contains(&key_of(it)));
        }
        let ins = d
            .get("ins")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let moving: Vec<Json> = ins
            .iter()
            .filter(|e| e.get(2).is_some_and(Json::is_null))
            .filter_map(|e| e.get(1).cloned())
            .collect();
        let mut detached: HashMap<String, Json> = HashMap::new();
        items.retain(|it| {
            let k = key_of(it);
            if moving.contains(&k) {
                detached.insert(k.to_string(), it.clone());
                false
            } else {
                true
            }
        });
        for e in &ins {
            let (Some(idx), Some(key)) = (e.get(0).and_then(Json::as_u64), e.get(1)) else {
                return err("bad insert entry");
            };
            let item = match e.get(2) {
                Some(Json::Null) | None => detached
                    .remove(&key.to_string())
                    .ok_or_else(|| ModelError(format!("move of unknown key {key}")))?,
                Some(dyns) => Json::Array(vec![key.clone(), dyns.clone()]),
            };
            let idx = usize::try_from(idx).unwrap_or(usize::MAX);
            if idx > items.len() {
                return err(format!("insert at {idx} past the end ({})", items.len()));
            }
            items.insert(idx, item);
        }
        for e in d
            .get("upd")
            .and_then(Json::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            let (Some(key), Some(dyns)) = (e.get(0), e.get(1)) else {
                return err("bad update entry");
            };
            let Some(it) = items.iter_mut().find(|it| key_of(it) == *key) else {
                return err(format!("update of unknown key {key}"));
            };
            *it = Json::Array(vec![key.clone(), dyns.clone()]);
        }
        if let Some(st) = sid.and_then(|s| self.statics.get(&s)) {
            for e in ins
                .iter()
                .filter(|e| !e.get(2).is_some_and(Json::is_null))
                .chain(
                    d.get("upd")
                        .and_then(Json::as_array)
                        .map_or(&[][..], Vec::as_slice),
                )
            {
                let dyns = e.get(if e.get(2).is_some() { 2 } else { 1 });
                if let Some(Json::Array(dyns)) = dyns {
                    let mut html = String::new();
                    self.write_dyns(st, dyns, &mut html)?;
                    touched.push(html);
                }
            }
        }
        Ok(())
    }

    fn write(&self, v: &Json, out: &mut String) -> Result<(), ModelError> {
        match v {
            Json::String(s) => out.push_str(s),
            Json::Object(o) => {
                let sid = o
                    .get("s")
                    .and_then(Json::as_u64)
                    .ok_or_else(|| ModelError("value without statics id".into()))?;
                let st = self
                    .statics
                    .get(&sid)
                    .ok_or_else(|| ModelError(format!("statics {sid} never received")))?;
                if let Some(items) = o.get("k").and_then(Json::as_array) {
                    for it in items {
                        let Some(Json::Array(dyns)) = it.get(1) else {
                            return err("loop item without values");
                        };
                        self.write_dyns(st, dyns, out)?;
                    }
                } else if let Some(Json::Array(dyns)) = o.get("d") {
                    self.write_dyns(st, dyns, out)?;
                } else {
                    return err("object that is neither block nor loop");
                }
            }
            _ => return err("unexpected value in a tree"),
        }
        Ok(())
    }

    fn write_dyns(
        &self,
        statics: &[String],
        dyns: &[Json],
        out: &mut String,
    ) -> Result<(), ModelError> {
        if statics.len() != dyns.len() + 1 {
            return err(format!(
                "{} statics for {} values",
                statics.len(),
                dyns.len()
            ));
        }
        for (i, s) in statics.iter().enumerate() {
            out.push_str(s);
            if let Some(d) = dyns.get(i) {
                self.write(d, out)?;
            }
        }
        Ok(())
    }
}

/// The HTML of a full frame (`mounted` or `render`: its `rendered` tree and `statics`).
///
/// # Errors
/// A malformed tree.
pub fn full_html(frame: &Json) -> Result<String, ModelError> {
    let mut m = ClientModel::new();
    m.apply_full(&frame["rendered"], &frame["statics"])?;
    m.html()
}
