/*
 * djust patcher: applies the patch ops produced by the `djust-diff` crate to the DOM.
 * Plain ES2019, no modules. Defines exactly one global: window.DjustPatch.
 * Op format, path and ordering rules: docs/patch-ops.md.
 *
 *   DjustPatch.apply(root, ops)      -> true, or false if an op did not resolve (request a resync)
 *   DjustPatch.morphRoot(root, html) -> true; full re-sync that patches in place and keeps focus
 *
 * Inserted HTML is parsed with a <template> element: <script> elements in it never execute,
 * and nothing in it loads until it is attached.
 */
(function () {
  "use strict";

  const HTML_NS = "http://www.w3.org/1999/xhtml";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MATH_NS = "http://www.w3.org/1998/Math/MathML";
  const XLINK_NS = "http://www.w3.org/1999/xlink";
  const XML_NS = "http://www.w3.org/XML/1998/namespace";
  const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

  // Attributes the HTML parser puts in a namespace on SVG/MathML elements.
  const FOREIGN_ATTR_NS = {
    "xlink:actuate": XLINK_NS,
    "xlink:arcrole": XLINK_NS,
    "xlink:href": XLINK_NS,
    "xlink:role": XLINK_NS,
    "xlink:show": XLINK_NS,
    "xlink:title": XLINK_NS,
    "xlink:type": XLINK_NS,
    "xml:lang": XML_NS,
    "xml:space": XML_NS,
    "xmlns": XMLNS_NS,
    "xmlns:xlink": XMLNS_NS,
  };

  /** Thrown internally when an op does not fit the DOM; turned into `false`. */
  function Mismatch(message) {
    this.message = message;
  }

  /** The node whose childNodes paths index into: a template's content, else the node. */
  function container(node) {
    return node.nodeType === 1 && node.namespaceURI === HTML_NS && node.localName === "template"
      ? node.content
      : node;
  }

  function resolve(root, path, length) {
    let node = root;
    for (let i = 0; i < length; i++) {
      const index = path[i];
      const next = container(node).childNodes[index];
      if (!next) throw new Mismatch("no child " + index + " at depth " + i);
      node = next;
    }
    return node;
  }

  function checkPath(path) {
    if (!Array.isArray(path) || path.length === 0) throw new Mismatch("bad path");
    return path;
  }

  function element(node) {
    if (node.nodeType !== 1) throw new Mismatch("not an element");
    return node;
  }

  /** The element whose parsing context applies to children of `parent` (null: plain HTML). */
  function contextElement(parent) {
    return parent.nodeType === 1 ? parent : null;
  }

  function escapeAttr(value) {
    return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  }

  const NOSCRIPT = /<noscript/i;

  /**
   * Template contents are parsed with scripting disabled, which turns `<noscript>` content into
   * elements; the server (like `innerHTML` on a live element) keeps it as text. For such HTML,
   * parse with `innerHTML` on a detached element of the parent's kind instead. Scripts parsed
   * this way do not run either.
   */
  function parseWithScripting(context, html) {
    const tag = context && context.localName !== "template" ? context.localName : "div";
    const holder = document.createElement(tag);
    holder.innerHTML = html;
    const fragment = document.createDocumentFragment();
    while (holder.firstChild) fragment.appendChild(holder.firstChild);
    return fragment;
  }

  /**
   * Parses `html` into a DocumentFragment, as children of `context`. HTML is parsed in a
   * <template> (works for table parts, list items, options...); SVG and MathML children are
   * wrapped in a matching <svg>/<math> parent so they get the right namespace.
   */
  function parseFragment(context, html) {
    const tpl = document.createElement("template");
    const ns = context ? context.namespaceURI : HTML_NS;
    if (ns !== SVG_NS && ns !== MATH_NS) {
      if (NOSCRIPT.test(html)) return parseWithScripting(context, html);
      tpl.innerHTML = html;
      return tpl.content;
    }
    const outer = ns === SVG_NS ? "svg" : "math";
    const local = context.localName;
    let open = "<" + outer + ">";
    let close = "</" + outer + ">";
    if (local !== outer) {
      // annotation-xml is an HTML integration point only with this encoding.
      const encoding = local === "annotation-xml" ? context.getAttribute("encoding") : null;
      const attrs = encoding === null ? "" : ' encoding="' + escapeAttr(encoding) + '"';
      open += "<" + local + attrs + ">";
      close = "</" + local + ">" + close;
    }
    tpl.innerHTML = open + html + close;
    let holder = tpl.content.firstChild;
    if (holder && local !== outer) holder = holder.firstChild;
    if (!holder) throw new Mismatch("foreign wrapper did not parse");
    const fragment = document.createDocumentFragment();
    while (holder.firstChild) fragment.appendChild(holder.firstChild);
    return fragment;
  }

  // ---- attributes and the properties that mirror them ----------------------------------

  function setAttr(el, name, value) {
    const ns = el.namespaceURI !== HTML_NS ? FOREIGN_ATTR_NS[name] : undefined;
    try {
      if (ns) el.setAttributeNS(ns, name, value);
      else el.setAttribute(name, value);
    } catch (err) {
      // The parser accepts names setAttribute rejects (e.g. "@click"): take a parsed attribute.
      const tpl = document.createElement("template");
      tpl.innerHTML = "<i " + name + "></i>";
      const parsed = tpl.content.firstChild && tpl.content.firstChild.attributes[0];
      if (!parsed || parsed.name !== name) throw new Mismatch("attribute name " + name);
      const attr = parsed.cloneNode();
      attr.value = value;
      el.setAttributeNode(attr);
    }
  }

  function removeAttr(el, name) {
    const ns = el.namespaceURI !== HTML_NS ? FOREIGN_ATTR_NS[name] : undefined;
    if (ns) el.removeAttributeNS(ns, name === "xmlns" ? name : name.slice(name.indexOf(":") + 1));
    else el.removeAttribute(name);
  }

  const ATTRIBUTE_VALUED_INPUTS = ["checkbox", "radio", "hidden", "submit", "reset", "button", "image", "file"];

  /** Whether the user is interacting with `el` (its properties must not be overwritten). */
  function isFocused(el, state) {
    const focused = state.focus && state.focus.el;
    if (!focused) return false;
    if (el === focused) return true;
    return el.localName === "option" && el.closest("select") === focused;
  }

  /**
   * `value`, `checked` and `selected` attributes only set defaults once the user interacted
   * with a control; set the live property too, except on the focused control.
   */
  function syncProperty(el, name, value, state) {
    if (el.namespaceURI !== HTML_NS || isFocused(el, state)) return;
    // An <input dj-shared-text>'s value belongs to the shared-text binding.
    if (el.hasAttribute("dj-shared-text")) return;
    const tag = el.localName;
    if (name === "value" && tag === "input") {
      // Only text-like inputs keep a separate live value; for checkboxes, buttons, hidden
      // inputs... `.value` *is* the attribute (assigning would re-create it), for file inputs
      // the browser owns it.
      if (ATTRIBUTE_VALUED_INPUTS.indexOf(el.type) >= 0) return;
      const wanted = value === null ? "" : value;
      if (el.value !== wanted) el.value = wanted;
    } else if (name === "checked" && tag === "input") {
      el.checked = value !== null;
    } else if (name === "selected" && tag === "option") {
      el.selected = value !== null;
    }
  }

  /** Remembers textareas whose text children changed, to sync their `value` afterwards. */
  function touch(parent, state) {
    if (parent && parent.nodeType === 1 && parent.localName === "textarea") state.textareas.push(parent);
  }

  function syncTextareas(state) {
    for (const ta of state.textareas) {
      if (!isFocused(ta, state) && ta.value !== ta.defaultValue) ta.value = ta.defaultValue;
    }
  }

  // ---- ops ------------------------------------------------------------------------------

  function applyOp(root, op, state) {
    if (!Array.isArray(op)) throw new Mismatch("op is not an array");
    const kind = op[0];
    const path = checkPath(op[1]);
    const depth = path.length;
    switch (kind) {
      case "t": {
        const node = resolve(root, path, depth);
        if (node.nodeType !== 3 && node.nodeType !== 8) throw new Mismatch("not text");
        node.data = String(op[2]);
        touch(node.parentNode, state);
        return;
      }
      case "a": {
        const el = element(resolve(root, path, depth));
        const value = String(op[3]);
        setAttr(el, String(op[2]), value);
        syncProperty(el, op[2], value, state);
        return;
      }
      case "ra": {
        const el = element(resolve(root, path, depth));
        removeAttr(el, String(op[2]));
        syncProperty(el, op[2], null, state);
        return;
      }
      case "i": {
        const parent = resolve(root, path, depth - 1);
        const holder = container(parent);
        const index = path[depth - 1];
        if (!(index >= 0 && index <= holder.childNodes.length)) throw new Mismatch("insert index");
        const fragment = parseFragment(contextElement(parent), String(op[2]));
        holder.insertBefore(fragment, holder.childNodes[index] || null);
        touch(parent, state);
        return;
      }
      case "rm": {
        const first = resolve(root, path, depth);
        const count = op.length > 2 ? op[2] : 1;
        const holder = first.parentNode;
        const index = path[depth - 1];
        if (!(count >= 1 && index + count <= holder.childNodes.length)) throw new Mismatch("remove count");
        for (let i = 0; i < count; i++) holder.removeChild(holder.childNodes[index]);
        touch(holder, state);
        return;
      }
      case "rp": {
        const node = resolve(root, path, depth);
        const parent = depth > 1 ? resolve(root, path, depth - 1) : root;
        const fragment = parseFragment(contextElement(parent), String(op[2]));
        node.parentNode.replaceChild(fragment, node);
        touch(parent, state);
        return;
      }
      case "mv": {
        const node = resolve(root, path, depth);
        const holder = node.parentNode;
        const to = op[2];
        // Validate before detaching: a failed op must not lose the node.
        if (!(to >= 0 && to < holder.childNodes.length)) throw new Mismatch("move index");
        holder.removeChild(node);
        holder.insertBefore(node, holder.childNodes[to] || null);
        return;
      }
      default:
        throw new Mismatch("unknown op " + kind);
    }
  }

  // ---- focus preservation ---------------------------------------------------------------

  /** Child-index path from `root` to `node`, or null (focus never sits in template content). */
  function pathOf(root, node) {
    const path = [];
    while (node && node !== root) {
      const parent = node.parentNode;
      if (!parent || parent.nodeType !== 1) return null;
      path.unshift(Array.prototype.indexOf.call(parent.childNodes, node));
      node = parent;
    }
    return node === root ? path : null;
  }

  function captureFocus(root) {
    const el = document.activeElement;
    if (!el || el === root || !root.contains(el)) return null;
    const info = {
      el: el,
      id: el.id,
      name: el.getAttribute("name"),
      tag: el.localName,
      path: pathOf(root, el),
      value: typeof el.value === "string" ? el.value : undefined,
      start: null,
      end: null,
      direction: null,
      scrollTop: el.scrollTop,
      scrollLeft: el.scrollLeft,
    };
    try {
      // Throws or is null for inputs without selection (checkbox, number, ...).
      info.start = el.selectionStart;
      info.end = el.selectionEnd;
      info.direction = el.selectionDirection;
    } catch (err) {
      info.start = null;
    }
    return info;
  }

  function findEquivalent(root, info) {
    if (info.id) {
      const byId = document.getElementById(info.id);
      if (byId && root.contains(byId) && byId.localName === info.tag) return byId;
    }
    if (info.name) {
      for (const candidate of root.querySelectorAll(info.tag)) {
        if (candidate.getAttribute("name") === info.name) return candidate;
      }
    }
    if (info.path) {
      try {
        const byPath = resolve(root, info.path, info.path.length);
        if (byPath.nodeType === 1 && byPath.localName === info.tag) return byPath;
      } catch (err) {
        if (!(err instanceof Mismatch)) throw err;
      }
    }
    return null;
  }

  function restoreFocus(root, info) {
    if (!info) return;
    let target = info.el;
    if (!target.isConnected || !root.contains(target)) {
      target = findEquivalent(root, info);
      if (!target) return;
      // The user's typing outlives the re-render of the element it went into.
      if (info.value !== undefined && typeof target.value === "string" && target.value !== info.value) {
        target.value = info.value;
      }
    }
    if (document.activeElement !== target && typeof target.focus === "function") {
      target.focus({ preventScroll: true });
    }
    if (info.start !== null && info.start !== undefined && typeof target.setSelectionRange === "function") {
      const same = target.selectionStart === info.start && target.selectionEnd === info.end &&
        target.selectionDirection === info.direction;
      if (!same) {
        try {
          target.setSelectionRange(info.start, info.end, info.direction || "none");
        } catch (err) {
          // Input types without selection support: nothing to restore.
        }
      }
    }
    if (target.scrollTop !== info.scrollTop) target.scrollTop = info.scrollTop;
    if (target.scrollLeft !== info.scrollLeft) target.scrollLeft = info.scrollLeft;
  }

  // ---- public API -----------------------------------------------------------------------

  function apply(root, ops) {
    const state = { focus: null, textareas: [] };
    let ok = true;
    try {
      state.focus = captureFocus(root);
      for (const op of ops) applyOp(root, op, state);
    } catch (err) {
      ok = false;
      if (!(err instanceof Mismatch) && typeof console !== "undefined") {
        console.warn("djust: patch failed", err);
      }
    }
    try {
      syncTextareas(state);
      restoreFocus(root, state.focus);
    } catch (err) {
      ok = false;
    }
    return ok;
  }

  // ---- full re-sync: morph the live children into a fresh parse --------------------------

  function keyOf(node) {
    if (node.nodeType !== 1) return null;
    return node.getAttribute("dj-key") || node.id || null;
  }

  function morphable(live, fresh) {
    if (live.nodeType !== fresh.nodeType) return false;
    if (live.nodeType !== 1) return true;
    return live.namespaceURI === fresh.namespaceURI && live.localName === fresh.localName &&
      keyOf(live) === keyOf(fresh) && !(live.namespaceURI === HTML_NS && live.localName === "script");
  }

  function morphAttrs(live, fresh, state) {
    const want = Array.prototype.map.call(fresh.attributes, (a) => a.name);
    const have = Array.prototype.map.call(live.attributes, (a) => a.name).filter((n) => want.indexOf(n) >= 0);
    let inPlace = 0;
    while (inPlace < have.length && have[inPlace] === want[inPlace]) inPlace++;
    for (const attr of Array.prototype.slice.call(live.attributes)) {
      const position = want.indexOf(attr.name);
      if (position < 0 || position >= inPlace) {
        removeAttr(live, attr.name);
        syncProperty(live, attr.name, null, state);
      }
    }
    for (let i = 0; i < fresh.attributes.length; i++) {
      const attr = fresh.attributes[i];
      if (i < inPlace && live.getAttribute(attr.name) === attr.value) continue;
      live.setAttributeNode(attr.cloneNode());
      syncProperty(live, attr.name, attr.value, state);
    }
  }

  function morphChildren(live, fresh, state) {
    const liveHolder = container(live);
    const freshHolder = container(fresh);
    let index = 0;
    while (freshHolder.firstChild) {
      const next = freshHolder.firstChild;
      const current = liveHolder.childNodes[index];
      if (current && morphable(current, next)) {
        morphNode(current, next, state);
        freshHolder.removeChild(next);
      } else {
        liveHolder.insertBefore(next, current || null);
        touch(live, state);
      }
      index++;
    }
    while (liveHolder.childNodes.length > index) {
      liveHolder.removeChild(liveHolder.lastChild);
      touch(live, state);
    }
  }

  function morphNode(live, fresh, state) {
    if (live.nodeType !== 1) {
      if (live.data !== fresh.data) {
        live.data = fresh.data;
        touch(live.parentNode, state);
      }
      return;
    }
    morphAttrs(live, fresh, state);
    // A shared-text field (its text belongs to the Yjs binding, shared-text.js) and an element
    // marked dj-update="ignore" keep their children: only their attributes follow the server.
    // So does a connection-state element (its text is the client's, offline.js).
    if (live.hasAttribute("dj-shared-text") || live.hasAttribute("dj-connection-state") ||
      live.getAttribute("dj-update") === "ignore") return;
    morphChildren(live, fresh, state);
  }

  function morphRoot(root, html) {
    const state = { focus: captureFocus(root), textareas: [] };
    try {
      const fresh = document.createElement("div");
      fresh.appendChild(parseFragment(contextElement(root), String(html)));
      morphChildren(root, fresh, state);
    } catch (err) {
      // Morphing cannot fail on sane input; if it does, a plain replacement is still correct.
      if (typeof console !== "undefined") console.warn("djust: morph failed, replacing", err);
      const tpl = document.createElement("template");
      tpl.innerHTML = String(html);
      container(root).replaceChildren(tpl.content);
    }
    syncTextareas(state);
    restoreFocus(root, state.focus);
    return true;
  }

  window.DjustPatch = { apply: apply, morphRoot: morphRoot };
})();
