"""Transfer learning: few-shot training sets (``subset``) and layers kept as a checkpoint trained
them (``freeze``: G's early layers, or D's, FreezeD); tiny models, a few CPU steps."""

from __future__ import annotations

import pytest
import torch
from conftest import REPO, run_events, tiny_train_config

from aigc_models import cli, data
from aigc_models.checkpoints import load_checkpoint
from aigc_models.training import TrainConfig, freeze_early, training_split


@pytest.fixture(scope="module")
def train_split():
    return data.load_split("mnist", train=True)


# ----------------------------------------------------------------------------- subset


def test_subset_takes_the_same_number_from_each_class(train_split):
    few = data.stratified_subset(train_split, 100, seed=0)
    assert len(few) == 100 and few.images.dtype == torch.uint8
    assert torch.bincount(few.labels, minlength=10).tolist() == [10] * 10
    uneven = data.stratified_subset(train_split, 23, seed=0)
    assert torch.bincount(uneven.labels, minlength=10).tolist() == [3, 3, 3] + [2] * 7


def test_subset_images_come_from_the_split_with_their_labels(train_split):
    few = data.stratified_subset(train_split, 30, seed=4)
    flat = train_split.images.flatten(1)
    for image, label in zip(few.images, few.labels):
        rows = torch.nonzero((flat == image.flatten()).all(1)).flatten()
        assert len(rows) and label in train_split.labels[rows]


def test_subset_is_seeded(train_split):
    a = data.stratified_subset(train_split, 50, seed=1)
    b = data.stratified_subset(train_split, 50, seed=1)
    c = data.stratified_subset(train_split, 50, seed=2)
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)


@pytest.mark.parametrize("n", [9, 60_001, 2.5, True])
def test_subset_refuses_sizes_it_cannot_stratify(train_split, n):
    with pytest.raises(ValueError, match="subset must be a whole number from 10"):
        data.stratified_subset(train_split, n, seed=0)


def test_a_run_trains_on_its_subset_only():
    cfg = tiny_train_config("dcgan", subset=20, seed=3).validate()
    split = training_split(cfg)
    assert len(split) == 20 and torch.equal(split.images, data.stratified_subset(
        data.load_split("mnist", train=True), 20, seed=3).images)
    assert len(training_split(tiny_train_config("dcgan").validate())) == 60_000


def test_subset_below_one_image_per_class_is_refused():
    with pytest.raises(ValueError, match=r"subset \(0 = all\) must be 0 or at least 10"):
        tiny_train_config("dcgan", subset=5).validate()


# ----------------------------------------------------------------------------- freeze


def test_freeze_early_stops_the_first_half_of_the_layers():
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3),
                              torch.nn.Linear(3, 3), torch.nn.Linear(3, 1))
    assert freeze_early(net) == ["0", "2"]
    assert [p.requires_grad for p in net.parameters()] == [False, False, False, False, True, True, True, True]


@pytest.mark.parametrize("which, part", [("d-early", "discriminator"), ("g-early", "generator")])
def test_frozen_layers_stay_bit_for_bit_as_loaded(checkpoint_dirs, tmp_path, which, part):
    start = checkpoint_dirs["dcgan"]
    run_events(tiny_train_config("dcgan", tmp_path / "tuned", init_from=str(start), freeze=which, steps=3, lr_g=0.05,
                                 lr_d=0.05))
    before, after = load_checkpoint(start), load_checkpoint(tmp_path / "tuned")
    frozen = freeze_early(getattr(before, part))  # the same names, found the same way
    weights_before = dict(getattr(before, part).named_parameters())
    changed = {name: not torch.equal(p, weights_before[name]) for name, p in getattr(after, part).named_parameters()}
    assert frozen and all(not changed[n] for n in changed if n.rsplit(".", 1)[0] in frozen)
    assert any(changed[n] for n in changed if n.rsplit(".", 1)[0] not in frozen)
    other = "generator" if part == "discriminator" else "discriminator"
    other_before = dict(getattr(before, other).named_parameters())
    assert any(not torch.equal(p, other_before[n]) for n, p in getattr(after, other).named_parameters())


@pytest.mark.parametrize("overrides, message", [
    ({"freeze": "d-early"}, "give --init-from"),
    ({"freeze": "g-early", "model": "vae", "init_from": "x"}, "applies to GANs"),
    ({"freeze": "all"}, "Unknown freeze 'all'; choose one of: none, g-early, d-early."),
])
def test_bad_freeze_settings_are_refused_in_one_sentence(overrides, message):
    overrides = dict(overrides)
    model = overrides.pop("model", "dcgan")
    with pytest.raises(ValueError, match=message) as err:
        tiny_train_config(model, **overrides).validate()
    assert "\n" not in str(err.value)


def test_the_command_line_takes_subset_and_freeze(checkpoint_dirs, tmp_path, capsys):
    out = tmp_path / "few"
    assert cli.main(["train", "--model", "dcgan", "--init-from", str(checkpoint_dirs["dcgan"]), "--freeze", "d-early",
                     "--subset", "30", "--steps", "2", "--batch-size", "8", "--device", "cpu", "--quiet",
                     "--out", str(out)]) == 0
    recorded = load_checkpoint(out)
    assert recorded.family == "dcgan"
    from aigc_models.checkpoints import read_meta

    settings = read_meta(out)["training"]["train_config"]
    assert (settings["freeze"], settings["subset"]) == ("d-early", 30)
    assert cli.main(["train", "--model", "dcgan", "--subset", "5", "--steps", "1", "--out", str(tmp_path / "x")]) == 2
    assert "subset (0 = all) must be 0 or at least 10" in capsys.readouterr().err
    assert TrainConfig().subset == 0 and TrainConfig().freeze == "none"


def test_the_transfer_script_writes_a_curve_per_run(checkpoint_dirs, tmp_path, capsys):
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("transfer_curves", REPO / "scripts" / "transfer_curves.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "curves.json"
    assert script.main(["--source", str(checkpoint_dirs["dcgan"]), "--sizes", "20", "--starts", "scratch,FreezeD",
                        "--augment", "on", "--steps", "2", "--eval-every", "1", "--eval-n", "20", "--out", str(out),
                        "--samples", str(tmp_path / "samples")]) == 0  # never into the checkout's docs/
    result = json.loads(out.read_text())
    assert [(c["start"], c["size"], c["diffaugment"]) for c in result["curves"]] == [("scratch", 20, True), ("FreezeD", 20, True)]
    scratch, frozen = result["curves"]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["20-FreezeD-diffaugment.png", "20-scratch-diffaugment.png"]
    assert [p["step"] for p in scratch["points"]] == [1, 2] and [p["step"] for p in frozen["points"]] == [0, 1, 2]
    table = capsys.readouterr().out
    assert "| 20 | FreezeD | on |" in table and "step 0" in table
