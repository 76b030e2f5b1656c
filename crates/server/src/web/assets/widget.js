/* Switchboard web chat widget. Embed with
 *   <script src="https://HOST/widget.js" data-agent="PROJECT" async></script>
 * Options (data-*): agent, title, mode ("launcher" (default) or "page"), target (element id for
 * "page" mode). Everything the server sends is rendered as text, never as markup. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) return;
  var base = new URL(me.src, location.href).origin;
  var agent = me.getAttribute("data-agent") || "";
  var title = me.getAttribute("data-title") || "Chat with us";
  var pageMode = me.getAttribute("data-mode") === "page";
  var storeKey = "switchboard-chat:" + base + ":" + agent;
  var MAX = 256;

  var CSS = [
    ":host{all:initial;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24}",
    "*{box-sizing:border-box}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;background:#0b57d0;color:#fff;font:600 15px system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".panel{display:flex;flex-direction:column;background:#fff;overflow:hidden}",
    ".float{position:fixed;right:16px;bottom:84px;z-index:2147483000;width:min(380px,calc(100vw - 16px));height:min(600px,calc(100vh - 100px));border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.28)}",
    ".fill{width:100%;height:100%;border:1px solid #d0d7de;border-radius:12px}",
    "@media (max-width:420px){.float{right:8px;left:8px;width:auto;bottom:76px}}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#0b57d0;color:#fff}",
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    "header button{border:1px solid rgba(255,255,255,.7);background:transparent;color:#fff;border-radius:16px;padding:5px 10px;font:inherit;font-size:13px;cursor:pointer}",
    "header .close{border:0;font-size:20px;line-height:1;padding:2px 8px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fa}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".customer{align-self:flex-end;background:#0b57d0;color:#fff;border-bottom-right-radius:4px}",
    ".bot,.agent{align-self:flex-start;background:#fff;border:1px solid #d0d7de;border-bottom-left-radius:4px}",
    ".agent{border-color:#1a7f37;background:#eefbf1}",
    ".who{display:block;font-size:12px;font-weight:600;color:#1a7f37;margin-bottom:2px}",
    ".system{align-self:center;max-width:95%;font-size:13px;color:#57606a;text-align:center;background:none;padding:2px 8px}",
    ".error{align-self:center;font-size:13px;color:#b42318}",
    ".rich{align-self:flex-start;max-width:90%;display:flex;flex-direction:column;gap:6px}",
    ".chips{display:flex;flex-wrap:wrap;gap:6px}",
    ".chip{border:1px solid #0b57d0;background:#fff;color:#0b57d0;border-radius:16px;padding:6px 12px;font:inherit;font-size:14px;cursor:pointer;text-decoration:none}",
    ".card{background:#fff;border:1px solid #d0d7de;border-radius:12px;overflow:hidden}",
    ".card img,.image{display:block;max-width:100%;height:auto}",
    ".image{border-radius:12px;max-height:220px}",
    ".card .body{padding:8px 12px}",
    ".card .title{font-weight:600;margin:0}",
    ".card p{margin:2px 0;color:#424a53;font-size:14px}",
    ".card .chips{padding:0 12px 10px}",
    ".typing{display:flex;gap:4px;align-self:flex-start;padding:10px 12px;background:#fff;border:1px solid #d0d7de;border-radius:14px}",
    ".typing span{width:7px;height:7px;border-radius:50%;background:#8c959f;animation:b 1s infinite}",
    ".typing span:nth-child(2){animation-delay:.15s}.typing span:nth-child(3){animation-delay:.3s}",
    "@keyframes b{0%,60%,100%{opacity:.3}30%{opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.typing span{animation:none}}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #d0d7de;background:#fff}",
    "input{flex:1;min-width:0;border:1px solid #8c959f;border-radius:20px;padding:9px 14px;font:inherit}",
    "form button{border:0;border-radius:20px;padding:9px 16px;background:#0b57d0;color:#fff;font:inherit;font-weight:600;cursor:pointer}",
    "button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f0b429;outline-offset:2px}"
  ].join("\n");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function httpUrl(u) {
    try { var p = new URL(u); return p.protocol === "http:" || p.protocol === "https:" ? p.href : null; }
    catch (_) { return null; }
  }

  var host = document.createElement("div");
  host.setAttribute("data-switchboard-chat", "");
  var target = pageMode && document.getElementById(me.getAttribute("data-target") || "");
  (target || document.body).appendChild(host);
  if (target) host.style.height = "100%";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var style = el("style");
  style.textContent = CSS;
  root.appendChild(style);

  var launcher = null;
  var panel = el("section", "panel " + (pageMode ? "fill" : "float"));
  panel.id = "sb-panel";
  panel.setAttribute("aria-label", title);
  var header = el("header");
  var h2 = el("h2", null, title);
  var person = el("button", "person", "Talk to a person");
  person.type = "button";
  header.appendChild(h2);
  header.appendChild(person);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;
  var typing = el("div", "typing");
  typing.setAttribute("role", "status");
  typing.appendChild(el("span"));
  typing.appendChild(el("span"));
  typing.appendChild(el("span"));
  typing.appendChild(el("span", "sr", "The assistant is typing"));
  var form = el("form");
  var label = el("label", "sr", "Your message");
  label.htmlFor = "sb-input";
  var input = el("input");
  input.id = "sb-input";
  input.name = "message";
  input.maxLength = MAX;
  input.autocomplete = "off";
  input.placeholder = "Type your message";
  var send = el("button", null, "Send");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);

  if (!pageMode) {
    launcher = el("button", "launcher", title);
    launcher.type = "button";
    launcher.setAttribute("aria-controls", "sb-panel");
    launcher.setAttribute("aria-expanded", "false");
    var close = el("button", "close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    header.appendChild(close);
    panel.hidden = true;
    root.appendChild(panel);
    root.appendChild(launcher);
    launcher.addEventListener("click", function () { toggle(panel.hidden); });
    close.addEventListener("click", function () { toggle(false); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
  } else {
    root.appendChild(panel);
  }

  var chat = null;
  var seen = {};
  var status = "bot";
  var events = null;
  var busy = 0;

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { ensure(); input.focus(); } else { launcher.focus(); }
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "null"); } catch (_) { return null; }
  }
  function save(c) {
    try { if (c) localStorage.setItem(storeKey, JSON.stringify(c)); else localStorage.removeItem(storeKey); } catch (_) {}
  }

  function post(path, body) {
    return fetch(base + "/chat/api/" + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var err = new Error((j.error && j.error.message) || ("HTTP " + r.status));
          err.status = r.status;
          throw err;
        }
        return j;
      });
    });
  }

  function scroll() { log.scrollTop = log.scrollHeight; }
  function showTyping(on) {
    if (on) log.appendChild(typing); else if (typing.parentNode) typing.parentNode.removeChild(typing);
    scroll();
  }

  function chipButton(o) {
    var url = o.url && httpUrl(o.url);
    var b;
    if (url) {
      b = el("a", "chip", o.text);
      b.href = url;
      b.target = "_blank";
      b.rel = "noopener noreferrer";
    } else {
      b = el("button", "chip", o.text);
      b.type = "button";
      b.addEventListener("click", function () { say(String(o.text)); });
    }
    return b;
  }

  function renderRich(r) {
    if (r.type === "chips") {
      var c = el("div", "chips");
      (r.options || []).forEach(function (o) { c.appendChild(chipButton(o)); });
      return c;
    }
    if (r.type === "image") {
      var src = httpUrl(r.url);
      if (!src) return null;
      var img = el("img", "image");
      img.src = src;
      img.alt = r.alt || "";
      img.loading = "lazy";
      return img;
    }
    if (r.type === "card") {
      var card = el("div", "card");
      var isrc = r.image && httpUrl(r.image);
      if (isrc) { var ci = el("img"); ci.src = isrc; ci.alt = ""; ci.loading = "lazy"; card.appendChild(ci); }
      var body = el("div", "body");
      var link = r.url && httpUrl(r.url);
      if (r.title) {
        var t = el("p", "title");
        if (link) { var a = el("a", null, r.title); a.href = link; a.target = "_blank"; a.rel = "noopener noreferrer"; t.appendChild(a); }
        else t.textContent = r.title;
        body.appendChild(t);
      }
      if (r.subtitle) body.appendChild(el("p", null, r.subtitle));
      (r.lines || []).forEach(function (l) { body.appendChild(el("p", null, l)); });
      card.appendChild(body);
      if (r.buttons && r.buttons.length) {
        var bc = el("div", "chips");
        r.buttons.forEach(function (o) { bc.appendChild(chipButton(o)); });
        card.appendChild(bc);
      }
      return card;
    }
    return null;
  }

  function render(e) {
    if (e.seq != null) {
      if (seen[e.seq]) return;
      seen[e.seq] = true;
    }
    var who = e.who;
    if (who === "note") return;
    var showTy = typing.parentNode === log;
    if (showTy) log.removeChild(typing);
    if (e.text) {
      var m = el("div", "msg " + who);
      m.setAttribute("data-who", who);
      if (e.seq != null) m.setAttribute("data-seq", e.seq);
      if (who === "agent") m.appendChild(el("span", "who", e.agent || "Agent"));
      m.appendChild(document.createTextNode(e.text));
      log.appendChild(m);
    }
    if (e.rich && e.rich.length) {
      var box = el("div", "rich");
      e.rich.forEach(function (r) { var n = renderRich(r); if (n) box.appendChild(n); });
      if (box.childNodes.length) log.appendChild(box);
    }
    if (showTy) log.appendChild(typing);
    scroll();
  }

  function note(text) {
    var n = el("div", "error", text);
    n.setAttribute("role", "alert");
    log.appendChild(n);
    scroll();
  }

  function listen() {
    if (events) events.close();
    if (!window.EventSource || !chat) return;
    var c = chat;
    events = new EventSource(base + "/chat/api/events?id=" + encodeURIComponent(c.id) + "&key=" + encodeURIComponent(c.key));
    events.onmessage = function (m) {
      var ev;
      try { ev = JSON.parse(m.data); } catch (_) { return; }
      if (ev.type === "entry") render(ev.entry);
      else if (ev.type === "status") status = ev.status;
    };
    events.addEventListener("resync", function () { resume(c); });
  }

  function reset() {
    chat = null;
    seen = {};
    status = "bot";
    save(null);
    if (events) { events.close(); events = null; }
  }

  function apply(j) {
    (j.entries || []).forEach(render);
    if (j.status) status = j.status;
  }

  var starting = null;
  function start() {
    if (starting) return starting;
    showTyping(true);
    starting = post("start", { agent: agent }).then(function (j) {
      chat = { id: j.id, key: j.key };
      save(chat);
      showTyping(false);
      apply(j);
      listen();
      starting = null;
      return chat;
    }, function (e) {
      showTyping(false);
      starting = null;
      note("The chat is unavailable right now (" + e.message + ").");
      throw e;
    });
    return starting;
  }

  function resume(c) {
    return post("history", c).then(function (j) {
      chat = c;
      seen = {};
      while (log.firstChild) log.removeChild(log.firstChild);
      apply(j);
      listen();
      return chat;
    }, function (e) {
      if (e.status === 410) { reset(); return start(); }
      note("Could not reload the chat (" + e.message + ").");
      throw e;
    });
  }

  var ensured = null;
  function ensure() {
    if (chat) return Promise.resolve(chat);
    if (!ensured) {
      var c = load();
      ensured = (c && c.id && c.key ? resume(c) : start()).then(function (x) { ensured = null; return x; }, function (e) { ensured = null; throw e; });
    }
    return ensured;
  }

  function say(text, retried) {
    text = String(text).trim().slice(0, MAX);
    if (!text) return;
    ensure().then(function (c) {
      if (!retried) {
        var m = el("div", "msg customer");
        m.setAttribute("data-who", "customer");
        m.textContent = text;
        log.appendChild(m);
      }
      if (status !== "agent") { busy++; showTyping(true); }
      return post("say", { id: c.id, key: c.key, text: text }).then(function (j) {
        if (--busy <= 0) { busy = 0; showTyping(false); }
        apply(j);
      }, function (e) {
        if (--busy <= 0) { busy = 0; showTyping(false); }
        if (e.status === 410 && !retried) { reset(); return start().then(function () { say(text, true); }); }
        note("Message not sent: " + e.message);
      });
    }).catch(function () {});
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = input.value;
    input.value = "";
    say(t);
    input.focus();
  });
  person.addEventListener("click", function () {
    ensure().then(function (c) { return post("person", c); }).then(apply, function (e) { note("Could not reach a person: " + e.message); });
  });

  if (pageMode) { ensure().catch(function () {}); }
})();
