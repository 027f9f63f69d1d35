"""A lean HTTP/1.1 keep-alive load generator on asyncio streams.

The benchmark shares two cores with the server it measures, so the client must cost little:
httpx spends about a millisecond of CPU per request, this about a tenth of that. It speaks only
what the benchmark needs: POST with a JSON body, a Content-Length answer, persistent connections.

Two shapes of load:

- `closed_loop`: N connections, each sending its next request when the last is answered. It
  finds the saturation throughput; its latencies are only meaningful at that load.
- `open_loop`: requests leave on a fixed schedule (`rate` per second) whether or not earlier ones
  were answered, and each latency runs from the request's *scheduled* send time. A stalled server
  therefore shows up in the percentiles instead of quietly slowing the client down (coordinated
  omission).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (1..99) of `values`; NaN when there are none."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100)[q - 1]


@dataclass
class LoadResult:
    requests: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    # Open loop only: the offered rate, and the worst delay between a request's scheduled time
    # and the moment the client got to it (large values mean the client, not the server, lagged).
    offered_rate: float | None = None
    max_dispatch_lag: float = 0.0
    connections: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = [f"POST {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value.strip())
            elif lowered == b"transfer-encoding":
                raise RuntimeError("chunked answers are not supported by the load generator")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def closed_loop(
    host: str,
    port: int,
    path: str,
    bodies: Iterator[bytes],
    headers: dict[str, str],
    *,
    requests: int,
    concurrency: int,
    check: Callable[[int, bytes], None] | None = None,
) -> LoadResult:
    """`concurrency` connections, each sending its next request when the last is answered."""
    result = LoadResult(requests=requests, elapsed=0.0, connections=concurrency)
    remaining = iter(range(requests))
    connections = [await Connection.open(host, port) for _ in range(concurrency)]

    async def worker(connection: Connection) -> None:
        for _ in remaining:
            body = next(bodies)
            started = time.perf_counter()
            status, answer = await connection.post(path, body, headers)
            result.record(status, time.perf_counter() - started)
            if check is not None:
                check(status, answer)

    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in connections))
    finally:
        result.elapsed = time.perf_counter() - began
        for connection in connections:
            await connection.close()
    return result


async def open_loop(
    host: str,
    port: int,
    path: str,
    bodies: Iterator[bytes],
    headers: dict[str, str],
    *,
    rate: float,
    duration: float,
    check: Callable[[int, bytes], None] | None = None,
    max_connections: int = 256,
    warm_connections: int = 16,
) -> LoadResult:
    """Send `rate` requests per second for `duration` seconds on a fixed schedule.

    Request i is due at start + i / rate. It goes out on an idle keep-alive connection, or a new
    one (up to `max_connections`; past that it waits for one, and the wait counts). Its latency
    is measured from its due time, not from when it was actually written, so time spent queued
    behind a slow server is never hidden. Connections are reused first-in first-out so none sits
    idle long enough for the server's keep-alive timeout to close it.
    """
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    total = max(1, round(rate * duration))
    result = LoadResult(requests=total, elapsed=0.0, offered_rate=rate)
    idle: deque[Connection] = deque()
    opened: list[Connection] = []
    slots = asyncio.Semaphore(max_connections)
    for _ in range(min(warm_connections, max_connections)):
        connection = await Connection.open(host, port)
        opened.append(connection)
        idle.append(connection)

    failures: list[BaseException] = []

    async def send(due: float, body: bytes) -> None:
        try:
            await exchange(due, body)
        except Exception as exc:
            failures.append(exc)
            raise

    async def exchange(due: float, body: bytes) -> None:
        async with slots:
            if idle:
                connection = idle.popleft()
            else:
                connection = await Connection.open(host, port)
                opened.append(connection)
            status, answer = await connection.post(path, body, headers)
            finished = time.perf_counter()
            idle.append(connection)
        result.record(status, finished - due)
        if check is not None:
            check(status, answer)

    tasks: list[asyncio.Task[None]] = []
    began = time.perf_counter()
    try:
        for index in range(total):
            if failures:
                raise failures[0]
            due = began + index / rate
            ahead = due - time.perf_counter()
            if ahead > 0:
                # Pacing the schedule itself: the request is not due yet.
                await asyncio.sleep(ahead)
            result.max_dispatch_lag = max(result.max_dispatch_lag, time.perf_counter() - due)
            tasks.append(asyncio.create_task(send(due, next(bodies))))
        await asyncio.gather(*tasks)
    finally:
        result.elapsed = time.perf_counter() - began
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        result.connections = len(opened)
        for connection in opened:
            await connection.close()
    return result
