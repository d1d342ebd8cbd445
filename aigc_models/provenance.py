"""Provenance on every picture the lab writes: which checkpoint (by name and the SHA-256 of its
weights), which seed, class and sampler settings made it, with which version of this project,
and a plain "AI-generated" label (the source documents' section 4.4 on ethics and misinformation).

PNG files carry it as text chunks (``aigc:provenance``, a JSON object, plus ``Description`` and
``Software`` for any viewer); GIF files as their comment. ``read`` gets it back from a file or its
bytes; ``python -m aigc_models provenance FILE`` prints it, and the ``command`` it records
regenerates the same pixels.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from . import __version__

KEY = "aigc:provenance"
LABEL = "AI-generated"
MAX_TEXT = 16_384  # bytes of provenance read back from a file: more is not ours


# ----------------------------------------------------------------------------- what is recorded


@lru_cache(maxsize=64)
def _sha256(path: str, stamp: float, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_sha256(folder: str | os.PathLike) -> str:
    """SHA-256 of a checkpoint folder's ``model.safetensors`` (cached while the file is unchanged)."""
    weights = Path(folder) / "model.safetensors"
    st = weights.stat()
    return _sha256(str(weights), st.st_mtime, st.st_size)


def record(*, checkpoint: str, folder: str | os.PathLike | None, kind: str, command: str | None = None,
           dated: bool = True, **settings: Any) -> dict[str, Any]:
    """The provenance of one picture: ``checkpoint`` (the name a user picks it by), the SHA-256 of
    the weights in ``folder``, what ``kind`` of picture (``samples``, ``interpolation``, ...), the
    settings that made it (seed, labels, sampler, steps, guidance, ...: None values left out), the
    command that regenerates it, this project's version, the UTC time (unless ``dated`` is False:
    then the same request gives the same bytes) and the AI-generated label."""
    out: dict[str, Any] = {"label": LABEL, "generator": f"aigc_models {__version__}", "kind": kind,
                           "checkpoint": checkpoint}
    if folder is not None and (Path(folder) / "model.safetensors").is_file():
        out["weights_sha256"] = weights_sha256(folder)
    out.update({k: v for k, v in settings.items() if v is not None})
    if command:
        out["command"] = command
    if dated:
        out["created"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def describe(info: dict[str, Any]) -> str:
    """One sentence for a person: what made this picture."""
    made = f"{info.get('label', LABEL)} image made by {info.get('generator', 'aigc_models')} from the checkpoint " \
           f"{info.get('checkpoint', '?')}"
    parts = [f"{k} {info[k]}" for k in ("seed", "class", "sampler", "steps", "guidance") if k in info]
    return made + (f" ({', '.join(parts)})" if parts else "") + "."


# ----------------------------------------------------------------------------- writing


def png_bytes(image: Image.Image, info: dict[str, Any]) -> bytes:
    """``image`` as a PNG with ``info`` in its text chunks."""
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text(KEY, json.dumps(info, sort_keys=True))
    chunks.add_text("Description", describe(info))
    chunks.add_text("Software", info.get("generator", f"aigc_models {__version__}"))
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=chunks)
    return buf.getvalue()


def save_png(image: Image.Image, path: str | os.PathLike, info: dict[str, Any]) -> Path:
    out = Path(path)
    out.write_bytes(png_bytes(image, info))
    return out


def gif_with(gif: bytes, info: dict[str, Any]) -> bytes:
    """An animated GIF's bytes with ``info`` as its comment (frames, timing and loop unchanged)."""
    with Image.open(io.BytesIO(gif)) as first:
        frames, durations = [], []
        for i in range(getattr(first, "n_frames", 1)):
            first.seek(i)
            frames.append(first.copy())
            durations.append(first.info.get("duration", 100))
        loop = first.info.get("loop", 0)
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=loop,
                   comment=json.dumps(info, sort_keys=True).encode())
    return buf.getvalue()


# ----------------------------------------------------------------------------- reading


def read(source: str | os.PathLike | bytes) -> dict[str, Any] | None:
    """The provenance a PNG or GIF carries, or None (no such record, not a picture, not ours).
    Reads the file's header and text only."""
    try:
        stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
    except OSError:
        return None
    try:
        with stream, Image.open(stream) as image:
            text = image.info.get(KEY) if image.format == "PNG" else image.info.get("comment")
    except Exception:  # noqa: BLE001 - not a picture, or a damaged one: no provenance
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return None
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        return None
    return info if isinstance(info, dict) and info.get("label") == LABEL else None


__all__ = ["record", "describe", "png_bytes", "save_png", "gif_with", "read", "weights_sha256", "KEY", "LABEL"]
