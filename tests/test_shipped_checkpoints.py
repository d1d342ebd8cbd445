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


# Bars the shipped checkpoints do not reach yet, with what was measured (N = 10,000, on this
# project's evaluator). strict=True: the day a retrained checkpoint reaches its bar, the test
# fails and the entry must go, so this list cannot go stale.
NOT_YET_MET: dict[tuple[str, str], str] = {}  # every bar is met (DCGAN vs MLP GAN since the 21 x 21 spectral-norm D)


def _bar(kind: str, key: str):
    reason = NOT_YET_MET.get((kind, key))
    return pytest.param(key, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else key


def _metrics(name: str) -> dict:
    m = BY_NAME[name]["metrics"]
    if BY_NAME[name]["family"] != "classifier":
        assert m["n"] == 10_000 and "real_floor" in m, f"{name} was not evaluated on 10,000 samples"
    return m


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_classifier_meets_its_accuracy_bar(dataset):
    """The numbers `evaluate --save` stored in each config.json."""
    assert _metrics(f"{dataset}-classifier")["test_accuracy"] >= BARS["classifier_test_accuracy"][dataset]


@pytest.mark.parametrize("name", [f"{d}-{f}" for d in sorted(DATASETS) for f in ("mlp-gan", "dcgan", "cgan")])
def test_every_gan_covers_all_classes(name):
    assert _metrics(name)["coverage"] == 10, f"{name} covers {_metrics(name)['coverage']} classes"


@pytest.mark.parametrize("name", [_bar("kl", f"{d}-{f}") for d in sorted(DATASETS) for f in ("mlp-gan", "dcgan", "cgan")])
def test_every_gan_is_close_to_uniform_over_classes(name):
    kl = _metrics(name)["kl_to_uniform"]
    assert kl <= BARS["max_kl_to_uniform"], f"{name}: KL {kl:.3f}"


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_cgan_draws_the_class_it_is_asked_for(dataset):
    assert _metrics(f"{dataset}-cgan")["class_accuracy"] >= BARS["cgan_class_accuracy"][dataset]


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_mlp_gan_and_dcgan_trained_for_the_same_wall_time(dataset):
    seconds = [BY_NAME[f"{dataset}-{f}"]["training"]["seconds"] for f in ("mlp-gan", "dcgan")]
    assert abs(seconds[0] - seconds[1]) <= 5


@pytest.mark.parametrize("dataset", [_bar("dcgan-vs-mlp-gan", d) for d in sorted(DATASETS)])
def test_dcgan_is_clearly_better_than_mlp_gan_at_the_same_wall_time(dataset):
    dcgan, mlp = (_metrics(f"{dataset}-{f}")["frechet_distance"] for f in ("dcgan", "mlp-gan"))
    assert dcgan < 0.8 * mlp, f"{dataset}: DCGAN FD {dcgan:.1f} vs MLP GAN {mlp:.1f}"


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_vae_reports_elbo_and_reconstruction_error(dataset):
    m = _metrics(f"{dataset}-vae")
    assert m["test_elbo"] < 0 and 0 < m["test_mse"] < 0.1


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
