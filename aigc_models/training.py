"""``train(config) -> Iterator[Event]``: one loop for every model family.

The trainer knows objectives ("gan", "elbo", "denoising", "cross-entropy", "autoregressive"), never families: a
GAN is anything with ``generate``/``discriminate``, and the rest is the model's
business (compare minGPT's trainer).

A run is a generator of events. Iterate it to train; ``close()`` it to abort
(nothing is written after the last completed save, earlier files stay intact);
pass ``stop=`` a callable returning True to end early *and* save.
Losses are accumulated on the device and read back only every ``log_every``
steps, so there is no host-device sync per step.

A run that fails stops by itself with ``Done(reason="diverged")`` and a
plain-language ``message``: when a loss becomes NaN or infinite, or when a
GAN's D wins outright for ``stop_if_d_wins_for`` steps. Diverged weights are
never saved; with ``save_every`` the last good checkpoint stays at ``out``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from . import data as data_mod
from .augment import parse_policy
from .checkpoints import (SHIPPED_DIR, CheckpointError, check_model_options, expected_shapes, finite_weights,
                          load_checkpoint, read_meta, save_checkpoint)
from .configs import bounded, bounds_of, field_type
from .losses import GAN_LOSSES
from .models import DEFAULT_FAMILY, REGISTRY, build_model, check_family, make_config
from .models.diffusion import LIVE_SAMPLE_STEPS
from .pictures import load_pictures
from .objectives import (EMA, OBJECTIVES, ClassifierObjective, DiffusionObjective, GANObjective,  # noqa: F401 - re-exported
                         VAEObjective, adam, recalibrate_batchnorm, scale_learning_rates)
from .validation import MAX_SEED, check_choice, check_float, check_int, check_optional_float, show

# ----------------------------------------------------------------------------- config

MAX_STEPS = 10**9  # the CLI's "until --max-seconds" value
MAX_SECONDS = 10**7  # about 115 days
FREEZE_CHOICES = ("none", "g-early", "d-early")
MAX_BATCH_SIZE = 4096  # a 28 x 28 batch this size already fills a GPU; larger ones only run out of memory
DEVICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """Everything a run needs. Each setting carries its bounds and help (``configs.bounded``):
    ``validate`` checks them, the CLI builds its flags from them and the app's Train tab takes
    its limits from them (``setting_bounds``), so the three cannot drift apart."""

    model: str = DEFAULT_FAMILY
    dataset: str = "mnist"
    model_options: dict[str, Any] = field(default_factory=dict)
    steps: int = bounded(2000, lo=1, hi=MAX_STEPS, help="training steps (unlimited with --max-seconds alone)")
    max_seconds: float | None = bounded(None, lo=0, hi=MAX_SECONDS, help="wall-time limit in seconds (None = none)")
    batch_size: int = bounded(64, lo=1, hi=MAX_BATCH_SIZE, help="images per step")
    lr_g: float = bounded(2e-4, lo=0, hi=1, lo_open=True, help="learning rate of a GAN's generator")
    lr_d: float = bounded(2e-4, lo=0, hi=1, lo_open=True, help="learning rate of a GAN's discriminator")
    lr: float = bounded(1e-3, lo=0, hi=1, lo_open=True, help="learning rate of the other families (VAE, diffusion, classifier)")
    lr_schedule: str = bounded("constant", choices=LR_SCHEDULES,
                               help="constant, or cosine: every learning rate falls from its value to 0 along a half "
                                    "cosine over the run (its steps or --max-seconds, whichever ends it first)")
    betas: tuple[float, float] | None = None  # None: (0.5, 0.999) for GANs, (0.9, 0.999) otherwise
    loss: str = bounded("ns", choices=GAN_LOSSES, help="GAN loss: ns (non-saturating, logits) or hinge")
    r1: float = bounded(0.0, lo=0, hi=1e4, label="r1 (0 = off)",
                        help="R1 penalty weight gamma on D's gradient at real images (0 = off; Mescheder et al. 2018)")
    r1_every: int = bounded(16, lo=1, hi=MAX_STEPS, help="apply R1 every N D steps, scaled by N (lazy regularisation)")
    seed: int = bounded(0, lo=0, hi=MAX_SEED, help="random seed of the run")
    device: str = bounded("auto", choices=DEVICES, help="auto (a GPU when there is one), cpu or cuda")
    amp: bool = True  # bf16 autocast, CUDA only
    ema: float = bounded(0.0, lo=0, hi=1, hi_open=True, help="EMA decay of G's weights (0 = off; 0.999 typical)")
    diffaugment: str = ""  # e.g. "translation,cutout"
    real_augment: bool = False  # the documents' reals-only augmentation (a lesson, not a fix)
    reals_in_unit: bool = False  # the documents' ToTensor() reals in [0, 1] against G's Tanh in [-1, 1] (a lesson)
    init_from: str | None = None  # checkpoint to resume / fine-tune from (weights only)
    freeze: str = bounded("none", choices=FREEZE_CHOICES,
                          help="with --init-from, a GAN's layers kept as loaded: g-early (the first half of G's "
                               "layers) or d-early (the first half of D's: FreezeD, Mo et al. 2020)")
    subset: int = bounded(0, lo=0, hi=60_000, label="subset (0 = all)",
                          help="train on this many images, the same number from each class, drawn by the seed "
                               "(few-shot transfer; 0 = the whole training split)")
    pictures: str | None = None  # your own pictures instead of the dataset: a zip, a folder or a saved set (aigc_models.pictures)
    out: str | None = None  # checkpoint folder written at the end (and every save_every steps)
    save_every: int = bounded(0, lo=0, hi=MAX_STEPS, label="save_every (0 = only at the end)",
                              help="steps between saves to --out while the run is healthy (0 = only at the end)")
    stop_if_d_wins_for: int = bounded(500, lo=0, hi=MAX_STEPS, label="stop_if_d_wins_for (0 = never)",
                                      help="GAN runs stop after this many steps of D winning outright (0 = never)")
    log_every: int = bounded(50, lo=1, hi=MAX_STEPS, help="steps between loss reports")
    sample_every: int = bounded(250, lo=1, hi=MAX_STEPS, help="steps between sample grids")
    eval_every: int = bounded(0, lo=0, hi=MAX_STEPS, label="eval_every (0 = off)", help="steps between evaluations (0 = off)")
    eval_seconds: float = bounded(0.0, lo=0, hi=MAX_SECONDS, label="eval_seconds (0 = off)",
                                  help="also evaluate when this many seconds have passed since the last evaluation (0 = off)")
    command: str | None = None  # recorded in the model card

    @classmethod
    def for_family(cls, model: str, **settings: Any) -> TrainConfig:
        """A config for ``model`` whose unset fields take the family's own ``train_defaults`` (a
        diffusion model trains at batch 128, lr 2e-3 with EMA) and then the dataclass's; ``settings``
        win. Not validated yet (``validate``)."""
        return cls(model=model, **{**REGISTRY[check_family(model)].train_defaults, **settings})

    def validate(self) -> TrainConfig:
        """Check every field a caller can get wrong and normalise its type in place (``64.0`` -> 64).

        Raises ``ValueError`` with one sentence naming the field and its allowed range or
        choices; returns ``self``. ``train`` calls it first, before touching data or devices.
        """
        self.model = check_family(self.model)
        if not isinstance(self.dataset, str):
            raise ValueError(f"Unknown dataset {self.dataset!r:.80}. Known datasets: {', '.join(data_mod.DATASETS)}.")
        self.dataset = data_mod.check_dataset_name(self.dataset)
        if not isinstance(self.model_options, dict):
            raise ValueError(f"model_options must be a dict of the model's config fields, got {show(self.model_options)}.")
        check_model_options(self.model, {k: v for k, v in self.model_options.items() if k != "dataset"})
        for f in dataclasses.fields(self):
            if bounds_of(f):
                setattr(self, f.name, check_setting(f.name, getattr(self, f.name)))
        if self.betas is not None:
            if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
                raise ValueError(f"betas must be None or two numbers (beta1, beta2), each at least 0 and "
                                 f"less than 1, got {show(self.betas)}.")
            self.betas = tuple(check_float(b, name, lo=0, hi=1, hi_open=True)
                               for b, name in zip(self.betas, ("beta1", "beta2")))
        parse_policy(self.diffaugment)
        if self.subset and self.subset < data_mod.NUM_CLASSES:
            raise ValueError(f"subset (0 = all) must be 0 or at least {data_mod.NUM_CLASSES} (one image per class), "
                             f"got {self.subset}.")
        if self.pictures is not None:
            if not isinstance(self.pictures, str) or not self.pictures.strip():
                raise ValueError(f"pictures must be the path of a zip, a folder of images or a saved picture set, "
                                 f"got {show(self.pictures)}.")
            if self.subset:
                raise ValueError("subset draws from the dataset's training split; with pictures (your own) leave it 0.")
            if not os.path.exists(self.pictures):
                raise ValueError(f"pictures: no file or folder at {show(self.pictures)}.")
        if self.lr_schedule != "constant" and REGISTRY[self.model].objective == "cross-entropy":
            raise ValueError(f"lr_schedule {self.lr_schedule}: the classifier follows its own one-cycle schedule; "
                             "leave it constant.")
        if self.freeze != "none":
            if not self.init_from:
                raise ValueError(f"freeze {self.freeze} keeps layers as a checkpoint trained them: give --init-from "
                                 "(a fresh model's random layers are not worth keeping).")
            if not REGISTRY[self.model].can("discriminate"):
                raise ValueError(f"freeze {self.freeze} applies to GANs (a generator and a discriminator); "
                                 f"{self.model} has none.")
        return self

    def adam_betas(self) -> tuple[float, float]:
        """``betas``, or the family's default: (0.5, 0.999) for GANs (the DCGAN paper's), (0.9, 0.999) otherwise."""
        if self.betas is not None:
            return tuple(self.betas)
        return (0.5, 0.999) if REGISTRY[self.model].objective == "gan" else (0.9, 0.999)


def setting_bounds(name: str) -> dict[str, Any]:
    """A training setting's bounds and help as declared on ``TrainConfig``: lo, hi, lo_open, hi_open,
    choices, help, label, and its default."""
    f = {f.name: f for f in dataclasses.fields(TrainConfig)}[name]
    return {**bounds_of(f), "default": f.default}


def check_setting(name: str, value: Any) -> Any:
    """``value`` for training setting ``name`` in its plain type, or ``ValueError`` naming the
    allowed range or choices (the same sentence for the CLI, the app and a script)."""
    b = setting_bounds(name)
    label = b.get("label") or name
    if b.get("choices"):
        return check_choice(value, label, b["choices"])
    kind = field_type(TrainConfig, name)
    if kind is int:
        return check_int(value, label, lo=b["lo"], hi=b["hi"])
    if kind is float:
        return check_float(value, label, lo=b["lo"], hi=b["hi"], lo_open=b["lo_open"], hi_open=b["hi_open"])
    return check_optional_float(value, label, lo=b["lo"], hi=b["hi"], lo_open=b["lo_open"], hi_open=b["hi_open"],
                                none_means="no time limit")


RECIPE_FIELDS = ("model_options", "batch_size", "lr_g", "lr_d", "lr", "lr_schedule", "betas", "loss", "r1", "r1_every",
                 "ema", "diffaugment")


LIVE_HISTOGRAM_SECONDS = 4.0  # a live view's class histogram, at most this often (times the family's live_cost)


def live_view_settings(family: str, *, cpu: bool) -> dict[str, Any]:
    """How often a run watched live (the app's Train tab, ``bench --watchable``) reports: losses
    every 5 steps on a CPU (25 on a GPU, where steps are faster than a page can show), a sample
    grid every 20 (200), a class histogram every 4 s; a family ``live_cost`` times dearer to sample
    (diffusion) draws its grid and histogram that many times less often."""
    cost = REGISTRY[check_family(family)].live_cost
    return {"log_every": 5 if cpu else 25, "sample_every": (20 if cpu else 200) * cost,
            "eval_seconds": LIVE_HISTOGRAM_SECONDS * cost}


def shipped_recipe(family: str, dataset: str) -> TrainConfig:
    """The settings that trained the shipped checkpoint ``<dataset>-<family>``: a validated
    ``TrainConfig`` with its ``RECIPE_FIELDS`` (model options, batch size, learning rates,
    betas, loss, R1, EMA, DiffAugment, learning-rate schedule) read from that checkpoint's config.json, and the
    family's defaults (``TrainConfig.for_family``) for every other field (steps, time limit, seed, device, output) and wherever
    nothing is shipped or the record does not validate. A recipe field the record lacks was
    recorded before the field existed, when the run behaved as its ``TrainConfig`` default: that
    default, not the family's. The model options are the recorded ones plus every field of the
    checkpoint's model config that differs from today's default (a default changed since, such as
    diffusion's ``time_sampling``, must not change what the recipe trains). Raises ``ValueError``
    for an unknown family or dataset."""
    cfg = TrainConfig.for_family(check_family(family), dataset=data_mod.check_dataset_name(dataset))
    try:
        meta = read_meta(SHIPPED_DIR / f"{cfg.dataset}-{cfg.model}")
        recorded = dict(meta["training"]["train_config"])
        recorded["model_options"] = {**changed_model_fields(cfg.model, meta["config"]),
                                     **recorded.get("model_options", {})}
        before = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.name in RECIPE_FIELDS
                  and f.default is not dataclasses.MISSING}
        return dataclasses.replace(cfg, **{k: recorded.get(k, before.get(k, getattr(cfg, k))) for k in RECIPE_FIELDS}
                                   ).validate()
    except (CheckpointError, KeyError, TypeError, ValueError):
        return cfg.validate()


def changed_model_fields(family: str, config: dict[str, Any]) -> dict[str, Any]:
    """The fields of a saved model ``config`` whose values differ from ``family``'s defaults for
    its dataset today (lists and tuples compared alike), ``dataset`` left out."""
    default = dataclasses.asdict(make_config(family, dataset=config["dataset"]))
    plain = lambda value: list(value) if isinstance(value, (list, tuple)) else value  # noqa: E731
    return {k: v for k, v in config.items() if k != "dataset" and k in default and plain(v) != plain(default[k])}


def lr_factor(schedule: str, progress: float) -> float:
    """The share of each configured learning rate that ``schedule`` applies at ``progress`` (0 at
    the start of a run, 1 at its end): 1 throughout for ``constant``; for ``cosine``
    (Loshchilov & Hutter 2017, SGDR, without restarts) ``(1 + cos(pi * progress)) / 2``, from 1 to 0."""
    if check_choice(schedule, "lr_schedule", LR_SCHEDULES) == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


def run_progress(step: int, steps: int, elapsed: float, max_seconds: float | None) -> float:
    """How far a run is, 0..1: the larger of its share of ``steps`` done and of ``max_seconds``
    spent, since whichever is used up first ends it."""
    done = step / steps
    return min(max(done, elapsed / max_seconds) if max_seconds else done, 1.0)


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda if available else cpu; 'cuda' without a GPU raises a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but PyTorch sees no CUDA GPU here. Use --device cpu or auto.")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"Unknown device {name!r}; use auto, cpu or cuda.")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    """Human-readable device: the GPU's name or 'CPU (N threads)'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"


# ----------------------------------------------------------------------------- events


@dataclass
class Started:
    config: TrainConfig
    device: str
    parameters: int


@dataclass
class Step:
    step: int
    total_steps: int
    losses: dict[str, float]  # mean over the last log_every steps
    images_per_second: float
    elapsed: float
    eta: float  # seconds left (steps or time limit, whichever ends first)


@dataclass
class Samples:
    step: int
    images: torch.Tensor  # (N, 1, 28, 28) float in [-1, 1], CPU, from fixed noise
    labels: torch.Tensor | None  # (N,) for conditional models


@dataclass
class Metrics:
    step: int
    metrics: dict[str, Any]


@dataclass
class CheckpointSaved:
    step: int
    path: str


@dataclass
class Done:
    step: int
    elapsed: float
    reason: str  # "steps" | "time" | "stopped" | "diverged"
    checkpoint: str | None  # for "diverged": the last good checkpoint, if one was saved
    message: str = ""  # for "diverged": what went wrong and what to try, in plain words
    # for "diverged", the same as numbers, for a caller that words it in another language: "cause" ("nan" with
    # "what" went non-finite, or "d_wins" with "d_real", "d_fake", "for_steps"), "at_step", and what was kept:
    # "kept_step" (the last good save), or "save_every" (the run broke before its first save)
    facts: dict[str, Any] = field(default_factory=dict)


Event = Started | Step | Samples | Metrics | CheckpointSaved | Done
Evaluator = Callable[[nn.Module], dict[str, Any]]




# ----------------------------------------------------------------------------- divergence

D_WINS_REAL = 0.99  # mean sigmoid(D) on real images above this ...
D_WINS_FAKE = 0.01  # ... and on fakes below this = D wins outright
# Why these: healthy runs measured here never come close. Over 50-step windows the MLP GAN's D
# peaked at D(real) 0.94 / D(fake) 0.09 in 2,000 steps, and at 0.97 / 0.08 in 5,000 steps even
# without D's dropout (the set-up that collapses); a frozen G (lr_g 1e-7) gives 1.0000 / 0.0000
# within 100 steps, with G's loss climbing past 12 and its gradient signal gone.


class DivergenceWatch:
    """Judges each log window's mean losses (already on the host: no extra device sync).

    ``check`` returns a plain-language reason to stop, or None. ``d_winning`` is True while
    the current stretch of D-wins windows lasts (weights from it are not worth saving).
    """

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.d_wins_since: int | None = None
        self.facts: dict[str, Any] = {}  # the last reason to stop, as numbers (``Done.facts``)

    @property
    def d_winning(self) -> bool:
        return self.d_wins_since is not None

    def check(self, means: dict[str, float], step: int, window_steps: int) -> str | None:
        bad = [key for key, value in means.items() if not math.isfinite(value)]
        if bad:
            self.facts = {"cause": "nan", "what": ", ".join(bad), "at_step": step}
            return nan_message(step, ", ".join(bad))
        if "d_real" not in means or "d_fake" not in means or not self.patience:
            return None
        if means["d_real"] > D_WINS_REAL and means["d_fake"] < D_WINS_FAKE:
            if self.d_wins_since is None:
                self.d_wins_since = step - window_steps
            if step - self.d_wins_since >= self.patience:
                self.facts = {"cause": "d_wins", "d_real": means["d_real"], "d_fake": means["d_fake"],
                              "for_steps": step - self.d_wins_since, "at_step": step}
                return (f"Training stopped at step {step:,}: the discriminator wins outright (mean D(real) "
                        f"{means['d_real']:.3f} > {D_WINS_REAL} and D(fake) {means['d_fake']:.4f} < {D_WINS_FAKE} "
                        f"for the last {step - self.d_wins_since:,} steps), so the generator gets no useful signal "
                        "and will not recover; these weights were not saved. Try a lower D learning rate (lr_d), "
                        "DiffAugment, spectral norm or dropout in D, or the hinge loss.")
        else:
            self.d_wins_since = None
        return None


def nan_message(step: int, what: str) -> str:
    return (f"Training diverged at step {step:,}: {what} became NaN or infinite, so the weights are no longer "
            "usable and were not saved. Try lower learning rates (lr_g and lr_d around 2e-4, lr around 1e-3 "
            "for a VAE), Adam beta1 0.5, or the hinge loss.")


# ----------------------------------------------------------------------------- the loop


def build_for_training(cfg: TrainConfig, device: torch.device) -> nn.Module:
    """A fresh model from ``cfg`` or, with ``init_from``, the checkpoint's weights (same family)."""
    family = check_family(cfg.model)
    dataset = data_mod.check_dataset_name(cfg.dataset)
    if cfg.init_from:
        model = load_checkpoint(cfg.init_from, device=device)
        if model.family != family:
            raise ValueError(f"--init-from holds a {model.family!r} model, not {family!r}.")
        # fine-tuning on another dataset re-labels it; options that keep the weights' shapes apply
        model.config = with_options(family, model.config, {**cfg.model_options, "dataset": dataset})
        if cfg.freeze != "none":
            freeze_early(model.generator if cfg.freeze == "g-early" else model.discriminator)
        return model.train()
    return build_model(family, make_config(family, **{**cfg.model_options, "dataset": dataset})).to(device)


def with_options(family: str, config: Any, options: dict[str, Any]) -> Any:
    """A loaded checkpoint's ``config`` with ``options`` (e.g. a PixelCNN's ``label_dropout`` for
    fine-tuning), checked as any config; ``ValueError`` if one of them changes a weight's shape."""
    changed = make_config(family, **{**dataclasses.asdict(config), **options})
    if expected_shapes(family, changed) != expected_shapes(family, config):
        keys = ", ".join(f"{k}={getattr(changed, k)!r} (the checkpoint has {getattr(config, k)!r})"
                         for k in sorted(options) if k != "dataset" and getattr(changed, k) != getattr(config, k))
        raise ValueError(f"--init-from keeps the checkpoint's network, and {keys} would change its shape; "
                         "drop those options or train from scratch.")
    return changed


def freeze_early(net: nn.Module) -> list[str]:
    """Stop training the first half (rounded down, at least one) of ``net``'s layers that hold
    weights, in the order ``net`` defines them (input side first); returns their names. Their
    parameters stay bit for bit as loaded. Buffers still move: a frozen BatchNorm keeps
    updating its running statistics, and a spectral norm its power-iteration vectors."""
    layers = [(name, m) for name, m in net.named_modules() if any(True for _ in m.parameters(recurse=False))]
    frozen = layers[: max(1, len(layers) // 2)]
    for _, layer in frozen:
        layer.requires_grad_(False)
    return [name for name, _ in frozen]


def training_split(cfg: TrainConfig) -> data_mod.Split:
    """The images a run trains on: your ``pictures`` (every label 0), the training split, or its
    stratified ``subset`` drawn by the run's seed."""
    if cfg.pictures:
        return load_pictures(cfg.pictures, dataset=cfg.dataset).split()
    split = data_mod.load_split(cfg.dataset, train=True)
    return data_mod.stratified_subset(split, cfg.subset, seed=cfg.seed) if cfg.subset else split


def fixed_inputs(model: nn.Module, n: int, seed: int, device: torch.device,
                 one_class: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The fixed noise (and labels) that every sample grid of a run is drawn from: a row per class
    for a conditional model, or class 0 throughout with ``one_class`` (your own pictures, all class 0)."""
    g = torch.Generator().manual_seed(seed + 1)
    z = torch.randn(n, model.latent_dim, generator=g).to(device)
    k = getattr(model, "num_classes", 0)
    if k and one_class:
        return z, torch.zeros(n, dtype=torch.int64, device=device)
    labels = (torch.arange(n) * k // n).to(device) if k else None  # a row per class in a 10-wide grid
    return z, labels


@torch.no_grad()
def draw_samples(model: nn.Module, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Images ``(N, 1, 28, 28)`` in [-1, 1] on the CPU, with the model in eval mode."""
    was_training = model.training
    model.eval()
    if model.objective == "elbo":
        images = model.decode(z)
    elif model.objective == "denoising":
        images = model.generate(z, labels, steps=LIVE_SAMPLE_STEPS)
    else:
        images = model.generate(z, labels)
    model.train(was_training)
    return images.float().cpu()


def training_info(cfg: TrainConfig, device: torch.device, step: int, elapsed: float,
                  split: data_mod.Split | None = None) -> dict[str, Any]:
    """What a checkpoint's card records about the run that wrote it; a run that started from
    another checkpoint (``init_from``) also records that one's run, so a card tells the whole history.
    A run on your own ``pictures`` records their count and the SHA-256 of the framed images (``split``)."""
    info = {
        "command": cfg.command or "aigc_models.training.train(TrainConfig(...))",
        "device": device_label(device),
        "steps": step,
        "seconds": round(elapsed, 1),
        "batch_size": cfg.batch_size,
        "images_seen": step * cfg.batch_size,
        "seed": cfg.seed,
        "torch": torch.__version__,
        "train_config": {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("command",)},
    }
    if cfg.pictures and split is not None:
        info["pictures"] = {"source": str(cfg.pictures), "count": len(split), "framed_like": split.dataset,
                            "sha256": hashlib.sha256(split.images.contiguous().numpy().tobytes()).hexdigest()}
    if cfg.init_from:
        try:
            earlier = read_meta(cfg.init_from).get("training", {})
        except CheckpointError:  # a Hub id offline, or gone since the run started: the path is still recorded
            earlier = {}
        info["continued_from"] = {"checkpoint": str(cfg.init_from),
                                  **{k: earlier[k] for k in ("command", "device", "steps", "seconds", "continued_from")
                                     if k in earlier}}
    return info


def train(
    cfg: TrainConfig,
    *,
    stop: Callable[[], bool] | None = None,
    evaluator: Evaluator | None = None,
    final_evaluator: Evaluator | None = None,
    control: Any = None,
) -> Iterator[Event]:
    """Train per ``cfg``, yielding events; see the module docstring for stopping.

    ``evaluator`` is called on the exported model every ``eval_every`` steps and whenever
    ``eval_seconds`` have passed since its last call (the export, which with EMA copies G and
    re-estimates its BatchNorm, is paid only then); ``final_evaluator`` once at the end, its
    metrics stored in the checkpoint.
    ``control``: an ``aigc_models.run_control.RunControl`` (pause, single steps, new learning rates,
    end; time spent paused is not counted).
    With ``save_every``, the run saves to ``out`` at the first log step after each
    ``save_every`` steps, only while the losses and weights are finite and D is not
    winning outright, so a diverged run keeps its last good checkpoint.
    """
    cfg.validate()
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = build_for_training(cfg, device)
    objective = OBJECTIVES[model.objective](model, cfg)
    split = training_split(cfg)
    batches = data_mod.BatchSampler(split, batch_size=cfg.batch_size, device=device, seed=cfg.seed)
    n_params = sum(p.numel() for p in model.parameters())
    yield Started(cfg, device_label(device), n_params)

    has_samples = model.objective in ("gan", "elbo", "denoising", "autoregressive")
    fixed_z, fixed_labels = fixed_inputs(model, 100 if getattr(model, "num_classes", 0) else 64, cfg.seed, device,
                                             one_class=bool(cfg.pictures)) if has_samples else (None, None)

    start = time.perf_counter()
    window_start, window_steps = start, 0
    sums: dict[str, torch.Tensor] = {}
    step, reason, message = 0, "steps", ""
    facts: dict[str, Any] = {}
    watch = DivergenceWatch(cfg.stop_if_d_wins_for if model.objective == "gan" else 0)
    last_saved: str | None = None
    last_saved_step = 0
    last_eval = time.perf_counter()
    model.train()
    while step < cfg.steps:
        if stop is not None and stop():
            reason = "stopped"
            break
        if cfg.max_seconds is not None and time.perf_counter() - start >= cfg.max_seconds:
            reason = "time"
            break
        single = False  # a step a paused run was granted: reported at once
        if control is not None:
            go, waited = control.wait_turn()
            start, window_start, last_eval = start + waited, window_start + waited, last_eval + waited
            if not go:
                reason = "stopped"
                break
            single = control.single
            control.apply_learning_rates(objective)
        if cfg.lr_schedule != "constant":
            scale_learning_rates(objective, lr_factor(cfg.lr_schedule, run_progress(
                step, cfg.steps, time.perf_counter() - start, cfg.max_seconds)))
        real, labels = batches.next()
        for key, value in objective.step(real, labels).items():
            sums[key] = sums[key] + value if key in sums else value
        step += 1
        window_steps += 1

        if step % cfg.log_every == 0 or step == cfg.steps or single:
            means = {k: float(v) / window_steps for k, v in zip(sums, torch.stack(list(sums.values())).tolist())}
            now = time.perf_counter()
            elapsed = now - start
            ips = window_steps * cfg.batch_size / max(now - window_start, 1e-9)
            eta = (cfg.steps - step) * elapsed / step
            if cfg.max_seconds is not None:
                eta = min(eta, max(cfg.max_seconds - elapsed, 0.0))
            yield Step(step, cfg.steps, means, ips, elapsed, eta)
            problem = watch.check(means, step, window_steps)
            sums, window_start, window_steps = {}, time.perf_counter(), 0
            if problem is not None:
                reason, message, facts = "diverged", problem, watch.facts
                break
            if cfg.out and cfg.save_every and step - last_saved_step >= cfg.save_every and not watch.d_winning:
                exported = objective.export(final=True)
                if not finite_weights(exported):
                    reason, message = "diverged", nan_message(step, "the weights")
                    facts = {"cause": "nan", "what": "weights", "at_step": step}
                    break
                last_saved = str(save_checkpoint(exported, cfg.out, training=training_info(cfg, device, step, elapsed, split)))
                last_saved_step = step
                yield CheckpointSaved(step, last_saved)
        if has_samples and (step % cfg.sample_every == 0 or step == 1 or single):
            yield Samples(step, draw_samples(objective.export(), fixed_z, fixed_labels), fixed_labels.cpu() if fixed_labels is not None else None)
        if evaluator is not None and ((cfg.eval_every and step % cfg.eval_every == 0) or
                                      (cfg.eval_seconds and time.perf_counter() - last_eval >= cfg.eval_seconds)):
            yield Metrics(step, evaluator(objective.export(final=True).eval()))
            last_eval = time.perf_counter()
            model.train()

    elapsed = time.perf_counter() - start
    final = objective.export(final=True).eval()
    if reason != "diverged" and step > 0 and not finite_weights(final):
        reason, message = "diverged", nan_message(step, "the weights")
        facts = {"cause": "nan", "what": "weights", "at_step": step}
    if reason == "diverged":
        if last_saved:
            kept = f"The last good checkpoint (step {last_saved_step:,}) is kept at {last_saved}."
            facts = {**facts, "kept_step": last_saved_step}
        elif cfg.out and cfg.save_every:
            kept = f"No checkpoint was saved: the run went wrong before its first save (every {cfg.save_every:,} steps)."
            facts = {**facts, "save_every": cfg.save_every}
        else:
            kept = "No checkpoint was saved" + (" (set save_every to keep checkpoints during a run)." if cfg.out else ".")
        yield Done(step, elapsed, reason, last_saved, f"{message} {kept}", facts)
        return
    if has_samples:
        yield Samples(step, draw_samples(final, fixed_z, fixed_labels), fixed_labels.cpu() if fixed_labels is not None else None)
    metrics = final_evaluator(final) if final_evaluator is not None else {}
    if metrics:
        yield Metrics(step, metrics)
    path = None
    if cfg.out and step > 0:
        path = str(save_checkpoint(final, cfg.out, training=training_info(cfg, device, step, elapsed, split), metrics=metrics))
        yield CheckpointSaved(step, path)
    yield Done(step, elapsed, reason, path)


def command_line() -> str:
    """The current process's command line, for model cards."""
    return "python -m aigc_models " + " ".join(shlex.quote(a) for a in sys.argv[1:])


__all__ = ["TrainConfig", "train", "live_view_settings", "Started", "Step", "Samples", "Metrics", "CheckpointSaved", "Done", "Event",
           "resolve_device", "device_label"]
