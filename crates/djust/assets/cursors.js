/*
 * djust live cursors: drawing peers' cursors and reading the local pointer (window.DjustCursors).
 * Plain ES2019, no build step; served in /djust/djust.js before client.js, which calls it.
 * Protocol: docs/protocol.md ("cursors", "Cursor anchors"); usage: docs/presence.md.
 *
 * Drawing. Every update of a cursor element — a fast-path move or a render that changed its
 * left/top or its `dj-cursor-anchor` — becomes that cursor's target. Cursor elements are the
 * `[dj-cursor]` ones and, for templates on the render path (the spec's `collab_doc.html`), each
 * child of a `dj-mousemove` area placed by an inline `left`/`top` in px. One
 * requestAnimationFrame loop moves each cursor from where it is drawn to its target in about
 * the time updates take to arrive (a smoothed interval, so a late sample does not leave the
 * cursor standing still; at 20 Hz it is at most about one interval behind and ends exactly on
 * the target) and writes one `transform: translate(...)` per cursor per frame, relative to the
 * left/top the server rendered. With `prefers-reduced-motion: reduce` cursors
 * jump. A cursor that has not moved for `dj-cursor-idle` ms (on the cursor or an ancestor;
 * default 30000, 0 = never) fades out and comes back on its next move.
 *
 * Anchors. A cursor may carry an anchor (an element by dj-key / id / field name plus fractions
 * of its box, or a character of a textarea plus an offset); it is resolved on this page's own
 * layout, so it points at the same content at any width, zoom or scroll; x/y is the fallback.
 *
 * Pointer. `bind(root, send)` turns pointer events (mouse, touch, pen) over a `dj-mousemove`
 * area into cursor payloads `{x, y}` (+ `_cursor: {anchor}`), and a pointer leaving the area
 * or a lifted finger into `{x, y, _cursor: {hidden: true}}`.
 */
(function () {
  "use strict";

  const IDLE_DEFAULT_MS = 30000;
  // Glide time bounds: a frame at least, and a late update does not crawl.
  const GLIDE_MIN_MS = 16;
  const GLIDE_MAX_MS = 150;
  // The glide lasts the smoothed interval between updates times this: a little longer than
  // the interval, so jitter in arrival does not make the cursor stop and start.
  const GLIDE_STRETCH = 1.2;
  // Weight of the newest gap in the smoothed interval.
  const GAP_WEIGHT = 0.3;
  // A textarea anchor only when the pointer is this close to a character (else the box).
  const TEXT_NEAR_PX = 48;
  const MIRROR_PROPS = [
    "fontFamily", "fontSize", "fontWeight", "fontStyle", "fontVariant", "fontStretch",
    "fontKerning", "fontFeatureSettings", "lineHeight", "letterSpacing", "wordSpacing",
    "textIndent", "textTransform", "textAlign", "direction", "tabSize", "whiteSpace",
    "wordBreak", "overflowWrap", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
  ];

  // Cursor element → its drawing state.
  const states = new Map();
  // Textarea → its measuring mirror.
  const mirrors = new WeakMap();
  const motion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;
  let frameQueued = false;
  let idleTimer = null;

  function now() {
    return performance.now();
  }

  function reducedMotion() {
    return !!(motion && motion.matches);
  }

  /* ------------------------------------------------------------------ measuring text */

  /** A hidden copy of `ta`'s text with the same wrapping, kept up to date lazily. */
  function mirrorOf(ta) {
    let m = mirrors.get(ta);
    if (!m || !m.div.isConnected) {
      const div = document.createElement("div");
      div.setAttribute("aria-hidden", "true");
      const node = document.createTextNode("");
      div.appendChild(node);
      document.body.appendChild(div);
      m = { div: div, node: node, value: null, layout: null, range: document.createRange() };
      mirrors.set(ta, m);
    }
    const cs = getComputedStyle(ta);
    const layout = ta.clientWidth + "|" + MIRROR_PROPS.map(function (p) { return cs[p]; }).join("|");
    if (m.layout !== layout) {
      const s = m.div.style;
      MIRROR_PROPS.forEach(function (p) { s[p] = cs[p]; });
      s.position = "absolute";
      s.visibility = "hidden";
      s.pointerEvents = "none";
      s.left = "-100000px";
      s.top = "0px";
      s.margin = "0";
      s.border = "0";
      s.boxSizing = "border-box";
      s.overflow = "hidden";
      s.width = ta.clientWidth + "px";
      s.height = "auto";
      m.layout = layout;
    }
    if (m.value !== ta.value) {
      // A trailing zero-width space: the position after the last character has a box too.
      m.node.nodeValue = ta.value + "\u200b";
      m.value = ta.value;
    }
    return m;
  }

  /** Character `i`'s box in the mirror, relative to the mirror's padding box. */
  function localRect(m, origin, i) {
    m.range.setStart(m.node, i);
    m.range.setEnd(m.node, i + 1);
    const rects = m.range.getClientRects();
    const r = rects.length ? rects[0] : m.range.getBoundingClientRect();
    return { left: r.left - origin.left, top: r.top - origin.top, bottom: r.bottom - origin.top };
  }

  /** The viewport position of character `i` of textarea `ta` (its top-left corner). */
  function charPoint(ta, i) {
    const m = mirrorOf(ta);
    const index = Math.max(0, Math.min(i, m.value.length));
    const r = localRect(m, m.div.getBoundingClientRect(), index);
    const box = ta.getBoundingClientRect();
    return {
      x: box.left + ta.clientLeft + r.left - ta.scrollLeft,
      y: box.top + ta.clientTop + r.top - ta.scrollTop,
    };
  }

  /** The index of the character of `ta` under the viewport point (cx, cy). */
  function charAt(ta, cx, cy) {
    const m = mirrorOf(ta);
    const len = m.value.length;
    if (len === 0) return 0;
    const origin = m.div.getBoundingClientRect();
    const box = ta.getBoundingClientRect();
    const px = cx - box.left - ta.clientLeft + ta.scrollLeft;
    const py = cy - box.top - ta.clientTop + ta.scrollTop;
    const at = function (i) { return localRect(m, origin, i); };
    // The first line whose bottom is below the point (characters are in reading order).
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at(mid).bottom <= py) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= len) return len - 1;
    const lineTop = at(lo).top;
    let end = len;
    let a = lo;
    while (a < end) {
      const mid = (a + end) >> 1;
      if (at(mid).top <= lineTop + 1) a = mid + 1;
      else end = mid;
    }
    // On that line: the last character starting left of the point.
    let b = lo;
    let e = a;
    while (b < e) {
      const mid = (b + e) >> 1;
      if (at(mid).left <= px) b = mid + 1;
      else e = mid;
    }
    return Math.max(lo, b - 1);
  }

  /* ------------------------------------------------------------------ anchors */

  function isTextarea(el) {
    return !!el && el.tagName === "TEXTAREA";
  }

  /** How an anchor names `el`: dj-key, else id, else (a form field) its name; null if none. */
  function nameOf(el) {
    const key = el.getAttribute("dj-key");
    if (key) return { k: key };
    if (el.id) return { id: el.id };
    const name = el.getAttribute("name");
    if (name && (el.tagName === "TEXTAREA" || el.tagName === "INPUT")) return { n: name };
    return null;
  }

  function findTarget(area, a) {
    if (typeof a.k === "string") return area.querySelector('[dj-key="' + CSS.escape(a.k) + '"]');
    if (typeof a.id === "string") {
      const el = document.getElementById(a.id);
      return el && area.contains(el) ? el : null;
    }
    if (typeof a.n === "string") {
      const n = CSS.escape(a.n);
      return area.querySelector('textarea[name="' + n + '"], input[name="' + n + '"]');
    }
    return null;
  }

  function round(v, places) {
    const f = Math.pow(10, places);
    return Math.round(v * f) / f;
  }

  function clamp01(v) {
    return Math.max(0, Math.min(1, v));
  }

  /** The anchor for the viewport point (cx, cy) over `target` inside `area`, or null. */
  function anchorAt(area, target, cx, cy) {
    if (isTextarea(target) && area.contains(target)) {
      const name = nameOf(target);
      if (name) {
        const i = charAt(target, cx, cy);
        const p = charPoint(target, i);
        const dx = cx - p.x;
        const dy = cy - p.y;
        if (Math.abs(dx) <= TEXT_NEAR_PX && Math.abs(dy) <= TEXT_NEAR_PX) {
          return Object.assign(name, { i: i, dx: round(dx, 1), dy: round(dy, 1) });
        }
      }
    }
    for (let el = target; el && el !== area && area.contains(el); el = el.parentElement) {
      if (el.hasAttribute("dj-cursor")) return null;
      const name = nameOf(el);
      if (!name) continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 0 || r.height <= 0) continue;
      if (cx < r.left || cx > r.right || cy < r.top || cy > r.bottom) continue;
      return Object.assign(name, {
        fx: round(clamp01((cx - r.left) / r.width), 4),
        fy: round(clamp01((cy - r.top) / r.height), 4),
      });
    }
    return null;
  }

  /** Where `anchor` is on this page, in px from `area`'s top-left corner; null if not here. */
  function resolveAnchor(area, a) {
    if (!a || typeof a !== "object") return null;
    const el = findTarget(area, a);
    if (!el) return null;
    let point;
    if (typeof a.i === "number") {
      if (!isTextarea(el)) return null;
      const p = charPoint(el, a.i);
      point = { x: p.x + (a.dx || 0), y: p.y + (a.dy || 0) };
    } else {
      const r = el.getBoundingClientRect();
      point = { x: r.left + (a.fx || 0) * r.width, y: r.top + (a.fy || 0) * r.height };
    }
    const box = area.getBoundingClientRect();
    return { x: point.x - box.left, y: point.y - box.top };
  }

  /* ------------------------------------------------------------------ drawing */

  function areaOf(el) {
    return el.closest("[dj-mousemove]") || el.offsetParent || el.parentElement || el;
  }

  function idleMs(el) {
    const holder = el.closest("[dj-cursor-idle]");
    if (!holder) return IDLE_DEFAULT_MS;
    const ms = parseInt(holder.getAttribute("dj-cursor-idle"), 10);
    return isNaN(ms) || ms < 0 ? IDLE_DEFAULT_MS : ms;
  }

  function parseAnchor(text) {
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch (err) {
      return null;
    }
  }

  /** The target's position in px of the area: the anchor where it resolves, else x/y. */
  function resolvedTarget(st) {
    const t = st.target;
    const p = t.anchor ? resolveAnchor(areaOf(st.el), t.anchor) : null;
    return p || { x: t.x, y: t.y };
  }

  /** The inline styles the module owns (a morph resets the style attribute to the server's). */
  function own(st) {
    const s = st.el.style;
    // An opacity fade only: no CSS transition of the position fights the frame loop.
    s.transition = "opacity 0.4s ease";
    s.willChange = "transform";
    s.opacity = st.faded ? "0" : "";
    st.painted = null;
    paint(st);
  }

  function paint(st) {
    const t = "translate(" + (st.cur.x - st.base.x) + "px, " + (st.cur.y - st.base.y) + "px)";
    if (t !== st.painted) {
      st.el.style.transform = t;
      st.painted = t;
    }
  }

  function track(el) {
    const st = {
      el: el,
      base: { x: 0, y: 0 },
      cur: { x: 0, y: 0 },
      target: { x: 0, y: 0, anchor: null },
      anim: null,
      sig: null,
      painted: null,
      lastInput: -Infinity,
      interval: 0,
      ident: null,
      lastMove: now(),
      faded: false,
    };
    states.set(el, st);
    if (!idleTimer) idleTimer = setInterval(onIdleTick, 500);
    return st;
  }

  function setTarget(st, x, y, anchor, jump) {
    const t = now();
    st.target = { x: x, y: y, anchor: anchor || null };
    const p = resolvedTarget(st);
    st.lastMove = t;
    if (st.faded) {
      st.faded = false;
      st.el.style.opacity = "";
    }
    // The same target again (a render and its fast-path moves agreeing): keep the glide going.
    const end = st.anim ? { x: st.anim.tx, y: st.anim.ty } : st.cur;
    if (!jump && Math.abs(p.x - end.x) < 0.01 && Math.abs(p.y - end.y) < 0.01) return;
    const raw = t - st.lastInput;
    const gap = Math.max(GLIDE_MIN_MS, Math.min(GLIDE_MAX_MS, raw));
    st.lastInput = t;
    let ms = gap;
    if (raw >= GLIDE_MAX_MS) {
      // After a pause the first move glides in the (capped) gap; the interval is learnt afresh.
      st.interval = 0;
    } else {
      st.interval = st.interval ? st.interval + GAP_WEIGHT * (gap - st.interval) : gap;
      ms = st.interval * GLIDE_STRETCH;
    }
    glide(st, p, jump ? 0 : Math.max(GLIDE_MIN_MS, Math.min(GLIDE_MAX_MS, ms)));
  }

  function glide(st, p, ms) {
    if (ms <= 0 || reducedMotion()) {
      st.anim = null;
      st.cur = { x: p.x, y: p.y };
      paint(st);
      return;
    }
    st.anim = { fx: st.cur.x, fy: st.cur.y, tx: p.x, ty: p.y, t0: now(), ms: ms };
    schedule();
  }

  function schedule() {
    if (frameQueued) return;
    frameQueued = true;
    requestAnimationFrame(frame);
  }

  function frame() {
    frameQueued = false;
    const t = now();
    let more = false;
    states.forEach(function (st) {
      const a = st.anim;
      if (!a) return;
      const k = Math.max(0, Math.min(1, (t - a.t0) / a.ms));
      if (k >= 1) {
        st.cur = { x: a.tx, y: a.ty };
        st.anim = null;
      } else {
        st.cur = { x: a.fx + (a.tx - a.fx) * k, y: a.fy + (a.ty - a.fy) * k };
        more = true;
      }
      paint(st);
    });
    if (more) schedule();
  }

  /** Fades idle cursors; re-resolves anchors (the text may have changed under them). */
  function onIdleTick() {
    if (states.size === 0) {
      clearInterval(idleTimer);
      idleTimer = null;
      return;
    }
    const t = now();
    states.forEach(function (st) {
      const idle = idleMs(st.el);
      if (!st.faded && idle > 0 && t - st.lastMove >= idle) {
        st.faded = true;
        st.el.style.opacity = "0";
      }
    });
    relayout(false);
  }

  /** Anchored cursors follow their content after a resize, scroll or text change. */
  function relayout(jump) {
    states.forEach(function (st) {
      if (!st.target.anchor) return;
      const p = resolvedTarget(st);
      const end = st.anim ? { x: st.anim.tx, y: st.anim.ty } : st.cur;
      if (Math.abs(p.x - end.x) < 0.5 && Math.abs(p.y - end.y) < 0.5) return;
      glide(st, p, jump ? 0 : GLIDE_MAX_MS);
    });
  }

  const PX = /^-?[\d.]+px$/;

  /**
   * The cursor elements under `root`: every `[dj-cursor]`, and every other child of a
   * `dj-mousemove` area placed by an inline left/top in px (a cursor loop on the render path,
   * like the spec's `.remote-cursor`).
   */
  function cursorElements(root) {
    const out = Array.prototype.slice.call(root.querySelectorAll("[dj-cursor]"));
    const areas = root.querySelectorAll("[dj-mousemove]");
    for (let i = 0; i < areas.length; i++) {
      const kids = areas[i].children;
      for (let j = 0; j < kids.length; j++) {
        const el = kids[j];
        if (el.hasAttribute("dj-cursor")) continue;
        if (PX.test(el.style.left) && PX.test(el.style.top)) out.push(el);
      }
    }
    return out;
  }

  /**
   * Who an element draws: its `dj-cursor` id, else its text (a render-path cursor has no id;
   * when a morph reuses the element for another user, its label changes and it jumps).
   */
  function identity(el) {
    return el.getAttribute("dj-cursor") || el.textContent.trim();
  }

  /**
   * After every morph of the mount point: picks up new cursor elements, forgets removed
   * ones, turns a render that moved a cursor into its target, and puts back the inline styles
   * the morph reset.
   */
  function rendered(root) {
    const seen = new Set();
    const found = cursorElements(root);
    for (let i = 0; i < found.length; i++) {
      const el = found[i];
      seen.add(el);
      const left = parseFloat(el.style.left);
      const top = parseFloat(el.style.top);
      const base = { x: isFinite(left) ? left : 0, y: isFinite(top) ? top : 0 };
      const anchorText = el.getAttribute("dj-cursor-anchor") || "";
      const sig = base.x + "|" + base.y + "|" + anchorText;
      let st = states.get(el);
      const ident = identity(el);
      const fresh = !st || st.ident !== ident;
      if (!st) st = track(el);
      st.ident = ident;
      st.base = base;
      if (st.sig !== sig || fresh) {
        st.sig = sig;
        setTarget(st, base.x, base.y, parseAnchor(anchorText), fresh);
      }
      own(st);
    }
    states.forEach(function (st, el) {
      if (!seen.has(el)) states.delete(el);
    });
  }

  /** Fast-path moves `[dom_id, x, y, anchor?]`; ids without an element are ignored. */
  function apply(root, moves) {
    if (!moves || !root) return;
    for (let i = 0; i < moves.length; i++) {
      const m = moves[i];
      const el = root.querySelector('[dj-cursor="' + CSS.escape(String(m[0])) + '"]');
      if (!el) continue;
      const st = states.get(el) || track(el);
      setTarget(st, Number(m[1]) || 0, Number(m[2]) || 0, m[3] || null, false);
    }
  }

  /* ------------------------------------------------------------------ the local pointer */

  /**
   * Sends cursor payloads for pointer events over `[dj-mousemove]` areas inside `root`:
   * `send(area, payload)` (the caller throttles and names the event).
   */
  function bind(root, send) {
    const last = new WeakMap();
    function areaFor(target) {
      const el = target && target.closest ? target.closest("[dj-mousemove]") : null;
      return el && root.contains(el) ? el : null;
    }
    function move(e) {
      const area = areaFor(e.target);
      if (!area) return;
      const box = area.getBoundingClientRect();
      const x = Math.round(e.clientX - box.left);
      const y = Math.round(e.clientY - box.top);
      last.set(area, { x: x, y: y });
      const payload = { x: x, y: y };
      let anchor = null;
      try {
        // A touch or pen keeps targeting where it went down: ask what is under it now.
        const under = e.pointerType === "mouse" ? e.target
          : document.elementFromPoint(e.clientX, e.clientY) || e.target;
        anchor = anchorAt(area, under, e.clientX, e.clientY);
      } catch (err) {
        anchor = null; // a layout the measuring does not handle: x/y only
      }
      if (anchor) payload._cursor = { anchor: anchor };
      send(area, payload);
    }
    function hide(area) {
      const p = last.get(area);
      if (!p) return; // never shown
      last.delete(area);
      send(area, { x: p.x, y: p.y, _cursor: { hidden: true } });
    }
    root.addEventListener("pointermove", move);
    root.addEventListener("pointerdown", move);
    root.addEventListener("pointerup", function (e) {
      if (e.pointerType === "mouse") return;
      const area = areaFor(e.target);
      if (area) hide(area);
    });
    root.addEventListener("pointercancel", function (e) {
      const area = areaFor(e.target);
      if (area) hide(area);
    });
    root.addEventListener("pointerout", function (e) {
      const area = areaFor(e.target);
      if (!area) return;
      if (e.relatedTarget && area.contains(e.relatedTarget)) return;
      hide(area);
    });
  }

  window.addEventListener("resize", function () { relayout(true); });
  document.addEventListener("scroll", function () { relayout(true); }, true);
  document.addEventListener("input", function () { relayout(false); }, true);

  window.DjustCursors = {
    apply: apply,
    rendered: rendered,
    bind: bind,
    // For tests and tools: what a peer would resolve, and the measuring itself.
    resolveAnchor: resolveAnchor,
    anchorAt: anchorAt,
    charAt: charAt,
    charPoint: charPoint,
  };
})();
