"""PgBouncer in transaction mode in front of a PostgreSQL server, started and stopped by whoever
needs it: the PostgreSQL lane's pooler run (tests/conftest.py, `make test-pgbouncer`), the soak
behind it, and the bench.

Debian's `pgbouncer` (1.18 on bookworm: no prepared-statement support in transaction mode, so
journeyline's processes run with `JOURNEYLINE_DATABASE__POOLER=transaction`, store/db.py). One
wildcard database entry forwards every database name to the same-named database of the server,
so databases the tests create on the fly are reachable through it without a reload. Trust
authentication, as the lane's server has; PgBouncer refuses to run as root, so as root it is
told to switch to the `postgres` user and its directory is handed to that user.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.servers import Child, child, free_port

PGBOUNCER = "/usr/sbin/pgbouncer"
# What a journeyline process must be told to run behind it.
POOLER_ENV = {"JOURNEYLINE_DATABASE__POOLER": "transaction"}


@dataclass(frozen=True)
class Pooler:
    port: int
    process: Child

    def url(self, database_url: str) -> str:
        """The same database and user, reached through the pooler."""
        return (
            make_url(database_url)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )

    def log(self) -> str:
        return self.process.log()


def pgbouncer_binary() -> str | None:
    return PGBOUNCER if os.access(PGBOUNCER, os.X_OK) else shutil.which("pgbouncer")


def config(server_url: str, port: int, directory: Path, *, pool_size: int) -> str:
    server = make_url(server_url)
    user = server.username or "postgres"
    run_as = "user = postgres\n" if os.geteuid() == 0 else ""
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    return (
        "[databases]\n"
        f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"{run_as}"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\n"
        "pool_mode = transaction\n"
        # Every journeyline process opens up to pool_size + max_overflow client connections:
        # clients are cheap, the server connections (default_pool_size per database and user)
        # are what PostgreSQL pays for.
        "max_client_conn = 2000\n"
        f"default_pool_size = {pool_size}\n"
        "reserve_pool_size = 5\n"
        # Client-side settings asyncpg may send at startup that PgBouncer does not track.
        "ignore_startup_parameters = extra_float_digits,options\n"
        "server_reset_query =\n"
        "log_connections = 0\n"
        "log_disconnections = 0\n"
        "admin_users =\n"
    )


@contextmanager
def pgbouncer(server_url: str, workdir: Path, *, pool_size: int = 20) -> Iterator[Pooler]:
    """A PgBouncer on a free port forwarding to `server_url`'s server; stopped on exit."""
    binary = pgbouncer_binary()
    if binary is None:
        raise RuntimeError("pgbouncer is not installed (Debian's package `pgbouncer`)")
    directory = workdir / "pgbouncer"
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    ini = directory / "pgbouncer.ini"
    ini.write_text(config(server_url, port, directory, pool_size=pool_size))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        for path in directory.iterdir():
            shutil.chown(path, "postgres")
    with child("pgbouncer", [binary, str(ini)], directory) as running:
        running.wait_until(lambda log: "process up" in log)
        yield Pooler(port, running)
