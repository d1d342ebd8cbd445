"""Inference helpers: sample, interpolate, reconstruct, and image writers.

Short, separate from training, and every random draw takes an explicit seed
(the same seed gives the same images on the same device).
Images are float ``(B, 1, 28, 28)`` in [-1, 1] until a writer turns them into
uint8 pixels.
"""

from __future__ import annotations

import io
import math
import numbers
import os
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from .data import to_uint8
from .validation import check_choice, check_int, check_optional_float, check_seed, show

MAX_SAMPLES = 100_000  # images per call: 100k x 784 floats = 314 MB
MAX_PATH_STEPS = 1000  # images along one interpolation path
MAX_TRUNCATION = 10.0  # |z| beyond 10 has probability ~1e-23: larger values change nothing
INTERPOLATIONS = ("lerp", "slerp")

# ----------------------------------------------------------------------------- latents


def latents(n: int, dim: int, *, seed: int, truncation: float | None = None) -> torch.Tensor:
    """``(n, dim)`` standard normal draws on the CPU; with ``truncation`` t, values with
    ``|z| > t`` are redrawn until inside (the truncation trick, Brock et al. 2019)."""
    n = check_int(n, "n", lo=1, hi=MAX_SAMPLES)
    seed = check_seed(seed)
    truncation = check_truncation(truncation)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, dim, generator=g)
    if truncation is not None:
        for _ in range(100):
            outside = z.abs() > truncation
            if not outside.any():
                break
            z[outside] = torch.randn(int(outside.sum()), generator=g)
        z = z.clamp(-truncation, truncation)
    return z


def check_truncation(truncation: float | None) -> float | None:
    """None (off) or a number in (0, ``MAX_TRUNCATION``]."""
    return check_optional_float(truncation, "truncation", lo=0.0, hi=MAX_TRUNCATION, lo_open=True,
                                none_means="no truncation")


def even_labels(n: int, num_classes: int) -> torch.Tensor:
    """``(n,)`` labels split evenly over the classes, in order: 0,0,..,1,1,.. ."""
    return torch.arange(n) * num_classes // n


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


# ----------------------------------------------------------------------------- GAN


@torch.inference_mode()
def sample(
    model: nn.Module,
    n: int,
    *,
    seed: int,
    labels: torch.Tensor | int | None = None,
    truncation: float | None = None,
    batch_size: int = 1000,
    guidance: float | None = None,
) -> torch.Tensor:
    """Draw ``n`` images from a GAN (or a VAE's prior, a PixelCNN): ``(n, 1, 28, 28)`` in [-1, 1], CPU.

    For a conditional model, ``labels`` is an int class, a ``(n,)`` tensor, or None
    (then split evenly over the classes). ``n`` is 1..``MAX_SAMPLES``, ``seed`` 0..2**63-1,
    ``truncation`` None or in (0, 10]; ``guidance`` a PixelCNN's class guidance (None = its
    card's); anything else raises ``ValueError`` naming the range.
    """
    if guidance is not None and model.objective != "autoregressive":
        raise ValueError(f"guidance here applies to PixelCNNs (diffusion models: samplers.sample), not to a {model.family}.")
    generate_options = {} if guidance is None else {"guidance": guidance}
    batch_size = check_int(batch_size, "batch_size", lo=1, hi=MAX_SAMPLES)
    z = latents(n, model.latent_dim, seed=seed, truncation=truncation)  # checks n, seed and truncation
    n = len(z)
    model.eval()
    k = getattr(model, "num_classes", 0)
    if k:
        labels = conditional_labels(n, k, labels)
    elif labels is not None:
        raise ValueError(f"{model.family} is unconditional; it takes no labels.")
    device = device_of(model)
    out = []
    for i in range(0, n, batch_size):
        zb = z[i : i + batch_size].to(device)
        if model.objective == "elbo":
            out.append(model.decode(zb).float().cpu())
        else:
            lb = labels[i : i + batch_size].to(device) if k else None
            out.append(model.generate(zb, lb, **generate_options).float().cpu())
    return torch.cat(out)


def conditional_labels(n: int, num_classes: int, labels: torch.Tensor | int | None) -> torch.Tensor:
    """Validate / expand labels for a conditional model into ``(n,)`` int64.

    ``labels``: None (split evenly), one class (an int, also numpy's), or ``n`` whole
    numbers (tensor, array or list) in 0..num_classes-1.
    """
    if labels is None:
        return even_labels(n, num_classes)
    if isinstance(labels, (numbers.Number, bool)):
        label = check_int(labels, "label", lo=0, hi=num_classes - 1)
        return torch.full((n,), label, dtype=torch.int64)
    allowed = f"whole numbers from 0 to {num_classes - 1}"
    try:
        tensor = torch.as_tensor(labels)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"labels must be {n} {allowed}, got {show(labels)}.") from None
    if tensor.dtype == torch.bool or tensor.is_floating_point() or tensor.is_complex():
        raise ValueError(f"labels must be {allowed} (an integer tensor), got dtype {tensor.dtype}.")
    if tensor.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {tuple(tensor.shape)}.")
    if tensor.min() < 0 or tensor.max() >= num_classes:
        raise ValueError(f"labels must be {allowed}, got values from {int(tensor.min())} to {int(tensor.max())}.")
    return tensor.to(torch.int64)


@torch.no_grad()
def discriminator_scores(model: nn.Module, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """D's probability that each image is real: ``(B,)`` in [0, 1]."""
    model.eval()
    device = device_of(model)
    lb = labels.to(device) if labels is not None else None
    return torch.sigmoid(model.discriminate(images.to(device), lb).float()).cpu()


# ----------------------------------------------------------------------------- interpolation


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight line between ``a`` and ``b`` ``(D,)``; ``t`` ``(S,)`` -> ``(S, D)``."""
    return a[None] + (b - a)[None] * t[:, None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for GAN latents): keeps the
    norm typical of Gaussian draws, where lerp passes through low-norm latents."""
    cos = torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-4:
        return lerp(a, b, t)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega)[:, None] * a[None] + torch.sin(t * omega)[:, None] * b[None]) / so


def path(a: torch.Tensor, b: torch.Tensor, steps: int, method: str) -> torch.Tensor:
    """``steps`` (2..``MAX_PATH_STEPS``) points from a to b by ``method`` ('lerp' | 'slerp') -> ``(steps, D)``."""
    steps = check_int(steps, "steps", lo=2, hi=MAX_PATH_STEPS)
    method = check_choice(method, "interpolation", INTERPOLATIONS)
    t = torch.linspace(0, 1, steps)
    return lerp(a, b, t) if method == "lerp" else slerp(a, b, t)


@torch.no_grad()
def interpolate(
    model: nn.Module,
    *,
    seed_a: int,
    seed_b: int,
    steps: int = 8,
    method: str = "slerp",
    label: int | None = None,
) -> torch.Tensor:
    """Images along a latent path between two seeds' latents: ``(steps, 1, 28, 28)`` in [-1, 1].

    GANs and VAEs (the VAE decodes prior latents); a conditional model keeps ``label`` fixed.
    Seeds are 0..2**63-1, ``steps`` 2..``MAX_PATH_STEPS``; ``ValueError`` otherwise.
    """
    seed_a, seed_b = check_seed(seed_a, "seed_a"), check_seed(seed_b, "seed_b")
    steps = check_int(steps, "steps", lo=2, hi=MAX_PATH_STEPS)
    method = check_choice(method, "interpolation", INTERPOLATIONS)
    k = getattr(model, "num_classes", 0)
    if label is not None and k:
        label = check_int(label, "label", lo=0, hi=k - 1)
    model.eval()
    za = latents(1, model.latent_dim, seed=seed_a)[0]
    zb = latents(1, model.latent_dim, seed=seed_b)[0]
    return decode_path(model, path(za, zb, steps, method), label=label)


@torch.no_grad()
def decode_path(model: nn.Module, zs: torch.Tensor, *, label: int | None = None) -> torch.Tensor:
    """Latents ``(S, D)`` -> images ``(S, 1, 28, 28)`` in [-1, 1] for a GAN or a VAE."""
    device = device_of(model)
    zs = zs.to(device)
    if model.objective == "elbo":
        return model.decode(zs).float().cpu()
    k = getattr(model, "num_classes", 0)
    labels = conditional_labels(len(zs), k, 0 if label is None else label).to(device) if k else None
    return model.generate(zs, labels).float().cpu()


@torch.no_grad()
def interpolate_classes(
    model: nn.Module, *, class_a: int, class_b: int, seed: int, steps: int = 8
) -> torch.Tensor:
    """A conditional GAN's morph from one class to another at fixed noise, by
    interpolating the class embeddings: ``(steps, 1, 28, 28)`` in [-1, 1]."""
    k = getattr(model, "num_classes", 0)
    if not k:
        raise ValueError("Class morphs need a conditional model (cgan).")
    class_a = check_int(class_a, "class_a", lo=0, hi=k - 1)
    class_b = check_int(class_b, "class_b", lo=0, hi=k - 1)
    seed = check_seed(seed)
    steps = check_int(steps, "steps", lo=2, hi=MAX_PATH_STEPS)
    model.eval()
    device = device_of(model)
    ends = conditional_labels(2, k, torch.tensor([class_a, class_b])).to(device)
    ea, eb = model.generator.class_embedding(ends)
    emb = lerp(ea, eb, torch.linspace(0, 1, steps, device=device))
    z = latents(1, model.latent_dim, seed=seed).to(device).expand(steps, -1)
    return model.generate(z, class_embedding=emb).float().cpu()


# ----------------------------------------------------------------------------- VAE


def check_image(image: object, name: str) -> torch.Tensor:
    """``image`` if it is a finite float tensor ``(1, 28, 28)``, else ``ValueError``."""
    if not isinstance(image, torch.Tensor) or not image.is_floating_point() or tuple(image.shape) != (1, 28, 28):
        got = f"shape {tuple(image.shape)} {image.dtype}" if isinstance(image, torch.Tensor) else show(image)
        raise ValueError(f"Image {name} must be a float tensor of shape (1, 28, 28) in [-1, 1], got {got}.")
    if not torch.isfinite(image).all():
        raise ValueError(f"Image {name} has NaN or infinite pixels; pixels must be in [-1, 1].")
    return image


@torch.no_grad()
def encode(model: nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """VAE posterior: images ``(B, 1, 28, 28)`` in [-1, 1] -> (mu, logvar) ``(B, latent_dim)``."""
    model.eval()
    mu, logvar = model.encode(images.to(device_of(model)))
    return mu.cpu(), logvar.cpu()


@torch.no_grad()
def decode(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """VAE decoder mean: ``(B, latent_dim)`` -> images ``(B, 1, 28, 28)`` in [-1, 1]."""
    model.eval()
    return model.decode(z.to(device_of(model))).float().cpu()


@torch.no_grad()
def reconstruct(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Decode the posterior mean (deterministic): same shape as ``images``, in [-1, 1]."""
    mu, _ = encode(model, images)
    return decode(model, mu)


@torch.no_grad()
def interpolate_images(
    model: nn.Module, a: torch.Tensor, b: torch.Tensor, *, steps: int = 8, method: str = "lerp"
) -> torch.Tensor:
    """Between two real images ``(1, 28, 28)`` in [-1, 1] through the VAE's encoder means:
    ``(steps, 1, 28, 28)`` in [-1, 1]."""
    steps = check_int(steps, "steps", lo=2, hi=MAX_PATH_STEPS)
    method = check_choice(method, "interpolation", INTERPOLATIONS)
    for name, image in (("a", a), ("b", b)):
        check_image(image, name)
    mu, _ = encode(model, torch.stack([a, b]))
    return decode(model, path(mu[0], mu[1], steps, method))


# ----------------------------------------------------------------------------- writers


def grid(images: torch.Tensor, *, nrow: int | None = None, padding: int = 2, scale: int = 1) -> Image.Image:
    """A PIL greyscale grid of images ``(B, 1, 28, 28)`` in [-1, 1]; ``scale`` enlarges
    with nearest-neighbour so pixels stay crisp on a projector."""
    from torchvision.utils import make_grid

    nrow = nrow or max(1, int(math.ceil(math.sqrt(len(images)))))
    g = make_grid(images.float().clamp(-1, 1), nrow=nrow, padding=padding, pad_value=-1.0)
    pil = Image.fromarray(to_uint8(g[0]).numpy(), mode="L")
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST)
    return pil


def save_grid(images: torch.Tensor, path: str | os.PathLike, *, nrow: int | None = None, scale: int = 1) -> Path:
    """Write a PNG grid (lossless) and return the path."""
    out = Path(path)
    grid(images, nrow=nrow, scale=scale).save(out, format="PNG")
    return out


def gif_bytes(frames: torch.Tensor, *, scale: int = 4, duration_ms: int = 120, bounce: bool = True) -> bytes:
    """An animated GIF of frames ``(S, 1, 28, 28)`` in [-1, 1]; ``bounce`` plays back and forth."""
    images = [grid(f[None], nrow=1, padding=0, scale=scale) for f in frames]
    if bounce and len(images) > 2:
        images = images + images[-2:0:-1]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return buf.getvalue()


def save_gif(frames: torch.Tensor, path: str | os.PathLike, **kwargs) -> Path:
    out = Path(path)
    out.write_bytes(gif_bytes(frames, **kwargs))
    return out
