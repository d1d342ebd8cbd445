"""SRCNN (Dong et al. 2014, "Learning a Deep Convolutional Network for Image Super-Resolution",
ECCV; arXiv:1501.00092).

The low-resolution image is first upscaled by bicubic interpolation (the paper's only
pre-processing), then three convolutions read as the paper's three stages: patch extraction
(9 x 9, n1 = 64), non-linear mapping (1 x 1, n2 = 32) and reconstruction (5 x 5), ReLU between them:
the paper's base 9-1-5 network. Unlike the paper's, the convolutions pad (by repeating the edge) so
that the output keeps all 28 x 28 pixels. Every layer runs at the high resolution: ``scale**2`` times
the work of ESPCN's (``models/espcn.py``) for the same widths.
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS, Family
from .superres import SuperResConfig, SuperResolution, bicubic_any, same_conv


class SRCNN(SuperResolution, PyTorchModelHubMixin, **HUB_KWARGS, tags=["super-resolution", "srcnn", "aigc-lab"]):
    family = "srcnn"

    def __init__(self, config: SuperResConfig) -> None:
        super().__init__()
        self.config = config
        self.patch_extraction = nn.Sequential(same_conv(1, config.channels, 9), nn.ReLU())  # (B, n1, 28, 28)
        self.mapping = nn.Sequential(same_conv(config.channels, config.channels2, 1), nn.ReLU())  # (B, n2, 28, 28)
        self.reconstruction = same_conv(config.channels2, 1, 5)  # (B, 1, 28, 28)

    def forward(self, low: torch.Tensor) -> torch.Tensor:
        """low ``(B, 1, 28 / s, 28 / s)`` in [-1, 1] -> prediction ``(B, 1, 28, 28)`` (not clamped); any
        other size ``(B, 1, H, W)`` -> ``(B, 1, s * H, s * W)``."""
        x = bicubic_any(low, self.scale)  # (B, 1, 28, 28)
        return self.reconstruction(self.mapping(self.patch_extraction(x)))


FAMILY = Family("srcnn", SuperResConfig, SRCNN, label="SRCNN", label_zh="SRCNN",
                abilities=frozenset({"upscale"}), width_fields=("channels",))
