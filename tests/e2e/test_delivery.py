"""Delivery when the network misbehaves: offline, failing ingest, rate limits, leaving the page,
tabs that go away. Failures are made with request interception (the way real networks fail);
what counts is what the server stored."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from bench.servers import Server
from playwright.sync_api import Page, Route

from tests.e2e.conftest import (
    READY,
    Browsing,
    Exchange,
    Reader,
    Site,
    eventually,
    has,
    html,
    load,
    names,
    queued,
    timeline,
    tracker_tag,
    wait_until_delivered,
)

pytestmark = pytest.mark.browser

INGEST = "**/api/ingest*"
# What the real server answers a cross-origin caller with (api/cors.py), failures included.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}


def answer(route: Route, status: int, **headers: str) -> None:
    route.fulfill(status=status, headers={**CORS, **headers}, body='{"error": "test"}')


def answered(page: Page) -> Any:
    return page.expect_response(lambda r: "/api/ingest" in r.url)


def only_once_delivered(browsing: Browsing, message_id: str) -> Exchange:
    """The one successful request that carried the event (there must be exactly one).

    The server may have committed the event before the browser has read the answer, so the
    answer is waited for rather than expected at once."""

    def answered() -> list[Exchange] | None:
        return [x for x in browsing.sent(message_id) if x.delivered] or None

    [delivered] = eventually(answered)
    return delivered


def never_concurrent(exchanges: list[Exchange]) -> None:
    """Requests carrying the same event never overlapped."""
    for earlier, later in itertools.pairwise(exchanges):
        assert earlier.answered_at is not None
        assert earlier.answered_at <= later.sent_at


def test_offline_events_are_queued_then_delivered_once_in_order(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/offline.html", html("Offline", tracker_tag(api)))
    page = browsing.new_page()
    with answered(page):
        load(page, url)
    browsing.context.set_offline(True)
    page.evaluate("for (let i = 1; i <= 3; i++) journeyline.track('Offline ' + i, {i})")
    assert [e["event_name"] for e in queued(page)] == ["Offline 1", "Offline 2", "Offline 3"]
    with answered(page) as answer:
        browsing.context.set_offline(False)  # the `online` event flushes at once
    assert answer.value.status == 200

    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Offline 3"), browsing=browsing)
    assert names(events) == ["page", "Offline 1", "Offline 2", "Offline 3"]
    for event in events[1:]:
        # Nothing was attempted while offline: one request carried each event, once.
        [exchange] = browsing.sent(event["external_event_id"])
        assert exchange.delivered
        assert exchange.names() == ["Offline 1", "Offline 2", "Offline 3"]
    assert queued(page) == []


def test_events_buffered_while_ingest_fails_survive_a_reload_and_arrive_once(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/reload.html", html("Reload", tracker_tag(api)))
    page = browsing.new_page()
    page.route(INGEST, lambda route: answer(route, 503))
    load(page, url)
    with page.expect_response(lambda r: "Kept 2" in (r.request.post_data or "")) as failure:
        page.evaluate("journeyline.track('Kept 1'); journeyline.track('Kept 2')")
    assert failure.value.status == 503

    load(page, url)  # still failing: the new page finds them in storage
    page.wait_for_function(
        "() => (localStorage.getItem('jl.q.' + sessionStorage.getItem('jl.t')) || '')"
        ".includes('Kept 2')"
    )
    page.unroute(INGEST)
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(
        reader, "anonymous_id", anonymous_id, lambda ev: len(ev) == 4, browsing=browsing
    )
    assert names(events) == ["page", "Kept 1", "Kept 2", "page"]
    for event in events:
        only_once_delivered(browsing, event["external_event_id"])
    page.wait_for_function("() => !localStorage.getItem('jl.q.' + sessionStorage.getItem('jl.t'))")


def test_server_errors_are_retried_with_backoff_until_accepted_then_not_again(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/retry.html", html("Retry", tracker_tag(api, retry_base="200")))
    page = browsing.new_page()
    failures: list[float] = []

    def fail_three_times(route: Route) -> None:
        if len(failures) < 3:
            failures.append(time.monotonic())
            answer(route, (500, 502, 408)[len(failures) - 1])
        else:
            route.fallback()

    page.route(INGEST, fail_three_times)
    with page.expect_response(lambda r: "/api/ingest" in r.url and r.status == 200):
        load(page, url)
    page.evaluate("journeyline.track('Marker')")
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Marker"), browsing=browsing)
    assert names(events) == ["page", "Marker"]

    view = browsing.sent(events[0]["external_event_id"])
    assert [x.status for x in view] == [500, 502, 408, 200]  # then never sent again
    never_concurrent(view)
    # Exponential backoff from a 200 ms base, jittered down to no less than half: 100, 200 ms
    # at least (measured where Python sees the requests: give or take a few milliseconds).
    gaps = [later - earlier for earlier, later in itertools.pairwise(failures)]
    assert gaps[0] >= 0.1 - 0.02
    assert gaps[1] >= 0.2 - 0.02
    [marker] = browsing.sent(events[1]["external_event_id"])
    assert marker.names() == ["Marker"]


def test_a_refused_batch_is_dropped_not_retried(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/refused.html", html("Refused", tracker_tag(api)))
    page = browsing.new_page()

    def refuse_rejected(route: Route) -> None:
        if "Rejected" in (route.request.post_data or ""):
            answer(route, 400)
        else:
            route.fallback()

    page.route(INGEST, refuse_rejected)
    with answered(page):
        load(page, url)
    with page.expect_response(lambda r: "/api/ingest" in r.url and r.status == 400):
        page.evaluate("journeyline.track('Rejected')")
    page.evaluate("journeyline.track('Accepted')")
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Accepted"), browsing=browsing)
    assert names(events) == ["page", "Accepted"]
    [rejected] = browsing.tracked("Rejected")
    assert [x.status for x in browsing.sent(rejected["message_id"])] == [400]
    assert queued(page) == []


def test_429_waits_for_retry_after_before_retrying(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/limited.html", html("Limited", tracker_tag(api)))
    page = browsing.new_page()
    seen: list[float] = []

    def limit_once(route: Route) -> None:
        seen.append(time.monotonic())
        if len(seen) == 1:
            answer(route, 429, **{"Retry-After": "1"})
        else:
            route.fallback()

    page.route(INGEST, limit_once)
    with page.expect_response(lambda r: "/api/ingest" in r.url and r.status == 200):
        load(page, url)
    # Without Retry-After the 50 ms base would have retried within 50 ms.
    assert seen[1] - seen[0] >= 1.0
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    timeline(
        reader, "anonymous_id", anonymous_id, lambda events: len(events) == 1, browsing=browsing
    )
    assert [x.status for x in browsing.log()] == [429, 200]


@pytest.mark.parametrize("transport", ["fetch", "beacon"])
def test_an_event_tracked_just_before_leaving_the_page_is_delivered(
    api: Server, site: Site, browsing: Browsing, reader: Reader, transport: str
) -> None:
    """Flushing waits a minute here, so only the page-hide flush can deliver the event: with
    fetch(keepalive), or with sendBeacon where fetch is missing (then XHR sends the rest)."""
    if transport == "beacon":
        browsing.context.add_init_script("delete window.fetch")
    url = site.add(
        f"/leave-{transport}.html", html("Leave", tracker_tag(api, flush_interval="60000"))
    )
    elsewhere = site.add("/elsewhere.html", html("Elsewhere"))  # no tracker there
    page = browsing.new_page()
    with answered(page):
        load(page, url)
    # The answer reaches Playwright before the tracker has dropped the page view from its queue.
    wait_until_delivered(page)
    anonymous_id = page.evaluate(
        "journeyline.track('Leaving', {via: 'pagehide'}) || journeyline.anonymousId()"
    )
    assert [e["event_name"] for e in queued(page)] == ["Leaving"]
    page.goto(elsewhere)

    events = timeline(reader, "anonymous_id", anonymous_id, has("Leaving"), browsing=browsing)
    assert names(events) == ["page", "Leaving"]
    assert events[1]["payload"] == {"via": "pagehide"}


def test_the_queue_of_a_tab_that_stopped_is_adopted_by_another_tab(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    """A tab that stops running (frozen by the browser, as background tabs are, or crashed: no
    pagehide, nothing more sent) leaves its queue in localStorage; once its heartbeat is stale
    (5 s), a live tab takes the queue over."""
    url = site.add("/tabs.html", html("Tabs", tracker_tag(api)))
    first = browsing.new_page()
    first.route(INGEST, lambda route: route.abort())  # this tab's network fails
    load(first, url)
    with first.expect_event("requestfailed", lambda r: "Orphan" in (r.post_data or "")):
        first.evaluate("journeyline.track('Orphan')")
    assert "Orphan" in [e.get("event_name") for e in queued(first)]
    browsing.context.new_cdp_session(first).send(
        "Emulation.setScriptExecutionDisabled", {"value": True}
    )

    second = browsing.new_page()
    from_second: list[str] = []
    second.on(
        "request",
        lambda r: from_second.append(r.post_data or "") if "/api/ingest" in r.url else None,
    )
    load(second, url)
    anonymous_id = second.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Orphan"), browsing=browsing)
    assert names(events) == ["page", "Orphan", "page"]
    browsing.log()  # deliver the request events still on their way from the browser
    assert any("Orphan" in body for body in from_second)


def test_a_backlog_goes_out_in_batches_within_the_limits(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    """250 events, some of 20 KB: no request over 100 events or 60 KB (the keepalive limit is
    64 KB); an event over the server's 32 KB limit is left out instead of blocking the rest."""
    url = site.add("/backlog.html", html("Backlog", tracker_tag(api)))
    page = browsing.new_page()
    with answered(page):
        load(page, url)
    page.evaluate(
        """() => {
          journeyline.track('Too Big', {blob: 'x'.repeat(40000)});
          for (let i = 0; i < 250; i++)
            journeyline.track('Item', {i, blob: i % 25 == 0 ? 'y'.repeat(20000) : 'z'});
          journeyline.track('Last');
        }"""
    )
    anonymous_id = page.evaluate("journeyline.anonymousId()")
    events = timeline(reader, "anonymous_id", anonymous_id, has("Last"), browsing=browsing)
    items = [e["payload"]["i"] for e in events if e["event_name"] == "Item"]
    assert items == list(range(250))
    assert "Too Big" not in names(events)
    assert browsing.tracked("Too Big") == []
    batches = [x for x in browsing.log() if "Item" in x.names()]
    assert len(batches) >= 3
    assert all(len(x.events) <= 100 and x.size < 60_000 for x in batches)
    assert len(browsing.tracked("Item")) == 250  # each sent once: one request at a time
    # (the last answer may still be on its way to the test when the server has the events)
    eventually(lambda: all(x.delivered for x in browsing.log() if "Item" in x.names()) or None)


def test_two_tabs_offline_keep_separate_queues_and_both_deliver(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    url = site.add("/two-offline.html", html("Two", tracker_tag(api)))
    first = browsing.new_page()
    with answered(first):
        load(first, url)
    second = browsing.new_page()
    with answered(second):
        load(second, url)
    browsing.context.set_offline(True)
    # The timeline orders by the tabs' timestamps: two calls in one millisecond, one per tab, would
    # tie (4 in 500 sequential calls to two tabs landed in one millisecond under load), and the
    # tie would go to whichever tab's batch the server stored first. Each call waits for its
    # tab's clock to pass the previous one's.
    done = first.evaluate("journeyline.track('From First 1') || Date.now()")
    second.wait_for_function("t => Date.now() > t", arg=done)
    done = second.evaluate("journeyline.track('From Second') || Date.now()")
    first.wait_for_function("t => Date.now() > t", arg=done)
    first.evaluate("journeyline.track('From First 2')")
    # Neither tab overwrote the other's stored queue.
    assert [e["event_name"] for e in queued(first)] == ["From First 1", "From First 2"]
    assert [e["event_name"] for e in queued(second)] == ["From Second"]

    browsing.context.set_offline(False)
    anonymous_id = first.evaluate("journeyline.anonymousId()")
    events = timeline(
        reader,
        "anonymous_id",
        anonymous_id,
        has("From First 1", "From First 2", "From Second"),
        browsing=browsing,
    )
    assert names(events) == ["page", "page", "From First 1", "From Second", "From First 2"]


def test_a_tab_opened_from_another_gets_its_own_queue_key(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    """window.open copies sessionStorage, tab id included: the new tab sees a heartbeat under that
    id that is not `0` (the page holding it has not left) and takes a new one rather than share
    (and overwrite) its queue."""
    browsing.context.add_init_script(  # (about:blank has no storage)
        "try { window.inheritedTab = sessionStorage.getItem('jl.t') } catch (e) {}"
    )
    url = site.add("/opener.html", html("Opener", tracker_tag(api)))
    opener = load(browsing.new_page(), url)
    with browsing.context.expect_page() as opened:
        opener.evaluate("window.open(location.href)")
    popup = opened.value
    popup.wait_for_load_state()
    popup.wait_for_function(READY)
    tab_id = "sessionStorage.getItem('jl.t')"
    assert popup.evaluate("inheritedTab") == opener.evaluate(tab_id)  # copied by window.open
    assert popup.evaluate(tab_id) != opener.evaluate(tab_id)
    # Each tab's page view goes out at load: offline before it is answered, it would still be
    # in the queue below.
    wait_until_delivered(opener)
    wait_until_delivered(popup)

    browsing.context.set_offline(True)
    opener.evaluate("journeyline.track('In Opener')")
    popup.evaluate("journeyline.track('In Popup')")
    assert [e["event_name"] for e in queued(opener)] == ["In Opener"]
    assert [e["event_name"] for e in queued(popup)] == ["In Popup"]
    browsing.context.set_offline(False)
    anonymous_id = popup.evaluate("journeyline.anonymousId()")
    timeline(reader, "anonymous_id", anonymous_id, has("In Opener", "In Popup"), browsing=browsing)


HEARTBEAT = "localStorage.getItem('jl.h.' + sessionStorage.getItem('jl.t'))"


@contextmanager
def scripts_stopped(browsing: Browsing, page: Page) -> Iterator[None]:
    """The page's scripts, timers included, do not run within: a tab frozen by the browser.
    (The override belongs to the DevTools session that set it: the same one lifts it.)"""
    session = browsing.context.new_cdp_session(page)
    session.send("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        yield
    finally:
        session.send("Emulation.setScriptExecutionDisabled", {"value": False})


def ticked_since(page: Page, moment: float) -> None:
    """Until the page's tracker has written a heartbeat at `moment` (its clock, ms) or later."""
    page.wait_for_function(f"t => +{HEARTBEAT} >= t", arg=moment)


def test_a_tab_opened_from_a_stalled_tab_still_gets_its_own_queue_key(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    """A frozen or starved tab's heartbeat is old, like a gone tab's: a tab that inherited its id
    (window.open, a duplicated tab) must not take it as free, or the two tabs would share one
    queue key once the first runs again, each overwriting the other's stored queue."""
    browsing.context.add_init_script(
        "try { window.inheritedTab = sessionStorage.getItem('jl.t') } catch (e) {}"
    )
    url = site.add("/stalled-opener.html", html("Stalled Opener", tracker_tag(api)))
    opener = load(browsing.new_page(), url)
    wait_until_delivered(opener)
    with browsing.context.expect_page() as opened:
        opener.evaluate("window.open('about:blank')")  # sessionStorage is copied now
    popup = opened.value
    tab_id = "sessionStorage.getItem('jl.t')"
    opener_tab = opener.evaluate(tab_id)
    with scripts_stopped(browsing, opener):
        # Past the 5 s after which a heartbeat counts as stale (read where the popup reads it).
        popup.wait_for_function(
            "k => Date.now() - +localStorage.getItem(k) > 5000",
            arg="jl.h." + opener_tab,
            polling=100,
        )
        load(popup, url)
        assert popup.evaluate("inheritedTab") == opener_tab
        assert popup.evaluate(tab_id) != opener_tab
        wait_until_delivered(popup)
        resumed = time.time() * 1000  # the machine's clock, as the page's Date.now()
    ticked_since(opener, resumed)
    browsing.context.set_offline(True)
    opener.evaluate("journeyline.track('In Stalled Opener')")
    popup.evaluate("journeyline.track('In Its Popup')")
    assert [e["event_name"] for e in queued(opener)] == ["In Stalled Opener"]
    assert [e["event_name"] for e in queued(popup)] == ["In Its Popup"]
    browsing.context.set_offline(False)
    anonymous_id = popup.evaluate("journeyline.anonymousId()")
    timeline(
        reader,
        "anonymous_id",
        anonymous_id,
        has("In Stalled Opener", "In Its Popup"),
        browsing=browsing,
    )


def test_a_tab_stalled_itself_does_not_take_the_queue_of_a_tab_silent_meanwhile(
    api: Server, site: Site, browsing: Browsing, reader: Reader
) -> None:
    """After a stall of its own (the machine asleep, the renderer starved by load), a tab finds
    every other tab's heartbeat old: that proves nothing about them. Only a tab silent for 5 s
    while this one was running counts as gone."""
    url = site.add("/stall.html", html("Stall", tracker_tag(api)))
    opener = load(browsing.new_page(), url)
    with browsing.context.expect_page() as opened:
        opener.evaluate("window.open(location.href)")
    popup = opened.value
    popup.wait_for_load_state()
    popup.wait_for_function(READY)
    wait_until_delivered(opener)
    wait_until_delivered(popup)
    browsing.context.set_offline(True)
    popup.evaluate("journeyline.track('Kept By The Popup')")

    with scripts_stopped(browsing, popup):  # silent through the stall and a while after it
        # A 6 s long task: the opener's timers do not run meanwhile.
        stalled_until = opener.evaluate(
            "() => { const end = Date.now() + 6000; while (Date.now() < end); return end }"
        )
        # 1.5 s of the opener running again: ten ticks or more, so a reclaim came due.
        ticked_since(opener, stalled_until + 1500)
        resumed = time.time() * 1000
    ticked_since(popup, resumed)
    assert queued(opener) == []
    assert [e["event_name"] for e in queued(popup)] == ["Kept By The Popup"]

    browsing.context.set_offline(False)
    anonymous_id = popup.evaluate("journeyline.anonymousId()")
    events = timeline(
        reader, "anonymous_id", anonymous_id, has("Kept By The Popup"), browsing=browsing
    )
    [kept] = [e for e in events if e["event_name"] == "Kept By The Popup"]
    only_once_delivered(browsing, kept["external_event_id"])
