"""Class-conditional Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with
PixelCNN Decoders", arXiv:1606.05328): an autoregressive model with an exact likelihood.

An image is a grid of 28 x 28 pixels, each one of K grey levels (``levels``; K = 2 is binarized
MNIST, the likelihood benchmark). In raster order (row by row, left to right) the model gives each
pixel a categorical distribution over the K levels conditioned on every pixel before it and on the
class y (the chain rule of probability, van den Oord et al. 2016, "Pixel Recurrent Neural
Networks", arXiv:1601.06759, eq. 1)::

    p(x | y) = prod_i p(x_i | x_1 .. x_{i-1}, y)

so ``-log p(x | y)`` is exact: a sum of K-way cross-entropies (``losses.categorical_nll``).

The network has two stacks of gated layers, ``tanh(W_f * x + V_f h) . sigmoid(W_g * x + V_g h)``
with the class embedding h (the paper's eq. 4):

* the vertical stack, a ``(k//2 + 1) x k`` convolution over the rows above: its features at row r
  depend on the rows above r only (the first layer's mask A drops the kernel's own row);
* the horizontal stack, a ``1 x (k//2 + 1)`` convolution over the pixels to the left in the same
  row (mask A on the first layer drops the pixel itself; mask B on the later layers keeps the
  features at the pixel, which saw only the pixels before it), plus a 1 x 1 link from the vertical
  stack at the same row, and a residual connection.

Together the two stacks see every pixel above and to the left: no blind spot (the original
PixelCNN's masked 3 x 3 stack cannot see a triangle of pixels up and to the right). The masks are
checked by gradients in ``tests/test_pixelcnn.py``.

Sampling is one pixel at a time. For the shared sampler (``sampling.sample``), the evaluator and
the CLI, the model looks like every other generator: ``latent_dim`` is 784 and
``generate(z, labels)`` turns noise ``z`` ``(B, 784)`` from N(0, I) into images. The noise is
the randomness of the categorical draws: pixel i takes the level whose cumulative probability
first reaches ``u_i = Phi(z_i)`` (inverse-CDF sampling; Phi is the standard normal CDF, so u_i is
uniform on [0, 1]). The same z and labels give the same image, by either sampler:

* ``sample_pixels(..., fast=False)``: the naive loop, a full network pass per pixel (784 passes);
* ``sample_pixels(..., fast=True)``: ``CachedSampler``, which keeps every layer's activations and
  computes, per row, one new row of each vertical stack and, per pixel, one new pixel of each
  horizontal stack (Fast PixelCNN++, Ramachandran et al. 2017): only what can change.

``complete`` keeps the top rows of given images and samples the rest; ``pixel_distribution`` gives
the K probabilities of one pixel given the pixels before it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..configs import bounded, dataset_field
from ..losses import categorical_nll
from ..validation import check_float, check_int, check_seed
from .base import HUB_KWARGS, CheckedHubMixin, Family

SIDE = 28
PIXELS = SIDE * SIDE
MAX_TEMPERATURE = 10.0
MAX_GUIDANCE = 10.0


@dataclass(frozen=True)
class PixelCNNConfig:
    dataset: str = dataset_field()
    levels: int = bounded(2, lo=2, hi=256, help="K, grey levels per pixel: 2 = binarized (the likelihood benchmark), "
                                                "4 to 256 for grey pictures")
    channels: int = bounded(32, lo=4, hi=512, help="width of both stacks")
    layers: int = bounded(8, lo=1, hi=40, help="gated layers (the first one masked A)")
    kernel_size: int = bounded(5, lo=3, hi=9, help="odd: the vertical stack sees (k//2 + 1) x k, the horizontal 1 x (k//2 + 1)")
    num_classes: int = bounded(10, lo=0, hi=1000, help="classes the model is conditioned on (0 = unconditional)")
    temperature: float = bounded(1.0, lo=0.0, hi=MAX_TEMPERATURE, lo_open=True,
                                 help="default sampling temperature (logits / T; below 1 sharper)")
    label_dropout: float = bounded(0.0, lo=0.0, hi=1.0, hi_open=True,
                                   help="probability of training an image with no class, so that the model also "
                                        "learns p(x) and can be sampled with class guidance")
    default_guidance: float = bounded(1.0, lo=0.0, hi=MAX_GUIDANCE,
                                      help="class guidance when sampling: 1 = plain conditional, 0 = unconditional, "
                                           "above 1 more like the class (needs label_dropout > 0)")
    SAMPLING_FIELDS: ClassVar[tuple[str, ...]] = ("temperature", "default_guidance")

    def check(self) -> None:
        """The rules that tie fields together; ``ValueError`` in one sentence."""
        if isinstance(self.kernel_size, int) and self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (3, 5, 7 or 9), got {self.kernel_size}.")
        if isinstance(self.default_guidance, (int, float)):
            check_guidance(self, self.default_guidance)

    @property
    def guidable(self) -> bool:
        """Whether the model learnt p(x) beside p(x | y): conditional and trained with label dropout."""
        return bool(self.num_classes) and self.label_dropout > 0

    def sampling_words(self) -> str:
        """How ``sampling.sample`` draws from it, for the Compare table: one pass per pixel."""
        guided = f", guidance {self.default_guidance:g}" if self.default_guidance != 1 else ""
        return f"pixel by pixel ({PIXELS} cached steps), temperature {self.temperature:g}{guided}"


def check_guidance(config: PixelCNNConfig, guidance: float) -> float:
    """Class guidance as a float in [0, 10]; anything but 1 needs a model that learnt p(x) too
    (``guidable``). ``ValueError`` in one sentence."""
    guidance = check_float(guidance, "guidance (1 = plain conditional, 0 = unconditional)", lo=0.0, hi=MAX_GUIDANCE)
    if guidance != 1 and not config.guidable:
        why = "is unconditional" if not config.num_classes else "was trained without label_dropout"
        raise ValueError(f"Class guidance other than 1 needs a PixelCNN that also learnt images without their class; "
                         f"this one {why} (train with --option label_dropout=0.1).")
    return guidance


# ----------------------------------------------------------------------------- pixel levels


def quantize(images: torch.Tensor, levels: int) -> torch.Tensor:
    """images ``(B, 1, 28, 28)`` float in [-1, 1] -> the nearest of K levels, int64 in 0..K-1, same
    shape. Grey value g in [0, 255] goes to ``round(g (K - 1) / 255)``: K = 256 keeps every grey
    value, K = 2 thresholds at mid-grey (stochastic binarization is ``data.binarize``)."""
    grey = (images.float().clamp(-1, 1) + 1) * 127.5  # [0, 255]
    return torch.round(torch.round(grey) * (levels - 1) / 255).long()


def dequantize(codes: torch.Tensor, levels: int) -> torch.Tensor:
    """int levels in 0..K-1 -> float images in [-1, 1] (level 0 -> -1, level K-1 -> 1), same shape.
    ``quantize(dequantize(l)) == l`` for every K."""
    return codes.float() * (2.0 / (levels - 1)) - 1.0


def uniforms(z: torch.Tensor) -> torch.Tensor:
    """Noise z ``(B, 784)`` from N(0, I) -> ``(B, 28, 28)`` float64 uniforms Phi(z) in [0, 1], one per
    pixel in raster order: the randomness of the categorical draws."""
    return (0.5 * torch.erfc(-z.double() / math.sqrt(2))).view(-1, SIDE, SIDE)


def sample_level(logits: torch.Tensor, u: torch.Tensor, temperature: float) -> torch.Tensor:
    """One categorical draw per row by the inverse CDF: logits ``(B, K)``, uniforms ``(B,)`` in [0, 1]
    -> levels ``(B,)`` int64: the first k whose cumulative probability of ``softmax(logits / T)``
    reaches u (float64, so that two samplers that agree on the logits agree on the draw)."""
    cdf = torch.softmax(logits.double() / temperature, dim=-1).cumsum(-1)
    return (cdf < u.to(cdf.device)[:, None]).sum(-1).clamp(max=logits.shape[-1] - 1)


# ----------------------------------------------------------------------------- the network


class GatedLayer(nn.Module):
    """One gated layer of both stacks (van den Oord et al. 2016, Figure 2), written as the pieces
    that the whole-image pass and the cached sampler share.

    Vertical: ``vertical_pre`` of the padded features above ``(B, C_in, H + k//2, W + 2 (k//2))``
    -> ``(B, 2C, H, W)``; ``vertical_out`` -> the stack's next features ``(B, C, H, W)`` and the
    1 x 1 link into the horizontal stack ``(B, 2C, H, W)``. Horizontal: ``horizontal_pre`` of the
    left-padded features ``(B, C_in, H, W + k//2)`` -> ``(B, 2C, H, W)``; ``horizontal_out`` adds the
    link, gates, applies the 1 x 1 output and the residual. Mask A (``first``) zeroes the kernel's
    own row (vertical) and own pixel (horizontal); mask B (the later layers) keeps them, since
    their input features at a pixel saw only the pixels before it."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, num_classes: int, *, first: bool) -> None:
        super().__init__()
        half = kernel_size // 2
        self.half, self.first = half, first
        self.v_conv = nn.Conv2d(in_channels, 2 * channels, (half + 1, kernel_size))  # rows r - half .. r
        self.h_conv = nn.Conv2d(in_channels, 2 * channels, (1, half + 1))  # columns c - half .. c
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_out = nn.Conv2d(channels, channels, 1)
        self.cond = nn.Embedding(num_classes, 4 * channels) if num_classes else None  # V h for both stacks' gates
        if first:  # mask A: the last kernel row (vertical) and column (horizontal) are the pixel's own
            v_mask = torch.ones_like(self.v_conv.weight)
            v_mask[:, :, -1] = 0
            h_mask = torch.ones_like(self.h_conv.weight)
            h_mask[:, :, :, -1] = 0
            self.register_buffer("v_mask", v_mask, persistent=False)
            self.register_buffer("h_mask", h_mask, persistent=False)

    def condition(self, labels: torch.Tensor | None) -> tuple[torch.Tensor | float, torch.Tensor | float]:
        """labels ``(B,)`` in 0..num_classes -> the class biases of the vertical and horizontal gates, each
        ``(B, 2C, 1, 1)``. The label num_classes means no class: a zero bias (no weights of its own, so
        a model trained without label dropout can be fine-tuned with it)."""
        if self.cond is None:
            return 0.0, 0.0
        known = labels < self.cond.num_embeddings  # (B,)
        bias = self.cond(torch.where(known, labels, 0)) * known[:, None]
        v, h = bias[:, :, None, None].chunk(2, dim=1)
        return v, h

    def vertical_pre(self, v_padded: torch.Tensor) -> torch.Tensor:
        weight = self.v_conv.weight * self.v_mask if self.first else self.v_conv.weight
        return F.conv2d(v_padded, weight, self.v_conv.bias)

    def vertical_out(self, pre: torch.Tensor, cond: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        return gate(pre + cond), self.v_to_h(pre)

    def horizontal_pre(self, h_padded: torch.Tensor) -> torch.Tensor:
        weight = self.h_conv.weight * self.h_mask if self.first else self.h_conv.weight
        return F.conv2d(h_padded, weight, self.h_conv.bias)

    def horizontal_out(self, pre: torch.Tensor, link: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``link``: the vertical link plus the class bias. ``h``: the layer's input at the same pixels
        (the residual; the first layer, whose input is the 1-channel image, has none)."""
        out = self.h_out(gate(pre + link))  # (B, C, H, W)
        return out if self.first else h + out


def gate(pre: torch.Tensor) -> torch.Tensor:
    """``tanh(a) * sigmoid(b)`` of the two halves of ``(B, 2C, H, W)`` -> ``(B, C, H, W)``."""
    a, b = pre.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class PixelCNN(CheckedHubMixin, nn.Module, PyTorchModelHubMixin, **HUB_KWARGS,
               tags=["pixelcnn", "autoregressive", "aigc-lab"]):
    """``forward(x, labels)``: images on the level grid ``(B, 1, 28, 28)`` in [-1, 1] -> logits
    ``(B, K, 28, 28)``; logits at pixel (r, c) depend only on pixels before (r, c) in raster order."""

    objective: ClassVar[str] = "autoregressive"
    family: ClassVar[str] = "pixelcnn"

    def __init__(self, config: PixelCNNConfig) -> None:
        super().__init__()
        self.config = config
        c, k = config.channels, config.kernel_size
        self.layers = nn.ModuleList(
            GatedLayer(1 if i == 0 else c, c, k, config.num_classes, first=i == 0) for i in range(config.layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, config.levels, 1))

    @property
    def latent_dim(self) -> int:
        """One noise value per pixel: 28 * 28 (see ``uniforms``)."""
        return PIXELS

    @property
    def num_classes(self) -> int:
        return int(self.config.num_classes)

    @property
    def levels(self) -> int:
        return int(self.config.levels)

    def to_levels(self, images: torch.Tensor) -> torch.Tensor:
        """images ``(B, 1, 28, 28)`` in [-1, 1] -> the nearest levels, int64 in 0..K-1 (``quantize``)."""
        return quantize(images, self.levels)

    def from_levels(self, codes: torch.Tensor) -> torch.Tensor:
        """int levels in 0..K-1 -> images in [-1, 1], same shape (``dequantize``)."""
        return dequantize(codes, self.levels)

    @property
    def null_label(self) -> int:
        """The label that means "no class" (the unconditional input of class guidance)."""
        return int(self.config.num_classes)

    def check_labels(self, labels: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        if labels is None:
            raise ValueError(f"This PixelCNN is conditional: pass labels (0..{self.num_classes - 1}).")
        return labels.expand(batch) if labels.dim() == 0 else labels

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x ``(B, 1, 28, 28)`` in [-1, 1] (levels through ``from_levels``), labels ``(B,)`` int64 ->
        logits ``(B, K, 28, 28)``; the logits of pixel (r, c) depend only on the pixels before it."""
        labels = self.check_labels(labels, x.shape[0])
        v = h = x
        for layer in self.layers:
            p = layer.half
            cond_v, cond_h = layer.condition(labels)
            v, link = layer.vertical_out(layer.vertical_pre(F.pad(v, (p, p, p, 0))), cond_v)  # (B, C, 28, 28)
            h = layer.horizontal_out(layer.horizontal_pre(F.pad(h, (p, 0, 0, 0))), link + cond_h, h)  # (B, C, 28, 28)
        return self.head(h)  # (B, K, 28, 28)

    def nll(self, targets: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Exact ``-log p(x | y)`` in nats per image ``(B,)`` of levels ``(B, 1, 28, 28)`` int64 in 0..K-1."""
        return categorical_nll(self(dequantize(targets, self.levels), labels), targets)

    def marginal_nll(self, targets: torch.Tensor) -> torch.Tensor:
        """Exact ``-log p(x)`` with p(x) = mean over the classes of p(x | y) (a uniform class prior),
        nats per image ``(B,)``: comparable with unconditional models. One network pass per class."""
        if not self.num_classes:
            return self.nll(targets)
        b = targets.shape[0]
        per_class = torch.stack([self.nll(targets, torch.full((b,), y, dtype=torch.long, device=targets.device))
                                 for y in range(self.num_classes)], dim=1)  # (B, num_classes)
        return math.log(self.num_classes) - torch.logsumexp(-per_class.double(), dim=1)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, *, temperature: float | None = None,
                 guidance: float | None = None, fast: bool = True) -> torch.Tensor:
        """Noise z ``(B, 784)`` from N(0, I) (+ labels ``(B,)``) -> images ``(B, 1, 28, 28)`` in [-1, 1] on
        the K-level grid, one pixel at a time (``sample_pixels``); deterministic given z."""
        codes = sample_pixels(self, z, labels, temperature=temperature, guidance=guidance, fast=fast)
        return dequantize(codes, self.levels)


# ----------------------------------------------------------------------------- sampling


@torch.no_grad()
def sample_pixels(
    model: PixelCNN,
    z: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    temperature: float | None = None,
    guidance: float | None = None,
    fast: bool = True,
    start: torch.Tensor | None = None,
    start_row: int = 0,
    on_row: Callable[[int, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Draw pixels ``start_row``..27 in raster order: levels ``(B, 1, 28, 28)`` int64 in 0..K-1.

    Args:
        z: noise ``(B, 784)`` from N(0, I); pixel i is drawn with u_i = Phi(z_i) (``uniforms``).
        labels: ``(B,)`` int64 for a conditional model.
        temperature: logits / T before the softmax, in (0, 10]; None = the config's.
        guidance: class guidance in [0, 10]; None = the config's ``default_guidance``. 1 samples
            p(x | y); 0 samples p(x) (the null label); g otherwise mixes the logits of both as
            ``uncond + g (cond - uncond)`` (classifier-free guidance, Ho & Salimans 2022, applied
            to each pixel's categorical), both from one network pass over 2B rows.
        fast: the cached sampler (``CachedSampler``: each layer computes only the new row of its
            vertical stack and the new pixel of its horizontal stack); False = the naive loop, a
            full network pass per pixel (784 passes). Both give the same levels.
        start: levels ``(B, 1, 28, 28)`` whose rows above ``start_row`` are kept (completion).
        on_row: called with (row, levels so far) after each sampled row (an animation's frames).
    """
    temperature = check_float(model.config.temperature if temperature is None else temperature,
                              "temperature", lo=0.0, hi=MAX_TEMPERATURE, lo_open=True)
    start_row = check_int(start_row, "start_row", lo=0, hi=SIDE)
    device = next(model.parameters()).device
    b = z.shape[0]
    labels, guidance = guided_labels(model, model.check_labels(labels.to(device) if labels is not None else None, b),
                                     guidance)
    copies = 1 if labels is None else len(labels) // b  # 2 when guided
    u = uniforms(z)  # (B, 28, 28) float64
    x = start.clone().to(device) if start is not None else torch.zeros(b, 1, SIDE, SIDE, dtype=torch.long, device=device)
    was_training = model.training
    model.eval()
    try:
        cache = CachedSampler(model, labels, b * copies, device) if fast else None
        for r in range(start_row if cache is not None else 0):  # kept rows: only the caches need them
            cache.vertical_row(r)
            cache.finish_row(r, x.repeat(copies, 1, 1, 1))
        for r in range(start_row, SIDE):
            if cache is not None:
                cache.vertical_row(r)
            for c in range(SIDE):
                if cache is not None:
                    logits = cache.pixel_logits(c)
                else:
                    logits = model(dequantize(x.repeat(copies, 1, 1, 1), model.levels), labels)[:, :, r, c]  # (copies B, K)
                level = sample_level(guided_logits(logits, b, guidance), u[:, r, c], temperature)
                x[:, 0, r, c] = level
                if cache is not None:
                    cache.set_pixel(c, level.repeat(copies))
            if cache is not None:
                cache.finish_row(r, x.repeat(copies, 1, 1, 1))
            if on_row is not None:
                on_row(r, x)
    finally:
        model.train(was_training)
    return x


def guided_labels(model: PixelCNN, labels: torch.Tensor | None, guidance: float | None
                  ) -> tuple[torch.Tensor | None, float]:
    """The labels a guided pass runs on, and the checked guidance (None = the config's default):
    ``(B,)`` labels at guidance 1, B null labels at 0, else ``(2B,)``: the labels, then B null labels
    (the same images without their class). An unconditional model: (None, 1)."""
    if labels is None:
        return None, 1.0
    guidance = check_guidance(model.config, model.config.default_guidance if guidance is None else guidance)
    null = torch.full_like(labels, model.null_label)
    return (null if guidance == 0 else labels if guidance == 1 else torch.cat([labels, null])), guidance


def guided_logits(logits: torch.Tensor, batch: int, guidance: float) -> torch.Tensor:
    """Logits ``(B, K)``, or ``(2B, K)`` whose second half had no class -> the guided logits ``(B, K)``:
    ``uncond + guidance * (cond - uncond)``. Logits differ from log-probabilities by a constant per row,
    which the softmax ignores, so this is the guided mixture of the two log-probabilities."""
    if logits.shape[0] == batch:
        return logits
    cond, uncond = logits.double().split(batch)
    return uncond + guidance * (cond - uncond)


class CachedSampler:
    """Per-layer activation caches for sampling, in the way of Fast PixelCNN++ (Ramachandran et al.
    2017, arXiv:1704.06001): a new pixel changes only the pixels after it, so each layer keeps what
    it has computed and adds, per row, one row of its vertical stack and, per pixel, one pixel of
    its horizontal stack, from the few input pixels those read (k//2 + 1 rows, k//2 + 1 columns).
    About one full network pass of arithmetic per image instead of 784; the caches hold k//2 + 1
    rows per layer. The vertical row runs ``GatedLayer``'s own convolutions; one pixel of the
    horizontal stack is the same weights as matrix products on ``(B, features)`` (a convolution
    over one output pixel is one), which cost less call overhead per pixel.

    ``vertical_row(r)`` (rows above r finished), then ``pixel_logits(c)`` / ``set_pixel(c, level)``
    for c = 0..27, then ``finish_row(r, levels)``."""

    def __init__(self, model: PixelCNN, labels: torch.Tensor | None, batch: int, device: torch.device) -> None:
        self.model = model
        self.conds = [layer.condition(labels) for layer in model.layers]
        p = self.pad = model.layers[0].half
        widths = [layer.v_conv.in_channels for layer in model.layers]
        # each layer's vertical input, rows r - p .. r (zeros above the image), columns -p .. 27 + p
        self.v_inputs = [torch.zeros(batch, w, p + 1, SIDE + 2 * p, device=device) for w in widths]
        # each layer's horizontal input along row r, column-major: (columns -p .. 27, B, features)
        self.h_inputs = [torch.zeros(SIDE + p, batch, w, device=device) for w in widths]
        self.links: list[torch.Tensor] = []  # per layer (28, B, 2C): vertical link + class bias of row r
        # one output pixel of each horizontal convolution as a matrix: (2C, C_in * (p + 1)), features major
        self.h_weights = [(layer.h_conv.weight * layer.h_mask if layer.first else layer.h_conv.weight).flatten(1)
                          for layer in model.layers]
        self.head = [(m.weight.flatten(1), m.bias) if isinstance(m, nn.Conv2d) else m for m in model.head]

    def vertical_row(self, r: int) -> None:
        """Row r of every layer's vertical stack and its links into the horizontal stack."""
        p, layers = self.pad, self.model.layers
        self.links = []
        for i, layer in enumerate(layers):
            cond_v, cond_h = self.conds[i]
            v, link = layer.vertical_out(layer.vertical_pre(self.v_inputs[i]), cond_v)  # (B, C, 1, 28), (B, 2C, 1, 28)
            if i + 1 < len(layers):
                self.v_inputs[i + 1][:, :, p, p : p + SIDE] = v[:, :, 0]
            self.links.append((link + cond_h)[:, :, 0].permute(2, 0, 1).contiguous())  # (28, B, 2C)
        for h in self.h_inputs:
            h.zero_()

    def pixel_logits(self, c: int) -> torch.Tensor:
        """Logits ``(B, K)`` of pixel (r, c) from columns c - k//2 .. c of every layer's horizontal input."""
        p, layers = self.pad, self.model.layers
        for i, layer in enumerate(layers):
            h_in = self.h_inputs[i]  # (28 + p, B, C_in)
            window = h_in[c : c + p + 1].permute(1, 2, 0).reshape(h_in.shape[1], -1)  # (B, C_in * (p + 1))
            pre = F.linear(window, self.h_weights[i], layer.h_conv.bias)  # (B, 2C)
            h = F.linear(gate(pre + self.links[i][c]), layer.h_out.weight.flatten(1), layer.h_out.bias)  # (B, C)
            if not layer.first:
                h = h_in[c + p] + h  # the residual
            if i + 1 < len(layers):
                self.h_inputs[i + 1][c + p] = h
        for m in self.head:  # ReLU, 1 x 1, ReLU, 1 x 1 on one pixel
            h = F.linear(h, *m) if isinstance(m, tuple) else m(h)
        return h  # (B, K)

    def set_pixel(self, c: int, level: torch.Tensor) -> None:
        """The drawn levels ``(B,)`` of pixel (r, c) become the first layer's horizontal input."""
        self.h_inputs[0][c + self.pad, :, 0] = dequantize(level, self.model.levels)

    def finish_row(self, r: int, codes: torch.Tensor) -> None:
        """Row r of the image (levels ``(B, 1, 28, 28)``) becomes the first layer's vertical input; every
        layer's window moves down a row."""
        p = self.pad
        self.v_inputs[0][:, 0, p, p : p + SIDE] = dequantize(codes[:, 0, r], self.model.levels)
        for v in self.v_inputs:
            v[:, :, :p] = v[:, :, 1:].clone()
            v[:, :, p] = 0


@torch.no_grad()
def complete(
    model: PixelCNN,
    images: torch.Tensor,
    *,
    rows: int,
    seed: int,
    samples: int = 1,
    labels: torch.Tensor | None = None,
    temperature: float | None = None,
    guidance: float | None = None,
    fast: bool = True,
    on_row: Callable[[int, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Keep the top ``rows`` rows of images ``(B, 1, 28, 28)`` in [-1, 1] and sample the rest, ``samples``
    times per image: ``(B * samples, 1, 28, 28)`` in [-1, 1], image i's completions at ``i * samples ..``.

    The kept rows are returned exactly as given; the model conditions on them rounded to its K levels
    (``quantize``). The sampled rows lie on the level grid. The noise is ``sampling.latents`` of
    ``seed``, so the same seed gives the same completions. ``rows`` is 0..28, ``samples`` 1..64.
    ``on_row`` is ``sample_pixels``'s (called after each sampled row: a progress bar)."""
    from ..sampling import latents

    rows = check_int(rows, "rows", lo=0, hi=SIDE)
    samples = check_int(samples, "samples", lo=1, hi=64)
    seed = check_seed(seed)
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, SIDE, SIDE) or not images.is_floating_point():
        raise ValueError(f"images must be a float tensor of shape (B, 1, 28, 28) in [-1, 1], got {tuple(images.shape)}.")
    given = images.repeat_interleave(samples, dim=0)  # (B * samples, 1, 28, 28)
    if labels is not None:
        labels = labels.repeat_interleave(samples, dim=0)
    z = latents(len(given), PIXELS, seed=seed)
    start = quantize(given, model.levels)
    drawn = sample_pixels(model, z, labels, temperature=temperature, guidance=guidance, fast=fast, start=start,
                          start_row=rows, on_row=on_row)
    out = dequantize(drawn, model.levels).cpu()
    out[:, :, :rows] = given[:, :, :rows].float()
    return out


@torch.no_grad()
def pixel_distribution(
    model: PixelCNN,
    images: torch.Tensor,
    row: int,
    col: int,
    *,
    labels: torch.Tensor | None = None,
    temperature: float = 1.0,
    guidance: float = 1.0,
) -> torch.Tensor:
    """The model's K probabilities for pixel (row, col) given the pixels before it in raster order, as
    the sampler draws it at ``temperature`` and ``guidance``: images ``(B, 1, 28, 28)`` in [-1, 1]
    (rounded to the K levels; pixels at and after (row, col) are ignored) -> ``(B, K)`` float32, each
    row summing to 1."""
    row = check_int(row, "row", lo=0, hi=SIDE - 1)
    col = check_int(col, "col", lo=0, hi=SIDE - 1)
    temperature = check_float(temperature, "temperature", lo=0.0, hi=MAX_TEMPERATURE, lo_open=True)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    x = dequantize(quantize(images.to(device), model.levels), model.levels)
    b = x.shape[0]
    labels, guidance = guided_labels(model, model.check_labels(labels.to(device) if labels is not None else None, b),
                                     guidance)
    copies = 1 if labels is None else len(labels) // b
    logits = model(x.repeat(copies, 1, 1, 1), labels)[:, :, row, col]
    model.train(was_training)
    return torch.softmax(guided_logits(logits, b, guidance).float() / temperature, dim=-1).cpu()


FAMILY = Family("pixelcnn", PixelCNNConfig, PixelCNN, label="Gated PixelCNN", label_zh="门控 PixelCNN",
                abilities=frozenset({"generate", "condition"}), width_fields=("channels",),
                train_defaults={"batch_size": 64, "lr": 1e-3})


__all__ = ["PixelCNN", "PixelCNNConfig", "FAMILY", "GatedLayer", "CachedSampler", "quantize", "dequantize", "uniforms",
           "sample_level", "sample_pixels", "complete", "pixel_distribution", "guided_logits", "check_guidance", "MAX_GUIDANCE"]
