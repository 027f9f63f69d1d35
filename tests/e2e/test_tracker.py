"""The tracker's behaviour in a real browser: where it sends, what it sends, and the identifiers it
keeps, asserted on what the server stored."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from bench.servers import Server
from playwright.sync_api import Browser

from tests.e2e.conftest import (
    FAST,
    READY,
    STUB,
    Browsing,
    Reader,
    Site,
    has,
    html,
    load,
    names,
    queued,
    timeline,
    tracker_tag,
)

pytestmark = pytest.mark.browser

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def pages(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in events if event["event_type"] == "page_viewed"]


def test_sends_to_the_origin_it_was_loaded_from(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/origin.html", html("Origin", tracker_tag(api)))
    page = browsing.new_page()
    with page.expect_response(lambda r: "/api/ingest" in r.url) as answer:
        load(page, url)
    assert answer.value.url == f"{api.base_url}/api/ingest?key={api.public_key}"
    assert answer.value.status == 200
    assert answer.value.request.headers["content-type"].startswith("text/plain")

    anonymous_id = page.evaluate("journeyline.anonymousId()")
    [view] = timeline(reader, "anonymous_id", anonymous_id, lambda events: len(events) == 1)
    assert view["source"] == "web"
    assert view["anonymous_id"] == anonymous_id


def test_data_host_overrides_the_script_origin(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    """A copy of the script on the site's own origin (a CDN), pointed at the API by data-host."""
    script = httpx.get(api.base_url + "/v1/js/tracker.js", timeout=10).text
    src = site.add("/cdn/tracker.js", script, content_type="application/javascript")
    url = site.add("/cdn.html", html("CDN", tracker_tag(api, src=src, host=api.base_url + "/")))
    page = browsing.new_page()
    with page.expect_response(lambda r: "/api/ingest" in r.url) as answer:
        load(page, url)
    assert answer.value.url.startswith(api.base_url + "/api/ingest?key=")
    assert answer.value.status == 200
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    timeline(reader, "anonymous_id", anonymous_id, lambda events: len(events) == 1)


def test_calls_made_before_the_script_loads_are_replayed_in_order_with_their_page_data(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    # The tracker is added 300 ms after the calls, as a tag manager might; the calls in between
    # change the URL and the title, so each one's page data can be told apart.
    attributes = {"key": api.public_key, **FAST}
    calls = f"""<script>
      journeyline.page({{section: 'first'}});
      journeyline.track('Stub First', {{n: 1}});
      history.replaceState(null, '', '/stub.html?step=2');
      document.title = 'Step two';
      journeyline.page();
      journeyline.identify('stub.{uuid.uuid4().hex[:8]}@example.com', {{plan: 'pro'}});
      window.calledAt = new Date().toISOString();
      journeyline.push(['track', 'Stub Plain', {{n: 2}}]);
      window.early = journeyline;  // a reference to the stub, kept past the load
      setTimeout(function () {{
        var s = document.createElement('script');
        s.src = '{api.base_url}/v1/js/tracker.js';
        var attributes = {json.dumps(attributes)};
        for (var name in attributes) s.setAttribute('data-' + name, attributes[name]);
        document.head.appendChild(s);
      }}, 300);
    </script>"""
    url = site.add("/stub.html", html("Step one", calls, head=STUB))
    page = browsing.new_page()
    page.goto(url + "?step=1", referer="https://search.example/?q=journeyline")
    page.wait_for_function(READY)
    page.evaluate("early.track('Through The Stub')")
    called_at = datetime.fromisoformat(page.evaluate("window.calledAt"))
    loaded_at = datetime.fromisoformat(page.evaluate("new Date().toISOString()"))

    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Through The Stub"))
    assert names(events) == [
        "page",
        "page",
        "Stub First",
        "page",
        "identify",
        "Stub Plain",
        "Through The Stub",
    ]
    automatic, first, tracked, second, identify, plain, _ = events

    # The automatic page view: the page as it is when the tracker starts.
    assert automatic["payload"]["url"] == site.origin + "/stub.html?step=2"
    assert automatic["payload"]["title"] == "Step two"
    # Each stub call carries the page and the time of the call, not of the replay.
    assert first["payload"] == {
        "url": url + "?step=1",
        "path": "/stub.html",
        "search": "?step=1",
        "title": "Step one",
        "referrer": "https://search.example/?q=journeyline",
        "section": "first",
    }
    assert tracked["payload"] == {"n": 1}
    assert second["payload"]["url"] == url + "?step=2"
    assert second["payload"]["title"] == "Step two"
    assert second["payload"]["search"] == "?step=2"
    assert identify["payload"] == {"plan": "pro"}
    # (calls within one millisecond are moved apart by a millisecond to keep their order)
    times = [datetime.fromisoformat(e["occurred_at"]) for e in (first, tracked, second, identify)]
    assert times == sorted(set(times))
    assert times[-1] < called_at + timedelta(milliseconds=50)  # the replay came 300 ms later
    # A plain push (no page data) is taken as made when replayed, after the others.
    assert plain["payload"] == {"n": 2}
    assert called_at < datetime.fromisoformat(plain["occurred_at"]) <= loaded_at
    assert {event["session_id"] for event in events} == {page.evaluate("journeyline.sessionId()")}


def test_one_automatic_page_view_with_url_title_and_referrer(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    start = site.add(
        "/start.html", html("Start", '<a id="go" href="/article.html?id=7#top">go</a>')
    )
    target = site.add("/article.html", html("An article", tracker_tag(api)))
    page = browsing.new_page()
    page.goto(start)
    page.click("#go")
    page.wait_for_url(target + "?id=7#top")
    page.wait_for_function(READY)
    page.evaluate("journeyline.track('Read')")

    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Read"))
    assert names(events) == ["page", "Read"]
    assert events[0]["payload"] == {
        "url": target + "?id=7#top",
        "path": "/article.html",
        "search": "?id=7",
        "title": "An article",
        "referrer": start,
    }
    assert UUID.match(events[0]["external_event_id"])
    # Exactly one page view left the browser.
    assert len({e["message_id"] for e in browsing.copies(lambda e: True)}) == 2


def test_anonymous_id_is_kept_across_reloads_and_new_in_another_browser_profile(
    api: Server, site: Site, browser: Browser, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/stable.html", html("Stable", tracker_tag(api)))
    page = load(browsing.new_page(), url)
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    assert UUID.match(anonymous_id)
    load(page, url)  # page.reload() would keep the same document for a moment; goto is a load
    assert page.evaluate("journeyline.anonymousId()") == anonymous_id
    events = timeline(reader, "anonymous_id", anonymous_id, lambda events: len(events) == 2)
    assert {event["anonymous_id"] for event in events} == {anonymous_id}

    elsewhere = Browsing(browser.new_context())
    try:
        other = load(elsewhere.new_page(), url)
        assert other.evaluate("journeyline.anonymousId()") != anonymous_id
    finally:
        elsewhere.context.close()
    assert elsewhere.errors == []


def test_blocked_storage_and_no_random_uuid_still_deliver_without_page_errors(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    """Storage that throws on every access (as with some privacy settings) and a browser
    without crypto.randomUUID (any page not served over https)."""
    browsing.context.add_init_script(
        """
        for (const name of ['localStorage', 'sessionStorage']) {
          Object.defineProperty(window, name, {
            configurable: true,
            get() { throw new DOMException('The operation is insecure.', 'SecurityError'); },
          });
        }
        delete Crypto.prototype.randomUUID;
        """
    )
    url = site.add("/blocked.html", html("Blocked", tracker_tag(api)))
    page = load(browsing.new_page(), url)
    assert page.evaluate("() => { try { localStorage; return false } catch (e) { return true } }")
    assert page.evaluate("typeof crypto.randomUUID") == "undefined"
    page.evaluate("journeyline.track('Without Storage'); journeyline.page({again: true})")

    anonymous_id = page.evaluate("journeyline.anonymousId()")
    assert UUID.match(anonymous_id)
    events = timeline(reader, "anonymous_id", anonymous_id, lambda events: len(events) == 3)
    assert names(events) == ["page", "Without Storage", "page"]
    assert len({event["session_id"] for event in events}) == 1
    assert all(UUID.match(event["external_event_id"]) for event in events)
    assert browsing.errors == []


def test_identify_joins_the_anonymous_past_and_reset_starts_a_new_visitor(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    email = f"jane.{uuid.uuid4().hex[:8]}@example.com"
    url = site.add("/account.html", html("Account", tracker_tag(api)))
    page = load(browsing.new_page(), url)
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    session_id = page.evaluate("journeyline.sessionId()")
    page.evaluate("journeyline.track('Browsed', {item: 'shoes'})")
    page.evaluate(f"journeyline.identify('{email}', {{plan: 'pro'}})")

    jane = timeline(reader, "email", email, has("identify"))
    assert names(jane) == ["page", "Browsed", "identify"]
    profile = reader.profile_by("email", email)
    assert profile is not None
    assert profile["attributes"].get("plan") == "pro"

    page.evaluate("journeyline.reset()")
    assert page.evaluate("journeyline.anonymousId()") != anonymous_id
    assert page.evaluate("journeyline.sessionId()") != session_id
    page.evaluate("journeyline.track('After Reset')")
    new_id = page.evaluate("journeyline.anonymousId()")
    after = timeline(reader, "anonymous_id", new_id, has("After Reset"))
    assert names(after) == ["After Reset"]
    assert after[0]["session_id"] not in {session_id}
    stranger = reader.profile_by("anonymous_id", new_id)
    assert stranger is not None
    assert stranger["id"] != profile["id"]
    assert names(reader.events_of(profile["id"])) == ["page", "Browsed", "identify"]


def test_single_page_app_navigation_is_a_page_view_with_the_previous_url_as_referrer(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/app.html", html("App", tracker_tag(api)))
    page = load(browsing.new_page(), url)
    page.evaluate("history.pushState({}, '', '/app.html?tab=2'); document.title = 'Tab 2'")
    page.evaluate("history.pushState({}, '', '/app.html?tab=2#section')")  # same path: no view
    page.evaluate("history.replaceState({}, '', '/app/settings')")
    page.evaluate("() => { window.popped = new Promise(r => onpopstate = () => r(1)) }")
    page.evaluate("history.back()")
    page.evaluate("window.popped")
    page.evaluate("journeyline.track('Done')")

    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Done"))
    views = [(e["payload"]["url"], e["payload"]["referrer"]) for e in pages(events)]
    origin = site.origin
    assert views == [
        (url, ""),
        (origin + "/app.html?tab=2", url),
        (origin + "/app/settings", origin + "/app.html?tab=2"),
        (origin + "/app.html?tab=2", origin + "/app/settings"),  # back
    ]
    assert pages(events)[3]["payload"]["path"] == "/app.html"
    assert names(events)[-1] == "Done"


def test_campaign_parameters_are_kept_with_the_session(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    tag = tracker_tag(api)
    landing = site.add("/landing.html", html("Landing", tag))
    later = site.add("/later.html", html("Later", tag))
    page = load(
        browsing.new_page(),
        landing + "?utm_source=news&utm_medium=email&utm_campaign=spring+sale&utm_term=shoes"
        "&utm_content=hero&gclid=abc&other=1",
    )
    load(page, later)
    page.evaluate("journeyline.track('Signed Up')")
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Signed Up"))
    assert len(events) == 3
    campaign = {
        "utm_source": "news",
        "utm_medium": "email",
        "utm_campaign": "spring sale",
        "utm_term": "shoes",
        "utm_content": "hero",
        "gclid": "abc",
    }
    for event in events:  # the landing page view, then a later page and event of the session
        assert event["campaign_id"] == "spring sale"
        assert event["channel"] == "email"
        assert campaign.items() <= event["payload"].items()
        assert "other" not in event["payload"]

    # Click ids alone name the channel; a new campaign replaces the session's.
    clicks = [("gclid", "paid_search"), ("msclkid", "paid_search"), ("fbclid", "paid_social")]
    for click_id, channel in clicks:
        load(page, f"{landing}?{click_id}=x1")
        name = f"Came From {click_id}"
        page.evaluate(f"journeyline.track('{name}')")
        events = timeline(reader, "anonymous_id", anonymous_id, has(name))
        [event] = [e for e in events if e["event_name"] == name]
        assert event["channel"] == channel
        assert event["payload"][click_id] == "x1"
        assert event["campaign_id"] is None
        assert "utm_medium" not in event["payload"]


def test_opt_out_sends_nothing_until_opt_in(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/private.html", html("Private", tracker_tag(api)))
    page = browsing.new_page()
    with page.expect_response(lambda r: "/api/ingest" in r.url):
        load(page, url)
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    # Queued but not yet sent when the visitor opts out: it must never leave.
    page.evaluate(
        "journeyline.track('Before Opt Out'); journeyline.optOut(); journeyline.track('Secret')"
    )
    assert queued(page) == []
    load(page, url)  # the opt-out is kept: no page view for this load
    page.evaluate("journeyline.track('Secret'); journeyline.flush()")
    assert queued(page) == []

    page.evaluate("journeyline.optIn(); journeyline.track('Back')")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Back"))
    assert names(events) == ["page", "Back"]
    assert browsing.tracked("Secret") == []
    assert browsing.tracked("Before Opt Out") == []
    assert len(browsing.copies(lambda e: e["event_type"] == "page")) == 1


def test_do_not_track_is_honoured_only_when_the_site_asks(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    browsing.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'doNotTrack',"
        " {configurable: true, get() { return window.dnt === undefined ? '1' : window.dnt }})"
    )
    respecting = site.add("/dnt.html", html("DNT", tracker_tag(api, respect_dnt="")))
    page = load(browsing.new_page(), respecting)
    assert page.evaluate("navigator.doNotTrack") == "1"
    page.evaluate("journeyline.track('Hidden'); journeyline.flush()")
    # The visitor turns Do Not Track off: from then on the tracker sends again.
    page.evaluate("window.dnt = '0'; journeyline.track('Seen')")
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Seen"))
    assert names(events) == ["Seen"]
    assert browsing.tracked("Hidden") == []

    # A site that does not opt in to DNT tracks regardless.
    ignoring = site.add("/no-dnt.html", html("No DNT", tracker_tag(api)))
    other = load(browsing.new_page(), ignoring)
    assert other.evaluate("navigator.doNotTrack") == "1"
    events = timeline(reader, "anonymous_id", anonymous_id, lambda events: len(events) == 2)
    assert events[1]["payload"]["url"] == ignoring


def test_two_tabs_share_one_session_and_an_idle_session_rotates(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    tag = tracker_tag(api)
    first = load(browsing.new_page(), site.add("/tab-one.html", html("One", tag)))
    session_id = first.evaluate("journeyline.sessionId()")
    second = load(browsing.new_page(), site.add("/tab-two.html", html("Two", tag)))
    assert second.evaluate("journeyline.sessionId()") == session_id
    # Each tab has its own queue key.
    tab_id = "sessionStorage.getItem('jl.t')"
    assert first.evaluate(tab_id) != second.evaluate(tab_id)

    views = timeline(reader, "session_id", session_id, lambda events: len(events) == 2)
    assert {e["payload"]["title"] for e in views} == {"One", "Two"}
    assert {e["session_id"] for e in views} == {session_id}

    # 30 minutes without activity (the stored last activity moved back) start a new session.
    # Chromium hands a localStorage write to the other tabs' renderer processes asynchronously,
    # so each step waits until the other tab's storage holds the write before it acts on it.
    stored = "() => JSON.parse(localStorage.getItem('jl.s'))"
    moved_back = first.evaluate(
        "() => { const s = JSON.parse(localStorage.getItem('jl.s'));"
        " s.t -= 31 * 60 * 1000; localStorage.setItem('jl.s', JSON.stringify(s)); return s.t }"
    )
    second.wait_for_function(f"t => ({stored})().t === t", arg=moved_back)
    second.evaluate("journeyline.track('Came Back')")
    rotated = second.evaluate("journeyline.sessionId()")
    assert rotated != session_id
    first.wait_for_function(f"i => ({stored})().i === i", arg=rotated)
    assert first.evaluate("journeyline.sessionId()") == rotated
    events = timeline(reader, "session_id", rotated, has("Came Back"))
    assert [e["event_name"] for e in events if e["session_id"] == rotated] == ["Came Back"]


def test_bad_calls_never_throw_into_the_page(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/careless.html", html("Careless", tracker_tag(api)))
    page = load(browsing.new_page(), url)
    page.evaluate(
        """() => {
          const circular = {}; circular.self = circular;
          journeyline.track(); journeyline.track(42); journeyline.track('Circular', circular);
          journeyline.page(null, 7);
          journeyline.push(null); journeyline.push(['nope']); journeyline.push([]);
          journeyline.push(() => { throw new Error('a bug of the site') });
          journeyline.track('Fine', {list: [1, 2], when: new Date(0), skip: undefined});
        }"""
    )
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Fine"))
    assert names(events) == ["page", "page", "Fine"]
    assert events[2]["payload"] == {"list": [1, 2], "when": "1970-01-01T00:00:00.000Z"}
    assert browsing.errors == []
