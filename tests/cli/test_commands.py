"""The journeyline command as a user runs it: serve on a fresh directory, tenants, db upgrade."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ENTRY = [sys.executable, "-m", "journeyline"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYLINE_")}
    env.update(extra)
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def start_server(workdir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ENTRY, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_ready(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not become ready within 60 s")


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.fixture
def server(workdir: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    process = start_server(workdir, port)
    try:
        wait_ready(port, process)
        yield port, process
    finally:
        if process.poll() is None:
            stop(process)


def test_serve_on_a_fresh_directory_migrates_and_prints_first_keys(
    workdir: Path, server: tuple[int, subprocess.Popen[str]]
) -> None:
    port, process = server
    assert (workdir / "journeyline.db").exists()
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/docs").status_code == 200
    paths = httpx.get(f"{base}/openapi.json").json()["paths"]
    assert {
        "/ingest",
        "/api/ingest",
        "/v1/events",
        "/v1/profiles/{profile_id}",
        "/admin/tenants",
    } <= set(paths)
    output = stop(process)
    public = re.search(r"public key (pk_\S+)", output)
    secret = re.search(r"secret key (sk_\S+)", output)
    assert public, output
    assert secret, output
    # The printed keys work against the same database after a restart, and no second tenant is made.
    port2 = free_port()
    again = start_server(workdir, port2)
    try:
        wait_ready(port2, again)
        sent = httpx.post(
            f"http://127.0.0.1:{port2}/ingest",
            json={"event_type": "identify", "identity": "cli@x.io"},
            headers={"X-API-Key": public.group(1)},
        )
        assert sent.status_code == 200, sent.text
        found = httpx.get(
            f"http://127.0.0.1:{port2}/v1/profiles",
            params={"email": "cli@x.io"},
            headers={"X-API-Key": secret.group(1)},
        )
        assert found.json()["data"][0]["id"] == sent.json()["profile_id"]
    finally:
        second_output = stop(again)
    assert "first start" not in second_output


def test_serve_on_a_taken_port_fails_before_making_the_first_tenant(workdir: Path) -> None:
    # A newcomer's first start with something already on the port: the keys a first start
    # prints once must not be made and lost; the message names the port and the way out.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [*ENTRY, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert not re.search(r"secret key sk_", result.stdout + result.stderr)
    assert not (workdir / "journeyline.db").exists()
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert "PORT=" in result.stderr
    assert "journeyline tenants list" in result.stderr
    assert "journeyline keys create --tenant" in result.stderr


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ([], "journeyline serve"),
        (["PORT=8010"], "journeyline serve --port 8010"),
        (["PORT=8010", "HOST=0.0.0.0"], "journeyline serve --host 0.0.0.0 --port 8010"),
    ],
)
def test_make_run_takes_a_port_and_a_host(variables: list[str], expected: str) -> None:
    # `make -n` prints what `make run` would run without running it.
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in clean_env().items() if k not in {"PORT", "HOST"}}
    result = subprocess.run(
        ["make", "-n", "run", *variables],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    serve = next(line for line in result.stdout.splitlines() if "journeyline serve" in line)
    assert serve.split()[-len(expected.split()) :] == expected.split()


def test_tenants_create_prints_keys_once(workdir: Path) -> None:
    env = clean_env(JOURNEYLINE_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'cli.db'}")
    subprocess.run([*ENTRY, "db", "upgrade"], cwd=workdir, env=env, check=True, capture_output=True)
    result = subprocess.run(
        [*ENTRY, "tenants", "create", "Acme"],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert re.search(r"public key pk_\S+", result.stdout)
    assert re.search(r"secret key sk_\S+", result.stdout)
    assert "Acme" in result.stdout


def test_tenants_create_rejects_an_empty_name(workdir: Path) -> None:
    env = clean_env(JOURNEYLINE_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'cli.db'}")
    result = subprocess.run(
        [*ENTRY, "tenants", "create", "  "], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0


@pytest.mark.postgres
def test_db_upgrade_migrates_postgresql(database_url: str) -> None:
    # The session database is already at head: upgrading again is a no-op that succeeds, and
    # `db check` finds no drift between the models and the migrations.
    env = clean_env(JOURNEYLINE_DATABASE_URL=database_url)
    subprocess.run([*ENTRY, "db", "upgrade"], env=env, check=True, capture_output=True)
    checked = subprocess.run([*ENTRY, "db", "check"], env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_journeyline_is_on_path() -> None:
    assert shutil.which("journeyline") or (Path(sys.executable).parent / "journeyline").exists()


def migrated_with_tenant(workdir: Path, tenant: str) -> dict[str, str]:
    """The environment of a fresh SQLite database at head holding one tenant."""
    env = clean_env(JOURNEYLINE_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'cli.db'}")
    subprocess.run([*ENTRY, "db", "upgrade"], cwd=workdir, env=env, check=True, capture_output=True)
    subprocess.run(
        [*ENTRY, "tenants", "create", tenant], cwd=workdir, env=env, check=True, capture_output=True
    )
    return env


def test_import_backfills_a_jsonl_file_and_is_safe_to_run_again(workdir: Path) -> None:
    env = migrated_with_tenant(workdir, "Backfill")
    lines = [
        '{"event_type": "identify", "identity": "ann@x.io", "payload": {"plan": "pro"}}',
        '{"type": "track", "action": "paid", "email": "ann@x.io", "messageId": "m-1"}',
        "{broken json",
        "",
        '{"event_type": "teleport"}',
        '{"event_type": "page", "anonymous_id": "v-1"}',
    ]
    source = workdir / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")

    def run_import() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ENTRY, "import", str(source), "--tenant", "Backfill"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
        )

    first = run_import()
    assert first.returncode == 2, first.stdout + first.stderr  # some lines failed
    assert "6 lines: 3 stored, 0 already there, 2 failed" in first.stdout
    assert re.search(r"│\s*3\s*│\s*malformed_json", first.stdout)
    assert re.search(r"│\s*5\s*│\s*invalid_payload", first.stdout)
    again = run_import()
    assert "6 lines: 0 stored, 3 already there, 2 failed" in again.stdout, again.stdout


def test_import_names_an_unknown_tenant(workdir: Path) -> None:
    env = clean_env(JOURNEYLINE_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'cli.db'}")
    subprocess.run([*ENTRY, "db", "upgrade"], cwd=workdir, env=env, check=True, capture_output=True)
    source = workdir / "events.jsonl"
    source.write_text('{"event_type": "page", "anonymous_id": "v"}\n')
    result = subprocess.run(
        [*ENTRY, "import", str(source), "--tenant", "nobody"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "nobody" in result.stderr


def test_rebuild_replays_a_tenants_log(workdir: Path) -> None:
    env = migrated_with_tenant(workdir, "Replayed")
    source = workdir / "events.jsonl"
    source.write_text(
        '{"event_type": "page", "anonymous_id": "v-1"}\n'
        '{"event_type": "identify", "anonymous_id": "v-1", "identity": "r@x.io"}\n'
    )
    subprocess.run(
        [*ENTRY, "import", str(source), "--tenant", "Replayed"],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [*ENTRY, "rebuild", "--tenant", "Replayed"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replayed 2 events and 0 operator actions" in result.stdout


def test_abandon_sweep_abandons_an_idle_imported_cart_once(workdir: Path) -> None:
    env = migrated_with_tenant(workdir, "Carts")
    source = workdir / "carts.jsonl"
    source.write_text(
        '{"event_type": "track", "event_name": "Added to Cart", "anonymous_id": "c-1",'
        ' "payload": {"order_id": "C-1"}, "timestamp": "2026-01-01T00:00:00Z"}\n'
    )
    subprocess.run(
        [*ENTRY, "import", str(source), "--tenant", "Carts"],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
    )

    def sweep(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ENTRY, "abandon-sweep", *args], cwd=workdir, env=env, capture_output=True, text=True
        )

    first = sweep("--tenant", "Carts")
    again = sweep()
    unknown = sweep("--tenant", "nobody")
    assert "abandoned 1 order(s) in 1 tenant(s)" in first.stdout, first.stdout + first.stderr
    assert "abandoned 0 order(s)" in again.stdout, again.stdout + again.stderr
    assert unknown.returncode != 0
    assert "nobody" in unknown.stderr
