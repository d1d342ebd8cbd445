"""Gradio's image cache as the app installs it: a picture returned again is never rewritten in
place (a browser reading the earlier reply's copy would get it cut short and show a broken
image), a new one appears whole or not at all, and a reused copy is touched for the cache cleaner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from ui import image_cache


def picture(shade: int = 90) -> Image.Image:
    return Image.new("L", (28, 28), shade)


def test_a_picture_saved_again_keeps_its_copy_and_touches_it(tmp_path: Path):
    first = Path(image_cache.save_pil_to_cache(picture(), str(tmp_path), format="png"))
    assert Image.open(first).getpixel((0, 0)) == 90
    first.write_bytes(b"the copy a browser is reading")  # stands for the file as it is being read
    os.utime(first, (1_000_000_000, 1_000_000_000))
    again = Path(image_cache.save_pil_to_cache(picture(), str(tmp_path), format="png"))
    assert again == first
    assert first.read_bytes() == b"the copy a browser is reading"  # not truncated and rewritten
    assert first.stat().st_mtime > 1_000_000_000 + 86_400  # touched: the cleaner ages files by their last use
    other = Path(image_cache.save_pil_to_cache(picture(200), str(tmp_path), format="png"))
    assert other.parent != first.parent and Image.open(other).getpixel((0, 0)) == 200


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(image_cache.os, "replace", full_disk)
    with pytest.raises(OSError):
        image_cache.save_pil_to_cache(picture(), str(tmp_path), format="png")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # neither the picture nor its staging file
    monkeypatch.undo()
    path = Path(image_cache.save_pil_to_cache(picture(), str(tmp_path), format="png"))
    assert Image.open(path).size == (28, 28)  # a later call writes it whole


def test_the_app_saves_every_image_component_through_it(app_environment, tmp_path: Path):
    import gradio as gr

    import app

    app.build_app()
    grid = gr.Image(format="png", type="pil")
    first = Path(grid.postprocess(picture()).path)
    first.write_bytes(b"being read")
    second = Path(grid.postprocess(picture()).path)  # the same grid sent to a second student
    assert second == first and first.read_bytes() == b"being read"
    shown = gr.Gallery(format="png").postprocess([picture(30)])
    assert Image.open(shown.root[0].image.path).getpixel((0, 0)) == 30
