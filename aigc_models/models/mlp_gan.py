"""The source document's MLP GAN (section 1.1), with its flaws fixed.

Architecture kept as published: G 100-256-512-1024-784 (ReLU, Tanh),
D 784-512-256-1 (LeakyReLU 0.2).

Fixed:
* D ends in a logit, not ``Sigmoid``; the loss is ``BCEWithLogits``/softplus
  (numerically stable, works under autocast).
* Real images are scaled to [-1, 1] to match G's ``Tanh`` (the document fed
  ``ToTensor()`` images in [0, 1], so any negative pixel marked a fake).
* Adam betas (0.5, 0.999) in the trainer (the document used the defaults).
* Dropout (0.3) in D's hidden layers, as in Goodfellow et al. 2014: without it
  this D out-learned G on MNIST and G collapsed to speckle noise within 4,000
  steps (measured: every sample classified as one class).
* BatchNorm after each hidden layer of G (as in DCGAN). Without it G ignored z
  within the first 250 steps: the per-pixel standard deviation across 64
  samples stayed at 0.045 up to step 1,000 (real MNIST: 0.36; with BatchNorm:
  0.30), and all 10,000 samples of a 600-second run were classified as one
  class. ``g_batchnorm=False`` gives the document's generator back.
* ``spectral_norm=True`` (Miyato et al. 2018) is an option for D.
* ``minibatch_std=True`` gives D one more input, how much a group of four
  samples differ (Karras et al. 2018). The documents name mode collapse and
  offer no way for D to see it; with it the Fashion-MNIST MLP GAN stopped
  under-drawing pullovers (docs/performance-notes.md). The shipped MLP GANs use
  it.
"""


from dataclasses import dataclass

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..configs import bounded, dataset_field
from .base import GAN, GAN_SEARCH_SPACE, HUB_KWARGS, Family, MinibatchStd, maybe_spectral_norm


@dataclass(frozen=True)
class MLPGANConfig:
    dataset: str = dataset_field()
    latent_dim: int = bounded(100, lo=1, hi=1024, help="size of the noise vector z")
    g_hidden: tuple[int, ...] = bounded((256, 512, 1024), lo=1, hi=8192, layers=(1, 8), help="G's hidden layer sizes")
    d_hidden: tuple[int, ...] = bounded((512, 256), lo=1, hi=8192, layers=(1, 8), help="D's hidden layer sizes")
    d_dropout: float = bounded(0.3, lo=0.0, hi=1.0, hi_open=True, help="dropout in D's hidden layers")
    g_batchnorm: bool = True
    spectral_norm: bool = False
    minibatch_std: bool = False  # D also sees how much a group of 4 samples differ (against mode dropping)


def mlp(sizes: list[int], act: nn.Module) -> list[nn.Module]:
    """Linear layers with ``act`` between them (not after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act)
    return layers


class MLPGenerator(nn.Module):
    def __init__(self, config: MLPGANConfig, in_extra: int = 0) -> None:
        super().__init__()
        sizes = [config.latent_dim + in_extra, *config.g_hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers.append(nn.Linear(a, b, bias=not config.g_batchnorm))
            if config.g_batchnorm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], 28 * 28), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 28, 28)  # (B, 1, 28, 28)


class MLPDiscriminator(nn.Module):
    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip([28 * 28, *config.d_hidden[:-1]], config.d_hidden):
            layers += [maybe_spectral_norm(nn.Linear(a, b), config.spectral_norm), nn.LeakyReLU(0.2),
                       nn.Dropout(config.d_dropout)]
        if config.minibatch_std:
            layers.append(MinibatchStd())
        self.features = nn.Sequential(*layers)
        self.head = maybe_spectral_norm(nn.Linear(config.d_hidden[-1] + config.minibatch_std, 1), config.spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.flatten(1))).squeeze(1)  # (B,) logits


class MLPGAN(GAN, PyTorchModelHubMixin, **HUB_KWARGS, tags=["gan", "mnist", "aigc-lab"]):
    family = "mlp-gan"

    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = MLPGenerator(config)
        self.discriminator = MLPDiscriminator(config)


FAMILY = Family("mlp-gan", MLPGANConfig, MLPGAN, label="MLP GAN", label_zh="MLP GAN",
                abilities=frozenset({"generate", "discriminate", "interpolate", "train_live"}),
                search_space=GAN_SEARCH_SPACE)
