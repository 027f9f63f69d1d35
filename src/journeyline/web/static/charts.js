/* journeyline dashboard charts, drawn with the vendored Apache ECharts (echarts.min.js, decision
   67): the Overview's activity, the funnel, the flows (Sankey), attribution bars and one
   customer's journey (graph). Data comes from /app/charts/*.json; live messages (app.js
   re-dispatches them as "journeyline:message") redraw at most once a second. Tooltips render
   as rich text, never HTML: the dashboard's CSP allows no inline style. */
(function () {
  "use strict";
  var charts = {};
  var zone = (Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC";
  var offset = -new Date().getTimezoneOffset();
  var STAGES = ["awareness", "interest", "consideration", "conversion", "retention"];
  var timeFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit"
  });
  window.journeylineCharts = charts;  // the browser tests read the drawn series from here

  function chart(id) {
    var element = document.getElementById(id);
    if (!element || typeof echarts === "undefined") return null;
    if (!charts[id]) {
      charts[id] = echarts.init(element, null, { renderer: "canvas" });
      // Marked once the drawing (and its animation) is complete: screenshots wait for it.
      charts[id].on("finished", function () { element.setAttribute("data-drawn", "1"); });
    }
    return charts[id];
  }

  function tooltip(trigger) {
    return { trigger: trigger, renderMode: "richText", confine: true };
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body.error && body.error.message) || "request failed");
        return body;
      });
    });
  }

  // Times: every <time datetime> shown in the viewer's zone, the zone named.
  function localize(root) {
    var times = (root || document).querySelectorAll("time[datetime]:not([data-local])");
    for (var i = 0; i < times.length; i++) {
      var at = new Date(times[i].getAttribute("datetime"));
      if (isNaN(at.getTime())) continue;
      times[i].textContent = timeFormat.format(at);
      times[i].setAttribute("data-local", "1");
      times[i].title = at.toISOString();
    }
    var zones = document.querySelectorAll("[data-zone]");
    for (var j = 0; j < zones.length; j++) zones[j].textContent = "times in " + zone;
  }

  // People: feed rows added live are named by people.json (a name, else an email).
  function name(root) {
    var links = (root || document).querySelectorAll("a[data-person]:not([data-named])");
    var ids = [];
    for (var i = 0; i < links.length && ids.length < 100; i++) {
      var id = links[i].getAttribute("data-person");
      if (ids.indexOf(id) < 0) ids.push(id);
    }
    if (!ids.length) return;
    getJson("/app/charts/people.json?" + ids.map(function (id) { return "id=" + id; }).join("&"))
      .then(function (body) {
        for (var i = 0; i < links.length; i++) {
          var label = body.people[links[i].getAttribute("data-person")];
          if (label) { links[i].textContent = label; links[i].setAttribute("data-named", "1"); }
        }
      }).catch(function () { /* the next message tries again */ });
  }

  // The range form: preset or custom days; its query string goes to every chart of the page.
  var form = document.querySelector("[data-range-form]");
  function rangeQuery() {
    var query = ["offset=" + offset];
    if (!form) return query.join("&");
    var data = new FormData(form);
    data.forEach(function (value, key) { if (value !== "") query.push(key + "=" + encodeURIComponent(value)); });
    return query.join("&");
  }
  function showError(message) {
    var box = form && form.querySelector("[data-range-error]");
    if (!box) return;
    box.hidden = !message;
    box.textContent = message || "";
  }
  function showCustom() {
    if (!form) return;
    var custom = form.querySelector("select[name=range]").value === "custom";
    var labels = form.querySelectorAll("label.custom");
    for (var i = 0; i < labels.length; i++) labels[i].hidden = !custom;
  }

  function axisLabel(ms, bucketSeconds) {
    var at = new Date(ms);
    var options = bucketSeconds < 86400
      ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { month: "short", day: "numeric" };
    return new Intl.DateTimeFormat(undefined, options).format(at);
  }

  function stacked(id, labels, series) {
    var target = chart(id);
    if (!target) return;
    target.setOption({
      tooltip: tooltip("axis"),
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value", minInterval: 1 },
      series: Object.keys(series).map(function (key) {
        return { name: key, type: "bar", stack: "all", data: series[key] };
      })
    }, true);
  }

  function drawActivity() {
    if (!document.getElementById("chart-activity")) return;
    getJson("/app/charts/activity.json?" + rangeQuery()).then(function (body) {
      showError(null);
      var labels = body.buckets.map(function (ms) { return axisLabel(ms, body.bucket_seconds); });
      chart("chart-activity").setOption({
        tooltip: tooltip("axis"),
        legend: { top: 0 },
        grid: { left: 40, right: 40, top: 32, bottom: 28 },
        xAxis: { type: "category", data: labels },
        yAxis: [{ type: "value", name: "events", minInterval: 1 }, { type: "value", name: "people", minInterval: 1 }],
        series: [
          { name: "events", type: "bar", data: body.events },
          { name: "active people", type: "line", yAxisIndex: 1, data: body.people }
        ]
      }, true);
      stacked("chart-sources", labels, body.by_source);
      stacked("chart-types", labels, body.by_type);
    }).catch(function (error) { showError(error.message); });
  }

  function percent(rate) { return rate === null ? "–" : (rate * 100).toFixed(1) + "%"; }

  function drawFunnel() {
    if (!document.getElementById("chart-funnel")) return;
    getJson("/app/charts/funnel.json?" + rangeQuery()).then(function (body) {
      showError(null);
      var rows = [body.total].concat(body.breakdown);
      chart("chart-funnel").setOption({
        tooltip: tooltip("axis"),
        legend: { type: "scroll", top: 0 },
        grid: { left: 48, right: 16, top: 32, bottom: 28 },
        xAxis: { type: "category", data: body.stages },
        yAxis: { type: "value", name: "customers", minInterval: 1 },
        series: rows.map(function (row) {
          return {
            name: row.key === null ? "everyone" : row.key, type: "bar", data: row.reached,
            label: row.key === null ? { show: true, position: "top" } : { show: false }
          };
        })
      }, true);
      var table = document.getElementById("funnel-table");
      var head = "<tr><th>" + (body.by || "") + "</th>" + body.stages.map(function (stage, at) {
        return "<th>" + stage + "</th>" + (at < body.stages.length - 1 ? "<th class=\"rate\">→</th>" : "");
      }).join("") + "</tr>";
      table.tHead.innerHTML = head;
      var tbody = table.tBodies[0];
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      rows.forEach(function (row) {
        var tr = document.createElement("tr");
        var cells = [row.key === null ? "everyone" : row.key];
        row.reached.forEach(function (count, at) {
          cells.push(String(count));
          if (at < row.rates.length) cells.push(percent(row.rates[at]));
        });
        cells.forEach(function (text, at) {
          var td = document.createElement(at === 0 ? "th" : "td");
          td.textContent = text;
          if (at > 0 && at % 2 === 0) td.className = "rate";
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
    }).catch(function (error) { showError(error.message); });
  }

  var COLUMN_COLORS = ["#e8590c", "#0ca678", "#ae3ec9"];

  function drawFlows() {
    if (!document.getElementById("chart-flows")) return;
    getJson("/app/charts/flows.json?range=90d&offset=" + offset).then(function (body) {
      chart("chart-flows").setOption({
        tooltip: tooltip("item"),
        series: [{
          type: "sankey", layoutIterations: 0, nodeGap: 10, left: 8, right: 120,
          emphasis: { focus: "adjacency" },
          lineStyle: { color: "gradient", opacity: 0.35 },
          label: { formatter: function (params) { return params.data.title; } },
          data: body.nodes.map(function (node) {
            return { name: node.id, title: node.label, depth: node.column, itemStyle: { color: COLUMN_COLORS[node.column] } };
          }),
          links: body.links
        }]
      }, true);
    }).catch(function () { /* the next message tries again */ });
  }

  function bars(id, rows, key) {
    var target = chart(id);
    if (!target) return;
    var sorted = rows.slice().sort(function (a, b) { return a.credit - b.credit; });
    target.setOption({
      tooltip: tooltip("axis"),
      legend: { top: 0 },
      grid: { left: 110, right: 24, top: 56, bottom: 24 },
      yAxis: { type: "category", data: sorted.map(function (row) { return row[key]; }) },
      xAxis: [{ type: "value", name: "credit", position: "bottom" }, { type: "value", name: "revenue", position: "top" }],
      series: [
        { name: "credit", type: "bar", data: sorted.map(function (row) { return row.credit; }) },
        { name: "revenue", type: "bar", xAxisIndex: 1, data: sorted.map(function (row) { return row.revenue; }) }
      ]
    }, true);
  }

  function drawAttribution() {
    var holder = document.getElementById("attribution-charts");
    if (!holder) return;
    getJson("/app/charts/attribution.json?model=" + encodeURIComponent(holder.getAttribute("data-model")))
      .then(function (body) {
        bars("chart-attribution-campaigns", body.campaigns, "campaign_id");
        bars("chart-attribution-channels", body.channels, "channel");
      }).catch(function () { /* the next message tries again */ });
  }

  // One customer's journey: touchpoints left to right in time order; campaigns above, channels
  // below, the stages each touchpoint moved them into on top.
  var journeyCustomer = null;

  function drawJourney(body) {
    var target = chart("chart-journey");
    if (!target) return;
    document.getElementById("journey-title").textContent =
      body.label + (body.email && body.email !== body.label ? " <" + body.email + ">" : "") +
      " · " + body.steps.length + " touchpoints · now at " + (body.stage || "no stage");
    var nodes = [], links = [], seen = {};
    function node(id, label, x, y, category, size) {
      if (seen[id]) return;
      seen[id] = true;
      nodes.push({ name: id, title: label, x: x, y: y, category: category, symbolSize: size });
    }
    var step = 90;
    var columns = {};
    body.steps.forEach(function (touch, at) {
      var x = at * step, id = "touch:" + touch.event_id;
      node(id, touch.event_name || touch.event_type, x, 200, 0, 12);
      if (at > 0) links.push({ source: "touch:" + body.steps[at - 1].event_id, target: id, lineStyle: { width: 2 } });
      if (touch.campaign) {
        var key = "campaign:" + touch.campaign;
        if (!(key in columns)) columns[key] = x;
        node(key, touch.campaign, columns[key], 80, 1, 20);
        links.push({ source: key, target: id });
      }
      if (touch.channel) {
        var channel = "channel:" + touch.channel;
        if (!(channel in columns)) columns[channel] = x;
        node(channel, touch.channel, columns[channel], 320, 2, 18);
        links.push({ source: id, target: channel });
      }
      if (touch.stage) {
        var stage = "stage:" + touch.stage;
        node(stage, touch.stage + " (" + (STAGES.indexOf(touch.stage) + 1) + "/5)", x, 0, 3, 22);
        links.push({ source: id, target: stage, lineStyle: { type: "dashed" } });
      }
    });
    target.setOption({
      tooltip: { trigger: "item", renderMode: "richText", formatter: function (params) {
        if (params.dataType !== "node") return "";
        var at = params.data.name.indexOf("touch:") === 0
          ? body.steps.filter(function (t) { return "touch:" + t.event_id === params.data.name; })[0] : null;
        return at ? at.event_type + " · " + at.event_name + "\n" + timeFormat.format(new Date(at.occurred_at)) + " (" + zone + ")" : params.data.title;
      } },
      legend: { top: 0, data: ["touchpoint", "campaign", "channel", "stage"] },
      series: [{
        type: "graph", layout: "none", roam: true, draggable: false,
        categories: [{ name: "touchpoint" }, { name: "campaign" }, { name: "channel" }, { name: "stage" }],
        label: { show: true, position: "bottom", formatter: function (params) { return params.data.title; } },
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: 6,
        lineStyle: { color: "#adb5bd", opacity: 0.8 },
        data: nodes, links: links
      }]
    }, true);
    var tbody = document.getElementById("journey-steps").tBodies[0];
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    body.steps.forEach(function (touch) {
      var tr = document.createElement("tr");
      var when = document.createElement("time");
      when.setAttribute("datetime", touch.occurred_at);
      var cells = [when, touch.event_type, touch.event_name, touch.campaign || "", touch.channel || "", touch.stage || ""];
      cells.forEach(function (value) {
        var td = document.createElement("td");
        if (typeof value === "object") td.appendChild(value); else td.textContent = value;
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    localize(tbody);
  }

  function loadJourney(customerId) {
    journeyCustomer = customerId;
    getJson("/app/charts/journey.json?customer=" + encodeURIComponent(customerId))
      .then(drawJourney)
      .catch(function (error) { journeyError(error.message); });
  }

  function journeyError(message) {
    var box = document.getElementById("journey-error");
    box.hidden = !message;
    box.textContent = message || "";
  }

  var search = document.getElementById("journey-search");
  if (search) {
    search.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = search.querySelector("input[name=q]").value;
      var list = document.getElementById("journey-results");
      getJson("/app/charts/customers.json?q=" + encodeURIComponent(text)).then(function (body) {
        journeyError(body.customers.length ? null : "No customer's name or email contains “" + text + "”.");
        while (list.firstChild) list.removeChild(list.firstChild);
        body.customers.forEach(function (customer) {
          var item = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "customer";
          button.setAttribute("data-customer", customer.customer_id);
          button.textContent = customer.label + (customer.email && customer.email !== customer.label ? " · " + customer.email : "");
          button.addEventListener("click", function () { loadJourney(customer.customer_id); });
          item.appendChild(button);
          list.appendChild(item);
        });
        if (body.customers.length === 1) loadJourney(body.customers[0].customer_id);
      }).catch(function (error) { journeyError(error.message); });
    });
  }

  // A custom range is asked for only once both its days are chosen.
  function rangeReady() {
    if (!form) return true;
    if (form.querySelector("select[name=range]").value !== "custom") return true;
    var ready = form.querySelector("input[name=since]").value && form.querySelector("input[name=until]").value;
    showError(ready ? null : "Choose the first and the last day.");
    return !!ready;
  }

  function drawAll() {
    if (!rangeReady()) return;
    drawActivity();
    drawFunnel();
    drawFlows();
    drawAttribution();
  }

  var pending = null;
  document.addEventListener("journeyline:message", function (event) {
    var type = event.detail && event.detail.type;
    if (type === "ready" || type === "ping") return;
    setTimeout(function () { localize(); name(); }, 0);
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      drawAll();
      if (journeyCustomer) loadJourney(journeyCustomer);
    }, 1000);
  });

  if (form) {
    showCustom();
    form.addEventListener("change", function () { showCustom(); drawAll(); });
    form.addEventListener("submit", function (event) { event.preventDefault(); drawAll(); });
  }
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });
  localize();
  name();
  drawAll();
})();
