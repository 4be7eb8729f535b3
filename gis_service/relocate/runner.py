"""Running the batches: in this process, or on a dask.distributed cluster (a scheduler given
by address, or a `LocalCluster` of N worker processes made for the run).

On a cluster the boundaries go to every worker once, before the first batch, as a worker
plugin: the scheduler hands it to each worker (and to any that joins during the run), which
keeps it until the run unregisters it. Each batch's points go to one worker and only its answer
comes back (the changed rows, or every point's codes for a file): points in, codes out, no
shuffle. `Shipped` counts, in each process, how many times the boundaries were unpickled there,
and the runner reads the counts back after the run: one per worker process is what "shipped
once" means (none for workers that are threads of this process, which share its memory).
A plugin rather than `scatter(broadcast=True)`: the scheduler's active memory manager drops
replicas no task waits for yet (every copy but one, right after the broadcast), and the first
batch on each worker then fetched the boundaries again from another worker (seen in 3 runs of
5, by the same count). At most `2 × threads` batches are in flight, so the client never holds
more than that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol, TypeVar

from distributed import WorkerPlugin, get_worker

from gis_service.errors import DomainError
from gis_service.relocate.attribution import Attributed, Boundaries, Points, attribute

TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
Context = TypeVar("Context")  # what stays with the client beside a batch (a file's columns)
Task = Callable[..., Attributed]


class SchedulerUnreachableError(DomainError):
    """No dask scheduler answers at the address given (or a local cluster did not start)."""

    status, title = 503, "Scheduler unreachable"


class Shipped(WorkerPlugin):
    """The boundaries as shipped to a worker (a worker plugin); counts the unpickles in each
    process."""

    loads: ClassVar[int] = 0
    name = "relocate-boundaries"

    def __init__(self, boundaries: Boundaries) -> None:
        self.boundaries = boundaries

    def __getstate__(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries}

    def __setstate__(self, state: dict[str, Any]) -> None:
        type(self).loads += 1
        self.boundaries = state["boundaries"]



def attribute_shipped(points: Points, only_changed: bool) -> Attributed:
    """`attribute` with the boundaries this worker holds (the task each batch runs)."""
    shipped = get_worker().plugins[Shipped.name]
    assert isinstance(shipped, Shipped)
    return attribute(shipped.boundaries, points, only_changed=only_changed)


def loads_here() -> int:
    """How many times this process unpickled the boundaries (run on each worker)."""
    return Shipped.loads


class Runner(Protocol):
    """Maps `attribute` over batches, answering each with what stayed beside it."""

    shipped: dict[str, int] | None  # per worker, the boundaries' unpickles (after a run)

    def run(self, boundaries: Boundaries, batches: Iterable[tuple[Points, Context]], *,
            only_changed: bool) -> Iterator[tuple[Attributed, Context]]:
        """Each batch's answer, as they finish."""
        ...


class InProcess:
    """Every batch in this process, one after another."""

    shipped: dict[str, int] | None = None

    def run(self, boundaries: Boundaries, batches: Iterable[tuple[Points, Context]], *,
            only_changed: bool) -> Iterator[tuple[Attributed, Context]]:
        """Each batch's answer, in order."""
        for points, context in batches:
            yield attribute(boundaries, points, only_changed=only_changed), context


class OnDask:
    """Batches as tasks on a dask.distributed cluster, the boundaries shipped once."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.shipped: dict[str, int] | None = None

    @property
    def threads(self) -> int:
        """Threads over all workers."""
        return sum(self.client.nthreads().values()) or 1

    def run(self, boundaries: Boundaries, batches: Iterable[tuple[Points, Context]], *,
            only_changed: bool) -> Iterator[tuple[Attributed, Context]]:
        """Each batch's answer as it finishes (not in order)."""
        from distributed import as_completed

        client = self.client
        before = client.run(loads_here)  # a cluster's workers may have served earlier runs
        client.register_plugin(Shipped(boundaries), name=Shipped.name)
        waiting: dict[Any, Context] = {}
        done = as_completed()
        limit = 2 * self.threads
        try:
            for points, context in batches:
                # the batch scattered first: a task's arguments stay small
                data = client.scatter(points, hash=False)
                future = client.submit(attribute_shipped, data, only_changed, pure=False)
                waiting[future] = context
                done.add(future)
                while len(waiting) >= limit:
                    yield self._result(next(done), waiting)
            for future in done:
                yield self._result(future, waiting)
            self.shipped = {str(k): int(v) - int(before.get(k, 0))
                            for k, v in client.run(loads_here).items()}
        finally:
            for future in waiting:
                future.cancel()
            client.unregister_worker_plugin(Shipped.name)

    @staticmethod
    def _result(future: Any, waiting: dict[Any, Context]) -> tuple[Attributed, Context]:
        context = waiting.pop(future)
        attributed: Attributed = future.result()
        future.release()
        return attributed, context


@contextmanager
def dask_client(*, scheduler: str | None = None, workers: int | None = None,
                processes: bool = True, memory_limit: str | int = "auto") -> Iterator[Any]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster of `workers` worker
    processes (one thread each; threads of this process with processes=False) made for the
    run and closed after it. How long to try to connect is dask's own setting
    (`distributed.comm.timeouts.connect`, e.g. DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s)."""
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler)
        else:
            # dask starts worker processes with MALLOC_TRIM_THRESHOLD_=65536, which also turns
            # off glibc's sliding mmap threshold: then every array of a batch is a fresh mmap
            # whose pages fault in, and locating ran 35% slower (12.6 -> 8.3 M points/s, 10,000
            # grids, 2,000,000-point batches). A run's workers live for the run: not set here.
            with dask.config.set({TRIM: None}):
                cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1,
                                       processes=processes, dashboard_address=None,
                                       memory_limit=memory_limit)
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        where = scheduler or f"a local cluster of {workers} workers"
        raise SchedulerUnreachableError(f"no dask scheduler at {where}: {exc}") from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
