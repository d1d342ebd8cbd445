"""Pictures from outside (an upload, a sketch, an API call) -> what the models take:
``(1, 1, 28, 28)`` float in [-1, 1], white ink on black, framed the way MNIST was made.

Input is untrusted, so decoding is defensive:

* the pixel count is read from the file's header and refused above ``MAX_PIXELS``
  *before* any pixel is decoded (a 20000 x 20000 PNG is a few hundred KB on disk
  and 1.6 GB once decoded); PIL's own ``DecompressionBombError`` is caught too;
* only common raster formats are opened (``FORMATS``: never EPS, which PIL hands
  to Ghostscript);
* truncated, damaged, zero-byte and non-image files give one sentence, not a trace;
* every PIL mode is turned into grey correctly: 16-bit and 32-bit greys are scaled
  (``convert("L")`` would clip them to white), transparency (alpha, palette or
  colour-key) counts as background, CMYK/YCbCr/LAB/HSV go through RGB, and an
  animated picture gives its first frame.

Every refusal is a ``ValueError`` with one sentence; ``EmptyPictureError`` (a
subclass) marks "nothing to see" (no picture, a blank canvas), which callers may
treat as "no input" rather than as a mistake. No gradio here.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

MAX_PIXELS = 4096 * 4096  # a 12-megapixel phone photo (4032 x 3024) fits; decoded RGBA <= 64 MB
MAX_SIDE = 4096  # each side on its own: a 1048576 x 16 strip has a legal pixel count but no use here
MIN_SIDE = 8  # a digit needs a few pixels each way; smaller pictures are refused, not guessed
WORK_SIDE = 1024  # larger pictures are box-reduced first: the digit ends up 20 x 20 anyway
INK_THRESHOLD = 40  # 0..255: fainter differences from the background are paper, not ink
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
FORMAT_NAMES = "PNG, JPEG, GIF, BMP, WebP or TIFF"


class EmptyPictureError(ValueError):
    """No picture at all, or one without visible content (a blank canvas)."""


class PictureSizeError(ValueError):
    """A picture with too many pixels (a possible decompression bomb) or too few."""


Picture = bytes | bytearray | str | os.PathLike | Image.Image | np.ndarray

# ----------------------------------------------------------------------------- decoding


def _too_large(width: int, height: int) -> PictureSizeError:
    return PictureSizeError(f"The image is {width} x {height} pixels, more than the {MAX_PIXELS:,} "
                      f"(4096 x 4096) accepted: make it smaller and try again.")


def _unreadable() -> ValueError:
    return ValueError(f"This file is not a readable image (not an image, or damaged or truncated): "
                      f"upload a {FORMAT_NAMES} picture.")


def check_size(width: int, height: int) -> None:
    """Refuse pictures with more than ``MAX_PIXELS`` pixels, a side over ``MAX_SIDE`` or a side
    under ``MIN_SIDE``, each with a sentence naming the picture's real size."""
    if width * height > MAX_PIXELS:
        raise _too_large(width, height)
    if max(width, height) > MAX_SIDE:
        raise PictureSizeError(f"The image is {width} x {height} pixels; each side may be at most {MAX_SIDE} "
                               f"pixels: crop or shrink it and try again.")
    if min(width, height) < MIN_SIDE:
        raise PictureSizeError(f"The image is {width} x {height} pixels; it needs at least {MIN_SIDE} x {MIN_SIDE} "
                         f"(28 x 28 or larger works best).")


def _open_stream(source: bytes | bytearray | str | os.PathLike) -> Any:
    """A stream over the file's bytes, or ``ValueError`` for an empty or missing file (the
    message never names the path: it may come from a request)."""
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ValueError(f"The file is empty (0 bytes): upload a {FORMAT_NAMES} picture.")
        return io.BytesIO(bytes(source))
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"The picture did not arrive (no such file): upload it again as a {FORMAT_NAMES} file.")
    if path.stat().st_size == 0:
        raise ValueError(f"The file is empty (0 bytes): upload a {FORMAT_NAMES} picture.")
    return path


def header_size(source: bytes | bytearray | str | os.PathLike) -> tuple[int, int]:
    """(width, height) read from the file's header, after ``check_size``; no pixel is decoded.

    Raises ``ValueError`` (one sentence) for an empty, unreadable or badly sized file.
    """
    Image.init()
    formats = [f for f in FORMATS if f in Image.OPEN]
    try:
        with Image.open(_open_stream(source), formats=formats) as image:
            size = image.size
    except ValueError:
        raise
    except Image.DecompressionBombError:
        raise PictureSizeError(f"The image is larger than the {MAX_PIXELS:,} pixels (4096 x 4096) accepted: "
                               f"make it smaller and try again.") from None
    except Exception:  # noqa: BLE001 - PIL raises many kinds of errors on bad files
        raise _unreadable() from None
    check_size(*size)
    return size


def decode_image(source: bytes | bytearray | str | os.PathLike) -> Image.Image:
    """Decode an image file (a path or its bytes) safely: the first frame, loaded, EXIF-rotated.

    The size is checked from the header before the pixels are decoded. Raises
    ``ValueError`` with one sentence for an empty, unreadable, truncated, too large
    or too small file.
    """
    stream = _open_stream(source)
    Image.init()
    formats = [f for f in FORMATS if f in Image.OPEN]
    try:
        with Image.open(stream, formats=formats) as image:  # reads the header only
            check_size(*image.size)
            image.seek(0)  # first frame of an animation
            image.load()
            frame = image.copy()  # detached from the file, which the with-block closes
    except PictureSizeError:
        raise
    except Image.DecompressionBombError:  # PIL's own limit, hit while reading the header
        raise PictureSizeError(f"The image is larger than the {MAX_PIXELS:,} pixels (4096 x 4096) accepted: "
                               f"make it smaller and try again.") from None
    except Exception:  # noqa: BLE001 - PIL raises OSError, SyntaxError, struct.error, EOFError, ... on bad files
        raise _unreadable() from None
    try:
        frame = ImageOps.exif_transpose(frame)  # phone photos are stored sideways with a rotation tag
    except Exception:  # noqa: BLE001 - a damaged EXIF block: keep the pixels as stored
        pass
    return frame


# ----------------------------------------------------------------------------- any picture -> grey + alpha


def _pil_to_array(image: Image.Image) -> np.ndarray:
    """A PIL image of any mode -> an array ``_array_to_grey`` understands, reduced to at most
    ``WORK_SIDE`` pixels a side: uint8 L/LA/RGB/RGBA, uint16 for 16-bit grey, int32 (I), float32 (F)."""
    check_size(*image.size)
    mode = image.mode
    if mode.startswith("I;16"):
        image, mode = image.convert("I"), "I;16"
    elif mode in ("I", "F"):
        pass
    elif "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info:
        image = image.convert("LA" if mode in ("L", "La", "1") else "RGBA")
    elif mode in ("1", "L"):
        image = image.convert("L")
    else:  # RGB, P, CMYK, YCbCr, LAB, HSV, RGBX, ...
        image = image.convert("RGB")
    factor = math.ceil(max(image.size) / WORK_SIDE)
    if factor > 1:
        image = image.reduce(factor)
    arr = np.asarray(image)
    return arr.astype(np.uint16) if mode == "I;16" else arr


def _levels(arr: np.ndarray) -> np.ndarray:
    """Pixel values -> float32 in 0..255: uint8 as is, uint16 / 257, bool 0/255; other ints
    and floats by their range (floats within 0..1 x 255, within 0..255 as is, 16-bit / 257)."""
    if arr.dtype == np.bool_:
        return arr.astype(np.float32) * 255.0
    if arr.dtype == np.uint8:
        return arr.astype(np.float32)
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 2:  # 16-bit, either byte order
        return arr.astype(np.float32) / 257.0
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"An image array must hold numbers (uint8 0..255, uint16, or floats in 0..1), "
                         f"got dtype {arr.dtype}.")
    values = arr.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("The image has NaN or infinite pixel values; pixels must be finite numbers.")
    lo, hi = float(values.min()), float(values.max())
    if lo < 0 or hi > 65535:
        raise ValueError(f"Image pixel values must be in 0..255 (0..1 for floats, 0..65535 for 16-bit), "
                         f"got values from {lo:g} to {hi:g}.")
    if np.issubdtype(arr.dtype, np.floating) and hi <= 1.0:
        return (values * 255.0).astype(np.float32)
    return (values if hi <= 255 else values / 257.0).astype(np.float32)


def _array_to_grey(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(H, W)`` or ``(H, W, C)`` with C in 1..4 (grey, grey+alpha, RGB, RGBA) -> grey
    ``(H, W)`` float32 in 0..255 (ITU-R 601 luma, as PIL's "L") and alpha ``(H, W)`` in 0..1."""
    if arr.ndim == 3 and 1 <= arr.shape[2] <= 4:
        channels = arr.shape[2]
    elif arr.ndim == 2:
        channels, arr = 1, arr[..., None]
    else:
        raise ValueError(f"An image array must be H x W or H x W x C with 1 to 4 channels, got shape {arr.shape}.")
    check_size(arr.shape[1], arr.shape[0])
    values = _levels(arr)
    if channels in (3, 4):
        grey = values[..., 0] * 0.299 + values[..., 1] * 0.587 + values[..., 2] * 0.114
    else:
        grey = values[..., 0]
    alpha = values[..., -1] / 255.0 if channels in (2, 4) else np.ones(grey.shape, np.float32)
    return grey.astype(np.float32), np.clip(alpha, 0.0, 1.0).astype(np.float32)


def _shrink(grey: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Box-reduce large arrays to at most ``WORK_SIDE`` a side (arrays given directly, not files)."""
    h, w = grey.shape
    factor = math.ceil(max(h, w) / WORK_SIDE)
    if factor <= 1:
        return grey, alpha
    size = (max(1, w // factor), max(1, h // factor))
    shrink = lambda a: np.asarray(Image.fromarray(a.astype(np.float32)).resize(size, Image.BOX))  # noqa: E731
    return shrink(grey), shrink(alpha)


def to_grey(picture: Picture) -> tuple[np.ndarray, np.ndarray]:
    """Any picture -> (grey ``(H, W)`` float32 in 0..255, alpha ``(H, W)`` float32 in 0..1).

    ``picture``: a file path or the file's bytes (decoded by ``decode_image``), a PIL
    image of any mode, or an array ``(H, W)`` / ``(H, W, 1..4)`` of uint8, uint16, bool,
    ints in 0..255 or floats in 0..1. Large pictures come back reduced to at most
    ``WORK_SIDE`` pixels a side. ``EmptyPictureError`` for None, ``ValueError`` otherwise.
    """
    if picture is None:
        raise EmptyPictureError("No image: draw something or upload a picture first.")
    if isinstance(picture, (bytes, bytearray, str, os.PathLike)):
        picture = decode_image(picture)
    if isinstance(picture, Image.Image):
        arr = _pil_to_array(picture)
    elif isinstance(picture, (np.ndarray, torch.Tensor, list, tuple)):
        try:
            arr = np.asarray(picture.detach().cpu() if isinstance(picture, torch.Tensor) else picture)
        except (TypeError, ValueError):
            raise ValueError("An image array must be a regular grid of numbers (H x W or H x W x C).") from None
    else:
        raise ValueError(f"Expected a picture (a file path, bytes, a PIL image or an array), "
                         f"got {type(picture).__name__}.")
    return _shrink(*_array_to_grey(arr))


def compact(picture: Picture) -> np.ndarray:
    """Any picture -> ``(H, W, 2)`` uint8 grey + alpha, at most ``WORK_SIDE`` pixels a side:
    decoded once, small enough to keep, and accepted by ``to_grey`` / ``to_model_input`` as is."""
    grey, alpha = to_grey(picture)
    return np.stack([np.rint(grey), np.rint(alpha * 255.0)], axis=-1).clip(0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- MNIST framing


FRAMING: dict[str, tuple[int, str]] = {"mnist": (20, "mass"), "fashion-mnist": (28, "box")}
"""How each dataset framed its images: the side the object's bounding box is scaled to fit,
and how it is centred. MNIST: 20 x 20, centre of mass at the centre (LeCun et al.);
Fashion-MNIST: the longest side to 28, bounding box centred (Xiao et al. 2017)."""


def mnist_frame(grey: np.ndarray, alpha: np.ndarray, *, dataset: str = "mnist") -> np.ndarray:
    """Grey + alpha -> ``(28, 28)`` float32 in 0..255, white ink on black, framed like ``dataset``.

    Transparent pixels count as background (white paper); an opaque picture whose
    border is mostly dark is taken as light ink on dark and inverted; the ink is
    measured against the background level (so grey paper is not ink); its bounding
    box is scaled and centred as ``FRAMING`` says for the dataset.
    ``EmptyPictureError`` when no ink is visible.
    """
    if dataset not in FRAMING:
        raise ValueError(f"Unknown dataset {dataset!r} for framing; choose one of: {', '.join(FRAMING)}.")
    fit, centre = FRAMING[dataset]
    paper = grey * alpha + 255.0 * (1.0 - alpha)  # transparent -> white paper
    if alpha.min() == 1.0:
        border = np.concatenate([paper[0], paper[-1], paper[:, 0], paper[:, -1]])
        if np.median(border) < 128:
            paper = 255.0 - paper  # light ink on dark: make it dark ink on light
        background = float(np.median(np.concatenate([paper[0], paper[-1], paper[:, 0], paper[:, -1]])))
    else:
        background = 255.0
    # ink relative to the paper, stretched so that a photo of grey paper reaches full white
    ink = np.clip((background - paper) * (255.0 / max(background, 1.0)), 0.0, 255.0)
    empty = EmptyPictureError("The picture is empty: draw a digit or an object "
                              "(or upload an image with visible content).")
    mask = ink > INK_THRESHOLD
    if not mask.any():
        raise empty
    ys, xs = np.nonzero(mask)
    crop = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    factor = fit / max(h, w)
    small = Image.fromarray(crop.astype(np.uint8)).resize(
        (max(1, round(w * factor)), max(1, round(h * factor))), Image.LANCZOS
    )
    s = np.asarray(small, np.float32)
    total = float(s.sum())
    if total <= 0:  # strokes too thin to survive the reduction
        raise empty
    if centre == "mass":
        cy = float((s.sum(1) * np.arange(s.shape[0])).sum()) / total
        cx = float((s.sum(0) * np.arange(s.shape[1])).sum()) / total
    else:  # the bounding box's centre
        cy, cx = (s.shape[0] - 1) / 2, (s.shape[1] - 1) / 2
    canvas = np.zeros((28, 28), np.float32)
    top = int(np.clip(round(14 - cy), 0, 28 - s.shape[0]))
    left = int(np.clip(round(14 - cx), 0, 28 - s.shape[1]))
    canvas[top : top + s.shape[0], left : left + s.shape[1]] = s
    return canvas


def to_model_input(picture: Picture | None, *, dataset: str = "mnist") -> torch.Tensor:
    """Any drawn or uploaded picture -> ``(1, 1, 28, 28)`` float32 in [-1, 1], framed as
    ``dataset``'s images were (white on black; see ``FRAMING``).

    See ``to_grey`` for what is accepted and ``mnist_frame`` for the framing. Raises
    ``EmptyPictureError`` (no picture, nothing visible) or ``ValueError`` (unreadable,
    too large, too small, bad array), each with one sentence.
    """
    canvas = mnist_frame(*to_grey(picture), dataset=dataset)
    return torch.from_numpy(canvas / 127.5 - 1.0).clamp(-1.0, 1.0)[None, None]


__all__ = ["MAX_PIXELS", "MAX_SIDE", "MIN_SIDE", "header_size", "compact", "FORMATS", "EmptyPictureError", "PictureSizeError", "decode_image", "to_grey", "mnist_frame", "FRAMING",
           "to_model_input", "check_size"]
