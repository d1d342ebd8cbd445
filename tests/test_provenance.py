"""Provenance on every picture: the PNG and GIF files the CLI and the app write say which
checkpoint (and the hash of its weights), seed and settings made them, with an AI-generated
label; ``provenance FILE`` prints it and its command writes the same pixels again."""

from __future__ import annotations

import hashlib
import io
import json
import shlex

import numpy as np
from PIL import Image

from aigc_models import cli, provenance
from aigc_models.checkpoints import SHIPPED_DIR


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L")).copy()


def test_a_sampled_png_says_what_made_it_and_its_command_makes_it_again(tmp_path, capsys):
    first = tmp_path / "sevens.png"
    assert cli.main(["sample", "--checkpoint", "mnist-cgan", "--n", "8", "--seed", "5", "--label", "7",
                     "--scale", "2", "--out", str(first)]) == 0
    info = provenance.read(first)
    assert info["label"] == "AI-generated" and info["checkpoint"] == "mnist-cgan" and info["seed"] == 5
    assert info["class"] == "7" and info["n"] == 8 and info["generator"].startswith("aigc_models ")
    weights = (SHIPPED_DIR / "mnist-cgan" / "model.safetensors").read_bytes()
    assert info["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    capsys.readouterr()
    assert cli.main(["provenance", str(first)]) == 0
    assert json.loads(capsys.readouterr().out) == info
    second = tmp_path / "again.png"
    argv = shlex.split(info["command"].replace("OUT.png", str(second)))
    assert argv[:3] == ["python", "-m", "aigc_models"]
    assert cli.main(argv[3:]) == 0
    assert np.array_equal(pixels(first), pixels(second))


def test_a_picture_without_provenance_gets_one_line(tmp_path, capsys):
    plain = tmp_path / "plain.png"
    Image.new("L", (28, 28)).save(plain)
    assert cli.main(["provenance", str(plain)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert cli.main(["provenance", str(tmp_path / "missing.png")]) == 2
    assert provenance.read(b"not a picture") is None


def test_a_gif_keeps_its_frames_and_carries_the_record():
    frames = [Image.new("L", (8, 8), v) for v in (0, 128, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=90, loop=0)
    info = provenance.record(checkpoint="x", folder=None, kind="test", seed=1)
    tagged = provenance.gif_with(buf.getvalue(), info)
    assert provenance.read(tagged) == info
    with Image.open(io.BytesIO(tagged)) as gif:
        assert gif.n_frames == 3 and gif.info["duration"] == 90


def test_the_apps_downloads_carry_provenance_and_an_upload_says_where_it_came_from(app_environment, ck):
    from ui import gan, interpolate, vae

    _, png = gan.sample_gan("mnist-dcgan", 16, 3, 0, False)
    info = provenance.read(png)
    assert info["checkpoint"] == "mnist-dcgan" and info["seed"] == 3 and info["n"] == 16
    assert info["weights_sha256"] == provenance.weights_sha256(ck("mnist-dcgan"))
    *_, gif = interpolate.interpolate_seeds("mnist-dcgan", 1, 2, 4, None)
    assert provenance.read(gif)["seed"] == "1 -> 2"
    *_, summary = vae.reconstruct("mnist-vae", None, png, 0)
    assert "AI-generated image made by" in summary and "mnist-dcgan" in summary
