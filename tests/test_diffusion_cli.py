"""The command line on a diffusion model: train, then sample with a sampler, steps, guidance and a
label; the stepping options are refused, with a sentence, for other families and bad values."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_models import cli


def test_sample_takes_sampler_steps_guidance_and_label(tiny_diffusion, tmp_path):
    out = tmp_path / "sevens.npz"
    args = ["sample", "--checkpoint", str(tiny_diffusion), "--n", "4", "--seed", "3", "--format", "npz", "--label", "7"]
    assert cli.main([*args, "--sampler", "heun", "--steps", "3", "--guidance", "2", "--out", str(out)]) == 0
    first = np.load(out)
    assert first["images"].shape == (4, 28, 28) and (first["labels"] == 7).all()
    assert cli.main([*args, "--sampler", "heun", "--steps", "3", "--guidance", "2", "--out", str(out)]) == 0
    assert (np.load(out)["images"] == first["images"]).all()  # same seed, same images
    assert cli.main([*args, "--sampler", "euler", "--steps", "3", "--guidance", "2", "--out", str(out)]) == 0
    assert (np.load(out)["images"] != first["images"]).any()


@pytest.mark.parametrize("extra, message", [
    (["--sampler", "ddim"], "does not fit a flow-objective diffusion model; choose one of: euler, heun"),
    (["--steps", "0"], "1"),
    (["--guidance", "nan"], "guidance"),
    (["--truncation", "1"], "--truncation applies to GANs and VAEs"),
])
def test_bad_stepping_options_get_one_line(tiny_diffusion, tmp_path, capsys, extra, message):
    code = cli.main(["sample", "--checkpoint", str(tiny_diffusion), "--n", "2", "--out", str(tmp_path / "x.png"), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_stepping_options_are_for_diffusion_models_only(tmp_path, capsys):
    code = cli.main(["sample", "--checkpoint", "mnist-dcgan", "--n", "2", "--steps", "5", "--out", str(tmp_path / "x.png")])
    assert code == 2 and "--steps apply to diffusion models" in capsys.readouterr().err
