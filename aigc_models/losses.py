"""GAN and VAE objectives. All take logits, never probabilities.

* Non-saturating GAN loss (Goodfellow et al. 2014, arXiv:1406.2661, section 3):
  D maximises log D(x) + log(1 - D(G(z))); G maximises log D(G(z)).
  With logits: softplus(-l) = -log sigmoid(l), the numerically stable form of
  ``Sigmoid`` + ``BCELoss`` that the source documents used.
* Hinge loss (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018).
* R1 penalty (Mescheder et al. 2018, arXiv:1801.04406): gamma / 2 times the squared
  norm of D's gradient at real images, which keeps D from growing steep around the data.
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


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor, gamma: float) -> torch.Tensor:
    """Scalar ``gamma / 2 * E ||d logit / d x||^2`` for logits ``(B,)`` computed from
    ``real_images`` ``(B, 1, 28, 28)`` (which must require grad). The graph is kept, so
    the penalty's gradient reaches D's weights."""
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real_images, create_graph=True)
    return 0.5 * gamma * grad.pow(2).flatten(1).sum(1).mean()


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
