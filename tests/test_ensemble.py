"""Generator ensembles (issue 16, source document 000 §6.3): the mixture's choices follow the
weights, the average of copies is the copy, seeds repeat, refusals are one sentence, the CLI's
--ensemble round trip, and the Ensembles lesson's handler.

Library tests use tiny untrained models (deterministic once built under a fixed torch seed);
the CLI tests save them as checkpoint folders; the tab test uses the app's tiny checkpoints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch
from conftest import TINY_OPTIONS
from PIL import Image
from scipy.stats import chisquare

from aigc_models import cli, ensemble, provenance
from aigc_models.checkpoints import save_checkpoint
from aigc_models.data import to_uint8
from aigc_models.models import build_model, make_config
from aigc_models.sampling import grid as sampling_grid
from aigc_models.sampling import sample


def tiny(name: str, *, seed: int = 0, **overrides) -> torch.nn.Module:
    """An untrained tiny model of family ``name`` (weights fixed by ``seed``), in eval mode."""
    torch.manual_seed(seed)
    return build_model(name, make_config(name, **{**TINY_OPTIONS[name], **overrides})).eval()


@pytest.fixture(scope="module")
def members() -> dict[str, torch.nn.Module]:
    return {"mlp": tiny("mlp-gan"), "dc": tiny("dcgan"), "dc-other": tiny("dcgan", seed=1),
            "mlp-wide": tiny("mlp-gan", latent_dim=16), "vae": tiny("vae"), "cgan": tiny("cgan"),
            "cgan-other": tiny("cgan", seed=1)}


# ----------------------------------------------------------------------------- the mixture


def test_mixture_draws_each_member_in_proportion_to_its_weight():
    weights, n = [1.0, 2.0, 1.0], 40_000
    counts = np.bincount(ensemble.choices(weights, n, seed=0).numpy(), minlength=3)
    expected = n * np.array(weights) / sum(weights)
    assert chisquare(counts, expected).pvalue > 1e-3, counts
    # the test has teeth: the same counts are far from what equal weights would give
    assert chisquare(counts, np.full(3, n / 3)).pvalue < 1e-12


def test_mixture_images_are_the_chosen_members_own_samples(members):
    ens = ensemble.make([members["mlp"], members["dc"], members["vae"]], names=["a", "b", "c"], weights=[1, 2, 1])
    images, picked = ensemble.mixture(ens, 600, seed=5)
    assert images.shape == (600, 1, 28, 28) and picked.shape == (600,) and picked.dtype == torch.int64
    assert torch.equal(picked, ensemble.choices([1, 2, 1], 600, seed=5))
    for i, model in enumerate(ens.members):
        rows = picked == i
        assert rows.any()
        assert torch.equal(images[rows], sample(model, 600, seed=5)[rows])  # exactly what it draws alone
    assert chisquare(np.bincount(picked.numpy(), minlength=3), [150, 300, 150]).pvalue > 1e-3


def test_conditional_members_draw_the_asked_labels_in_a_mixture(members):
    ens = ensemble.make([members["cgan"], members["cgan-other"]], names=["a", "b"])
    images, picked = ensemble.mixture(ens, 40, seed=2, labels=7)
    for i, model in enumerate(ens.members):
        rows = picked == i
        assert torch.equal(images[rows], sample(model, 40, seed=2, labels=7)[rows])


# ----------------------------------------------------------------------------- the average


@pytest.mark.parametrize("name", ["mlp", "dc", "vae", "cgan"])
@pytest.mark.parametrize("copies", [2, 3, 5])
def test_averaging_copies_of_one_generator_gives_that_generator(members, name, copies):
    model = members[name]
    alone = sample(model, 32, seed=11)
    for weights in (None, list(range(1, copies + 1))):
        ens = ensemble.make([model] * copies, names=[name] * copies, weights=weights)
        torch.testing.assert_close(ensemble.average(ens, 32, seed=11), alone, rtol=0, atol=1e-6)
        assert torch.equal(ensemble.mixture(ens, 32, seed=11)[0], alone)


def test_average_is_the_weighted_mean_of_the_members_images(members):
    ens = ensemble.make([members["dc"], members["dc-other"]], names=["a", "b"], weights=[1, 3])
    a, b = sample(members["dc"], 16, seed=4), sample(members["dc-other"], 16, seed=4)
    torch.testing.assert_close(ensemble.average(ens, 16, seed=4), 0.25 * a + 0.75 * b, rtol=0, atol=1e-6)
    assert not torch.allclose(a, b, atol=1e-3)  # two generators, one z, two different images
    torch.testing.assert_close(ensemble.member_images(ens, 16, seed=4), torch.stack([a, b]))


def test_members_share_z_only_when_their_latent_sizes_match(members):
    same = ensemble.make([members["dc"], members["dc-other"]], names=["a", "b"])
    assert same.shares_noise and "same z" in ensemble.noise_note(same)
    mixed = ensemble.make([members["mlp"], members["mlp-wide"]], names=["small", "wide"])
    assert not mixed.shares_noise
    assert "small: 8" in ensemble.noise_note(mixed) and "wide: 16" in ensemble.noise_note(mixed)


# ----------------------------------------------------------------------------- seeds


def test_the_same_seed_gives_the_same_choices_and_images(members):
    ens = ensemble.make([members["mlp"], members["dc"]], names=["a", "b"], weights=[2, 1])
    for mode in ensemble.MODES:
        one, two = (ensemble.sample(ens, 24, mode=mode, seed=9) for _ in range(2))
        assert torch.equal(one, two), mode
        assert not torch.equal(one, ensemble.sample(ens, 24, mode=mode, seed=10)), mode
    assert torch.equal(ensemble.mixture(ens, 24, seed=9)[1], ensemble.mixture(ens, 24, seed=9)[1])
    assert not torch.equal(ensemble.choices([1, 1], 200, seed=0), ensemble.choices([1, 1], 200, seed=1))


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("names, overrides, message", [
    (["mlp"], {}, "takes 2 to 8 members, got 1"),
    (["mlp"] * 9, {}, "takes 2 to 8 members, got 9"),
    (["mlp", "cgan"], {}, "is conditional"),
    (["mlp", "fashion"], {}, "must share one dataset"),
    (["dc", "diffusion"], {}, "is a diffusion model"),
    (["dc", "classifier"], {}, "does not generate images"),
])
def test_ensembles_that_make_no_sense_are_refused_in_one_sentence(members, names, overrides, message):
    extra = {"fashion": tiny("dcgan", dataset="fashion-mnist"), "diffusion": tiny("diffusion"),
             "classifier": tiny("classifier")}
    models = [members.get(n) or extra[n] for n in names]
    with pytest.raises(ValueError, match=message) as info:
        ensemble.make(models, names=names)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("weights, message", [
    ([1], "1 weights for 2 members"),
    ([1, 0], "weight 2 must be a number above 0.*weight 0 is not a member"),
    ([1, -2], "weight 2 must be a number above 0"),
    ([1, float("nan")], "weight 2 must be"),
    ([1, float("inf")], "weight 2 must be"),
    ([True, 1], "weight 1 must be"),
    ([1, "2"], "weight 2 must be"),
    ("12", "a list of 2 positive numbers"),
])
def test_bad_weights_are_refused(members, weights, message):
    with pytest.raises(ValueError, match=message):
        ensemble.make([members["mlp"], members["dc"]], names=["a", "b"], weights=weights)


@pytest.mark.parametrize("text, message", [
    ("1,,2", "none empty"), ("1,x", "numbers separated by commas, got 'x'"), ("1,2,3", "3 numbers for 2 members"),
    ("1,0", "above 0"),
])
def test_weights_text_is_parsed_or_refused(text, message):
    assert ensemble.parse_weights("1, 3", 2) == (0.25, 0.75) and ensemble.parse_weights("  ", 2) == (0.5, 0.5)
    with pytest.raises(ValueError, match=message):
        ensemble.parse_weights(text, 2)


def test_sampling_refuses_bad_modes_labels_and_counts(members):
    plain = ensemble.make([members["mlp"], members["dc"]], names=["a", "b"])
    with pytest.raises(ValueError, match="mode"):
        ensemble.sample(plain, 4, mode="vote", seed=0)
    with pytest.raises(ValueError, match="unconditional; they take no labels"):
        ensemble.average(plain, 4, seed=0, labels=3)
    with pytest.raises(ValueError, match="n must be"):
        ensemble.mixture(plain, 0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        ensemble.average(plain, 4, seed=-1)
    conditional = ensemble.make([members["cgan"], members["cgan-other"]], names=["a", "b"])
    with pytest.raises(ValueError, match="label"):
        ensemble.average(conditional, 4, seed=0, labels=10)


# ----------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def folders(tmp_path_factory, members) -> dict[str, str]:
    root = tmp_path_factory.mktemp("ensemble")
    out = {}
    for name in ("mlp", "dc", "cgan"):
        out[name] = str(save_checkpoint(members[name], root / name))
    out["classifier"] = str(save_checkpoint(tiny("classifier"), root / "classifier"))
    out["fashion"] = str(save_checkpoint(tiny("dcgan", dataset="fashion-mnist"), root / "fashion"))
    return out


def error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_cli_sample_ensemble_round_trip(folders, tmp_path):
    pair = f"{folders['mlp']},{folders['dc']}"
    out = tmp_path / "mix.npz"
    assert cli.main(["sample", "--ensemble", pair, "--mode", "mixture", "--weights", "1,3", "--n", "30",
                     "--seed", "4", "--format", "npz", "--out", str(out)]) == 0
    ens = ensemble.load([folders["mlp"], folders["dc"]], weights=[1, 3])
    images, picked = ensemble.mixture(ens, 30, seed=4)
    with np.load(out) as f:
        assert np.array_equal(f["images"], to_uint8(images)[:, 0].numpy())
        assert np.array_equal(f["member"], picked.numpy())
    png = tmp_path / "avg.png"
    assert cli.main(["sample", "--ensemble", pair, "--mode", "average", "--n", "16", "--seed", "4",
                     "--out", str(png)]) == 0
    info = provenance.read(png)
    assert info["kind"] == "ensemble average" and [m["checkpoint"] for m in info["members"]] == pair.split(",")
    assert "--ensemble" in info["command"] and "--mode average" in info["command"]
    with Image.open(png) as grid:
        expected = sampling_grid(ensemble.average(ensemble.load(pair.split(",")), 16, seed=4), nrow=4)
        assert np.array_equal(np.asarray(grid.convert("L")), np.asarray(expected))


def test_cli_evaluate_scores_an_ensemble_like_a_generator(folders, capsys):
    assert cli.main(["evaluate", "--ensemble", f"{folders['mlp']},{folders['dc']}", "--mode", "average", "--n", "40",
                     "--classifier", folders["classifier"], "--no-floor"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mode"] == "average" and report["n"] == 40 and report["dataset"] == "mnist"
    assert report["ensemble"] == [folders["mlp"], folders["dc"]] and report["weights"] == [0.5, 0.5]
    for key in ("frechet_distance", "coverage", "kl_to_uniform", "precision", "recall", "class_histogram"):
        assert key in report
    assert "real_floor" not in report and "latent sizes differ" not in report["noise"]  # both tiny: latent 8


@pytest.mark.parametrize("argv, message", [
    (["sample", "--ensemble", "MLP", "--mode", "average"], "takes 2 to 8 members, got 1"),
    (["sample", "--ensemble", "MLP,CGAN", "--mode", "mixture"], "is conditional"),
    (["sample", "--ensemble", "MLP,FASHION", "--mode", "mixture"], "must share one dataset"),
    (["sample", "--ensemble", "MLP,CLASSIFIER", "--mode", "mixture"], "does not generate images"),
    (["sample", "--ensemble", "MLP,DC"], "--ensemble needs --mode"),
    (["sample", "--ensemble", "MLP,DC", "--mode", "vote"], "invalid choice: 'vote'"),
    (["sample", "--ensemble", "MLP,DC", "--mode", "mixture", "--weights", "1"], "1 number for 2 members"),
    (["sample", "--ensemble", "MLP,DC", "--mode", "mixture", "--weights", "1,nan"], "weight 2 must be"),
    (["sample", "--ensemble", "MLP,DC", "--mode", "mixture", "--weights", "1,b"], "numbers separated by commas"),
    (["sample", "--ensemble", "MLP,,DC", "--mode", "mixture"], "none empty"),
    (["sample", "--ensemble", "MLP,nowhere", "--mode", "mixture"], "No checkpoint folder at 'nowhere'"),
    (["sample", "--ensemble", "MLP,DC", "--mode", "mixture", "--label", "3"], "--label needs conditional members"),
    (["sample", "--ensemble", "MLP,DC", "--mode", "mixture", "--steps", "4"], "--steps apply to diffusion models"),
    (["sample", "--ensemble", "MLP,DC", "--checkpoint", "MLP", "--mode", "mixture"], "not allowed with"),
    (["sample", "--checkpoint", "MLP", "--weights", "1,2"], "--weights goes with --ensemble"),
    (["evaluate", "--ensemble", "MLP,DC", "--mode", "average", "--save"], "an ensemble has none"),
    (["evaluate", "--checkpoint", "MLP", "--mode", "average"], "--mode goes with --ensemble"),
])
def test_cli_ensemble_refusals_are_one_line_before_any_weights_load(folders, tmp_path, capsys, monkeypatch, argv,
                                                                    message):
    from aigc_models import checkpoints

    monkeypatch.setattr(checkpoints, "build_model", lambda *a, **k: pytest.fail("loaded a model"))
    names = {"MLP": folders["mlp"], "DC": folders["dc"], "CGAN": folders["cgan"], "FASHION": folders["fashion"],
             "CLASSIFIER": folders["classifier"]}
    argv = [",".join(names.get(p, p) for p in a.split(",")) if "," in a else names.get(a, a) for a in argv]
    if argv[0] == "sample":
        argv += ["--out", str(tmp_path / "x.png")]
    try:
        assert cli.main(argv) == 2
    except SystemExit as stop:  # argparse's own refusals
        assert stop.code == 2
    line = error_line(capsys)
    assert message in line and len(line) < 400, line


# ----------------------------------------------------------------------------- the lesson tab


@pytest.fixture
def tab(app_environment):
    from ui import ensemble as tab

    return tab


def test_tab_shows_each_member_the_average_and_the_mixture(tab):
    keys = ["mnist-mlp-gan", "mnist-dcgan"]
    assert {k for _, k in tab.member_choices("mnist")} >= {*keys, "mnist-cgan", "mnist-vae"}
    assert tab.default_members("mnist") == ["mnist-dcgan", "mnist-mlp-gan"]
    figure, note = tab.compare_members("mnist", keys, "1,3", 7, 6)
    assert figure.mode == "RGB" and figure.height > 4 * 28 * 3 and figure.width > 6 * 28 * 3
    assert "latent sizes differ" in note and "A 0.25, B 0.75" in note and "drew" in note
    again, _ = tab.compare_members("mnist", keys, "1,3", 7, 6)
    assert np.array_equal(np.asarray(figure), np.asarray(again))
    other, _ = tab.compare_members("mnist", keys, "1,3", 8, 6)
    assert not np.array_equal(np.asarray(figure), np.asarray(other))
    drawn = dict(re.findall(r"([A-H]) drew (\d+)", note))
    assert set(drawn) == {"A", "B"} and sum(map(int, drawn.values())) == 6 and "of 6" in note


@pytest.mark.parametrize("dataset, members, weights, seed, per_row, message", [
    ("mnist", ["mnist-mlp-gan"], "", 0, 4, "takes 2 to 8 members"),
    ("mnist", [], "", 0, 4, "takes 2 to 8 members"),
    ("mnist", None, "", 0, 4, "list of checkpoint names"),
    ("mnist", ["mnist-mlp-gan", "mnist-cgan"], "", 0, 4, "is conditional"),
    ("mnist", ["mnist-mlp-gan", "nowhere"], "", 0, 4, "not one of this app's checkpoints"),
    ("fashion-mnist", ["mnist-mlp-gan", "mnist-dcgan"], "", 0, 4, "draws mnist, not fashion-mnist"),
    ("mnist", ["mnist-mlp-gan", "mnist-classifier"], "", 0, 4, "does not generate images"),
    ("mnist", ["mnist-mlp-gan", "mnist-dcgan"], "1,0", 0, 4, "above 0"),
    ("mnist", ["mnist-mlp-gan", "mnist-dcgan"], "1", 0, 4, "1 number for 2 members"),
    ("mnist", ["mnist-mlp-gan", "mnist-dcgan"], 3, 0, 4, "Weights must be text"),
    ("mnist", ["mnist-mlp-gan", "mnist-dcgan"], "", -1, 4, "Seed"),
    ("mnist", ["mnist-mlp-gan", "mnist-dcgan"], "", 0, 13, "Images per row"),
    ("cifar", ["mnist-mlp-gan", "mnist-dcgan"], "", 0, 4, "Unknown dataset"),
])
def test_tab_refuses_every_bad_input_with_one_sentence(tab, dataset, members, weights, seed, per_row, message):
    with pytest.raises(gr.Error, match=message) as info:
        tab.compare_members(dataset, members, weights, seed, per_row)
    assert "\n" not in info.value.message


def test_tab_picker_keeps_members_still_there(tab):
    pick = tab.MemberPicker(None, None, ensemble.member_families())
    kept = pick.refresh("mnist", ["mnist-vae", "mnist-dcgan", "gone"])
    assert kept["value"] == ["mnist-vae", "mnist-dcgan"]
    assert pick.refresh("mnist", ["gone"])["value"] == tab.default_members("mnist")
    assert pick.refresh("fashion-mnist", ["mnist-vae", "mnist-dcgan"])["value"] == []  # no tiny fashion members


def test_tab_table_is_read_from_the_results_file(tab, tmp_path):
    results = {"members": ["a", "b"], "weights": [0.5, 0.5], "dataset": "mnist", "n": 123, "seed": 0,
               "device": "CPU", "date": "2026-12-01", "noise": "a sentence about noise.",
               "real_floor": {"frechet_distance": 1.5, "coverage": 10, "kl_to_uniform": 0.001, "precision": 0.9,
                              "recall": 0.8, "class_histogram": [0.1] * 10},
               "rows": [{"label": "mixture", "command": "python -m aigc_models evaluate X",
                         "report": {"frechet_distance": 31.4159, "coverage": 9, "kl_to_uniform": 0.02,
                                    "precision": 0.7, "recall": 0.6, "class_histogram": [0.1] * 10}}]}
    path = tmp_path / "table.json"
    path.write_text(json.dumps(results))
    table = tab.measured_table(path)
    assert "| mixture | 31.42 | 9/10 | 0.0200 | 0.700 | 0.600 |" in table and "N = 123" in table
    assert "python -m aigc_models evaluate X" in table and "a sentence about noise." in table
    assert "No measured table" in tab.measured_table(tmp_path / "missing.json")
    shipped = Path(tab.RESULTS)
    if shipped.is_file():  # the shipped file's first number is what the tab shows
        fd = json.loads(shipped.read_text())["rows"][0]["report"]["frechet_distance"]
        assert f"| {fd:.2f} |" in tab.measured_table()
