"""Each browser's classroom kept on the server for a while, so that reloading the page keeps the run.

Solara gives every browser a session id (a cookie); `room_for` returns that browser's `Classroom` and its settings
(the language), or makes new ones. A room not used for `KEEP_SECONDS` is dropped, and at most `MAX_ROOMS` are
kept (the least recently used go first), so the server's memory comes back after a class. Tabs of one browser
share its room.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loyaltysim.teach.classroom import Classroom

__all__ = ["KEEP_SECONDS", "MAX_ROOMS", "Kept", "forget", "kept", "room_for"]

KEEP_SECONDS = 30 * 60.0
"""How long a browser's room is kept after its last use."""
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


def room_for(session: str, make: Callable[[], Classroom], now: float | None = None) -> Kept:
    """The room of browser ``session``, made by ``make`` if it has none (or it expired); marks it used."""
    now = time.monotonic() if now is None else now
    with _lock:
        for key in [k for k, v in _rooms.items() if now - v.used > KEEP_SECONDS]:
            del _rooms[key]
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
