"""Process metrics in the Prometheus text format (/metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest

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


def render() -> bytes:
    return generate_latest(REGISTRY)
