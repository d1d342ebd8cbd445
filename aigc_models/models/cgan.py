"""Class-conditional GAN: label embedding into G, projection discriminator.

G sees ``concat(z, embed(y))`` (the source document's section 3.1 concatenated a
one-hot label; an embedding is the same map, learned). D is a projection
discriminator (Miyato & Koyama 2018, arXiv:1802.05637):
``logit = w . phi(x) + <embed(y), phi(x)>``, which conditions far better than
concatenating the label to the pixels as the document did.

``arch="mlp"`` keeps the document's MLP sizes; ``arch="conv"`` uses the DCGAN
stages, with the DCGAN's ``d_stages`` and ``d_kernel`` options for D. Class morphs
interpolate the class embedding at fixed noise.
"""


from dataclasses import dataclass

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..configs import bounded, dataset_field
from .base import GAN, GAN_SEARCH_SPACE, HUB_KWARGS, Choice, Family, maybe_spectral_norm
from .dcgan import ConvFeatures, ConvGenerator
from .mlp_gan import MLPGANConfig, mlp


@dataclass(frozen=True)
class CGANConfig:
    dataset: str = dataset_field()
    arch: str = bounded("conv", choices=("conv", "mlp"), help="DCGAN stages or the documents' MLP")
    latent_dim: int = bounded(64, lo=1, hi=1024, help="size of the noise vector z")
    num_classes: int = bounded(10, lo=1, hi=1000, help="number of classes")
    embed_dim: int = bounded(32, lo=1, hi=1024, help="size of G's class embedding")
    g_channels: int = bounded(64, lo=1, hi=1024, help="G's base channel width (conv)")
    d_channels: int = bounded(64, lo=1, hi=1024, help="D's base channel width (conv)")
    g_hidden: tuple[int, ...] = bounded((256, 512, 1024), lo=1, hi=8192, layers=(1, 8), help="G's hidden sizes (mlp)")
    d_hidden: tuple[int, ...] = bounded((512, 256), lo=1, hi=8192, layers=(1, 8), help="D's hidden sizes (mlp)")
    spectral_norm: bool = False
    d_kernel: int = bounded(4, lo=4, hi=6, help="conv D's kernel size, as in the DCGAN")
    d_stages: int = bounded(2, lo=2, hi=3, help="conv D's stride-2 stages, as in the DCGAN")


class ConditionalGenerator(nn.Module):
    def __init__(self, config: CGANConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(config.num_classes, config.embed_dim)
        in_dim = config.latent_dim + config.embed_dim
        if config.arch == "conv":
            self.body: nn.Module = ConvGenerator(in_dim, config.g_channels)
        else:
            self.body = nn.Sequential(*mlp([in_dim, *config.g_hidden, 28 * 28], nn.ReLU()), nn.Tanh())

    def class_embedding(self, labels: torch.Tensor) -> torch.Tensor:
        """labels ``(B,)`` -> embeddings ``(B, embed_dim)``; interpolate these for class morphs."""
        return self.embed(labels)

    def forward(self, z: torch.Tensor, class_embedding: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, class_embedding], dim=1)).view(-1, 1, 28, 28)  # (B, 1, 28, 28)


class ProjectionDiscriminator(nn.Module):
    def __init__(self, config: CGANConfig) -> None:
        super().__init__()
        sn = config.spectral_norm
        if config.arch == "conv":
            self.features: nn.Module = ConvFeatures(config.d_channels, sn, config.d_stages, config.d_kernel)
            dim = self.features.dim
        else:
            self.features = nn.Sequential(
                nn.Flatten(), *mlp([28 * 28, *config.d_hidden], nn.LeakyReLU(0.2)), nn.LeakyReLU(0.2)
            )
            dim = config.d_hidden[-1]
        self.head = maybe_spectral_norm(nn.Linear(dim, 1), sn)
        self.embed = maybe_spectral_norm(nn.Embedding(config.num_classes, dim), sn)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (B, F)
        return self.head(h).squeeze(1) + (self.embed(labels) * h).sum(1)  # (B,) logits


class CGAN(GAN, PyTorchModelHubMixin, **HUB_KWARGS, tags=["gan", "conditional-gan", "aigc-lab"]):
    family = "cgan"

    def __init__(self, config: CGANConfig) -> None:
        super().__init__()
        if config.arch not in ("conv", "mlp"):
            raise ValueError(f"cgan arch must be 'conv' or 'mlp', got {config.arch!r}.")
        self.config = config
        self.generator = ConditionalGenerator(config)
        self.discriminator = ProjectionDiscriminator(config)


FAMILY = Family("cgan", CGANConfig, CGAN, label="cGAN", label_zh="条件 GAN",
                abilities=frozenset({"generate", "condition", "discriminate", "class_morph", "interpolate", "train_live"}),
                width_fields=("g_channels", "d_channels"),
                search_space={**GAN_SEARCH_SPACE, "width": Choice((16, 32, 64))})


__all__ = ["CGAN", "CGANConfig", "MLPGANConfig"]
