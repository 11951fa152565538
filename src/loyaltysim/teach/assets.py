"""Offline front-end assets of the teaching app: which npm packages the page loads, and how to install them.

Solara's page loads its JavaScript and CSS (the Vuetify app bundle, require.js, Font Awesome) from a CDN, through
a local proxy that serves ``<cache dir>/<package>@<version>/<file>`` when the file is there. A training room has no
internet, so the teaching app points that proxy at a local folder filled once from the npm registry
(``python -m loyaltysim.teach.assets``) and at a CDN address that cannot be reached, so nothing is fetched at run
time. The packages are read from the installed Solara's page template, so a Solara upgrade asks for its own
versions; ECharts, which draws the charts in the browser, is added to them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

__all__ = ["ECHARTS_VERSION", "assets_dir", "install_assets", "install_hint", "missing_packages", "required_packages"]

REGISTRY = "https://registry.npmjs.org/"
ECHARTS_VERSION = "5.4.0"
"""The ECharts the page's charts are drawn with (``vue/charts.vue``), the version Solara's own ECharts uses."""
_SPEC = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+)/")


def assets_dir() -> Path:
    """Folder of the offline assets: ``$LOYALTYSIM_TEACH_ASSETS``, else ``~/.local/share/loyaltysim/teach-assets``."""
    env = os.environ.get("LOYALTYSIM_TEACH_ASSETS")
    if env:
        return Path(env).expanduser()
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "loyaltysim" / "teach-assets"


def _vue3() -> bool:
    from importlib.metadata import version

    return int(version("ipyvue").split(".")[0]) >= 3


def required_packages() -> list[str]:
    """``name@version`` of every npm package the installed Solara's page loads through its CDN proxy."""
    import solara.server.settings as settings

    template = Path(settings.__file__).parent / "templates" / "solara.html.j2"
    specs = dict.fromkeys(_SPEC.findall(template.read_text(encoding="utf-8")))
    vuetify3 = _vue3()
    out = [s for s in specs if ("solara-vuetify3-app@" in s) == vuetify3 or "solara-vuetify" not in s]
    if settings.assets.fontawesome_enabled:
        out.append(settings.assets.fontawesome_path.strip("/").split("/")[0])
    out.append(f"echarts@{ECHARTS_VERSION}")  # the charts, drawn in the browser
    return out


def missing_packages(directory: Path | None = None) -> list[str]:
    """Required packages not (completely) installed in ``directory``."""
    root = directory or assets_dir()
    return [spec for spec in required_packages() if not (root / spec / "package.json").is_file()]


def install_hint() -> str:
    """The command that installs the assets, for error messages."""
    return f"{Path(sys.executable).name} -m loyaltysim.teach.assets  (downloads them from the npm registry)"


def _split(spec: str) -> tuple[str, str]:
    name, _, version = spec.rpartition("@")
    return name, version


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _check_integrity(data: bytes, dist: dict, spec: str) -> None:
    integrity = dist.get("integrity", "")
    if integrity.startswith("sha512-"):
        ok = base64.b64encode(hashlib.sha512(data).digest()).decode() == integrity[len("sha512-") :]
    else:
        ok = hashlib.sha1(data).hexdigest() == dist.get("shasum")
    if not ok:
        raise RuntimeError(f"{spec}: downloaded tarball does not match the registry's checksum")


def _extract(data: bytes, target: Path) -> None:
    tmp = target.with_name(target.name + ".partial")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts[1:]  # drop the leading "package/"
            if not member.isfile() or not parts or ".." in parts:
                continue
            dest = tmp.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(tar.extractfile(member).read())
    if target.exists():
        import shutil

        shutil.rmtree(target)
    tmp.rename(target)


def install_assets(directory: Path | None = None, registry: str | None = None) -> list[str]:
    """Download the missing packages from the npm registry into ``directory``; return what was installed.

    Each tarball is checked against the registry's published checksum and unpacked to ``<name>@<version>/``,
    the layout of Solara's CDN cache. ``registry`` defaults to ``$npm_config_registry`` or the public registry.
    """
    root = directory or assets_dir()
    base = registry or os.environ.get("npm_config_registry") or REGISTRY  # noqa: SIM112 (npm spells it so)
    base = base if base.endswith("/") else base + "/"
    done = []
    for spec in missing_packages(root):
        name, version = _split(spec)
        meta = json.loads(_get(base + urllib.parse.quote(name, safe="@") + "/" + version))
        data = _get(meta["dist"]["tarball"])
        _check_integrity(data, meta["dist"], spec)
        target = root / spec
        target.parent.mkdir(parents=True, exist_ok=True)
        _extract(data, target)
        done.append(spec)
    return done


def main() -> None:
    """Install the assets (``python -m loyaltysim.teach.assets [DIR]``) and say where they are."""
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else assets_dir()
    try:
        done = install_assets(directory)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        print(f"loyaltysim teach assets: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    what = ", ".join(done) if done else "already complete"
    print(f"loyaltysim teach assets in {directory}: {what}")


if __name__ == "__main__":
    main()
