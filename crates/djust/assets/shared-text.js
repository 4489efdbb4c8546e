/*
 * djust shared text: each <textarea|input dj-shared-text="field"> bound to a Yjs document the
 * server merges with everyone's edits (docs/runtime.md "Shared text", docs/protocol.md). Loads
 * /djust/yjs.js (global `Y`) on the first page with a field. Edits are sent at once, up to
 * MAX_INFLIGHT unacknowledged per field, kept (also in sessionStorage) until text_ack and sent
 * again after every sync; remote edits keep the local caret (relative positions); carets are
 * drawn by text-carets.js; nothing is diffed during IME composition. dj-text-state: loading,
 * saved, sending, offline, error.
 */
(function () {
  "use strict";

  const YJS_SRC = "/djust/yjs.js";
  const RETRY_MS = 500;
  // Updates of one field sent and not acknowledged yet, at most (the server takes 256).
  const MAX_INFLIGHT = 16;
  const STORE_PREFIX = "djust:text:";
  const CARET_MS = 50;
  const CARET_REFRESH_MS = 15000;
  const LOCAL = "djust-local";
  const REMOTE = "djust-remote";
  const RESTORED = "djust-restored";

  const djust = window.djust || {};
  window.djust = djust;

  const bindings = new Map();
  let yjs = null;
  let live = false;

  function loadYjs() {
    if (window.Y) return Promise.resolve(window.Y);
    if (!yjs) {
      yjs = new Promise(function (resolve, reject) {
        const s = document.createElement("script");
        s.src = YJS_SRC;
        s.onload = function () { window.Y ? resolve(window.Y) : reject(new Error("no Y global")); };
        s.onerror = function () { yjs = null; reject(new Error("could not load " + YJS_SRC)); };
        document.head.appendChild(s);
      });
    }
    return yjs;
  }

  function toB64(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  function fromB64(text) {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  /**
   * The span that changed from `before` to `after`: [start, removed, inserted]. What was typed
   * ends at the caret (after the edit), so the common suffix (up to the caret) goes before the
   * prefix: a character typed before an equal one is left of the caret. Surrogate pairs stay
   * whole (Yjs would make each half U+FFFD).
   */
  function changedSpan(before, after, caret) {
    const max = Math.min(before.length, after.length);
    let end = 0;
    const endLimit = Math.min(max, after.length - caret);
    while (end < endLimit &&
      before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
    let start = 0;
    while (start < max - end && before.charCodeAt(start) === after.charCodeAt(start)) start++;
    if (start > 0 && (after.charCodeAt(start - 1) & 0xfc00) === 0xd800) start--;
    if (end > 0 && (after.charCodeAt(after.length - end) & 0xfc00) === 0xdc00) end--;
    return [start, before.length - end - start, after.slice(start, after.length - end)];
  }

  function Binding(name, Y) {
    this.name = name;
    this.Y = Y;
    this.doc = new Y.Doc();
    this.text = this.doc.getText("text");
    this.el = null;
    this.shadow = "";
    this.synced = false;
    this.everSynced = false;
    // Sent, not acknowledged: [{id, update}], oldest first.
    this.inflight = [];
    // Not sent yet (merged into one update when sent).
    this.queue = [];
    this.storeKey = STORE_PREFIX + location.pathname + location.search + ":" + name;
    this.nextId = 1;
    this.failed = false;
    this.retry = null;
    this.composing = false;
    this.held = [];
    this.caretSent = null;
    this.caretTimer = null;
    this.caretAt = 0;
    this.overlay = djust.__CaretOverlay ? new djust.__CaretOverlay(this) : null;
    const self = this;
    this.doc.on("update", function (update, origin) {
      if (origin === LOCAL) {
        self.queue.push(update);
        self.persist();
        self.pump();
      }
    });
    this.restore();
    this.onInput = function () {
      self.captureLocal();
      self.caretMoved();
    };
    this.onCaret = function () { self.caretMoved(); };
    this.onSelection = function () {
      if (self.el && document.activeElement === self.el) self.caretMoved();
    };
    this.onScroll = function () { if (self.overlay) self.overlay.schedule(); };
    this.onCompositionStart = function () { self.composing = true; };
    this.onCompositionEnd = function () {
      self.composing = false;
      self.captureLocal();
      const held = self.held;
      self.held = [];
      if (held.length) self.applyRemote(held.length === 1 ? held[0] : self.Y.mergeUpdates(held));
      self.caretMoved();
    };
    document.addEventListener("selectionchange", this.onSelection);
    setInterval(function () { self.refreshCaret(); }, CARET_REFRESH_MS);
  }

  const LISTENERS = [
    ["input", "onInput"], ["keyup", "onCaret"], ["mouseup", "onCaret"], ["focus", "onCaret"],
    ["select", "onCaret"], ["scroll", "onScroll"], ["compositionstart", "onCompositionStart"],
    ["compositionend", "onCompositionEnd"],
  ];

  /** The local caret or selection may have moved: send it (throttled, trailing). */
  Binding.prototype.caretMoved = function () {
    if (this.overlay) this.overlay.schedule();
    if (this.caretTimer) return;
    const self = this;
    const wait = Math.max(0, this.caretAt + CARET_MS - Date.now());
    this.caretTimer = setTimeout(function () {
      self.caretTimer = null;
      self.caretAt = Date.now();
      self.sendCaret(false);
    }, wait);
  };

  /** Sends the caret if it changed (or always, with `force`). */
  Binding.prototype.sendCaret = function (force) {
    const el = this.el;
    if (!el || !live || !this.synced || this.composing || document.activeElement !== el) return;
    if (el.value !== this.shadow) this.captureLocal();
    if (el.value !== this.shadow) return;
    const Y = this.Y;
    const back = el.selectionDirection === "backward";
    const a = back ? el.selectionEnd : el.selectionStart;
    const h = back ? el.selectionStart : el.selectionEnd;
    const enc = function (i) {
      return toB64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(this.text, i)));
    }.bind(this);
    const caret = { anchor: enc(a), head: enc(h) };
    if (!force && this.caretSent && this.caretSent.anchor === caret.anchor &&
      this.caretSent.head === caret.head) return;
    this.caretSent = caret;
    djust.__send({ t: "text_caret", field: this.name, anchor: caret.anchor, head: caret.head });
  };

  /** Re-sends an unchanged caret, so peers keep showing it (they forget it after 30 s). */
  Binding.prototype.refreshCaret = function () {
    if (!this.caretSent || !live || !this.synced) return;
    djust.__send({
      t: "text_caret", field: this.name, anchor: this.caretSent.anchor, head: this.caretSent.head,
    });
  };

  Binding.prototype.attach = function (el) {
    if (this.el === el) {
      // A render morphed the element: its attributes follow the server's HTML, so put back
      // what the binding owns (read-only until the first sync, the state).
      if (!this.everSynced) el.readOnly = true;
      this.setState();
      return;
    }
    const self = this;
    if (this.el) LISTENERS.forEach(function (l) { self.el.removeEventListener(l[0], self[l[1]]); });
    this.el = el;
    LISTENERS.forEach(function (l) { el.addEventListener(l[0], self[l[1]]); });
    if (this.overlay) this.overlay.schedule();
    if (this.everSynced) this.showText(null);
    else el.readOnly = true;
    this.setState();
  };

  /** Folds what the user typed since the last call into the Y.Text. */
  Binding.prototype.captureLocal = function () {
    const el = this.el;
    // Mid-composition the value holds uncommitted IME text: wait for compositionend.
    if (!el || !this.everSynced || this.composing) return;
    const now = el.value;
    if (now === this.shadow) return;
    const span = changedSpan(this.shadow, now, el.selectionEnd);
    const text = this.text;
    this.doc.transact(function () {
      if (span[1] > 0) text.delete(span[0], span[1]);
      if (span[2]) text.insert(span[0], span[2]);
    }, LOCAL);
    this.shadow = now;
  };

  /** Applies a server update, keeping the caret where it was relative to the text. */
  Binding.prototype.applyRemote = function (bytes) {
    if (this.composing) {
      // Setting the value would end the user's composition: apply it when it ends.
      this.held.push(bytes);
      return;
    }
    const Y = this.Y;
    this.captureLocal();
    const el = this.el;
    let sel = null;
    if (el && this.everSynced && document.activeElement === el) {
      // A caret sticks to the character before it (what the user just typed), so text another
      // user inserts at the same spot goes after it and two people typing there never
      // interleave; a selection's start sticks to its first character.
      const collapsed = el.selectionStart === el.selectionEnd;
      sel = {
        start: Y.createRelativePositionFromTypeIndex(this.text, el.selectionStart, collapsed ? -1 : 0),
        end: Y.createRelativePositionFromTypeIndex(this.text, el.selectionEnd, -1),
        dir: el.selectionDirection,
      };
    }
    Y.applyUpdate(this.doc, bytes, REMOTE);
    this.showText(sel);
    if (this.overlay) this.overlay.schedule();
  };

  /** Puts the merged text in the textarea (if it differs), restoring `sel` if given. */
  Binding.prototype.showText = function (sel) {
    const el = this.el;
    if (!el) return;
    const now = this.text.toString();
    this.shadow = now;
    if (el.value === now) return;
    const scroll = el.scrollTop;
    el.value = now;
    if (sel) {
      const Y = this.Y;
      const s = Y.createAbsolutePositionFromRelativePosition(sel.start, this.doc);
      const e = Y.createAbsolutePositionFromRelativePosition(sel.end, this.doc);
      if (s && e) el.setSelectionRange(s.index, e.index, sel.dir);
    }
    el.scrollTop = scroll;
  };

  Binding.prototype.sync = function () {
    this.synced = false;
    clearTimeout(this.retry);
    this.retry = null;
    const sv = this.Y.encodeStateVector(this.doc);
    djust.__send({ t: "text_sync", field: this.name, sv: toB64(sv) });
    this.setState();
  };

  Binding.prototype.onSync = function (frame) {
    this.applyRemote(fromB64(frame.update));
    if (!this.everSynced) {
      this.everSynced = true;
      if (this.el) {
        this.el.readOnly = false;
        this.showText(null);
      }
    }
    // Every unacknowledged update (maybe applied, not durable) and what the server lacks.
    const missing = this.Y.encodeStateAsUpdate(this.doc, fromB64(frame.sv));
    const again = this.inflight.map(function (e) { return e.update; }).concat(this.queue);
    if (hasContent(missing)) again.push(missing);
    this.inflight = [];
    this.queue = again.length ? [again.length === 1 ? again[0] : this.Y.mergeUpdates(again)] : [];
    this.persist();
    this.synced = true;
    this.pump();
    // A new connection: peers lost the old one's caret; show it again where it was.
    if (this.caretSent) this.refreshCaret();
    else this.sendCaret(false);
  };

  /** An update that inserts or deletes something (Yjs encodes "nothing" as [0, 0]). */
  function hasContent(update) {
    return update.length > 2 || update[0] !== 0 || update[1] !== 0;
  }

  Binding.prototype.pump = function () {
    if (!this.synced || this.failed || !this.queue.length || !live ||
      this.inflight.length >= MAX_INFLIGHT || this.retry) {
      this.setState();
      return;
    }
    const update = this.queue.length === 1 ? this.queue[0] : this.Y.mergeUpdates(this.queue);
    this.queue = [];
    const entry = { id: this.nextId++, update: update };
    this.inflight.push(entry);
    djust.__send({ t: "text_update", field: this.name, id: entry.id, update: toB64(update) });
    this.setState();
  };

  Binding.prototype.onAck = function (ids) {
    const before = this.inflight.length;
    this.inflight = this.inflight.filter(function (e) { return ids.indexOf(e.id) < 0; });
    if (this.inflight.length !== before) this.persist();
    this.pump();
  };

  Binding.prototype.onError = function (frame) {
    let at = -1;
    for (let i = 0; frame.id !== undefined && i < this.inflight.length; i++) {
      if (this.inflight[i].id === frame.id) at = i;
    }
    if (at < 0) {
      console.warn("djust: shared text [" + frame.code + "] " + frame.message);
      return;
    }
    const self = this;
    const entry = this.inflight.splice(at, 1)[0];
    if (frame.code === "rate_limited") {
      // Not applied: send it again (with what was typed meanwhile) a little later.
      this.queue.unshift(entry.update);
      clearTimeout(this.retry);
      this.retry = setTimeout(function () { self.retry = null; self.pump(); }, RETRY_MS);
      this.setState();
      return;
    }
    // Refused for good: keep the text on screen, stop sending, not kept for a reload.
    this.failed = true;
    this.forget();
    this.setState();
    console.error("djust: shared text `" + this.name + "` refused: " + frame.message);
    window.dispatchEvent(new CustomEvent("djust:text-error", { detail: frame }));
  };

  Binding.prototype.setState = function () {
    if (!this.el) return;
    let state;
    if (this.failed) state = "error";
    else if (!this.everSynced) state = "loading";
    else if (!live) state = "offline";
    else if (this.inflight.length || this.queue.length || !this.synced) state = "sending";
    else state = "saved";
    if (this.el.getAttribute("dj-text-state") !== state) {
      this.el.setAttribute("dj-text-state", state);
      if (djust.__offline) djust.__offline.changed();
    }
  };

  /** Edits not acknowledged by the server yet (they are kept and sent after a reconnect). */
  Binding.prototype.unsaved = function () {
    return !this.failed && (this.inflight.length || this.queue.length) ? 1 : 0;
  };

  // Unacknowledged updates, kept for a reload.
  Binding.prototype.persist = function () {
    if (this.failed) return;
    const all = this.inflight.map(function (e) { return e.update; }).concat(this.queue);
    try {
      if (!all.length) {
        sessionStorage.removeItem(this.storeKey);
        return;
      }
      const merged = all.length === 1 ? all[0] : this.Y.mergeUpdates(all);
      sessionStorage.setItem(this.storeKey, toB64(merged));
    } catch (err) {
      if (!this.storeWarned) console.warn("djust: shared text not kept for a reload", err);
      this.storeWarned = true;
    }
  };

  Binding.prototype.forget = function () {
    try {
      sessionStorage.removeItem(this.storeKey);
    } catch (err) {
      // Nothing stored, then.
    }
  };

  // What a previous page of this tab left unacknowledged: applied, and sent by the first sync.
  Binding.prototype.restore = function () {
    let kept = null;
    try {
      kept = sessionStorage.getItem(this.storeKey);
    } catch (err) {
      return;
    }
    if (!kept) return;
    try {
      const update = fromB64(kept);
      this.Y.applyUpdate(this.doc, update, RESTORED);
      this.queue.push(update);
    } catch (err) {
      console.warn("djust: unreadable kept shared text dropped", err);
      this.forget();
    }
  };

  /** Binds the fields under `root` (new ones, and elements a render replaced). */
  function scan(root) {
    const found = root.querySelectorAll("[dj-shared-text]");
    if (!found.length) return;
    loadYjs().then(function (Y) {
      for (let i = 0; i < found.length; i++) {
        const el = found[i];
        if (!root.contains(el)) continue;
        const name = el.getAttribute("dj-shared-text");
        let b = bindings.get(name);
        if (!b) {
          b = new Binding(name, Y);
          bindings.set(name, b);
          b.attach(el);
          if (live) b.sync();
        } else {
          b.attach(el);
        }
      }
    }, function (err) {
      console.error("djust: shared text unavailable", err);
    });
  }

  djust.__text = {
    scan: scan,
    failed: function () {
      let n = 0;
      bindings.forEach(function (b) { if (b.failed) n++; });
      return n;
    },
    unsaved: function () {
      let n = 0;
      bindings.forEach(function (b) { n += b.unsaved(); });
      return n;
    },
    mounted: function (root) {
      live = true;
      bindings.forEach(function (b) { b.sync(); });
      scan(root);
    },
    disconnected: function () {
      live = false;
      bindings.forEach(function (b) {
        b.synced = false;
        b.setState();
        // Stale: the server re-sends the carets after the next sync.
        if (b.overlay) b.overlay.clear();
      });
    },
    onFrame: function (frame) {
      const b = bindings.get(frame.field);
      if (!b) return;
      switch (frame.t) {
        case "text_sync": b.onSync(frame); break;
        case "text_update": b.applyRemote(fromB64(frame.update)); break;
        case "text_ack": b.onAck(frame.ids || []); break;
        case "text_error": b.onError(frame); break;
        case "text_carets": if (b.overlay) b.overlay.reset(frame.carets || []); break;
        case "text_caret":
          if (!b.overlay) break;
          if (frame.head === undefined) b.overlay.remove(frame.peer);
          else b.overlay.set(frame);
          break;
        default: break;
      }
    },
  };
  // Read-only views for tests and pages: the merged text of a field, and its state.
  djust.sharedText = function (name) {
    const b = bindings.get(name);
    if (!b) return null;
    const carets = [];
    if (b.overlay) {
      b.overlay.peers.forEach(function (p, peer) {
        const at = b.overlay.indexes(p, b.text.length);
        carets.push({ peer: peer, name: p.name, color: p.color, index: at && at[2],
          start: at && at[0], end: at && at[1] });
      });
    }
    return { text: b.text.toString(), state: b.el && b.el.getAttribute("dj-text-state"),
      carets: carets };
  };
  djust.__changedSpan = changedSpan;
})();
