"""Writing results so that an interrupted write never leaves a half-written file, or folder, in place of a good one.

`atomic_write` writes one file; `output_folder` writes a command's whole output folder; `safe_name` turns a
scenario's name into a folder name that cannot point anywhere else.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loyaltysim.errors import InputError

__all__ = ["MARKER", "atomic_write", "check_output_folder", "json_ready", "output_folder", "safe_name"]


def atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


MARKER = "loyaltysim.json"
"""File in every output folder naming the command that wrote it (so another command does not mix into it)."""

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def json_ready(record: Any) -> dict[str, Any]:
    """One table row (a mapping) for JSON: NaN becomes None (JSON has no NaN)."""
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}


def safe_name(name: str, default: str = "scenario") -> str:
    """A folder name made from a scenario or experiment name: no separators, no ``..``, no leading dot.

    ``"../../esc"`` becomes ``"esc"``, ``"/tmp/x"`` becomes ``"tmp_x"``; a name with nothing usable gives ``default``.
    """
    parts = [p for p in re.split(r"[/\\]+", str(name)) if p not in ("", ".", "..")]
    cleaned = _SAFE.sub("_", "_".join(parts)).lstrip("._-")[:100]
    return cleaned or default


def _owner(folder: Path) -> str | None:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")).get("command")
    except (OSError, ValueError, AttributeError):
        return None


def check_output_folder(target: str | Path, command: str, force: bool = False) -> None:
    """Refuse ``target`` as ``command``'s output folder if it is a file, or holds other outputs (unless ``force``).

    Called before a long run as well as when writing, so a refusal costs nothing.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError(str(target), None, None, "not a folder: name a folder for the results (--out)")
    if target.is_dir() and any(target.iterdir()) and not force:
        owner = _owner(target)
        if owner != command:
            held = f"the outputs of 'loyaltysim {owner}'" if owner else "files loyaltysim did not write"
            raise InputError(
                str(target), None, None, f"holds {held}; choose another --out, or add --force to replace them"
            )


@contextmanager
def output_folder(target: str | Path, command: str, force: bool = False) -> Iterator[Path]:
    """Write a command's outputs into a temporary sibling folder, then put it in place of ``target`` whole.

    The old contents of ``target`` stay untouched until the new ones are complete; an interruption (Ctrl-C, an
    error) leaves the old folder as it was and removes the temporary one. A non-empty ``target`` that holds
    another command's outputs (or files loyaltysim did not write) is refused unless ``force``; one that holds this
    command's earlier outputs is replaced.

    Yields
    ------
    pathlib.Path
        The temporary folder to write into.
    """
    target = Path(target)
    check_output_folder(target, command, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = old = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
        yield tmp
        from loyaltysim._version import __version__

        stamp = {"command": command, "loyaltysim": __version__, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (tmp / MARKER).write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; give the folder the mode a plain mkdir would
        with _signals_held():  # Ctrl-C between the two renames would leave neither set in place: it waits
            if target.exists():
                old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
                os.replace(target, old)
            os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and target.exists():  # interrupted after the swap: the old set is no longer needed
            shutil.rmtree(old, ignore_errors=True)
        raise


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the body runs; they take effect after it, as they would have.

    Python's own handlers replace the previous ones meanwhile (they run in the main thread whichever thread the
    signal reached, unlike a thread's signal mask); elsewhere than the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in _HELD}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in arrived:
            handler = previous[sig]
            if callable(handler):
                handler(sig, None)  # Python's SIGINT handler raises KeyboardInterrupt here
            elif handler == signal.SIG_DFL:
                signal.raise_signal(sig)


_HELD = (signal.SIGINT, signal.SIGTERM)
