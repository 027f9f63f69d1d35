"""PostgreSQL clusters and Redis servers of the fault tests' own, on free ports, to restart,
kill and freeze: never the machine's shared ones (5432, 6379). Each is removed afterwards,
whatever happens."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from bench.servers import free_port
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from journeyline.store import migrate
from tests.conftest import IN_CI

PG_VERSION = "15"
START_SECONDS = 60.0


def require(*tools: str) -> None:
    """The tools a fault test drives; missing in CI is a failure, never a skip."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        message = f"the fault tests need {', '.join(missing)} (Debian: postgresql-15, redis-server)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def wait_for(check: object, what: str, seconds: float = START_SECONDS) -> None:
    """Poll `check()` (another process's state) until it holds."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.05)  # polling another process


@dataclass
class Cluster:
    """`pg_createcluster 15 <name>` on a port of its own, with one migrated database."""

    name: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/journeyline"

    def ctl(self, *action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, self.name, *action],
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )

    def is_ready(self) -> bool:
        ready = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q"], check=False
        )
        return ready.returncode == 0

    def crash_and_start(self) -> None:
        """Stop without a shutdown checkpoint (as a crash does), then start: it recovers, and
        answers "the database system is starting up" (57P03) meanwhile."""
        self.ctl("stop", "-m", "immediate")
        self.ctl("start")


async def _create_database(port: int) -> None:
    engine = create_async_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE DATABASE journeyline"))
    finally:
        await engine.dispose()


@contextmanager
def own_postgres() -> Iterator[Cluster]:
    require("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_isready")
    cluster = Cluster(f"journeyline_faults_{uuid.uuid4().hex[:8]}", free_port())
    subprocess.run(
        [
            "pg_createcluster",
            PG_VERSION,
            cluster.name,
            "-p",
            str(cluster.port),
            "--",
            "--auth=trust",
        ],
        check=True,
        capture_output=True,
        timeout=START_SECONDS,
    )
    try:
        cluster.ctl("start")
        wait_for(cluster.is_ready, f"cluster {cluster.name} to accept connections")
        asyncio.run(_create_database(cluster.port))
        migrate.upgrade(cluster.url)
        yield cluster
    finally:
        subprocess.run(
            ["pg_dropcluster", "--stop", PG_VERSION, cluster.name],
            check=False,
            capture_output=True,
            timeout=START_SECONDS,
        )


@dataclass
class RedisServer:
    """A `redis-server` without persistence: killed and started again, it is empty."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5) as redis:
                return bool(redis.ping())
        except (RedisError, OSError):
            return False

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.answers, f"redis-server on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=START_SECONDS)

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def own_redis(workdir: Path) -> Iterator[RedisServer]:
    require("redis-server")
    server = RedisServer(free_port(), workdir)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.thaw()
        server.kill()
