"""The pretrained folders under checkpoints/: all there, complete, safetensors only, they work,
and the evaluator's numbers stored with them meet the bars the project promises.

The bar tests read the numbers stored in each config.json (N = 10,000); they document the
promises but run no model. The tests under "re-measured" at the end sample and score every
shipped generator again (N = 1,000, seed 0) and hold it to its stored numbers, so a regression
in sampling, in a model's forward pass or in the metrics fails them.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import pytest
import torch

from aigc_models import samplers
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
EXPECTED |= {"mnist-diffusion", "fashion-mnist-diffusion", "mnist-dit", "mnist-diffusion-ddpm"}
EXPECTED |= {f"{dataset}-espcn-x2" for dataset in DATASETS}  # super-resolution (issue 15)
# x4 on the pixel loss (SRCNN, ESPCN), and ESPCN with an adversarial loss too, on both datasets
EXPECTED |= {f"{dataset}-{model}-x4" for dataset in DATASETS for model in ("srcnn", "espcn")}
EXPECTED |= {f"{dataset}-espcn-x4-gan" for dataset in DATASETS}
EXPECTED |= {"mnist-pixelcnn", "fashion-mnist-pixelcnn"}  # the autoregressive models: binarized (K = 2), 4 grey levels (issue 15)
EXPECTED.add("mnist-vae-binarized")  # the likelihood table's VAE: trained and scored on binarized MNIST (issue 15)
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
NOT_YET_MET: dict[tuple[str, str], str] = {}  # (DCGAN vs MLP GAN met since the 21 x 21 spectral-norm D; the
# MNIST PixelCNN's class accuracy since its fine-tuning with label dropout and class guidance 1.5: 0.9812)


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


DIFFUSION_BARS = {  # class accuracy at least this, and (where named) FD below that checkpoint's
    "mnist-diffusion": (0.99, "mnist-cgan"),
    "fashion-mnist-diffusion": (0.92, "fashion-mnist-cgan"),
    "mnist-dit": (0.97, None),
}


@pytest.mark.parametrize("name", [_bar("diffusion", n) for n in DIFFUSION_BARS if n in BY_NAME])
def test_diffusion_meets_its_bars(name):
    """With the sampler, steps and guidance its card names (stored with the numbers)."""
    accuracy, rival = DIFFUSION_BARS[name]
    m, cfg = _metrics(name), load_checkpoint(name).config
    assert m["sampling"] == {"sampler": cfg.sampler, "steps": cfg.default_steps, "guidance": cfg.default_guidance}
    assert m["class_accuracy"] >= accuracy, f"{name}: class accuracy {m['class_accuracy']:.4f}"
    if rival:
        assert m["frechet_distance"] < _metrics(rival)["frechet_distance"], (
            f"{name}: FD {m['frechet_distance']:.2f}, {rival} {_metrics(rival)['frechet_distance']:.2f}")


@pytest.mark.slow
def test_ddim_does_not_get_worse_with_more_steps():
    """DDIM recomputes its noise estimate from the clipped clean image (``samplers.STEP_OPTIONS``).
    Without that, the DDPM-objective model's DDIM samples got worse with more steps: at 64 steps
    the classifier named 66 % of them right (N = 300, guidance 1.5) against 92 % at 16; with it, 99 %."""
    model, classifier = _model("mnist-diffusion-ddpm"), _model("mnist-classifier")
    labels = torch.arange(100) % 10
    images = samplers.sample(model, 100, seed=0, labels=labels, sampler="ddim", steps=64)
    with torch.no_grad():
        named = classifier(images).argmax(1)
    assert float((named == labels).float().mean()) >= 0.9


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
    if model.objective == "cross-entropy":
        test = load_split(row["dataset"], train=False)
        x = to_signed(test.images[:1000])
        with torch.no_grad():
            logits = model(x)
        assert logits.shape == (1000, 10) and torch.isfinite(logits).all()
        accuracy = float((logits.argmax(1) == test.labels[:1000]).float().mean())
        assert accuracy >= MIN_TEST_ACCURACY[row["dataset"]], f"{row['name']}: accuracy {accuracy:.3f}"
        return
    if REGISTRY[model.family].can("upscale"):  # super-resolution: scored at the end of this file
        low = model.degrade(to_signed(load_split(row["dataset"], train=False).images[:20]))
        with torch.no_grad():
            up = model.upscale(low)
        assert up.shape == (20, 1, 28, 28) and torch.isfinite(up).all() and up.min() >= -1 and up.max() <= 1
        return
    images = sample(model, 20, seed=0)
    assert images.shape == (20, 1, 28, 28)
    assert torch.isfinite(images).all() and images.min() >= -1 and images.max() <= 1
    assert images.std() > 0.2, "blank or grey images: the generator did not train"
    assert (images[0] - images[1]).abs().mean() > 0.01, "two seeds gave the same image"
    assert torch.equal(images, sample(model, 20, seed=0))


# ----------------------------------------------------------------------------- re-measured
# Every shipped generator (every checkpoint whose family generates: not the classifiers, not the
# super-resolution models) is loaded, sampled and scored
# again with the project's evaluator at N = 1,000, seed 0, and held to the numbers stored in its
# config.json (N = 10,000; a VAE's are those of its prior samples, metrics["prior_samples"]).
#
# Frechet distance. FD at N = 1,000 is biased upward against N = 10,000 (the Gaussian fit of 1,000
# features is noisier), and the bias is roughly additive: a few units whatever the FD, so it shows
# as a large ratio only on the best models. FD(1k, seed 0) / FD(10k, stored), measured:
#   mnist-cgan 14.30 / 10.40 = 1.374    fashion-mnist-cgan     18.35 / 17.92  = 1.024
#   mnist-dcgan 31.87 / 27.32 = 1.166   fashion-mnist-dcgan    56.06 / 58.70  = 0.955
#   mnist-mlp-gan 51.77 / 42.29 = 1.224 fashion-mnist-mlp-gan 147.98 / 149.22 = 0.992
#   mnist-vae 364.33 / 351.07 = 1.038   fashion-mnist-vae     296.67 / 284.49 = 1.043
#   mnist-vae-2d 822.25 / 822.35 = 1.000
# Over seeds 0-9 (90 draws) the ratio spans 0.95-1.58 (1.58: mnist-cgan, 16.5 / 10.4) and
# FD(1k) - FD(10k) spans -9 .. +14 (the three MNIST GANs: always above, +0.5 .. +12); one
# checkpoint's seed-to-seed standard deviation is 1-3 on the cGANs and MNIST DCGAN, 4-8 elsewhere.
# Tolerance:
#   0.85 x FD(10k) - 5  <=  FD(1k)  <=  1.15 x FD(10k) + 15
# the absolute slack for the bias and the noise of small FDs, the ratio for the noise of large
# ones. All 90 draws land inside, the worst using 63 % of the way from the stored value to an end
# (mnist-dcgan, seed 7; seed 0: 44 %, mnist-mlp-gan), and every checkpoint's mean over seeds is
# >= 3.8 standard deviations from both ends, so a mere change of random stream does not fail it.
# A real regression does: latents drawn at 1.5x or 0.6x their scale fail it on 14 of 18
# (checkpoint, scale) pairs (passing: both scales on mnist-vae-2d, whose FD of 820 hardly moves,
# and z x 1.5 on fashion-mnist-cgan and -dcgan), and so does a DCGAN shipped in place of its MLP GAN
# (mnist: 51.8 > 46.4) or a DCGAN in place of a cGAN. The band 0.8x .. 1.6x (+ slack) would let
# z x 1.5 pass on mnist-vae too, and anything up to 1,300 on mnist-vae-2d.
#
# Class accuracy (conditional models): within 0.03 of the stored value (binomial sd at N = 1,000
# and p = 0.9 is 0.0095; measured at seed 0: mnist-cgan 0.991 / 0.9907, fashion-mnist-cgan
# 0.900 / 0.9055; over seeds 0-4 the largest gap is 0.028, fashion-mnist-cgan, seed 4).
# Coverage: at least the stored coverage - 1 (a class near the 20 % share may flip; mnist-vae-2d
# gives 5 or 6 against 5 stored over seeds 0-4, fashion-mnist-vae 9 against 9).
# KL to uniform: within an absolute 0.05. Largest gap over seeds 0-9: 0.044 (fashion-mnist-vae,
# whose one almost empty class makes its KL the noisiest; seed 0: 0.216 against 0.173); every other
# checkpoint stays within 0.031.
#
# The diffusion checkpoints are drawn at N = 300 (1,000 of them take ~2 minutes each on two shared
# cores, 20 network passes per image, twice with guidance), and the FD's absolute slack grows as
# 1,000 / N, since the small-sample bias does: measured at seed 0, N = 300, beside the stored N =
# 10,000 values: mnist-diffusion FD 25.6 / 8.8 (bound 60.1), mnist-dit 37.8 / 24.0 (bound 77.6),
# fashion-mnist-diffusion 25.2 / 14.5 (bound 66.7); class accuracy 1.0 / 0.994, 1.0 / 0.992,
# 0.943 / 0.953. A sampler broken as the one-step Euler was (FD 681) still fails it by far.
# Test ELBO of a VAE: evaluate_vae on the first 2,000 test images (its seeded posterior draws are
# those of the full run's first two batches), within 2 nats of the stored full-set value. Measured:
# mnist-vae -100.37 / -101.08, mnist-vae-2d -155.85 / -155.77, fashion-mnist-vae -242.35 / -242.15.
# The full set matches the stored values to 1e-5 but takes ~12 s a VAE on two shared cores.
#
# Cost on two shared CPU cores: ~10-25 s per evaluator (it scores the 10,000 test images once;
# one per dataset, built on first use), 2-4 s per generator, 1-3 s per ELBO.

EVAL_N, EVAL_SEED = 1000, 0
EVAL_N_BY_FAMILY = {"diffusion": 300, "pixelcnn": 200}  # families whose samples are costly (see above)
FD_RATIO, FD_SLACK = (0.85, 1.15), (5.0, 15.0)  # FD(1k) in [0.85 x FD - 5, 1.15 x FD + 15]
CLASS_ACCURACY_TOLERANCE = 0.03
KL_TOLERANCE = 0.05
COVERAGE_TOLERANCE = 1
ELBO_IMAGES, ELBO_TOLERANCE = 2000, 2.0  # nats per image
GENERATORS = [row for row in SHIPPED if REGISTRY[row["family"]].can("generate")]
GENERATOR_NAMES = [row["name"] for row in GENERATORS]
VAE_NAMES = [row["name"] for row in GENERATORS if "prior_samples" in row["metrics"]]
CONDITIONAL_NAMES = [row["name"] for row in GENERATORS if "class_accuracy" in row["metrics"]]


def _stored_sample_metrics(name: str) -> dict:
    """The evaluator's stored report of a generator's samples (a VAE's: of its prior samples)."""
    m = BY_NAME[name]["metrics"]
    stored = m["prior_samples"] if BY_NAME[name]["family"] == "vae" else m
    assert stored.get("n") == 10_000, f"{name}: no stored sample metrics at N = 10,000"
    return stored


def eval_n(name: str) -> int:
    """How many samples the resampling tests draw from checkpoint ``name``."""
    return EVAL_N_BY_FAMILY.get(BY_NAME[name]["family"], EVAL_N)


@functools.cache
def _model(name: str):
    """A shipped checkpoint, loaded once per module (the tests below never change it)."""
    return load_checkpoint(name)


@pytest.fixture(scope="module")
def evaluator():
    """dataset -> the project's Evaluator with that dataset's shipped classifier (built once, on first use)."""
    from aigc_models.metrics import Evaluator

    built: dict[str, Evaluator] = {}

    def get(dataset: str) -> Evaluator:
        if dataset not in built:
            built[dataset] = Evaluator(_model(f"{dataset}-classifier"), dataset)
        return built[dataset]

    return get


@pytest.fixture(scope="module")
def measured(evaluator):
    """name -> the evaluator's report of ``EVAL_N`` fresh samples (seed ``EVAL_SEED``), computed once."""
    reports: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in reports:
            n = eval_n(name)
            report = evaluator(BY_NAME[name]["dataset"]).evaluate_generator(_model(name), n=n, seed=EVAL_SEED)
            assert report["n"] == n
            reports[name] = report
        return reports[name]

    return get


def test_every_generator_has_stored_sample_metrics():
    assert GENERATOR_NAMES, "no shipped generator found"
    assert {f"{d}-{f}" for d in DATASETS for f in ("mlp-gan", "dcgan", "cgan", "vae")} <= set(GENERATOR_NAMES)
    assert {f"{d}-cgan" for d in DATASETS} <= set(CONDITIONAL_NAMES)
    assert {f"{d}-vae" for d in DATASETS} <= set(VAE_NAMES)
    for name in GENERATOR_NAMES:
        _stored_sample_metrics(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", GENERATOR_NAMES)
def test_resampled_frechet_distance_matches_the_stored_one(name, measured):
    stored = _stored_sample_metrics(name)["frechet_distance"]
    fd = measured(name)["frechet_distance"]
    n = eval_n(name)
    lo = FD_RATIO[0] * stored - FD_SLACK[0]
    hi = FD_RATIO[1] * stored + FD_SLACK[1] * EVAL_N / n
    assert lo <= fd <= hi, (
        f"{name}: FD {fd:.2f} at N = {n} (ratio {fd / stored:.3f}) is outside [{lo:.2f}, {hi:.2f}] "
        f"around the stored {stored:.2f} at N = 10,000")


@pytest.mark.slow
@pytest.mark.parametrize("name", GENERATOR_NAMES)
def test_resampled_class_balance_matches_the_stored_one(name, measured):
    stored, got = _stored_sample_metrics(name), measured(name)
    assert got["coverage"] >= stored["coverage"] - COVERAGE_TOLERANCE, (
        f"{name}: covers {got['coverage']} classes at N = {eval_n(name)}, {stored['coverage']} stored")
    assert abs(got["kl_to_uniform"] - stored["kl_to_uniform"]) <= KL_TOLERANCE, (
        f"{name}: KL to uniform {got['kl_to_uniform']:.4f} at N = {eval_n(name)}, {stored['kl_to_uniform']:.4f} stored; "
        f"histogram {got['class_histogram']}")


@pytest.mark.slow
@pytest.mark.parametrize("name", CONDITIONAL_NAMES)
def test_resampled_class_accuracy_matches_the_stored_one(name, measured):
    stored, got = _stored_sample_metrics(name)["class_accuracy"], measured(name)
    assert "class_accuracy" in got, f"{name} was sampled without labels"
    assert abs(got["class_accuracy"] - stored) <= CLASS_ACCURACY_TOLERANCE, (
        f"{name}: class accuracy {got['class_accuracy']:.4f} at N = {eval_n(name)}, {stored:.4f} stored")


@pytest.mark.slow
@pytest.mark.parametrize("name", VAE_NAMES)
def test_vae_test_elbo_matches_the_stored_one(name, monkeypatch):
    """evaluate_vae on the first ``ELBO_IMAGES`` test images (the split it loads, cut short)."""
    import aigc_models.data as data_mod
    from aigc_models.metrics import evaluate_vae

    row = BY_NAME[name]
    full = load_split(row["dataset"], train=False)
    head = dataclasses.replace(full, images=full.images[:ELBO_IMAGES], labels=full.labels[:ELBO_IMAGES])
    real_load_split = data_mod.load_split

    def first_test_images(dataset, *, train=True):
        split = real_load_split(dataset, train=train)
        return head if split is full else split

    monkeypatch.setattr(data_mod, "load_split", first_test_images)
    got = evaluate_vae(_model(name), row["dataset"], seed=0)
    assert got["n"] == ELBO_IMAGES, "evaluate_vae no longer reads aigc_models.data.load_split: update the cut above"
    stored = row["metrics"]["test_elbo"]
    assert abs(got["test_elbo"] - stored) <= ELBO_TOLERANCE, (
        f"{name}: test ELBO {got['test_elbo']:.2f} on the first {ELBO_IMAGES} test images, {stored:.2f} stored")


@pytest.mark.parametrize("name", GENERATOR_NAMES)
def test_sampling_is_seeded(name):
    """Same checkpoint, same seed: the same images (also from a second load); another seed: other images."""
    model = _model(name)
    k = getattr(model, "num_classes", 0)
    labels = torch.arange(16) % k if k else None
    first = sample(model, 16, seed=0, labels=labels)
    assert first.shape == (16, 1, 28, 28) and torch.isfinite(first).all()
    assert torch.equal(first, sample(model, 16, seed=0, labels=labels))
    assert torch.equal(first, sample(load_checkpoint(name), 16, seed=0, labels=labels))
    other = sample(model, 16, seed=1, labels=labels)
    per_image = (first - other).abs().flatten(1).mean(1)
    same = per_image.le(1e-3).nonzero().flatten().tolist()
    assert not same, f"{name}: seeds 0 and 1 gave the same image at position(s) {same}"


# ----------------------------------------------------------------------------- super-resolution
# The shipped super-resolution models (issue 15). The bar: ESPCN x2 at least SR_BAR_DB above bicubic
# upscaling in PSNR on the test split (mean per-image PSNR, torchmetrics, metrics.evaluate_super_resolution),
# on the numbers stored by `evaluate --n 10000 --save` and again on the first SR_N test images, run here.
# The gain over bicubic on the first 500 test images against all 10,000, measured: mnist-espcn-x2 7.50 / 7.51 dB,
# fashion-mnist-espcn-x2 3.00 / 2.91 dB, mnist-srcnn-x2 3.39 / 3.38 dB, mnist-espcn-x4 2.74 / 3.04 dB.

SR_BAR_DB = 2.0
SR_N = 500
SR_GAIN_TOLERANCE = 0.5  # dB between the gain on the first SR_N images and the stored gain
SR_NAMES = [row["name"] for row in SHIPPED if REGISTRY[row["family"]].can("upscale")]
SR_BARRED = sorted(f"{dataset}-espcn-x2" for dataset in DATASETS)


@pytest.mark.parametrize("name", SR_BARRED)
def test_espcn_x2_beats_bicubic_by_2_db_on_the_stored_numbers(name):
    m = BY_NAME[name]["metrics"]
    assert m["n"] == 10_000 and m["scale"] == 2, f"{name} was not evaluated on the 10,000 test images at x2"
    assert m["psnr"] - m["bicubic_psnr"] >= SR_BAR_DB, (
        f"{name}: PSNR {m['psnr']:.2f} dB, bicubic {m['bicubic_psnr']:.2f} dB")


@pytest.mark.parametrize("name", SR_NAMES)
def test_super_resolution_re_measured_on_the_first_test_images(name):
    from aigc_models.metrics import evaluate_super_resolution

    stored = BY_NAME[name]["metrics"]
    got = evaluate_super_resolution(_model(name), BY_NAME[name]["dataset"], n=SR_N)
    assert got["psnr"] > got["bicubic_psnr"] > got["nearest_psnr"]
    assert got["ssim"] > got["nearest_ssim"]
    assert abs(got["psnr_over_bicubic"] - stored["psnr_over_bicubic"]) <= SR_GAIN_TOLERANCE, (
        f"{name}: {got['psnr_over_bicubic']:.2f} dB over bicubic on the first {SR_N} test images, "
        f"{stored['psnr_over_bicubic']:.2f} dB stored")
    if name in SR_BARRED:
        assert got["psnr_over_bicubic"] >= SR_BAR_DB


# The perception-distortion pairs (README, "Perception against distortion"): on each dataset the same ESPCN
# x4 recipe and seed, one with an adversarial loss (weight 0.01). Measured, pixel -> adversarial:
#   mnist, all 10,000 (stored): FD 352.9 -> 259.3, class accuracy 0.895 -> 0.914, SSIM 0.647 -> 0.612;
#          first 500: FD 410.1 -> 313.4, accuracy 0.876 -> 0.906, SSIM 0.637 -> 0.602.
#   fashion-mnist, all 10,000 (stored): FD 277.1 -> 260.9, accuracy 0.667 -> 0.699, SSIM 0.619 -> 0.599;
#          first 500: FD 286.6 -> 270.8, accuracy 0.704 -> 0.708, SSIM 0.627 -> 0.606.
# Bounds per dataset: the FD ratio the adversarial model stays under, and how far its class accuracy
# may sit below the pixel model's (0 on the stored numbers: it must be higher there; on the first 500
# Fashion-MNIST images the two differ by 2 images, so only "not lower by more than 1 %" is asked).
PERCEPTION_PAIRS = {"mnist": (0.85, 0.0), "fashion-mnist": (0.97, 0.01)}


@pytest.mark.parametrize("dataset", sorted(PERCEPTION_PAIRS))
def test_the_adversarial_upscaler_trades_ssim_for_perception(evaluator, dataset):
    from aigc_models.metrics import evaluate_super_resolution

    names = (f"{dataset}-espcn-x4", f"{dataset}-espcn-x4-gan")
    fd_ratio, accuracy_slack = PERCEPTION_PAIRS[dataset]
    pixel, adversarial = (BY_NAME[name] for name in names)
    assert pixel["config"].get("adversarial", 0.0) == 0.0 and adversarial["config"]["adversarial"] == 0.01
    assert adversarial["config"]["scale"] == pixel["config"]["scale"] == 4
    assert adversarial["training"]["seed"] == pixel["training"]["seed"]
    for m, slack in (([BY_NAME[name]["metrics"] for name in names], 0.0),
                     ([evaluate_super_resolution(_model(name), dataset, n=SR_N, evaluator=evaluator(dataset))
                       for name in names], accuracy_slack)):
        assert m[1]["frechet_distance"] < fd_ratio * m[0]["frechet_distance"]  # closer to real images
        assert m[1]["class_accuracy"] > m[0]["class_accuracy"] - slack  # more often the right class (within slack)
        assert m[1]["ssim"] < m[0]["ssim"] - 0.015  # and less like the truth, structure by structure
        assert m[0]["frechet_distance"] < 0.6 * m[0]["bicubic_frechet_distance"]


# ----------------------------------------------------------------------------- PixelCNN
# Bars of issue 15 on the numbers `evaluate --n 10000 --save` stored: the exact test NLL -log p(x) of
# the binarized MNIST test split (binarized once, seed 0; p(x) the mean over the classes of p(x | y))
# within PIXELCNN_NLL_SLACK nats of the published PixelCNN's 81.30 (van den Oord et al. 2016,
# "Pixel Recurrent Neural Networks", arXiv:1601.06759, on Salakhutdinov & Murray's binarization),
# and the class accuracy of conditional samples. Re-measured here: -log p(x | y) on the first
# PIXELCNN_N test images (one network pass each), within PIXELCNN_NLL_SHARE of the stored value on all 10,000.

PIXELCNN_NLL_PUBLISHED, PIXELCNN_NLL_SLACK = 81.30, 5.0
PIXELCNN_CLASS_ACCURACY = 0.95
PIXELCNN_N, PIXELCNN_NLL_SHARE = 500, 0.03  # measured: mnist-pixelcnn 77.57 / 79.48 stored (2.4 % below),
# fashion-mnist-pixelcnn (K = 4) 203.46 / 206.50 (1.5 % below): the first 500 images are a little easier
PIXELCNN_NAMES = [row["name"] for row in SHIPPED if row["family"] == "pixelcnn"]


@pytest.mark.parametrize("name", [n for n in PIXELCNN_NAMES if BY_NAME[n]["config"].get("levels") == 2])
def test_binarized_pixelcnn_likelihood_is_within_5_nats_of_the_published_one(name):
    m = _metrics(name)
    assert m["test_images"] == 10_000 and "binarized once" in m["nll_protocol"]
    assert m["test_nll"] <= PIXELCNN_NLL_PUBLISHED + PIXELCNN_NLL_SLACK, f"{name}: test NLL {m['test_nll']:.2f} nats"
    assert m["test_nll_given_label"] <= m["test_nll"] <= m["test_nll_given_label"] + math.log(10) + 1e-6


@pytest.mark.parametrize("name", [_bar("pixelcnn-accuracy", n) for n in PIXELCNN_NAMES if n.startswith("mnist-")])
def test_mnist_pixelcnn_draws_the_class_it_is_asked_for(name):
    assert _metrics(name)["class_accuracy"] >= PIXELCNN_CLASS_ACCURACY, (
        f"{name}: class accuracy {_metrics(name)['class_accuracy']:.4f}")


@pytest.mark.parametrize("name", PIXELCNN_NAMES)
def test_pixelcnn_likelihood_re_measured_on_the_first_test_images(name):
    from aigc_models.metrics import evaluate_likelihood

    got = evaluate_likelihood(_model(name), BY_NAME[name]["dataset"], marginal=False, n=PIXELCNN_N)
    stored = BY_NAME[name]["metrics"]["test_nll_given_label"]
    assert abs(got["test_nll_given_label"] - stored) <= PIXELCNN_NLL_SHARE * stored, (
        f"{name}: -log p(x | y) {got['test_nll_given_label']:.2f} nats on the first {PIXELCNN_N} test images, "
        f"{stored:.2f} stored for all 10,000")


# The binarized VAE's importance-sampled bound on -log p(x) (k = 100) on the same binarized test split
# as the PixelCNN's exact NLL: it is an upper bound, at most the ELBO's -log p(x) bound, and it is
# re-measured on the first VAE_BOUND_N images (measured: 88.29 against 90.52 stored for all 10,000, 2.5 %
# below: the first images are a little easier, as for the PixelCNNs).
VAE_BOUND_N = 500


def test_the_binarized_vae_bounds_the_same_likelihood_as_the_pixelcnn():
    m = _metrics("mnist-vae-binarized")
    assert BY_NAME["mnist-vae-binarized"]["config"]["binarized"] is True
    assert m["test_images"] == 10_000 and "binarized once" in m["nll_protocol"] and m["importance_samples"] == 100
    assert m["nll_protocol"] == BY_NAME["mnist-pixelcnn"]["metrics"]["nll_protocol"]
    assert m["test_nll_bound"] <= -m["test_elbo"]  # k = 100 importance samples bound it at least as tightly as one
    from aigc_models.metrics import vae_test_nll

    got = vae_test_nll(_model("mnist-vae-binarized"), "mnist", k=100, n=VAE_BOUND_N)["test_nll_bound"]
    assert abs(got - m["test_nll_bound"]) <= PIXELCNN_NLL_SHARE * m["test_nll_bound"], (
        f"bound {got:.2f} nats on the first {VAE_BOUND_N} test images, {m['test_nll_bound']:.2f} stored")
