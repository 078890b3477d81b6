// The live list on `/`: new alerts arrive over Server-Sent Events (/api/events) and are put on
// top, built with textContent only (no HTML from a feed is ever parsed). EventSource reconnects
// by itself with Last-Event-ID, so nothing is missed while the connection is down.
(function () {
  "use strict";
  var list = document.getElementById("alerts");
  if (!list || !window.EventSource) return;
  var channels = JSON.parse(list.getAttribute("data-channels") || "[]");
  if (!channels.length) return;
  var limit = parseInt(list.getAttribute("data-limit"), 10) || 50;
  var params = new URLSearchParams();
  channels.forEach(function (c) { params.append("channel", c); });
  var position = list.getAttribute("data-position");
  if (position) params.set("since", position);
  var live = document.getElementById("live");
  var empty = document.getElementById("empty");

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url.trim()) ? url.trim() : null;
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function link(url, text) {
    var href = safeUrl(url);
    if (!href) return document.createTextNode(text);
    var a = el("a", null, text);
    a.href = href;
    a.rel = "noopener noreferrer";
    return a;
  }
  function moment(text) {  // as the page shows it: 2026-11-30 05:30:11 UTC
    var found = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)Z$/.exec(text || "");
    return found ? found[1] + " " + found[2] + " UTC" : (text || "");
  }
  function card(alert) {
    var article = alert.article || {}, matched = alert.matched || {};
    var dateline = article.dateline || {}, source = article.source || {};
    var li = el("li", "alert fresh");
    li.setAttribute("data-key", alert.alert_id || "");
    var meta = el("div", "meta");
    var time = el("time", null, moment(alert.created_at));
    time.setAttribute("datetime", alert.created_at || "");
    meta.append(el("span", "rule", alert.rule_id), " ", el("span", "channel", alert.channel),
                " ", time);
    li.append(meta);
    var h = el("h2", "title");
    h.append(link(article.url, article.title || "(no title)"));
    li.append(h);
    var where = ["place", "date", "agency"].map(function (k) { return dateline[k]; })
      .filter(Boolean).join(" · ");
    if (where || source.name) {
      li.append(el("p", "dateline", where + (where && source.name ? " — " : "") + (source.name || "")));
    }
    var tags = el("p", "matched");
    (matched.terms || []).forEach(function (t) { tags.append(el("span", "term", t)); });
    (matched.entities || []).forEach(function (e) {
      tags.append(el("span", "entity", (e.label || "") + " " + (e.name || "")));
    });
    li.append(tags);
    if (alert.snippet) li.append(el("blockquote", "snippet", alert.snippet));
    var outlets = alert.also_seen_in || [];
    if (outlets.length) {
      var p = el("p", "outlets", "Also in: ");
      outlets.forEach(function (o, i) {
        if (i) p.append(", ");
        p.append(link(o.url, o.name || o.url || ""));
      });
      li.append(p);
    }
    return li;
  }
  function known(key) {
    return Array.prototype.some.call(list.children, function (li) {
      return li.getAttribute("data-key") === key;
    });
  }

  var source = new EventSource("/api/events?" + params.toString());
  source.addEventListener("open", function () {
    live.hidden = false;
    live.textContent = "live";
    live.className = "live";
  });
  source.addEventListener("error", function () {
    live.hidden = false;
    live.textContent = "reconnecting…";
    live.className = "live down";
  });
  source.addEventListener("alert", function (event) {
    var alert;
    try { alert = JSON.parse(event.data); } catch (e) { return; }
    if (alert.alert_id && known(alert.alert_id)) return;
    list.insertBefore(card(alert), list.firstChild);
    while (list.children.length > limit) list.removeChild(list.lastChild);
    if (empty) empty.hidden = true;
  });
})();
