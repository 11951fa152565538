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
        Tasks in flight per worker thread (default 2): enough to keep workers busy without shipping the
        whole sweep to the scheduler at once.
    timeout
        Seconds to wait for the scheduler when connecting.
    """

    def __init__(self, address: Any, queue: int = 2, timeout: float = 30.0) -> None:
        self.address = address
        self.queue = queue
        self.timeout = timeout
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
        """Yield ``(item, fn(item))`` as each finishes; at most ``queue`` x worker threads are in flight."""
        from distributed import as_completed

        if self._client is None:
            raise RuntimeError("use DaskExecutor as a context manager")
        it = iter(items)
        limit = self.queue * self.jobs
        pending: dict[Any, Any] = {}
        for item in it:
            pending[self._client.submit(_one_thread, fn, item, pure=False)] = item
            if len(pending) >= limit:
                break
        done = as_completed(list(pending), loop=self._client.loop)
        for fut in done:
            item = pending.pop(fut)
            result = fut.result()
            fut.release()
            yield item, result
            nxt = next(it, None)
            if nxt is not None:
                new = self._client.submit(_one_thread, fn, nxt, pure=False)
                pending[new] = nxt
                done.add(new)
