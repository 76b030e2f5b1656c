/* Switchboard console: live conversations over SSE, the handoff queue, history, take over,
 * reply, call, resolve. Every string from the server is set with textContent. */
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var me = document.querySelector('meta[name="console-user"]').content;
  var $ = function (id) { return document.getElementById(id); };
  var convs = {};          // id -> meta of live conversations
  var selected = null;     // id
  var current = null;      // full conversation shown
  var dial = null;
  var drawPending = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function time(t) {
    var d = new Date(t);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  function dateTime(t) {
    var d = new Date(t);
    return isNaN(d) ? "" : d.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  }
  function api(method, path, body) {
    var opt = { method: method, headers: { "x-csrf-token": csrf }, credentials: "same-origin" };
    if (body !== undefined) { opt.headers["content-type"] = "application/json"; opt.body = JSON.stringify(body); }
    return fetch("/console/api/" + path, opt).then(function (r) {
      if (r.status === 401) { location.href = "/console/login"; throw new Error("signed out"); }
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || ("HTTP " + r.status));
        return j;
      });
    });
  }

  // ---- lists -------------------------------------------------------------------------------
  function statusName(m) { return m.status && m.status.state || "bot"; }
  function queuedSince(m) { return m.status && m.status.since || m.started_at; }

  function item(m) {
    var li = el("li");
    li.setAttribute("data-id", m.id);
    var b = el("button");
    b.type = "button";
    if (m.id === selected) b.setAttribute("aria-current", "true");
    var l1 = el("span", "l1");
    var name = el("span", "who");
    name.appendChild(el("span", "chan", m.channel === "phone" ? "Phone" : "Chat"));
    name.appendChild(document.createTextNode(" " + (m.phone || m.id)));
    l1.appendChild(name);
    var st = statusName(m);
    var badge = el("span", "badge " + st, st === "agent" ? (m.status.agent || "agent") : st);
    l1.appendChild(badge);
    b.appendChild(l1);
    var sub = st === "queued" ? ("waiting since " + time(queuedSince(m)) + " · " + (m.status.reason || "")) : (m.last_text || "");
    b.appendChild(el("span", "l2", sub));
    b.addEventListener("click", function () { open(m.id); });
    li.appendChild(b);
    return li;
  }

  function fill(list, empty, items) {
    var ul = $(list);
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    items.forEach(function (m) { ul.appendChild(item(m)); });
    $(empty).hidden = items.length > 0;
  }

  function draw() {
    drawPending = false;
    var all = Object.keys(convs).map(function (k) { return convs[k]; });
    var queue = all.filter(function (m) { return statusName(m) === "queued"; })
      .sort(function (a, b) { return new Date(queuedSince(a)) - new Date(queuedSince(b)); });
    var live = all.filter(function (m) { return statusName(m) !== "queued"; })
      .sort(function (a, b) { return new Date(b.updated_at) - new Date(a.updated_at); });
    fill("queue-list", "queue-empty", queue);
    fill("live-list", "live-empty", live);
    $("count-queue").textContent = queue.length ? String(queue.length) : "";
    $("count-live").textContent = String(live.length);
  }
  function redraw() {
    if (!drawPending) { drawPending = true; requestAnimationFrame(draw); }
  }

  function upsert(m) {
    if (m.status && (m.status.state === "resolved" || m.status.state === "ended")) delete convs[m.id];
    else convs[m.id] = m;
    if (current && current.id === m.id) { Object.assign(current, m); head(); }
    redraw();
  }

  // ---- one conversation --------------------------------------------------------------------
  function nluView(n) {
    var box = el("div", "nlu");
    var intent = el("span", "intent", "intent: " + (n.intent || "none") + " (" + Math.round((n.confidence || 0) * 100) + "%)");
    box.appendChild(intent);
    Object.keys(n.parameters || {}).forEach(function (k) {
      var v = n.parameters[k];
      if (v === "" || v == null || (Array.isArray(v) && !v.length)) return;
      box.appendChild(el("span", "param", k + ": " + (typeof v === "string" ? v : JSON.stringify(v))));
    });
    if (n.sentiment) {
      var s = n.sentiment.score;
      box.appendChild(el("span", s <= -0.25 ? "neg" : s >= 0.25 ? "pos" : "neu", "sentiment " + s.toFixed(2)));
    }
    return box;
  }

  var WHO = { customer: "Customer", bot: "Bot", agent: "Agent", system: "System", note: "Note" };
  function entryView(e) {
    var li = el("li", e.who);
    li.setAttribute("data-seq", e.seq);
    var hd = el("div", "hd");
    hd.appendChild(el("b", null, e.who === "agent" ? (e.agent || "Agent") : WHO[e.who] || e.who));
    hd.appendChild(el("span", null, time(e.at)));
    li.appendChild(hd);
    li.appendChild(el("div", "tx", e.text));
    (e.rich || []).forEach(function (r) {
      var t = r.type === "chips" ? "chips: " + (r.options || []).map(function (o) { return o.text; }).join(" · ")
        : r.type === "card" ? "card: " + (r.title || "") : r.type === "image" ? "image: " + (r.alt || r.url) : "";
      if (t) li.appendChild(el("div", "hd", t));
    });
    if (e.nlu) li.appendChild(nluView(e.nlu));
    return li;
  }

  function append(e) {
    if (!current) return;
    var ol = $("transcript");
    var old = ol.querySelector('li[data-seq="' + e.seq + '"]');
    var node = entryView(e);
    if (old) ol.replaceChild(node, old); else ol.appendChild(node);
    current.entries[e.seq] = e;
    var d = $("detail");
    d.scrollTop = d.scrollHeight;
  }

  function head() {
    var c = current;
    var st = statusName(c);
    $("conv-title").textContent = (c.channel === "phone" ? "Phone call " : "Chat ") + c.id;
    var bits = ["started " + dateTime(c.started_at), "status: " + st + (st === "agent" ? " (" + c.status.agent + ")" : "")];
    if (c.phone) bits.push("phone " + c.phone);
    (c.calls || []).forEach(function (k) { bits.push(k.leg + " call " + k.status); });
    $("conv-meta").textContent = bits.join(" · ");
    var reason = c.handoff_reason;
    $("conv-reason").hidden = !reason;
    $("conv-reason").textContent = reason ? "Handoff reason: " + reason : "";
    var live = !!convs[c.id];
    var mine = st === "agent" && c.status.agent === me;
    $("btn-take").disabled = !live || c.channel !== "chat" || st === "agent";
    $("btn-handback").disabled = !live || !mine;
    $("btn-call").disabled = !live || !c.phone || !dial;
    $("btn-call").title = !dial ? "Calls are not configured on this server" : !c.phone ? "The customer left no phone number" : "Call the customer and your phone into one conference";
    $("btn-resolve").disabled = !live;
    $("btn-export").href = "/console/api/conversations/" + encodeURIComponent(c.id) + "/export";
    $("reply-form").hidden = !(live && mine && c.channel === "chat");
  }

  function open(id) {
    selected = id;
    redraw();
    return api("GET", "conversations/" + encodeURIComponent(id)).then(function (c) {
      if (selected !== id) return;
      current = c;
      $("placeholder").hidden = true;
      $("conversation").hidden = false;
      $("layout").classList.add("open");
      $("action-error").hidden = true;
      var ol = $("transcript");
      while (ol.firstChild) ol.removeChild(ol.firstChild);
      var entries = c.entries || [];
      current.entries = [];
      entries.forEach(append);
      head();
      $("detail").focus();
    }, showError);
  }

  function showError(e) {
    var p = $("action-error");
    p.textContent = e.message;
    p.hidden = false;
  }

  function act(what, body) {
    if (!current) return Promise.resolve();
    $("action-error").hidden = true;
    return api("POST", "conversations/" + encodeURIComponent(current.id) + "/" + what, body).catch(showError);
  }

  $("btn-take").addEventListener("click", function () { act("take").then(function () { $("reply-text").focus(); }); });
  $("btn-handback").addEventListener("click", function () { act("handback"); });
  $("btn-call").addEventListener("click", function () { act("call"); });
  $("btn-resolve").addEventListener("click", function () { act("resolve"); });
  $("btn-back").addEventListener("click", function () {
    $("layout").classList.remove("open");
    selected = null;
    redraw();
  });
  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var t = $("reply-text").value.trim();
    if (!t) return;
    act("reply", { text: t }).then(function (r) { if (r) $("reply-text").value = ""; });
  });
  $("reply-text").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("reply-send").click(); }
  });

  // ---- tabs ----------------------------------------------------------------------------------
  var tabs = ["queue", "live", "history"];
  function showTab(name) {
    tabs.forEach(function (t) {
      var b = $("tab-" + t);
      var on = t === name;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
      $("pane-" + t).hidden = !on;
    });
  }
  tabs.forEach(function (t, i) {
    var b = $("tab-" + t);
    b.addEventListener("click", function () { showTab(t); });
    b.addEventListener("keydown", function (e) {
      var d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!d) return;
      var n = tabs[(i + d + tabs.length) % tabs.length];
      showTab(n);
      $("tab-" + n).focus();
    });
  });

  $("history-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = new URLSearchParams();
    ["from", "to", "intent", "text"].forEach(function (k) {
      var v = $("h-" + k).value.trim();
      if (v) q.set(k, v);
    });
    api("GET", "history?" + q.toString()).then(function (r) {
      fill("history-list", "history-empty", r.conversations || []);
    }, showError);
  });

  // ---- live updates --------------------------------------------------------------------------
  function load() {
    return api("GET", "state").then(function (s) {
      dial = s.dial;
      convs = {};
      (s.queue || []).concat(s.live || []).forEach(function (m) { convs[m.id] = m; });
      draw();
      if (selected) open(selected);
    });
  }

  function connect() {
    var es = new EventSource("/console/api/events");
    es.addEventListener("ready", function () {
      $("conn").textContent = "Live";
      $("conn").classList.add("on");
      load();
    });
    es.addEventListener("resync", load);
    es.onmessage = function (m) {
      var ev;
      try { ev = JSON.parse(m.data); } catch (_) { return; }
      if (ev.type === "conv") upsert(ev.conv);
      else if (ev.type === "entry" && current && ev.conv === current.id) append(ev.entry);
      else if (ev.type === "nlu" && current && ev.conv === current.id && current.entries[ev.seq]) {
        current.entries[ev.seq].nlu = ev.nlu;
        append(current.entries[ev.seq]);
      }
    };
    es.onerror = function () {
      $("conn").textContent = "Reconnecting…";
      $("conn").classList.remove("on");
    };
  }
  connect();
})();
