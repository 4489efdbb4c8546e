/*
 * djust shared text, remote carets: draws the other users' carets and selections over a
 * <textarea dj-shared-text> (or <input>), each in the user's colour with their name
 * (docs/runtime.md, "Shared text"; frames text_caret / text_carets in docs/protocol.md).
 * Served inside /djust/djust.js before shared-text.js, which creates one overlay per field.
 *
 * - Positions are Yjs relative positions: they stay on the same characters whatever anyone
 *   inserts or deletes before them. They are turned into indexes on every draw.
 * - Drawing measures with a mirror element: a hidden copy of the field's box (same font,
 *   padding, width, wrapping) holding the text, with a marker at the caret and a span around
 *   the selection; their rectangles, less the field's scroll, are where the caret and the
 *   selection are. Redrawn (once per animation frame) on every text change, caret change,
 *   scroll of the field or the page, and resize of the field.
 * - The layer lives at the end of <body>, outside the live view's root, so renders never touch
 *   it; it has pointer-events: none and nothing in it takes focus, so the local caret, the
 *   selection and the focus are never moved.
 * - Styles are injected once (offline.js's injectCss: a constructed stylesheet), so pages need
 *   no CSS. Classes:
 *   .dj-carets (the layer), .dj-caret (one user), .dj-caret-bar, .dj-caret-name, .dj-caret-sel.
 */
(function () {
  "use strict";

  // Peers refresh their caret every 15 s; one not refreshed for 30 s is gone (a process died).
  const TTL_MS = 30000;
  const STYLE_ID = "dj-text-carets";
  const CSS =
    ".dj-carets{position:absolute;overflow:hidden;pointer-events:none;z-index:2147483000}" +
    ".dj-carets-mirror{position:absolute;top:0;left:0;visibility:hidden;white-space:pre-wrap;" +
    "overflow-wrap:break-word;box-sizing:content-box;border:0;margin:0}" +
    ".dj-caret-bar{position:absolute;width:2px;margin-left:-1px}" +
    ".dj-caret-name{position:absolute;transform:translateY(-100%);padding:0 4px;" +
    "border-radius:3px 3px 3px 0;font:600 11px/16px system-ui,sans-serif;color:#fff;" +
    "white-space:nowrap;max-width:12em;overflow:hidden;text-overflow:ellipsis}" +
    ".dj-caret-sel{position:absolute;opacity:.25}" +
    "body.dj-disconnected .dj-carets{display:none}";
  // The properties that decide where text wraps and how tall lines are.
  const COPIED = [
    "fontFamily", "fontSize", "fontWeight", "fontStyle", "fontVariant", "fontStretch",
    "letterSpacing", "wordSpacing", "lineHeight", "textTransform", "textIndent", "tabSize",
    "paddingTop", "paddingRight", "paddingBottom", "paddingLeft", "wordBreak", "direction",
  ];

  const djust = window.djust || {};
  window.djust = djust;

  function injectStyles() {
    if (djust.__injectCss) {
      djust.__injectCss(STYLE_ID, CSS);
      return;
    }
    if (document.getElementById(STYLE_ID)) return;
    const style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  /** The carets of one field: `binding` is shared-text.js's Binding (el, doc, text, Y). */
  function CaretOverlay(binding) {
    this.b = binding;
    this.peers = new Map();
    this.layer = null;
    this.mirror = null;
    this.frame = 0;
    const self = this;
    this.schedule = function () {
      if (self.frame) return;
      self.frame = requestAnimationFrame(function () {
        self.frame = 0;
        self.draw();
      });
    };
    this.observed = null;
    this.resize = typeof ResizeObserver === "function" ? new ResizeObserver(this.schedule) : null;
    window.addEventListener("resize", this.schedule);
    // Capture: scrolling of any container of the field moves it on screen.
    document.addEventListener("scroll", this.schedule, true);
    this.expiry = setInterval(function () { self.expire(); }, 5000);
  }

  /** A peer's caret moved (frame fields: peer, name, color, anchor, head; base64). */
  CaretOverlay.prototype.set = function (c) {
    const Y = this.b.Y;
    let anchor, head;
    try {
      anchor = Y.decodeRelativePosition(fromB64(c.anchor));
      head = Y.decodeRelativePosition(fromB64(c.head));
    } catch (err) {
      console.warn("djust: unreadable caret of " + c.peer, err);
      return;
    }
    this.peers.set(String(c.peer), {
      name: String(c.name || ""), color: String(c.color || ""), anchor: anchor, head: head,
      at: Date.now(),
    });
    this.schedule();
  };

  CaretOverlay.prototype.remove = function (peer) {
    if (this.peers.delete(String(peer))) this.schedule();
  };

  /** The whole set (text_carets). */
  CaretOverlay.prototype.reset = function (list) {
    this.peers.clear();
    for (let i = 0; i < list.length; i++) this.set(list[i]);
    this.schedule();
  };

  /** Forgets every caret (the connection dropped: they are stale). */
  CaretOverlay.prototype.clear = function () {
    this.peers.clear();
    this.schedule();
  };

  CaretOverlay.prototype.expire = function () {
    const now = Date.now();
    const self = this;
    this.peers.forEach(function (p, peer) {
      if (now - p.at > TTL_MS) self.peers.delete(peer);
    });
    if (!this.peers.size && this.layer && this.layer.childNodes.length > 1) this.schedule();
  };

  /** Where a peer is now: [start, end, head] indexes into the field's text, or null. */
  CaretOverlay.prototype.indexes = function (p, length) {
    const Y = this.b.Y;
    const a = Y.createAbsolutePositionFromRelativePosition(p.anchor, this.b.doc);
    const h = Y.createAbsolutePositionFromRelativePosition(p.head, this.b.doc);
    // Null: the peer's caret is on text this copy has not received yet (drawn once it has).
    if (!a || !h) return null;
    const ai = Math.min(a.index, length);
    const hi = Math.min(h.index, length);
    return [Math.min(ai, hi), Math.max(ai, hi), hi];
  };

  CaretOverlay.prototype.ensureLayer = function () {
    if (this.layer && this.layer.isConnected) return;
    injectStyles();
    this.layer = document.createElement("div");
    this.layer.className = "dj-carets";
    this.layer.setAttribute("aria-hidden", "true");
    this.layer.setAttribute("data-field", this.b.name);
    this.mirror = document.createElement("div");
    this.mirror.className = "dj-carets-mirror";
    this.layer.appendChild(this.mirror);
    document.body.appendChild(this.layer);
  };

  CaretOverlay.prototype.draw = function () {
    const el = this.b.el;
    if (el !== this.observed && this.resize) {
      this.resize.disconnect();
      if (el) this.resize.observe(el);
      this.observed = el;
    }
    if (!el || !el.isConnected || !this.peers.size || !this.b.everSynced) {
      if (this.layer) this.layer.remove();
      this.layer = null;
      return;
    }
    this.ensureLayer();
    const layer = this.layer;
    const mirror = this.mirror;
    const rect = el.getBoundingClientRect();
    // The layer covers the field's padding box (inside its borders, without scrollbars).
    layer.style.left = rect.left + window.scrollX + el.clientLeft + "px";
    layer.style.top = rect.top + window.scrollY + el.clientTop + "px";
    layer.style.width = el.clientWidth + "px";
    layer.style.height = el.clientHeight + "px";
    const cs = getComputedStyle(el);
    for (let i = 0; i < COPIED.length; i++) mirror.style[COPIED[i]] = cs[COPIED[i]];
    const single = el.localName === "input";
    mirror.style.whiteSpace = single ? "pre" : "pre-wrap";
    const padX = parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight);
    mirror.style.width = single ? "auto" : Math.max(0, el.clientWidth - padX) + "px";
    const text = el.value;
    const lineHeight = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2;
    while (layer.childNodes.length > 1) layer.removeChild(layer.lastChild);
    const self = this;
    this.peers.forEach(function (p, peer) {
      const at = self.indexes(p, text.length);
      if (!at) return;
      self.drawPeer(peer, p, at, text, lineHeight);
    });
  };

  CaretOverlay.prototype.drawPeer = function (peer, p, at, text, lineHeight) {
    const el = this.b.el;
    const mirror = this.mirror;
    const start = at[0], end = at[1], head = at[2];
    mirror.textContent = "";
    const marker = document.createElement("span");
    const sel = document.createElement("span");
    mirror.appendChild(document.createTextNode(text.slice(0, start)));
    if (head === start) mirror.appendChild(marker);
    sel.textContent = text.slice(start, end);
    mirror.appendChild(sel);
    if (head !== start) mirror.appendChild(marker);
    // A trailing character so that a caret after a final newline gets its own line.
    mirror.appendChild(document.createTextNode(text.slice(end) + "\u200b"));
    const base = mirror.getBoundingClientRect();
    const dx = -base.left - el.scrollLeft;
    const dy = -base.top - el.scrollTop;
    const group = document.createElement("div");
    group.className = "dj-caret";
    group.setAttribute("data-peer", peer);
    group.setAttribute("data-index", String(head));
    if (end > start) {
      const rects = sel.getClientRects();
      for (let i = 0; i < rects.length; i++) {
        const r = rects[i];
        if (r.width <= 0) continue;
        const box = document.createElement("div");
        box.className = "dj-caret-sel";
        place(box, r.left + dx, r.top + dy, r.width, r.height);
        box.style.background = p.color;
        group.appendChild(box);
      }
    }
    const m = marker.getBoundingClientRect();
    const height = m.height || lineHeight;
    const bar = document.createElement("div");
    bar.className = "dj-caret-bar";
    place(bar, m.left + dx, m.top + dy, null, height);
    bar.style.background = p.color;
    const name = document.createElement("div");
    name.className = "dj-caret-name";
    name.textContent = p.name;
    place(name, m.left + dx - 1, Math.max(m.top + dy, 16), null, null);
    name.style.background = p.color;
    group.appendChild(bar);
    group.appendChild(name);
    this.layer.appendChild(group);
  };

  function place(node, left, top, width, height) {
    node.style.left = left + "px";
    node.style.top = top + "px";
    if (width !== null) node.style.width = width + "px";
    if (height !== null) node.style.height = height + "px";
  }

  function fromB64(text) {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  djust.__CaretOverlay = CaretOverlay;
})();
