"""Serving the teaching app: check the offline assets, configure Solara for a room without internet, run it.

`running` serves it from another process for a while (tests, benchmarks, scripts).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from loyaltysim.errors import InputError
from loyaltysim.teach.assets import assets_dir, install_hint, missing_packages
from loyaltysim.teach.settings import KERNEL_CULL, keep_seconds, kernel_cull

__all__ = ["KERNEL_CULL", "OFFLINE_CDN", "configure", "missing_message", "running", "serve", "solara_environment"]

OFFLINE_CDN = "http://127.0.0.1:9/npm/"
"""CDN address given to Solara: a closed local port, so a file missing from the asset folder fails at once
instead of being fetched from the internet."""

APP_MODULE = "loyaltysim.teach.app"


def missing_message(directory: Path | None = None) -> str | None:
    """One line naming the missing front-end packages and the install command, or None when complete."""
    directory = directory or assets_dir()
    try:
        missing = missing_packages(directory)
    except ModuleNotFoundError as exc:
        return f"teach needs the optional dependency {exc.name!r}: pip install 'loyaltysim[teach]'"
    if not missing:
        return None
    return f"offline front-end assets missing in {directory}: {', '.join(missing)}; install them with: {install_hint()}"


def solara_environment(lang: str, lesson: str, directory: Path | None = None) -> dict[str, str]:
    """Environment variables that make Solara serve the app offline, in production mode, without telemetry."""
    return {
        "SOLARA_APP": APP_MODULE,
        "SOLARA_MODE": "production",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_ASSETS_PROXY": "True",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(directory or assets_dir()),
        "SOLARA_ASSETS_CDN": OFFLINE_CDN,
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SOLARA_KERNEL_CULL_TIMEOUT": kernel_cull(),
        "LOYALTYSIM_TEACH_LANG": lang,
        "LOYALTYSIM_TEACH_LESSON": lesson,
        "MPLBACKEND": "Agg",
    }


def configure(lang: str = "es", lesson: str = "pyramid", directory: Path | None = None) -> str | None:
    """Set Solara's environment for this process; return what is missing (one line) or None when ready.

    Solara reads its settings once, when first imported, so this runs before anything imports Solara.
    """
    try:
        keep_seconds()  # read again by `loyaltysim.teach.rooms` while serving: fail now, in one line
        kernel_cull()  # read by Solara when it loads
    except InputError as exc:
        return str(exc)
    os.environ.update(solara_environment(lang, lesson, directory))
    return missing_message(directory)


def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the app configured by `configure` until interrupted."""
    import warnings

    import uvicorn

    # plain http on a classroom network: Solara falls back to samesite=lax cookies, which is what we want
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")


@contextmanager
def running(
    lang: str = "en", env: Mapping[str, str] | None = None, timeout_s: float = 120.0
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve the classroom from another process on a free local port while the block runs: its address and process.

    For the browser tests, the benchmarks and the screenshot script. ``env`` is added to this process's environment.
    Raises `RuntimeError` (one line, ending with the server's output) if the server exits or does not answer within
    ``timeout_s``; at the end the server is stopped (terminated, then killed if it does not stop).
    """
    import socket
    import sys
    import tempfile
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile(mode="w+") as log:  # a file, not a pipe nobody reads while the server runs
        proc = subprocess.Popen(
            [sys.executable, "-m", "loyaltysim.cli", "teach", "--port", str(port), "--lang", lang],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )

        def output() -> str:
            log.seek(0)
            return " | ".join(line.strip() for line in log.read().splitlines()[-5:])

        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"teach server exited with {proc.returncode}: {output()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"teach server did not answer within {timeout_s:g} s: {output()}")
                time.sleep(0.5)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
