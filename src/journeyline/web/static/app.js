/* journeyline dashboard: live updates over /v1/stream (the session cookie signs the socket in)
   and the intelligence graph drawn as SVG columns. No dependencies. */
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");
  var status = document.getElementById("live-status");
  var SVG = "http://www.w3.org/2000/svg";
  var timers = {};

  function setStatus(state, text) {
    if (!status) return;
    status.setAttribute("data-state", state);
    status.textContent = text;
  }

  // Refetch a server-rendered fragment, at most once per 300 ms however many messages arrive.
  function refresh(element) {
    var url = element.getAttribute("data-refresh");
    if (timers[url]) return;
    timers[url] = setTimeout(function () {
      timers[url] = null;
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null) element.innerHTML = html;
      }).catch(function () { /* the next message tries again */ });
    }, 300);
  }

  function refreshAll() {
    var sections = document.querySelectorAll("[data-refresh]");
    for (var i = 0; i < sections.length; i++) refresh(sections[i]);
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (text !== null && typeof text === "object") td.appendChild(text);
    else td.textContent = text == null ? "" : text;
    row.appendChild(td);
  }

  var BADGES = { direct: "client", internal: "server", external: "provider" };

  function prependEvent(data) {
    var feed = document.getElementById("feed");
    if (!feed) return;
    var empty = document.getElementById("feed-empty");
    if (empty) empty.parentNode.removeChild(empty);
    var row = document.createElement("tr");
    row.className = "fresh";
    row.setAttribute("data-event-id", data.event_id);
    var when = document.createElement("time");
    when.setAttribute("datetime", data.occurred_at || "");
    when.textContent = (data.occurred_at || "").replace("T", " ").slice(0, 19) + " UTC";
    cell(row, when, "when");
    var badge = document.createElement("span");
    var who = BADGES[data.source_type] || data.source_type;
    badge.className = "badge " + who;
    badge.textContent = who;
    cell(row, badge);
    cell(row, data.event_type, "type");
    cell(row, data.event_name);
    cell(row, data.source);
    if (data.profile_id) {
      var link = document.createElement("a");
      link.href = "/app/profiles/" + data.profile_id;
      link.setAttribute("data-person", data.profile_id);
      link.textContent = "…";  // named by charts.js (people.json): never a hex id
      cell(row, link, "person");
    } else cell(row, "");
    feed.insertBefore(row, feed.firstChild);
    while (feed.children.length > 100) feed.removeChild(feed.lastChild);
  }

  function handle(message) {
    // Other scripts of the page (charts.js) hear every message too.
    document.dispatchEvent(new CustomEvent("journeyline:message", { detail: message }));
    if (message.type === "ready") { setStatus("live", "live"); return; }
    if (message.type === "ping") return;
    if (message.type === "event.ingested" && page === "overview") prependEvent(message.data);
    if (page === "intelligence" && /^graph\./.test(message.type)) scheduleGraph();
    if (message.type === "resync" && page === "intelligence") scheduleGraph();
    refreshAll();
  }

  var retry = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try { socket = new WebSocket(scheme + location.host + "/v1/stream"); } catch (e) { return; }
    socket.onopen = function () { retry = 1000; };
    socket.onmessage = function (event) {
      try { handle(JSON.parse(event.data)); } catch (e) { /* a malformed message is skipped */ }
    };
    socket.onclose = function () {
      setStatus("offline", "reconnecting…");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  // The graph: one column per node type, nodes in key order, edges as lines between them.
  var COLUMNS = ["Campaign", "Channel", "Customer", "Touchpoint", "Stage"];
  var graphTimer = null;

  function scheduleGraph() {
    if (graphTimer) return;
    graphTimer = setTimeout(function () { graphTimer = null; loadGraph(); }, 300);
  }

  function loadGraph() {
    var figure = document.getElementById("graph");
    if (!figure) return;
    fetch(figure.getAttribute("data-source"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (graph) { if (graph) drawGraph(graph); })
      .catch(function () { /* the next message tries again */ });
  }

  function svg(name, attributes, parent) {
    var element = document.createElementNS(SVG, name);
    for (var key in attributes) element.setAttribute(key, attributes[key]);
    parent.appendChild(element);
    return element;
  }

  function drawGraph(graph) {
    var root = document.getElementById("graph-svg");
    while (root.firstChild) root.removeChild(root.firstChild);
    var columns = COLUMNS.filter(function (type) {
      return graph.nodes.some(function (node) { return node.type === type; });
    });
    // The last column's labels need room to its right. Columns share one height (at most 40
    // rows); a crowded column packs its nodes closer and drops their labels.
    var width = Math.max(640, columns.length * 190), right = 150, top = 40, row = 22;
    var counts = columns.map(function (type) {
      return graph.nodes.filter(function (node) { return node.type === type; }).length;
    });
    var height = top + Math.min(40, Math.max.apply(null, counts.concat([1]))) * row + 20;
    var position = {};
    columns.forEach(function (type, index) {
      var nodes = graph.nodes.filter(function (node) { return node.type === type; });
      var step = Math.min(row, (height - top - 20) / Math.max(1, nodes.length - 1));
      var x = 40 + index * ((width - 40 - right) / Math.max(1, columns.length - 1));
      nodes.forEach(function (node, at) {
        position[node.id] = { x: x, y: top + at * step, node: node, labelled: step >= 12 };
      });
    });
    root.setAttribute("width", width);
    root.setAttribute("height", height);
    var edges = svg("g", { "class": "edges" }, root);
    graph.edges.forEach(function (edge) {
      var from = position[edge.source], to = position[edge.target];
      if (!from || !to) return;
      svg("line", { x1: from.x, y1: from.y, x2: to.x, y2: to.y, "class": "edge-" + edge.type }, edges);
    });
    columns.forEach(function (type) {
      var first = graph.nodes.filter(function (node) { return node.type === type; })[0];
      var x = position[first.id].x;
      var title = svg("text", { x: x, y: 18, "text-anchor": "middle", "class": "column-title" }, root);
      title.textContent = type + "s";
    });
    var nodes = svg("g", { "class": "nodes" }, root);
    Object.keys(position).forEach(function (id) {
      var placed = position[id];
      var group = svg("g", { "class": "node", "data-type": placed.node.type }, nodes);
      var radius = placed.labelled ? 6 : 3;
      svg("circle", { cx: placed.x, cy: placed.y, r: radius, "class": "node-" + placed.node.type }, group);
      if (placed.labelled) {
        var label = svg("text", { x: placed.x + 9, y: placed.y + 4 }, group);
        var text = placed.node.type === "Customer" ? placed.node.label.slice(-8) : placed.node.label;
        label.textContent = text.length > 22 ? text.slice(0, 21) + "…" : text;
      }
      var tip = svg("title", {}, group);
      tip.textContent = placed.node.type + ": " + placed.node.key;
    });
    root.setAttribute("data-nodes", String(graph.nodes.length));
  }

  // Copy a webhook connection's inbound URL: the button names it in data-copy.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      button.textContent = "Copied";
    }).catch(function () { button.textContent = "Copy failed"; });
  });

  // A form that names a question in data-confirm is sent only once the user agrees (the
  // Settings page's revoke): a listener here, since the CSP allows no inline handler.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  if (page === "intelligence") loadGraph();
  connect();
})();
