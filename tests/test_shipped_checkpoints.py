"""The pretrained folders under checkpoints/: all there, complete, safetensors only, they work,
and the evaluator's numbers stored with them meet the bars the project promises."""

from __future__ import annotations

import pytest
import torch

from aigc_models.checkpoints import SHIPPED_DIR, list_checkpoints, load_checkpoint, resolve
from aigc_models.data import DATASETS, load_split, to_signed
from aigc_models.models import REGISTRY
from aigc_models.sampling import sample

SHIPPED = list_checkpoints(SHIPPED_DIR)
FOLDERS = sorted(p for p in SHIPPED_DIR.iterdir() if p.is_dir() and not p.name.startswith(".")) if SHIPPED_DIR.is_dir() else []
PICKLE_SUFFIXES = {".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt"}
MIN_TEST_ACCURACY = {"mnist": 0.97, "fashion-mnist": 0.85}
EXPECTED = {f"{dataset}-{family}" for dataset in DATASETS for family in ("mlp-gan", "dcgan", "cgan", "vae", "classifier")}
EXPECTED.add("mnist-vae-2d")  # the drawable latent map
BARS = {  # on the project's evaluator, N = 10,000 samples
    "classifier_test_accuracy": {"mnist": 0.990, "fashion-mnist": 0.905},
    "cgan_class_accuracy": {"mnist": 0.97, "fashion-mnist": 0.85},
    "max_kl_to_uniform": 0.05,
}
BY_NAME = {row["name"]: row for row in SHIPPED}


def test_every_promised_checkpoint_is_shipped():
    assert EXPECTED <= set(BY_NAME), f"missing: {sorted(EXPECTED - set(BY_NAME))}"


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_stored_metrics_meet_the_bars(dataset):
    """The numbers `evaluate --save` stored in each config.json (N = 10,000)."""
    metrics = {family: BY_NAME[f"{dataset}-{family}"]["metrics"] for family in ("mlp-gan", "dcgan", "cgan", "vae", "classifier")}
    assert metrics["classifier"]["test_accuracy"] >= BARS["classifier_test_accuracy"][dataset]
    for family in ("mlp-gan", "dcgan", "cgan"):
        m = metrics[family]
        assert m["n"] == 10_000 and "real_floor" in m, f"{dataset}-{family} was not evaluated on 10,000 samples"
        assert m["coverage"] == 10, f"{dataset}-{family} covers {m['coverage']} classes"
        assert m["kl_to_uniform"] <= BARS["max_kl_to_uniform"], f"{dataset}-{family}: KL {m['kl_to_uniform']:.3f}"
    assert metrics["cgan"]["class_accuracy"] >= BARS["cgan_class_accuracy"][dataset]
    # same wall time, trained side by side: the DCGAN's samples are clearly closer to the data
    assert metrics["dcgan"]["frechet_distance"] < 0.8 * metrics["mlp-gan"]["frechet_distance"]
    seconds = [BY_NAME[f"{dataset}-{f}"]["training"]["seconds"] for f in ("mlp-gan", "dcgan")]
    assert abs(seconds[0] - seconds[1]) <= 5
    assert metrics["vae"]["test_elbo"] < 0 and 0 < metrics["vae"]["test_mse"] < 0.1


def test_no_pickled_weights_anywhere_in_checkpoints():
    offenders = [str(p) for p in SHIPPED_DIR.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES]
    assert offenders == []


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_folder_is_a_complete_checkpoint(folder):
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "README.md"} <= names, f"{folder.name} is incomplete: {sorted(names)}"
    assert folder.name in {row["name"] for row in SHIPPED}, f"{folder.name}/config.json does not parse"


@pytest.mark.parametrize("row", SHIPPED, ids=lambda r: r["name"])
def test_shipped_checkpoint_loads_and_works(row):
    assert row["family"] in REGISTRY and row["dataset"] in DATASETS
    assert resolve(row["name"]) == SHIPPED_DIR / row["name"]  # usable by its short name
    card = (SHIPPED_DIR / row["name"] / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: aigc_models" in card
    assert "python -m aigc_models train" in card, "the model card must give the exact training command"
    model = load_checkpoint(row["name"])
    assert model.family == row["family"] and model.config.dataset == row["dataset"]
    if model.objective == "classifier":
        test = load_split(row["dataset"], train=False)
        x = to_signed(test.images[:1000])
        with torch.no_grad():
            logits = model(x)
        assert logits.shape == (1000, 10) and torch.isfinite(logits).all()
        accuracy = float((logits.argmax(1) == test.labels[:1000]).float().mean())
        assert accuracy >= MIN_TEST_ACCURACY[row["dataset"]], f"{row['name']}: accuracy {accuracy:.3f}"
        return
    images = sample(model, 20, seed=0)
    assert images.shape == (20, 1, 28, 28)
    assert torch.isfinite(images).all() and images.min() >= -1 and images.max() <= 1
    assert images.std() > 0.2, "blank or grey images: the generator did not train"
    assert (images[0] - images[1]).abs().mean() > 0.01, "two seeds gave the same image"
    assert torch.equal(images, sample(model, 20, seed=0))
