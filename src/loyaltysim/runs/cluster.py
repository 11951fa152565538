"""`DaskExecutor`: run tasks on a Dask distributed cluster, with the interface of the local executors.

The same code runs on a laptop ``LocalCluster``, on SLURM through dask-jobqueue, or on Kubernetes: start the
cluster, pass its scheduler address (``tcp://host:8786``). Workers must have loyaltysim installed. Each task sets
numba to one thread in the worker thread that runs it (numba's thread count is per thread), so start workers with
one thread per core (``--nthreads 1``) for no oversubscription. A worker that dies is replaced and its tasks are
rerun by the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from loyaltysim.errors import ScenarioError

__all__ = ["DaskExecutor"]


def _one_thread(fn: Callable[[Any], Any], item: Any) -> Any:
    """Call ``fn(item)`` with one numba thread (in the worker)."""
    from loyaltysim.engine.threads import prefer_passive_threads

    prefer_passive_threads()
    import numba

    numba.set_num_threads(1)
    return fn(item)


class DaskExecutor:
    """Runs tasks on the Dask cluster at ``address``; use as a context manager.

    Parameters
    ----------
    address
        Scheduler address, e.g. ``tcp://127.0.0.1:8786``, or a ``distributed.Client`` already connected.
    queue
        Tasks in flight per worker thread now in the cluster (default 2): enough to keep workers busy without
        shipping the whole sweep to the scheduler at once.
    timeout
        Seconds to wait for the scheduler when connecting.
    poll
        Seconds between looks at the cluster's size while no task finishes (workers that joined get work).
    """

    def __init__(self, address: Any, queue: int = 2, timeout: float = 30.0, poll: float = 1.0) -> None:
        self.address = address
        self.queue = queue
        self.timeout = timeout
        self.poll = poll
        self._client = None
        self._own = False

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client
        except ImportError:
            raise ScenarioError("--scheduler", None, None, "needs Dask: pip install 'loyaltysim[cluster]'") from None
        if isinstance(self.address, Client):
            self._client = self.address
            return self
        from distributed.comm.registry import backends

        scheme = str(self.address).split("://", 1)[0] if "://" in str(self.address) else "tcp"
        if scheme not in backends:  # refused before a client starts (a failed one lingers until exit)
            raise ScenarioError(
                "--scheduler",
                None,
                repr(self.address),
                f"the address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786 (schemes: {', '.join(backends)})",
            )
        try:
            self._client = Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(
                "--scheduler",
                None,
                None,
                f"cannot connect to a Dask scheduler at {self.address!r} "
                f"({type(exc).__name__}: {exc}); allowed: the address of a running scheduler, e.g. "
                f"tcp://127.0.0.1:8786",
            ) from None
        self._own = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._own and self._client is not None:
            self._client.close()
        self._client = None

    def _lost(self, exc: BaseException | None) -> ScenarioError:
        """The one-line error for a scheduler that went away mid-run."""
        why = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        return ScenarioError(
            "--scheduler",
            None,
            None,
            f"lost the Dask scheduler at {str(self.address)!r} during the run{why}; the runs that finished are "
            "kept: start the scheduler again and rerun the same command to resume",
        )

    @property
    def client(self):
        """The connected ``distributed.Client`` (inside the ``with`` block)."""
        return self._client

    @property
    def jobs(self) -> int:
        """Worker threads in the cluster now (at least 1)."""
        if self._client is None:
            return 1
        return max(1, sum(self._client.nthreads().values()))

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, fn(item))`` as each finishes, keeping ``queue`` x the cluster's worker threads in flight.

        The window follows the cluster as it is now: it is recomputed after every finished task and at least every
        ``poll`` seconds, so workers that join after the sweep starts (SLURM, autoscaling) get tasks at once, and a
        cluster that shrinks gets no more than it can run.
        """
        import time

        from distributed import as_completed

        if self._client is None:
            raise RuntimeError("use DaskExecutor as a context manager")
        it = iter(items)
        pending: dict[Any, Any] = {}
        finished = as_completed(loop=self._client.loop)
        exhausted = False
        looked = -float("inf")
        limit = 1
        while True:
            if time.monotonic() - looked >= self.poll:
                try:
                    limit = self.queue * self.jobs  # the cluster as it is now
                except OSError as exc:
                    raise self._lost(exc) from None
                looked = time.monotonic()
            while not exhausted and len(pending) < limit:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                fut = self._client.submit(_one_thread, fn, item, pure=False)
                pending[fut] = item
                finished.add(fut)
            if not pending:
                return
            if not finished.has_ready():
                time.sleep(min(0.05, self.poll))
                continue
            for fut in finished.next_batch(block=False):
                item = pending.pop(fut)
                if fut.status == "cancelled":  # the client lost the scheduler and cancelled what was in flight
                    raise self._lost(None)
                result = fut.result()  # a task's own error is raised as it is
                fut.release()
                yield item, result
                looked = -float("inf")  # a task finished: look at the cluster before topping up
