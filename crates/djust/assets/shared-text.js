/*
 * djust shared text: binds each <textarea dj-shared-text="field"> to a Yjs document that the
 * server merges with everyone else's edits (docs/runtime.md, "Shared text"; frames in
 * docs/protocol.md). Served inside /djust/djust.js after client.js; loads /djust/yjs.js (the
 * vendored `yjs` package, global `Y`) the first time a page has such a field.
 *
 * - Local edits become minimal Y.Text deletes/inserts (the changed span between the old and the
 *   new value, found around the caret).
 * - Remote updates are applied to the Y.Text, then to the textarea, keeping the local caret and
 *   selection where they were relative to the text (Yjs relative positions). The textarea always
 *   shows the merged text, which includes every local edit: it is never set to an older version.
 * - Sending: one update in flight per field; edits made meanwhile are merged into the next one.
 *   An update counts as saved once the server acknowledges it (text_ack: applied and durable).
 *   On every (re)connect the client sends its state vector, applies what it misses and sends
 *   everything the server's state vector lacks, so updates never acknowledged (lost in a crash,
 *   typed while offline) are sent again.
 * - Carets: the local caret and selection go to the server as Yjs relative positions
 *   (text_caret, at most one per CARET_MS, re-sent every CARET_REFRESH_MS); the other users'
 *   carets are drawn by text-carets.js (window.djust.__CaretOverlay).
 * - IME composition: nothing is diffed between compositionstart and compositionend, and
 *   remote updates wait until the composition ends (applying them would cancel it).
 * - Works on a <textarea> and on an <input> (text-like types).
 * - The textarea's attribute dj-text-state is "loading", "saved", "sending", "offline" or
 *   "error" (a refused update: the field stops sending; `djust:text-error` fires on window).
 */
(function () {
  "use strict";

  const YJS_SRC = "/djust/yjs.js";
  const RETRY_MS = 500;
  const CARET_MS = 50;
  const CARET_REFRESH_MS = 15000;
  const LOCAL = "djust-local";
  const REMOTE = "djust-remote";

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
   * The span that changed from `before` to `after`: [start, removed, inserted]. The caret
   * (after the edit) bounds the common prefix and suffix, so typing into a run of equal
   * characters is placed where the user typed.
   */
  function changedSpan(before, after, caret) {
    const max = Math.min(before.length, after.length);
    let start = 0;
    const startLimit = Math.min(max, caret);
    while (start < startLimit && before.charCodeAt(start) === after.charCodeAt(start)) start++;
    let end = 0;
    const endLimit = Math.min(max - start, after.length - Math.max(caret, start));
    while (end < endLimit &&
      before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
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
    this.inflight = null;
    this.queue = [];
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
        self.pump();
      }
    });
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
    // Everything the server lacks, which includes every update it never acknowledged.
    const missing = this.Y.encodeStateAsUpdate(this.doc, fromB64(frame.sv));
    this.inflight = null;
    this.queue = hasContent(missing) ? [missing] : [];
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
    if (!this.synced || this.inflight || this.failed || !this.queue.length || !live) {
      this.setState();
      return;
    }
    const update = this.queue.length === 1 ? this.queue[0] : this.Y.mergeUpdates(this.queue);
    this.queue = [];
    this.inflight = { id: this.nextId++, update: update };
    djust.__send({ t: "text_update", field: this.name, id: this.inflight.id, update: toB64(update) });
    this.setState();
  };

  Binding.prototype.onAck = function (ids) {
    if (this.inflight && ids.indexOf(this.inflight.id) >= 0) this.inflight = null;
    this.pump();
  };

  Binding.prototype.onError = function (frame) {
    if (frame.id === undefined || !this.inflight || frame.id !== this.inflight.id) {
      console.warn("djust: shared text [" + frame.code + "] " + frame.message);
      return;
    }
    const self = this;
    if (frame.code === "rate_limited") {
      // Not applied: send it again (with what was typed meanwhile) a little later.
      this.queue.unshift(this.inflight.update);
      this.inflight = null;
      clearTimeout(this.retry);
      this.retry = setTimeout(function () { self.pump(); }, RETRY_MS);
      return;
    }
    // Refused for good (too large, malformed): keep the text on screen, stop sending.
    this.failed = true;
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
    else if (this.inflight || this.queue.length || !this.synced) state = "sending";
    else state = "saved";
    if (this.el.getAttribute("dj-text-state") !== state) {
      this.el.setAttribute("dj-text-state", state);
      if (djust.__offline) djust.__offline.changed();
    }
  };

  /** Edits not acknowledged by the server yet (they are kept and sent after a reconnect). */
  Binding.prototype.unsaved = function () {
    return !this.failed && (this.inflight || this.queue.length) ? 1 : 0;
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
