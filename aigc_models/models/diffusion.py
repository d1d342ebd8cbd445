"""Class-conditional diffusion with classifier-free guidance, on 28 x 28 greyscale.

The network predicts; a scheduler (``aigc_models.samplers``, diffusers' schedulers)
steps. Two objectives, the same network shape for both:

* ``objective="ddpm"`` (Ho et al. 2020, arXiv:2006.11239): for an integer time
  t in 0..T-1, ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` and the network
  predicts the noise ``eps``. ``schedule`` "linear" (Ho et al.) or "cosine"
  (Nichol & Dhariwal 2021, arXiv:2102.09672) sets ``abar_t``.
* ``objective="flow"`` (flow matching / rectified flow: Lipman et al. 2023,
  arXiv:2210.02747; Liu et al. 2023, arXiv:2209.03003), in diffusers' convention:
  a noise level sigma in [0, 1] (1 = pure noise, 0 = data),
  ``x_sigma = (1 - sigma) x0 + sigma noise``, and the network predicts the
  velocity along that straight path, ``u = dx/dsigma = noise - x0``. The
  network's time input is ``sigma * T`` (T = ``num_train_timesteps``), as
  diffusers' ``FlowMatchEulerDiscreteScheduler`` passes it. In the rectified-flow
  papers' notation (t = 1 - sigma runs from noise x0 to data x1), u = -(x1 - x0):
  the same line, walked the other way, which is the way the scheduler walks it.

Both backbones (``backbone="unet"``: ``unet.UNet``; ``"dit"``: ``dit.DiT``) take
the image and one conditioning vector ``c = embed(time) + embed(label)``. The
label embedding has one extra row, index ``num_classes``: the "null" label that
training substitutes with probability ``label_dropout`` (Ho & Salimans 2022,
arXiv:2207.12598), so one network gives both the conditional and the
unconditional prediction that classifier-free guidance mixes.

For the library's sampler, evaluator, interpolation and Train tab, the model
looks like a generator: ``latent_dim`` is 784 and ``generate(z, labels)`` turns
the initial noise ``z`` ``(B, 784)`` into images with the default sampler.

The defaults are the CPU recipe: a 0.29 M-parameter U-Net (widths 16, 32, 64),
flow, batch 64, Adam 2e-3, EMA 0.999, Euler 20 steps at guidance 1.65 (README, "The
300-second bar", for the training times, the batch and the guidance). Measured, for the first recipe
(batch 128, guidance 1.75)
on MNIST (N = 1,000 samples, seed 0; real-data floor FD 7.8 and the shipped cGAN
14.3 at this N): after 1,200 steps class accuracy 0.989 and FD 33.6 (guidance 2:
0.993, 51.4; 1.5: 0.980, 22.9), after 1,500 steps 0.995 and 35.7. A step took
0.47 CPU-seconds on one thread. Stronger guidance buys accuracy with diversity:
recall falls from 0.76 (guidance 1) to 0.33 (guidance 3) and FD climbs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..configs import bounded, dataset_field
from ..validation import check_choice, check_int
from .base import HUB_KWARGS, CheckedHubMixin, Choice, Family, Range
from .dit import DiT
from .unet import UNet

BACKBONES = ("unet", "dit")
OBJECTIVES = ("flow", "ddpm")
SCHEDULES = ("linear", "cosine")
SAMPLERS = {"flow": ("euler", "heun"), "ddpm": ("ddpm", "ddim", "dpm-solver++")}
DEFAULT_SAMPLER = {"flow": "euler", "ddpm": "dpm-solver++"}  # what default_sampler="auto" means
PATCH_SIZES = (2, 4, 7)
TIME_SAMPLING = ("uniform", "logit-normal")
MAX_SAMPLE_STEPS = 1000
MAX_GUIDANCE = 20.0
LIVE_SAMPLE_STEPS = 10  # sampler steps of the sample grids drawn while training: few, to stay live
PROBE_SAMPLE_STEPS = 4  # ... and of a training-time class-histogram probe's samples (only their classes count)


@dataclass(frozen=True)
class DiffusionConfig:
    dataset: str = dataset_field()
    backbone: str = bounded("unet", choices=BACKBONES, help="unet or dit (the patch transformer)")
    objective: str = bounded("flow", choices=OBJECTIVES, help="flow (predicts noise - x0) or ddpm (predicts the noise)")
    schedule: str = bounded("linear", choices=SCHEDULES, help="ddpm only: linear (Ho et al.) or cosine (Nichol & Dhariwal)")
    num_train_timesteps: int = bounded(1000, lo=100, hi=1000, help="T: ddpm's discrete times; flow feeds sigma * T")
    num_classes: int = bounded(10, lo=1, hi=1000, help="classes; index num_classes is the null label")
    label_dropout: float = bounded(0.1, lo=0.0, hi=1.0, hi_open=True,
                                   help="probability of training on the null label (classifier-free guidance)")
    time_sampling: str = bounded("logit-normal", choices=TIME_SAMPLING,
                                 help="flow only: training times sigma uniform on (0, 1), or logit-normal (sigmoid of a "
                                      "standard normal: more of the middle times, Esser et al. 2024)")
    channels: int = bounded(16, lo=4, hi=512, help="U-Net width at 28 x 28; its conditioning vector has 4 x this")
    channel_mults: tuple[int, ...] = bounded((1, 2, 4), lo=1, hi=8, layers=(3, 3),
                                             help="U-Net widths at 28, 14 and 7 pixels, in multiples of channels")
    attention: bool = True  # U-Net self-attention at 7 x 7
    patch_size: int = bounded(4, lo=2, hi=7, help="DiT patch side: 2, 4 or 7 (it must divide 28)")
    dit_width: int = bounded(128, lo=4, hi=1024, help="DiT token width (divisible by 4 and by dit_heads)")
    dit_depth: int = bounded(4, lo=1, hi=24, help="DiT blocks")
    dit_heads: int = bounded(4, lo=1, hi=16, help="DiT attention heads")
    default_sampler: str = bounded("auto", choices=("auto", *SAMPLERS["flow"], *SAMPLERS["ddpm"]),
                                   help="auto (euler for flow, dpm-solver++ for ddpm) or a sampler of the objective")
    default_steps: int = bounded(20, lo=1, hi=1000, help="sampler steps when none are asked for")
    default_guidance: float = bounded(1.65, lo=0.0, hi=MAX_GUIDANCE, help="1 = plain conditional; 0 = unconditional")
    SAMPLING_FIELDS: ClassVar[tuple[str, ...]] = ("default_sampler", "default_steps", "default_guidance")
    """The fields ``sampling-defaults`` may change on a trained checkpoint: they choose how it is sampled, not its weights."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel_mults", tuple(self.channel_mults))
        self.check()

    def check(self) -> None:
        """The rules that tie fields together; ``ValueError`` in one sentence."""
        check_choice(self.objective, "diffusion objective", OBJECTIVES)
        check_choice(self.default_sampler, f"default_sampler for the {self.objective} objective",
                     ("auto", *SAMPLERS[self.objective]))
        if isinstance(self.default_steps, int) and isinstance(self.num_train_timesteps, int):
            check_int(self.default_steps, "default_steps", lo=1, hi=self.num_train_timesteps)
        if len(self.channel_mults) != 3:
            raise ValueError(f"channel_mults must be 3 whole numbers from 1 to 8 (widths at 28, 14 and 7 pixels, "
                             f"in multiples of channels), got {self.channel_mults!r}.")
        if self.patch_size not in PATCH_SIZES:
            raise ValueError(f"patch_size must be one of {', '.join(map(str, PATCH_SIZES))} (it must divide 28), "
                             f"got {self.patch_size!r}.")
        if not isinstance(self.dit_heads, int) or self.dit_heads < 1 or self.dit_width % 4 or self.dit_width % self.dit_heads:
            raise ValueError(f"dit_width must be divisible by 4 and by dit_heads ({self.dit_heads}), got {self.dit_width}.")

    @property
    def sampler(self) -> str:
        """The default sampler, with "auto" resolved for this objective."""
        return DEFAULT_SAMPLER[self.objective] if self.default_sampler == "auto" else self.default_sampler


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal features ``(B, dim)`` of times ``(B,)`` (any real values; here 0..T), as in
    Vaswani et al. 2017 and DiT's ``TimestepEmbedder``: cos then sin of t * 10000^(-i / (dim / 2))."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class TimestepEmbedder(nn.Module):
    """Times ``(B,)`` -> ``(B, dim)``: sinusoidal features through a two-layer MLP (DiT)."""

    def __init__(self, dim: int, frequency_dim: int = 256) -> None:
        super().__init__()
        self.frequency_dim = frequency_dim
        self.mlp = nn.Sequential(nn.Linear(frequency_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(timestep_embedding(t, self.frequency_dim))


class Diffusion(CheckedHubMixin, nn.Module, PyTorchModelHubMixin, **HUB_KWARGS,
                tags=["diffusion", "classifier-free-guidance", "aigc-lab"]):
    """A class-conditional denoiser. ``forward(x_t, t, labels)`` is the network's prediction;
    ``generate`` runs a sampler from ``aigc_models.samplers``."""

    objective: ClassVar[str] = "denoising"  # the trainer's objective; config.objective says which one
    family: ClassVar[str] = "diffusion"

    def __init__(self, config: DiffusionConfig) -> None:
        super().__init__()
        self.config = config
        if config.backbone == "unet":
            self.net: nn.Module = UNet(config.channels, tuple(config.channel_mults), config.attention)
        else:
            self.net = DiT(config.patch_size, config.dit_width, config.dit_depth, config.dit_heads)
        d = self.net.cond_dim
        self.time_embed = TimestepEmbedder(d)
        self.label_embed = nn.Embedding(config.num_classes + 1, d)  # row num_classes: the null label
        for module in (*self.time_embed.mlp[::2], self.label_embed):
            nn.init.normal_(module.weight, std=0.02)  # DiT's initialisation of both embedders

    @property
    def latent_dim(self) -> int:
        """The initial noise has one value per pixel: 28 * 28."""
        return 28 * 28

    @property
    def num_classes(self) -> int:
        return int(self.config.num_classes)

    @property
    def null_label(self) -> int:
        """The label index that means "no class" (classifier-free guidance's unconditional input)."""
        return int(self.config.num_classes)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The prediction ``(B, 1, 28, 28)``: the noise (ddpm) or the velocity noise - x0 (flow).

        Args:
            x_t: noisy images ``(B, 1, 28, 28)``.
            t: times ``(B,)`` float: the ddpm step 0..T-1, or sigma * T for flow (0 = data, T = noise).
            labels: ``(B,)`` int64 in 0..num_classes (num_classes = null); None = all null.
        """
        if labels is None:
            labels = torch.full((x_t.shape[0],), self.null_label, dtype=torch.long, device=x_t.device)
        c = self.time_embed(t) + self.label_embed(labels)  # (B, cond_dim)
        return self.net(x_t, c)

    def generate(
        self,
        z: torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: float | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Initial noise z ``(B, 784)`` (+ labels ``(B,)`` int64; None = unconditional) -> images
        ``(B, 1, 28, 28)`` in [-1, 1], by ``sampler`` in ``steps`` steps at ``guidance`` (each None =
        the config's default). ODE samplers are deterministic given z; the ancestral "ddpm" sampler
        draws its extra noise from ``generator``, or from a generator seeded by z's values."""
        from ..samplers import denoise

        return denoise(self, z, labels, sampler=sampler, steps=steps, guidance=guidance, generator=generator)


FAMILY = Family("diffusion", DiffusionConfig, Diffusion, label="Diffusion", label_zh="扩散模型",
                abilities=frozenset({"generate", "condition", "train_live"}), width_fields=("channels",),
                train_defaults={"batch_size": 64, "lr": 2e-3, "ema": 0.999},
                # a 100-image grid at LIVE_SAMPLE_STEPS costs about 6 training steps of the default U-Net on a CPU
                live_cost=3,
                search_space={"lr": Range(3e-4, 5e-3, log=True), "batch_size": Choice((64, 128, 256)),
                              "ema": Choice((0.99, 0.999)), "width": Choice((16, 32))})


__all__ = ["Diffusion", "DiffusionConfig", "FAMILY", "TimestepEmbedder", "timestep_embedding", "SAMPLERS", "BACKBONES",
           "OBJECTIVES", "SCHEDULES"]
