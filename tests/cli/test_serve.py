"""`journeyline serve --workers N`: on PostgreSQL with Redis, N processes of one serve share the
port, each answering, storing an event once whichever takes it, fanning commits out to every
live client and honouring each other's dashboard sign-ins, and they stop with it; on SQLite, or
without Redis, it is refused before anything is touched (decision 40)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from bench.servers import Server, journeyline_server
from websockets.sync.client import ClientConnection, connect

from journeyline.cli.serve import workers_refusal
from journeyline.config import Settings
from journeyline.store import migrate
from journeyline.tenancy.sessions import COOKIE
from tests.cli.test_commands import ENTRY, clean_env
from tests.conftest import _create_pg_database, _drop_pg_database

WORKERS = 2
PROCESS = re.compile(r'^journeyline_process_info\{pid="(\d+)"\} ', re.MULTILINE)
# A loaded two-core machine may be slow to hand a connection to each process, or to stop them.
DEADLINE_SECONDS = 30.0
SQLITE_URL = "sqlite+aiosqlite:///./journeyline.db"


@pytest.mark.parametrize(
    ("store_url", "redis_url", "workers", "refused_for"),
    [
        (SQLITE_URL, None, 1, None),
        (SQLITE_URL, "redis://127.0.0.1:6379/15", 2, "needs PostgreSQL"),
        ("postgresql+asyncpg://u@h/db", None, 1, None),
        ("postgresql+asyncpg://u@h/db", None, 2, "needs JOURNEYLINE_REDIS_URL"),
        ("postgresql+asyncpg://u@h/db", "redis://127.0.0.1:6379/15", 4, None),
    ],
)
def test_which_stores_more_than_one_process_may_serve(
    store_url: str, redis_url: str | None, workers: int, refused_for: str | None
) -> None:
    refusal = workers_refusal(Settings(database_url=store_url, redis_url=redis_url), workers)
    if refused_for is None:
        assert refusal is None
    else:
        assert refusal is not None
        assert refused_for in refusal


@pytest.mark.parametrize(
    ("store", "refusal", "reason"),
    [
        # The default: ./journeyline.db, which must not be created.
        ({}, "--workers 2 needs PostgreSQL", "SQLITE_BUSY"),
        # Nothing listens on port 1: the refusal comes before any connection is tried.
        (
            {"JOURNEYLINE_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
            "--workers 2 needs JOURNEYLINE_REDIS_URL",
            "live stream",
        ),
    ],
    ids=["sqlite", "postgresql-without-redis"],
)
def test_serve_refuses_several_workers_before_touching_the_store(
    tmp_path: Path, store: dict[str, str], refusal: str, reason: str
) -> None:
    command = [*ENTRY, "serve", "--workers", "2"]
    result = subprocess.run(
        command, cwd=tmp_path, env=clean_env(**store), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert refusal in result.stderr
    assert reason in result.stderr
    assert list(tmp_path.iterdir()) == []  # no database file, nothing else


# --- PostgreSQL and Redis: the production shape ---------------------------------------------


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A database of its own on the lane's server, migrated and without tenants, so the first
    start is the serve's."""
    server = os.environ["JOURNEYLINE_TEST_DATABASE_URL"]
    url = asyncio.run(_create_pg_database(server))
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_drop_pg_database(server, url))


@contextmanager
def serving(workdir: Path, redis_url: str, name: str) -> Iterator[Server]:
    """`journeyline serve --workers 2` on a fresh database with Redis, once every process has
    started."""
    with (
        fresh_postgres() as url,
        journeyline_server(
            url, workdir, redis_url=redis_url, name=name, processes=WORKERS
        ) as server,
    ):
        yield server


@pytest.fixture(scope="module")
def served(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    # `database_url` first: an unreachable lane server skips (or, in CI, fails) loudly.
    with serving(tmp_path_factory.mktemp("serve-workers"), redis_url, "serve-2w") as server:
        yield server


def answering_pid(client: httpx.Client) -> int:
    """The process that answers on this client's connection (it names itself in /metrics)."""
    found = PROCESS.search(client.get("/metrics").text)
    assert found is not None
    return int(found.group(1))


@contextmanager
def one_client_per_process(server: Server) -> Iterator[dict[int, httpx.Client]]:
    """A keep-alive client on each serving process, by pid: fresh connections until every
    process has answered one (the kernel hands each new connection to one of them)."""
    clients: dict[int, httpx.Client] = {}
    with ExitStack() as stack:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(clients) < WORKERS and time.monotonic() < deadline:
            client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=10))
            clients.setdefault(answering_pid(client), client)
        assert len(clients) == WORKERS, f"only processes {sorted(clients)} answered"
        yield clients


def children_of(parent: int) -> dict[int, str]:
    """The running children of `parent` and their command lines, from /proc."""
    found: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # it ended meanwhile
        if int(ppid) == parent and state != "Z":
            found[int(stat.parent.name)] = command
    return found


def api_processes(serve_pid: int) -> set[int]:
    """The API processes uvicorn spawned (multiprocessing's resource tracker is a child too)."""
    return {pid for pid, command in children_of(serve_pid).items() if "spawn_main" in command}


def is_running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@contextmanager
def stream(server: Server) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{server.port}/v1/stream?key={server.secret_key}") as ws:
        assert orjson.loads(ws.recv(timeout=DEADLINE_SECONDS))["type"] == "ready"
        yield ws


def ingested_until(ws: ClientConnection, wanted: set[str]) -> set[str]:
    """Event ids this client hears until it has heard all of `wanted` (a recv times out)."""
    heard: set[str] = set()
    while not wanted <= heard:
        message: dict[str, Any] = orjson.loads(ws.recv(timeout=DEADLINE_SECONDS))
        if message["type"] == "event.ingested":
            heard.add(message["data"]["event_id"])
    return heard


@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_are_two_processes_of_the_serve_and_both_answer(served: Server) -> None:
    serve_pid = served.child.process.pid
    with one_client_per_process(served) as clients:
        answering = set(clients)
    assert answering == api_processes(serve_pid)
    assert serve_pid not in answering
    log = served.child.log()
    # Migrations were checked and the first tenant made once, in the parent, before the fork.
    assert log.count("first start: created the default tenant") == 1
    assert log.count("secret key sk_") == 1
    assert log.count("Application startup complete") == WORKERS
    assert "the 2 processes share a random one" in log


@pytest.mark.postgres
@pytest.mark.redis
def test_an_event_sent_to_each_process_is_stored_once(served: Server) -> None:
    tag = uuid.uuid4().hex[:8]
    event = {"event_type": "identify", "identity": f"{tag}@x.io", "message_id": f"twice-{tag}"}
    answers = []
    with one_client_per_process(served) as clients:
        for pid, client in clients.items():
            answers.append(
                client.post("/ingest", json=event, headers={"X-API-Key": served.public_key})
            )
            assert answering_pid(client) == pid  # the same connection, so that process, took it
    assert [answer.status_code for answer in answers] == [200, 200], [a.text for a in answers]
    first, again = (answer.json() for answer in answers)
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert again["event_id"] == first["event_id"]
    events = httpx.get(
        f"{served.base_url}/v1/profiles/{first['profile_id']}/events",
        headers={"Authorization": f"Bearer {served.secret_key}"},
    )
    assert [stored["id"] for stored in events.json()["data"]] == [first["event_id"]]


@pytest.mark.postgres
@pytest.mark.redis
def test_a_live_client_hears_what_either_process_commits(served: Server) -> None:
    # Whichever process a stream landed on, one of the two events was committed by the other.
    tag = uuid.uuid4().hex[:8]
    with ExitStack() as stack:
        streams = [stack.enter_context(stream(served)) for _ in range(2)]
        sent: set[str] = set()
        with one_client_per_process(served) as clients:
            for index, client in enumerate(clients.values()):
                event = {"event_type": "page", "anonymous_id": f"{tag}-{index}"}
                answer = client.post(
                    "/ingest", json=event, headers={"X-API-Key": served.public_key}
                )
                assert answer.status_code == 200, answer.text
                sent.add(answer.json()["event_id"])
        for ws in streams:
            assert sent <= ingested_until(ws, sent)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_dashboard_sign_in_on_one_process_holds_on_the_other(served: Server) -> None:
    with one_client_per_process(served) as clients:
        (signer_pid, signer), (reader_pid, reader) = clients.items()
        assert reader.get("/app/overview").status_code == 303  # not signed in: to the sign-in
        form = re.search(r'name="csrf" value="([^"]+)"', signer.get("/app/sign-in").text)
        assert form is not None, "the sign-in form carries its CSRF token"
        signed = signer.post("/app/sign-in", data={"key": served.secret_key, "csrf": form.group(1)})
        assert signed.status_code == 303, signed.text
        reader.cookies.set(COOKIE, signed.cookies[COOKIE])
        page = reader.get("/app/overview")
        assert (answering_pid(signer), answering_pid(reader)) == (signer_pid, reader_pid)
    assert page.status_code == 200, page.text


@pytest.mark.postgres
@pytest.mark.redis
def test_serve_with_two_workers_stops_with_every_process(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    with serving(tmp_path, redis_url, "serve-stop") as server:
        serve = server.child.process
        with one_client_per_process(server):
            children = children_of(serve.pid)
        assert len(api_processes(serve.pid)) == WORKERS
        serve.terminate()
        assert serve.wait(timeout=DEADLINE_SECONDS) == 0, server.child.log()[-3000:]
        deadline = time.monotonic() + DEADLINE_SECONDS
        while any(is_running(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the children's exit
        assert [pid for pid in children if is_running(pid)] == []
        log = server.child.log()
    assert log.count("Application shutdown complete") == WORKERS
    assert "Traceback" not in log


def test_serve_logs_no_key_of_a_stream_handshake(tmp_path: Path) -> None:
    """uvicorn logs each WebSocket handshake at INFO with its query string, access log or not:
    a live serve's log names the stream, never the key it was opened with."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeyline.db'}"
    with journeyline_server(url, tmp_path, name="serve-log") as server:
        address = f"ws://127.0.0.1:{server.port}/v1/stream?key={server.secret_key}"
        with connect(address) as ws:
            assert orjson.loads(ws.recv(timeout=DEADLINE_SECONDS))["type"] == "ready"
        server.child.wait_until(lambda log: "WebSocket /v1/stream" in log)
        # After start-up (the first start prints the new tenant's keys, once, on purpose).
        logged = server.child.log().split("Application startup complete", 1)[1]
    assert server.secret_key not in logged
    assert '"WebSocket /v1/stream?key=[redacted]" [accepted]' in logged


def test_serve_writes_json_lines_with_each_requests_id_route_and_tenant(tmp_path: Path) -> None:
    """JOURNEYLINE_LOG__FORMAT=json and the access line on: every line the serve writes after
    printing the first tenant's keys is one JSON object, uvicorn's own included, and none holds
    a key or an email the requests carried."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeyline.db'}"
    env = {"JOURNEYLINE_LOG__FORMAT": "json", "JOURNEYLINE_LOG__ACCESS": "true"}
    with journeyline_server(url, tmp_path, name="serve-json", env=env) as server:
        secret = {"Authorization": f"Bearer {server.secret_key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
            found = http.get(
                "/v1/profiles",
                params={"email": "ada@example.com"},
                headers={**secret, "X-Request-ID": "json-serve-1"},
            )
            assert found.status_code == 200, found.text
            assert found.headers["x-request-id"] == "json-serve-1"
        address = f"ws://127.0.0.1:{server.port}/v1/stream?key={server.secret_key}"
        with connect(address) as ws:
            assert orjson.loads(ws.recv(timeout=DEADLINE_SECONDS))["type"] == "ready"
        server.child.wait_until(lambda log: "WebSocket /v1/stream" in log and "json-serve-1" in log)
        logged = server.child.log()
    # The first start prints the new tenant's keys, once, on purpose, before serving.
    served = logged.split("they are not shown again.", 1)[1].strip().splitlines()
    lines = [orjson.loads(line) for line in served]
    assert all(line.keys() >= {"time", "level", "logger", "message"} for line in lines)
    text = "\n".join(served)
    assert server.secret_key not in text
    assert "ada@example.com" not in text
    assert "ada%40example.com" not in text
    (access,) = [line for line in lines if line.get("request_id") == "json-serve-1"]
    assert access["logger"] == "journeyline.access"
    assert (access["route"], access["method"], access["status"]) == ("/v1/profiles", "GET", 200)
    assert "tenant_id" in access
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    (handshake,) = [line for line in lines if "WebSocket /v1/stream" in line["message"]]
    assert "key=[redacted]" in handshake["message"]
