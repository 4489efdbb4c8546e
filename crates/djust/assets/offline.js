/*
 * djust client offline behaviour (docs/runtime.md, "Offline and the connection state"): the
 * outbox of numbered dj-* events, kept (also in sessionStorage) until the server's `ack` and
 * re-sent after each mount; queued while disconnected (bounded, else refused visibly). And the
 * connection state in [dj-connection-state], <body dj-connection>, djust.connectionState and
 * the `djust:connection` event: connecting, saved, saving, reconnecting, offline, unsaved,
 * refused. Injects default styles once (stale cursors, carets and presence while disconnected).
 * Driven by client.js through window.djust.__offline.
 */
(function () {
  "use strict";

  // Events raised while disconnected, at most (below the server's default burst of 100).
  const QUEUE_MAX = 50;
  // Sent, unanswered events kept at most.
  const KEEP_MAX = 200;
  const STORE_KEY = "djust:events:" + location.pathname + location.search;
  const STYLE_ID = "djust-offline";
  const CSS =
    "[dj-connection-state]{display:inline-block;font:12px/18px system-ui,sans-serif;" +
    "padding:0 8px;border-radius:9px;color:#555;background:#eef0f2;white-space:nowrap}" +
    "[dj-connection-state]:empty{display:none}" +
    "body[dj-connection=saved] [dj-connection-state]{color:#1b5e20;background:#e6f4ea}" +
    "body[dj-connection=reconnecting] [dj-connection-state]," +
    "body[dj-connection=offline] [dj-connection-state]{color:#6b4e00;background:#fff4ce}" +
    "body[dj-connection=refused] [dj-connection-state]," +
    "body[dj-connection=unsaved] [dj-connection-state]{color:#fff;background:#b3261e}" +
    "body.dj-disconnected [dj-cursor],body.dj-disconnected .dj-carets{visibility:hidden}" +
    "body.dj-disconnected [dj-presence]{opacity:.45;filter:grayscale(1)}";

  const djust = window.djust || {};
  window.djust = djust;

  // {client, seq, name, payload, key, sent}, oldest first.
  let queue = [];
  let nextSeq = 1;
  const client = randomId();
  let refusedCount = 0;
  let conn = { connected: false, everMounted: false, refused: false, retryAt: 0 };
  let shown = { state: "", text: "" };
  let ticker = null;

  const injected = {};

  /**
   * Adds the stylesheet `css` to the page once per `id`: a constructed sheet where supported
   * (CSSOM, so a strict `style-src` Content-Security-Policy does not block it), else <style>.
   */
  function injectCss(id, css) {
    if (injected[id] || !document.head) return;
    injected[id] = true;
    if (typeof CSSStyleSheet === "function" && "adoptedStyleSheets" in document) {
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
        return;
      } catch (err) {
        // Fall back to a <style> element.
      }
    }
    const style = document.createElement("style");
    style.id = id;
    style.textContent = css;
    document.head.appendChild(style);
  }
  djust.__injectCss = injectCss;

  function injectStyles() {
    injectCss(STYLE_ID, CSS);
  }

  function randomId() {
    const bytes = new Uint8Array(8);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.from(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function persist() {
    try {
      if (queue.length) sessionStorage.setItem(STORE_KEY, JSON.stringify(queue));
      else sessionStorage.removeItem(STORE_KEY);
    } catch (err) {
      // Storage full or disabled: kept in the page only.
    }
  }

  // What a previous page of this tab left unanswered.
  function restore() {
    try {
      const kept = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
      if (Array.isArray(kept)) {
        queue = kept.filter(function (e) {
          return e && typeof e.name === "string" && typeof e.client === "string" &&
            typeof e.seq === "number";
        });
      }
    } catch (err) {
      queue = [];
    }
  }
  restore();

  /** Shared-text fields with edits the server has not acknowledged (shared-text.js). */
  function unsavedText() {
    return djust.__text && djust.__text.unsaved ? djust.__text.unsaved() : 0;
  }

  /** Shared-text fields whose edits the server refused for good (too large, malformed). */
  function refusedText() {
    return djust.__text && djust.__text.failed ? djust.__text.failed() : 0;
  }

  function pending() {
    return queue.length + unsavedText();
  }

  function compute() {
    const waiting = pending();
    if (conn.refused) return { state: "refused", text: "Disconnected — reload the page" };
    if (conn.connected && refusedText()) {
      return { state: "unsaved", text: "Not saved: the server refused an edit (copy your text)" };
    }
    if (conn.connected) return waiting ? { state: "saving", text: "Saving…" } : { state: "saved", text: "Saved" };
    if (!conn.everMounted && !conn.retryAt) return { state: "connecting", text: "Connecting…" };
    const secs = Math.ceil((conn.retryAt - Date.now()) / 1000);
    const retry = conn.retryAt && secs > 0 ? "Reconnecting in " + secs + " s…" : "Reconnecting…";
    let text;
    if (waiting) {
      text = "Offline — changes are kept and will be sent. " + retry;
    } else {
      text = retry;
    }
    if (refusedCount) {
      text += " " + refusedCount + (refusedCount === 1 ? " change" : " changes") +
        " could not be kept.";
    }
    return { state: waiting ? "offline" : "reconnecting", text: text };
  }

  /** Shows the state everywhere it is shown; fires `djust:connection` when it changed. */
  function update() {
    injectStyles();
    const now = compute();
    const body = document.body;
    if (body && body.getAttribute("dj-connection") !== now.state) body.setAttribute("dj-connection", now.state);
    const els = document.querySelectorAll("[dj-connection-state]");
    for (let i = 0; i < els.length; i++) {
      if (els[i].textContent !== now.text) els[i].textContent = now.text;
    }
    // A countdown while a reconnect is scheduled.
    const counting = !conn.connected && !conn.refused && conn.retryAt > Date.now();
    if (counting && !ticker) ticker = setInterval(update, 1000);
    if (!counting && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
    if (now.state !== shown.state || now.text !== shown.text) {
      shown = now;
      window.dispatchEvent(new CustomEvent("djust:connection", {
        detail: { state: now.state, text: now.text, pending: pending(), refused: refusedCount },
      }));
    }
  }

  /**
   * Adds an event; returns its entry (to send now if `online`) or null if refused. Offline, a
   * run of unsent events with the same `key` (one field's whole value) keeps only the last.
   */
  function add(name, payload, key, online) {
    const last = queue[queue.length - 1];
    if (!online && key && last && !last.sent && last.key === key) {
      last.payload = payload;
      persist();
      update();
      return last;
    }
    const unsent = queue.filter(function (e) { return !e.sent; }).length;
    if (!online && unsent >= QUEUE_MAX) {
      refusedCount++;
      console.warn("djust: offline, and " + QUEUE_MAX + " events are waiting already: `" + name +
        "` is not kept");
      window.dispatchEvent(new CustomEvent("djust:event-refused", {
        detail: { name: name, payload: payload, reason: "offline queue full" },
      }));
      update();
      return null;
    }
    const entry = { client: client, seq: nextSeq++, name: name, payload: payload,
      key: key || null, sent: !!online };
    queue.push(entry);
    if (queue.length > KEEP_MAX) {
      const old = queue.shift();
      console.warn("djust: " + KEEP_MAX + " events unanswered: `" + old.name + "` is not kept");
    }
    persist();
    update();
    return entry;
  }

  /** The server answered every event of `from` up to `seq`: forget them. */
  function ack(from, seq) {
    const before = queue.length;
    queue = queue.filter(function (e) { return e.client !== from || e.seq > seq; });
    if (queue.length !== before) {
      persist();
      update();
    }
  }

  function forget(entry) {
    const at = queue.indexOf(entry);
    if (at >= 0) queue.splice(at, 1);
    persist();
    update();
  }

  /** Every event not answered yet, oldest first, to send on a new connection. */
  function resend() {
    refusedCount = 0;
    queue.forEach(function (e) { e.sent = true; });
    persist();
    update();
    return queue.slice();
  }

  djust.__offline = {
    add: add,
    ack: ack,
    forget: forget,
    resend: resend,
    /** client.js: the connection changed (fields: connected, everMounted, refused, retryAt). */
    setConnection: function (c) {
      conn = Object.assign({}, conn, c);
      update();
    },
    changed: update,
  };
  Object.defineProperty(djust, "connectionState", {
    get: function () {
      const now = compute();
      return { state: now.state, text: now.text, pending: pending(), queued: queue.length,
        refused: refusedCount };
    },
  });
})();
