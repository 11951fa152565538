"""The result directory of a sweep: finished runs as part files, a manifest, and the copies that make it resumable.

DIR/manifest.json      experiment hash, status, counts, the validated experiment and base scenario
DIR/experiment.toml    the experiment file as written
DIR/design.parquet     the expanded design (also design.csv): one row per point
DIR/parts/part-*.parquet  finished runs, written atomically as they finish
DIR/series/part-*.parquet the same runs' outcomes over time (experiments with [series]), written just before
DIR/results.parquet    every run, sorted, once the sweep is complete (and DIR/series.parquet)
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from loyaltysim.errors import ScenarioError
from loyaltysim.runs.files import atomic_write
from loyaltysim.runs.provenance import environment
from loyaltysim.sweeps.plan import SweepPlan

__all__ = ["LOCK", "Store", "SweepLock", "open_directory", "tidy", "write_json"]

LOCK = ".lock"
"""File a running sweep holds locked in its result directory."""


class SweepLock:
    """An exclusive lock on a sweep's result directory while a sweep writes into it; use as a context manager.

    A second sweep into the same directory gets a one-line `InputError` at once instead of running every point
    again. The lock is the operating system's (``flock``), so it goes with the process that held it.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._handle = None

    def __enter__(self) -> SweepLock:
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        handle = open(self.directory / LOCK, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ScenarioError(
                str(self.directory),
                None,
                None,
                "another sweep is writing into this directory; wait for it to finish, or choose another --out",
            ) from None
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class Store:
    """Finished runs as Parquet part files in ``DIR/parts`` (their series in ``DIR/series``), written atomically.

    With ``series`` (an experiment with ``[series]``), a run counts as finished only when both its checkpoint rows
    and its series rows are on disk and readable; its series rows are written first. An interruption in between, or
    a damaged part, leaves a run that the next attempt runs again (the last rows written win; a rerun writes the
    same numbers, as runs are seeded).
    """

    def __init__(self, directory: Path, series: bool = False) -> None:
        self.directory = directory
        self.parts = directory / "parts"
        self.series = directory / "series"
        self.with_series = series
        self._buffer: list[pd.DataFrame] = []
        self._series: list[pd.DataFrame] = []

    def prepare(self) -> None:
        """Create ``parts/`` (and ``series/``) and remove temporary files of an interrupted write."""
        for folder in (self.parts, self.series) if self.with_series else (self.parts,):
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob(".part-*"):  # temporary files of an interrupted write
                stale.unlink(missing_ok=True)

    def finished(self, repair: bool = True) -> set[tuple[int, int]]:
        """(point, replication) of every finished run on disk.

        With ``repair`` an unreadable part is set aside (``.corrupt``) so that its runs are done again; without it
        (reading results) nothing on disk changes.
        """
        done = self._ids(self.parts, repair)
        if self.with_series:
            done &= self._ids(self.series, repair)
        return done

    @staticmethod
    def _ids(folder: Path, repair: bool) -> set[tuple[int, int]]:
        ids: set[tuple[int, int]] = set()
        for part in sorted(folder.glob("part-*.parquet")):
            try:
                df = pd.read_parquet(part, columns=["point", "replication"])
            except Exception:  # any damage means: run these tasks again
                if repair:
                    part.rename(part.with_name(part.name + ".corrupt"))
                continue
            ids.update(zip(df["point"].tolist(), df["replication"].tolist(), strict=True))
        return ids

    def add(self, rows: pd.DataFrame, series: pd.DataFrame | None = None) -> None:
        """Keep a finished run's rows (and its series rows) until the next `flush`."""
        self._buffer.append(rows)
        if series is not None:
            self._series.append(series)

    def flush(self) -> None:
        """Write the kept rows as one new part file (the series rows first, into their own folder)."""
        if not self._buffer:
            return
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        if self._series:
            self.series.mkdir(exist_ok=True)
            series = pd.concat(self._series, ignore_index=True)
            atomic_write(self.series / name, lambda p: series.to_parquet(p, index=False))
            self._series.clear()
        df = pd.concat(self._buffer, ignore_index=True)
        atomic_write(self.parts / name, lambda p: df.to_parquet(p, index=False))
        self._buffer.clear()

    def timings(self) -> list[dict[str, Any]]:
        """Wall time of every finished run: ``point``, ``replication``, ``seconds``."""
        df = self._read(self.parts, ["point", "replication", "seconds"])
        if df.empty:
            return []
        df = df.drop_duplicates(["point", "replication"], keep="last").sort_values(["point", "replication"])
        return [
            {"point": int(p), "replication": int(r), "seconds": round(float(s), 4)}
            for p, r, s in zip(df["point"], df["replication"], df["seconds"], strict=True)
        ]

    def read(self, series: bool = False) -> pd.DataFrame:
        """Every finished run on disk, tidy: the checkpoint rows, or with ``series`` the rows over time."""
        df = self._read(self.series if series else self.parts)
        if df.empty:
            return df
        if self.with_series:  # only runs with both their parts readable are finished
            done = pd.MultiIndex.from_tuples(sorted(self.finished(repair=False)), names=["point", "replication"])
            df = df[pd.MultiIndex.from_frame(df[["point", "replication"]]).isin(done)]
        return tidy(df)

    @staticmethod
    def _read(folder: Path, columns: list[str] | None = None) -> pd.DataFrame:
        """The readable part files of a folder, in the order they were written (unreadable ones are not finished)."""
        frames = []
        for part in sorted(folder.glob("part-*.parquet")):
            try:
                frames.append(pd.read_parquet(part, columns=columns))
            except Exception:
                continue
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """One row per point, replication and month (the last written wins), sorted."""
    if df.empty:
        return df
    df = df.drop(columns=[c for c in ("seconds",) if c in df.columns])  # run times go to the manifest
    df = df.drop_duplicates(subset=["point", "replication", "month"], keep="last")
    ids = {c: "int64" for c in ("point", "replication", "seed", "step") if c in df and df[c].dtype.kind == "f"}
    df = df.astype(ids)  # parts written before ids were kept as integers
    return df.sort_values(["point", "replication", "month"], kind="stable").reset_index(drop=True)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, default=str) + "\n"
    atomic_write(path, lambda p: Path(p).write_text(text, encoding="utf-8"))


def open_directory(directory: Path, sp: SweepPlan) -> dict[str, Any]:
    """Create the result directory, or check that an existing one holds this very experiment."""
    manifest_path = directory / "manifest.json"
    digest = sp.fingerprint()
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ScenarioError(
                str(manifest_path), None, None, "unreadable manifest; use a new --out directory"
            ) from None
        if old.get("hash") != digest:
            raise ScenarioError(
                str(manifest_path),
                "hash",
                old.get("hash"),
                f"this directory holds results of a different experiment; "
                f"{sp.experiment.source or 'the experiment'} now hashes to {digest} (it, its scenario, an edge "
                f"list or the model's code changed): use a new --out directory, or delete this one to start over",
            )
        exp = sp.experiment
        had = int(old.get("replications", exp.replications))
        if exp.replications < had:
            raise ScenarioError(
                str(sp.experiment.source or manifest_path),
                "replications",
                str(exp.replications),
                f"this directory holds {had} replications of the experiment; allowed: {had} or more (more "
                "replications run only the new ones), or a new --out directory",
            )
        if exp.replications > had:  # more replications of a sweep: the manifest records the new count
            old.update(
                replications=exp.replications,
                tasks=sp.n_tasks,
                status="running",
                seeds=sp.seeds if not exp.independent_seeds else old.get("seeds"),
                experiment=exp.model_dump(mode="json"),
            )
            old.setdefault("replications_added", []).append(
                {"from": had, "to": exp.replications, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            )
            write_json(manifest_path, old)
            for final in ("results.parquet", "series.parquet"):  # written again when the new runs are done
                (directory / final).unlink(missing_ok=True)
            if exp.source:  # the copy shows the experiment as it is now
                (directory / "experiment.toml").unlink(missing_ok=True)
        write_copies(directory, sp)
        return old
    if directory.exists() and any(p.name != LOCK for p in directory.iterdir()):
        raise ScenarioError(
            str(directory),
            None,
            None,
            "exists and is not a sweep result directory; choose an empty or new --out directory",
        )
    directory.mkdir(parents=True, exist_ok=True)
    from loyaltysim._version import __version__

    exp = sp.experiment
    manifest = {
        "name": exp.name,
        "hash": digest,
        "status": "running",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "loyaltysim": __version__,
        "experiment_file": exp.source,
        "points": len(sp.design),
        "replications": exp.replications,
        "tasks": sp.n_tasks,
        "seeds": sp.seeds if not exp.independent_seeds else "per point: see the seed column of the results",
        "experiment": exp.model_dump(mode="json"),
        "scenario": sp.base.model_dump(mode="json"),
        **environment(),
        "executor": None,
    }
    write_json(manifest_path, manifest)
    write_copies(directory, sp)
    return manifest


def write_copies(directory: Path, sp: SweepPlan) -> None:
    """Write the experiment file as written and the expanded design, unless a first attempt already did."""
    if sp.experiment.source and not (directory / "experiment.toml").exists():
        text = Path(sp.experiment.source).read_text(encoding="utf-8")
        atomic_write(directory / "experiment.toml", lambda p: Path(p).write_text(text, encoding="utf-8"))
    if not (directory / "design.parquet").exists():
        atomic_write(directory / "design.parquet", lambda p: sp.design.to_parquet(p, index=False))
        atomic_write(directory / "design.csv", lambda p: sp.design.to_csv(p, index=False))
