"""Each browser's classroom kept on the server for a while, so that reloading the page keeps the run.

Solara gives every browser a session id (a cookie); `room_for` returns that browser's `Classroom` and its settings
(the language), or makes new ones. A room not used for `KEEP_SECONDS` is dropped (checked at every `room_for` and
once a minute by a background sweeper, which then collects garbage and trims the heap), and at most `MAX_ROOMS` are
kept (the least recently used go first), so a class's runs do not stay in memory. Tabs of one browser share its room.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from loyaltysim.teach.classroom import Classroom
from loyaltysim.teach.settings import DEFAULT_KEEP_SECONDS, keep_seconds

__all__ = ["KEEP_SECONDS", "MAX_ROOMS", "SWEEP_SECONDS", "Kept", "forget", "give_back_memory", "kept", "room_for"]


KEEP_SECONDS = DEFAULT_KEEP_SECONDS
"""How long a browser's room is kept after its last use, unless ``LOYALTYSIM_TEACH_KEEP_SECONDS`` is set
(`loyaltysim.teach.settings.keep_seconds`, checked by the server before it starts)."""
SWEEP_SECONDS = 60.0
"""How often the background sweeper drops expired rooms."""
MAX_ROOMS = 200
"""At most this many rooms are kept (a class of thirty, many times over)."""


@dataclass
class Kept:
    """One browser's classroom, its settings and when it was last used."""

    room: Classroom
    settings: dict[str, Any] = field(default_factory=dict)
    used: float = field(default_factory=time.monotonic)


_rooms: dict[str, Kept] = {}
_lock = threading.Lock()
_sweeper: threading.Thread | None = None


def _keep() -> float:
    return keep_seconds()  # read at each use: a server's environment may set it after import


def _drop_expired(now: float) -> int:
    """Drop the rooms unused for longer than the keep time; return how many."""
    keep = _keep()
    gone = [k for k, v in _rooms.items() if now - v.used > keep]
    for key in gone:
        del _rooms[key]
    return len(gone)


def _sweep() -> None:
    while True:
        time.sleep(min(SWEEP_SECONDS, _keep()))
        with _lock:
            dropped = _drop_expired(time.monotonic())
        if dropped:
            give_back_memory()


def give_back_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system.

    glibc's ``malloc_trim`` where there is one (elsewhere only the collection). Called after rooms are dropped; the
    system gets back what the allocator can return, not necessarily all a class used (`docs/teaching.md`).
    """
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@cache
def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (present only in glibc)
    except (OSError, AttributeError):
        return None
    return libc


def room_for(session: str, make: Callable[[], Classroom], now: float | None = None) -> Kept:
    """The room of browser ``session``, made by ``make`` if it has none (or it expired); marks it used."""
    global _sweeper
    now = time.monotonic() if now is None else now
    with _lock:
        if _sweeper is None:  # started with the first room, so importing this module starts nothing
            _sweeper = threading.Thread(target=_sweep, name="loyaltysim-rooms-sweeper", daemon=True)
            _sweeper.start()
        _drop_expired(now)
        entry = _rooms.get(session)
        if entry is None:
            entry = _rooms[session] = Kept(make(), used=now)
            while len(_rooms) > MAX_ROOMS:
                del _rooms[min(_rooms, key=lambda k: _rooms[k].used)]
        entry.used = now
        return entry


def forget(session: str) -> None:
    """Drop a browser's room now."""
    with _lock:
        _rooms.pop(session, None)


def kept() -> int:
    """How many rooms are kept."""
    with _lock:
        return len(_rooms)
