"""``python -m aigc_models train | sample | evaluate | list``, end to end, and its errors.

The four commands run in a subprocess once each on a tiny cgan; variants and
error paths call ``cli.main`` in-process (same code, no interpreter start-up).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO
from PIL import Image

from aigc_models import cli
from aigc_models.checkpoints import load_checkpoint, read_meta

TINY_CGAN = ["--option", "g_channels=8", "--option", "d_channels=8", "--option", "latent_dim=8", "--option", "embed_dim=8"]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aigc_models", *args], cwd=REPO, env=os.environ.copy(),
        capture_output=True, text=True, timeout=timeout,
    )


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {stderr!r}"
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture(scope="module")
def cli_cgan(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "cgan"
    # --max-seconds far above what 5 steps need, so that the steps bound the run even on a busy machine
    proc = run_cli("train", "--model", "cgan", "--dataset", "mnist", "--device", "cpu", "--max-seconds", "3600",
                   "--steps", "5", "--batch-size", "8", "--log-every", "1", "--out", str(out), "--quiet", *TINY_CGAN)
    assert proc.returncode == 0, proc.stderr
    return out


# ----------------------------------------------------------------------------- the four commands


def test_train_writes_a_checkpoint(cli_cgan):
    names = {p.name for p in cli_cgan.iterdir()}
    assert {"config.json", "model.safetensors", "README.md", "samples.png"} <= names
    meta = read_meta(cli_cgan)
    assert meta["family"] == "cgan" and meta["dataset"] == "mnist"
    assert meta["config"]["g_channels"] == 8 and meta["config"]["latent_dim"] == 8
    assert meta["training"]["steps"] == 5
    assert meta["training"]["command"].startswith("python -m aigc_models train --model cgan")
    assert "--model cgan" in (cli_cgan / "README.md").read_text()
    with Image.open(cli_cgan / "samples.png") as grid:
        assert grid.size == (10 * 28 + 11 * 2, 10 * 28 + 11 * 2)  # 100 fixed samples, a row per class


def test_sample_npz(cli_cgan, tmp_path):
    out = tmp_path / "s.npz"
    proc = run_cli("sample", "--checkpoint", str(cli_cgan), "--n", "20", "--seed", "0", "--format", "npz", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with np.load(out) as f:
        images, labels = f["images"], f["labels"]
    assert images.shape == (20, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [i // 2 for i in range(20)]
    # the same seed in-process gives the same pixels
    from aigc_models.data import to_uint8
    from aigc_models.sampling import sample

    expected = to_uint8(sample(load_checkpoint(cli_cgan), 20, seed=0))[:, 0].numpy()
    assert np.array_equal(images, expected)


def test_evaluate_prints_json(cli_cgan, checkpoint_dirs):
    proc = run_cli("evaluate", "--checkpoint", str(cli_cgan), "--n", "200", "--classifier", str(checkpoint_dirs["classifier"]))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["family"] == "cgan" and report["dataset"] == "mnist" and report["n"] == 200
    for key in ("frechet_distance", "classifier_score", "coverage", "kl_to_uniform", "precision", "recall",
                "class_accuracy", "classifier_test_accuracy"):
        assert isinstance(report[key], (int, float)), key
    assert report["frechet_distance"] >= 0
    assert report["real_floor"]["n"] == 200
    assert report["real_floor"]["frechet_distance"] < report["frechet_distance"]


def test_list(checkpoint_dirs):
    proc = run_cli("list", "--root", str(checkpoint_dirs["dcgan"].parent))
    assert proc.returncode == 0, proc.stderr
    from aigc_models.models import REGISTRY

    assert "models: " + ", ".join(REGISTRY) in proc.stdout  # the registry is the one list of families
    assert "datasets: mnist, fashion-mnist" in proc.stdout
    for name in ("mlp-gan", "dcgan", "cgan", "vae", "classifier"):
        assert any(line.split()[:2] == [name, name] for line in proc.stdout.splitlines()), name


# ----------------------------------------------------------------------------- variants, in-process


def test_sample_one_label(cli_cgan, tmp_path, capsys):
    out = tmp_path / "threes.npz"
    assert cli.main(["sample", "--checkpoint", str(cli_cgan), "--n", "6", "--label", "3", "--format", "npz", "--out", str(out)]) == 0
    with np.load(out) as f:
        assert f["labels"].tolist() == [3] * 6 and f["images"].shape == (6, 28, 28)


def test_sample_png(cli_cgan, tmp_path):
    out = tmp_path / "grid.png"
    assert cli.main(["sample", "--checkpoint", str(cli_cgan), "--n", "20", "--format", "png", "--scale", "2", "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (2 * (10 * 28 + 11 * 2), 2 * (2 * 28 + 3 * 2))


def test_evaluate_save_stores_metrics(checkpoint_dirs, tmp_path, capsys):
    import shutil

    clf = tmp_path / "clf"
    shutil.copytree(checkpoint_dirs["classifier"], clf)
    assert cli.main(["evaluate", "--checkpoint", str(clf), "--save"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "classifier" and report["n"] == 10000
    assert read_meta(clf)["metrics"]["test_accuracy"] == report["test_accuracy"]


@pytest.mark.slow
def test_train_eval_every_prints_one_metrics_line_per_interval(tmp_path, capsys):
    argv = ["train", "--model", "dcgan", "--dataset", "mnist", "--device", "cpu", "--steps", "4", "--batch-size", "8",
            "--eval-every", "2", "--eval-n", "100", "--quiet", "--out", str(tmp_path / "d"),
            "--option", "g_channels=8", "--option", "d_channels=8", "--option", "latent_dim=8"]
    assert cli.main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    periodic = [line for line in lines if "family" not in line]  # the last line is the final --eval-n report
    assert [line["step"] for line in periodic] == [2, 4]
    assert 0 <= periodic[0]["seconds"] <= periodic[1]["seconds"]
    for line in periodic:
        assert line["n"] == 100 and np.isfinite(line["frechet_distance"]) and 1 <= line["coverage"] <= 10
    assert lines[-1]["family"] == "dcgan" and lines[-1]["n"] == 100


# ----------------------------------------------------------------------------- errors: exit 2, one line


def test_unknown_model_subprocess():
    proc = run_cli("train", "--model", "stylegan", "--device", "cpu")
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert "stylegan" in line and "dcgan" in line


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--model", "dcgan", "--dataset", "cifar10", "--device", "cpu", "--quiet"], "cifar10"),
        (["train", "--model", "dcgan", "--device", "cpu", "--option", "g_chanels=8", "--quiet"], "g_chanels"),
        (["sample", "--checkpoint", "/nonexistent/aigc/checkpoint", "--out", "x.png"], "/nonexistent/aigc/checkpoint"),
        (["sample", "--checkpoint", "no-such-shipped-model", "--out", "x.png"], "no-such-shipped-model"),
        (["evaluate", "--checkpoint", "/nonexistent/aigc/checkpoint"], "/nonexistent/aigc/checkpoint"),
        (["sample", "--checkpoint", "CKPT", "--n", "0", "--out", "x.png"], "--n"),
        (["sample", "--checkpoint", "CKPT", "--label", "11", "--out", "x.png"], "11"),
        (["sample", "--checkpoint", "DCGAN", "--label", "3", "--out", "x.png"], "conditional"),
        (["sample", "--checkpoint", "CLF", "--out", "x.png"], "classifier"),
        (["train", "--model", "classifier", "--device", "cpu", "--eval-every", "2", "--quiet"], "--eval-every"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, needle, cli_cgan, checkpoint_dirs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    subs = {"CKPT": str(cli_cgan), "DCGAN": str(checkpoint_dirs["dcgan"]), "CLF": str(checkpoint_dirs["classifier"])}
    argv = [subs.get(a, a) for a in argv]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert needle in one_error_line(captured.err)
    assert not (tmp_path / "x.png").exists()


def test_train_error_prints_no_progress_bar(capsys):
    """Without --quiet, an error raised before the first step must still be the only stderr line."""
    assert cli.main(["train", "--model", "dcgan", "--device", "cpu", "--option", "g_chanels=8"]) == 2
    assert "g_chanels" in one_error_line(capsys.readouterr().err)


def test_missing_data_folder_exits_2(missing_data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "dcgan", "--device", "cpu", "--steps", "1", "--out", str(out), "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(missing_data_dir) in line and "AIGC_DATA_DIR" in line
    assert not out.exists()


def test_evaluate_without_a_classifier_exits_2(checkpoint_dirs, capsys, monkeypatch, tmp_path):
    from aigc_models import checkpoints

    monkeypatch.setattr(cli, "SHIPPED_DIR", tmp_path)  # no shipped <dataset>-classifier
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path)
    assert cli.main(["evaluate", "--checkpoint", str(checkpoint_dirs["dcgan"]), "--n", "10"]) == 2
    assert "classifier" in one_error_line(capsys.readouterr().err)


def test_argparse_rejects_a_missing_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2


@pytest.mark.slow
def test_bench_quick_writes_json_and_markdown(tmp_path):
    """`bench --quick` runs every part briefly; its JSON has the comparison with the source loop
    and the Markdown renderer turns it into the README's tables. Only the report's structure is
    checked: how far a measurement got is the bench's to say (its quick time-to-quality run is
    bounded by steps, so its trace is there however slow the machine)."""
    from aigc_models.bench import markdown_report

    out = tmp_path / "bench.json"
    result = run_cli("bench", "--quick", "--device", "cpu", "--out", str(out), "--markdown", timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    m = report["mlp_gan_batch64"]
    assert m["source_loop_img_s"] > 0 and m["trainer_img_s"] > 0 and m["ratio"] > 0
    assert m["trainer_shipped_network_img_s"] > 0
    assert report["trainer"]["dcgan"]["best_img_s"] > 0
    ttq = report["time_to_quality_cgan_mnist"]
    assert set(ttq["seconds_to_accuracy"]) == {"0.90"} and ttq["eval_every"] == 25 and ttq["eval_n"] == 200
    assert [row[0] for row in ttq["trace"]] == [25]  # the one evaluation of the quick run, at its last step
    assert all(0 <= training <= seconds and 0 <= accuracy <= 1 for _, seconds, training, accuracy in ttq["trace"])
    assert set(ttq["training_seconds_to_accuracy"]) == {"0.90"}  # the checks' own time left out
    assert set(report["sampling_latency_cpu"]) and all(
        set(row) == {"1", "64"} and all(v["median_ms"] >= 0 for v in row.values())
        for row in report["sampling_latency_cpu"].values())
    assert "| this trainer, same network |" in result.stdout and result.stdout == markdown_report(report) + "\n"


def test_bench_compares_the_source_loop_with_the_same_network():
    """The ratio in the README is only fair if the trainer runs the documents' exact layers."""
    from aigc_models.bench import SOURCE_NETWORK, SourceDiscriminator, SourceGenerator
    from aigc_models.models import build_model

    ours = build_model("mlp-gan", **SOURCE_NETWORK)
    def shapes(module):
        return [tuple(p.shape) for p in module.parameters()]
    assert shapes(ours.generator) == shapes(SourceGenerator())
    assert shapes(ours.discriminator) == shapes(SourceDiscriminator())
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in ours.modules()), "the source G has no BatchNorm"
    assert all(m.p == 0 for m in ours.modules() if isinstance(m, torch.nn.Dropout)), "the source D has no dropout"


def test_watchable_run_scores_what_the_train_tab_shows_after_its_time(capsys, tmp_path, monkeypatch):
    """``bench --watchable``: the shipped recipe with the Train tab's live settings, stopped by
    its time limit, then scored by the evaluator (a tiny network here, so any machine takes steps)."""
    from aigc_models import bench, cli
    from aigc_models.training import shipped_recipe
    from conftest import TINY_OPTIONS

    row = bench.watchable_run("dcgan", seconds=1.0, eval_n=100, model_options=dict(TINY_OPTIONS["dcgan"]))
    assert row["family"] == "dcgan" and row["seconds"] == 1.0 and row["steps"] >= 0
    assert 0 <= row["coverage"] <= 10 and math.isfinite(row["frechet_distance"]) and len(row["class_histogram"]) == 10
    assert row["batch_size"] == shipped_recipe("dcgan", "mnist").batch_size  # the recipe the tab fills in
    report = {"seconds": 1.0, "eval_n": 100, "rows": [row, {**row, "frechet_distance": 2 * row["frechet_distance"]}]}
    table = bench.watchable_markdown(report)
    assert table.splitlines()[0].startswith("| Train-tab recipe | steps in 1 s |")
    assert f"{1.5 * row['frechet_distance']:.1f} (seeds: " in table  # the median of the two
    monkeypatch.setattr(bench, "watchable_bench", lambda log: {**report, "date": "d", "device": "cpu"})
    out = tmp_path / "watch.json"
    assert cli.main(["bench", "--watchable", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["rows"][0]["family"] == "dcgan"
    assert "| dcgan |" in capsys.readouterr().out
