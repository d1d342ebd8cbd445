"""A small U-Net for 28 x 28 denoising: 28 -> 14 -> 7 and back, with skips.

The block design follows Ho et al. 2020 (arXiv:2006.11239, appendix B) and the
"ADM" U-Net of Dhariwal & Nichol 2021 (arXiv:2105.05233): residual blocks of
GroupNorm, SiLU and 3 x 3 convolutions, the conditioning vector (time + class)
entering every block as a per-channel scale and shift of the second GroupNorm,
and one self-attention layer at 7 x 7. The last layer of each residual branch
and the output convolution start at zero, so the untrained network predicts 0.

The backbone sees only the image and one conditioning vector ``c``; the
``Diffusion`` wrapper makes ``c`` from the time and the class.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 8 groups (a divisor of ``channels``, so any width works)."""
    return nn.GroupNorm(math.gcd(channels, 8), channels)


def zero(module: nn.Module) -> nn.Module:
    """``module`` with its weights and bias set to zero (a residual branch that starts as the identity)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """x ``(B, c_in, H, W)``, c ``(B, cond_dim)`` -> ``(B, c_out, H, W)``."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int) -> None:
        super().__init__()
        self.norm1 = group_norm(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.cond = nn.Linear(cond_dim, 2 * c_out)  # per-channel scale and shift
        self.norm2 = group_norm(c_out)
        self.conv2 = zero(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.cond(F.silu(c))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


class SelfAttention(nn.Module):
    """Single-head self-attention over the pixels of ``(B, C, H, W)``, residual."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).view(b, 3, c, h * w).transpose(2, 3).unbind(1)  # each (B, HW, C)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, HW, C)
        return x + self.proj(out.transpose(1, 2).reshape(b, c, h, w))


class Upsample(nn.Module):
    """Nearest-neighbour x2, then a 3 x 3 convolution to ``c_out`` channels."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    """x ``(B, 1, 28, 28)``, c ``(B, cond_dim)`` -> ``(B, 1, 28, 28)`` (the prediction, unbounded).

    Widths ``channels * mults[i]`` at 28, 14 and 7 pixels; ``cond_dim`` is ``4 * channels``.
    """

    def __init__(self, channels: int, mults: tuple[int, int, int], attention: bool) -> None:
        super().__init__()
        c1, c2, c3 = (channels * m for m in mults)
        self.cond_dim = d = 4 * channels
        self.stem = nn.Conv2d(1, c1, 3, padding=1)
        self.enc1 = ResBlock(c1, c1, d)
        self.down1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.enc2 = ResBlock(c1, c2, d)
        self.down2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)
        self.mid1 = ResBlock(c2, c3, d)
        self.attn = SelfAttention(c3) if attention else nn.Identity()
        self.mid2 = ResBlock(c3, c3, d)
        self.up2 = Upsample(c3, c2)
        self.dec2 = ResBlock(2 * c2, c2, d)
        self.up1 = Upsample(c2, c1)
        self.dec1 = ResBlock(2 * c1, c1, d)
        self.out = nn.Sequential(group_norm(c1), nn.SiLU(), zero(nn.Conv2d(c1, 1, 3, padding=1)))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h1 = self.enc1(self.stem(x), c)  # (B, c1, 28, 28)
        h2 = self.enc2(self.down1(h1), c)  # (B, c2, 14, 14)
        h = self.mid1(self.down2(h2), c)  # (B, c3, 7, 7)
        h = self.mid2(self.attn(h), c)  # (B, c3, 7, 7)
        h = self.dec2(torch.cat([self.up2(h), h2], dim=1), c)  # (B, c2, 14, 14)
        h = self.dec1(torch.cat([self.up1(h), h1], dim=1), c)  # (B, c1, 28, 28)
        return self.out(h)  # (B, 1, 28, 28)


__all__ = ["UNet", "ResBlock", "SelfAttention"]
