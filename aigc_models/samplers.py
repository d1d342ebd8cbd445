"""Diffusion samplers: the network predicts, a diffusers scheduler steps.

A diffusion model here (``aigc_models.models.diffusion``) is only a denoiser:
``model(x_t, t, labels)`` returns its prediction. Sampling walks from pure noise
to an image with one of diffusers' schedulers, which knows nothing of the
network (compare diffusers ``pipelines/ddpm/pipeline_ddpm.py``):

* flow objective (the network predicts noise - x0): "euler" and "heun"
  (``FlowMatchEulerDiscreteScheduler``, ``FlowMatchHeunDiscreteScheduler``;
  Heun evaluates the network twice per step but the last);
* ddpm objective (the network predicts the noise): "ddpm" (ancestral, Ho et al.
  2020: adds fresh noise every step), "ddim" (Song et al. 2021, deterministic)
  and "dpm-solver++" (Lu et al. 2022, second-order multistep, deterministic).
  Their betas are the very ones training used (``losses.ddpm_betas``), and the
  steps are spaced "trailing", so the first step starts at t = T - 1, where the
  initial noise belongs (Lin et al. 2024, arXiv:2305.08891, table 2). The last
  step of "ddpm" and "ddim" returns the scheduler's clean-image estimate: where
  the step count does not divide T (7 steps: 999, 856, ..., 142) their step rule
  t - T // steps ends at t = 0, which keeps 1 % of noise (sqrt(1 - abar_0) = 0.01);
  where it divides T the two are the same. All three clip their clean-image estimate to
  [-1, 1] at every step ("ddpm" and "ddim": ``clip_sample``; "dpm-solver++": ``thresholding``
  with ``sample_max_value`` 1). Without it DPM-Solver++ failed on the cosine schedule: its first
  step at t = T - 1, where abar is 2.4e-9, divides the noise prediction's error by sqrt(abar);
  a trained cosine model's samples were a third ink instead of MNIST's 13 %, and a denoiser that
  under-predicts the noise by 10 % landed 0.78 from its target on average, against 0.012 for
  DDIM (``tests/test_diffusion.py``).

Classifier-free guidance (Ho & Salimans 2022, arXiv:2207.12598): one batched
forward of the conditional and the null labels, ``uncond + g (cond - uncond)``;
g = 1 is exactly the conditional prediction (one forward, no mixing) and g = 0
the unconditional one.

The same seed gives the same images: the initial noise comes from the seed
(``sampling.latents``), and the ancestral sampler's extra noise from a generator
seeded by that initial noise. Images are float ``(B, 1, 28, 28)`` in [-1, 1].
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, NamedTuple

import torch
from torch import nn

from .losses import ddpm_alphas_cumprod, ddpm_betas, ddpm_noise, flow_noise
from .models.diffusion import MAX_GUIDANCE, MAX_SAMPLE_STEPS, SAMPLERS, DiffusionConfig
from .sampling import MAX_SAMPLES, check_image, conditional_labels, device_of, latents
from .validation import check_float, check_int, check_seed, show

STOCHASTIC_SAMPLERS = ("ddpm",)  # samplers that draw fresh noise at each step

# ----------------------------------------------------------------------------- arguments


def check_sampler(model: nn.Module, sampler: str | None) -> str:
    """``sampler`` (None = the model's default) if it fits the model's objective, else ``ValueError``."""
    if sampler is None:
        return model.config.sampler
    allowed = SAMPLERS[model.config.objective]
    if not isinstance(sampler, str) or sampler not in allowed:
        raise ValueError(f"Sampler {show(sampler)} does not fit a {model.config.objective}-objective diffusion model; "
                         f"choose one of: {', '.join(allowed)}.")
    return sampler


def check_steps(model: nn.Module, steps: int | None) -> int:
    """``steps`` (None = the model's default) as an int from 1 to 1000 (at most T)."""
    if steps is None:
        return int(model.config.default_steps)
    return check_int(steps, "steps", lo=1, hi=min(MAX_SAMPLE_STEPS, model.config.num_train_timesteps))


def check_guidance(model: nn.Module, guidance: float | None) -> float:
    """``guidance`` (None = the model's default) as a float from 0 (unconditional) to 20."""
    if guidance is None:
        return float(model.config.default_guidance)
    return check_float(guidance, "guidance (1 = plain conditional, 0 = unconditional)", lo=0, hi=MAX_GUIDANCE)


def check_labels(model: nn.Module, labels: Any, n: int) -> torch.Tensor | None:
    """None (unconditional) or ``(n,)`` int64 class labels in 0..num_classes-1."""
    if labels is None:
        return None
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"labels must be None (unconditional) or a tensor of {n} class indices, got {show(labels)}.")
    return conditional_labels(n, model.num_classes, labels.cpu()).to(labels.device)


# ----------------------------------------------------------------------------- schedulers


_IMPORT_LOCK = threading.Lock()


def _diffusers() -> Any:
    """diffusers, with the scheduler classes used here resolved. It is imported here (it takes
    seconds, and only sampling needs it) under a lock: diffusers resolves its names lazily, and
    threads that do it at once (a server's first requests) get AttributeError."""
    with _IMPORT_LOCK:
        import diffusers

        for name in ("FlowMatchEulerDiscreteScheduler", "FlowMatchHeunDiscreteScheduler", "DDPMScheduler",
                     "DDIMScheduler", "DPMSolverMultistepScheduler"):
            getattr(diffusers, name)
    return diffusers


def make_scheduler(sampler: str, config: DiffusionConfig) -> Any:
    """A fresh diffusers scheduler for ``sampler`` that matches how ``config``'s model was trained."""
    diffusers = _diffusers()

    t = config.num_train_timesteps
    if sampler == "euler":
        return diffusers.FlowMatchEulerDiscreteScheduler(num_train_timesteps=t)
    if sampler == "heun":
        return diffusers.FlowMatchHeunDiscreteScheduler(num_train_timesteps=t)
    common = dict(num_train_timesteps=t, trained_betas=ddpm_betas(config.schedule, t).numpy(),
                  timestep_spacing="trailing", prediction_type="epsilon")
    if sampler == "ddpm":
        return diffusers.DDPMScheduler(**common, clip_sample=True)
    if sampler == "ddim":
        return diffusers.DDIMScheduler(**common, clip_sample=True)
    if sampler == "dpm-solver++":
        # thresholding with sample_max_value 1: the clean-image estimate clipped to [-1, 1] at every
        # step, as clip_sample does for ddpm and ddim (see the module's docstring)
        return diffusers.DPMSolverMultistepScheduler(**common, algorithm_type="dpmsolver++", solver_order=2,
                                                     thresholding=True, sample_max_value=1.0)
    raise ValueError(f"Unknown sampler {sampler!r}; choose one of: {', '.join(s for v in SAMPLERS.values() for s in v)}.")


# DDIM recomputes its noise estimate from the clipped clean image, so the two stay one image: with
# the network's own noise beside a clipped clean image, more steps made worse samples (the shipped
# cosine DDPM model at N = 300: FD 62 at 16 steps, 214 at 64; with this, 42 and 36).
STEP_OPTIONS: dict[str, dict[str, Any]] = {"ddim": {"use_clipped_model_output": True}}


def set_steps(scheduler: Any, sampler: str, steps: int) -> None:
    """Give ``scheduler`` ``steps`` steps from pure noise to the image.

    The flow samplers get sigmas 1, (n-1)/n, ..., 1/n, then 0: n equal steps. diffusers' own
    spacing for these schedulers runs from sigma 1 to sigma_min = 1/T and only then to 0, so its
    last step is a step from 0.001 to 0 that does nothing: 2 steps gave the image of 1 (measured:
    the same Frechet distance), and Heun's 2 steps evaluated its corrector on that 1-step image
    at sigma 0.001, where the network has never seen such an input (docs/diffusion-tables.json)."""
    if sampler == "euler":
        scheduler.set_timesteps(sigmas=[1 - i / steps for i in range(steps)])
    elif sampler == "heun":
        # FlowMatchHeunDiscreteScheduler.set_timesteps takes no sigmas; it spaces n times from
        # sigma_max to sigma_min, so a sigma_min of 1/n gives the same equal steps
        scheduler.sigma_min = 1 / steps
        scheduler.set_timesteps(steps)
    else:
        scheduler.set_timesteps(steps)  # ddpm objective: "trailing" spacing (see the module's docstring)


def ancestral_generator(z: torch.Tensor) -> torch.Generator:
    """A CPU generator seeded by the values of the initial noise ``z``: the same noise, the same
    extra noise, so a stochastic sampler is a function of the seed like the others."""
    digest = hashlib.sha256(z.detach().float().cpu().contiguous().numpy().tobytes()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))


# ----------------------------------------------------------------------------- one step


def guided_prediction(model: nn.Module, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None,
                      guidance: float) -> torch.Tensor:
    """The network's prediction ``(B, 1, 28, 28)`` at x ``(B, 1, 28, 28)`` and time t ``(B,)`` under
    classifier-free guidance: ``uncond + guidance * (cond - uncond)`` from ONE forward of 2B
    (the labels, then the null label). Guidance 1 is one plain conditional forward; guidance 0
    or ``labels`` None one unconditional forward."""
    if labels is None or guidance == 0:
        return model(x, t, None)
    if guidance == 1:
        return model(x, t, labels)
    null = torch.full_like(labels, model.null_label)
    cond, uncond = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null])).chunk(2)
    return uncond + guidance * (cond - uncond)


def predicted_x0(config: DiffusionConfig, x: torch.Tensor, t: float, prediction: torch.Tensor) -> torch.Tensor:
    """The clean image implied by a prediction at time t, clamped to [-1, 1]: x - sigma u for flow
    (sigma = t / T), (x - sqrt(1 - abar_t) eps) / sqrt(abar_t) for ddpm."""
    if config.objective == "flow":
        x0 = x - (t / config.num_train_timesteps) * prediction
    else:
        abar = float(ddpm_alphas_cumprod(config.schedule, config.num_train_timesteps)[int(t)])
        x0 = (x - (1 - abar) ** 0.5 * prediction) / abar**0.5
    return x0.clamp(-1, 1)


# ----------------------------------------------------------------------------- the loop


class Trajectory(NamedTuple):
    """One image's way from noise to data, a frame per sampler step (CPU)."""

    x_t: torch.Tensor  # (S, 1, 28, 28): the image after each step; the last is the sample (clamped to [-1, 1])
    x0_hat: torch.Tensor  # (S, 1, 28, 28) in [-1, 1]: the clean image the model predicted at that step
    timesteps: torch.Tensor  # (S,) float: the time each step started from (flow: sigma * T; ddpm: t)


@torch.no_grad()
def run_sampler(model: nn.Module, x: torch.Tensor, labels: torch.Tensor | None, *, sampler: str, steps: int,
                guidance: float, generator: torch.Generator | None = None,
                record: bool = False) -> tuple[torch.Tensor, Trajectory | None]:
    """Checked arguments in; the final images ``(B, 1, 28, 28)`` in [-1, 1] and, with ``record``, the
    trajectory (frames of the whole batch, on the model's device)."""
    config = model.config
    scheduler = make_scheduler(sampler, config)
    set_steps(scheduler, sampler, steps)  # timesteps stay on the CPU; the model gets a copy on its device
    if sampler in STOCHASTIC_SAMPLERS and generator is None:
        generator = ancestral_generator(x)
    x = x.float() * getattr(scheduler, "init_noise_sigma", 1.0)  # 1 for every scheduler used here
    frames, x0_frames, frame_times = [], [], []
    timesteps = scheduler.timesteps
    b = x.shape[0]
    for i, t in enumerate(timesteps):
        prediction = guided_prediction(model, x, t.to(x.device, torch.float32).expand(b), labels, guidance).float()
        first_evaluation = getattr(scheduler, "state_in_first_order", True)  # Heun: 2 evaluations a step
        if record and first_evaluation:
            x0_hat, start = predicted_x0(config, x, float(t), prediction), float(t)
        out = scheduler.step(prediction, t, x, generator=generator, **STEP_OPTIONS.get(sampler, {}))
        x = out.prev_sample
        if i == len(timesteps) - 1 and getattr(out, "pred_original_sample", None) is not None:
            x = out.pred_original_sample  # ddpm, ddim: the last step ends on their clean-image estimate (see above)
        if record and (getattr(scheduler, "state_in_first_order", True) or i == len(timesteps) - 1):
            frames.append(x.clamp(-1, 1))
            x0_frames.append(x0_hat)
            frame_times.append(start)
    images = x.clamp(-1, 1)
    if not record:
        return images, None
    return images, Trajectory(torch.stack(frames, 1), torch.stack(x0_frames, 1), torch.tensor(frame_times))


def denoise(model: nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None, *, sampler: str | None = None,
            steps: int | None = None, guidance: float | None = None,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Initial noise x ``(B, 784)`` or ``(B, 1, 28, 28)`` -> images ``(B, 1, 28, 28)`` in [-1, 1] on x's device.

    ``labels`` ``(B,)`` int64 in 0..num_classes-1, or None for unconditional samples. ``sampler``,
    ``steps`` (1..1000) and ``guidance`` (0..20) default to the model's config; ``generator`` feeds
    the ancestral sampler (default: seeded by x). Bad arguments raise ``ValueError``."""
    if isinstance(x, torch.Tensor) and x.ndim == 2 and x.shape[1] == 28 * 28:
        x = x.reshape(-1, 1, 28, 28)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        got = f"shape {tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else show(x)
        raise ValueError(f"The initial noise must be a float tensor (B, 784) or (B, 1, 28, 28), got {got}.")
    images, _ = run_sampler(model, x, check_labels(model, labels, x.shape[0]), sampler=check_sampler(model, sampler),
                            steps=check_steps(model, steps), guidance=check_guidance(model, guidance),
                            generator=generator)
    return images


# ----------------------------------------------------------------------------- seeded helpers


@torch.inference_mode()
def sample(model: nn.Module, n: int, *, seed: int, labels: torch.Tensor | int | None = None,
           sampler: str | None = None, steps: int | None = None, guidance: float | None = None,
           batch_size: int = 1000) -> torch.Tensor:
    """``n`` images ``(n, 1, 28, 28)`` in [-1, 1] on the CPU from the noise of ``seed``.

    ``labels``: one class, ``(n,)`` classes, or None (split evenly over the classes), as in
    ``aigc_models.sampling.sample``, which this equals with the default sampler, steps and guidance.
    """
    batch_size = check_int(batch_size, "batch_size", lo=1, hi=MAX_SAMPLES)
    z = latents(n, model.latent_dim, seed=seed)  # checks n and seed
    labels = conditional_labels(len(z), model.num_classes, labels)
    sampler, steps = check_sampler(model, sampler), check_steps(model, steps)
    guidance = check_guidance(model, guidance)
    model.eval()
    device = device_of(model)
    out = []
    for i in range(0, len(z), batch_size):
        x = z[i : i + batch_size].to(device).view(-1, 1, 28, 28)
        images, _ = run_sampler(model, x, labels[i : i + batch_size].to(device), sampler=sampler, steps=steps,
                                guidance=guidance)
        out.append(images.cpu())
    return torch.cat(out)


@torch.inference_mode()
def trajectory(model: nn.Module, *, seed: int, label: int | None = None, sampler: str | None = None,
               steps: int | None = None, guidance: float | None = None) -> Trajectory:
    """One image's denoising, a frame per step: ``Trajectory(x_t, x0_hat, timesteps)`` with images
    ``(S, 1, 28, 28)`` in [-1, 1] on the CPU, S = ``steps``. ``x_t[-1]`` equals
    ``sample(model, 1, seed=seed, labels=label, ...)[0]``. ``label`` None = unconditional."""
    sampler, steps = check_sampler(model, sampler), check_steps(model, steps)
    guidance = check_guidance(model, guidance)
    if label is not None:
        label = check_int(label, "label", lo=0, hi=model.num_classes - 1)
    z = latents(1, model.latent_dim, seed=seed)
    model.eval()
    device = device_of(model)
    labels = torch.tensor([label], device=device) if label is not None else None
    _, path = run_sampler(model, z.to(device).view(1, 1, 28, 28), labels, sampler=sampler, steps=steps,
                          guidance=guidance, record=True)
    return Trajectory(path.x_t[0].cpu(), path.x0_hat[0].cpu(), path.timesteps)


def noise_to(x0: torch.Tensor, t: float, *, seed: int, config: DiffusionConfig | None = None) -> torch.Tensor:
    """The forward process: a real image ``(1, 28, 28)`` or batch ``(B, 1, 28, 28)`` in [-1, 1] noised
    to level t in [0, 1] (0 = the image, 1 = pure noise), same shape, with the noise of ``seed``.

    ``config`` (a model's config; default ``DiffusionConfig()``, flow) picks the process: flow mixes
    ``(1 - t) x0 + t noise``; ddpm draws q(x_s | x0) at s = round(t (T - 1))."""
    config = config if config is not None else DiffusionConfig()
    if not isinstance(x0, torch.Tensor) or x0.ndim not in (3, 4):
        raise ValueError(f"x0 must be a float tensor (1, 28, 28) or (B, 1, 28, 28) in [-1, 1], got {show(x0)}.")
    batch = x0 if x0.ndim == 4 else x0[None]
    for i, image in enumerate(batch):
        check_image(image, f"x0[{i}]" if x0.ndim == 4 else "x0")
    t = check_float(t, "t (0 = the image, 1 = pure noise)", lo=0, hi=1)
    seed = check_seed(seed)
    noise = torch.randn(batch.shape, generator=torch.Generator().manual_seed(seed)).to(batch.device, batch.dtype)
    level = torch.full((len(batch),), t, device=batch.device)
    if config.objective == "flow":
        noisy = flow_noise(batch, noise, level)
    else:
        s = round(t * (config.num_train_timesteps - 1))
        abar = ddpm_alphas_cumprod(config.schedule, config.num_train_timesteps)[s]
        noisy = ddpm_noise(batch, noise, level.double().fill_(float(abar)))
    return noisy if x0.ndim == 4 else noisy[0]


__all__ = ["sample", "trajectory", "noise_to", "denoise", "guided_prediction", "make_scheduler", "Trajectory",
           "check_sampler", "check_steps", "check_guidance", "STOCHASTIC_SAMPLERS"]
