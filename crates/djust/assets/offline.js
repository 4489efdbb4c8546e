/*
 * djust client, offline behaviour (docs/runtime.md, "Offline and the connection state"):
 * dj-* events raised while disconnected are queued (bounded) and sent after the next mount,
 * or refused visibly; and the connection state is shown in every [dj-connection-state]
 * element, on <body dj-connection="…">, through window.djust.connectionState and the
 * `djust:connection` window event. Served inside /djust/djust.js before client.js, which
 * drives it (window.djust.__offline).
 *
 * States: "connecting" (before the first mount), "saved" (connected, nothing waiting),
 * "saving" (connected, shared-text edits not yet acknowledged), "reconnecting" (disconnected,
 * nothing waiting), "offline" (disconnected with queued events or unsaved shared text), and
 * "unsaved" (connected, but the server refused a shared-text edit for good: the text is on
 * screen only) and "refused" (the server refused the mount for good: reload).
 *
 * Default styles are injected once (a constructed stylesheet, else <style id="djust-offline">): the state element as a small
 * pill, and, while disconnected, [dj-cursor] elements and remote carets hidden and [dj-presence]
 * lists greyed (stale: they come back with the next mount).
 */
(function () {
  "use strict";

  // Queued events at most (the server's default event burst is 100: they all get through).
  const QUEUE_MAX = 50;
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

  let queue = [];
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
   * Keeps an event raised while disconnected. `key` (optional) names what the event carries
   * the whole of (e.g. one field's value): a run of events with the same key keeps only the
   * last. Returns false (and tells the page) when the queue is full.
   */
  function enqueue(name, payload, key) {
    const last = queue[queue.length - 1];
    if (key && last && last.key === key) {
      last.payload = payload;
      update();
      return true;
    }
    if (queue.length >= QUEUE_MAX) {
      refusedCount++;
      console.warn("djust: offline, and " + QUEUE_MAX + " events are waiting already: `" + name +
        "` is not kept");
      window.dispatchEvent(new CustomEvent("djust:event-refused", {
        detail: { name: name, payload: payload, reason: "offline queue full" },
      }));
      update();
      return false;
    }
    queue.push({ name: name, payload: payload, key: key || null });
    update();
    return true;
  }

  /** The queued events, oldest first (the queue is emptied). */
  function drain() {
    const out = queue;
    queue = [];
    refusedCount = 0;
    return out;
  }

  djust.__offline = {
    enqueue: enqueue,
    drain: drain,
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
