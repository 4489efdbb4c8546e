/*
 * collab: the Editor hook (dj-hook="Editor" on the editor container).
 *
 * - Applies `content_changed` broadcasts from other connections to the textarea, keeping the
 *   caret and selection where the user had them. A broadcast whose `origin` is this
 *   connection's own id (data-conn, rendered by the server) is this tab's own edit coming back
 *   and is ignored, so two tabs of one user still sync with each other.
 * - While this tab has typed text not yet sent (the dj-debounce window), a remote change does
 *   not replace it: the pending send follows and becomes the latest version for everyone.
 * - Typing indicator: input -> pushEvent("typing", {typing: true}); after TYPING_IDLE_MS
 *   without input, or on blur -> {typing: false}.
 *
 * - The save state of the shared-text field (its dj-text-state attribute) is shown in words under
 *   the textarea (`.save-state`): "Saved", "Saving…", "Offline — your changes are kept and will be
 *   sent", or the server's refusal (`djust:text-error`).
 *
 * - Remembers, in cookies the editor reads on its next mount (views/remembered.rs), that this
 *   person went invisible (`collab_invisible=<uid>`, 30 days, removed when they become
 *   visible) and the colour they show in this document (`collab_color_<doc>=<uid>.<rrggbb>`,
 *   a session cookie), from the container's data-uid/-doc/-color/-invisible attributes: a
 *   reconnect or a reload comes back invisible, and in the same colour where it is free.
 *   The other open tabs of this browser follow a change of visibility (localStorage
 *   `collab:invisible` and its `storage` event -> pushEvent("set_invisible", {invisible})).
 *
 * User data is only ever assigned to `textarea.value`; markup with names (list, cursors,
 * flash messages) is rendered by the server's autoescaping templates.
 */
(function () {
  "use strict";

  const TYPING_IDLE_MS = 1500;
  const DEFAULT_DEBOUNCE_MS = 300;
  const INVISIBLE_DAYS = 30;
  const INVISIBLE_KEY = "collab:invisible";

  /** Sets (or, with `value` null, removes) a cookie the server reads on the WebSocket upgrade. */
  function setCookie(name, value, maxAgeSeconds) {
    const age = value === null ? "; max-age=0" : maxAgeSeconds ? "; max-age=" + maxAgeSeconds : "";
    document.cookie = name + "=" + (value === null ? "" : value) + "; path=/; samesite=lax" + age;
  }

  /** The value of cookie `name`, or null. */
  function getCookie(name) {
    const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return found ? found.slice(name.length + 1) : null;
  }

  /**
   * Where `offset` in `before` lands in `after`: offsets in the common prefix stay, offsets in
   * the common suffix move with the end of the text, offsets inside the replaced span go to the
   * end of the replacement. Always within [0, after.length].
   */
  function mapOffset(offset, before, after) {
    const max = Math.min(before.length, after.length);
    let prefix = 0;
    while (prefix < max && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
    let suffix = 0;
    while (
      suffix < max - prefix &&
      before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)
    ) suffix++;
    let mapped;
    if (offset <= prefix) mapped = offset;
    else if (offset >= before.length - suffix) mapped = offset + (after.length - before.length);
    else mapped = after.length - suffix;
    return Math.max(0, Math.min(after.length, mapped));
  }

  /** Replaces the textarea's text, keeping caret, selection direction and scroll position. */
  function applyRemote(ta, content) {
    const before = ta.value;
    if (before === content) return;
    const focused = document.activeElement === ta;
    const start = ta.selectionStart;
    const end = ta.selectionEnd;
    const dir = ta.selectionDirection;
    const scroll = ta.scrollTop;
    ta.value = content;
    if (focused) {
      ta.setSelectionRange(mapOffset(start, before, content), mapOffset(end, before, content), dir);
    }
    ta.scrollTop = scroll;
  }

  const SAVE_STATES = {
    loading: "Loading…",
    sending: "Saving…",
    saved: "Saved",
    offline: "Offline — your changes are kept and will be sent",
    error: "Not saved: the server refused this edit",
  };

  /** @type {DjustHook} */
  const Editor = {
    mounted() {
      this.remember();
      this.onStorage = (/** @type {StorageEvent} */ e) => this.followOtherTab(e);
      window.addEventListener("storage", this.onStorage);
      this.watchSaveState();
      this.lastInput = 0;
      this.typing = false;
      this.typingTimer = null;
      this.el.addEventListener("input", (e) => {
        if (/** @type {HTMLElement} */ (e.target).tagName !== "TEXTAREA") return;
        this.lastInput = Date.now();
        this.startTyping();
      });
      this.el.addEventListener("focusout", (e) => {
        if (/** @type {HTMLElement} */ (e.target).tagName !== "TEXTAREA") return;
        // djust sends a pending debounced input on blur: nothing local is unsent any more.
        this.lastInput = 0;
        this.stopTyping();
      });
      this.handleEvent("content_changed", (payload) => this.onContentChanged(payload));
    },

    /** Writes what the next mount should know (see the file's header) from the container. */
    remember() {
      const d = this.el.dataset;
      if (!d.uid || !/^[a-z0-9]+$/.test(d.uid)) return;
      try {
        // Tells the other tabs (a `storage` event there); unchanged, it tells nobody.
        const mine = d.invisible === "true" ? d.uid : "";
        if ((localStorage.getItem(INVISIBLE_KEY) || "") !== mine) localStorage.setItem(INVISIBLE_KEY, mine);
      } catch (err) {
        // No storage (a privacy mode): the other tabs follow on their next mount.
      }
      if (d.invisible === "true") {
        setCookie("collab_invisible", d.uid, INVISIBLE_DAYS * 86400);
        return; // the colour shown is the one from before: keep it
      }
      if (getCookie("collab_invisible") === d.uid) setCookie("collab_invisible", null);
      const color = /^#([0-9a-fA-F]{6})$/.exec(d.color || "");
      if (color && /^[0-9]+$/.test(d.doc || "")) {
        setCookie("collab_color_" + d.doc, d.uid + "." + color[1].toLowerCase(), 0);
      }
    },

    updated() {
      this.remember();
    },

    /** Another tab of this person went invisible or visible: this one follows. */
    followOtherTab(/** @type {StorageEvent} */ e) {
      const d = this.el.dataset;
      if (e.key !== INVISIBLE_KEY || !d.uid) return;
      if (e.newValue !== d.uid && e.oldValue !== d.uid) return; // someone else's
      const want = e.newValue === d.uid;
      if (want !== (d.invisible === "true")) this.pushEvent("set_invisible", { invisible: want });
    },

    textarea() {
      return this.el.querySelector("textarea");
    },

    /** Mirrors the shared-text field's dj-text-state into `.save-state`, in words. */
    watchSaveState() {
      const show = () => {
        const out = /** @type {HTMLElement | null} */ (this.el.querySelector(".save-state"));
        const ta = this.el.querySelector("textarea[dj-shared-text]");
        if (!out || !ta) return;
        const state = ta.getAttribute("dj-text-state") || "loading";
        if (state === "error" && out.dataset.state === "error") return;
        out.dataset.state = state;
        out.textContent = SAVE_STATES[state] || state;
      };
      new MutationObserver(show).observe(this.el, {
        subtree: true,
        attributes: true,
        attributeFilter: ["dj-text-state"],
      });
      window.addEventListener("djust:text-error", (e) => {
        const out = /** @type {HTMLElement | null} */ (this.el.querySelector(".save-state"));
        if (!out) return;
        out.dataset.state = "error";
        out.textContent = "Not saved: " + e.detail.message;
      });
      show();
    },

    /** True while typed text is waiting for the dj-debounce timer to send it. */
    hasUnsentInput() {
      const ta = this.textarea();
      if (!ta || !this.lastInput) return false;
      const ms = parseInt(ta.getAttribute("dj-debounce"), 10);
      const wait = isNaN(ms) ? DEFAULT_DEBOUNCE_MS : ms;
      return Date.now() - this.lastInput < wait + 50;
    },

    onContentChanged(payload) {
      if (!payload || typeof payload.content !== "string") return;
      if (payload.origin === this.el.dataset.conn) return;
      const ta = this.textarea();
      if (!ta || this.hasUnsentInput()) return;
      applyRemote(ta, payload.content);
    },

    startTyping() {
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
      if (this.typing) return;
      this.typing = true;
      this.pushEvent("typing", { typing: true });
    },

    stopTyping() {
      clearTimeout(this.typingTimer);
      this.typingTimer = null;
      if (!this.typing) return;
      this.typing = false;
      this.pushEvent("typing", { typing: false });
    },

    reconnected() {
      // A reconnect mounts a fresh view with fresh presence meta: not typing.
      this.typing = false;
      this.remember();
    },

    destroyed() {
      clearTimeout(this.typingTimer);
      window.removeEventListener("storage", this.onStorage);
    },
  };

  window.djust = window.djust || {};
  window.djust.hooks = window.djust.hooks || {};
  window.djust.hooks.Editor = Editor;
  // Exposed for the browser tests of the caret rule.
  window.collab = { mapOffset: mapOffset };
})();
