"""Subprocesses the benchmark measures: `journeyline serve`, `journeyline worker` and the bare
echo app, started the way a user starts them and always stopped.

Each child writes to its own log file (an unread pipe would fill and stall it); readiness is
read from that log: uvicorn's "Uvicorn running on", which it prints once the socket is bound
("Application startup complete" comes earlier, before the bind). Ports are picked free by the
kernel.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready: Callable[[str], bool], timeout: float = STARTUP_SECONDS) -> str:
        """Poll the child's log until `ready` holds; returns the log. Fails if the child exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if ready(text):
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.05)  # polling a child process's log for readiness
        raise RuntimeError(f"{self.name} did not start; its log:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)


@contextmanager
def child(
    name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None
) -> Iterator[Child]:
    """Run `argv` with its output in workdir/<name>.log; it is stopped when the block exits."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = Child(name, process, log_path)
    try:
        yield running
    except Exception as exc:
        # The log lives in a temporary directory: keep its end with the error.
        exc.add_note(f"--- end of the {name} log ---\n{running.log()[-3000:]}")
        raise
    finally:
        running.stop()


def journeyline_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    """The caller's environment without any JOURNEYLINE_* setting, plus the ones given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYLINE_")}
    env["JOURNEYLINE_DATABASE_URL"] = database_url
    # The harness drives one key far past its default budget (DESIGN §8): budgets stay on, so
    # their cost is in every figure, but large enough never to refuse.
    for kind in ("PUBLIC", "SECRET"):
        env[f"JOURNEYLINE_RATE_LIMITS__{kind}_REQUESTS_PER_SECOND"] = "1000000"
        env[f"JOURNEYLINE_RATE_LIMITS__{kind}_BURST"] = "1000000"
    env["JOURNEYLINE_RATE_LIMITS__BATCH_EVENTS_PER_SECOND"] = "10000000"
    env["JOURNEYLINE_RATE_LIMITS__BATCH_BURST"] = "10000000"
    if redis_url:
        env["JOURNEYLINE_REDIS_URL"] = redis_url
    return env


@dataclass(frozen=True)
class Server:
    port: int
    public_key: str
    secret_key: str
    child: Child

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def journeyline_server(
    database_url: str,
    workdir: Path,
    *,
    redis_url: str | None = None,
    name: str = "server",
    port: int = 0,
    processes: int = 1,
    env: dict[str, str] | None = None,
    keys: tuple[str, str] | None = None,
) -> Iterator[Server]:
    """`journeyline serve --workers processes` on a fresh, migrated, empty database; its first
    start creates the default tenant and prints the keys. Port 0 picks a free one. Ready once
    the socket is bound and every process has started (each logs its own startup). `env` adds
    settings (JOURNEYLINE_LOG__FORMAT=json, …). A serve started beside another on the same
    database prints no keys: pass the first one's (public, secret) as `keys`."""
    port = port or free_port()
    argv = [sys.executable, "-m", "journeyline", "serve", "--port", str(port)]
    argv += ["--workers", str(processes)]
    environment = {**journeyline_env(database_url, redis_url), **(env or {})}
    with child(name, argv, workdir, environment) as running:
        text = running.wait_until(
            lambda log: (
                "Uvicorn running on" in log
                and (keys is not None or "secret key sk_" in log)
                and log.count("Application startup complete") >= processes
            )
        )
        if keys is not None:
            yield Server(port, keys[0], keys[1], running)
            return
        public = re.search(r"public key (pk_\S+)", text)
        secret = re.search(r"secret key (sk_\S+)", text)
        if public is None or secret is None:
            raise RuntimeError(f"the server printed no keys:\n{text}")
        yield Server(port, public.group(1), secret.group(1), running)


@contextmanager
def journeyline_workers(
    count: int,
    database_url: str,
    redis_url: str,
    workdir: Path,
    *,
    name: str = "worker",
    env: dict[str, str] | None = None,
) -> Iterator[list[Child]]:
    """`count` Arq workers (`journeyline worker`), each ready to take jobs; `env` adds settings."""
    environment = {**journeyline_env(database_url, redis_url), **(env or {})}
    with ExitStack() as stack:
        workers = [
            stack.enter_context(
                child(
                    f"{name}-{index}",
                    [sys.executable, "-m", "journeyline", "worker"],
                    workdir,
                    environment,
                )
            )
            for index in range(count)
        ]
        for worker in workers:
            worker.wait_until(lambda log: "Starting worker for" in log and "redis_version" in log)
        yield workers


@contextmanager
def echo_server(workdir: Path) -> Iterator[int]:
    """The bare echo app (bench/echo.py) under the same uvicorn call as `journeyline serve`."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.echo", "--port", str(port)]
    env = dict(os.environ)
    # The child runs in workdir; it must still find the bench package.
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    with child("echo", argv, workdir, env) as running:
        running.wait_until(lambda log: "Uvicorn running on" in log)
        yield port
