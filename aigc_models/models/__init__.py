"""Model registry: a plain dict from family name to (config class, model class)."""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from .base import GAN
from .cgan import CGAN, CGANConfig
from .classifier import Classifier, ClassifierConfig
from .dcgan import DCGAN, DCGANConfig
from .diffusion import Diffusion, DiffusionConfig
from .mlp_gan import MLPGAN, MLPGANConfig
from .vae import VAE, VAEConfig

REGISTRY: dict[str, tuple[type, type[nn.Module]]] = {
    "mlp-gan": (MLPGANConfig, MLPGAN),
    "dcgan": (DCGANConfig, DCGAN),
    "cgan": (CGANConfig, CGAN),
    "vae": (VAEConfig, VAE),
    "diffusion": (DiffusionConfig, Diffusion),
    "classifier": (ClassifierConfig, Classifier),
}


def check_family(name: str) -> str:
    """Return ``name`` if registered, else raise ``ValueError`` listing the known families."""
    if name not in REGISTRY:
        raise ValueError(f"Unknown model {name!r}. Known models: {', '.join(REGISTRY)}.")
    return name


def make_config(family: str, **overrides: Any) -> Any:
    """The family's config dataclass with ``overrides``; unknown keys raise ``ValueError``."""
    config_cls, _ = REGISTRY[check_family(family)]
    known = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = set(overrides) - set(known)
    if unknown:
        raise ValueError(f"{family} has no option(s) {sorted(unknown)}; options: {sorted(known)}.")
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return config_cls(**fixed)


def build_model(family: str, config: Any = None, **overrides: Any) -> nn.Module:
    """Build an untrained model of ``family`` from a config (or defaults + overrides)."""
    _, model_cls = REGISTRY[check_family(family)]
    return model_cls(config if config is not None else make_config(family, **overrides))


__all__ = [
    "REGISTRY", "GAN", "build_model", "make_config", "check_family",
    "MLPGAN", "DCGAN", "CGAN", "VAE", "Diffusion", "Classifier",
    "MLPGANConfig", "DCGANConfig", "CGANConfig", "VAEConfig", "DiffusionConfig", "ClassifierConfig",
]
