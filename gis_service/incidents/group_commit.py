"""Group commit for the HTTP intake: reports that arrive while the previous ones are being
written wait together and are written as one transaction (one statement, one commit).

Under load most of a report's database cost was per transaction (a round trip to begin, one
to search duplicates, one to store, one to commit, and the tile aggregate's statement-level
trigger); a batch pays them once. Nothing waits on a timer: a lone report is written at once,
and a batch is whatever queued up during the previous write, so latency only grows with load.
A batch that fails is written again one report at a time, so one bad report fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from gis_service.incidents.service import IntakePolicy, IntakeResult, Report, intake_many
from gis_service.locate.service import LocatorCache

logger = logging.getLogger(__name__)
Outcome = IntakeResult | BaseException


@dataclass(frozen=True)
class _Waiting:
    report: Report
    future: asyncio.Future[IntakeResult]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[IntakeResult], outcome: Outcome) -> None:
    if future.done():  # the client went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class IntakeWriter:
    """Writer threads of a service process (two: while one waits for the database, the other
    prepares the next batch); `submit` from the event loop."""

    def __init__(self, factory: sessionmaker[Session], locator: LocatorCache,
                 policy: IntakePolicy, max_batch: int, threads: int = 2) -> None:
        self._factory, self._locator, self._policy = factory, locator, policy
        self._max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, name=f"intake-writer-{n}",
                                          daemon=True) for n in range(max(1, threads))]
        self._count = threading.Lock()
        self.closed = False
        self.batches = 0  # how many transactions were written, and how many reports
        self.reports = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self.closed = True
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)

    async def submit(self, report: Report) -> IntakeResult:
        """The report taken in, once its transaction has committed."""
        if self.closed:
            raise RuntimeError("the intake writer is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IntakeResult] = loop.create_future()
        self._queue.put(_Waiting(report, future, loop))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            outcomes = self._write([w.report for w in batch])
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.loop.call_soon_threadsafe(_settle, waiting.future, outcome)

    def _write(self, reports: list[Report]) -> list[Outcome]:
        try:
            with self._factory() as session:
                outcomes: list[Outcome] = list(intake_many(
                    session, self._locator.current(), reports, self._policy))
                session.commit()
        except Exception as exc:  # handed to the request, which answers it (e.g. 503)
            if len(reports) == 1:
                return [exc]
            logger.warning("intake batch of %d failed (%s); writing one at a time",
                           len(reports), type(exc).__name__)
            return self._alone(reports)
        with self._count:
            self.batches += 1
            self.reports += len(reports)
        return outcomes

    def _alone(self, reports: list[Report]) -> list[Outcome]:
        return [self._write([report])[0] for report in reports]
