"""What the super-resolution families share: their config, the degradation and the two baselines.

The task (Dong et al. 2014, "Learning a Deep Convolutional Network for Image Super-Resolution";
Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
Convolutional Neural Network"): from a low-resolution image, recover the high-resolution one.
Here the high resolution is the dataset's 28 x 28 image and the low resolution is the same image
shrunk ``scale`` times (2: 14 x 14, 4: 7 x 7) by ``downscale``.

Why area averaging and not the papers' bicubic downscaling: the papers shrink with MATLAB's
``imresize``, whose bicubic kernel is widened by the scale factor so that it also low-passes the
image (anti-aliasing). PyTorch's ``interpolate(mode="bicubic")`` does not widen it: shrinking by 2
or 4 reads only the few pixels near each sample point and aliases thin strokes away. For an
integer factor the anti-aliased reduction that needs no kernel choice is the box filter: each
low-resolution pixel is the mean of its ``scale x scale`` block, as a camera pixel integrates the
light over its area. It is exact, stays in [-1, 1] (bicubic overshoots), and 28 divides by 2 and 4.

The upscaling baselines, ``nearest`` and ``bicubic``, are what every super-resolution paper
compares against; a model earns its place by beating bicubic (the issue's bar: ESPCN x2 by 2 dB
PSNR on the test split, measured by ``metrics.evaluate_super_resolution``).

A super-resolution model (``SuperResolution``) declares the "regression" objective: it is trained
by ``objectives.RegressionObjective`` with a pixel loss and has no ``generate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ..configs import bounded, dataset_field
from .base import CheckedHubMixin

SIDE = 28
SCALES = (2, 4)


@dataclass(frozen=True)
class SuperResConfig:
    """Both papers' networks are three convolutions: ``channels`` then ``channels2`` feature maps
    (64 and 32 in both papers), then the image."""

    dataset: str = dataset_field()
    scale: int = bounded(2, lo=2, hi=4, help="upscaling factor: 2 (14 x 14 -> 28 x 28) or 4 (7 x 7 -> 28 x 28)")
    channels: int = bounded(64, lo=1, hi=512, help="feature maps of the first convolution (the papers' n1 = 64)")
    channels2: int = bounded(32, lo=1, hi=512, help="feature maps of the second convolution (the papers' n2 = 32)")
    adversarial: float = bounded(0.0, lo=0.0, hi=1.0,
                                 help="weight of an adversarial loss beside the pixel loss (SRGAN, Ledig et al. "
                                      "2017; 0 = the pixel loss alone, as the papers train SRCNN and ESPCN)")

    def check(self) -> None:
        """The rules that one field's bounds cannot say; ``ValueError`` in one sentence."""
        if self.scale not in SCALES:
            raise ValueError(f"scale must be 2 or 4 (28 x 28 images shrink to 14 x 14 or 7 x 7), got {self.scale}.")


# ----------------------------------------------------------------------------- degradation and baselines


def check_scale(scale: object) -> int:
    """``scale`` if it is 2 or 4, else ``ValueError`` in one sentence."""
    if type(scale) is not int or scale not in SCALES:
        raise ValueError(f"scale must be 2 or 4, got {scale!r:.40}.")
    return scale


def check_images(images: object, side: int, what: str) -> torch.Tensor:
    """``images`` if it is a float tensor ``(B, 1, side, side)``, else ``ValueError`` in one sentence."""
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() or images.dim() != 4 \
            or tuple(images.shape[1:]) != (1, side, side):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{what} must be a float tensor of shape (B, 1, {side}, {side}), got {shape}.")
    return images


def downscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """images ``(B, 1, 28, 28)`` in [-1, 1] -> ``(B, 1, 28 / scale, 28 / scale)`` in [-1, 1]: the
    mean of each ``scale x scale`` block (area averaging; the module docstring says why not bicubic)."""
    check_images(images, SIDE, "images")
    return F.avg_pool2d(images, check_scale(scale))


def nearest(low: torch.Tensor, scale: int) -> torch.Tensor:
    """low ``(B, 1, 28 / scale, 28 / scale)`` in [-1, 1] -> ``(B, 1, 28, 28)``: each pixel repeated as a block."""
    check_images(low, SIDE // check_scale(scale), "low-resolution images")
    return F.interpolate(low, scale_factor=scale, mode="nearest")


def bicubic(low: torch.Tensor, scale: int) -> torch.Tensor:
    """low ``(B, 1, 28 / scale, 28 / scale)`` in [-1, 1] -> ``(B, 1, 28, 28)`` in [-1, 1]: bicubic
    interpolation (Keys' a = -0.75, PyTorch's), clamped because the cubic overshoots at edges."""
    check_images(low, SIDE // check_scale(scale), "low-resolution images")
    return bicubic_any(low, scale)


def bicubic_any(images: torch.Tensor, scale: int) -> torch.Tensor:
    """``bicubic`` for images of any size: ``(B, C, H, W)`` -> ``(B, C, scale * H, scale * W)``, clamped to [-1, 1]."""
    return F.interpolate(images, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


# ----------------------------------------------------------------------------- the model interface


class SuperResolution(CheckedHubMixin, nn.Module):
    """Base of the super-resolution families. A subclass sets ``family`` and defines ``forward``.

    ``degrade(images)``: the 28 x 28 images -> the low-resolution input. ``forward(low)``: the
    network's prediction ``(B, 1, 28, 28)``, not clamped (the pixel loss needs the gradient of a
    pixel that overshoots). ``upscale(low)``: the prediction clamped to [-1, 1], the image the model
    shows; clamping never moves a pixel away from a target in [-1, 1], so it can only raise PSNR.
    """

    objective: ClassVar[str] = "regression"
    family: ClassVar[str] = ""
    config: SuperResConfig

    @property
    def scale(self) -> int:
        return int(self.config.scale)

    def degrade(self, images: torch.Tensor) -> torch.Tensor:
        """images ``(B, 1, 28, 28)`` in [-1, 1] -> the low-resolution input ``(B, 1, 28 / s, 28 / s)``."""
        return downscale(images, self.scale)

    def upscale(self, low: torch.Tensor) -> torch.Tensor:
        """low ``(B, 1, 28 / s, 28 / s)`` in [-1, 1] -> ``(B, 1, 28, 28)`` in [-1, 1]."""
        check_images(low, SIDE // self.scale, "low-resolution images")
        return self(low).clamp(-1, 1)

    def enlarge(self, images: torch.Tensor) -> torch.Tensor:
        """images ``(B, 1, H, W)`` in [-1, 1], any size -> ``(B, 1, s * H, s * W)`` in [-1, 1]: the
        learned upscaling applied to images that are already full size (a generator's 28 x 28
        samples shown at 56 or 112 pixels). The networks are convolutions only, so any size goes
        through; but they learnt to sharpen area-shrunk digits, so on full-size images the result
        is the model's guess at a finer version, not a recovered truth (the app labels it so)."""
        if not isinstance(images, torch.Tensor) or not images.is_floating_point() or images.dim() != 4 \
                or images.shape[1] != 1 or min(images.shape[2:]) < 1:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"images must be a float tensor of shape (B, 1, H, W), got {shape}.")
        return self(images).clamp(-1, 1)


class SRDiscriminator(nn.Module):
    """The critic of adversarial super-resolution (used in training only, never saved): 28 x 28
    images in [-1, 1] ``(B, 1, 28, 28)`` -> one logit each ``(B,)``, "a real image rather than an
    upscaled one". SRGAN's discriminator (Ledig et al. 2017) shrunk to these images: strided
    convolutions 28 -> 14 -> 7 with leaky ReLUs, then a linear layer; spectral normalisation
    (Miyato et al. 2018) keeps it from overpowering the small upscaler."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, channels, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),
            nn.Flatten(), sn(nn.Linear(2 * channels * 7 * 7, 1)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).squeeze(1)


def same_conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Conv2d:
    """A convolution that keeps the height and width. The border is padded by repeating the edge
    pixels: zero padding would put a frame of mid-grey (0 in [-1, 1]) around the black background."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, padding_mode="replicate")


__all__ = [
    "SCALES",
    "SRDiscriminator",
    "SuperResConfig",
    "SuperResolution",
    "bicubic",
    "bicubic_any",
    "check_scale",
    "downscale",
    "nearest",
    "same_conv",
]
