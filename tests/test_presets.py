"""Failure presets (aigc_models/presets.py): the settings each one trains with, the watcher that
says when its symptom shows, each symptom showing at small scale for 3 seeds of 3, and the
CLI and Train-tab faces."""

from __future__ import annotations

import pytest
import torch

from aigc_models import presets
from aigc_models.presets import (
    COLLAPSE_FROM,
    PRESETS,
    SETTLE_STEPS,
    SymptomWatch,
    preset_config,
)
from aigc_models.training import (
    Done,
    Metrics,
    Samples,
    Step,
    TrainConfig,
    nan_message,
    train,
)

# a small MLP GAN: each preset's symptom shows within its steps in a few seconds a seed on one core
SMALL = {"g_hidden": (64, 128), "d_hidden": (128,), "latent_dim": 16}


def step(n: int, **losses: float) -> Step:
    return Step(n, 1000, losses, 100.0, 1.0, 10.0)


def histogram(top: float) -> list[float]:
    rest = (1 - top) / 9
    return [top] + [rest] * 9


# ----------------------------------------------------------------------------- the settings


@pytest.mark.parametrize("key", PRESETS)
def test_each_preset_trains_with_its_own_settings(key):
    preset = PRESETS[key]
    cfg = preset_config(key, seed=3)
    assert isinstance(cfg, TrainConfig) and cfg.seed == 3 and cfg.steps == preset.steps
    for name, value in preset.settings.items():
        assert getattr(cfg, name) == (tuple(value) if isinstance(value, tuple) else value), name
    assert cfg.model_options.items() >= dict(preset.model_options).items()
    assert preset.symptom in presets.SYMPTOMS and preset.cause and preset.watch


def test_the_documents_preset_is_the_documents_code():
    cfg = preset_config("documents-as-written")
    assert cfg.reals_in_unit and cfg.adam_betas() == (0.9, 0.999)
    assert cfg.model_options["g_batchnorm"] is False and cfg.model_options["d_dropout"] == 0.0
    assert presets.control_config().reals_in_unit is False  # the healthy run it is measured against


def test_given_settings_win_and_model_options_merge():
    cfg = preset_config("no-normalisation-in-g", steps=7, lr_g=1e-3, model_options={"latent_dim": 8})
    assert (cfg.steps, cfg.lr_g) == (7, 1e-3)
    assert cfg.model_options == {"g_batchnorm": False, "latent_dim": 8}


def test_an_unknown_preset_or_a_bad_setting_is_refused_in_one_sentence():
    with pytest.raises(ValueError, match=r"^Unknown preset 'nope'; choose one of: documents-as-written, "):
        preset_config("nope")
    with pytest.raises(ValueError, match="steps"):
        preset_config("learning-rate-too-high", steps=0)
    with pytest.raises(ValueError, match="symptom"):
        SymptomWatch("boredom")


@pytest.mark.parametrize("unit", [False, True])
def test_reals_in_unit_feeds_d_the_real_images_in_0_1(unit, monkeypatch):
    """The documents' ToTensor() range: with ``reals_in_unit`` D's real batch lies in [0, 1]
    (MNIST's background at 0), without it in [-1, 1] (background at -1)."""
    from aigc_models.models.mlp_gan import MLPGAN

    seen: list[torch.Tensor] = []
    original = MLPGAN.discriminate

    def spy(self, images, labels=None):
        seen.append(images.detach())
        return original(self, images, labels)

    monkeypatch.setattr(MLPGAN, "discriminate", spy)
    cfg = TrainConfig.for_family("mlp-gan", steps=1, batch_size=8, device="cpu", reals_in_unit=unit,
                                 model_options=SMALL, sample_every=10, log_every=1).validate()
    list(train(cfg))
    real = seen[0]  # the D phase scores the real batch first
    assert real.shape == (8, 1, 28, 28)
    assert float(real.min()) == (0.0 if unit else -1.0) and float(real.max()) <= 1.0


# ----------------------------------------------------------------------------- the watcher


def test_the_watcher_sees_each_symptom_and_not_a_healthy_run():
    real_like = torch.rand(64, 1, 28, 28) * 2 - 1  # differ by ~0.58 per pixel
    one_image = torch.rand(1, 1, 28, 28).expand(64, 1, 28, 28) + 0.01 * torch.randn(64, 1, 28, 28)
    later = COLLAPSE_FROM + 20
    cases = {
        "ignores-z": (Samples(later, one_image, None), Samples(later, real_like, None)),
        "collapse": (Metrics(later, {"class_histogram": histogram(0.95)}),
                     Metrics(later, {"class_histogram": histogram(0.7)})),
        "d-ahead": (step(later, d_real=0.9, d_fake=0.2), step(later, d_real=0.55, d_fake=0.45)),
        "diverges": (Done(later, 5.0, "diverged", None, nan_message(later, "loss_d")), Done(later, 5.0, "steps", None)),
    }
    for symptom, (sick, healthy) in cases.items():
        watch = SymptomWatch(symptom)
        assert not watch.update(healthy) and not watch.seen, symptom
        assert watch.update(sick) and watch.seen_at == later and str(later) in watch.evidence, symptom
        assert not watch.update(sick)  # the first sighting is the one kept


def test_mirrored_digits_are_the_mean_of_the_last_probes_over_the_alarm():
    """One probe of 500 samples is noisy (a healthy cGAN's single probes reach 0.42): the symptom is
    the mean of the last MIRRORED_PROBES probes at MIRRORED_SHARE or more."""
    watch = SymptomWatch("mirrored")
    healthy = [0.2, 0.42, 0.41, 0.03, 0.2]  # single probes over the alarm, no mean of three over it
    for i, share in enumerate(healthy):
        assert not watch.update(Metrics(SETTLE_STEPS + 100 * i, {"mirrored_share": share}))
    watch = SymptomWatch("mirrored")
    assert not watch.update(Metrics(300, {"mirrored_share": 0.6}))
    assert not watch.update(Metrics(400, {"mirrored_share": 0.3}))
    assert watch.update(Metrics(500, {"mirrored_share": 0.45}))
    assert watch.seen_at == 500 and "45%" in watch.evidence and "the last 3 class probes" in watch.evidence
    assert not SymptomWatch("mirrored").update(Metrics(500, {"class_histogram": histogram(0.1)}))  # none measured


def test_symptoms_count_only_after_the_first_steps():
    """A fresh G maps every z near one image, D separates noise from digits at once and a healthy
    run's first blobs all look like one class: that is not yet a symptom (divergence is, at any step)."""
    early = SETTLE_STEPS - 1
    one_image = torch.zeros(64, 1, 28, 28)
    for symptom, event in {"ignores-z": Samples(early, one_image, None),
                           "collapse": Metrics(COLLAPSE_FROM - 1, {"class_histogram": histogram(1.0)}),
                           "d-ahead": step(early, d_real=1.0, d_fake=0.0),
                           "mirrored": Metrics(early, {"mirrored_share": 0.9})}.items():
        assert not SymptomWatch(symptom).update(event), symptom
    watch = SymptomWatch("diverges")
    assert watch.update(Done(3, 0.1, "diverged", None, nan_message(3, "loss_g")))
    assert watch.evidence == "the run stopped by itself at step 3: loss_g became NaN or infinite."


# ----------------------------------------------------------------------------- small-scale runs


@pytest.fixture(scope="module")
def probe():
    from aigc_models import metrics
    from aigc_models.checkpoints import SHIPPED_DIR, load_checkpoint

    evaluator = metrics.Evaluator(load_checkpoint(SHIPPED_DIR / "mnist-classifier"), "mnist")
    return lambda: metrics.HistogramProbe(evaluator, n=200)


def watched_run(cfg: TrainConfig, watches: list[SymptomWatch], probe) -> None:
    run = train(cfg, evaluator=probe())
    try:
        for event in run:
            for watch in watches:
                watch.update(event)
            if all(w.seen for w in watches):
                break
    finally:
        run.close()


# the cGAN preset at a smaller width; the MLP GAN presets at SMALL
SMALL_OPTIONS = {"cgan": {"g_channels": 16, "d_channels": 16}}


@pytest.mark.slow
@pytest.mark.parametrize("key", PRESETS)
def test_each_preset_shows_its_symptom_for_three_seeds_of_three(key, probe):
    symptom = PRESETS[key].symptom
    small = SMALL_OPTIONS.get(PRESETS[key].settings["model"], SMALL)
    for seed in range(3):  # only what the symptom is seen in: the class histogram and the sample grids cost
        cfg = preset_config(key, seed=seed, device="cpu", batch_size=32, model_options=small, log_every=5,
                            sample_every=20 if symptom == "ignores-z" else 10**6,
                            eval_every=100 if symptom in ("collapse", "mirrored") else 0)
        watch = presets.watch_for(key)
        watched_run(cfg, [watch], probe)
        assert watch.seen, f"{key}, seed {seed}: no {watch.symptom} in {cfg.steps} steps"
        assert watch.seen_at <= cfg.steps


@pytest.mark.slow
def test_the_same_cgan_without_the_augmentation_draws_few_mirrored_digits(probe):
    """The control for the mirrored symptom: the preset's cGAN, as small as in the test above, with the
    real images as they are. Its samples of lopsided digits stay below the alarm at steps 200, 400
    and 600 (the augmented run crosses it by step 200)."""
    shares = []
    cfg = preset_config("reals-only-augmentation", seed=0, device="cpu", batch_size=32, real_augment=False, steps=600,
                        model_options=SMALL_OPTIONS["cgan"], log_every=50, sample_every=10**6, eval_every=200)
    for event in train(cfg, evaluator=probe()):
        if isinstance(event, Metrics):
            shares.append(event.metrics["mirrored_share"])
    assert len(shares) == 3 and max(shares) < presets.MIRRORED_SHARE, shares


@pytest.mark.slow
def test_the_healthy_run_shows_none_of_the_other_symptoms(probe):
    """The same small MLP GAN with its defaults: no divergence, no z ignored, D not far ahead in 600
    steps. (Its early samples do fall in one class, as a fresh GAN's blobs do, which is why the
    collapse symptom is measured against the healthy run at full size: README.)"""
    watches = [SymptomWatch(s) for s in ("ignores-z", "diverges", "d-ahead")]
    watched_run(presets.control_config(0, steps=600, device="cpu", batch_size=32, model_options=SMALL, log_every=5,
                                       sample_every=20), watches, probe)
    assert not any(w.seen for w in watches), [w.evidence for w in watches if w.seen]


# ----------------------------------------------------------------------------- the CLI


def test_cli_train_with_a_preset_says_when_the_symptom_shows(tmp_path, capsys):
    from aigc_models import cli

    code = cli.main(["train", "--preset", "d-much-faster-than-g", "--steps", "220", "--batch-size", "32", "--device",
                     "cpu", "--quiet", "--log-every", "5", "--option", "g_hidden=[64,128]", "--option", "d_hidden=[128]",
                     "--option", "latent_dim=16", "--out", str(tmp_path / "run")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "symptom (D learns far faster than G): at step" in out.out + out.err
    config = (tmp_path / "run" / "config.json").read_text()
    assert '"lr_d": 0.002' in config and '"d_dropout": 0.0' in config  # the preset's settings, recorded


@pytest.mark.parametrize("argv, message", [
    (["train"], "train needs --model (one of: mlp-gan"),
    (["train", "--preset", "nope"], "Unknown preset 'nope'"),
    (["train", "--preset", "d-much-faster-than-g", "--model", "dcgan"], "trains the mlp-gan model, not 'dcgan'"),
])
def test_cli_refuses_a_missing_model_or_a_wrong_preset(argv, message, capsys):
    from aigc_models import cli

    assert cli.main(argv) == 2  # the CLI's exit status for a refused command line
    assert message in capsys.readouterr().err
