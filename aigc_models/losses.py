"""GAN and VAE objectives. All take logits, never probabilities.

* Non-saturating GAN loss (Goodfellow et al. 2014, arXiv:1406.2661, section 3):
  D maximises log D(x) + log(1 - D(G(z))); G maximises log D(G(z)).
  With logits: softplus(-l) = -log sigmoid(l), the numerically stable form of
  ``Sigmoid`` + ``BCELoss`` that the source documents used.
* Hinge loss (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018).
* Negative ELBO with a Bernoulli decoder (Kingma & Welling 2014, arXiv:1312.6114,
  appendix B for the Gaussian KL), in nats per image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GAN_LOSSES = ("ns", "hinge")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "ns") -> torch.Tensor:
    """Scalar D loss from logits ``(B,)`` on real and fake images."""
    if kind == "ns":
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    if kind == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    raise ValueError(f"Unknown GAN loss {kind!r}; choose from {GAN_LOSSES}.")


def generator_loss(fake_logits: torch.Tensor, kind: str = "ns") -> torch.Tensor:
    """Scalar G loss from D's logits ``(B,)`` on fake images."""
    if kind == "ns":
        return F.softplus(-fake_logits).mean()
    if kind == "hinge":
        return -fake_logits.mean()
    raise ValueError(f"Unknown GAN loss {kind!r}; choose from {GAN_LOSSES}.")


def vae_loss(
    logits: torch.Tensor, images: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Negative ELBO, reconstruction and KL terms, each a scalar mean over the batch, in nats.

    Args:
        logits: decoder Bernoulli logits ``(B, 1, 28, 28)``.
        images: targets in [-1, 1], mapped to pixel probabilities in [0, 1].
        mu, logvar: ``(B, latent_dim)``.
    """
    targets = (images + 1) / 2
    recon = F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="sum") / images.shape[0]
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / images.shape[0]
    return recon + kl, recon, kl
