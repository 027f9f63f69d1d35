"""Group commit: concurrent synchronous requests share one pass of the bulk pipeline.

A request hands its events to the committer and waits. A dispatcher takes everything waiting
the moment a writer slot is free, runs it through `pipeline.process` (one call per tenant
context, all in one transaction) and answers each request from its slice of the outcomes after
the commit. Nothing waits on a timer: an idle service answers a lone request at once, and a
busy one batches exactly what piled up while the previous transaction was committing (the
shape of PostgreSQL's own group commit and RudderStack's gateway).

Ordering is arrival order, so a group gives the same result as its requests run one by one
(the pipeline's list/one-by-one equivalence). If a group fails for a reason that is not the
database being down, its requests are retried one by one so that one bad request cannot fail
its neighbours.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from journeyline import metrics
from journeyline.errors import StorageUnavailable
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.outcome import EventOutcome
from journeyline.store.db import Database, Session
from journeyline.tenancy.context import TenantContext


@dataclass(slots=True)
class _Request:
    context: TenantContext
    events: Sequence[CanonicalEvent]
    future: asyncio.Future[list[EventOutcome]]


@dataclass(slots=True)
class GroupStats:
    """What the committer has done, for tests and the benchmark."""

    groups: int = 0
    requests: int = 0
    events: int = 0
    largest_group: int = 0
    solo_retries: int = 0


@dataclass
class GroupCommitter:
    database: Database
    # Writer transactions in flight at once: SQLite has one writer; PostgreSQL takes a few.
    max_inflight: int = 1
    # A group stops growing at this many events (the rest waits for the next slot).
    max_group_events: int = 1000
    stats: GroupStats = field(default_factory=GroupStats)
    _pending: deque[_Request] = field(default_factory=deque)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _slots: asyncio.Semaphore = field(init=False)
    _inflight: set[asyncio.Task[None]] = field(default_factory=set)
    _dispatcher: asyncio.Task[None] | None = None
    _closing: bool = False

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.max_inflight)

    @classmethod
    def for_database(cls, database: Database, max_group_events: int = 1000) -> GroupCommitter:
        return cls(
            database,
            max_inflight=1 if database.is_sqlite else 4,
            max_group_events=max_group_events,
        )

    async def submit(
        self, context: TenantContext, events: Sequence[CanonicalEvent]
    ) -> list[EventOutcome]:
        """Process `events` for `context`; returns after they are committed."""
        if self._closing:
            raise StorageUnavailable("the service is shutting down")
        if not events:
            return []
        self._ensure_dispatcher()
        future: asyncio.Future[list[EventOutcome]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Request(context, events, future))
        self._wakeup.set()
        # Shielded: a client that goes away does not cancel work its events are part of.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Answer everything already submitted, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._dispatcher is not None:
            await self._dispatcher
            self._dispatcher = None
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    def _ensure_dispatcher(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    async def _dispatch(self) -> None:
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._slots.acquire()
            group = self._take()
            task = asyncio.get_running_loop().create_task(self._run(group))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def _take(self) -> list[_Request]:
        group: list[_Request] = []
        size = 0
        limit = self.max_group_events
        while self._pending and (not group or size + len(self._pending[0].events) <= limit):
            request = self._pending.popleft()
            group.append(request)
            size += len(request.events)
        return group

    async def _run(self, group: list[_Request]) -> None:
        try:
            await self._process(group)
        finally:
            self._slots.release()

    async def _process(self, group: list[_Request]) -> None:
        self.stats.groups += 1
        self.stats.requests += len(group)
        self.stats.events += sum(len(r.events) for r in group)
        self.stats.largest_group = max(self.stats.largest_group, len(group))
        metrics.GROUP_REQUESTS.observe(len(group))
        try:
            results = await self.database.run(partial(_process_group, group=group))
        except StorageUnavailable as exc:
            for request in group:
                _settle(request, exc)
            return
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0], exc)
                return
            # Isolate the failing request: its neighbours must not fail with it.
            self.stats.solo_retries += len(group)
            for request in group:
                try:
                    solo = await self.database.run(partial(_process_group, group=[request]))
                except Exception as solo_exc:
                    _settle(request, solo_exc)
                else:
                    _settle(request, solo[0])
            return
        for request, outcomes in zip(group, results, strict=True):
            _settle(request, outcomes)


async def _process_group(session: Session, group: list[_Request]) -> list[list[EventOutcome]]:
    """One pipeline pass per tenant context (tenants ordered, so lock order is global), then
    each request's outcomes cut back out of its context's list."""
    by_context: dict[TenantContext, list[int]] = {}
    for index, request in enumerate(group):
        by_context.setdefault(request.context, []).append(index)
    results: list[list[EventOutcome]] = [[] for _ in group]
    for context in sorted(by_context, key=lambda c: c.tenant_id):
        members = by_context[context]
        events = [event for index in members for event in group[index].events]
        outcomes = await pipeline.process(session, context, events)
        offset = 0
        for index in members:
            count = len(group[index].events)
            results[index] = outcomes[offset : offset + count]
            offset += count
    return results


def _settle(request: _Request, result: list[EventOutcome] | BaseException) -> None:
    if request.future.done():
        return
    if isinstance(result, BaseException):
        request.future.set_exception(result)
    else:
        request.future.set_result(result)
