"""Convolutional VAE (Kingma & Welling 2014, arXiv:1312.6114).

``encode`` -> (mu, logvar), ``reparameterize`` -> z, ``decode`` -> Bernoulli
logits per pixel. Pixel intensities in [0, 1] are the Bernoulli targets (as in
pytorch/examples ``vae/main.py``); the ELBO is reported in nats per image.
A 2-D latent gives a drawable latent map; 16 or more gives better images.
With ``binarized`` the model trains on images binarized afresh each batch, so the
Bernoulli likelihood is of binary pixels: the binarized-MNIST benchmark, where
``metrics.vae_test_nll`` bounds its test NLL by importance sampling.
"""


from dataclasses import dataclass
from typing import ClassVar

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..configs import bounded, dataset_field
from .base import HUB_KWARGS, CheckedHubMixin, Choice, Family, Range


@dataclass(frozen=True)
class VAEConfig:
    dataset: str = dataset_field()
    latent_dim: int = bounded(16, lo=1, hi=1024, help="latent size (2 gives a drawable map)")
    channels: int = bounded(32, lo=1, hi=1024, help="base channel width")
    binarized: bool = bounded(False, help="train on images binarized afresh each batch (pixels white with probability "
                                          "grey / 255): a Bernoulli likelihood of binary pixels, the binarized-MNIST "
                                          "likelihood benchmark")


class VAE(CheckedHubMixin, nn.Module, PyTorchModelHubMixin, **HUB_KWARGS, tags=["vae", "aigc-lab"]):
    objective: ClassVar[str] = "elbo"
    family: ClassVar[str] = "vae"
    num_classes: ClassVar[int] = 0

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1),  # (B, c, 14, 14)
            nn.ReLU(),
            nn.Conv2d(c, 2 * c, 4, 2, 1),  # (B, 2c, 7, 7)
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * c * 7 * 7, 2 * config.latent_dim),  # (B, 2 * latent): mu, logvar
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, 2 * c * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (2 * c, 7, 7)),  # (B, 2c, 7, 7)
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1),  # (B, c, 14, 14)
            nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, 2, 1),  # (B, 1, 28, 28) logits
        )

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    def as_input(self, x: torch.Tensor) -> torch.Tensor:
        """The images ``(B, 1, 28, 28)`` in [-1, 1] as the encoder reads them: unchanged, or for a
        ``binarized`` model, which never saw a grey pixel, thresholded at mid-grey to {-1, 1} (the
        likeliest of the stochastic binarizations it trained on; binary images pass unchanged)."""
        return torch.where(x > 0, 1.0, -1.0).to(x.dtype) if self.config.binarized else x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images ``(B, 1, 28, 28)`` in [-1, 1] -> (mu, logvar), each ``(B, latent_dim)``; the
        images pass through ``as_input`` first."""
        mu, logvar = self.encoder(self.as_input(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-30, 20)

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I); same shape as mu."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z ``(B, latent_dim)`` -> Bernoulli logits ``(B, 1, 28, 28)``."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z ``(B, latent_dim)`` -> mean images ``(B, 1, 28, 28)`` in [-1, 1]."""
        return torch.sigmoid(self.decode_logits(z)) * 2 - 1

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x in [-1, 1] -> (logits ``(B, 1, 28, 28)``, mu, logvar)."""
        mu, logvar = self.encode(x)
        return self.decode_logits(self.reparameterize(mu, logvar)), mu, logvar


FAMILY = Family("vae", VAEConfig, VAE, label="VAE", label_zh="VAE",
                abilities=frozenset({"generate", "encode", "interpolate", "train_live"}), width_fields=("channels",),
                search_space={"lr": Range(3e-4, 1e-2, log=True), "batch_size": Choice((64, 128, 256)),
                              "width": Choice((16, 32, 64)), "latent_dim": Choice((8, 16, 32))})
