"""Process metrics in the Prometheus text format (/metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

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


def render() -> bytes:
    return generate_latest(REGISTRY)
