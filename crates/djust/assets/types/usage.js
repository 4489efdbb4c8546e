// @ts-check
// Compiled by `tsc -p crates/djust/assets/types` in .ci/run: proves djust.d.ts describes the
// hooks API as the docs use it, and that misuse is caught (the @ts-expect-error lines fail
// the check if the types stop rejecting them).

/** @type {DjustHook} */
const Counter = {
  mounted() {
    this.clicks = 0;
    this.el.addEventListener("click", () => {
      this.clicks += 1;
      this.pushEvent("clicked", { count: this.clicks });
    });
    this.handleEvent("flash", (payload) => {
      this.el.title = String(payload.message);
    });
  },
  destroyed() {},
};

window.djust = window.djust || {};
window.djust.hooks = window.djust.hooks || {};
window.djust.hooks.Counter = Counter;
window.djust.pushEvent("hello", { who: "world", n: 1, nested: [true, null] });
window.addEventListener("djust-error", (e) => console.warn(e.detail.code, e.detail.message));

/** @type {DjustHook} */
const Broken = {
  mounted() {
    // @ts-expect-error: pushEvent needs an event name.
    this.pushEvent();
    // @ts-expect-error: payloads are JSON objects, not functions.
    this.pushEvent("x", { f: () => 1 });
  },
};
// @ts-expect-error: hooks are objects of callbacks, not strings.
window.djust.hooks.Nope = "Counter";
// @ts-expect-error: `version` is read-only.
window.djust.version = 3;
void Broken;

// Shared text: the field's merged text and state, and refusals.
const field = window.djust.sharedText("content");
if (field && field.state === "saved") console.log(field.text.length);
window.addEventListener("djust:text-error", (e) => console.warn(e.detail.field, e.detail.code));
