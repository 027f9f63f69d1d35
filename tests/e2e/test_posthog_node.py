"""posthog-node unchanged but for its host and key (issue 17): the npm package (pinned in
tests/e2e/sdk/package-lock.json, installed by `make browser`) run by node against a live
journeyline: an anonymous page view, identify with `$set`, `$set_once` and the visitor's id,
a second device aliased to the user, the company by groupIdentify, an order in the group and a colleague (at the company's
domain) whose event only names the group. Read back: one profile (the visitor and the device collapsed into the user),
its attributes, events and order, and both people in the CRM company. Marked `browser`: it
runs where node and the npm packages are, the SQLite lane."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from typing import Any

import pytest
from bench.servers import Server

from tests.conftest import IN_CI
from tests.e2e.conftest import Reader, eventually
from tests.e2e.test_browser_sdks import SDK_DIR, _install_bundles

pytestmark = pytest.mark.browser

SCRIPT = SDK_DIR / "posthog_node.mjs"
PACKAGE = SDK_DIR / "node_modules" / "posthog-node" / "package.json"


def _node() -> str:
    _install_bundles(PACKAGE)
    node = shutil.which("node")
    if node is None:
        message = "posthog-node's test needs node (make browser installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING POSTHOG-NODE TEST: " + message)
    return node


def test_posthog_node_lands_every_call(api: Server, reader: Reader) -> None:
    tag = uuid.uuid4().hex[:8]
    run = subprocess.run(
        [_node(), str(SCRIPT), api.base_url, api.secret_key, tag],
        cwd=SDK_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sent = json.loads(run.stdout.strip().splitlines()[-1])

    def landed() -> dict[str, Any] | None:
        profile = reader.profile_by("external_id", sent["user"])
        if profile is None or "company" not in profile["attributes"]:
            return None
        types = {e["event_type"] for e in reader.events_of(profile["id"])}
        wanted = {"page_viewed", "identified", "aliased", "group_joined", "purchase_completed"}
        return profile if wanted <= types else None

    profile = eventually(landed)
    attributes = profile["attributes"]
    assert attributes["email"] == f"{sent['user']}@contoso.com"
    assert attributes["name"] == f"Jane {tag}"
    # $set_once never overwrites: the first identify's value stays.
    assert attributes["first_seen"] == "pricing"
    assert attributes["company"]["name"] == f"Contoso {tag}"
    # The visitor's page view is the user's ($identify with $anon_distinct_id), and so is the
    # second device's event (the alias).
    for anonymous in (sent["visitor"], sent["device"]):
        seen = reader.profile_by("anonymous_id", anonymous)
        assert seen is not None
        assert seen["id"] == profile["id"], anonymous
    orders = reader.get("/v1/orders", profile_id=profile["id"])["data"]
    assert [o["order_id"] for o in orders] == [f"o-node-{tag}"]
    # The colleague's event only named the group: it is their company's id; the CRM keys
    # companies by domain or name, and theirs is the one groupIdentify described.
    colleague = eventually(lambda: reader.profile_by("external_id", sent["colleague"]))
    assert colleague["attributes"]["company"] == {"id": sent["company"]}
    persons = {p["profile_id"]: p for p in reader.get("/v1/crm/persons")["data"]}
    assert persons[colleague["id"]]["company_id"] == persons[profile["id"]]["company_id"]
    companies = {c["id"]: c for c in reader.get("/v1/crm/companies")["data"]}
    assert companies[persons[profile["id"]]["company_id"]]["domain"] == f"{sent['company']}.com"
