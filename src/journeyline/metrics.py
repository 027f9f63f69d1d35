"""Process metrics in the Prometheus text format (/metrics)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import InfoMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS = Counter(
    "journeyline_events_total",
    "Events that reached the pipeline, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
MERGES = Counter(
    "journeyline_profile_merges_total", "Profiles collapsed into another.", registry=REGISTRY
)
CONFLICTS = Counter(
    "journeyline_identity_conflicts_total",
    "Identifiers refused (blocked, owned, over limit).",
    registry=REGISTRY,
)

GROUP_REQUESTS = Histogram(
    "journeyline_group_commit_requests",
    "Synchronous requests answered by one group-commit transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    registry=REGISTRY,
)

HTTP_REQUEST_DURATION = Histogram(
    "journeyline_http_request_duration_seconds",
    "Requests answered, by method, route template and status (decision 54).",
    ["method", "route", "status"],
    registry=REGISTRY,
)
# Labels stay bounded: a route is a template (or one label for no route), a method one of these
# (anything else a client sends is `OTHER`), a status one of HTTP's.
HTTP_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
_request_durations: dict[tuple[str, str, int], Histogram] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One request's duration. The labelled child is looked up once per label set: `labels()`
    costs more than the observation."""
    if method not in HTTP_METHODS:
        method = "OTHER"
    key = (method, route, status)
    child = _request_durations.get(key)
    if child is None:
        child = HTTP_REQUEST_DURATION.labels(method, route, str(status))
        _request_durations[key] = child
    child.observe(seconds)


class ServingProcess:
    """`journeyline_process_info{pid="…"} 1`: the process that answered. Under `serve --workers
    N` every process keeps its own counters and the shared port hands a scrape to any one of
    them, so a scrape says whose counters it holds."""

    def collect(self) -> Iterator[InfoMetricFamily]:
        yield InfoMetricFamily(
            "journeyline_process",
            "The process that answered this scrape.",
            value={"pid": str(os.getpid())},
        )


REGISTRY.register(ServingProcess())


def render() -> bytes:
    return generate_latest(REGISTRY)
