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


def test_bench_diffusion_times_each_diffusion_checkpoint_beside_a_cgan(tiny_diffusion, checkpoint_dirs, tmp_path,
                                                                       monkeypatch, capsys):
    """``bench --diffusion --root``: a row per diffusion checkpoint (ms by batch and steps, guided and not),
    the conditional GAN's 16 images for the ratio, the JSON written and the Markdown printed."""
    import json
    import shutil

    from aigc_models import bench

    real = bench.diffusion_latency
    monkeypatch.setattr(bench, "diffusion_latency", lambda model, **kw: real(
        model, steps=(1, 20), batches=(1, 16), repeats=3, warmup=0, max_seconds=0.01))
    root = tmp_path / "root"
    shutil.copytree(tiny_diffusion, root / "tiny-diffusion")
    shutil.copytree(checkpoint_dirs["cgan"], root / "tiny-cgan")
    out = tmp_path / "bench" / "diffusion.json"
    assert cli.main(["bench", "--diffusion", "--root", str(root), "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert set(rows) == {"tiny-diffusion", "reference"} and rows["reference"]["checkpoint"] == "tiny-cgan"
    row = rows["tiny-diffusion"]
    assert set(row["median_ms"]) == {"1", "16"} and set(row["median_ms"]["16"]) == {"1", "20"}
    assert all(ms > 0 for by_steps in row["median_ms"].values() for ms in by_steps.values())
    assert row["16_images_20_steps_unguided_ms"] > 0 and rows["reference"]["16_images_ms"] > 0
    printed = capsys.readouterr().out
    assert "`tiny-diffusion` (euler, guidance" in printed and "| 16 |" in printed and "faster" in printed
