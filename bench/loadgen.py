"""A lean HTTP/1.1 keep-alive load generator on asyncio streams.

The benchmark shares two cores with the server it measures, so the client must cost little:
httpx spends about a millisecond of CPU per request, this about a tenth of that. It speaks only
what the benchmark needs: POST with a JSON body, a Content-Length answer, persistent connections.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0


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
    result = LoadResult(requests=requests, elapsed=0.0)
    remaining = iter(range(requests))
    connections = [await Connection.open(host, port) for _ in range(concurrency)]

    async def worker(connection: Connection) -> None:
        for _ in remaining:
            body = next(bodies)
            started = time.perf_counter()
            status, answer = await connection.post(path, body, headers)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
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
