"""The garbage collector of a long-running process (`serve`, `worker`).

CPython's cyclic collector scans every tracked object of the generation it collects, and a full
(generation 2) collection scans the whole heap: in a process holding its imports, SQLAlchemy's
mappers and caches, that is a pause of tens to hundreds of milliseconds, taken at random on
whichever request allocated last. Measured on the write path (bench/README.md, decision 43): 7
full collections in 20,000 events, the longest 490 ms on a loaded machine — the tail of the sync
latency. `settle()` does what large Python services do (Instagram's "gc.freeze"): once startup
is done, move everything alive to the permanent generation, which no collection scans again, and
make young collections rarer. Request garbage is freed by reference counting; the collector
still runs for the cycles among what is allocated later. Each pause is observed in /metrics
(`journeyline_gc_pause_seconds`).
"""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Histogram

from journeyline.metrics import REGISTRY

GC_PAUSES = Histogram(
    "journeyline_gc_pause_seconds",
    "Cyclic garbage collections, by generation.",
    ["generation"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)
# Young collections after this many net new container objects (CPython's default is 700).
YOUNG_THRESHOLD = 20_000

_started: list[float] = []


def _observe(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
    elif _started:
        GC_PAUSES.labels(str(info.get("generation", "?"))).observe(
            time.perf_counter() - _started.pop()
        )


def settle() -> None:
    """Call once the process has started (imports done, pools and caches built)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if _observe not in gc.callbacks:
        gc.callbacks.append(_observe)
