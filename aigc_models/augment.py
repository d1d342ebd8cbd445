"""Augmentations: the source documents' set, and DiffAugment.

Two very different uses, kept apart on purpose:

* ``classic_augment`` is what the source documents do: flip, rotate, colour
  jitter and scale *the real images only*. The generator then learns the
  augmented distribution (mirrored, tilted digits): kept as a lesson.
* ``diff_augment`` (Zhao et al. 2020, "Differentiable Augmentation for
  Data-Efficient GAN Training", arXiv:2006.10738) applies random translation and
  cutout as differentiable tensor ops to real *and* fake images in both the D
  and the G step, so D sees augmented images but G is never pushed towards them.

All functions take and return float ``(B, 1, 28, 28)`` in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .validation import check_choice, check_float, show

DIFFAUGMENT_POLICIES = ("translation", "cutout")
MAX_STRENGTH = 4.0  # classic_augment's scale range (1 -+ 0.1 * strength) must stay positive; 4 tilts by 60 deg


def check_strength(strength: float) -> float:
    """An augmentation strength: a number from 0 (identity) to ``MAX_STRENGTH``."""
    return check_float(strength, "strength", lo=0.0, hi=MAX_STRENGTH)


def parse_policy(policy: str) -> list[str]:
    """A DiffAugment policy string ('translation,cutout') -> its names; unknown names raise ``ValueError``."""
    if not isinstance(policy, str):
        raise ValueError(f"The DiffAugment policy must be a comma-separated string of "
                         f"{', '.join(DIFFAUGMENT_POLICIES)}, got {show(policy)}.")
    names = [p.strip() for p in policy.split(",") if p.strip()]
    for name in names:
        check_choice(name, "DiffAugment policy", DIFFAUGMENT_POLICIES)
    return names


# ----------------------------------------------------------------------------- DiffAugment


def _translation(x: torch.Tensor, ratio: float, generator: torch.Generator | None) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, zero (= -1 after shift) padded."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device, generator=generator)
    ty = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device, generator=generator)
    gy, gx = torch.meshgrid(
        torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )
    gy = torch.clamp(gy.unsqueeze(0) + tx + 1, 0, h + 1)
    gx = torch.clamp(gx.unsqueeze(0) + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1], value=-1.0)  # background of [-1, 1] images
    flat = padded.permute(0, 2, 3, 1)  # (B, H+2, W+2, C)
    out = flat[torch.arange(b, device=x.device)[:, None, None], gy, gx]
    return out.permute(0, 3, 1, 2).contiguous()


def _cutout(x: torch.Tensor, ratio: float, generator: torch.Generator | None) -> torch.Tensor:
    """Blank one square of side ``ratio * size`` per image (to the background value -1)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device, generator=generator)
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device, generator=generator)
    gy, gx = torch.meshgrid(
        torch.arange(ch, device=x.device), torch.arange(cw, device=x.device), indexing="ij"
    )
    gy = torch.clamp(gy.unsqueeze(0) + oy - ch // 2, 0, h - 1)
    gx = torch.clamp(gx.unsqueeze(0) + ox - cw // 2, 0, w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype, device=x.device)
    mask[torch.arange(b, device=x.device)[:, None, None], gy, gx] = 0
    mask = mask.unsqueeze(1)
    return x * mask - (1 - mask)


def diff_augment(
    x: torch.Tensor,
    policy: str = "translation,cutout",
    *,
    strength: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """DiffAugment: differentiable translation (1/8) and cutout (1/2), scaled by ``strength``.

    Args:
        x: float ``(B, 1, H, W)`` in [-1, 1]; gradients flow through.
        policy: comma-separated subset of ``DIFFAUGMENT_POLICIES``; empty = identity.
        strength: 0..``MAX_STRENGTH``, multiplies the translation and cutout ratios (0 = identity).
        generator: seeded RNG for reproducible previews.
    """
    names = parse_policy(policy)
    strength = check_strength(strength)
    if strength == 0:
        return x
    for name in names:
        if name == "translation":
            x = _translation(x, 0.125 * strength, generator)
        elif name == "cutout":
            x = _cutout(x, min(0.5 * strength, 1.0), generator)
    return x


# ----------------------------------------------------------------------------- the documents' set


def classic_augment(
    x: torch.Tensor,
    *,
    strength: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The source documents' augmentations, applied with ``torchvision.transforms.v2.functional``.

    Per image: a horizontal flip (p=0.5), a rotation (+-15 deg) and scale (0.9..1.1) about the
    centre (nearest neighbour, black fill, as ``v2.RandomAffine``), then brightness and contrast
    factors in 1 -+ 0.3 (as ``v2.ColorJitter``, in a fixed order); each range scaled by
    ``strength``. Every parameter is drawn from ``generator`` (the global RNG when None) and
    nothing else, so the same generator state gives the same images even while other threads
    draw from the global RNG. Not differentiable by design: the documents apply it to real
    images only.

    Args:
        x: float ``(B, 1, H, W)`` in [-1, 1].
        strength: 0 (identity) .. ``MAX_STRENGTH``; ``ValueError`` outside.
        generator: RNG of the draws (the global one when None).
    """
    from torchvision.transforms.v2 import functional as TF

    strength = check_strength(strength)
    if strength == 0:
        return x
    b = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:  # (B,) in [lo, hi)
        return lo + (hi - lo) * torch.rand(b, generator=generator, dtype=torch.float64)

    flips = torch.rand(b, generator=generator, dtype=torch.float64) < 0.5 * min(strength, 1.0)
    angles = uniform(-15 * strength, 15 * strength)
    scales = uniform(1 - 0.1 * strength, 1 + 0.1 * strength)
    jitter = 0.3 * strength
    brightness = uniform(max(0.0, 1 - jitter), 1 + jitter)
    contrast = uniform(max(0.0, 1 - jitter), 1 + jitter)
    unit = (x.detach() + 1) / 2  # v2's colour functions expect [0, 1]
    out = []
    for i, img in enumerate(unit.cpu()):  # (1, H, W)
        if flips[i]:
            img = TF.horizontal_flip(img)
        img = TF.affine(img, angle=float(angles[i]), translate=[0.0, 0.0], scale=float(scales[i]), shear=[0.0, 0.0],
                        fill=0.0)
        img = TF.adjust_contrast(TF.adjust_brightness(img, float(brightness[i])), float(contrast[i]))
        out.append(img)
    return torch.stack(out).to(x.device).clamp(0, 1) * 2 - 1
