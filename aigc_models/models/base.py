"""What every model family shares: the GAN wrapper and the Hub mixin settings.

A GAN here is one ``nn.Module`` holding ``generator`` and ``discriminator``;
the trainer and the sampler talk to it only through ``generate``,
``discriminate``, ``latent_dim`` and ``num_classes`` (0 = unconditional), so
they know no model family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

ABILITIES = frozenset({
    "generate",      # draws images from noise: model.latent_dim and model.generate(z, labels)
    "condition",     # takes a class label (model.num_classes > 0)
    "discriminate",  # has a discriminator: model.discriminate(images, labels)
    "class_morph",   # its class embedding can be interpolated: model.generator.class_embedding
    "interpolate",   # a latent walk between two seeds means something
    "encode",        # maps images to latents and back: model.as_input / model.encode / model.decode
    "classify",      # the evaluator's classifier
    "train_live",    # trainable in the app's Train tab within minutes on a CPU
    "upscale",       # super-resolution: model.degrade(images) -> low resolution, model.upscale(low) -> 28 x 28
})


@dataclass(frozen=True)
class Range:
    """A number a hyperparameter search draws between ``low`` and ``high`` (on a log scale when
    ``log``); an integer one when both ends are integers."""

    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Choice:
    """A value a hyperparameter search picks from ``options``."""

    options: tuple[Any, ...]


@dataclass(frozen=True)
class Family:
    """One model family, registered once (``aigc_models.models.REGISTRY``): everything the CLI,
    the app and validation need to know about it, so that no other file names it.

    ``width_fields``: the config fields that the CLI's ``--channels`` sets. ``train_defaults``:
    ``TrainConfig`` settings this family trains with when nothing else is said (a shipped
    checkpoint's recorded recipe wins, see ``training.shipped_recipe``). ``live_cost``: about how
    many times a GAN's cost drawing its images takes while training (a diffusion model runs its
    network at every sampler step); a live view samples that many times less often.
    ``search_space``: what ``aigc_models.tune`` searches, name -> ``Range`` or ``Choice``; a name is
    a ``TrainConfig`` setting (``lr_g``, ``batch_size``, ``loss``, ``ema``, ``diffaugment``...), a
    model config field, ``beta1`` (Adam's, beta2 staying 0.999) or ``width`` (every ``width_fields``
    entry); empty: the family is not searched."""

    name: str
    config: type
    model: type
    label: str
    label_zh: str
    abilities: frozenset[str]
    width_fields: tuple[str, ...] = ()
    train_defaults: dict[str, Any] = field(default_factory=dict)
    live_cost: int = 1
    search_space: dict[str, Range | Choice] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.abilities) - ABILITIES
        if unknown:
            raise ValueError(f"Family {self.name!r} names unknown abilities {sorted(unknown)}; known: {sorted(ABILITIES)}.")

    @property
    def objective(self) -> str:
        """The training objective ("gan", "elbo", "denoising", "cross-entropy", "autoregressive") its model declares."""
        return self.model.objective

    def can(self, *abilities: str) -> bool:
        return set(abilities) <= self.abilities


HUB_KWARGS: dict[str, Any] = {
    "library_name": "aigc_models",
    "license": "mit",
}


class CheckedHubMixin:
    """Sends ``PyTorchModelHubMixin``'s ``from_pretrained`` / ``save_pretrained`` through
    ``aigc_models.checkpoints``: the same checked config, safetensors-only weights and
    folder format as everywhere else. Without it the mixin would read its own config
    format and, for a repo without safetensors, fall back to ``torch.load`` of a pickle.
    Listed before ``PyTorchModelHubMixin`` in a model's bases so that it wins."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, *, revision: str | None = None,
                        map_location: str | torch.device = "cpu", **kwargs: Any) -> nn.Module:
        """A checkpoint folder, shipped name or Hub repo id (``revision`` pins a Hub revision)."""
        from ..checkpoints import CheckpointError, load_checkpoint

        if kwargs:
            raise ValueError(f"{cls.__name__}.from_pretrained takes only revision and map_location, not "
                             f"{', '.join(sorted(kwargs))} (Hub tokens come from HF_TOKEN or `hf auth login`).")
        ref = str(pretrained_model_name_or_path)
        model = load_checkpoint(f"{ref}@{revision}" if revision else ref, device=map_location)
        if not isinstance(model, cls):
            raise CheckpointError(f"{ref} holds a {model.family} model, not a {cls.__name__}.")
        return model

    def _save_pretrained(self, save_directory: Path) -> None:
        from ..checkpoints import save_checkpoint

        save_checkpoint(self, save_directory)  # config.json + model.safetensors + README.md


GAN_SEARCH_SPACE: dict[str, Range | Choice] = {
    "lr_g": Range(5e-5, 5e-3, log=True),
    "lr_d": Range(5e-5, 5e-3, log=True),
    "beta1": Choice((0.0, 0.5, 0.9)),
    "batch_size": Choice((32, 64, 128)),
    "loss": Choice(("ns", "hinge")),
    "ema": Choice((0.0, 0.999)),
    "diffaugment": Choice(("", "translation", "translation,cutout")),
}
"""What a hyperparameter search varies for every GAN family (each family adds its own, e.g. ``width``)."""


class GAN(CheckedHubMixin, nn.Module):
    """Base for GAN families. Subclasses set ``generator`` and ``discriminator``.

    Images are float ``(B, 1, 28, 28)`` in [-1, 1]; latents ``(B, latent_dim)``
    from N(0, I); labels int64 ``(B,)`` in 0..num_classes-1.
    """

    objective: ClassVar[str] = "gan"
    family: ClassVar[str] = ""
    generator: nn.Module
    discriminator: nn.Module

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    @property
    def num_classes(self) -> int:
        return int(getattr(self.config, "num_classes", 0))

    def generate(
        self,
        z: torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        class_embedding: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """z ``(B, latent_dim)`` (+ labels ``(B,)`` or a class embedding) -> images ``(B, 1, 28, 28)`` in [-1, 1]."""
        if self.num_classes:
            if class_embedding is None:
                if labels is None:
                    raise ValueError(f"{self.family} is conditional: pass labels (0..{self.num_classes - 1}).")
                class_embedding = self.generator.class_embedding(labels)
            return self.generator(z, class_embedding)
        return self.generator(z)

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """images ``(B, 1, 28, 28)`` in [-1, 1] -> D's logits ``(B,)`` (real > 0 > fake)."""
        if self.num_classes:
            if labels is None:
                raise ValueError(f"{self.family} is conditional: pass labels.")
            return self.discriminator(images, labels)
        return self.discriminator(images)


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) when ``enabled``."""
    return nn.utils.parametrizations.spectral_norm(layer) if enabled else layer


class MinibatchStd(nn.Module):
    """features ``(B, F)`` -> ``(B, F + 1)``: appends how much the samples of a small group differ
    (the mean over features of the standard deviation across ``group`` samples; Karras et al. 2018,
    arXiv:1710.10196). A generator that draws too few kinds of image gives batches with a low
    value, which D can then tell from real batches. Batches not divisible by ``group`` use one
    group; a batch of one gets 0."""

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, f = h.shape
        g = self.group if b % self.group == 0 else b
        if g < 2:
            return torch.cat([h, h.new_zeros(b, 1)], dim=1)
        groups = h.view(g, b // g, f)  # sample k belongs to group k % (b // g)
        spread = (groups.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=1)  # (b // g,)
        return torch.cat([h, spread.repeat(g).view(b, 1)], dim=1)
