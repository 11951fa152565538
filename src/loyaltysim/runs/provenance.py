"""What made a result: the package version, a hash of the model's source, the environment and the command line.

Sweeps put it in their fingerprint and manifest, so results of other code are never mixed in on resume.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["LIBRARIES", "code_hash", "environment", "file_hash"]

LIBRARIES = ("numpy", "numba", "mesa", "pandas", "pydantic", "scipy", "SALib")
"""Libraries whose versions a manifest records."""

_PACKAGE = Path(__file__).resolve().parents[1]
_MODEL_SOURCE = ("vocabulary.py", "scenario", "engine")
"""What decides a run's numbers: the declarations and the engine."""


@functools.cache
def code_hash() -> str:
    """Hash of the source that decides a run's numbers (the scenario declarations and the engine)."""
    digest = hashlib.sha256()
    for part in _MODEL_SOURCE:
        path = _PACKAGE / part
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(_PACKAGE).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def file_hash(path: str | Path) -> str:
    """Hash of a file's contents (an edge list), or ``"missing"``."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return "missing"


@functools.cache
def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(_PACKAGE), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def environment() -> dict[str, Any]:
    """The code, Python, libraries and command line of this process."""
    from loyaltysim._version import __version__

    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "loyaltysim": __version__,
        "engine_source": code_hash(),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": versions,
        "command_line": list(sys.argv),
    }
