"""Your own pictures as a training set: a zip, a folder or image files -> ``(N, 1, 28, 28)`` uint8
images framed like MNIST or Fashion-MNIST, so that any family trains on them as on a dataset.

Everything here is untrusted input, so reading is bounded before decoding:

* at most ``MAX_NAMES`` names are looked at (a zip's entries, a folder's files) and at most
  ``MAX_PICTURES`` pictures kept (the first ones in name order; the report says how many were
  left out);
* one picture may hold ``MAX_FILE_BYTES`` and all of them together ``MAX_TOTAL_BYTES``; a zip
  entry is read through a bounded stream, so an entry whose header lies about its size (a zip
  bomb) costs at most one byte over the limit;
* a zip is read in memory, never extracted: its names (``../..``, absolute paths) are labels only;
  encrypted entries and nested archives are skipped; a folder is walked without following links;
* each picture goes through ``preprocess.to_model_input`` (pixel-count limit from the header,
  only common raster formats, transparency, 16-bit greys, framing like the dataset), and each
  one it refuses is skipped with its sentence rather than ending the whole read.

A set is saved as one safetensors file (``save_set``; images plus a JSON header naming the
framing, the pictures and what was skipped) and read back with ``load_set``; nothing is unpickled.
Own pictures carry no classes: every image is labelled 0 (a class-conditional model learns them
as its class 0).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import data as data_mod
from . import preprocess

MAX_PICTURES = 2000  # a GAN learns a look from a few hundred; more only slows decoding on a shared server
MIN_PICTURES = 10  # fewer and a generator can only copy them
MAX_NAMES = 10_000  # names looked at in one read (files of a folder, entries of a zip)
MAX_FILE_BYTES = 16 * 2**20  # one picture; a 12-megapixel JPEG is 3 to 8 MB
MAX_TOTAL_BYTES = 256 * 2**20  # everything read in one go (a zip's entries uncompressed)
NAME_CHARS = 200  # a name is kept to this many characters (a zip entry's name may be 64 KB)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
SET_SUFFIX = ".safetensors"
FORMAT = "aigc-picture-set/1"

Source = str | os.PathLike


@dataclass(frozen=True)
class PictureSet:
    """Pictures read for training.

    images: uint8 ``(N, 1, 28, 28)`` in 0..255, white on black, framed like ``dataset``.
    names: the N pictures' names (a zip's entry names, paths under a folder), in order.
    skipped: (name, reason) for each file that was not used.
    left_out: pictures readable but beyond ``MAX_PICTURES`` (not decoded).
    """

    dataset: str
    images: torch.Tensor
    names: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    left_out: int = 0

    def __len__(self) -> int:
        return self.images.shape[0]

    def split(self) -> data_mod.Split:
        """The set as a training split: every label 0."""
        return data_mod.Split(self.dataset, True, self.images, torch.zeros(len(self), dtype=torch.int64))

    def digest(self) -> str:
        """SHA-256 of the images' bytes: the same pictures, framed the same way, give the same digest."""
        return hashlib.sha256(self.images.contiguous().numpy().tobytes()).hexdigest()

    def summary(self) -> str:
        """One or two sentences: how many pictures were read, framed how, and what was skipped and why."""
        what = "digits (MNIST framing)" if self.dataset == "mnist" else "objects (Fashion-MNIST framing)"
        text = f"{len(self):,} pictures read as {what}."
        if self.left_out:
            text += f" {self.left_out:,} more were left out (at most {MAX_PICTURES:,} are used)."
        if self.skipped:
            shown = "; ".join(f"{name}: {reason}" for name, reason in self.skipped[:3])
            more = f" and {len(self.skipped) - 3:,} more" if len(self.skipped) > 3 else ""
            text += f" {len(self.skipped):,} skipped ({shown}{more})."
        return text


class PictureReadError(ValueError):
    """No usable set: too few pictures, too many names or bytes, an unreadable archive. ``kind``
    ("bad_zip", "too_many_names", "too_many_bytes", "too_few" or "other") and ``facts`` (its numbers)
    let a caller say it in another language."""

    def __init__(self, message: str, kind: str = "other", **facts: object) -> None:
        super().__init__(message)
        self.kind, self.facts = kind, facts


# ----------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class _Entry:
    name: str
    size: int  # bytes as the file system or the zip's header says (a zip may lie; the read is bounded anyway)
    read: Callable[[int], bytes]  # read(at_most) -> bytes
    problem: str = ""  # a reason to skip it before reading


def _zip_entries(path: Path) -> Iterator[_Entry]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise PictureReadError(f"{path.name} is not a readable zip archive ({type(err).__name__}).", "bad_zip",
                               name=path.name) from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue

            def read(at_most: int, info: zipfile.ZipInfo = info) -> bytes:
                with archive.open(info) as stream:
                    return stream.read(at_most)

            problem = "encrypted" if info.flag_bits & 0x1 else ""
            yield _Entry(info.filename, info.file_size, read, problem)


def _folder_entries(folder: Path) -> Iterator[_Entry]:
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            label = path.relative_to(folder).as_posix()
            if path.is_symlink():
                yield _Entry(label, 0, lambda n: b"", "a link (links are not followed)")
                continue
            try:
                size = path.stat().st_size
            except OSError:
                yield _Entry(label, 0, lambda n: b"", "cannot be read")
                continue
            yield _Entry(label, size, lambda at_most, path=path: _read_file(path, at_most))


def _read_file(path: Path, at_most: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(at_most)


def _file_entry(path: Path) -> _Entry:
    return _Entry(path.name, path.stat().st_size, lambda at_most: _read_file(path, at_most))


def _entries(sources: Sequence[Source]) -> Iterator[_Entry]:
    for source in sources:
        path = Path(source)
        if path.is_dir():
            yield from _folder_entries(path)
        elif not path.is_file():
            raise PictureReadError(f"No file or folder at {str(path)[:200]!r}.")
        elif path.suffix.lower() == ".zip":
            yield from _zip_entries(path)
        else:
            yield _file_entry(path)


def _hidden(name: str) -> bool:
    """A name no one picked as a picture: a dot file, or the resource forks macOS adds to zips."""
    parts = name.replace("\\", "/").split("/")
    return any(p.startswith(".") and p not in (".", "..") for p in parts) or "__MACOSX" in parts


# ----------------------------------------------------------------------------- reading


def _as_sources(source: Source | Sequence[Source]) -> list[Source]:
    if isinstance(source, (str, os.PathLike)):
        return [source]
    if isinstance(source, Sequence) and all(isinstance(s, (str, os.PathLike)) for s in source):
        return list(source)
    raise PictureReadError("Give a zip file, a folder or a list of image files.")


def read_pictures(source: Source | Sequence[Source], *, dataset: str = "fashion-mnist",
                  limit: int = MAX_PICTURES) -> PictureSet:
    """Read pictures from a zip, a folder (walked, links not followed), image files, or a list of
    these, and frame each like ``dataset``'s images (``preprocess.FRAMING``: digits as MNIST's,
    objects as Fashion-MNIST's).

    Files without an image suffix (``IMAGE_SUFFIXES``), hidden files, encrypted entries, files
    over ``MAX_FILE_BYTES`` and pictures ``preprocess`` refuses (unreadable, too large, blank)
    are skipped with a reason. Raises ``PictureReadError`` (a ``ValueError``) with one sentence
    when fewer than ``MIN_PICTURES`` are usable, when more than ``MAX_NAMES`` names or
    ``MAX_TOTAL_BYTES`` bytes would be read, or when a source is missing or a broken zip.
    """
    dataset = data_mod.check_dataset_name(dataset)
    if not isinstance(limit, int) or not MIN_PICTURES <= limit <= MAX_PICTURES:
        raise ValueError(f"limit must be from {MIN_PICTURES} to {MAX_PICTURES:,}, got {limit!r:.40}.")
    images: list[torch.Tensor] = []
    names: list[str] = []
    skipped: list[tuple[str, str]] = []
    left_out, seen, total = 0, 0, 0
    for entry in _entries(_as_sources(source)):
        seen += 1
        if seen > MAX_NAMES:
            raise PictureReadError(f"More than {MAX_NAMES:,} files: pick a folder or zip with fewer "
                                   f"(at most {MAX_PICTURES:,} pictures are used).", "too_many_names", limit=MAX_NAMES)
        if _hidden(entry.name):
            continue
        if entry.problem:
            skipped.append((entry.name[:NAME_CHARS], entry.problem))
            continue
        if not entry.name.lower().endswith(IMAGE_SUFFIXES):
            skipped.append((entry.name[:NAME_CHARS], "not an image file"))
            continue
        if len(images) >= limit:
            left_out += 1
            continue
        if entry.size > MAX_FILE_BYTES:
            skipped.append((entry.name[:NAME_CHARS], f"larger than {MAX_FILE_BYTES // 2**20} MB"))
            continue
        try:
            raw = entry.read(MAX_FILE_BYTES + 1)
        except (OSError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError) as err:
            skipped.append((entry.name[:NAME_CHARS], f"cannot be read ({type(err).__name__})"))
            continue
        if len(raw) > MAX_FILE_BYTES:  # a zip entry whose header understated its size
            skipped.append((entry.name[:NAME_CHARS], f"larger than {MAX_FILE_BYTES // 2**20} MB"))
            continue
        total += len(raw)
        if total > MAX_TOTAL_BYTES:
            raise PictureReadError(f"The pictures add up to more than {MAX_TOTAL_BYTES // 2**20} MB: use fewer "
                                   "or smaller ones (28 x 28 is what the models see).", "too_many_bytes",
                                   mb=MAX_TOTAL_BYTES // 2**20)
        try:
            picture = preprocess.to_model_input(raw, dataset=dataset)
        except ValueError as err:
            skipped.append((entry.name[:NAME_CHARS], str(err).split(":")[0].rstrip(".")))
            continue
        images.append(data_mod.to_uint8(picture)[0])
        names.append(entry.name[:NAME_CHARS])
    if len(images) < MIN_PICTURES:
        why = f" Skipped: {'; '.join(f'{n}: {r}' for n, r in skipped[:3])}." if skipped else ""
        raise PictureReadError(f"Only {len(images)} usable picture{'s' if len(images) != 1 else ''} found; training "
                               f"needs at least {MIN_PICTURES} (100 or more work better).{why}", "too_few",
                               count=len(images), skipped=tuple(skipped[:3]))
    return PictureSet(dataset, torch.stack(images).contiguous(), tuple(names), tuple(skipped), left_out)


# ----------------------------------------------------------------------------- saving


def save_set(pictures: PictureSet, path: Source) -> Path:
    """Write the set as one safetensors file (``.safetensors`` is added when missing); returns its path."""
    path = Path(path)
    if path.suffix != SET_SUFFIX:
        path = path.with_name(path.name + SET_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT, "dataset": pictures.dataset, "sha256": pictures.digest(),
              "names": json.dumps(list(pictures.names)), "skipped": json.dumps([list(s) for s in pictures.skipped]),
              "left_out": str(pictures.left_out)}
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")  # two threads may save one set
    try:
        save_file({"images": pictures.images.contiguous()}, str(temp), metadata=header)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def load_set(path: Source) -> PictureSet:
    """Read a set written by ``save_set``; ``PictureReadError`` unless it is one, whole and unchanged."""
    path = Path(path)
    bad = PictureReadError(f"{path.name} is not a picture set written by this lab (or it was changed since).")
    if not path.is_file() or path.stat().st_size > MAX_PICTURES * 28 * 28 + MAX_NAMES * 2 * (NAME_CHARS + 64):
        raise bad
    try:
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            header = f.metadata() or {}
        tensors = load_file(str(path))
        images = tensors["images"]
        names = tuple(json.loads(header["names"]))
        skipped = tuple(tuple(s) for s in json.loads(header["skipped"]))
        left_out = int(header.get("left_out", "0"))
    except (SafetensorError, OSError, KeyError, ValueError, TypeError) as err:
        raise bad from err
    if (header.get("format") != FORMAT or header.get("dataset") not in data_mod.DATASETS or set(tensors) != {"images"}
            or images.dtype != torch.uint8 or images.ndim != 4 or tuple(images.shape[1:]) != data_mod.IMAGE_SHAPE
            or not MIN_PICTURES <= len(images) <= MAX_PICTURES or len(names) != len(images)):
        raise bad
    pictures = PictureSet(header["dataset"], images, names, skipped, left_out)
    if pictures.digest() != header.get("sha256"):
        raise bad
    return pictures


def load_pictures(source: Source, *, dataset: str) -> PictureSet:
    """A saved set (``.safetensors``: its own framing must be ``dataset``'s) or anything
    ``read_pictures`` reads, framed like ``dataset``: what a training run's ``pictures`` names."""
    dataset = data_mod.check_dataset_name(dataset)
    if str(source).endswith(SET_SUFFIX):
        pictures = load_set(source)
        if pictures.dataset != dataset:
            raise PictureReadError(f"{Path(source).name} holds pictures framed like {pictures.dataset}; train with "
                                   f"dataset {pictures.dataset} (the framing and the evaluator follow it).")
        return pictures
    return read_pictures(source, dataset=dataset)


__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_FILE_BYTES",
    "MAX_NAMES",
    "MAX_PICTURES",
    "MAX_TOTAL_BYTES",
    "MIN_PICTURES",
    "PictureReadError",
    "PictureSet",
    "load_pictures",
    "load_set",
    "read_pictures",
    "save_set",
]
