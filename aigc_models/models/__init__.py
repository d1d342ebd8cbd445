"""The model registry: every family, registered once.

Each family module (one per family) ends with a ``FAMILY = Family(...)`` entry: its config
dataclass (which carries its own bounds, ``aigc_models.configs``), its model class, its
display names, what it can do (``base.ABILITIES``) and its training defaults. ``REGISTRY``
lists them; the CLI's choices and flags, the app's pickers, the Train tab, ``list`` and
checkpoint validation all read it, so that adding a family is one module and one line here.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..configs import build_config
from . import cgan, classifier, dcgan, diffusion, espcn, mlp_gan, pixelcnn, srcnn, vae
from .base import ABILITIES, GAN, Family
from .cgan import CGAN, CGANConfig
from .classifier import Classifier, ClassifierConfig
from .dcgan import DCGAN, DCGANConfig
from .diffusion import Diffusion, DiffusionConfig
from .espcn import ESPCN
from .mlp_gan import MLPGAN, MLPGANConfig
from .pixelcnn import PixelCNN, PixelCNNConfig
from .srcnn import SRCNN
from .superres import SuperResConfig
from .vae import VAE, VAEConfig

REGISTRY: dict[str, Family] = {f.name: f for f in (
    mlp_gan.FAMILY,
    dcgan.FAMILY,
    cgan.FAMILY,
    vae.FAMILY,
    diffusion.FAMILY,
    pixelcnn.FAMILY,
    srcnn.FAMILY,
    espcn.FAMILY,
    classifier.FAMILY,
)}


DEFAULT_FAMILY = "dcgan"
"""What ``TrainConfig`` trains when no model is named."""

LIVE_DEFAULT_FAMILY = "cgan"
"""What the app's Train tab offers first: of the live recipes, the one whose samples a student
recognises soonest. ``bench --watchable`` (30 s on this 2-core CPU, 3 seeds, docs/watchable-bench.json):
the cGAN covered 10 of 10 classes at a median FD of 280 (class accuracy 0.82), the DCGAN 10 of 10 at
462, the MLP GAN 5-6 of 10 at 835."""


def register(family: Family) -> Family:
    """Add a family at run time (a plug-in, or a test's toy family); ``ValueError`` if the name is taken."""
    if family.name in REGISTRY:
        raise ValueError(f"A model family named {family.name!r} is already registered.")
    REGISTRY[family.name] = family
    return family


def unregister(name: str) -> None:
    """Remove a family added with ``register`` (tests clean up with it)."""
    REGISTRY.pop(name, None)


def check_family(name: object) -> str:
    """Return ``name`` if registered, else raise ``ValueError`` listing the known families."""
    if not isinstance(name, str) or name not in REGISTRY:
        from ..validation import show

        raise ValueError(f"Unknown model {show(name)}. Known models: {', '.join(REGISTRY)}.")
    return name


def family(name: object) -> Family:
    """The registry entry of ``name`` (``ValueError`` listing the known ones otherwise)."""
    return REGISTRY[check_family(name)]


def families_with(*abilities: str) -> tuple[str, ...]:
    """Names of the registered families that have every one of ``abilities``, in registry order."""
    unknown = set(abilities) - ABILITIES
    if unknown:
        raise ValueError(f"Unknown abilities {sorted(unknown)}; known: {sorted(ABILITIES)}.")
    return tuple(name for name, f in REGISTRY.items() if f.can(*abilities))


def make_config(name: str, **overrides: Any) -> Any:
    """The family's frozen config with checked ``overrides`` (lists become tuples); a bad or
    unknown field raises ``ValueError`` naming it and what it accepts."""
    return build_config(family(name).config, overrides, where=name)


def build_model(name: str, config: Any = None, **overrides: Any) -> nn.Module:
    """Build an untrained model of family ``name`` from a config (or defaults + overrides)."""
    entry = family(name)
    return entry.model(config if config is not None else make_config(name, **overrides))


__all__ = [
    "REGISTRY", "DEFAULT_FAMILY", "LIVE_DEFAULT_FAMILY", "ABILITIES", "Family", "GAN", "build_model", "make_config", "check_family", "family",
    "families_with", "register", "unregister",
    "MLPGAN", "DCGAN", "CGAN", "VAE", "Classifier", "Diffusion", "PixelCNN", "SRCNN", "ESPCN",
    "MLPGANConfig", "DCGANConfig", "CGANConfig", "VAEConfig", "ClassifierConfig", "DiffusionConfig", "PixelCNNConfig",
    "SuperResConfig",
]
