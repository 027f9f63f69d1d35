"""journeyline keys list|create|revoke and tenants list, as an operator runs them, on the lane's
database."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx

from tests.cli.test_commands import ENTRY, clean_env
from tests.conftest import TenantKeys


def journeyline(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ENTRY, *args],
        cwd=cwd,
        env=clean_env(JOURNEYLINE_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_operator_lists_creates_and_revokes_a_tenants_keys(
    client: httpx.AsyncClient, tenant: TenantKeys, database_url: str, tmp_path: Path
) -> None:
    listed = journeyline(database_url, tmp_path, "keys", "list", "--tenant", tenant.tenant_id)
    assert listed.returncode == 0, listed.stderr
    assert len(re.findall(r"\b(public|secret)\b", listed.stdout)) == 2
    assert tenant.secret_key not in listed.stdout

    created = journeyline(
        database_url, tmp_path, "keys", "create", "--tenant", tenant.tenant_id, "--name", "ops"
    )
    assert created.returncode == 0, created.stderr
    key = re.search(r"secret key (sk_\S+)", created.stdout)
    key_id = re.search(r"key id\s+(\S+)", created.stdout)
    assert key is not None
    assert key_id is not None
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    assert (await client.get("/v1/keys", headers=headers)).status_code == 200

    revoked = journeyline(
        database_url, tmp_path, "keys", "revoke", key_id.group(1), "--tenant", tenant.tenant_id
    )
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/v1/keys", headers=headers)).status_code == 401
    after = journeyline(database_url, tmp_path, "keys", "list", "--tenant", tenant.tenant_id)
    ops = next(line for line in after.stdout.splitlines() if line.endswith("ops")).split()
    # id, kind, prefix, created, last used, revoked, name
    assert ops[0] == key_id.group(1)
    assert ops[1] == "secret"
    assert ops[5] != "-"


async def test_the_cli_refuses_to_revoke_the_last_secret_key(
    client: httpx.AsyncClient, tenant: TenantKeys, database_url: str, tmp_path: Path
) -> None:
    data = (await client.get("/v1/keys", headers=tenant.secret)).json()["data"]
    secret_id = next(k["id"] for k in data if k["kind"] == "secret")
    refused = journeyline(
        database_url, tmp_path, "keys", "revoke", secret_id, "--tenant", tenant.tenant_id
    )
    assert refused.returncode == 1
    assert "last live secret key" in refused.stderr
    assert (await client.get("/v1/keys", headers=tenant.secret)).status_code == 200


async def test_the_cli_revokes_only_the_named_tenants_keys(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    database_url: str,
    tmp_path: Path,
) -> None:
    data = (await client.get("/v1/keys", headers=tenant.secret)).json()["data"]
    public_id = next(k["id"] for k in data if k["kind"] == "public")
    wrong = journeyline(
        database_url, tmp_path, "keys", "revoke", public_id, "--tenant", other_tenant.tenant_id
    )
    assert wrong.returncode == 1
    assert "no key with this id" in wrong.stderr
    page = {"event_type": "page", "anonymous_id": "cli"}
    assert (await client.post("/ingest", json=page, headers=tenant.public)).status_code == 200


async def test_tenants_list_names_every_tenant(
    tenant: TenantKeys, other_tenant: TenantKeys, database_url: str, tmp_path: Path
) -> None:
    listed = journeyline(database_url, tmp_path, "tenants", "list")
    assert listed.returncode == 0, listed.stderr
    assert tenant.tenant_id in listed.stdout
    assert other_tenant.tenant_id in listed.stdout


def test_keys_need_a_tenant_that_exists(database_url: str, tmp_path: Path) -> None:
    result = journeyline(database_url, tmp_path, "keys", "list", "--tenant", "nobody-by-this-name")
    assert result.returncode != 0
    assert "no single tenant" in result.stderr
