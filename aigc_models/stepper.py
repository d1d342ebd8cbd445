"""Step-by-step GAN training: one D step or one G step at a time, and what it changed.

GAN Lab (Kahng et al. 2019) lets a student pause a GAN on 2-D points and take one step of
either player; ``GANStepper`` does that on images. Each step returns a ``StepReport``: the
loss, the gradient norm of every layer of the network that stepped, D's scores on a fixed
batch of real images and on the fixed-noise fakes, and the fixed-noise samples, all before
and after the step.

* ``d_step()`` is the objective's D phase alone (``GANObjective.d_phase``): D learns from one
  real batch and fresh fakes; G is left exactly as it was, BatchNorm statistics included
  (G's forward to make the fakes would move them, so they are put back).
* ``g_step()`` is the G phase alone (``GANObjective.g_phase``) on fresh fakes of its own: G
  learns through the current D; D is left exactly as it was (its spectral-norm estimates too).
* ``step()`` is one training step as ``training.train`` takes it: the D phase, then the G phase
  on the same fakes (``GANObjective.step``).

Every random draw is the stepper's own: the batch order comes from a generator seeded with
``seed``, and z, the fakes' classes, dropout and DiffAugment from a copy of torch's global
generator that the stepper keeps and swaps in for each step (under a process-wide lock), so the
same seed and the same sequence of steps give the same numbers, bit for bit on one machine.
Code elsewhere that draws from torch's global generator *while* a step runs (another thread,
outside this module) can still disturb it.

Nothing here imports gradio; the app's "Step by step" tab (``ui/step.py``) shows the reports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import data as data_mod
from .checkpoints import CheckpointError, load_checkpoint, read_meta
from .models import REGISTRY, build_model, check_family, families_with, make_config
from .objectives import GANObjective
from .training import RECIPE_FIELDS, TrainConfig, fixed_inputs, resolve_device

PROBE_REAL = 64  # real images in the fixed probe batch
NETWORKS = ("D", "G")

_GLOBAL_RNG = threading.Lock()  # one step at a time may own torch's global generator


# ----------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Probe:
    """What the fixed probe shows at one moment (CPU tensors, D and G in eval mode).

    ``real_scores``: ``(P,)`` in [0, 1], D's probability (sigmoid of its logit) that each image of
    the fixed real batch is real. ``fake_scores``: ``(N,)`` in [0, 1], the same for the fixed-noise
    samples. ``samples``: ``(N, 1, 28, 28)`` in [-1, 1], G's images from the fixed noise."""

    real_scores: torch.Tensor
    fake_scores: torch.Tensor
    samples: torch.Tensor


@dataclass(frozen=True)
class StepReport:
    """What one click changed.

    ``stepped``: the networks that took a step, ``("D",)``, ``("G",)`` or ``("D", "G")``.
    ``losses``: on the step's own batch, as floats: ``loss_d`` with D's mean scores ``d_real`` and
    ``d_fake`` (in [0, 1]) when D stepped, ``loss_g`` when G stepped. ``grad_norms``: per network
    that stepped, the L2 norm of each layer's gradient (all its parameters together), keyed
    ``"net.0 (Linear)"`` in the network's order. ``before`` / ``after``: the probe around the step.
    ``step_count``: steps each network has taken so far, after this one."""

    stepped: tuple[str, ...]
    losses: dict[str, float]
    grad_norms: dict[str, dict[str, float]]
    before: Probe
    after: Probe
    step_count: dict[str, int]


# ----------------------------------------------------------------------------- the stepper


def check_gan_family(family: object) -> str:
    """``family`` if the registry gives it a discriminator, else ``ValueError`` in one sentence."""
    name = check_family(family)
    if not REGISTRY[name].can("discriminate") or REGISTRY[name].objective != "gan":
        gans = ", ".join(families_with("discriminate"))
        raise ValueError(f"Step-by-step training needs a GAN, a model with a discriminator ({gans}); "
                         f"{name} is a {REGISTRY[name].label} model.")
    return name


class GANStepper:
    """A GAN, its optimisers and a seeded batch stream, stepped one click at a time.

    Build it with ``fresh`` (untrained) or ``from_checkpoint``; then call ``d_step``, ``g_step``
    or ``step``, each returning a ``StepReport``, and ``probe`` for the current view. Thread-safe:
    calls on one stepper run one at a time."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, *, rng_state: torch.Tensor | None = None,
                 cuda_rng_state: torch.Tensor | None = None, probe_real: int = PROBE_REAL) -> None:
        """``model``: a GAN (``generate`` / ``discriminate``) on the device ``cfg.device`` names;
        ``cfg``: a validated ``TrainConfig`` (``ema`` is ignored: the live G is what moves);
        ``rng_state``: torch's global generator state to draw z, dropout and augmentation from
        (default: a generator seeded ``cfg.seed``); ``probe_real``: images in the real probe batch."""
        check_gan_family(getattr(model, "family", None))
        self.cfg = dataclasses.replace(cfg, ema=0.0)
        self.device = resolve_device(cfg.device)
        self.model = model.to(self.device).train()
        self.objective = GANObjective(self.model, self.cfg)
        split = data_mod.load_split(self.cfg.dataset, train=True)
        self.batches = data_mod.BatchSampler(split, batch_size=self.cfg.batch_size, device=self.device,
                                             seed=self.cfg.seed)
        pick = torch.randperm(len(split), generator=torch.Generator().manual_seed(self.cfg.seed + 2))[:probe_real]
        self.probe_real = data_mod.to_signed(split.images[pick]).to(self.device)  # (P, 1, 28, 28) in [-1, 1]
        self.probe_labels = split.labels[pick].to(self.device) if self.model.num_classes else None
        n = 100 if self.model.num_classes else 64  # as training's grids: a row per class when conditional
        self.fixed_z, self.fixed_labels = fixed_inputs(self.model, n, self.cfg.seed, self.device)
        self._rng = rng_state if rng_state is not None else torch.Generator().manual_seed(self.cfg.seed).get_state()
        self._cuda_rng = cuda_rng_state
        if self.device.type == "cuda" and self._cuda_rng is None:
            with _GLOBAL_RNG, _forked(self.device):
                torch.cuda.manual_seed(self.cfg.seed)
                self._cuda_rng = torch.cuda.get_rng_state(self.device)
        self.step_count = {"D": 0, "G": 0}
        self.lock = threading.RLock()
        self._last: Probe | None = None  # the probe after the last step (the probe is deterministic)

    # -- building

    @classmethod
    def fresh(cls, family: str, dataset: str = "mnist", *, seed: int = 0, model_options: dict[str, Any] | None = None,
              **settings: Any) -> GANStepper:
        """An untrained ``family`` GAN for ``dataset``, initialised from ``seed``, trained with the
        family's ``train_defaults`` (``TrainConfig.for_family``) and ``settings`` (e.g. ``lr_d``,
        ``batch_size``, ``loss``, ``device``). ``ValueError`` for a family without a discriminator
        or a bad setting; ``data.DatasetUnavailableError`` when the images are not here."""
        family = check_gan_family(family)
        cfg = TrainConfig.for_family(family, dataset=dataset, seed=seed, model_options=dict(model_options or {}),
                                     **settings).validate()
        device = resolve_device(cfg.device)
        with _GLOBAL_RNG, _forked(device):
            torch.manual_seed(cfg.seed)  # the initial weights, as training.train draws them
            model = build_model(family, make_config(family, **{**cfg.model_options, "dataset": cfg.dataset}))
            state = torch.get_rng_state()  # the steps continue the same stream
            cuda_state = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        return cls(model.to(device), cfg, rng_state=state, cuda_rng_state=cuda_state)

    @classmethod
    def from_checkpoint(cls, folder: str | Path, *, dataset: str | None = None, seed: int = 0,
                        **settings: Any) -> GANStepper:
        """A GAN loaded from a checkpoint folder (safetensors only, ``checkpoints.load_checkpoint``),
        stepped on ``dataset`` (default: the one it was trained on) with the optimiser settings
        its run recorded (``training.RECIPE_FIELDS``; the family's defaults where none are
        recorded), then ``settings``. Adam starts afresh: a checkpoint keeps no optimiser state.
        ``CheckpointError`` for a folder that is not a valid checkpoint; ``ValueError`` for a
        model without a discriminator."""
        path = Path(folder)
        if not path.is_dir():
            raise CheckpointError(f"{path.name or folder!s:.80} is not a checkpoint folder.")
        meta = read_meta(path)
        family = check_gan_family(meta.get("family"))
        dataset = data_mod.check_dataset_name(dataset or meta["config"].get("dataset", "mnist"))
        recorded = (meta.get("training") or {}).get("train_config") or {}
        recipe = {k: recorded[k] for k in RECIPE_FIELDS if k in recorded and k not in ("model_options", "ema")}
        try:
            cfg = TrainConfig.for_family(family, dataset=dataset, seed=seed, **{**recipe, **settings}).validate()
        except (TypeError, ValueError):  # a record this version cannot read: the family's defaults
            cfg = TrainConfig.for_family(family, dataset=dataset, seed=seed, **settings).validate()
        model = load_checkpoint(path, device=resolve_device(cfg.device))
        model.config = dataclasses.replace(model.config, dataset=dataset)
        return cls(model, cfg)

    # -- the clicks

    def d_step(self) -> StepReport:
        """One D step (``GANObjective.d_phase``) on the next real batch and fresh fakes. G's
        weights and buffers are left bit for bit as they were."""
        with self.lock:
            before = self.probe()
            real, labels = self.batches.next()
            kept = _buffers(self.model.generator)
            with self._own_rng():
                d = self.objective.d_phase(real, labels)
            _restore(self.model.generator, kept)
            self.step_count["D"] += 1
            losses = {"loss_d": float(d.loss_d), "d_real": float(torch.sigmoid(d.d_real.float()).mean()),
                      "d_fake": float(torch.sigmoid(d.d_fake.float()).mean())}
            return self._report(("D",), losses, before)

    def g_step(self) -> StepReport:
        """One G step (``GANObjective.g_phase``) through the current D on a fresh batch of fakes
        (``GANObjective.draw_fakes``). D's weights and buffers are left bit for bit as they were."""
        with self.lock:
            before = self.probe()
            kept = _buffers(self.model.discriminator)
            with self._own_rng():
                fake, fake_labels = self.objective.draw_fakes(self.cfg.batch_size, self.device)
                loss_g = self.objective.g_phase(fake, fake_labels)
            _restore(self.model.discriminator, kept)
            self.step_count["G"] += 1
            return self._report(("G",), {"loss_g": float(loss_g)}, before)

    def step(self) -> StepReport:
        """One training step as ``training.train`` takes it (``GANObjective.step``): a D step,
        then a G step on the same fakes through the updated D."""
        with self.lock:
            before = self.probe()
            real, labels = self.batches.next()
            with self._own_rng():
                out = self.objective.step(real, labels)
            self.step_count["D"] += 1
            self.step_count["G"] += 1
            return self._report(("D", "G"), {k: float(v) for k, v in out.items()}, before)

    @torch.no_grad()
    def probe(self) -> Probe:
        """The current view: D's scores on the fixed real batch and on the fixed-noise samples,
        and those samples (``Probe``); D and G in eval mode, so looking changes nothing."""
        with self.lock:
            if self._last is not None:
                return self._last
            model = self.model
            model.eval()
            try:
                with self.objective.autocast():
                    samples = model.generate(self.fixed_z, self.fixed_labels).float()  # (N, 1, 28, 28)
                    fake = torch.sigmoid(model.discriminate(samples, self.fixed_labels).float())  # (N,)
                    real = torch.sigmoid(model.discriminate(self.probe_real, self.probe_labels).float())  # (P,)
            finally:
                model.train()
            self._last = Probe(real.cpu(), fake.cpu(), samples.cpu())
            return self._last

    # -- helpers

    def _report(self, stepped: tuple[str, ...], losses: dict[str, float], before: Probe) -> StepReport:
        self._last = None
        nets = {"D": self.model.discriminator, "G": self.model.generator}
        norms = {name: layer_grad_norms(nets[name]) for name in stepped}
        return StepReport(stepped, losses, norms, before, self.probe(), dict(self.step_count))

    @contextlib.contextmanager
    def _own_rng(self) -> Iterator[None]:
        """Run with torch's global generator(s) set to this stepper's state, then keep the new state."""
        with _GLOBAL_RNG, _forked(self.device):
            torch.set_rng_state(self._rng)
            if self.device.type == "cuda" and self._cuda_rng is not None:
                torch.cuda.set_rng_state(self._cuda_rng, self.device)
            yield
            self._rng = torch.get_rng_state()
            if self.device.type == "cuda":
                self._cuda_rng = torch.cuda.get_rng_state(self.device)


# ----------------------------------------------------------------------------- helpers


def _forked(device: torch.device) -> contextlib.AbstractContextManager:
    """torch's global generator(s) restored afterwards (the CUDA one only on a CUDA device)."""
    devices = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    return torch.random.fork_rng(devices=devices)


def _buffers(module: nn.Module) -> list[torch.Tensor]:
    return [b.detach().clone() for b in module.buffers()]


@torch.no_grad()
def _restore(module: nn.Module, kept: list[torch.Tensor]) -> None:
    for b, saved in zip(module.buffers(), kept):
        b.copy_(saved)


def layer_grad_norms(net: nn.Module) -> dict[str, float]:
    """The L2 norm of each layer's gradient (its parameters together), as floats keyed
    ``"path (Kind)"`` in ``net``'s order; a spectral-normalised weight counts for its layer.
    Layers without a gradient are left out."""
    squares: dict[str, torch.Tensor] = {}
    for name, p in net.named_parameters():
        if p.grad is None:
            continue
        path = name.split(".parametrizations.")[0] if ".parametrizations." in name else name.rpartition(".")[0]
        squares[path] = squares.get(path, 0) + p.grad.detach().float().pow(2).sum()
    if not squares:
        return {}
    values = torch.stack(list(squares.values())).sqrt().tolist()
    kinds = [type(net.get_submodule(path)).__name__.removeprefix("Parametrized") for path in squares]
    return {f"{path or 'self'} ({kind})": v for path, kind, v in zip(squares, kinds, values)}


__all__ = ["GANStepper", "StepReport", "Probe", "check_gan_family", "layer_grad_norms", "PROBE_REAL"]
