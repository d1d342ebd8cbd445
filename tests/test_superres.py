"""The super-resolution families (SRCNN, ESPCN): shapes, the sub-pixel shuffle, the area
downscale by hand, PSNR / SSIM through torchmetrics, a tiny training run on real data, the
checkpoint round trip, ``evaluate`` on the command line, and one-sentence refusals.

Tiny configs on a CPU, one thread.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import run_events

from aigc_models import cli
from aigc_models.checkpoints import SHIPPED_DIR, load_checkpoint, read_meta, save_checkpoint
from aigc_models.data import load_split, to_signed
from aigc_models.metrics import Evaluator, evaluate_super_resolution, psnr_ssim
from aigc_models.models import REGISTRY, build_model, families_with, make_config
from aigc_models.models.superres import bicubic, downscale, nearest
from aigc_models.objectives import RegressionObjective
from aigc_models.training import TrainConfig

FAMILIES = families_with("upscale")
TINY = {"channels": 8, "channels2": 4}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(family: str, scale: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(family, make_config(family, scale=scale, **TINY)).eval()


def test_both_papers_are_registered_as_upscalers():
    assert set(FAMILIES) == {"srcnn", "espcn"}
    for name in FAMILIES:
        assert REGISTRY[name].objective == "regression"
        assert not REGISTRY[name].can("generate") and not REGISTRY[name].can("train_live")


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("family", ["srcnn", "espcn"])
@pytest.mark.parametrize("scale", [2, 4])
def test_shapes_and_range(family, scale):
    model = tiny(family, scale)
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    low = model.degrade(x)
    assert low.shape == (3, 1, 28 // scale, 28 // scale)
    with torch.no_grad():
        raw, out = model(low), model.upscale(low)
    assert raw.shape == out.shape == (3, 1, 28, 28)
    assert out.min() >= -1 and out.max() <= 1 and torch.equal(out, raw.clamp(-1, 1))
    for baseline in (bicubic, nearest):
        up = baseline(low, scale)
        assert up.shape == (3, 1, 28, 28) and up.min() >= -1 and up.max() <= 1


def test_the_papers_widths_are_the_defaults():
    """64 and 32 feature maps; ESPCN's last layer makes scale**2 sub-pixel channels, SRCNN's one image."""
    espcn = build_model("espcn", make_config("espcn", scale=4))
    assert [m.out_channels for m in espcn.features if isinstance(m, torch.nn.Conv2d)] == [64, 32, 16]
    assert [m.kernel_size for m in espcn.features if isinstance(m, torch.nn.Conv2d)] == [(5, 5), (3, 3), (3, 3)]
    srcnn = build_model("srcnn", make_config("srcnn", scale=2))
    convs = [m for m in srcnn.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size[0], c.out_channels) for c in convs] == [(9, 64), (1, 32), (5, 1)]  # the paper's 9-1-5


# ----------------------------------------------------------------------------- sub-pixel convolution


def periodic_shuffle(t: torch.Tensor, r: int) -> torch.Tensor:
    """The paper's periodic shuffle written as a loop: out[b, c, r y + i, r x + j] = t[b, c r^2 + r i + j, y, x]."""
    b, cr2, h, w = t.shape
    c = cr2 // (r * r)
    out = torch.empty(b, c, h * r, w * r)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[:, ch, i::r, j::r] = t[:, ch * r * r + r * i + j]
    return out


@pytest.mark.parametrize("scale", [2, 4])
def test_sub_pixel_shuffle_equals_torch_pixel_shuffle(scale):
    t = torch.randn(2, scale * scale, 28 // scale, 28 // scale, generator=torch.Generator().manual_seed(0))
    assert torch.equal(periodic_shuffle(t, scale), torch.nn.PixelShuffle(scale)(t))
    model = tiny("espcn", scale)
    low = torch.rand(2, 1, 28 // scale, 28 // scale) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model(low), periodic_shuffle(model.features(low), scale))


# ----------------------------------------------------------------------------- degradation, metrics


def test_area_downscale_by_hand():
    x = torch.full((1, 1, 28, 28), -1.0)
    x[0, 0, :2, :2] = torch.tensor([[1.0, 0.0], [0.5, -0.5]])  # one 2 x 2 block: mean 0.25
    x[0, 0, 4:8, 4:8] = 1.0  # one 4 x 4 block of white
    x[0, 0, 4, 4] = -1.0  # ... with one black pixel: mean (15 - 1) / 16
    low2 = downscale(x, 2)
    expected2 = torch.full((14, 14), -1.0)
    expected2[0, 0] = 0.25
    expected2[2:4, 2:4] = 1.0
    expected2[2, 2] = (1 + 1 + 1 - 1) / 4
    assert torch.equal(low2[0, 0], expected2)
    low4 = downscale(x, 4)
    expected4 = torch.full((7, 7), -1.0)
    expected4[0, 0] = (1 + 0 + 0.5 - 0.5 - 12) / 16
    expected4[1, 1] = 14 / 16
    assert torch.allclose(low4[0, 0], expected4, atol=1e-7)
    assert torch.equal(nearest(low2, 2)[0, 0, :2, :2], torch.full((2, 2), 0.25))


def test_psnr_of_identical_images_is_infinite_as_torchmetrics_returns_it():
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    psnr, ssim = psnr_ssim(x, x)
    assert psnr.shape == ssim.shape == (4,)
    assert torch.isinf(psnr).all() and (psnr > 0).all()  # torchmetrics caps nothing: 10 log10(1 / 0)
    assert torch.allclose(ssim, torch.ones(4))


def test_psnr_is_on_images_mapped_to_unit_range():
    """An error of 0.2 in [-1, 1] is 0.1 in [0, 1]: PSNR = 10 log10(1 / 0.01) = 20 dB."""
    x = torch.full((2, 1, 28, 28), -0.5)
    psnr, _ = psnr_ssim(x + 0.2, x)
    assert torch.allclose(psnr, torch.full((2,), 20.0), atol=1e-3)


# ----------------------------------------------------------------------------- training


TRAIN_FLAGS = ["--dataset", "mnist", "--option", "scale=2", "--option", "channels=8", "--option", "channels2=4",
               "--batch-size", "32", "--lr", "3e-3", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def trained_espcn(tmp_path_factory):
    """A tiny ESPCN x2 trained by the ``train`` command for 300 steps on MNIST (about 2 s)."""
    out = tmp_path_factory.mktemp("sr") / "espcn"
    assert cli.main(["train", "--model", "espcn", *TRAIN_FLAGS, "--steps", "300", "--out", str(out)]) == 0
    return out


def test_a_tiny_run_on_real_data_improves_psnr(trained_espcn):
    before = evaluate_super_resolution(tiny("espcn"), "mnist", n=500)  # the run's initial weights (seed 0)
    after = evaluate_super_resolution(load_checkpoint(trained_espcn), "mnist", n=500)
    assert after["psnr"] > before["psnr"] + 5, (before["psnr"], after["psnr"])
    assert after["psnr"] > after["nearest_psnr"]
    assert after["ssim"] > before["ssim"]


def test_train_stores_psnr_and_ssim_of_the_whole_test_split(trained_espcn):
    meta = read_meta(trained_espcn)
    m = meta["metrics"]
    assert meta["family"] == "espcn" and meta["config"]["scale"] == 2
    assert m["n"] == 10_000 and m["scale"] == 2
    assert {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim", "nearest_psnr", "nearest_ssim"} <= set(m)
    assert math.isclose(m["psnr_over_bicubic"], m["psnr"] - m["bicubic_psnr"])
    assert m["bicubic_psnr"] > m["nearest_psnr"] and 0 < m["nearest_ssim"] < m["bicubic_ssim"] < 1


def test_the_trainer_runs_the_pixel_loss(tmp_path):
    """The library's ``train``: an ``mse`` loss that falls, no sample grids (nothing is drawn from noise)."""
    cfg = TrainConfig(model="srcnn", dataset="mnist", model_options={"scale": 4, **TINY}, steps=100, batch_size=32,
                      lr=3e-3, device="cpu", seed=0, log_every=10, out=str(tmp_path / "srcnn"))
    events = run_events(cfg)
    steps = [e for e in events if type(e).__name__ == "Step"]
    assert set(steps[0].losses) == {"mse"} and steps[-1].losses["mse"] < steps[0].losses["mse"]
    assert not any(type(e).__name__ == "Samples" for e in events)
    assert type(events[-1]).__name__ == "Done" and events[-1].reason == "steps"
    assert read_meta(tmp_path / "srcnn")["training"]["steps"] == 100


def test_an_adversarial_upscaler_also_learns_from_a_discriminator(tmp_path):
    """SRGAN's objective (option ``adversarial``): a discriminator is trained beside the upscaler and
    pushes its update away from the pixel loss's; the checkpoint holds the upscaler alone."""
    real = to_signed(load_split("mnist", train=True).images[:32])
    labels = torch.zeros(32, dtype=torch.long)
    cfg = TrainConfig(model="espcn", dataset="mnist", lr=3e-3, device="cpu")
    updated = {}
    for weight in (0.0, 0.5):
        model = build_model("espcn", make_config("espcn", scale=4, adversarial=weight, **TINY))
        model.load_state_dict(tiny("espcn", scale=4).state_dict())  # the same start for both
        objective = RegressionObjective(model, cfg)
        if weight:
            critic_before = [p.detach().clone() for p in objective.critic.parameters()]
        torch.manual_seed(1)
        losses = objective.step(real, labels)
        updated[weight] = [p.detach().clone() for p in model.parameters()]
        if weight:
            assert set(losses) == {"mse", "loss_adv", "loss_d"} and all(torch.isfinite(v) for v in losses.values())
            assert any(not torch.equal(a, b) for a, b in zip(critic_before, objective.critic.parameters()))
        else:
            assert set(losses) == {"mse"} and objective.critic is None
    assert any(not torch.allclose(a, b) for a, b in zip(updated[0.0], updated[0.5]))
    out = tmp_path / "srgan"
    run_events(TrainConfig(model="espcn", dataset="mnist", model_options={"scale": 4, "adversarial": 0.5, **TINY},
                           steps=5, batch_size=16, lr=3e-3, device="cpu", seed=0, log_every=5, out=str(out)))
    saved = load_checkpoint(out)
    assert saved.config.adversarial == 0.5
    assert set(saved.state_dict()) == set(tiny("espcn", scale=4).state_dict())  # no discriminator inside


def test_the_upscaled_images_are_scored_as_samples_are(trained_espcn):
    """With an evaluator: FD, class accuracy, precision and recall of the model's and bicubic's upscaled
    test images, the same numbers as ``Evaluator.report`` gives for those images."""
    evaluator = Evaluator(load_checkpoint(SHIPPED_DIR / "mnist-classifier"), "mnist")
    model = load_checkpoint(trained_espcn)
    plain = evaluate_super_resolution(model, "mnist", n=200)
    scored = evaluate_super_resolution(model, "mnist", n=200, evaluator=evaluator)
    assert "frechet_distance" not in plain and {k: scored[k] for k in plain if k != "sr_protocol"} == {
        k: v for k, v in plain.items() if k != "sr_protocol"}
    split = load_split("mnist", train=False)
    truth = to_signed(split.images[:200])
    with torch.no_grad():
        expected = evaluator.report(model.upscale(model.degrade(truth)), split.labels[:200])
        baseline = evaluator.report(bicubic(downscale(truth, 2), 2), split.labels[:200])
    assert scored["frechet_distance"] == pytest.approx(expected["frechet_distance"])
    assert scored["class_accuracy"] == pytest.approx(expected["class_accuracy"])
    assert scored["bicubic_frechet_distance"] == pytest.approx(baseline["frechet_distance"])
    assert scored["bicubic_recall"] == pytest.approx(baseline["recall"])


# ----------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("family", ["srcnn", "espcn"])
def test_checkpoint_round_trip(family, tmp_path):
    model = tiny(family, scale=4, seed=3)
    folder = save_checkpoint(model, tmp_path / family)
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    meta = json.loads((folder / "config.json").read_text())
    assert meta["family"] == family and meta["config"] == {"dataset": "mnist", "scale": 4, **TINY, "adversarial": 0.0}
    loaded = load_checkpoint(folder)
    assert type(loaded) is type(model) and loaded.config == model.config
    low = model.degrade(to_signed(load_split("mnist", train=False).images[:8]))
    with torch.no_grad():
        assert torch.equal(loaded.upscale(low), model.upscale(low))


# ----------------------------------------------------------------------------- command line


def test_evaluate_prints_model_bicubic_and_nearest(trained_espcn, capsys):
    out = trained_espcn
    assert cli.main(["evaluate", "--checkpoint", str(out), "--n", "300"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "espcn" and report["dataset"] == "mnist" and report["n"] == 300
    evaluator = Evaluator(load_checkpoint(SHIPPED_DIR / "mnist-classifier"), "mnist")
    assert report == {"family": "espcn", "dataset": "mnist",
                      **evaluate_super_resolution(load_checkpoint(out), "mnist", n=300, evaluator=evaluator)}
    assert {"frechet_distance", "class_accuracy", "bicubic_frechet_distance", "bicubic_class_accuracy"} <= set(report)


def test_sample_refuses_a_super_resolution_checkpoint(trained_espcn, tmp_path, capsys):
    out = trained_espcn
    assert cli.main(["sample", "--checkpoint", str(out), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a super-resolution model" in err[0]


@pytest.mark.parametrize("options, message", [
    ({"scale": 3}, "scale must be 2 or 4 (28 x 28 images shrink to 14 x 14 or 7 x 7), got 3."),
    ({"scale": 8}, "espcn option 'scale' must be an integer from 2 to 4, got 8."),
    ({"channels": 0}, "espcn option 'channels' must be an integer from 1 to 512, got 0."),
    ({"scale": "2"}, "espcn option 'scale' must be an integer from 2 to 4, got '2'."),
    ({"kernel": 5}, "espcn has no option 'kernel'; its options are dataset, scale, channels, channels2, adversarial."),
])
def test_bad_options_are_refused_in_one_sentence(options, message):
    with pytest.raises(ValueError) as err:
        make_config("espcn", **options)
    assert str(err.value) == message


def test_train_refuses_a_bad_scale_on_one_line(capsys):
    assert cli.main(["train", "--model", "srcnn", "--option", "scale=3", "--steps", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: scale must be 2 or 4 (28 x 28 images shrink to 14 x 14 or 7 x 7), got 3."]


def test_bad_inputs_to_the_library_are_refused_in_one_sentence():
    with pytest.raises(ValueError, match=r"^images must be a float tensor of shape \(B, 1, 28, 28\), got \(2, 1, 14, 14\)\.$"):
        downscale(torch.zeros(2, 1, 14, 14), 2)
    with pytest.raises(ValueError, match=r"^scale must be 2 or 4, got 3\.$"):
        downscale(torch.zeros(2, 1, 28, 28), 3)
    with pytest.raises(ValueError, match=r"^low-resolution images must be a float tensor of shape \(B, 1, 7, 7\)"):
        tiny("espcn", 4).upscale(torch.zeros(2, 1, 14, 14))
    with pytest.raises(ValueError, match=r"^A super-resolution model is scored on 1 to 10,000 test images, not 20000\.$"):
        evaluate_super_resolution(tiny("espcn"), "mnist", n=20_000)


def test_list_markdown_gives_the_super_resolution_models_a_table_of_their_own(trained_espcn, capsys):
    assert cli.main(["list", "--markdown", "--root", str(trained_espcn.parent)]) == 0
    first, second = capsys.readouterr().out.strip().split("\n\n")
    assert "`espcn`" not in first and len(first.splitlines()) == 2  # the generators' table: its header only
    header, _, row = second.splitlines()
    assert header.startswith("| checkpoint | family | scale | adversarial | test images | PSNR, dB | SSIM | "
                             "bicubic PSNR / SSIM")
    m = read_meta(trained_espcn)["metrics"]
    assert row.startswith(f"| `espcn` | espcn | x2 | - | 10000 | {m['psnr']:.2f} | {m['ssim']:.4f} | {m['bicubic_psnr']:.2f} / ")
    assert f"| {m['psnr_over_bicubic']:.2f} | - | - | 300 |" in row  # no FD stored by train: `evaluate --save` adds it
