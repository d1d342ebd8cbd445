"""A diffusion model in the places a GAN already goes: the Train tab (live grid at few sampler steps, a
histogram probe sized to its cost), ``evaluate`` with a sampler, steps and guidance, and the report
naming how its samples were drawn."""

from __future__ import annotations

import json

import pytest
import torch

from aigc_models import cli, metrics
from aigc_models.models import REGISTRY, build_model, families_with, make_config
from aigc_models.models.diffusion import PROBE_SAMPLE_STEPS, DiffusionConfig

DEFAULT_GUIDANCE = DiffusionConfig().default_guidance  # what a model trained with the defaults samples at


def test_diffusion_trains_live_and_costs_more_to_watch():
    assert "diffusion" in families_with("train_live")
    assert REGISTRY["diffusion"].live_cost > 1 and all(REGISTRY[f].live_cost == 1 for f in families_with("discriminate"))


def test_train_tab_trains_a_diffusion_model_with_its_own_pacing(root, app_environment):
    from ui import common, train

    cfg = train.make_config("diffusion", "mnist", 10, 8, 2e-4, 2e-4, 2e-3, 0.9, 0.999, "ns", False, 0.0, 0, "x")
    gan = train.make_config("dcgan", "mnist", 10, 8, 2e-4, 2e-4, 2e-3, 0.5, 0.999, "ns", False, 0.0, 0, "x")
    cost = REGISTRY["diffusion"].live_cost
    assert cfg.sample_every == gan.sample_every * cost and cfg.eval_seconds == gan.eval_seconds * cost

    run = train.train_model("diffusion", "mnist", 100_000, 8, 2e-4, 2e-4, 2e-3, 0.9, 0.999, "ns", False, 0.0, 0,
                            "handler-diffusion")
    updates = []
    for out in run:
        updates.append(out)
        if out[1] is not None and len([u for u in updates if u[1] is not None]) == 1:  # the first losses logged
            assert "Stopping" in train.stop_training(None)
    status, losses, scores, grid, hist, warning, saved, run_id = updates[-1]
    assert "stopped" in status and set(losses.series) == {"loss"}
    assert grid is not None and grid.size[0] > 200  # the fixed-noise grid, drawn at LIVE_SAMPLE_STEPS
    assert saved == "runs/handler-diffusion" and (root / "runs" / "handler-diffusion" / "model.safetensors").exists()
    assert saved in [key for _, key in common.checkpoint_choices("mnist", families_with("generate"))]


class _CountingEvaluator:
    """Stands in for metrics.Evaluator: records what the probe scores, calls every image a 3."""

    def __init__(self) -> None:
        self.seen: list[torch.Tensor] = []

    def score(self, images: torch.Tensor):
        self.seen.append(images)
        probs = torch.zeros(len(images), 10)
        probs[:, 3] = 1
        return metrics.Scored(probs=probs, features=torch.zeros(len(images), 4))

    def mirrored_share(self, images: torch.Tensor, labels: torch.Tensor, probs: torch.Tensor) -> float:
        assert probs.shape == (len(images), 10)  # the probe's own scores passed on, not scored again
        return 0.0


def test_histogram_probe_samples_a_diffusion_model_in_few_steps(monkeypatch):
    model = build_model("diffusion", make_config("diffusion", dataset="mnist", channels=8, channel_mults=(1, 1, 2)))
    asked = {}
    import aigc_models.samplers as samplers

    real = samplers.sample

    def spy(m, n, **kwargs):
        asked.update(kwargs, n=n)
        return real(m, n, **kwargs)

    monkeypatch.setattr(samplers, "sample", spy)
    evaluator = _CountingEvaluator()
    result = metrics.HistogramProbe(lambda: evaluator, n=12)(model)
    assert asked["steps"] == PROBE_SAMPLE_STEPS and asked["n"] == 12
    assert result["class_histogram"][3] == 1.0 and result["collapse"]["collapsing"]
    assert evaluator.seen[0].shape == (12, 1, 28, 28)
    assert asked["labels"].tolist() == [i * 10 // 12 for i in range(12)]  # every class, evenly


@pytest.mark.slow
def test_evaluate_scores_other_sampler_settings_and_names_them(tiny_diffusion, capsys):
    args = ["evaluate", "--checkpoint", str(tiny_diffusion), "--n", "20", "--no-floor"]
    assert cli.main(args) == 0
    default = json.loads(capsys.readouterr().out)
    assert default["sampling"] == {"sampler": "euler", "steps": 2, "guidance": DEFAULT_GUIDANCE}
    assert cli.main([*args, "--sampler", "heun", "--steps", "3", "--guidance", "0"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["sampling"] == {"sampler": "heun", "steps": 3, "guidance": 0}
    assert other["frechet_distance"] != default["frechet_distance"]


@pytest.mark.parametrize("extra, message", [
    (["--steps", "3", "--save"], "drop --save"),
    (["--sampler", "ddim"], "choose one of: euler, heun"),
    (["--guidance", "-1"], "guidance"),
])
def test_evaluate_refuses_bad_stepping_in_one_line(tiny_diffusion, capsys, extra, message):
    code = cli.main(["evaluate", "--checkpoint", str(tiny_diffusion), "--n", "4", "--no-floor", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


def test_evaluate_stepping_is_for_diffusion_models_only(capsys):
    assert cli.main(["evaluate", "--checkpoint", "mnist-dcgan", "--n", "4", "--guidance", "2"]) == 2
    assert "--guidance apply to diffusion models" in capsys.readouterr().err


def test_steps_and_guidance_tables_script(tiny_diffusion, tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "diffusion_tables.py"
    spec = importlib.util.spec_from_file_location("diffusion_tables", path)
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    out = tmp_path / "tables.json"
    assert tables.main(["--checkpoint", str(tiny_diffusion), "--n", "20", "--steps", "1,3", "--guidance", "0,2",
                        "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [(r["sampler"], r["steps"]) for r in result["steps_table"]] == [("euler", 1), ("euler", 3), ("heun", 1), ("heun", 3)]
    assert [r["guidance"] for r in result["guidance_table"]] == [0.0, 2.0]
    assert all(0 <= r["class_accuracy"] <= 1 and r["frechet_distance"] > 0 for r in result["steps_table"])
    printed = capsys.readouterr().out
    assert "| heun: FD |" in printed and "| 2 |" in printed and "N = 20" in printed
    assert tables.main(["--out", str(out), "--markdown-only"]) == 0 and capsys.readouterr().out == printed


def test_model_card_names_how_a_diffusion_model_was_sampled(tiny_diffusion, tmp_path):
    import shutil

    from aigc_models.checkpoints import read_meta

    folder = tmp_path / "card"
    shutil.copytree(tiny_diffusion, folder)
    assert cli.main(["evaluate", "--checkpoint", str(folder), "--n", "20", "--no-floor", "--save"]) == 0
    assert read_meta(folder)["metrics"]["sampling"] == {"sampler": "euler", "steps": 2, "guidance": DEFAULT_GUIDANCE}
    card = (folder / "README.md").read_text()
    assert f"Samples drawn with the euler sampler in 2 steps at classifier-free guidance {DEFAULT_GUIDANCE:g}" in card


def test_a_bare_train_command_uses_the_familys_recipe(tmp_path):
    from aigc_models.checkpoints import read_meta
    from aigc_models.training import TrainConfig

    out = tmp_path / "bare"
    assert cli.main(["train", "--model", "diffusion", "--steps", "1", "--device", "cpu", "--option", "channels=8",
                     "--out", str(out), "--quiet"]) == 0
    recorded = read_meta(out)["training"]["train_config"]
    assert {k: recorded[k] for k in REGISTRY["diffusion"].train_defaults} == REGISTRY["diffusion"].train_defaults
    out2 = tmp_path / "given"
    assert cli.main(["train", "--model", "diffusion", "--steps", "1", "--device", "cpu", "--option", "channels=8",
                     "--batch-size", "16", "--ema", "0", "--out", str(out2), "--quiet"]) == 0
    recorded = read_meta(out2)["training"]["train_config"]
    assert (recorded["batch_size"], recorded["ema"], recorded["lr"]) == (16, 0.0, 2e-3)  # flags win, the rest is the family's
    assert TrainConfig.for_family("dcgan").batch_size == TrainConfig().batch_size  # a family without its own defaults


def test_bench_times_diffusion_sampling_by_steps_and_batch_and_reports_it():
    from aigc_models import bench

    model = build_model("diffusion", make_config("diffusion", dataset="mnist", channels=8, channel_mults=(1, 1, 2)))
    row = bench.diffusion_latency(model, steps=(1, 2), batches=(1, 16), repeats=3, warmup=1)
    assert set(row["median_ms"]) == {"1", "16"} and set(row["median_ms"]["16"]) == {"1", "2"}
    assert all(v > 0 for cells in row["median_ms"].values() for v in cells.values())
    assert row["sampler"] == "euler" and row["guidance"] == DEFAULT_GUIDANCE and row["16_images_20_steps_unguided_ms"] > 0
    row["median_ms"]["16"]["20"] = 800.0  # the report's guided-against-unguided sentence reads this cell
    report = {"date": "d", "device": "CPU", "cpu_count": 2, "torch": "t", "command": "bench",
              "mlp_gan_batch64": {"source_loop_img_s": 1, "trainer_img_s": 2, "ratio": 2.0},
              "trainer": {}, "diffusion_sampling_cpu": {"mnist-diffusion": row,
                                                       "reference": {"checkpoint": "mnist-cgan", "16_images_ms": 4.0}},
              "time_to_quality_diffusion_mnist": {"model": "diffusion", "seconds_to_accuracy": {"0.99": 250.0},
                                                  "training_seconds_to_accuracy": {"0.99": 180.0},
                                                  "eval_n": 2000, "eval_every": 200}}
    text = bench.markdown_report(report)
    assert f"| `mnist-diffusion` (euler, guidance {DEFAULT_GUIDANCE:g}), median ms | 1 steps | 2 steps |" in text
    assert "| 16 images |" in text and "`mnist-cgan` draws 16 images in 4.0 ms" in text and "200x faster" in text
    assert "Time to quality, MNIST diffusion" in text and "accuracy 0.99: 250 s (180 s of it training)" in text


def test_sampling_defaults_are_set_checked_and_drop_the_old_metrics(tiny_diffusion, tmp_path, capsys):
    import shutil

    from aigc_models.checkpoints import load_checkpoint, read_meta
    from safetensors.torch import load_file

    folder = tmp_path / "tuned"
    shutil.copytree(tiny_diffusion, folder)
    assert cli.main(["evaluate", "--checkpoint", str(folder), "--n", "20", "--no-floor", "--save"]) == 0
    weights = load_file(folder / "model.safetensors")
    capsys.readouterr()
    assert cli.main(["sampling-defaults", "--checkpoint", str(folder), "--steps", "3", "--guidance", "1.3"]) == 0
    assert json.loads(capsys.readouterr().out) == {"default_steps": 3, "default_guidance": 1.3}
    meta = read_meta(folder)
    assert "metrics" not in meta and "## Evaluation" not in (folder / "README.md").read_text()
    model = load_checkpoint(folder)
    assert (model.config.default_steps, model.config.default_guidance, model.config.sampler) == (3, 1.3, "euler")
    assert all(torch.equal(v, load_file(folder / "model.safetensors")[k]) for k, v in weights.items())
    for extra, message in ((["--sampler", "ddim"], "default_sampler"), (["--steps", "0"], "default_steps"), ([], "at least one")):
        assert cli.main(["sampling-defaults", "--checkpoint", str(folder), *extra]) == 2
        assert message in capsys.readouterr().err
    assert cli.main(["sampling-defaults", "--checkpoint", "mnist-dcgan", "--steps", "3"]) == 2
    assert "no sampling defaults" in capsys.readouterr().err
    assert read_meta("mnist-dcgan")["family"] == "dcgan"  # refused before anything was written


def test_a_continued_run_records_the_run_it_started_from(tiny_diffusion, tmp_path):
    from aigc_models.checkpoints import read_meta

    out = tmp_path / "continued"
    assert cli.main(["train", "--model", "diffusion", "--init-from", str(tiny_diffusion), "--steps", "1",
                     "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    earlier = read_meta(out)["training"]["continued_from"]
    first = read_meta(tiny_diffusion)["training"]
    assert earlier["checkpoint"] == str(tiny_diffusion) and (earlier["steps"], earlier["command"]) == (first["steps"], first["command"])
    card = (out / "README.md").read_text()
    assert f"Continued from `{tiny_diffusion}`, trained for {first['steps']} steps" in card and first["command"] in card
