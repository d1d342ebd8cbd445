"""One training step per objective, each citing its paper; the trainer (``training.train``) picks
one by the model's ``objective`` and knows nothing else about it.

* ``GANObjective``: a D step then a G step (Goodfellow et al. 2014), with DiffAugment (Zhao et
  al. 2020), R1 (Mescheder et al. 2018) and an EMA of G's weights as options.
* ``VAEObjective``: maximise the ELBO (Kingma & Welling 2014).
* ``DiffusionObjective``: DDPM noise prediction (Ho et al. 2020) or flow matching (Lipman et al.
  2023; Liu et al. 2023), with classifier-free guidance's label dropout (Ho & Salimans 2022).
* ``ClassifierObjective``: cross-entropy for the evaluator's classifier.
* ``AutoregressiveObjective``: the exact negative log-likelihood of a PixelCNN (van den Oord et
  al. 2016), on dynamically binarized images when the model has 2 levels.
* ``RegressionObjective``: the pixel loss of a super-resolution model (Dong et al. 2014; Shi et al. 2016).

Each takes the model and the run's ``TrainConfig``; ``step(real, labels)`` returns its losses as
device tensors (read back by the trainer every ``log_every`` steps), and ``export(final=...)``
the model to sample from and save.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .augment import classic_augment, diff_augment
from .data import binarize
from .losses import (GAN_LOSSES, categorical_nll, ddpm_loss, discriminator_loss, drop_labels, flow_matching_loss,
                     generator_loss, r1_penalty, vae_loss)

if TYPE_CHECKING:
    from .training import TrainConfig


OPTIMISERS = ("opt", "opt_g", "opt_d")  # the attributes an objective keeps its optimisers in


def scale_learning_rates(objective: Any, factor: float) -> None:
    """Set every learning rate of ``objective``'s optimisers to ``factor`` times its configured
    value (kept in each parameter group as ``base_lr``, which a teacher's mid-run change moves:
    ``run_control``): a learning-rate schedule's step."""
    for name in OPTIMISERS:
        optimiser = getattr(objective, name, None)
        for group in optimiser.param_groups if optimiser is not None else ():
            group["lr"] = group.setdefault("base_lr", group["lr"]) * factor


def adam(params, *, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with the fused kernel (one pass over each tensor; measured 3x faster per
    MLP-GAN step than the default foreach kernel on 2 CPU cores)."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


class EMA:
    """Exponential moving average of a module's parameters (buffers copied).

    The decay warms up: after n updates it is min(decay, (1 + n) / (warmup + n)), as in diffusers'
    ``EMAModel`` and TensorFlow's ``ExponentialMovingAverage(num_updates=...)``; after about
    9 / (1 - decay) updates (9,000 for 0.999) it is ``decay``. Without it a decay of 0.999 over a
    1,000-step run leaves 0.999^1000 = 37 % of the random initial weights in the average. (The
    diffusion, autoregressive and regression objectives warmed it up by hand before; the GAN and
    VAE averages did not.)"""

    warmup: ClassVar[int] = 10  # 1 turns the warm-up off: (1 + n) / (1 + n) = 1

    def __init__(self, module: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    def current_decay(self) -> float:
        """The decay the next update uses."""
        return min(self.decay, (1 + self.updates) / (self.warmup + self.updates))

    @torch.no_grad()
    def update(self, source: nn.Module) -> None:
        params = list(self.module.parameters())
        torch._foreach_lerp_(params, [p.detach() for p in source.parameters()], 1 - self.current_decay())
        self.updates += 1
        for b_ema, b in zip(self.module.buffers(), source.buffers()):
            b_ema.copy_(b)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, *, batches: int = 16, batch_size: int = 256, seed: int = 0) -> nn.Module:
    """Re-estimate every BatchNorm's running mean and variance in a GAN's G for G's current
    weights, from ``batches`` x ``batch_size`` fresh latents (BigGAN's "standing statistics",
    Brock et al. 2019). An EMA of the weights comes with the live G's running statistics,
    which belong to other weights: measured on 10,000 samples, re-estimating them lifted a
    Fashion-MNIST cGAN's class accuracy from 0.841 to 0.867 (FD 164 -> 149).
    Returns ``model`` with G in eval mode; a G without BatchNorm is left as it is."""
    norms = [m for m in model.generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms:
        device = next(model.parameters()).device
        g = torch.Generator().manual_seed(seed)
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a plain average over all batches
        model.generator.train()
        for _ in range(batches):
            z = torch.randn(batch_size, model.latent_dim, generator=g).to(device)
            labels = torch.randint(0, model.num_classes, (batch_size,), generator=g).to(device) if model.num_classes else None
            model.generate(z, labels)
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
    model.generator.eval()
    return model


@dataclass
class DPhase:
    """What the D phase leaves behind: the fakes it judged, for the G phase to push back
    through D, and its loss and D's logits, for the log.

    ``fake``: ``(B, 1, 28, 28)`` in [-1, 1], still attached to G's graph; ``fake_labels``:
    ``(B,)`` for a conditional model, else None; ``loss_d``: D's loss without R1 (a scalar);
    ``d_real`` / ``d_fake``: D's logits ``(B,)`` on the real batch and on the fakes (detached)."""

    fake: torch.Tensor
    fake_labels: torch.Tensor | None
    loss_d: torch.Tensor
    d_real: torch.Tensor
    d_fake: torch.Tensor


class GANObjective:
    """D step then G step (Goodfellow et al. 2014), optional DiffAugment, R1 and EMA.

    ``step`` is the two phases in a row, as pytorch/examples' ``dcgan/main.py`` writes them:
    ``d_phase`` (update D on a real batch and fresh fakes) then ``g_phase`` (update G through
    the updated D on those same fakes). Either phase can also run alone (``aigc_models.stepper``):
    ``draw_fakes`` gives the G phase fakes of its own."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        betas = cfg.adam_betas()
        self.model, self.cfg = model, cfg
        self.opt_g = adam(model.generator.parameters(), lr=cfg.lr_g, betas=betas)
        self.opt_d = adam(model.discriminator.parameters(), lr=cfg.lr_d, betas=betas)
        self.ema = EMA(model.generator, cfg.ema) if cfg.ema > 0 else None
        self.steps_done = 0  # D phases taken (R1 is applied every r1_every of them)
        if cfg.loss not in GAN_LOSSES:
            raise ValueError(f"Unknown GAN loss {cfg.loss!r}; choose from {GAN_LOSSES}.")

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.cfg.diffaugment) if self.cfg.diffaugment else x

    def fake_labels(self, b: int, device: torch.device) -> torch.Tensor | None:
        """Random classes ``(b,)`` for a conditional model's fakes (torch's global generator), else None."""
        return torch.randint(0, self.model.num_classes, (b,), device=device) if self.model.num_classes else None

    def draw_fakes(self, b: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``b`` fresh fakes ``(b, 1, 28, 28)`` in [-1, 1] attached to G's graph, and their labels
        (None when unconditional): z ~ N(0, I) from torch's global generator."""
        fake_labels = self.fake_labels(b, device)
        z = torch.randn(b, self.model.latent_dim, device=device)
        with self.autocast():
            return self.model.generate(z, fake_labels), fake_labels

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One D step then one G step on ``real`` ``(B, 1, 28, 28)`` in [-1, 1] (``labels`` ``(B,)``);
        returns the losses and D's mean scores (sigmoid of its logits) as device tensors."""
        d = self.d_phase(real, labels)
        loss_g = self.g_phase(d.fake, d.fake_labels)
        return {
            "loss_d": d.loss_d,
            "loss_g": loss_g,
            "d_real": torch.sigmoid(d.d_real.float()).mean(),
            "d_fake": torch.sigmoid(d.d_fake.float()).mean(),
        }

    def d_phase(self, real: torch.Tensor, labels: torch.Tensor) -> DPhase:
        """Update D once on ``real`` ``(B, 1, 28, 28)`` in [-1, 1] (``labels`` ``(B,)``, used by a
        conditional model) and ``B`` fresh fakes, with R1 every ``r1_every`` D phases."""
        model, cfg = self.model, self.cfg
        b = real.shape[0]
        conditional = model.num_classes > 0
        fake_labels = self.fake_labels(b, real.device)
        real_labels = labels if conditional else None
        if cfg.real_augment:
            real = classic_augment(real)
        if cfg.reals_in_unit:  # the documents fed ToTensor() images: any negative pixel then marks a fake
            real = (real + 1) / 2
        z = torch.randn(b, model.latent_dim, device=real.device)
        penalise = cfg.r1 > 0 and self.steps_done % cfg.r1_every == 0
        self.steps_done += 1
        if penalise:
            real = real.detach().requires_grad_(True)

        # -- D: maximise log D(x) + log(1 - D(G(z)))  [fake detached: no G gradients]
        with self.autocast():
            fake = model.generate(z, fake_labels)  # (B, 1, 28, 28), kept attached for the G phase
            d_real = model.discriminate(self.augment(real), real_labels)
            d_fake = model.discriminate(self.augment(fake.detach()), fake_labels)
            loss_d = discriminator_loss(d_real.float(), d_fake.float(), cfg.loss)
        loss_d_total = loss_d + cfg.r1_every * r1_penalty(d_real, real, cfg.r1) if penalise else loss_d
        self.opt_d.zero_grad(set_to_none=True)
        loss_d_total.backward()
        self.opt_d.step()
        return DPhase(fake, fake_labels, loss_d.detach(), d_real.detach(), d_fake.detach())

    def g_phase(self, fake: torch.Tensor, fake_labels: torch.Tensor | None) -> torch.Tensor:
        """Update G once through the current D on ``fake`` ``(B, 1, 28, 28)``, still attached to
        G's graph (``d_phase``'s or ``draw_fakes``'); returns G's loss (a detached scalar)."""
        model, cfg = self.model, self.cfg
        # -- G: maximise log D(G(z))  (non-saturating) through the updated D.
        # D's weights are frozen for this backward: G needs only the gradient w.r.t. D's
        # input, and skipping D's weight gradients saves one of the step's matrix products per layer.
        # Only the weights that train are switched back on: layers frozen for transfer stay frozen.
        trainable = [p for p in model.discriminator.parameters() if p.requires_grad]
        for p in trainable:
            p.requires_grad_(False)
        try:
            with self.autocast():
                d_gen = model.discriminate(self.augment(fake), fake_labels)
                loss_g = generator_loss(d_gen.float(), cfg.loss)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        finally:
            for p in trainable:
                p.requires_grad_(True)
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update(model.generator)
        return loss_g.detach()

    def autocast(self):
        device = next(self.model.parameters()).device
        enabled = self.cfg.amp and device.type == "cuda"
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)

    def export(self, *, final: bool = False) -> nn.Module:
        """The model to sample from and save: G replaced by its EMA when EMA is on.

        ``final`` (saves, evaluations, the end of the run) also re-estimates the EMA G's
        BatchNorm statistics (``recalibrate_batchnorm``); the live sample grids skip it.
        """
        if self.ema is None:
            return self.model
        exported = copy.deepcopy(self.model)
        exported.generator.load_state_dict(self.ema.module.state_dict())
        return recalibrate_batchnorm(exported, seed=self.cfg.seed) if final else exported


class VAEObjective:
    """Maximise the ELBO (Kingma & Welling 2014); of dynamically binarized images when the model's
    config says ``binarized`` (as ``AutoregressiveObjective`` with 2 levels)."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.model = model
        self.opt = adam(model.parameters(), lr=cfg.lr, betas=cfg.adam_betas())

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.model.config.binarized:
            real = binarize(real)  # {-1, 1}, a fresh draw every step
        logits, mu, logvar = self.model(real)
        loss, recon, kl = vae_loss(logits, real, mu, logvar)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"elbo": -loss.detach(), "recon": recon.detach(), "kl": kl.detach()}

    def export(self, *, final: bool = False) -> nn.Module:
        return self.model


class ClassifierObjective:
    """Cross-entropy with random translations (DiffAugment's, used here as plain augmentation)."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.model, self.cfg = model, cfg
        self.opt = adam(model.parameters(), lr=cfg.lr, betas=cfg.adam_betas())
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(self.opt, max_lr=cfg.lr, total_steps=max(cfg.steps, 1))

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.model(diff_augment(real, "translation", strength=0.5))
        loss = nn.functional.cross_entropy(logits, labels)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        if self.schedule.last_epoch < self.schedule.total_steps - 1:
            self.schedule.step()
        return {"loss": loss.detach(), "accuracy": (logits.argmax(1) == labels).float().mean()}

    def export(self, *, final: bool = False) -> nn.Module:
        return self.model


class _AveragedObjective:
    """What the diffusion, autoregressive and regression objectives share: one network, Adam, an optional
    EMA of its weights (``cfg.ema`` > 0), and ``export``. A subclass computes its loss and calls
    ``_descend(loss)``."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.model, self.cfg = model, cfg
        self.opt = adam(model.parameters(), lr=cfg.lr, betas=cfg.adam_betas())
        self.ema = EMA(model, cfg.ema) if cfg.ema > 0 else None
        self.steps_done = 0

    def _descend(self, loss: torch.Tensor) -> None:
        """One Adam step on ``loss`` (a scalar), then the EMA update."""
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.steps_done += 1
        if self.ema is not None:
            self.ema.update(self.model)

    def export(self, *, final: bool = False) -> nn.Module:
        """The model to use and save: the EMA network when EMA is on (a copy when ``final``)."""
        if self.ema is None:
            return self.model
        return copy.deepcopy(self.ema.module) if final else self.ema.module


class DiffusionObjective(_AveragedObjective):
    """Denoising (Ho et al. 2020) or flow matching (Lipman et al. 2023), as the model's config says,
    with label dropout for classifier-free guidance; optional EMA of the whole network."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        super().__init__(model, cfg)
        self.loss = flow_matching_loss if model.config.objective == "flow" else ddpm_loss

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        device = real.device
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.cfg.amp and device.type == "cuda"):
            loss = self.loss(self.model, real, labels, label_dropout=self.model.config.label_dropout)
        self._descend(loss)
        return {"loss": loss.detach()}


class AutoregressiveObjective(_AveragedObjective):
    """Maximum likelihood: minimise the exact ``-log p(x | y)`` of each training image, a K-way
    cross-entropy per pixel given the pixels before it (van den Oord et al. 2016, "Pixel Recurrent
    Neural Networks", arXiv:1601.06759), by teacher forcing: one network pass scores all 784 pixels.

    Targets: with 2 levels each batch is binarized afresh (``data.binarize``, Salakhutdinov &
    Murray's stochastic binarization drawn from torch's global generator, which the run seeds:
    "dynamic" binarization; the benchmark's published models trained on one fixed binarization, the
    test protocol is the same); with more levels the grey values are rounded to the model's levels.
    With ``label_dropout`` p > 0, each image is trained without its class with probability p, so the
    same network learns p(x) for class guidance (as the diffusion models do).
    The model gives ``levels`` (K), ``num_classes``, ``null_label``, ``to_levels`` / ``from_levels`` (images in [-1, 1]
    <-> int levels) and ``forward(x, labels)`` -> logits ``(B, K, 28, 28)``. Optional EMA of the weights."""

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        model = self.model
        if model.levels == 2:
            real = binarize(real)  # {-1, 1}, a fresh draw every step
        targets = model.to_levels(real)  # (B, 1, 28, 28) int64 in 0..K-1
        x = model.from_levels(targets)  # (B, 1, 28, 28) in [-1, 1]
        device = real.device
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.cfg.amp and device.type == "cuda"):
            logits = model(x, drop_labels(labels, model.config.label_dropout, model.null_label) if model.num_classes else None)
        nll = categorical_nll(logits.float(), targets).mean()  # nats per image
        self._descend(nll / targets[0].numel())  # per pixel: the learning rate does not depend on the image size
        nll = nll.detach()
        return {"nll": nll, "bits_per_dim": nll / (targets[0].numel() * math.log(2))}


class RegressionObjective(_AveragedObjective):
    """Pixel loss: minimise the mean squared error between the model's prediction from the
    low-resolution image and the image itself (Dong et al. 2014, SRCNN, eq. 1; Shi et al. 2016, ESPCN,
    eq. 3), which is maximising PSNR. The model gives ``degrade(images)`` -> its low-resolution input
    and ``forward(low)`` -> the prediction ``(B, 1, 28, 28)`` (not clamped, so that an overshooting
    pixel still has a gradient). Optional EMA of the weights.

    With ``model.config.adversarial`` = w > 0, SRGAN's objective (Ledig et al. 2017, with the pixel
    loss as its content loss): a discriminator (``SRDiscriminator``, Adam at the same learning rate,
    betas (0.5, 0.999) as for the lab's GANs) learns to tell the images from their upscaled versions,
    and the upscaler minimises MSE + w x its non-saturating adversarial loss. The discriminator lives
    only here: the checkpoint is the upscaler alone."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        super().__init__(model, cfg)
        self.weight = float(getattr(model.config, "adversarial", 0.0))
        self.critic = self.opt_d = None
        if self.weight > 0:
            from .models.superres import SRDiscriminator

            device = next(model.parameters()).device
            self.critic = SRDiscriminator().to(device)
            self.opt_d = adam(self.critic.parameters(), lr=cfg.lr, betas=(0.5, 0.999))

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One step on ``real`` ``(B, 1, 28, 28)`` in [-1, 1] (labels unused); returns the batch's MSE
        (in [-1, 1] units: 4 x the MSE of images in [0, 1]) and, when adversarial, the upscaler's
        adversarial loss (``loss_adv``) and the discriminator's (``loss_d``)."""
        upscaled = self.model(self.model.degrade(real))
        mse = F.mse_loss(upscaled, real)
        if self.critic is None:
            self._descend(mse)
            return {"mse": mse.detach()}
        critic, opt_d = self.critic, self.opt_d
        assert opt_d is not None
        loss_d = F.softplus(-critic(real)).mean() + F.softplus(critic(upscaled.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        adv = F.softplus(-critic(upscaled)).mean()  # the upscaler's non-saturating loss
        self._descend(mse + self.weight * adv)
        return {"mse": mse.detach(), "loss_adv": adv.detach(), "loss_d": loss_d.detach()}


OBJECTIVES = {"gan": GANObjective, "elbo": VAEObjective, "denoising": DiffusionObjective,
              "cross-entropy": ClassifierObjective, "autoregressive": AutoregressiveObjective,
              "regression": RegressionObjective}

