"""Export a classroom run for slides: a PNG of the latest step, or a GIF of the whole run.

The app renders exports in a worker process (`export_bytes`): matplotlib holds the interpreter's lock while it
draws, so a GIF drawn in the server's own process would slow every other student's page.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loyaltysim.teach.classroom import Classroom
from loyaltysim.teach.figures import slide_figure

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["EXPORT_TIMEOUT_S", "Snapshot", "export_bytes", "gif_bytes", "png_bytes", "save_export", "worker_pid"]


@dataclass(frozen=True, eq=False)
class Snapshot:
    """What a slide needs of a run (`slide_figure`), without the model: small, and sent to the worker process."""

    lesson: str
    horizon: int
    history: list[np.ndarray]
    series: pd.DataFrame
    drawn: np.ndarray
    contacts: np.ndarray

    @classmethod
    def of(cls, room: Classroom) -> Snapshot:
        """The run of ``room`` as it is now (taken under its lock: a step never happens half-way through)."""
        with room.lock:
            return cls(room.lesson, room.horizon, list(room.history), room.timeseries(), room.positions(), room.edges())

    @property
    def steps(self) -> int:
        """Steps taken."""
        return len(self.history) - 1

    def positions(self) -> np.ndarray:
        """Drawing positions, as `Classroom.positions`."""
        return self.drawn

    def edges(self) -> np.ndarray:
        """The network's contacts, as `Classroom.edges`."""
        return self.contacts

    def timeseries(self) -> pd.DataFrame:
        """The outputs, as `Classroom.timeseries`."""
        return self.series


EXPORT_TIMEOUT_S = 600.0
"""The longest an export may take in the worker (a year's GIF takes well under a minute on a busy 2-core laptop)."""

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _worker() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:  # one process, started at the first export (spawn: OpenMP is not fork-safe)
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_follow_parent,
                initargs=(os.getpid(),),
            )
        return _pool


def _follow_parent(parent: int) -> None:
    """In the worker: exit when the server is gone (stopped by a signal, it cannot shut its pool down)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="loyaltysim-export-parent-watch", daemon=True).start()


def _replace_broken(broken: ProcessPoolExecutor) -> None:
    """Forget ``broken`` (and shut it down) unless another thread has already replaced it."""
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def _render(kind: str, run: Snapshot, lang: str, every: int) -> bytes:
    return png_bytes(run, lang) if kind == "png" else gif_bytes(run, lang, every)


def worker_pid() -> int:
    """The process id of the export worker (starting it if needed): another process than the server's."""
    return _worker().submit(os.getpid).result(timeout=EXPORT_TIMEOUT_S)


def export_bytes(room: Classroom, kind: str, lang: str = "es", every: int = 1) -> bytes:
    """The PNG (``kind`` ``"png"``) or GIF (``"gif"``) of the run so far, drawn in a worker process.

    The same bytes as `png_bytes` and `gif_bytes`; the calling thread only waits, so the server's other sessions
    keep most of their pace (on two cores they share them with the worker). One worker serves the class: exports
    wait their turn. It is started at the first export (a few seconds) and reused; if it died, a new one is started.
    An export that takes longer than `EXPORT_TIMEOUT_S` raises `TimeoutError`.
    """
    if kind not in ("png", "gif"):
        raise ValueError(f"export kind must be 'png' or 'gif', got {kind!r}")
    run = Snapshot.of(room)
    pool = _worker()
    try:
        return pool.submit(_render, kind, run, lang, every).result(timeout=EXPORT_TIMEOUT_S)
    except BrokenProcessPool:  # the worker died (killed, out of memory): once more with a new one
        _replace_broken(pool)
    return _worker().submit(_render, kind, run, lang, every).result(timeout=EXPORT_TIMEOUT_S)


def png_bytes(room: Classroom | Snapshot, lang: str = "es") -> bytes:
    """The slide of the latest step as PNG bytes."""
    buf = io.BytesIO()
    slide_figure(room, lang).savefig(buf, format="png")
    return buf.getvalue()


def gif_bytes(room: Classroom | Snapshot, lang: str = "es", every: int = 1, frame_ms: int = 250) -> bytes:
    """An animated GIF of the run so far: one frame per ``every`` steps, the last step always included.

    Parameters
    ----------
    room
        The run; its stage history and time series give every frame.
    lang
        ``"es"`` or ``"en"``.
    every
        Step stride between frames (raise it for long runs to keep the file small).
    frame_ms
        Display time of a frame; the last frame stays three times as long.
    """
    from PIL import Image

    steps = list(range(0, room.steps + 1, max(1, every)))
    if steps[-1] != room.steps:
        steps.append(room.steps)
    frames = []
    for step in steps:
        buf = io.BytesIO()
        slide_figure(room, lang, step).savefig(buf, format="png", dpi=60)
        frames.append(Image.open(buf).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT))
    out = io.BytesIO()
    durations = [frame_ms] * (len(frames) - 1) + [frame_ms * 3]
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return out.getvalue()


def save_export(room: Classroom, path: str | Path, lang: str = "es", every: int = 1) -> Path:
    """Write ``path`` as PNG or GIF, chosen by its suffix; return the path."""
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".png", ".gif"):
        raise ValueError(f"{path}: export format must be .png or .gif, got {kind or 'no suffix'!r}")
    data = png_bytes(room, lang) if kind == ".png" else gif_bytes(room, lang, every)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
