"""Export a classroom run for slides: a PNG of the latest step, or a GIF of the whole run."""

from __future__ import annotations

import io
from pathlib import Path

from loyaltysim.teach.classroom import Classroom
from loyaltysim.teach.figures import slide_figure

__all__ = ["gif_bytes", "png_bytes", "save_export"]


def png_bytes(room: Classroom, lang: str = "es") -> bytes:
    """The slide of the latest step as PNG bytes."""
    buf = io.BytesIO()
    slide_figure(room, lang).savefig(buf, format="png")
    return buf.getvalue()


def gif_bytes(room: Classroom, lang: str = "es", every: int = 1, frame_ms: int = 250) -> bytes:
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
