"""The harness's output: one rich table (each figure next to its baseline and their ratio) and
the JSON document with every number measured."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console, JustifyMethod
from rich.table import Table

# The stated aims for batches on PostgreSQL (reported, never enforced).
AIM_EVENTS_PER_S = 20_000
AIM_COPY_RATIO = 0.4


@dataclass(frozen=True)
class Row:
    section: str
    figure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    note: str = ""


def _rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}"


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"


def _ratio(value: float, baseline: float | None) -> str:
    return f"{value / baseline:.2f}x" if baseline else ""


def _error_row(section: str, figure: str, entry: dict[str, Any]) -> Row:
    return Row(section, figure, "FAILED", note=str(entry["error"]).splitlines()[0][:120])


def rows(results: dict[str, Any]) -> Iterator[Row]:
    baselines = results.get("baselines", {})
    echo = baselines.get("echo")
    copy = baselines.get("copy")
    echo_rps = echo.get("throughput_rps") if echo else None
    copy_eps = copy.get("events_per_s") if copy else None

    if echo is not None:
        if "error" in echo:
            yield _error_row("baseline", "ASGI echo", echo)
        else:
            yield Row(
                "baseline",
                f"ASGI echo, closed loop c={echo['concurrency']}",
                _rate(echo["throughput_rps"], "req/s"),
                note=f"p50 {_ms(echo['p50_ms'])} · p99 {_ms(echo['p99_ms'])}",
            )
    if copy is not None:
        if "error" in copy:
            yield _error_row("baseline", "raw COPY", copy)
        else:
            yield Row(
                "baseline",
                f"raw COPY into events (PG, {copy['events']:,} rows)",
                _rate(copy["events_per_s"], "ev/s"),
                note=f"{copy['chunk']:,} rows per COPY",
            )

    sync = results.get("sync", [])
    # Each database's one-process saturation, which more processes are compared with.
    single = {
        entry.get("database"): entry["closed_loop"]["throughput_rps"]
        for entry in sync
        if "error" not in entry and entry.get("api_processes", 1) == 1
    }
    for entry in sync:
        db = entry.get("database", "?")
        processes = entry.get("api_processes", 1)
        shape = f"{processes} API process" + ("es" if processes > 1 else "")
        if db == "sqlite":
            shape += " (SQLite: one writer)"
        if "error" in entry:
            yield _error_row("sync", f"{db}, {shape}", entry)
            continue
        closed = entry["closed_loop"]
        note = (
            f"p50 {_ms(closed['p50_ms'])} · p99 {_ms(closed['p99_ms'])} · "
            f"{closed['requests_per_commit']:.1f} req/commit"
        )
        if processes > 1 and single.get(db):
            note += f" · {_ratio(closed['throughput_rps'], single[db])} of 1 process"
        if processes > 1:
            split = "/".join(f"{count:,}" for count in closed["requests_by_process"])
            note += f" · requests by process {split}"
        yield Row(
            "sync",
            f"{db}: POST /ingest, closed loop c={closed['concurrency']}, {shape}",
            _rate(closed["throughput_rps"], "req/s"),
            _rate(echo_rps, "req/s") if echo_rps else "",
            _ratio(closed["throughput_rps"], echo_rps),
            note,
        )
        for point in entry["open_loop"]:
            yield Row(
                "sync",
                f"{db}: open loop at {point['share_of_saturation']:.0%} "
                f"({point['offered_rps']:,.0f} req/s), {shape}",
                f"p50 {_ms(point['p50_ms'])} · p99 {_ms(point['p99_ms'])}",
                note=f"max {_ms(point['max_ms'])} · achieved {point['achieved_rps']:,.0f} req/s · "
                f"{point['requests_per_commit']:.1f} req/commit",
            )

    for entry in results.get("batch", []):
        db = entry.get("database", "?")
        shape = entry.get("shape", "")
        if "error" in entry:
            yield _error_row("batch", f"{db} {shape}", entry)
            continue
        is_pg = db == "postgres"
        note = (
            f"{entry['batches']} x {entry['events'] // max(entry['batches'], 1):,} ev "
            f"in {entry['elapsed_s']:.1f} s"
        )
        if entry["failed"] or entry["duplicates"]:
            note += f" · failed {entry['failed']} dup {entry['duplicates']}"
        if is_pg:
            met = entry["events_per_s"] >= AIM_EVENTS_PER_S and (
                copy_eps is not None and entry["events_per_s"] >= AIM_COPY_RATIO * copy_eps
            )
            note += f" · aim ≥{AIM_EVENTS_PER_S:,} ev/s & ≥{AIM_COPY_RATIO}x COPY: " + (
                "met" if met else "NOT met"
            )
        yield Row(
            "batch",
            f"{db}: drain, {shape}",
            _rate(entry["events_per_s"], "ev/s"),
            _rate(copy_eps, "ev/s") if is_pg and copy_eps else "",
            _ratio(entry["events_per_s"], copy_eps) if is_pg else "",
            note,
        )
        again = entry.get("redelivered")
        if again:
            yield Row(
                "batch",
                f"{db}: drain of the same batches again, {shape}",
                _rate(again["events_per_s"], "ev/s"),
                _rate(entry["events_per_s"], "ev/s"),
                _ratio(again["events_per_s"], entry["events_per_s"]),
                f"{again['duplicates']:,} duplicates · aim ≥1x the first delivery: "
                + ("met" if again["events_per_s"] >= entry["events_per_s"] else "NOT met"),
            )

    for entry in results.get("merge", []):
        db = entry.get("database", "?")
        if "error" in entry:
            yield _error_row("merge", db, entry)
            continue
        sizes = entry["sizes"]
        smallest = sizes[0]
        for size in sizes:
            yield Row(
                "merge",
                f"{db}: merge a shadow of {size['history_events']:,} events",
                _ms(size["merge_ms_median"]),
                _ms(smallest["merge_ms_median"]) if size is not smallest else "",
                f"{size['ratio_to_smallest']:.2f}x" if size is not smallest else "",
                f"median of {size['repeats']}, {_ms(size['merge_ms_min'])}-"
                f"{_ms(size['merge_ms_max'])} · {size['statements']:.0f} statements · "
                f"a plain identify: {_ms(size['plain_event_ms_median'])}"
                + (
                    f" · written ≤ {size['written_kib_max']:,.0f} KiB"
                    if db == "sqlite" and size.get("written_kib_max") is not None
                    else ""
                ),
            )
        if entry.get("history_events_per_s"):
            yield Row(
                "merge",
                f"{db}: pipeline.process in-process",
                _rate(entry["history_events_per_s"], "ev/s"),
                note=f"building the histories: chunks of {entry['history_chunk']:,} anonymous page events",
            )

    for entry in results.get("budget", []):
        db = entry.get("database", "?")
        if "error" in entry:
            yield _error_row("budget", db, entry)
            continue
        yield Row(
            "budget",
            f"{db}: pipeline.process, realistic events",
            _rate(entry["events_per_s"], "ev/s"),
            note=f"{entry['events']:,} events in chunks of {entry['chunk']:,} · "
            f"{entry['us_per_event_total']:.0f} µs/event with parsing",
        )
        for step, micros in entry["us_per_event"].items():
            yield Row("budget", f"{db}: {step}", f"{micros:.1f} µs/event")

    for entry in results.get("growth", []):
        db = entry.get("database", "?")
        shape = f"{entry['workers']} Arq worker(s)" if entry.get("workers") else "embedded worker"
        if "error" in entry:
            yield _error_row("growth", f"{db} {shape}", entry)
            continue
        first = entry["milestones"][0] if entry["milestones"] else None
        tenants = entry.get("tenants", 1)
        tenancy = "one tenant" if tenants == 1 else f"{tenants:,} tenants"
        for point in entry["milestones"]:
            yield Row(
                "growth",
                f"{db}: drain with {point['events_in_log']:,} events in {tenancy}, {shape}",
                _rate(point["events_per_s"], "ev/s"),
                _rate(first["events_per_s"], "ev/s") if first and point is not first else "",
                _ratio(point["events_per_s"], first["events_per_s"])
                if first and point is not first
                else "",
                f"last {point['window_events']:,} ev in {point['window_s']:.1f} s · "
                f"log {point['log_bytes'] / 2**20:,.0f} MiB · at {point['elapsed_s']:.0f} s",
            )


def table(results: dict[str, Any]) -> Table:
    out = Table(title="journeyline benchmarks", show_lines=False)
    columns: list[tuple[str, JustifyMethod]] = [
        ("section", "left"),
        ("figure", "left"),
        ("value", "right"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("note", "left"),
    ]
    for name, justify in columns:
        out.add_column(name, justify=justify)
    for row in rows(results):
        out.add_row(row.section, row.figure, row.value, row.baseline, row.ratio, row.note)
    return out


def print_table(results: dict[str, Any], console: Console) -> None:
    if not console.is_terminal:
        # Piped into a file or a log: wide enough that rows do not wrap.
        console = Console(width=200)
    console.print(table(results))


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
