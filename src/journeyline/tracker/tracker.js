/* journeyline browser tracker (docs/tracker.md). ES5, no dependencies, never throws into the
   page: every entry point and callback runs inside safe(). */
try { (function (w, d, nav) {
  var pre = w.journeyline;
  if (pre && pre.version) return; // loaded twice
  var cur = d.currentScript || d.querySelector('script[data-key]'); // top level only
  function attr(n) { return cur ? cur.getAttribute('data-' + n) : null; }
  var host = (attr('host') || ((cur && cur.src || '').match(/^\w+:\/\/[^\/?#]+/) || [''])[0]).replace(/\/+$/, '');
  var key = attr('key');
  var every = +attr('flush-interval') || 1000; // ms between flushes and heartbeats
  var base = +attr('retry-base') || 1000; // first retry delay, ms
  var dnt = attr('respect-dnt') != null;
  var auto = attr('auto') != 'false';
  var P = 'jl.', ANON = P + 'a', SESS = P + 's', OUT = P + 'o', TAB = P + 't', Q = P + 'q.', HB = P + 'h.';
  var IDLE = 18e5, STALE = Math.max(5000, 5 * every), GAP = STALE / 2, MAXQ = 500, BATCH = 100, BODY = 60000, EVENT = 32000;
  var CAMP = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid', 'msclkid'];
  var mem = {}, q = [], fly = {}, flying = 0, flyBytes = 0, wait = 0, tries = 0, last = 0, ticks = 0;
  // When this page's current run of ticks began (a gap of GAP between ticks breaks it); the last tick.
  var since = new Date().getTime(), ticked = since;
  var tab, api, ref = d.referrer, path = where(), href = location.href;

  function safe(f) {
    return function () { try { return f.apply(this, arguments); } catch (e) {} };
  }
  function now() { return new Date().getTime(); }
  function where() { return location.pathname + location.search; }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  // A snapshot of the properties as they are at the call (a plain object, or {}).
  function copy(p) {
    p = p && typeof p == 'object' ? JSON.parse(JSON.stringify(p)) : 0;
    return p && typeof p == 'object' && !(p instanceof Array) ? p : {};
  }
  function bytes(s) { return unescape(encodeURIComponent(s)).length; }
  function uuid() {
    var c = w.crypto, b = [], h = '', i;
    if (c && c.randomUUID) return c.randomUUID();
    if (c && c.getRandomValues) b = c.getRandomValues(new Uint8Array(16));
    else for (i = 0; i < 16; i++) b[i] = Math.random() * 256 | 0;
    b[6] = b[6] & 15 | 64;
    b[8] = b[8] & 63 | 128;
    for (i = 0; i < 16; i++) h += (i == 4 || i == 6 || i == 8 || i == 10 ? '-' : '') + (b[i] + 256).toString(16).slice(1);
    return h;
  }

  // Storage: any access may throw (blocked, quota); memory stands in for what could not be stored.
  function store(s) { return w[s ? 'sessionStorage' : 'localStorage']; }
  function get(k, s) {
    var v;
    try { v = store(s).getItem(k); } catch (e) {}
    return v != null ? v : mem[k];
  }
  function set(k, v, s) {
    try { store(s).setItem(k, v); delete mem[k]; } catch (e) { mem[k] = v; }
  }
  function del(k) {
    delete mem[k];
    try { store().removeItem(k); } catch (e) {}
  }
  function json(k) {
    try { return JSON.parse(get(k)); } catch (e) {}
  }

  function off() {
    return !key || get(OUT) == '1' || dnt && (nav.doNotTrack == '1' || w.doNotTrack == '1');
  }
  function anonId() {
    var a = get(ANON);
    if (!a) set(ANON, a = uuid());
    return a;
  }
  function dec(v) {
    try { return decodeURIComponent(v.replace(/\+/g, ' ')); } catch (e) { return v; }
  }
  function camp(u) {
    var m = {}, any = 0, i, r;
    u = u.split('#')[0];
    for (i = 0; i < CAMP.length; i++) {
      r = new RegExp('[?&]' + CAMP[i] + '=([^&#]*)').exec(u);
      if (r) { m[CAMP[i]] = dec(r[1]); any = 1; }
    }
    return any && m;
  }
  // The session (shared by the tabs): id, last activity, and the campaign it came from.
  function sess(u, fresh) {
    var s = !fresh && json(SESS), t = now(), c = u && camp(u);
    if (!s || !s.i || !(t - s.t < IDLE)) s = { i: uuid(), c: {} };
    if (c) s.c = c;
    s.t = t;
    set(SESS, JSON.stringify(s));
    return s;
  }

  // The queue: kept in memory, mirrored to localStorage under this tab's key.
  function save() {
    if (q.length) set(Q + tab, JSON.stringify(q));
    else del(Q + tab);
  }
  function hb(t) { set(HB + tab, '' + t); }
  // A tab is gone when it left (heartbeat 0), or when it has been silent for STALE of the time
  // this page has been running without a break: after a stall of this page too (the machine
  // asleep, the renderer starved, this tab frozen), the others' old heartbeats prove nothing.
  function stale(id) {
    var v = get(HB + id);
    return v === '0' || !(now() - Math.max(+v || 0, since) < STALE);
  }
  function adopt(k) {
    var old = json(k), ids = {}, i;
    for (i = 0; i < q.length; i++) ids[q[i].message_id] = 1;
    if (old && old.length) for (i = 0; i < old.length; i++) if (old[i] && !ids[old[i].message_id]) q.push(old[i]);
  }
  // Take over the queues of tabs that are gone (heartbeat stale or marked left).
  function reclaim() {
    var keys = [], ls, i, k, id, n = q.length;
    try { ls = store(); for (i = 0; i < ls.length; i++) keys.push(ls.key(i)); } catch (e) {}
    for (i = 0; i < keys.length; i++) {
      k = keys[i];
      if (k && k.indexOf(Q) == 0 && (id = k.slice(Q.length)) != tab && stale(id)) {
        adopt(k);
        del(k);
        del(HB + id);
      }
    }
    if (q.length != n) save();
  }
  function add(e) {
    if (bytes(JSON.stringify(e)) > EVENT) return; // the server would refuse it
    q.push(e);
    if (q.length > MAXQ) q.shift();
    save();
    if (q.length - flying >= 20) flush();
  }

  function url() { return host + '/api/ingest?key=' + encodeURIComponent(key); }
  // A text/plain POST (no CORS preflight); cb(status, Retry-After), status 0 on network error.
  function post(body, cb) {
    var x;
    try {
      if (w.fetch) {
        // The body is read so the request completes and frees its share of the 64 KB that
        // keepalive requests may have in flight.
        fetch(url(), { method: 'POST', body: body, keepalive: true, credentials: 'omit' }).then(
          function (r) {
            x = function () { cb(r.status, r.headers.get('Retry-After')); };
            r.text().then(x, x);
          },
          function () { cb(0); });
      } else {
        x = new XMLHttpRequest();
        x.open('POST', url());
        x.onloadend = function () { cb(x.status, x.getResponseHeader('Retry-After')); };
        x.send(body);
      }
    } catch (e) { cb(0); }
  }
  // The oldest events not in flight, at most BATCH and under `limit` bytes.
  function chunk(limit) {
    var ev = [], parts = [], size = 12, i, s, n;
    for (i = 0; i < q.length && ev.length < BATCH; i++) {
      if (fly[q[i].message_id]) continue;
      s = JSON.stringify(q[i]);
      n = bytes(s) + 1;
      if (size + n > limit) break;
      size += n;
      ev.push(q[i]);
      parts.push(s);
    }
    return ev.length && { ev: ev, body: '{"batch":[' + parts.join(',') + ']}', n: size };
  }
  function drop(ev) {
    var ids = {}, i;
    for (i = 0; i < ev.length; i++) ids[ev[i].message_id] = 1;
    q = q.filter(function (e) { return !ids[e.message_id]; });
    save();
  }
  function send(c) {
    var i, ev = c.ev;
    for (i = 0; i < ev.length; i++) fly[ev[i].message_id] = 1;
    flying += ev.length;
    flyBytes += c.n;
    post(c.body, safe(function (status, ra) {
      var t;
      for (i = 0; i < ev.length; i++) delete fly[ev[i].message_id];
      flying -= ev.length;
      flyBytes -= c.n;
      if (status >= 200 && status < 300) {
        tries = 0;
        drop(ev);
        flush();
      } else if (status >= 400 && status < 500 && status != 408 && status != 429) {
        drop(ev); // refused: retrying would not help
      } else {
        // network error, 5xx, 408, 429: exponential backoff with jitter, at least Retry-After
        t = Math.min(base * Math.pow(2, tries++), 6e4);
        t = t / 2 + Math.random() * t / 2;
        ra = ra && (isNaN(ra) ? Date.parse(ra) - now() : ra * 1000);
        if (ra > t) t = ra;
        wait = now() + t;
        setTimeout(safe(flush), t + 5);
      }
    }));
  }
  function flush() {
    var c;
    if (off()) {
      if (q.length) { q = []; save(); }
      return;
    }
    if (flying || now() < wait || nav.onLine === false) return;
    if ((c = chunk(BODY))) send(c);
  }
  // Leaving or hidden: send every event not in flight now, within the keepalive budget.
  function burst() {
    var c;
    if (off()) return;
    while ((c = chunk(BODY - flyBytes))) {
      if (w.fetch) send(c);
      else if (nav.sendBeacon && nav.sendBeacon(url(), c.body)) drop(c.ev);
      else break;
    }
  }

  function ev(type, name, payload, c, identity) {
    if (off()) return;
    var s = sess(c.url), m = s.c || {}, t = Date.parse(c.ts) || now(), e, k, ch;
    if (t <= last) t = last + 1; // keep the calls' order on the timeline
    last = t;
    e = { event_type: type, anonymous_id: anonId(), session_id: s.i, message_id: uuid(), timestamp: new Date(t).toISOString(), payload: payload };
    if (name) e.event_name = name;
    if (identity || identity === 0) e.identity = identity;
    if (type != 'identify') for (k in m) if (has(m, k) && !has(payload, k)) payload[k] = m[k];
    if (m.utm_campaign) e.campaign_id = m.utm_campaign.slice(0, 255);
    ch = m.utm_medium || (m.gclid || m.msclkid ? 'paid_search' : m.fbclid ? 'paid_social' : '');
    if (ch) e.channel = ch.slice(0, 100);
    add(e);
  }
  function page(name, props, c) {
    var a = d.createElement('a'), p;
    if (typeof name != 'string') { props = name; name = ''; }
    a.href = c.url;
    p = { url: c.url, path: a.pathname, search: a.search, title: c.title, referrer: c.referrer };
    props = copy(props);
    for (a in props) p[a] = props[a];
    ev('page', name, p, c);
  }
  function here() { return { url: location.href, title: d.title, referrer: ref }; }
  function spa() {
    if (where() == path) return;
    ref = href;
    path = where();
    href = location.href;
    page(0, 0, here());
  }

  // Public methods take an optional trailing page context ({__jl: 1, url, title, referrer, ts})
  // that the stub adds at call time.
  function pub(f) {
    return safe(function () {
      var a = [].slice.call(arguments), c = a[a.length - 1];
      if (c && c.__jl === 1) a.pop();
      else c = here();
      if (!c.url) c.url = location.href;
      return f(a[0], a[1], c);
    });
  }
  var run = safe(function (x) {
    if (typeof x == 'function') x(api);
    else if (x && x[0] != 'push' && typeof api[x[0]] == 'function') api[x[0]].apply(api, [].slice.call(x, 1));
  });
  api = {
    version: 1,
    page: pub(page),
    track: pub(function (name, props, c) {
      if (name && typeof name == 'string') ev('track', name, copy(props), c);
    }),
    identify: pub(function (id, traits, c) {
      if (id && typeof id == 'object') { traits = id; id = null; }
      ev('identify', 0, copy(traits), c, id);
    }),
    reset: pub(function () {
      set(ANON, uuid());
      sess(0, 1);
    }),
    optOut: pub(function () {
      set(OUT, '1');
      q = [];
      save();
    }),
    optIn: pub(function () { del(OUT); }),
    flush: pub(function () { flush(); }),
    anonymousId: pub(anonId),
    sessionId: pub(function () { return sess().i; }),
    push: run
  };

  function on(t, f, o) { (o || w).addEventListener(t, safe(f)); }
  function hook(n) {
    var o = history[n];
    if (typeof o == 'function') history[n] = function () {
      var r = o.apply(this, arguments);
      safe(spa)();
      return r;
    };
  }

  safe(function () {
    // This tab's queue key, kept only from a page of this tab that has left (heartbeat 0): any
    // other heartbeat may be a live twin's (a duplicated tab or window.open copies sessionStorage),
    // however old, since a frozen or stalled tab's heartbeat is old too.
    tab = get(TAB, 1);
    if (!tab || get(HB + tab) !== '0') set(TAB, tab = uuid(), 1);
    adopt(Q + tab); // this tab's previous page
    reclaim();
    hb(now());
  })();
  w.journeyline = api;
  safe(function () {
    var p = w.performance, t = p && p.timeOrigin;
    if (auto) page(0, 0, { url: href, title: d.title, referrer: ref, ts: t && new Date(Math.round(t)).toISOString() });
  })();
  if (pre && pre.length) for (var i = 0; i < pre.length; i++) run(pre[i]);
  try { if (pre && pre.push) pre.push = run; } catch (e) {} // the stub's methods, if kept
  safe(function () {
    if (auto) {
      hook('pushState');
      hook('replaceState');
      on('popstate', spa);
    }
    on('online', function () { wait = tries = 0; flush(); });
    on('pagehide', function () { burst(); hb(0); });
    on('pageshow', function (e) {
      if (e.persisted) { adopt(Q + tab); save(); hb(now()); }
    });
    on('visibilitychange', function () { if (d.visibilityState == 'hidden') burst(); }, d);
    setInterval(safe(function () {
      var t = now();
      if (!(t - ticked < GAP)) since = t;
      ticked = t;
      hb(t);
      if (++ticks % 10 == 0) reclaim();
      flush();
    }), every);
    flush();
  })();
})(window, document, navigator); } catch (e) {}
