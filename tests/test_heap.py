"""The serving processes' collector settings (heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from journeyline import heap
from journeyline.metrics import REGISTRY


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if heap._observe in gc.callbacks:
        gc.callbacks.remove(heap._observe)


def pauses(generation: str) -> float:
    value = REGISTRY.get_sample_value(
        "journeyline_gc_pause_seconds_count", {"generation": generation}
    )
    return value or 0.0


def test_settling_freezes_what_started_and_makes_young_collections_rarer(
    restored_collector: None,
) -> None:
    alive = [object() for _ in range(1000)]
    heap.settle()
    assert gc.get_freeze_count() >= len(alive)
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    heap.settle()  # twice is harmless: one observer
    assert gc.callbacks.count(heap._observe) == 1


def test_every_collection_is_observed_by_generation(restored_collector: None) -> None:
    heap.settle()
    before = pauses("2")
    gc.collect()
    assert pauses("2") == before + 1
