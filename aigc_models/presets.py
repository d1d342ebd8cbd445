"""Failure presets: one setting each that makes a GAN run fail in a way a student can see, the
cause in one paragraph and the symptom to watch, and a watcher that says when the symptom shows.

Each preset is a set of ``TrainConfig`` fields (``preset_config``) and one symptom
(``SYMPTOMS``); ``SymptomWatch`` folds a run's events (``training.train``) and records the first
step at which the symptom showed, with the number that shows it. The Train tab and
``python -m aigc_models train --preset KEY`` both use them; how often each symptom shows at full
length on this CPU is measured by ``scripts/preset_symptoms.py`` (README, "Failure presets").
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from .metrics import collapse_verdict
from .training import Done, Metrics, Samples, Step, TrainConfig
from .validation import check_choice

IGNORES_Z_SPREAD = 0.12  # per-pixel std across fixed-noise samples below this: G draws one image for every z
# the same measure on 64 random test images in [-1, 1] (seed 0); a healthy 45-s MLP GAN run: 0.30-0.32
REAL_SPREAD = {"mnist": 0.37, "fashion-mnist": 0.52}
COLLAPSE_SHARE = 0.9  # one class this share of fresh samples: collapsed (a healthy run's first minute: 0.6-0.75)
D_AHEAD_GAP = 0.5  # mean D(real) - mean D(fake) above this: D tells them apart (a healthy run: 0.1-0.3)
# A fresh GAN's first steps show every symptom (an untrained G without BatchNorm maps every z near the same
# image; D separates noise from digits at once): symptoms other than divergence count from this step on.
SETTLE_STEPS = 200
# ... and a healthy MLP GAN's first blobs are all classified as one class (8) for longer: in
# scripts/preset_symptoms.py's control runs one class held >= 0.9 of the samples up to step 601 and
# at most 0.84 from step 750 on (3 seeds), so collapse counts from here.
COLLAPSE_FROM = 800
# Samples of the lopsided digits the classifier finds more like their class flipped (metrics.Evaluator.mirrored_share):
# 1,000 MNIST training digits 0.001 as written and 0.999 flipped; the shipped cGAN 0.003 (N = 500). One probe of
# 500 samples is noisy: in two runs of scripts/preset_symptoms.py (3 seeds each) single probes from step 200 on
# of the preset's cGAN read 0.29-0.77 and of the same cGAN without the augmentation up to 0.42, while the mean of
# 3 successive probes stays within 0.38-0.63 and at most 0.30 (README, "Failure presets"). So the symptom is
# that mean at MIRRORED_SHARE or more.
MIRRORED_SHARE = 0.35
MIRRORED_PROBES = 3
SYMPTOMS = ("collapse", "ignores-z", "diverges", "d-ahead", "mirrored")


@dataclass(frozen=True)
class FailurePreset:
    """One way to fail. ``settings``: ``TrainConfig`` fields; ``steps``: the run's length, enough
    for the symptom on this CPU; ``cause`` and ``watch``: a paragraph each (English; the app
    translates them by ``key``); ``symptom``: one of ``SYMPTOMS``."""

    key: str
    title: str
    settings: Mapping[str, Any]
    steps: int
    cause: str
    watch: str
    symptom: str
    dataset: str = "mnist"
    model_options: Mapping[str, Any] = field(default_factory=dict)


PRESETS: dict[str, FailurePreset] = {p.key: p for p in (
    FailurePreset(
        key="documents-as-written", title="The documents' GAN as written",
        settings={"model": "mlp-gan", "betas": (0.9, 0.999), "reals_in_unit": True},
        model_options={"g_batchnorm": False, "d_dropout": 0.0},
        steps=1500, symptom="collapse",
        cause="The source document's MLP GAN exactly as printed: real images from ToTensor() in [0, 1] while G "
              "ends in Tanh in [-1, 1] (any negative pixel marks a fake), Sigmoid + BCE, Adam's default betas "
              "(0.9, 0.999), no normalisation in G and no dropout in D.",
        watch="Every sample is the same blurry shape, and it stays that way: past step 800 the class histogram "
              "still puts all samples in one class, where a healthy run has spread over the classes by then. G "
              "found one image that passes and stays there (mode collapse)."),
    FailurePreset(
        key="no-normalisation-in-g", title="No normalisation in G",
        settings={"model": "mlp-gan"}, model_options={"g_batchnorm": False},
        steps=1000, symptom="ignores-z",
        cause="The lab's MLP GAN with one change: no BatchNorm between G's hidden layers (the document's G). "
              "Nothing keeps the hidden activations spread out, and G learns faster by ignoring z.",
        watch="All 64 fixed-noise samples look alike although each has its own z: the per-pixel spread across "
              "them falls far below that of real images, and one class fills the histogram."),
    FailurePreset(
        key="learning-rate-too-high", title="Learning rate far too high",
        settings={"model": "mlp-gan", "lr_g": 0.5, "lr_d": 0.5},
        steps=1000, symptom="diverges",
        cause="The lab's MLP GAN with both learning rates at 0.5 instead of 0.0002: each Adam step moves every "
              "weight by up to 0.5, far past any minimum.",
        watch="The losses jump by orders of magnitude and the run stops by itself, saying why (a loss became "
              "NaN or infinite, or D won outright). The samples go flat grey or saturate."),
    FailurePreset(
        key="d-much-faster-than-g", title="D learns far faster than G",
        settings={"model": "mlp-gan", "lr_g": 2e-5, "lr_d": 2e-3}, model_options={"d_dropout": 0.0},
        steps=1500, symptom="d-ahead",
        cause="D's learning rate 100 times G's (2e-3 against 2e-5) and no dropout in D: D learns to separate "
              "real from fake long before G can follow.",
        watch="On the right-hand plot D's mean score on real images climbs towards 0.9 and on fakes falls "
              "towards 0.2 and they stay apart (in a healthy run both hover near 0.5); G's loss climbs, and the "
              "slow G settles on one kind of image."),
    FailurePreset(
        key="reals-only-augmentation", title="Augmenting the real images only",
        settings={"model": "cgan", "real_augment": True, "lr_g": 1e-3, "lr_d": 1e-3},
        model_options={"g_channels": 32, "d_channels": 32},
        steps=1000, symptom="mirrored",
        cause="The documents' augmentation (random horizontal flip, rotation up to 15 degrees, colour jitter, "
              "scale) applied to the real images only, as the documents do, on the lab's fast cGAN. D is shown "
              "mirrored and tilted digits as real, so G is rewarded for drawing them: the augmentation leaks into "
              "what G learns.",
        watch="Mirrored digits in the grid (each row is one class): 3s drawn as an ε, 2s, 4s, 7s and 9s facing "
              "the wrong way. The classifier finds about half the samples of the lopsided digits more like their "
              "class when flipped back; real digits score 0, and the same cGAN without the augmentation stays "
              "mostly below 0.3."),
)}


def check_preset(key: object) -> FailurePreset:
    """The preset named ``key``; ``ValueError`` naming the presets otherwise."""
    return PRESETS[check_choice(key, "preset", tuple(PRESETS))]


def preset_config(key: str, *, dataset: str | None = None, seed: int = 0, **overrides: Any) -> TrainConfig:
    """A validated ``TrainConfig`` for preset ``key``: the preset's settings, model options and
    steps on ``dataset`` (the preset's own by default) with ``seed``; ``overrides`` (any other
    field, e.g. ``out``, ``max_seconds``, ``steps``) win, and ``overrides['model_options']`` is
    merged over the preset's."""
    preset = check_preset(key)
    options = {**preset.model_options, **overrides.pop("model_options", {})}
    settings = {**preset.settings, "dataset": dataset or preset.dataset, "steps": preset.steps, "seed": seed,
                "model_options": options, **overrides}
    cfg = TrainConfig.for_family(settings.pop("model"), **settings)
    return cfg.validate()


def control_config(seed: int = 0, *, steps: int = 1500, **overrides: Any) -> TrainConfig:
    """The healthy run the presets are measured against: the MLP GAN's defaults on MNIST (G with
    BatchNorm, D with dropout, Adam (0.5, 0.999), lr 2e-4, reals in [-1, 1]), validated."""
    return TrainConfig.for_family("mlp-gan", **{"dataset": "mnist", "steps": steps, "seed": seed, **overrides}).validate()


def sample_spread(images: torch.Tensor) -> float:
    """How much samples drawn from different z differ: the per-pixel standard deviation across the
    batch ``(N, 1, 28, 28)`` in [-1, 1], averaged over the pixels (0 = all identical; real MNIST
    test images: about ``REAL_SPREAD``)."""
    return float(images.float().std(0).mean()) if len(images) > 1 else 0.0


@dataclass
class SymptomWatch:
    """Folds a run's events and says whether ``symptom`` (one of ``SYMPTOMS``) has shown:
    ``seen_at`` is the first step it showed (None while not), ``evidence`` one sentence with the
    number that shows it, from step ``SETTLE_STEPS`` on (``COLLAPSE_FROM`` for collapse;
    divergence at any step). The class histogram needs an evaluator in the run
    (``metrics.HistogramProbe``)."""

    symptom: str
    dataset: str = "mnist"
    seen_at: int | None = None
    evidence: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # the numbers in ``evidence``, with the step
    last: dict[str, float] = field(default_factory=dict)
    shares: list[float] = field(default_factory=list)  # the mirrored shares seen since the symptom counts

    def __post_init__(self) -> None:
        self.symptom = check_choice(self.symptom, "symptom", SYMPTOMS)

    @property
    def seen(self) -> bool:
        return self.seen_at is not None

    def update(self, event: Any) -> bool:
        """Take one event; True when this event showed the symptom for the first time."""
        if self.seen:
            return False
        found = self._check(event)
        if found:
            self.seen_at, self.facts = event.step, {"step": event.step, **found}
            self.evidence = EVIDENCE[self.symptom].format(**self.facts)
        return bool(found)

    def _check(self, event: Any) -> dict[str, Any]:
        """The numbers that show the symptom in ``event`` (the ``EVIDENCE`` template's fields), or {}."""
        kind = self.symptom
        settle = COLLAPSE_FROM if kind == "collapse" else SETTLE_STEPS
        if isinstance(event, (Step, Samples, Metrics)) and event.step < settle:
            return {}
        if isinstance(event, Step):
            self.last = {k: float(v) for k, v in event.losses.items()}
            d_real, d_fake = self.last.get("d_real"), self.last.get("d_fake")
            if kind == "d-ahead" and d_real is not None and d_real - d_fake > D_AHEAD_GAP:
                return {"d_real": d_real, "d_fake": d_fake, "gap": D_AHEAD_GAP}
        elif isinstance(event, Samples) and kind == "ignores-z":
            spread = sample_spread(event.images)
            if spread < IGNORES_Z_SPREAD:
                return {"spread": spread, "real": REAL_SPREAD.get(self.dataset, REAL_SPREAD["mnist"])}
        elif isinstance(event, Metrics) and kind == "collapse" and "class_histogram" in event.metrics:
            verdict = collapse_verdict(event.metrics["class_histogram"])
            if verdict["top_share"] >= COLLAPSE_SHARE:
                return {"share": verdict["top_share"], "top_class": verdict["top_class"],
                        "covered": verdict["covered"], "classes": verdict["classes"]}
        elif isinstance(event, Metrics) and kind == "mirrored" and "mirrored_share" in event.metrics:
            self.shares.append(float(event.metrics["mirrored_share"]))
            recent = self.shares[-MIRRORED_PROBES:]
            if len(recent) == MIRRORED_PROBES and sum(recent) / len(recent) >= MIRRORED_SHARE:
                return {"share": sum(recent) / len(recent), "probes": MIRRORED_PROBES, "threshold": MIRRORED_SHARE}
        elif isinstance(event, Done) and event.reason == "diverged" and kind == "diverges":
            # "Training stopped at step 550: the discriminator wins outright (...), so ..." -> the cause alone
            cause = re.split(r" \(|, so ", event.message.split(":", 1)[-1])[0].strip().rstrip(",.")
            return {"cause": cause, "d_wins": "wins outright" in cause}
        return {}


# The sentence each symptom is reported in, from ``SymptomWatch.facts`` (the app has them in Chinese too)
EVIDENCE = {
    "d-ahead": ("at step {step:,} D scores real images {d_real:.2f} and fakes {d_fake:.2f} on average: it tells "
                "them apart (a gap over {gap}) and G cannot catch up."),
    "ignores-z": ("at step {step:,} the fixed-noise samples differ by {spread:.3f} per pixel (real images: about "
                  "{real}): G draws nearly one image whatever z is."),
    "collapse": ("at step {step:,} {share:.0%} of fresh samples are classified as one class (class {top_class}), "
                 "{covered} of {classes} classes show up: mode collapse."),
    "diverges": "the run stopped by itself at step {step:,}: {cause}.",
    "mirrored": ("by step {step:,} the classifier finds {share:.0%} of the samples of lopsided digits (2, 3, 4, 5, 6, "
                 "7, 9) more like their class when flipped left to right (the mean of the last {probes} class "
                 "probes; real digits: 0%; the alarm at {threshold:.0%}): G draws the mirrored digits the "
                 "augmentation showed D."),
}


def watch_for(key: str, dataset: str = "mnist") -> SymptomWatch:
    """A fresh ``SymptomWatch`` for preset ``key``'s symptom on ``dataset``."""
    return SymptomWatch(check_preset(key).symptom, dataset)


def describe(key: str) -> dict[str, Any]:
    """Preset ``key`` as plain data (what the app shows and the CLI prints)."""
    preset = check_preset(key)
    return {**dataclasses.asdict(preset), "settings": dict(preset.settings), "model_options": dict(preset.model_options)}


__all__ = [
    "COLLAPSE_FROM",
    "COLLAPSE_SHARE",
    "D_AHEAD_GAP",
    "IGNORES_Z_SPREAD",
    "MIRRORED_PROBES",
    "MIRRORED_SHARE",
    "PRESETS",
    "REAL_SPREAD",
    "SETTLE_STEPS",
    "SYMPTOMS",
    "FailurePreset",
    "SymptomWatch",
    "check_preset",
    "control_config",
    "describe",
    "preset_config",
    "sample_spread",
    "watch_for",
]
