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
"""


from dataclasses import dataclass

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import GAN, HUB_KWARGS


@dataclass
class MLPGANConfig:
    dataset: str = "mnist"
    latent_dim: int = 100
    g_hidden: tuple[int, ...] = (256, 512, 1024)
    d_hidden: tuple[int, ...] = (512, 256)
    d_dropout: float = 0.3


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
        sizes = [config.latent_dim + in_extra, *config.g_hidden, 28 * 28]
        self.net = nn.Sequential(*mlp(sizes, nn.ReLU()), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 28, 28)  # (B, 1, 28, 28)


class MLPDiscriminator(nn.Module):
    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip([28 * 28, *config.d_hidden[:-1]], config.d_hidden):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2), nn.Dropout(config.d_dropout)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(config.d_hidden[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.flatten(1))).squeeze(1)  # (B,) logits


class MLPGAN(GAN, PyTorchModelHubMixin, **HUB_KWARGS, tags=["gan", "mnist", "aigc-lab"]):
    family = "mlp-gan"

    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = MLPGenerator(config)
        self.discriminator = MLPDiscriminator(config)
