/*
 * djust client: mounts the page's live view over one WebSocket, sends dj-* events, applies
 * patches (with window.DjustPatch, loaded just before this file) and runs client hooks.
 * Plain ES2019, no build step. Protocol: docs/protocol.md. Usage: docs/runtime.md.
 *
 * Globals: window.djust (this API) and window.DjustPatch (the patcher).
 * Page scripts may replace window.djust.hooks at any time before the view mounts; it is read
 * when hooks are attached, never cached.
 */
(function () {
  "use strict";

  const PROTOCOL_VERSION = 2;
  const WS_PATH = "/djust/ws";
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const TEXT_DEBOUNCE_MS = 300;
  const RESYNC_TIMEOUT_MS = 10000;
  const TEXT_TYPES = ["text", "search", "email", "url", "tel", "password", "number"];

  const djust = window.djust || {};
  window.djust = djust;
  if (!djust.hooks) djust.hooks = {};

  let root = null;
  let ws = null;
  let wantOpen = false;
  let connected = false;
  let everMounted = false;
  let attempt = 0;
  let reconnectTimer = null;
  let heartbeatTimer = null;
  let heartbeatPending = false;
  let lastVer = 0;
  // The rendered tree of the mounted view (DjustRendered); replaced on every mount.
  let model = null;
  let resyncing = false;
  let resyncTimer = null;
  let nextRef = 1;
  let maxFrameBytes = 65536;
  let mountCount = 0;

  // Hook instances by element, and per-element rate limiters (throttle/debounce).
  const hooks = new Map();
  const limiters = new WeakMap();
  // Element ids for the offline queue's keys (one field's value replaces its older value).
  const elementIds = new WeakMap();
  let nextElementId = 1;

  // The offline queue and connection state (offline.js, served before this file).
  function offline() {
    return djust.__offline || {
      add: function (name, payload, key, online) { return online ? { name: name, payload: payload } : null; },
      ack: function () {}, forget: function () {}, resend: function () { return []; },
      setConnection: function () {}, changed: function () {} };
  }

  /* ------------------------------------------------------------------ connection */

  function wsUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + WS_PATH;
  }

  function connect() {
    if (!root) root = document.querySelector("[dj-root]");
    if (!root) return false;
    wantOpen = true;
    if (ws) return true;
    // Once: a connect() after disconnect() must not bind the root's listeners twice.
    if (!root.__djustBound) {
      root.__djustBound = true;
      bindRoot(root);
    }
    open();
    return true;
  }

  function open() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    offline().setConnection({ retryAt: 0 });
    const socket = new WebSocket(wsUrl());
    ws = socket;
    socket.onopen = function () {
      if (ws !== socket) return;
      const path = root.getAttribute("dj-path") || location.pathname;
      const query = root.hasAttribute("dj-query")
        ? root.getAttribute("dj-query")
        : location.search.replace(/^\?/, "");
      sendFrame({ t: "mount", v: PROTOCOL_VERSION, ref: nextRef++, path: path, query: query });
    };
    socket.onmessage = function (e) {
      if (ws !== socket) return;
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch (err) {
        console.error("djust: unreadable frame", err);
        return;
      }
      onFrame(frame);
    };
    socket.onclose = function (e) {
      if (ws !== socket) return;
      ws = null;
      onClosed(e.code);
    };
  }

  function onClosed(code) {
    const wasConnected = connected;
    connected = false;
    stopHeartbeat();
    setBodyState(false);
    if (wasConnected) eachHook(function (h) { callHook(h, "disconnected"); });
    if (djust.__text) djust.__text.disconnected();
    // 4400-4499: the server refused the mount for a reason a retry won't fix.
    if (!wantOpen || (code >= 4400 && code < 4500)) {
      offline().setConnection({ connected: false, refused: wantOpen, retryAt: 0 });
      return;
    }
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    attempt++;
    // Jitter in [cap/2, cap]: spreads a server restart's reconnect storm, never below 0.5 s.
    const delay = Math.max(BACKOFF_MIN_MS, cap / 2 + Math.random() * (cap / 2));
    reconnectTimer = setTimeout(open, delay);
    offline().setConnection({ connected: false, retryAt: Date.now() + delay });
  }

  function disconnect() {
    wantOpen = false;
    clearTimeout(reconnectTimer);
    if (ws) {
      const socket = ws;
      ws = null;
      socket.close(1000);
      onClosed(1000);
    }
  }

  function sendFrame(frame) {
    if (!ws || ws.readyState !== 1) return false;
    const text = JSON.stringify(frame);
    if (text.length > maxFrameBytes) {
      console.error("djust: frame of " + text.length + " bytes exceeds the server's limit of " +
        maxFrameBytes + "; not sent", frame.name || frame.t);
      return false;
    }
    ws.send(text);
    return true;
  }

  /**
   * Sends the event `name` through the outbox (offline.js: numbered, kept until its `ack`,
   * queued while disconnected; `key`: see add). A `coalesce` event is never kept.
   */
  function pushEvent(name, payload, coalesce, key) {
    const online = connected && ws && ws.readyState === 1;
    if (coalesce) {
      if (!online) return false;
      return sendFrame({ t: "event", ref: nextRef++, name: name, payload: payload || {}, coalesce: true });
    }
    const entry = offline().add(name, payload || {}, key, online);
    if (!entry) return false;
    if (online && !sendEvent(entry)) {
      offline().forget(entry);
      return false;
    }
    return true;
  }

  function sendEvent(e) {
    return sendFrame({ t: "event", ref: nextRef++, name: e.name, payload: e.payload, seq: e.seq,
      client: e.client });
  }

  /** After a mount: every event not answered yet, in order (the server drops duplicates). */
  function sendQueued() {
    offline().resend().forEach(function (e) {
      if (!sendEvent(e)) offline().forget(e);
    });
  }

  function fieldKey(kind, name, el) {
    let id = elementIds.get(el);
    if (!id) elementIds.set(el, (id = nextElementId++));
    return kind + ":" + name + ":" + id;
  }

  function startHeartbeat(ms) {
    stopHeartbeat();
    heartbeatPending = false;
    heartbeatTimer = setInterval(function () {
      if (heartbeatPending && ws) {
        // No reply for a whole interval: the connection is dead even if the socket looks open.
        ws.close(4000, "heartbeat timeout");
        return;
      }
      heartbeatPending = true;
      sendFrame({ t: "heartbeat", ref: nextRef++ });
    }, ms);
  }

  function stopHeartbeat() {
    clearInterval(heartbeatTimer);
    heartbeatTimer = null;
  }

  function setBodyState(up) {
    const body = document.body;
    if (!body) return;
    body.classList.toggle("dj-connected", up);
    body.classList.toggle("dj-disconnected", !up);
  }

  /* ------------------------------------------------------------------ frames */

  function onFrame(frame) {
    switch (frame.t) {
      case "mounted":
        onMounted(frame);
        break;
      case "patch":
        onPatch(frame);
        break;
      case "render":
        model = DjustRendered.create();
        model.full(frame.rendered, frame.statics);
        withObserver(function () { DjustPatch.morphRoot(root, model.html()); });
        DjustCursors.rendered(root);
        lastVer = frame.ver;
        resyncing = false;
        syncHooks(null);
        dispatchEvents(frame.events);
        break;
      case "cursors":
        applyCursors(frame.cursors);
        dispatchEvents(frame.events);
        break;
      case "push":
        dispatchEvents(frame.events);
        break;
      case "heartbeat":
        heartbeatPending = false;
        break;
      case "ack":
        offline().ack(frame.client, frame.seq);
        break;
      case "reload": // dev mode: a file outside the view's render changed
        window.location.reload();
        break;
      case "error":
        console.warn("djust: server error [" + frame.code + "] " + frame.message);
        window.dispatchEvent(new CustomEvent("djust-error", { detail: frame }));
        break;
      default:
        // Shared-text frames (text_sync, text_update, text_ack, text_error): shared-text.js.
        if (djust.__text && String(frame.t).indexOf("text_") === 0) djust.__text.onFrame(frame);
        else console.warn("djust: unknown frame type", frame.t);
    }
  }

  function onMounted(frame) {
    const reconnect = everMounted;
    everMounted = true;
    connected = true;
    attempt = 0;
    mountCount++;
    lastVer = frame.ver;
    resyncing = false;
    maxFrameBytes = frame.max_frame_bytes || maxFrameBytes;
    // Statics are per connection: a new connection starts from an empty cache.
    model = DjustRendered.create();
    model.full(frame.rendered, frame.statics);
    const touched = withObserver(function () { DjustPatch.morphRoot(root, model.html()); });
    DjustCursors.rendered(root);
    setBodyState(true);
    startHeartbeat(frame.heartbeat_ms || 30000);
    if (reconnect) eachHook(function (h) { callHook(h, "reconnected"); });
    syncHooks(reconnect ? touched : null);
    if (djust.__text) djust.__text.mounted(root);
    sendQueued();
    offline().setConnection({ connected: true, everMounted: true, refused: false, retryAt: 0 });
  }

  function onPatch(frame) {
    if (resyncing) {
      // A full render is on its way; it supersedes this patch. Events still count.
      dispatchEvents(frame.events);
      return;
    }
    if (frame.ver !== lastVer + 1) {
      requestResync("version gap: expected " + (lastVer + 1) + ", got " + frame.ver);
      dispatchEvents(frame.events);
      return;
    }
    let ok = true;
    let html = null;
    try {
      model.diff(frame.diff, frame.statics);
      html = model.html();
    } catch (err) {
      ok = false;
      console.warn("djust: diff did not apply", err);
    }
    const touched = withObserver(function () { if (html !== null) DjustPatch.morphRoot(root, html); });
    if (html !== null) DjustCursors.rendered(root);
    lastVer = frame.ver;
    syncHooks(touched);
    if (!ok) requestResync("patch did not apply");
    applyCursors(frame.cursors);
    dispatchEvents(frame.events);
  }

  /**
   * The cursor fast path: `[id, x, y, anchor?]` moves the element `[dj-cursor="id"]` without a
   * render, drawn smoothly by cursors.js. Unknown ids are ignored: the server renders new
   * cursors itself.
   */
  function applyCursors(moves) {
    DjustCursors.apply(root, moves);
  }

  function requestResync(why) {
    console.warn("djust: resync (" + why + ")");
    resyncing = true;
    sendFrame({ t: "resync", ver: lastVer });
    // If no render arrives (the server could not render), start over on a new connection.
    const socket = ws;
    clearTimeout(resyncTimer);
    resyncTimer = setTimeout(function () {
      if (resyncing && ws === socket && socket) socket.close(4001, "resync timeout");
    }, RESYNC_TIMEOUT_MS);
  }

  function dispatchEvents(events) {
    if (!events) return;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      eachHook(function (h) {
        const cbs = h.__handlers[ev.name];
        if (cbs) cbs.slice().forEach(function (cb) { cb.call(h, ev.payload); });
      });
      window.dispatchEvent(new CustomEvent("djust:" + ev.name, { detail: ev.payload }));
    }
  }

  /* ------------------------------------------------------------------ hooks */

  /** Runs `fn` (a DOM change) and returns the set of nodes the change touched. */
  function withObserver(fn) {
    const observer = new MutationObserver(function () {});
    observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
    let records = [];
    try {
      fn();
    } finally {
      records = observer.takeRecords();
      observer.disconnect();
    }
    return records.map(function (r) { return r.target; });
  }

  function eachHook(fn) {
    Array.from(hooks.values()).forEach(fn);
  }

  function callHook(hook, name) {
    const f = hook[name];
    if (typeof f !== "function") return;
    try {
      f.call(hook);
    } catch (err) {
      console.error("djust: hook " + hook.__name + "." + name + " failed", err);
    }
  }

  function makeHook(el, name, def) {
    const hook = Object.create(def);
    hook.el = el;
    hook.__name = name;
    hook.__handlers = {};
    hook.pushEvent = function (event, payload) { return pushEvent(event, payload); };
    hook.handleEvent = function (event, cb) {
      (hook.__handlers[event] = hook.__handlers[event] || []).push(cb);
    };
    return hook;
  }

  /**
   * Brings hook instances in line with the DOM: `destroyed` for removed elements, `mounted`
   * for new ones, `updated` for existing ones inside a touched subtree (`touched` null: none).
   */
  function syncHooks(touched) {
    hooks.forEach(function (hook, el) {
      if (!root.contains(el) || el.getAttribute("dj-hook") !== hook.__name) {
        hooks.delete(el);
        callHook(hook, "destroyed");
      }
    });
    const registry = djust.hooks || {};
    const found = root.querySelectorAll("[dj-hook]");
    for (let i = 0; i < found.length; i++) {
      const el = found[i];
      const existing = hooks.get(el);
      if (existing) {
        if (touched && touched.some(function (n) { return el.contains(n); })) {
          callHook(existing, "updated");
        }
        continue;
      }
      const name = el.getAttribute("dj-hook");
      const def = registry[name];
      if (!def) {
        console.warn("djust: no hook named " + name + " in window.djust.hooks");
        continue;
      }
      const hook = makeHook(el, name, def);
      hooks.set(el, hook);
      callHook(hook, "mounted");
    }
    // Shared-text fields the morph added or replaced (shared-text.js).
    if (djust.__text) djust.__text.scan(root);
  }

  /* ------------------------------------------------------------------ DOM events */

  function valueAttrs(el) {
    const out = {};
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes[i];
      if (a.name.indexOf("dj-value-") === 0) out[a.name.slice(9)] = a.value;
    }
    return out;
  }

  function fieldValue(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked;
    if (el.tagName === "SELECT" && el.multiple) {
      return Array.from(el.selectedOptions).map(function (o) { return o.value; });
    }
    return el.value;
  }

  function fieldPayload(el) {
    const payload = valueAttrs(el);
    if ("value" in el || el.tagName === "SELECT") {
      const v = fieldValue(el);
      payload.value = v;
      if (el.name) payload[el.name] = v;
    }
    return payload;
  }

  function formPayload(form) {
    const payload = {};
    new FormData(form).forEach(function (value, key) {
      if (typeof value !== "string") return; // files are not sent over the socket
      if (Object.prototype.hasOwnProperty.call(payload, key)) {
        payload[key] = [].concat(payload[key], value);
      } else {
        payload[key] = value;
      }
    });
    return Object.assign(payload, valueAttrs(form));
  }

  function isTextField(el) {
    if (el.tagName === "TEXTAREA") return true;
    return el.tagName === "INPUT" && TEXT_TYPES.indexOf(el.type || "text") >= 0;
  }

  function limiter(el, kind) {
    let byKind = limiters.get(el);
    if (!byKind) limiters.set(el, (byKind = {}));
    return byKind[kind] || (byKind[kind] = { timer: null, last: 0, pending: null });
  }

  /** Leading + trailing throttle: the first call goes now, the last one always goes. */
  function throttled(el, kind, ms, fn) {
    const s = limiter(el, kind);
    const now = Date.now();
    if (!s.timer && now - s.last >= ms) {
      s.last = now;
      fn();
      return;
    }
    s.pending = fn;
    if (!s.timer) {
      s.timer = setTimeout(function () {
        s.timer = null;
        s.last = Date.now();
        const f = s.pending;
        s.pending = null;
        if (f) f();
      }, Math.max(0, ms - (now - s.last)));
    }
  }

  function debounced(el, kind, ms, fn) {
    const s = limiter(el, kind);
    clearTimeout(s.timer);
    s.pending = fn;
    s.timer = setTimeout(function () {
      s.timer = null;
      const f = s.pending;
      s.pending = null;
      if (f) f();
    }, ms);
  }

  /** Sends a debounced event right away (the field lost focus: the user is done). */
  function flushDebounced(el) {
    const byKind = limiters.get(el);
    if (!byKind) return;
    Object.keys(byKind).forEach(function (kind) {
      const s = byKind[kind];
      if (s.timer && s.pending && kind.indexOf("debounce:") === 0) {
        clearTimeout(s.timer);
        s.timer = null;
        const f = s.pending;
        s.pending = null;
        f();
      }
    });
  }

  function msAttr(el, name) {
    if (!el.hasAttribute(name)) return null;
    const ms = parseInt(el.getAttribute(name), 10);
    return isNaN(ms) || ms < 0 ? 0 : ms;
  }

  /** Applies dj-throttle / dj-debounce (or the default text-field debounce) to `fn`. */
  function rateLimited(el, kind, defaultDebounce, fn) {
    const throttle = msAttr(el, "dj-throttle");
    if (throttle) return throttled(el, "throttle:" + kind, throttle, fn);
    let debounce = msAttr(el, "dj-debounce");
    if (debounce === null) debounce = defaultDebounce;
    if (debounce) return debounced(el, "debounce:" + kind, debounce, fn);
    fn();
  }

  function closest(target, attr) {
    const el = target && target.closest ? target.closest("[" + attr + "]") : null;
    return el && root.contains(el) ? el : null;
  }

  function bindRoot(el) {
    el.addEventListener("click", function (e) {
      const t = closest(e.target, "dj-click");
      if (!t) return;
      if (t.tagName === "A" || t.tagName === "BUTTON") e.preventDefault();
      const name = t.getAttribute("dj-click");
      rateLimited(t, "click", 0, function () { pushEvent(name, valueAttrs(t)); });
    });
    el.addEventListener("submit", function (e) {
      const form = closest(e.target, "dj-submit");
      if (!form) return;
      e.preventDefault();
      pushEvent(form.getAttribute("dj-submit"), formPayload(form));
    });
    el.addEventListener("input", function (e) {
      const t = closest(e.target, "dj-input");
      if (!t) return;
      const name = t.getAttribute("dj-input");
      const fallback = isTextField(t) ? TEXT_DEBOUNCE_MS : 0;
      rateLimited(t, "input", fallback, function () {
        pushEvent(name, fieldPayload(t), false, fieldKey("input", name, t));
      });
    });
    el.addEventListener("change", function (e) {
      const t = closest(e.target, "dj-change");
      if (!t) return;
      const name = t.getAttribute("dj-change");
      let payload;
      let key = null;
      if (t.tagName === "FORM") {
        payload = formPayload(t);
        if (e.target.name) payload._target = e.target.name;
      } else {
        payload = fieldPayload(t);
        key = fieldKey("change", name, t);
      }
      rateLimited(t, "change", 0, function () { pushEvent(name, payload, false, key); });
    });
    // dj-mousemove is pointer-based (mouse, touch, pen; cursors.js): {x, y} plus an anchor,
    // and a hidden cursor when the pointer leaves the element or the finger is lifted.
    DjustCursors.bind(el, function (t, cursor) {
      const name = t.getAttribute("dj-mousemove");
      const payload = Object.assign(valueAttrs(t), cursor);
      rateLimited(t, "mousemove", 0, function () { pushEvent(name, payload, true); });
    });
    el.addEventListener("focusout", function (e) {
      if (e.target && e.target.nodeType === 1) flushDebounced(e.target);
    });
  }

  /* ------------------------------------------------------------------ public API */

  djust.connect = connect;
  djust.disconnect = disconnect;
  djust.pushEvent = function (name, payload) { return pushEvent(name, payload); };
  // For shared-text.js (served in the same file): send a frame on the open connection.
  djust.__send = sendFrame;
  Object.defineProperty(djust, "connected", { get: function () { return connected; } });
  Object.defineProperty(djust, "version", { get: function () { return lastVer; } });
  Object.defineProperty(djust, "mountCount", { get: function () { return mountCount; } });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
