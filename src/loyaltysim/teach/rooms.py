"""Each browser's classroom kept on the server for a while, so that reloading the page keeps the run.

Solara gives every browser a session id (a cookie); `room_for` returns that browser's `Classroom` and its settings
(the language), or makes new ones. A room not used for `KEEP_SECONDS` is dropped (checked at every `room_for` and
once a minute by a background sweeper), and at most `MAX_ROOMS` are kept (the least recently used go first), so the
server's memory comes back after a class. Tabs of one browser share its room.
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loyaltysim.errors import InputError
from loyaltysim.teach.classroom import Classroom

__all__ = ["KEEP_SECONDS", "MAX_ROOMS", "SWEEP_SECONDS", "Kept", "forget", "keep_seconds", "kept", "room_for"]


def keep_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """``LOYALTYSIM_TEACH_KEEP_SECONDS`` (seconds > 0), default 30 minutes; a bad value is an `InputError`."""
    raw = environ.get("LOYALTYSIM_TEACH_KEEP_SECONDS")
    if raw is None:
        return 30 * 60.0
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InputError("environment", "LOYALTYSIM_TEACH_KEEP_SECONDS", repr(raw), "a number of seconds above 0")
    return value


KEEP_SECONDS = keep_seconds()
"""How long a browser's room is kept after its last use (``LOYALTYSIM_TEACH_KEEP_SECONDS``, default 30 minutes)."""
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


def _drop_expired(now: float) -> None:
    for key in [k for k, v in _rooms.items() if now - v.used > KEEP_SECONDS]:
        del _rooms[key]


def _sweep() -> None:
    while True:
        time.sleep(min(SWEEP_SECONDS, KEEP_SECONDS))
        with _lock:
            _drop_expired(time.monotonic())
        give_back_memory()


def give_back_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system.

    glibc's ``malloc_trim`` (elsewhere only the collection), so the server's resident memory falls after a class's
    pages and rooms are gone.
    """
    gc.collect()
    if _libc is not None:
        _libc.malloc_trim(0)


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (present only in glibc)
    except (OSError, AttributeError):
        return None
    return libc


_libc = _glibc()


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
