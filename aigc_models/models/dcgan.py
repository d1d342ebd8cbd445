"""DCGAN (Radford et al. 2016, arXiv:1511.06434) sized for 28 x 28.

G: linear to (2c, 7, 7), two stride-2 transposed convolutions with BatchNorm and
ReLU, ``Tanh`` out. D: two stride-2 convolutions with LeakyReLU 0.2 (spectral
norm optional), a linear logit. Each feature under the logit sees a patch of
3k - 2 pixels square for kernel size k (``d_kernel``): 10 x 10 for 4 (the default),
13 x 13 for 5, 16 x 16 for 6. ``d_stages=3`` adds a third convolution to (4c, 4, 4):
18 x 18 patches with 4 x 4 kernels, 21 x 21 with 5 x 5. A D that sees more of the
digit learns faster per step but, left unbounded, unbalanced the classes;
with spectral norm (and the hinge loss) it kept them even and trained well at
lr 2e-3: the shipped DCGANs use ``d_stages=3, d_kernel=5, spectral_norm=True``,
about 1.7x the time per step of the default (docs/performance-notes.md).
``minibatch_std`` as in the MLP GAN. This is also the document's Keras "seed
generator" done right: one channel, and D trained on its own.
"""


from dataclasses import dataclass

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..configs import bounded, dataset_field
from .base import GAN, GAN_SEARCH_SPACE, HUB_KWARGS, Choice, Family, MinibatchStd, maybe_spectral_norm


@dataclass(frozen=True)
class DCGANConfig:
    dataset: str = dataset_field()
    latent_dim: int = bounded(64, lo=1, hi=1024, help="size of the noise vector z")
    g_channels: int = bounded(64, lo=1, hi=1024, help="G's base channel width")
    d_channels: int = bounded(64, lo=1, hi=1024, help="D's base channel width")
    spectral_norm: bool = False
    minibatch_std: bool = False  # D also sees how much a group of 4 samples differ (against mode dropping)
    # D's kernel size: each feature under the logit sees 3k - 2 pixels square (10, 13, 16)
    d_kernel: int = bounded(4, lo=4, hi=6, help="D's kernel size (4, 5 or 6)")
    # 3 adds a conv to (4c, 4, 4): features before the logit see 18 x 18 pixels (21 x 21 with d_kernel=5)
    d_stages: int = bounded(2, lo=2, hi=3, help="D's stride-2 stages (2 or 3)")


class ConvGenerator(nn.Module):
    """z ``(B, in_dim)`` -> images ``(B, 1, 28, 28)`` in [-1, 1]."""

    def __init__(self, in_dim: int, channels: int) -> None:
        super().__init__()
        c = channels
        self.c = c
        self.project = nn.Sequential(nn.Linear(in_dim, 2 * c * 7 * 7, bias=False), nn.BatchNorm1d(2 * c * 7 * 7), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False),  # (B, c, 14, 14)
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, 2, 1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, 2 * self.c, 7, 7)  # (B, 2c, 7, 7)
        return self.up(h)


class ConvFeatures(nn.Module):
    """images ``(B, 1, 28, 28)`` -> features ``(B, 2c * 7 * 7)``, or ``(B, 4c * 4 * 4)`` with ``stages=3``."""

    def __init__(self, channels: int, spectral_norm: bool, stages: int = 2, kernel: int = 4) -> None:
        super().__init__()
        if stages not in (2, 3):
            raise ValueError(f"d_stages must be 2 or 3, got {stages}.")
        if kernel not in (4, 5, 6):
            raise ValueError(f"d_kernel must be 4, 5 or 6, got {kernel}.")
        c, pad = channels, (kernel - 1) // 2  # stride 2 with this padding halves 28 -> 14 -> 7 for k = 4, 5, 6
        layers: list[nn.Module] = [
            maybe_spectral_norm(nn.Conv2d(1, c, kernel, 2, pad), spectral_norm),  # (B, c, 14, 14)
            nn.LeakyReLU(0.2),
            maybe_spectral_norm(nn.Conv2d(c, 2 * c, kernel, 2, pad), spectral_norm),  # (B, 2c, 7, 7)
            nn.LeakyReLU(0.2),
        ]
        if stages == 3:
            layers += [maybe_spectral_norm(nn.Conv2d(2 * c, 4 * c, 3, 2, 1), spectral_norm), nn.LeakyReLU(0.2)]  # (B, 4c, 4, 4)
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.dim = 2 * c * 7 * 7 if stages == 2 else 4 * c * 4 * 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDiscriminator(nn.Module):
    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.features = ConvFeatures(config.d_channels, config.spectral_norm, config.d_stages, config.d_kernel)
        self.spread = MinibatchStd() if config.minibatch_std else nn.Identity()
        self.head = maybe_spectral_norm(nn.Linear(self.features.dim + config.minibatch_std, 1), config.spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.spread(self.features(x))).squeeze(1)  # (B,) logits


class DCGAN(GAN, PyTorchModelHubMixin, **HUB_KWARGS, tags=["gan", "dcgan", "aigc-lab"]):
    family = "dcgan"

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = ConvGenerator(config.latent_dim, config.g_channels)
        self.discriminator = ConvDiscriminator(config)


FAMILY = Family("dcgan", DCGANConfig, DCGAN, label="DCGAN", label_zh="DCGAN",
                abilities=frozenset({"generate", "discriminate", "interpolate", "train_live"}),
                width_fields=("g_channels", "d_channels"),
                search_space={**GAN_SEARCH_SPACE, "width": Choice((16, 32, 64))})
