"""Tenant settings (pure): patches merged as JSON merge patches, budgets and their windows."""

from __future__ import annotations

from typing import Any

import pytest

from journeyline.config import RateLimitSettings, Settings
from journeyline.errors import InvalidPayload
from journeyline.tenancy.settings import (
    Budget,
    SettingsPatch,
    apply_patch,
    batch_budget,
    effective,
    request_budget,
)

DEFAULTS = RateLimitSettings()


@pytest.mark.parametrize(
    ("stored", "patch", "expected"),
    [
        ({}, {"phone_region": "br"}, {"phone_region": "BR"}),
        ({"phone_region": "BR"}, {"phone_region": None}, {}),
        ({"identifier_limits": {"email": 1}}, {"identifier_limits": {"email": None}}, {}),
        (
            {"identifier_limits": {"email": 1}},
            {"identifier_limits": {"phone": 2}},
            {"identifier_limits": {"email": 1, "phone": 2}},
        ),
        ({"blocklist": ["a"]}, {"blocklist": [" B ", "b"]}, {"blocklist": ["b"]}),
        ({"rate_limit": {"requests_per_second": 5.0}}, {"rate_limit": None}, {}),
        (
            {"rate_limit": {"requests_per_second": 5.0, "burst": 10}},
            {"rate_limit": {"burst": 20}},
            {"rate_limit": {"requests_per_second": 5.0, "burst": 20}},
        ),
    ],
)
def test_a_patch_merges_into_what_is_stored(
    stored: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert apply_patch(stored, SettingsPatch.model_validate(patch)) == expected


@pytest.mark.parametrize(
    ("stored", "patch", "field"),
    [
        (
            {"rate_limit": {"requests_per_second": 5.0, "burst": 10}},
            {"rate_limit": {"requests_per_second": 20}},
            "rate_limit.burst",
        ),
        (
            {"rate_limit": {"requests_per_second": 5.0, "burst": 10}},
            {"rate_limit": {"requests_per_second": None}},
            "rate_limit.requests_per_second",
        ),
        ({}, {"rate_limit": {"batch_burst": 5}}, "rate_limit.batch_events_per_second"),
    ],
)
def test_a_burst_and_its_rate_are_checked_together(
    stored: dict[str, Any], patch: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidPayload) as caught:
        apply_patch(stored, SettingsPatch.model_validate(patch))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("budget", "window"),
    [
        (Budget(1000.0, 2000), 2),
        (Budget(5000.0, 10_000), 2),
        (Budget(10.0, 10), 1),
        (Budget(3.0, 10), 4),
        (Budget(0.01, 5), 500),
    ],
)
def test_a_budgets_window_is_burst_over_rate_in_whole_seconds(budget: Budget, window: int) -> None:
    assert budget.window_seconds == window


def test_each_kind_of_key_has_its_default_budget() -> None:
    assert request_budget({}, "public", DEFAULTS) == Budget(1000.0, 2000)
    assert request_budget({}, "secret", DEFAULTS) == Budget(5000.0, 10_000)
    assert batch_budget({}, DEFAULTS) == Budget(10_000.0, 100_000)


def test_a_tenants_rate_applies_to_every_kind_and_a_missing_burst_is_twice_the_rate() -> None:
    stored = {"rate_limit": {"requests_per_second": 7.5}}
    assert request_budget(stored, "public", DEFAULTS) == Budget(7.5, 15)
    assert request_budget(stored, "secret", DEFAULTS) == Budget(7.5, 15)


def test_stored_nonsense_falls_back_to_the_defaults() -> None:
    stored: dict[str, Any] = {
        "phone_region": 3,
        "identifier_limits": "many",
        "blocklist": "x",
        "abandon_after_seconds": True,
        "rate_limit": {"requests_per_second": "fast", "burst": -1},
    }
    assert effective(stored, Settings()) == effective({}, Settings())
