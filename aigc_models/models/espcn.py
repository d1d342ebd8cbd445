"""ESPCN (Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient
Sub-Pixel Convolutional Neural Network", arXiv:1609.05158).

Every convolution runs at the low resolution; only the last one makes ``scale**2`` channels per
pixel, which the sub-pixel convolution (the periodic shuffle PS, the paper's eq. 4; PyTorch's
``nn.PixelShuffle``) rearranges into a ``scale x scale`` block of the high-resolution image::

    I_SR[c, r y + i, r x + j] = T[c r^2 + r i + j, y, x]

So it costs ``scale**2`` times less than a network that runs at the high resolution on a
bicubic-upscaled input (SRCNN, ``models/srcnn.py``). Layers as the paper's: 5 x 5 with n1 = 64,
3 x 3 with n2 = 32, 3 x 3 to the r^2 sub-pixel channels, tanh between them.
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS, Family
from .superres import SuperResConfig, SuperResolution, same_conv


class ESPCN(SuperResolution, PyTorchModelHubMixin, **HUB_KWARGS, tags=["super-resolution", "espcn", "aigc-lab"]):
    family = "espcn"

    def __init__(self, config: SuperResConfig) -> None:
        super().__init__()
        self.config = config
        r = config.scale
        self.features = nn.Sequential(
            same_conv(1, config.channels, 5), nn.Tanh(),  # (B, n1, 28/r, 28/r)
            same_conv(config.channels, config.channels2, 3), nn.Tanh(),  # (B, n2, 28/r, 28/r)
            same_conv(config.channels2, r * r, 3),  # (B, r^2, 28/r, 28/r): one channel per sub-pixel
        )
        self.shuffle = nn.PixelShuffle(r)  # (B, 1, 28, 28)

    def forward(self, low: torch.Tensor) -> torch.Tensor:
        """low ``(B, 1, 28 / r, 28 / r)`` in [-1, 1] -> prediction ``(B, 1, 28, 28)`` (not clamped); any
        other size ``(B, 1, H, W)`` -> ``(B, 1, r * H, r * W)``."""
        return self.shuffle(self.features(low))


FAMILY = Family("espcn", SuperResConfig, ESPCN, label="ESPCN", label_zh="ESPCN",
                abilities=frozenset({"upscale"}), width_fields=("channels",))
