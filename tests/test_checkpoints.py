"""Checkpoint folders: config.json + model.safetensors + README.md, round trips, errors."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import TINY_OPTIONS
from safetensors import safe_open

from aigc_models import checkpoints
from aigc_models.checkpoints import CheckpointError, list_checkpoints, load_checkpoint, read_meta, save_checkpoint
from aigc_models.models import build_model, make_config
from aigc_models.sampling import discriminator_scores, sample

ROUND_TRIP = {
    "mlp-gan": {**TINY_OPTIONS["mlp-gan"], "minibatch_std": True},
    "dcgan": {**TINY_OPTIONS["dcgan"], "spectral_norm": True, "d_stages": 3, "minibatch_std": True, "d_kernel": 5},
    "cgan": TINY_OPTIONS["cgan"],
    "cgan-wide-d": {**TINY_OPTIONS["cgan"], "spectral_norm": True, "d_stages": 3, "d_kernel": 5},
    "cgan-mlp": {"arch": "mlp", "latent_dim": 8, "embed_dim": 8, "g_hidden": (32, 64), "d_hidden": (64, 32)},
    "vae": TINY_OPTIONS["vae"],
    "classifier": TINY_OPTIONS["classifier"],
}


def fresh(name: str, seed: int = 0) -> torch.nn.Module:
    """A random model whose BatchNorm statistics and spectral-norm vectors moved off their defaults."""
    torch.manual_seed(seed)
    family = "cgan" if name.startswith("cgan") else name
    model = build_model(family, make_config(family, **ROUND_TRIP[name]))
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    model.train()
    with torch.no_grad():
        if model.objective == "gan":
            labels = torch.arange(8) % 10 if model.num_classes else None
            model.generate(torch.randn(8, model.latent_dim), labels)
            model.discriminate(x, labels)
        else:
            model(x)
    return model.eval()


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_save_load_round_trip_gives_identical_outputs(tmp_path, name):
    model = fresh(name)
    path = save_checkpoint(model, tmp_path / name)
    loaded = load_checkpoint(path)
    assert type(loaded) is type(model) and not loaded.training
    assert loaded.config == model.config
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    if model.objective == "cross-entropy":
        x = torch.rand(5, 1, 28, 28) * 2 - 1
        with torch.no_grad():
            assert torch.equal(loaded(x), model(x))
        return
    assert torch.equal(sample(loaded, 10, seed=4), sample(model, 10, seed=4))
    if model.objective == "gan":
        x = sample(model, 6, seed=1)
        labels = torch.arange(6) if model.num_classes else None
        assert torch.equal(discriminator_scores(loaded, x, labels), discriminator_scores(model, x, labels))


@pytest.mark.parametrize("name", ["mlp-gan", "dcgan", "cgan", "vae"])
def test_trained_checkpoint_reloads_to_the_same_samples(checkpoint_dirs, tmp_path, name):
    a = load_checkpoint(checkpoint_dirs[name])
    copy = save_checkpoint(a, tmp_path / "copy")
    b = load_checkpoint(copy)
    assert torch.equal(sample(a, 8, seed=0), sample(b, 8, seed=0))


def test_folder_layout_and_metadata(tmp_path):
    model = fresh("dcgan")
    training = {"command": "python -m aigc_models train --model dcgan --steps 3", "steps": 3, "device": "CPU"}
    out = save_checkpoint(model, tmp_path / "ckpt", training=training, metrics={"frechet_distance": 12.5})
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no temporary folder left
    meta = json.loads((out / "config.json").read_text())
    assert meta["format_version"] == checkpoints.FORMAT_VERSION
    assert meta["family"] == "dcgan" and meta["dataset"] == "mnist"
    assert meta["config"] == {"dataset": "mnist", **ROUND_TRIP["dcgan"]}
    assert meta["training"] == training and meta["metrics"] == {"frechet_distance": 12.5}
    with safe_open(str(out / "model.safetensors"), framework="pt") as f:  # safetensors, not a pickle
        assert set(f.keys()) == set(model.state_dict())
    card = (out / "README.md").read_text()
    assert card.startswith("---\n")
    front = card.split("---")[1]
    assert "library_name: aigc_models" in front and "- dcgan" in front and "- ylecun/mnist" in front
    assert "frechet_distance" in front  # model-index results
    assert training["command"] in card
    from huggingface_hub import ModelCard

    parsed = ModelCard(card).data  # the Hub's own reader finds the tags and the model index
    assert parsed.library_name == "aigc_models" and "dcgan" in parsed.tags
    assert [(r.metric_type, r.metric_value, r.dataset_type) for r in parsed.eval_results] == [
        ("frechet_distance", 12.5, "ylecun/mnist")]


def test_fashion_mnist_card_names_the_hub_dataset(tmp_path):
    model = build_model("vae", latent_dim=2, channels=4, dataset="fashion-mnist")
    out = save_checkpoint(model, tmp_path / "fvae")
    assert "zalando-datasets/fashion_mnist" in (out / "README.md").read_text()
    assert read_meta(out)["dataset"] == "fashion-mnist"


def test_overwrite_replaces_and_cleans_up(tmp_path):
    out = tmp_path / "ckpt"
    save_checkpoint(fresh("dcgan", seed=0), out)
    second = fresh("dcgan", seed=1)
    save_checkpoint(second, out)
    assert torch.equal(sample(load_checkpoint(out), 4, seed=0), sample(second, 4, seed=0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_update_metrics_merges(tmp_path):
    out = save_checkpoint(fresh("vae"), tmp_path / "v", metrics={"a": 1.0})
    checkpoints.update_metrics(out, {"b": 2.0})
    assert read_meta(out)["metrics"] == {"a": 1.0, "b": 2.0}
    assert "| b | 2 |" in (out / "README.md").read_text()


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint folder"):
        load_checkpoint(tmp_path / "missing")
    with pytest.raises(CheckpointError):
        load_checkpoint("not-a-checkpoint-anywhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="config.json"):
        load_checkpoint(empty)
    out = save_checkpoint(fresh("mlp-gan"), tmp_path / "ok")
    (out / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(out)
    meta = json.loads((out / "config.json").read_text())
    meta["format_version"] = 99
    (out / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="format_version"):
        read_meta(out)


def test_hub_id_offline_fails_with_checkpoint_error():
    with pytest.raises(CheckpointError, match="Hugging Face Hub"):
        load_checkpoint("nobody-here/no-such-model-aigc-test")


def test_list_checkpoints(tmp_path):
    save_checkpoint(fresh("vae"), tmp_path / "b-vae", metrics={"test_elbo": -100.0})
    save_checkpoint(fresh("dcgan"), tmp_path / "a-dcgan")
    (tmp_path / "junk").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    save_checkpoint(fresh("dcgan"), tmp_path / ".hidden")
    rows = list_checkpoints(tmp_path)
    assert [r["name"] for r in rows] == ["a-dcgan", "b-vae"]
    assert rows[1]["family"] == "vae" and rows[1]["dataset"] == "mnist"
    assert rows[1]["metrics"] == {"test_elbo": -100.0}
    assert rows[0]["config"]["g_channels"] == 8
    assert list_checkpoints(tmp_path / "nowhere") == []

