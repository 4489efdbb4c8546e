/*
 * djust rendered trees (docs/protocol.md, "Rendered trees"): the client's copy of a view as
 * statics (sent once per connection, cached by id) and dynamic values, merged with each
 * patch's diff and turned back into HTML for DjustPatch.morphRoot.
 *
 * Plain ES2019, no modules. Defines exactly one global: window.DjustRendered.
 *
 *   const r = DjustRendered.create();
 *   r.full(frame.rendered, frame.statics);   // mounted / render
 *   r.diff(frame.diff, frame.statics);       // patch; throws on a diff that does not fit
 *   r.html();                                // the view's current HTML
 *
 * A value is a string (an output, already escaped by the server), a block
 * {"s": id, "d": [values]}, or a loop {"s": bodyId, "k": [[key, [values]], ...]}. A block
 * diff is {"d": {index: value-or-diff}}; a loop diff is {"del": [keys], "ins": [[index, key,
 * values-or-null]], "upd": [[key, values]]}: remove, take out the moved (null) items, insert
 * in order, update.
 */
(function () {
  "use strict";

  function Mismatch(message) {
    this.name = "Mismatch";
    this.message = message;
  }
  Mismatch.prototype = Object.create(Error.prototype);

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function create() {
    const statics = new Map();
    let root = null;

    function addStatics(table) {
      if (!table) return;
      Object.keys(table).forEach(function (id) {
        statics.set(Number(id), table[id]);
      });
    }

    function mergeBlock(block, d) {
      if (!isObject(block) || !Array.isArray(block.d)) throw new Mismatch("block diff for a non-block");
      Object.keys(d).forEach(function (i) {
        const idx = Number(i);
        if (!(idx >= 0 && idx < block.d.length)) throw new Mismatch("slot " + i + " out of range");
        block.d[idx] = merge(block.d[idx], d[i]);
      });
    }

    function merge(old, v) {
      if (typeof v === "string") return v;
      if (!isObject(v)) throw new Mismatch("unexpected value in a diff");
      if ("s" in v) return v;
      if ("d" in v) {
        mergeBlock(old, v.d);
        return old;
      }
      mergeLoop(old, v);
      return old;
    }

    function mergeLoop(loop, d) {
      if (!isObject(loop) || !Array.isArray(loop.k)) throw new Mismatch("loop diff for a non-loop");
      let items = loop.k;
      if (d.del) {
        const gone = new Set(d.del);
        items = items.filter(function (it) { return !gone.has(it[0]); });
      }
      const ins = d.ins || [];
      const moving = new Set();
      ins.forEach(function (e) { if (e[2] === null) moving.add(e[1]); });
      const detached = new Map();
      if (moving.size) {
        items = items.filter(function (it) {
          if (moving.has(it[0])) {
            detached.set(it[0], it);
            return false;
          }
          return true;
        });
      }
      ins.forEach(function (e) {
        let item;
        if (e[2] === null) {
          item = detached.get(e[1]);
          if (!item) throw new Mismatch("move of unknown key " + e[1]);
        } else {
          item = [e[1], e[2]];
        }
        if (!(e[0] >= 0 && e[0] <= items.length)) throw new Mismatch("insert past the end");
        items.splice(e[0], 0, item);
      });
      if (d.upd) {
        const at = new Map();
        items.forEach(function (it, i) { at.set(it[0], i); });
        d.upd.forEach(function (e) {
          const i = at.get(e[0]);
          if (i === undefined) throw new Mismatch("update of unknown key " + e[0]);
          items[i] = [e[0], e[1]];
        });
      }
      loop.k = items;
    }

    function write(v, out) {
      if (typeof v === "string") {
        out.push(v);
        return;
      }
      if (!isObject(v)) throw new Mismatch("unexpected value in a tree");
      const st = statics.get(v.s);
      if (!st) throw new Mismatch("statics " + v.s + " never received");
      if (Array.isArray(v.k)) {
        for (let i = 0; i < v.k.length; i++) writeDyns(st, v.k[i][1], out);
      } else {
        writeDyns(st, v.d, out);
      }
    }

    function writeDyns(st, dyns, out) {
      if (!Array.isArray(dyns) || st.length !== dyns.length + 1) throw new Mismatch("statics do not fit values");
      for (let i = 0; i < dyns.length; i++) {
        out.push(st[i]);
        write(dyns[i], out);
      }
      out.push(st[dyns.length]);
    }

    return {
      full: function (rendered, table) {
        addStatics(table);
        root = rendered;
      },
      diff: function (d, table) {
        if (root === null) throw new Mismatch("diff before the first render");
        addStatics(table);
        mergeBlock(root, d || {});
      },
      html: function () {
        const out = [];
        if (root !== null) write(root, out);
        return out.join("");
      },
      reset: function () {
        statics.clear();
        root = null;
      },
    };
  }

  window.DjustRendered = { create: create, Mismatch: Mismatch };
})();
