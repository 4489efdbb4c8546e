/**
 * Types of djust's browser API (`/djust/djust.js`): `window.djust` and client hooks.
 *
 * Use from JavaScript with `// @ts-check` (or `checkJs`) and this file in the compilation, or
 * `/// <reference path="djust.d.ts" />`. Type a hook object with `/** @type {DjustHook} *\/` so
 * `this.el`, `this.pushEvent` and `this.handleEvent` are known inside its callbacks.
 * The behaviour is documented in docs/runtime.md, "The client".
 */

/** A JSON value, as event payloads carry. */
type DjustJson = string | number | boolean | null | DjustJson[] | { [key: string]: DjustJson };

/** What `this` is inside a hook's callbacks: the hook instance bound to one element. */
interface DjustHookInstance {
  /** The element with the `dj-hook="Name"` attribute. */
  readonly el: HTMLElement;
  /** Sends the event `name` to the view's handler of that name, like a `dj-click` would. */
  pushEvent(name: string, payload?: { [key: string]: DjustJson }): void;
  /** Calls `callback` with the payload of every server push event `name` (`socket.push_event`). */
  handleEvent(name: string, callback: (payload: any) => void): void;
}

/**
 * A hook: `window.djust.hooks.Name = hook` and `dj-hook="Name"` on an element. Every callback
 * is optional; `this` is the instance (with the hook's own fields, which callbacks may add).
 */
type DjustHook = {
  /** After the first render that contains the element. */
  mounted?(): void;
  /** After a patch that touched the element or its subtree. */
  updated?(): void;
  /** The element was removed. */
  destroyed?(): void;
  /** The connection dropped. */
  disconnected?(): void;
  /** The connection is back (the view was mounted again). */
  reconnected?(): void;
  [field: string]: unknown;
} & ThisType<DjustHookInstance & { [field: string]: any }>;

/**
 * `window.djust`. Page scripts may create it before `djust.js` loads to register hooks, so every
 * member is optional in the type; the client fills in the rest when it loads.
 */
interface DjustGlobal {
  /** Hooks by name, read whenever hooks are attached (never cached). */
  hooks?: { [name: string]: DjustHook };
  /** Opens the WebSocket and mounts the view (done automatically on DOMContentLoaded). */
  connect?(): void;
  /** Closes the WebSocket; no reconnect until `connect()`. */
  disconnect?(): void;
  /** Sends an event to the view, as `DjustHookInstance.pushEvent`. */
  pushEvent?(name: string, payload?: { [key: string]: DjustJson }): boolean;
  /** True while mounted over an open WebSocket. */
  readonly connected?: boolean;
  /** The version of the last render or patch applied. */
  readonly version?: number;
  /** How many times the view was mounted (1 + reconnects). */
  readonly mountCount?: number;
  /**
   * The shared-text field `name` (`dj-shared-text="name"`): its merged text and the field's
   * `dj-text-state` ("loading", "sending", "saved", "offline", "error"); null if the page has
   * no such field yet.
   */
  sharedText?(name: string): {
    text: string;
    state: string | null;
    /** Other users' carets: where they are now (null indexes: on text not received yet). */
    carets: DjustCaret[];
  } | null;
  /** The connection state (docs/runtime.md, "Offline and the connection state"). */
  readonly connectionState?: DjustConnectionState;
}

/** A remote caret of a shared-text field. */
interface DjustCaret {
  peer: string;
  name: string;
  color: string;
  /** The caret's index in the text, and the selection's start and end. */
  index: number | null;
  start: number | null;
  end: number | null;
}

/** `window.djust.connectionState`, and the `djust:connection` event's `detail`. */
interface DjustConnectionState {
  state: "connecting" | "saved" | "saving" | "reconnecting" | "offline" | "unsaved" | "refused";
  /** The state in words, as shown in `[dj-connection-state]` elements. */
  text: string;
  /** Queued events plus shared-text fields with unacknowledged edits. */
  pending: number;
  /** Events queued while disconnected (`connectionState` only). */
  queued?: number;
  /** Events refused because the offline queue was full. */
  refused: number;
}

/** The `djust:event-refused` event's `detail`: an event not kept while offline. */
interface DjustRefusedEvent {
  name: string;
  payload: { [key: string]: DjustJson };
  reason: string;
}

/** The `djust:text-error` event's `detail`: the server's `text_error` frame. */
interface DjustTextErrorFrame {
  t: "text_error";
  field: string;
  id?: number;
  code: string;
  message: string;
}

/** The `djust-error` event's `detail`: the server's error frame. */
interface DjustErrorFrame {
  t: "error";
  code: string;
  message: string;
  [field: string]: unknown;
}

interface Window {
  djust: DjustGlobal;
}

interface WindowEventMap {
  "djust-error": CustomEvent<DjustErrorFrame>;
  "djust:text-error": CustomEvent<DjustTextErrorFrame>;
  "djust:connection": CustomEvent<DjustConnectionState>;
  "djust:event-refused": CustomEvent<DjustRefusedEvent>;
}
