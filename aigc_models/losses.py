"""GAN, VAE, diffusion and autoregressive objectives. The GAN and VAE losses take logits, never probabilities.

* Non-saturating GAN loss (Goodfellow et al. 2014, arXiv:1406.2661, section 3):
  D maximises log D(x) + log(1 - D(G(z))); G maximises log D(G(z)).
  With logits: softplus(-l) = -log sigmoid(l), the numerically stable form of
  ``Sigmoid`` + ``BCELoss`` that the source documents used.
* Hinge loss (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018).
* R1 penalty (Mescheder et al. 2018, arXiv:1801.04406): gamma / 2 times the squared
  norm of D's gradient at real images, which keeps D from growing steep around the data.
* Negative ELBO with a Bernoulli decoder (Kingma & Welling 2014, arXiv:1312.6114,
  appendix B for the Gaussian KL), in nats per image.
* Denoising diffusion (Ho et al. 2020, arXiv:2006.11239, algorithm 1 and eq. 14): predict
  the noise in x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps; linear schedule (Ho et al.) or
  cosine schedule (Nichol & Dhariwal 2021, arXiv:2102.09672, eq. 17).
* Flow matching (Lipman et al. 2023, arXiv:2210.02747) on rectified flow's straight path
  (Liu et al. 2023, arXiv:2209.03003): predict the velocity noise - x0 at
  x_sigma = (1 - sigma) x0 + sigma noise (diffusers' sigma convention: 1 = noise, 0 = data).
* Label dropout for classifier-free guidance (Ho & Salimans 2022, arXiv:2207.12598).
* Exact negative log-likelihood of an autoregressive model (van den Oord et al. 2016,
  arXiv:1601.06759): a K-way cross-entropy per pixel, summed over the image, in nats.
"""

from __future__ import annotations

import math

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


# ----------------------------------------------------------------------------- diffusion


def ddpm_betas(schedule: str, num_train_timesteps: int) -> torch.Tensor:
    """The variances beta_1..beta_T ``(T,)`` float64 of a DDPM noise schedule.

    "linear": Ho et al. 2020's 1e-4 .. 0.02 over 1,000 steps (both ends scaled by 1000 / T for
    other T, as in improved-diffusion; meant for T of a few hundred or more). "cosine": Nichol & Dhariwal 2021, eq. 17:
    abar(t) = cos^2(((t / T + s) / (1 + s)) * pi / 2) with s = 0.008, beta_t = 1 - abar(t) / abar(t - 1)
    clipped at 0.999. At T = 1000 both equal diffusers' "linear" and "squaredcos_cap_v2" (tested).
    """
    t = num_train_timesteps
    if schedule == "linear":
        scale = 1000 / t
        return torch.linspace(scale * 1e-4, scale * 0.02, t, dtype=torch.float64)
    if schedule == "cosine":
        steps = torch.arange(t + 1, dtype=torch.float64) / t
        abar = torch.cos((steps + 0.008) / 1.008 * math.pi / 2) ** 2
        return (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    raise ValueError(f"Unknown noise schedule {schedule!r}; choose one of: linear, cosine.")


def ddpm_alphas_cumprod(schedule: str, num_train_timesteps: int) -> torch.Tensor:
    """abar_t = prod_{s <= t} (1 - beta_s) for t = 0..T-1: ``(T,)`` float64, from near 1 down to near 0."""
    return torch.cumprod(1 - ddpm_betas(schedule, num_train_timesteps), dim=0)


def ddpm_noise(x0: torch.Tensor, noise: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """A draw from q(x_t | x0) = N(sqrt(abar) x0, (1 - abar) I): images ``(B, 1, 28, 28)``, abar ``(B,)``."""
    abar = abar.to(x0.dtype).view(-1, 1, 1, 1)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def flow_noise(x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The point at noise level sigma ``(B,)`` in [0, 1] on the straight line from the data x0
    (sigma 0) to the noise (sigma 1): ``(1 - sigma) x0 + sigma noise``."""
    sigma = sigma.to(x0.dtype).view(-1, 1, 1, 1)
    return (1 - sigma) * x0 + sigma * noise


def drop_labels(labels: torch.Tensor, p: float, null_label: int) -> torch.Tensor:
    """``labels`` ``(B,)`` with each replaced by ``null_label`` with probability ``p``, so one network
    also learns the unconditional prediction (classifier-free guidance, Ho & Salimans 2022)."""
    if p <= 0:
        return labels
    dropped = torch.rand(labels.shape, device=labels.device) < p
    return torch.where(dropped, torch.full_like(labels, null_label), labels)


def ddpm_loss(model, x0: torch.Tensor, labels: torch.Tensor, *, label_dropout: float = 0.0) -> torch.Tensor:
    """Ho et al. 2020's simple loss: || eps - eps_theta(x_t, t, y) ||^2 with t ~ U{0..T-1},
    eps ~ N(0, I) and x_t ~ q(x_t | x0); scalar mean. Schedule and T from ``model.config``;
    random draws from torch's global generator."""
    cfg = model.config
    t = torch.randint(0, cfg.num_train_timesteps, (x0.shape[0],), device=x0.device)
    abar = ddpm_alphas_cumprod(cfg.schedule, cfg.num_train_timesteps).to(x0.device)[t]
    eps = torch.randn_like(x0)
    x_t = ddpm_noise(x0, eps, abar)
    predicted = model(x_t, t.float(), drop_labels(labels, label_dropout, model.null_label))
    return F.mse_loss(predicted.float(), eps)


def flow_matching_loss(model, x0: torch.Tensor, labels: torch.Tensor, *, label_dropout: float = 0.0) -> torch.Tensor:
    """Conditional flow matching (Lipman et al. 2023) on the straight path of rectified flow
    (Liu et al. 2023): || (noise - x0) - u_theta(x_sigma, sigma T, y) ||^2 with sigma ~ U(0, 1),
    x_sigma = (1 - sigma) x0 + sigma noise; scalar mean. ``noise - x0`` is d x_sigma / d sigma, the
    direction diffusers' flow-match schedulers step along (from sigma 1 to 0). Random draws from
    torch's global generator."""
    if model.config.time_sampling == "logit-normal":
        sigma = torch.sigmoid(torch.randn(x0.shape[0], device=x0.device))
    else:
        sigma = torch.rand(x0.shape[0], device=x0.device)
    noise = torch.randn_like(x0)
    x_sigma = flow_noise(x0, noise, sigma)
    predicted = model(x_sigma, sigma * model.config.num_train_timesteps,
                      drop_labels(labels, label_dropout, model.null_label))
    return F.mse_loss(predicted.float(), noise - x0)


# ----------------------------------------------------------------------------- autoregressive


def categorical_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Exact negative log-likelihood of an autoregressive model over K levels, in nats per image
    ``(B,)``: ``-sum_i log softmax(logits_i)[x_i]`` over the 784 pixels, each pixel's logits computed
    from the pixels before it (van den Oord et al. 2016, "Pixel Recurrent Neural Networks",
    arXiv:1601.06759, eq. 1-2: the chain rule with a K-way softmax per pixel).

    Args:
        logits: ``(B, K, 28, 28)``, any real values (float32 or float64; the sum keeps their precision).
        targets: the image's levels ``(B, 1, 28, 28)`` int64 in 0..K-1.

    Logits that are all equal give exactly ``784 log K``; divide by ``784 log 2`` for bits per dimension.
    """
    per_pixel = F.cross_entropy(logits, targets[:, 0], reduction="none")  # (B, 28, 28)
    return per_pixel.flatten(1).sum(1)
