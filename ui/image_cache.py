"""Gradio's image cache, written so that a browser never reads a half-written picture.

Gradio saves every PIL image a handler returns under ``cache/<hash of its bytes>/image.png``
and, in the version this app pins, rewrites that file in place each time the same picture is
returned again: an opening tab's cached grid for every student who opens the page, a training
stream's unchanged grid at every update. A browser still reading the file from the earlier
reply then gets it cut short and shows a broken image, and never asks again (the address is
the same). ``install`` replaces that one function with one that leaves an existing copy as it
is (the folder is named by its bytes, so it holds the same picture), touching it so that the
cache cleaner (``delete_cache``, aged by ctime) keeps it, and writes a new one under a
temporary name renamed into place: what gradio already does for files (``save_file_to_cache``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils
from PIL import Image


def save_pil_to_cache(img: Image.Image, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """``img`` encoded as ``format`` in ``cache_dir/<sha256 of the bytes>/<name>.<format>``; the
    path returned is never a partly written file. (Gradio's signature, so it can stand in.)"""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    if path.exists():
        try:
            os.utime(path)
        except OSError:
            pass
        return str(path)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def install() -> None:
    """Make gradio's components (Image, Gallery, AnnotatedImage) save through ``save_pil_to_cache``
    above; they call it through the module, so one assignment reaches them all. Idempotent."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
