"""Datasets as uint8 tensors, class names, and batch drawing.

A split loads once into memory as ``uint8`` images ``(N, 1, 28, 28)`` plus
``int64`` labels ``(N,)``. Training draws random indices on the training device
and scales to ``[-1, 1]`` there, so the hot loop never touches PIL.

Where the data lives: ``$AIGC_DATA_DIR`` if set, else ``~/.cache/aigc_models/data``.
torchvision's ``download=True`` downloads when online and, offline, only
unpacks the ``.gz`` archives already present under ``<root>/<Name>/raw``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

# ----------------------------------------------------------------------------- names

DATASETS: dict[str, str] = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
"""Our dataset names -> torchvision class (and folder) names."""

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}

NUM_CLASSES = 10
IMAGE_SHAPE = (1, 28, 28)


class DatasetUnavailableError(RuntimeError):
    """The dataset is neither on disk nor downloadable (offline)."""


def check_dataset_name(name: str) -> str:
    """Return the canonical dataset name or raise a ``ValueError`` listing the known ones."""
    key = name.lower().replace("_", "-")
    if key == "fashionmnist":
        key = "fashion-mnist"
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}. Known datasets: {', '.join(DATASETS)}.")
    return key


def class_names(dataset: str) -> tuple[str, ...]:
    """The 10 human-readable class names of ``dataset``, index = label."""
    return CLASS_NAMES[check_dataset_name(dataset)]


def data_root() -> Path:
    """Folder holding ``MNIST/raw`` and ``FashionMNIST/raw``: ``$AIGC_DATA_DIR`` or a user cache."""
    env = os.environ.get("AIGC_DATA_DIR")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "aigc_models" / "data"


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Split:
    """One split in memory.

    images: uint8 ``(N, 1, 28, 28)`` in 0..255.
    labels: int64 ``(N,)`` in 0..9.
    """

    dataset: str
    train: bool
    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]


def stratified_subset(split: Split, n: int, *, seed: int) -> Split:
    """``n`` images of ``split``, the same number from each class (the first ``n % 10`` classes get
    one more), drawn without replacement by a generator seeded with ``seed``: the few-shot
    training sets of transfer learning. ``n`` from 10 (one per class) to the split's size."""
    if not isinstance(n, int) or isinstance(n, bool) or not NUM_CLASSES <= n <= len(split):
        raise ValueError(f"subset must be a whole number from {NUM_CLASSES} (one image per class) to "
                         f"{len(split):,} (the whole split), got {n!r:.80}.")
    g = torch.Generator().manual_seed(seed)
    picked = []
    for k in range(NUM_CLASSES):
        members = torch.nonzero(split.labels == k).flatten()
        take = n // NUM_CLASSES + (1 if k < n % NUM_CLASSES else 0)
        if take > len(members):
            raise ValueError(f"subset {n:,} needs {take:,} images of class {k}, and {split.dataset} has {len(members):,}.")
        picked.append(members[torch.randperm(len(members), generator=g)[:take]])
    idx = torch.cat(picked).sort().values
    return Split(split.dataset, split.train, split.images[idx].contiguous(), split.labels[idx].clone())


@lru_cache(maxsize=4)
def load_split(dataset: str, *, train: bool = True) -> Split:
    """Load a whole split into memory (cached per process).

    Raises:
        ValueError: unknown dataset name.
        DatasetUnavailableError: no archives under the data root and no network.
    """
    import torchvision

    key = check_dataset_name(dataset)
    root = data_root()
    cls = getattr(torchvision.datasets, DATASETS[key])
    try:
        ds = cls(root=str(root), train=train, download=True)
    except Exception as err:  # URLError, RuntimeError("Dataset not found"), OSError ...
        detail = " ".join(str(err).split())  # torchvision's report spans lines; keep one
        raise DatasetUnavailableError(
            f"Could not load {key} ({'train' if train else 'test'} split): nothing usable in "
            f"{root / DATASETS[key] / 'raw'} and the download failed ({type(err).__name__}: {detail}). "
            "Put the four MNIST-format .gz archives there, or set AIGC_DATA_DIR to a folder that "
            f"holds {DATASETS[key]}/raw/*.gz."
        ) from err
    images = ds.data.to(torch.uint8).unsqueeze(1).contiguous()  # (N, 1, 28, 28)
    labels = ds.targets.to(torch.int64).clone()
    return Split(key, train, images, labels)


def to_signed(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> float32 in [-1, 1], same shape."""
    return images_u8.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] (clamped) -> uint8 0..255, same shape, on the CPU."""
    return images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).cpu()


class BatchSampler:
    """Random batches from a split held on ``device``; no host sync, no PIL.

    ``next()`` returns ``(images, labels)``: float ``(B, 1, 28, 28)`` in [-1, 1]
    and int64 ``(B,)``. Sampling is with replacement, driven by a seeded generator.
    """

    def __init__(self, split: Split, *, batch_size: int, device: torch.device, seed: int) -> None:
        self.images = split.images.to(device)
        self.labels = split.labels.to(device)
        self.batch_size = batch_size
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(
            len(self.images), (self.batch_size,), device=self.images.device, generator=self.generator
        )
        return to_signed(self.images[idx]), self.labels[idx]


# ----------------------------------------------------------------------------- binarized MNIST


def binarize(images: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Stochastic binarization (Salakhutdinov & Murray 2008, "On the quantitative analysis of deep
    belief networks"): each pixel becomes white with probability equal to its grey level,
    ``1[u < g / 255]`` with u ~ U[0, 1) drawn from ``generator`` (torch's global one when None).

    ``images``: uint8 ``(N, 1, 28, 28)`` in 0..255 -> uint8 in {0, 255}; or float in [-1, 1] -> float
    in {-1, 1}; same shape and device (the generator must be on that device)."""
    grey = images.float() / 255 if images.dtype == torch.uint8 else (images.float() + 1) / 2
    white = torch.rand(images.shape, generator=generator, device=images.device) < grey
    if images.dtype == torch.uint8:
        return white.to(torch.uint8) * 255
    return white.to(images.dtype) * 2 - 1


def binarized_split(dataset: str, *, train: bool = False, seed: int = 0) -> Split:
    """A split binarized once by ``binarize`` with a generator seeded ``seed``: images uint8 in
    {0, 255}, the same labels. This is the protocol of the binarized-MNIST likelihood benchmark:
    van den Oord et al. 2016 ("Pixel Recurrent Neural Networks", arXiv:1601.06759, the MNIST table
    with PixelCNN at 81.30 nats) use the binary MNIST of Salakhutdinov & Murray 2008, which
    Larochelle & Murray 2011 fixed once and published: the 10,000 test images stochastically
    binarized one time. Ours is another draw of the same binarization of the same test images
    (seed 0), so its NLL estimates the same quantity.

    Drawn afresh on each call from ``load_split``'s (cached) images, about 0.2 s for the test split:
    a cache of its own would keep serving images that ``load_split`` no longer gives (another
    data folder, a cut split)."""
    split = load_split(dataset, train=train)
    images = binarize(split.images, generator=torch.Generator().manual_seed(seed))
    return Split(split.dataset, split.train, images, split.labels)


def binarized_protocol(dataset: str, seed: int = 0) -> str:
    """How ``binarized_split(dataset, seed=seed)``'s test images were made, as a report states it."""
    return (f"{dataset} test split binarized once (pixel white with probability grey / 255, "
            f"Salakhutdinov & Murray 2008), seed {seed}")
