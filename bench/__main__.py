"""The benchmark harness: baselines, synchronous ingest, batch drain and merge cost, in one run.

    python -m bench                 # the default sizes (a few minutes on two cores)
    python -m bench --quick         # tiny sizes: does the harness work?
    python -m bench --only batch --batches 10 --workers 2
    python -m bench --only sync --databases postgres --api-processes 1,2
    python -m bench --only growth --databases postgres --growth-milestones 10000,100000,1000000

Prints a table and writes every number to bench/results/latest.json (or --out). See
bench/README.md for what each figure means and how it is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

from redis import Redis
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import journeyline
from bench import baselines, batch, budget, growth, merge, report, sync
from bench.databases import PG_SERVER, Kind

SECTIONS = ("baselines", "sync", "batch", "merge", "budget", "growth")
# `growth` fills one tenant with a million events (minutes): it runs only when named.
DEFAULT_SECTIONS = ("baselines", "sync", "batch", "merge", "budget")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"

# Flag defaults: (normal run, --quick). A flag given on the command line wins over both.
SIZES: dict[str, tuple[Any, Any]] = {
    "echo_requests": (10_000, 1_000),
    "sync_requests": (3_000, 300),
    "sync_concurrency": (32, 16),
    "api_processes": ("1,2", "1"),
    "open_duration": (5.0, 1.0),
    "batches": (3, 2),
    "batch_size": (10_000, 500),
    "workers": ("1,2", "1"),
    "merge_sizes": ("10,1000,10000", "10,100,500"),
    "merge_repeats": (3, 1),
    "budget_events": (30_000, 2_000),
    "growth_milestones": ("10000,100000,1000000", "1000,5000"),
    "growth_batch_size": (10_000, 500),
}


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _kinds(text: str) -> list[Kind]:
    kinds: list[Kind] = []
    for part in text.split(","):
        if part.strip() not in ("sqlite", "postgres"):
            raise argparse.ArgumentTypeError(f"unknown database {part!r}")
        kinds.append("sqlite" if part.strip() == "sqlite" else "postgres")
    return kinds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeatable); default: all but growth",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON goes")
    parser.add_argument(
        "--databases", type=_kinds, default=["sqlite", "postgres"], help="e.g. sqlite,postgres"
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS, help="Redis for PostgreSQL's servers (db 14)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep logs and SQLite files here")
    size = parser.add_argument_group("sizes (defaults: normal / --quick)")
    size.add_argument("--echo-requests", type=int, help="echo baseline requests (10000 / 1000)")
    size.add_argument("--sync-requests", type=int, help="closed-loop requests (3000 / 300)")
    size.add_argument("--sync-concurrency", type=int, help="closed-loop connections (32 / 16)")
    size.add_argument(
        "--api-processes", help="`serve --workers` counts to try on PostgreSQL (1,2 / 1)"
    )
    size.add_argument("--open-duration", type=float, help="seconds per open-loop rate (5 / 1)")
    size.add_argument(
        "--open-shares", default="0.5,0.8", help="open-loop rates as shares of saturation"
    )
    size.add_argument("--batches", type=int, help="batches per drain (3 / 2)")
    size.add_argument("--batch-size", type=int, help="events per batch, ≤ 10000 (10000 / 500)")
    size.add_argument("--workers", help="Arq worker counts to try on PostgreSQL (1,2 / 1)")
    size.add_argument("--copy-events", type=int, help="raw COPY rows (default: batches x size)")
    size.add_argument("--batch-timeout", type=float, default=300.0, help="seconds per drain")
    size.add_argument("--merge-sizes", help="shadow history lengths (10,1000,10000 / 10,100,500)")
    size.add_argument("--merge-repeats", type=int, help="merges per size (3 / 1)")
    size.add_argument("--merge-chunk", type=int, default=1000, help="events per history chunk")
    size.add_argument("--budget-events", type=int, help="events timed by step (30000 / 2000)")
    size.add_argument(
        "--growth-milestones", help="log sizes of one tenant to report at (10k,100k,1M / 1k,5k)"
    )
    size.add_argument("--growth-batch-size", type=int, help="events per batch (10000 / 500)")
    size.add_argument(
        "--growth-workers", type=int, default=1, help="Arq workers while growing (PostgreSQL)"
    )
    size.add_argument(
        "--growth-tenants", type=int, default=1, help="tenants taking the batches in turn"
    )
    size.add_argument(
        "--growth-visitors", type=int, default=200_000, help="browsers of the growing tenant"
    )
    size.add_argument(
        "--growth-window", type=int, default=3, help="batches each milestone's rate spans"
    )
    size.add_argument("--growth-timeout", type=float, default=3600.0, help="seconds in all")
    args = parser.parse_args(argv)
    for name, (normal, quick) in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else normal)
    if args.copy_events is None:
        args.copy_events = args.batches * args.batch_size
    if not 0 < args.batch_size <= 10_000:
        parser.error("--batch-size must be between 1 and 10000 (the route's limit)")
    return args


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


async def _pg_version() -> str:
    engine = create_async_engine(PG_SERVER, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return str(await connection.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


def machine(args: argparse.Namespace) -> dict[str, Any]:
    info: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {
            name: _version(name)
            for name in ("uvicorn", "uvloop", "httptools", "fastapi", "sqlalchemy", "asyncpg")
        },
    }
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    info["git_commit"] = commit.stdout.strip() or None
    # Numbers from a working tree with uncommitted changes in src/ belong to no commit.
    changes = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=False
    )
    info["src_uncommitted_changes"] = bool(changes.stdout.strip())
    info["journeyline_imported_from"] = str(Path(journeyline.__file__).parent)
    try:
        info["postgres"] = asyncio.run(_pg_version())
    except Exception as exc:
        info["postgres"] = f"unreachable: {exc}"
    try:
        redis = Redis.from_url(args.redis_url, socket_connect_timeout=2)
        info["redis"] = cast(dict[str, Any], redis.info("server")).get("redis_version")
        redis.close()
    except Exception as exc:
        info["redis"] = f"unreachable: {exc}"
    return info


def _attempt(
    console: Console,
    label: str,
    run: Callable[[], dict[str, Any]],
    errors: list[str],
    **tags: Any,
) -> dict[str, Any]:
    """Run one measurement; a failure is recorded (and the run goes on to the next one).
    `tags` say what was measured, in the result either way."""
    console.print(f"[bold]>[/bold] {label} ...")
    began = time.perf_counter()
    try:
        result = run()
    except Exception as exc:
        console.print(f"[red]  {label} failed:[/red] {exc}")
        console.print(traceback.format_exc(), markup=False, highlight=False)
        errors.append(f"{label}: {exc}")
        result = {"error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - began
    console.print(f"  done in {seconds:.1f} s")
    return {**tags, **result, "wall_s": seconds}


def run(
    args: argparse.Namespace, workdir: Path, console: Console
) -> tuple[dict[str, Any], list[str]]:
    sections = args.only or list(DEFAULT_SECTIONS)
    results: dict[str, Any] = {}
    errors: list[str] = []

    if "baselines" in sections:
        results["baselines"] = {
            "echo": _attempt(
                console,
                "baseline: ASGI echo",
                partial(
                    baselines.echo,
                    workdir,
                    requests=args.echo_requests,
                    concurrency=args.sync_concurrency,
                ),
                errors,
            ),
            "copy": _attempt(
                console,
                "baseline: raw COPY",
                partial(
                    baselines.raw_copy,
                    workdir,
                    events=args.copy_events,
                    chunk=args.batch_size,
                    seed=args.seed,
                ),
                errors,
            ),
        }

    if "sync" in sections:
        shares = tuple(float(part) for part in args.open_shares.split(","))
        # SQLite is served by one process: its one writer is why `serve` refuses more.
        serving = [
            (kind, count)
            for kind in args.databases
            for count in (_ints(args.api_processes) if kind == "postgres" else [1])
        ]
        results["sync"] = [
            _attempt(
                console,
                f"sync ingest on {kind} with {count} API process(es)",
                partial(
                    sync.measure,
                    kind,
                    workdir,
                    requests=args.sync_requests,
                    concurrency=args.sync_concurrency,
                    shares=shares,
                    duration=args.open_duration,
                    processes=count,
                    redis_url=args.redis_url if kind == "postgres" else None,
                ),
                errors,
                database=kind,
                api_processes=count,
            )
            for kind, count in serving
        ]

    if "batch" in sections:
        shapes: list[tuple[Kind, int]] = []
        if "postgres" in args.databases:
            shapes += [("postgres", count) for count in _ints(args.workers)]
        if "sqlite" in args.databases:
            shapes.append(("sqlite", 0))
        results["batch"] = [
            _attempt(
                console,
                f"batch drain on {kind}" + (f" with {count} worker(s)" if count else ""),
                partial(
                    batch.measure,
                    kind,
                    workdir,
                    batches=args.batches,
                    batch_size=args.batch_size,
                    workers=count,
                    redis_url=args.redis_url,
                    seed=args.seed,
                    timeout=args.batch_timeout,
                ),
                errors,
                database=kind,
                workers=count,
                shape=f"{count} Arq worker(s)" if count else "embedded worker",
            )
            for kind, count in shapes
        ]

    if "merge" in sections:
        results["merge"] = [
            _attempt(
                console,
                f"merge cost on {kind}",
                partial(
                    merge.measure,
                    kind,
                    workdir,
                    sizes=_ints(args.merge_sizes),
                    repeats=args.merge_repeats,
                    chunk=args.merge_chunk,
                ),
                errors,
                database=kind,
            )
            for kind in args.databases
        ]

    if "budget" in sections:
        results["budget"] = [
            _attempt(
                console,
                f"write-path budget on {kind}",
                partial(
                    budget.measure,
                    kind,
                    workdir,
                    events=args.budget_events,
                    chunk=args.merge_chunk,
                    seed=args.seed,
                ),
                errors,
                database=kind,
            )
            for kind in args.databases
        ]

    if "growth" in sections:
        results["growth"] = [
            _attempt(
                console,
                f"growth of {args.growth_tenants} tenant(s) on {kind}",
                partial(
                    growth.measure,
                    kind,
                    workdir,
                    milestones=_ints(args.growth_milestones),
                    batch_size=args.growth_batch_size,
                    workers=args.growth_workers,
                    tenants=args.growth_tenants,
                    visitors=args.growth_visitors,
                    window=args.growth_window,
                    redis_url=args.redis_url,
                    seed=args.seed,
                    timeout=args.growth_timeout,
                ),
                errors,
                database=kind,
                workers=args.growth_workers if kind == "postgres" else 0,
                tenants=args.growth_tenants,
            )
            for kind in args.databases
        ]
    return results, errors


def _interrupt(signum: int, _frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so every `finally` stops its children and drops its database.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    console = Console()
    began = time.perf_counter()
    meta = machine(args)
    config = {
        name: str(value) if isinstance(value, Path) else value for name, value in vars(args).items()
    }
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        results, errors = run(args, args.workdir, console)
    else:
        with tempfile.TemporaryDirectory(prefix="journeyline-bench-") as directory:
            results, errors = run(args, Path(directory), console)
    runtime = time.perf_counter() - began
    document = {
        "meta": meta,
        "config": config,
        "results": results,
        "errors": errors,
        "runtime_s": runtime,
    }
    report.write_json(args.out, document)
    report.print_table(results, console)
    console.print(f"total runtime {runtime:.0f} s · JSON written to {args.out}")
    if errors:
        console.print(f"[red]{len(errors)} measurement(s) failed[/red]")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
