"""A small Diffusion Transformer (Peebles & Xie 2023, arXiv:2212.09748) for 28 x 28.

As in facebookresearch/DiT ``models.py``: the image is cut into p x p patches,
each patch becomes a token (plus a fixed 2-D sine-cosine position embedding),
N transformer blocks with adaLN-Zero conditioning read the conditioning vector
``c`` (time + class embedding), and a final adaLN layer maps every token back to
its p x p pixels (``unpatchify``).

adaLN-Zero: from ``c`` each block regresses a shift, a scale and a gate for its
attention and its MLP; the gates start at zero, so every block starts as the
identity, which the paper found trains best.

Patch size 4 on 28 x 28 gives 7 x 7 = 49 tokens, the grid of the U-Net's lowest
level; 2 gives 196 tokens (the paper's finer patches win on quality, at about
4x the attention and MLP cost: slow on a CPU); 7 gives 16 tokens of 49 pixels
each, too coarse for strokes. 28 is divisible by 2, 4 and 7 only (among 2..14
that keep more than 4 tokens).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Tokens ``(B, T, D)`` scaled and shifted per sample by ``(B, D)`` vectors."""
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


def sincos_position_embedding(dim: int, grid: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine embedding ``(grid * grid, dim)``: half the channels encode the row,
    half the column (MAE / DiT ``get_2d_sincos_pos_embed``). ``dim`` must be divisible by 4."""
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)  # (D/4,)
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64),
                                indexing="ij")

    def embed(pos: torch.Tensor) -> torch.Tensor:  # (T,) -> (T, D/2)
        angles = pos.reshape(-1, 1) * omega[None]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)

    return torch.cat([embed(rows), embed(cols)], dim=1).float()  # (T, D)


class Attention(nn.Module):
    """Multi-head self-attention over tokens ``(B, T, D)``."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # each (B, H, T, D/H)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, H, T, D/H)
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class DiTBlock(nn.Module):
    """A transformer block with adaLN-Zero conditioning: tokens ``(B, T, D)``, c ``(B, D)`` -> ``(B, T, D)``."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=1)
        x = x + gate_msa.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        x = x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x


class FinalLayer(nn.Module):
    """adaLN, then a linear map of each token to its patch's pixels: ``(B, T, D)`` -> ``(B, T, p * p)``."""

    def __init__(self, dim: int, patch: int) -> None:
        super().__init__()
        self.norm_final = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(dim, patch * patch)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class DiT(nn.Module):
    """x ``(B, 1, 28, 28)``, c ``(B, width)`` -> ``(B, 1, 28, 28)`` (the prediction, unbounded)."""

    def __init__(self, patch: int, width: int, depth: int, heads: int) -> None:
        super().__init__()
        if 28 % patch or width % heads or width % 4:
            raise ValueError(f"DiT needs a patch size dividing 28 (2, 4 or 7) and a width divisible by 4 and by the "
                             f"number of heads; got patch {patch}, width {width}, heads {heads}.")
        self.patch, self.grid, self.cond_dim = patch, 28 // patch, width
        self.x_embedder = nn.Conv2d(1, width, patch, stride=patch)  # patchify: (B, width, 28/p, 28/p)
        self.register_buffer("pos_embed", sincos_position_embedding(width, self.grid)[None], persistent=False)
        self.blocks = nn.ModuleList(DiTBlock(width, heads) for _ in range(depth))
        self.final_layer = FinalLayer(width, patch)
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """DiT's initialisation: Xavier for linear layers, and zero for every adaLN modulation and
        the output layer (adaLN-Zero: each block, and the whole network, start as the identity / 0)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        w = self.x_embedder.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.x_embedder.bias)
        for block in self.blocks:
            nn.init.zeros_(block.adaLN_modulation[-1].weight)
            nn.init.zeros_(block.adaLN_modulation[-1].bias)
        for layer in (self.final_layer.adaLN_modulation[-1], self.final_layer.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def unpatchify(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(B, T, p * p)`` -> images ``(B, 1, 28, 28)``."""
        b, g, p = x.shape[0], self.grid, self.patch
        x = x.view(b, g, g, p, p).permute(0, 1, 3, 2, 4)  # (B, row, y-in-patch, col, x-in-patch)
        return x.reshape(b, 1, g * p, g * p)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        x = self.x_embedder(x).flatten(2).transpose(1, 2) + self.pos_embed  # (B, T, width), T = (28 / p)^2
        for block in self.blocks:
            x = block(x, c)  # (B, T, width)
        x = self.final_layer(x, c)  # (B, T, p * p)
        return self.unpatchify(x)  # (B, 1, 28, 28)


__all__ = ["DiT", "DiTBlock", "FinalLayer", "modulate", "sincos_position_embedding"]
