//! Test-only live views for the Chromium tests of the client.

use std::time::Duration;

use djust::{Context, Info, LiveView, MountRequest, Socket, ViewError};
use serde_json::json;

use super::views::probe;

/// `/browser/input`: text input with the default debounce, a textarea with an explicit one,
/// a click counter, a form, and a server-side ticker for the focus test.
pub struct InputView {
    typed: u64,
    last: String,
    notes: String,
    count: i64,
    ticks: u64,
    saved: String,
}

pub struct Tick;

impl LiveView for InputView {
    const TEMPLATE: &'static str = "input.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        probe(socket).on_mount(req, socket);
        Ok(InputView {
            typed: 0,
            last: String::new(),
            notes: String::new(),
            count: 0,
            ticks: 0,
            saved: String::new(),
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Context::from_serialize(&json!({
            "typed": self.typed, "last": self.last, "notes": self.notes,
            "count": self.count, "ticks": self.ticks, "saved": self.saved,
        }))
    }

    async fn handle_info(&mut self, msg: Info, _socket: &mut Socket) -> Result<(), ViewError> {
        if msg.is::<Tick>() {
            self.ticks += 1;
        }
        Ok(())
    }
}

#[djust::event_handlers]
impl InputView {
    #[event_handler]
    /// The field is named `who`: the payload carries both `value` and `who`.
    fn typed(&mut self, value: String, who: String) {
        self.typed += 1;
        self.last = format!("{who}/{value}");
    }

    #[event_handler]
    fn notes_changed(&mut self, notes: String) {
        self.notes = notes;
    }

    #[event_handler]
    fn inc(&mut self, by: i64) {
        self.count += by;
    }

    #[event_handler]
    fn save(&mut self, title: String, tag: Vec<String>) {
        self.saved = format!("{title}:{}", tag.join("+"));
    }

    /// Starts a server-side ticker: `n` messages, one every `every_ms`.
    #[event_handler]
    fn start_ticks(&mut self, socket: &mut Socket, n: u64, every_ms: u64) {
        let sender = socket.info_sender();
        tokio::spawn(async move {
            for _ in 0..n {
                tokio::time::sleep(Duration::from_millis(every_ms)).await;
                if sender.send(Tick).is_err() {
                    break;
                }
            }
        });
    }
}

pub const INPUT_HTML: &str = r#"<input id="name" name="who" type="text" dj-input="typed">
<p id="typed">{{ typed }}</p><p id="last">{{ last }}</p>
<textarea id="notes" name="notes" dj-input="notes_changed" dj-debounce="100">{{ notes }}</textarea>
<p id="ticks">{{ ticks }}</p>
<button id="inc" dj-click="inc" dj-value-by="2">+2</button> <span id="count">{{ count }}</span>
<button id="ticker" dj-click="start_ticks" dj-value-n="30" dj-value-every_ms="40">tick</button>
<form id="form" dj-submit="save"><input name="title" value="T"><input name="tag" value="a"><input name="tag" value="b"><button id="save" type="submit">Save</button></form>
<p id="saved">{{ saved }}</p>"#;

/// `/browser/hooks`: a hooked element that can be updated, removed, pinged and kicked.
pub struct HooksView {
    n: i64,
    show: bool,
    mounts: usize,
}

impl LiveView for HooksView {
    const TEMPLATE: &'static str = "hooks.html";

    async fn mount(req: &MountRequest, socket: &mut Socket) -> Result<Self, ViewError> {
        let p = probe(socket);
        p.on_mount(req, socket);
        let mounts = p.log().connected_mounts;
        Ok(HooksView {
            n: 0,
            show: true,
            mounts,
        })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Context::from_serialize(&json!({"n": self.n, "show": self.show, "mounts": self.mounts}))
    }
}

#[djust::event_handlers]
impl HooksView {
    #[event_handler]
    fn bump(&mut self) {
        self.n += 1;
    }

    #[event_handler]
    fn toggle(&mut self) {
        self.show = !self.show;
    }

    #[event_handler]
    fn ping(&mut self, socket: &mut Socket) -> Result<(), ViewError> {
        socket.push_event("ping", json!({ "n": self.n }))
    }

    #[event_handler]
    fn kick(&mut self, socket: &mut Socket) {
        socket.disconnect();
    }
}

pub const HOOKS_HTML: &str = r#"<div id="wrap">{% if show %}<div id="hooked" dj-hook="Probe">n={{ n }}</div>{% endif %}</div>
<button id="bump" dj-click="bump">bump</button>
<button id="toggle" dj-click="toggle">toggle</button>
<button id="ping" dj-click="ping">ping</button>
<button id="kick" dj-click="kick">kick</button>
<p id="mounts">{{ mounts }}</p>
<script>
window.__log = [];
window.djust.hooks = {
  Probe: {
    mounted() {
      __log.push("mounted:" + this.el.id);
      this.handleEvent("ping", (p) => __log.push("ping:" + p.n));
    },
    updated() { __log.push("updated"); },
    destroyed() { __log.push("destroyed"); },
    disconnected() { __log.push("disconnected"); },
    reconnected() { __log.push("reconnected"); },
  },
};
window.addEventListener("djust:ping", (e) => __log.push("window:" + e.detail.n));
</script>"#;

/// `/browser/gap`: a counter whose page can drop patch frames to force a version gap.
pub struct GapView {
    count: i64,
}

impl LiveView for GapView {
    const TEMPLATE: &'static str = "gap.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(GapView { count: 0 })
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Context::from_serialize(&json!({ "count": self.count }))
    }
}

#[djust::event_handlers]
impl GapView {
    #[event_handler]
    fn inc(&mut self) {
        self.count += 1;
    }
}

pub const GAP_HTML: &str = r#"<p id="count">{{ count }}</p><button id="inc" dj-click="inc">+1</button>
<script>
(function () {
  // Test instrumentation: record sent frame types, drop the next N patch frames on request,
  // or corrupt the next patch's diff (a slot that does not exist) so it cannot apply.
  const Native = window.WebSocket;
  window.__sent = [];
  window.__drop = 0;
  window.__corrupt = 0;
  window.WebSocket = function (url) {
    const ws = new Native(url);
    const send = ws.send.bind(ws);
    ws.send = (data) => { window.__sent.push(JSON.parse(data).t); send(data); };
    Object.defineProperty(ws, "onmessage", {
      set(fn) {
        ws.addEventListener("message", (e) => {
          const f = JSON.parse(e.data);
          if (f.t === "patch" && window.__drop > 0) { window.__drop--; return; }
          if (f.t === "patch" && window.__corrupt > 0) {
            window.__corrupt--;
            f.diff = { "999": "x" };
            return fn({ data: JSON.stringify(f) });
          }
          fn(e);
        });
      },
    });
    return ws;
  };
})();
</script>"#;
