"""What every tab shares: checkpoint discovery, a model cache, input checks,
image helpers (grids, captions, sketches -> MNIST-style input) and the
checkpoint picker widgets.

Plain functions first (testable without a browser), gradio widgets last.
Every user mistake raises ``UserError`` (a ``gr.Error``) with one clear sentence. The checks and the
picture decoding live in the library (``aigc_models.validation`` and
``aigc_models.preprocess``); the wrappers here only turn their ``ValueError``
into ``UserError`` with the same sentence.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from aigc_models import data as data_mod
from aigc_models import preprocess, provenance, sampling, validation
from aigc_models.checkpoints import CheckpointError, list_checkpoints, load_checkpoint
from aigc_models.models import REGISTRY, families_with
from ui.errors import UserError

# ----------------------------------------------------------------------------- places

REPO_ROOT = Path(__file__).resolve().parent.parent
def gan_families() -> tuple[str, ...]:
    """The GAN sampling tab's families: unconditional ones with a discriminator (read from the
    registry when asked, so that a family registered later is found too)."""
    return tuple(f for f in families_with("generate", "discriminate") if f not in families_with("condition"))


def family_label(name: str) -> str:
    """A family's display name from the registry ('DCGAN'), or the name itself."""
    return REGISTRY[name].label if name in REGISTRY else name
DATASET_CHOICES: list[tuple[str, str]] = [("MNIST", "mnist"), ("Fashion-MNIST", "fashion-mnist")]
MAX_IMAGES = 256


def runs_dir() -> Path:
    """Where models trained in the app are saved: ``$AIGC_RUNS_DIR`` or ``<repo>/runs``."""
    return Path(os.environ.get("AIGC_RUNS_DIR") or REPO_ROOT / "runs")


def checkpoint_dirs() -> list[Path]:
    """Folders searched for checkpoints: ``$AIGC_CHECKPOINT_DIRS`` (os.pathsep-separated,
    default ``<repo>/checkpoints``) followed by the runs folder."""
    env = os.environ.get("AIGC_CHECKPOINT_DIRS")
    dirs = [Path(p) for p in env.split(os.pathsep) if p] if env else [REPO_ROOT / "checkpoints"]
    dirs.append(runs_dir())
    unique: list[Path] = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


# ----------------------------------------------------------------------------- discovery


RUN_PREFIX = "runs/"


def discover(families: tuple[str, ...], dataset: str | None = None) -> list[dict[str, Any]]:
    """Checkpoints of ``families`` (and ``dataset``) in every checkpoint folder, shipped ones first.

    Each carries a ``key``: what the pickers and the API name it by (``mnist-dcgan``, or
    ``runs/my-run`` for a run trained here), never a server path; the first folder to hold a
    name wins."""
    found, keys = [], set()
    for root in checkpoint_dirs():
        is_run = root.resolve() == runs_dir().resolve()
        for info in list_checkpoints(root):
            key = f"{RUN_PREFIX}{info['name']}" if is_run else info["name"]
            if key in keys:
                continue
            keys.add(key)
            if info["family"] in families and (dataset is None or info["dataset"] == dataset):
                found.append({**info, "run": is_run, "key": key})
    return found


def checkpoint_label(info: dict[str, Any]) -> str:
    """Dropdown label: 'DCGAN: mnist-dcgan' or 'DCGAN (trained here): my-run'."""
    where = " (trained here)" if info["run"] else ""
    return f"{family_label(info['family'])}{where}: {info['name']}"


def checkpoint_choices(dataset: str, families: tuple[str, ...]) -> list[tuple[str, str]]:
    """(label, key) pairs for a dropdown."""
    return [(checkpoint_label(i), i["key"]) for i in discover(families, dataset)]


def find_checkpoint(name: object, families: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """The discovered checkpoint a request names, by key (or by its folder path, as tests and
    scripts may pass), or None. Only folders this app lists are ever found: never a Hub id,
    never another path."""
    if not isinstance(name, str) or not name or len(name) > 4096 or "\x00" in name:
        return None
    for info in discover(families or tuple(REGISTRY)):
        if name == info["key"]:
            return info
    try:
        wanted = str(Path(name).resolve()) if name.startswith(("/", ".")) or os.sep in name else None
    except (OSError, ValueError, RuntimeError):
        wanted = None
    if wanted is not None:
        for info in discover(families or tuple(REGISTRY)):
            if str(Path(info["path"]).resolve()) == wanted:
                return info
    return None


def family_of(name: str | None) -> str | None:
    """The family of a checkpoint this app lists, or None (nothing is read from elsewhere)."""
    info = find_checkpoint(name)
    return info["family"] if info else None


def run_key(folder: str | os.PathLike) -> str:
    """The key of a run saved under the runs folder (``runs/NAME``)."""
    return f"{RUN_PREFIX}{Path(folder).name}"


def classifier_path(dataset: str) -> str | None:
    """The folder of the evaluator's classifier for ``dataset`` (the shipped ``<dataset>-<family>`` preferred), or None."""
    found = discover(families_with("classify"), dataset)
    found.sort(key=lambda i: i["name"] != f"{dataset}-{i['family']}")
    return found[0]["path"] if found else None


# ----------------------------------------------------------------------------- model cache


def _weights_stamp(path: str) -> float:
    weights = Path(path) / "model.safetensors"
    return weights.stat().st_mtime if weights.exists() else 0.0


@lru_cache(maxsize=16)
def _load_cached(path: str, stamp: float) -> torch.nn.Module:
    return load_checkpoint(path, device="cpu")


def load_model(name: str | None, families: tuple[str, ...]) -> torch.nn.Module:
    """The model a request names (a key from ``checkpoint_choices``; cached, reloaded when its
    weights change), checked to be one of ``families``."""
    wanted = " or ".join(family_label(f) for f in families)
    if name is None or name == "":
        raise UserError(f"Pick a {wanted} checkpoint first (none is selected or none exists for this dataset).")
    info = find_checkpoint(name)
    if info is None:
        raise UserError(f"{validation.show(name)} is not one of this app's checkpoints; pick one from the list.")
    if info["family"] not in families:
        raise UserError(f"{info['key']} holds a {family_label(info['family'])} model; "
                        f"this needs a {wanted}.")
    try:
        return _load_cached(info["path"], _weights_stamp(info["path"]))
    except (CheckpointError, OSError, ValueError) as err:
        raise UserError(f"Could not load the checkpoint {info['key']}: {err}") from err


@lru_cache(maxsize=2)
def evaluator_for(path: str, dataset: str) -> Any:
    """A cached ``metrics.Evaluator`` built on the classifier at ``path``."""
    from aigc_models.metrics import Evaluator

    return Evaluator(load_checkpoint(path, device="cpu"), dataset)


# ----------------------------------------------------------------------------- input checks


def check_int(value: float | int | None, name: str, lo: int, hi: int) -> int:
    """``value`` as an int in [lo, hi], else a ``gr.Error`` naming the field and the range."""
    try:
        return validation.check_int(value, name, lo=lo, hi=hi)
    except ValueError as err:
        raise UserError(str(err)) from None


def check_float(value: float | int | None, name: str, lo: float, hi: float, *, lo_open: bool = False,
                hi_open: bool = False) -> float:
    """``value`` as a finite float in [lo, hi] (open ends as asked), else a ``gr.Error``."""
    try:
        return validation.check_float(value, name, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
    except ValueError as err:
        raise UserError(str(err)) from None


def check_dataset(dataset: str | None) -> str:
    """Canonical dataset name or ``gr.Error`` listing the known ones."""
    try:
        if not isinstance(dataset, str):
            raise ValueError(f"Unknown dataset {validation.show(dataset)}. Known datasets: {', '.join(data_mod.DATASETS)}.")
        return data_mod.check_dataset_name(dataset)
    except ValueError as err:
        raise UserError(str(err)) from None


def class_index(dataset: str, name: str | int | None) -> int:
    """A class name (or index) of ``dataset`` -> its index, else ``gr.Error``."""
    names = data_mod.class_names(check_dataset(dataset))
    if isinstance(name, int) and not isinstance(name, bool) and 0 <= name < len(names):
        return name
    if isinstance(name, str) and name in names:
        return names.index(name)
    raise UserError(f"Unknown class {validation.show(name)} for {dataset}; choose one of: {', '.join(names)}.")


def provenance_of(name: str, kind: str, **settings: Any) -> dict[str, Any] | None:
    """The provenance record of a picture made by the checkpoint the app knows as ``name``."""
    info = find_checkpoint(name)
    if info is None:
        return None
    return provenance.record(checkpoint=info["key"], folder=info["path"], kind=kind, dataset=info["dataset"],
                             family=info["family"], dated=False, **settings)


def language(request: Any) -> str:
    """'zh' when a request's browser asks for Chinese first (its Accept-Language), else 'en': the
    language a handler's refusals are said in (the page's own text follows ``ui.i18n``)."""
    headers = getattr(request, "headers", None)
    accept = headers.get("accept-language", "") if headers is not None else ""
    first = str(accept).split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


CPU_THREADS = re.compile(r"\bCPU \((\d+) threads?\)")


def device_words(label: str, lang: str) -> str:
    """A device label as ``training.device_label`` writes it ("CPU (2 threads)", or a GPU's name),
    said in ``lang``: "CPU（2 个线程）" in Chinese; a GPU's name stays as its maker wrote it."""
    if lang != "zh":
        return label
    return CPU_THREADS.sub(lambda m: f"CPU（{m.group(1)} 个线程）", label)


def refuse(lang: str, en: str, zh: str) -> UserError:
    """A refusal in the request's language (``language``): ``zh`` for 'zh', else ``en``."""
    return UserError(zh if lang == "zh" else en)


def whole(value: Any, name: tuple[str, str], lo: int, hi: int, lang: str) -> int:
    """``value`` as a whole number in [lo, hi], else a refusal in ``lang`` naming the control
    (``name``: its English and Chinese labels) and the range."""
    try:
        return validation.check_int(value, name[0], lo=lo, hi=hi)
    except ValueError as err:
        raise refuse(lang, str(err), f"{name[1]}必须是 {lo} 到 {hi} 之间的整数，"
                                     f"收到的是 {validation.show(value)}。") from None


def real(value: Any, name: tuple[str, str], lo: float, hi: float, lang: str) -> float:
    """``value`` as a finite number in [lo, hi], else a refusal in ``lang`` naming the control and the range."""
    try:
        return validation.check_float(value, name[0], lo=lo, hi=hi)
    except ValueError as err:
        raise refuse(lang, str(err), f"{name[1]}必须是 {validation.number(lo)} 到 "
                                     f"{validation.number(hi)} 之间的数，收到的是 {validation.show(value)}。") from None


TEST_IMAGE_NUMBER = ("Test image number", "测试图像编号")


def picked_checkpoint(checkpoint: Any, families: tuple[str, ...], lang: str, *, pick: tuple[str, str],
                      needs: tuple[str, str]) -> dict[str, Any]:
    """The listed checkpoint (``find_checkpoint``) a request names, of one of ``families``; refused in
    ``lang`` when nothing is picked (``pick``: the sentences, EN and ZH), when it is not one the app
    lists, or when its family is not one of ``families`` (``needs``: templates with ``{key}`` and
    ``{label}``, the checkpoint and its family's name)."""
    if checkpoint is None or checkpoint == "":
        raise refuse(lang, *pick)
    info = find_checkpoint(checkpoint)
    if info is None:
        raise refuse(lang, f"{validation.show(checkpoint)} is not one of this app's checkpoints; pick one from the list.",
                     f"{validation.show(checkpoint)} 不是本应用的检查点；请从列表中选择。")
    if info["family"] not in families:
        found = REGISTRY.get(info["family"])
        raise refuse(lang, needs[0].format(key=info["key"], label=family_label(info["family"])),
                     needs[1].format(key=info["key"], label=found.label_zh if found else info["family"]))
    return info


def random_seed() -> int:
    """A fresh seed in 0..2**31-1 (for 'random' buttons)."""
    return int(np.random.default_rng().integers(0, 2**31 - 1))


# ----------------------------------------------------------------------------- images out


def auto_scale(width: int, target: int = 560, lo: int = 2) -> int:
    """Integer nearest-neighbour factor that brings ``width`` pixels near ``target`` (``lo``..12)."""
    return int(max(lo, min(12, round(target / max(width, 1)))))


def to_grid(images: torch.Tensor, *, nrow: int | None = None, target: int = 560) -> Image.Image:
    """A crisp greyscale PNG-ready grid of ``(B, 1, S, S)`` images in [-1, 1] (S = 28, or 56 / 112
    when enlarged: those are not doubled again unless the grid is small)."""
    import math

    nrow = nrow or max(1, math.ceil(math.sqrt(len(images))))
    side = images.shape[-1]
    raw_width = nrow * (side + 2) + 2
    return sampling.grid(images, nrow=nrow, scale=auto_scale(raw_width, target, lo=2 if side <= 28 else 1))


CAPTION_PX = 15  # caption height as a reader sees it, once the browser fits the grid to ~SHOWN_WIDTH
SHOWN_WIDTH = 900  # about how wide the app shows a result image, in CSS pixels


def captioned_grid(images: torch.Tensor, captions: list[str], *, nrow: int | None = None, scale: int = 4) -> Image.Image:
    """A grid of ``(B, 1, S, S)`` images in [-1, 1] with a line of text under each tile (e.g. D's
    score); RGB; each tile ``28 * scale`` pixels wide (at least S). The text is drawn large
    enough to stay legible after the browser scales the grid down to its box (256 images: 16 a
    row, about 1,860 pixels wide, shown at half size)."""
    import math

    nrow = nrow or max(1, math.ceil(math.sqrt(len(images))))
    tile_scale = max(1, 28 * scale // images.shape[-1])  # an enlarged sample (56 or 112 px) is repeated less
    tile, pad = images.shape[-1] * tile_scale, 4
    width = nrow * (tile + pad) + pad
    size = max(CAPTION_PX, round(CAPTION_PX * width / SHOWN_WIDTH))
    text_h = size + 4
    rows = math.ceil(len(images) / nrow)
    out = Image.new("RGB", (width, rows * (tile + text_h + pad) + pad), "black")
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=size)
    for i, (img, cap) in enumerate(zip(images, captions)):
        r, c = divmod(i, nrow)
        x, y = pad + c * (tile + pad), pad + r * (tile + text_h + pad)
        out.paste(sampling.grid(img[None], nrow=1, padding=0, scale=tile_scale).convert("RGB"), (x, y))
        draw.text((x + 2, y + tile + 1), cap, fill=(255, 220, 90), font=font)
    return out


_DOWNLOADS = Path(tempfile.gettempdir()) / "aigc_lab_downloads"


def save_download(content: Image.Image | bytes, stem: str, suffix: str, info: dict[str, Any] | None = None) -> str:
    """Write a PNG (from a PIL image) or a GIF's bytes to a content-addressed temp file, with the
    provenance ``info`` inside (``aigc_models.provenance``); return its path."""
    if isinstance(content, Image.Image):
        if info is not None:
            content = provenance.png_bytes(content, info)
        else:
            buf = io.BytesIO()
            content.save(buf, format="PNG")
            content = buf.getvalue()
    elif info is not None and suffix == ".gif":
        content = provenance.gif_with(content, info)
    _DOWNLOADS.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(content).hexdigest()[:12]
    path = _DOWNLOADS / f"{stem}-{digest}{suffix}"
    if not path.exists():
        path.write_bytes(content)
    return str(path)


# ----------------------------------------------------------------------------- images in


def picture_of(value: Any) -> Any:
    """The picture inside a Sketchpad/ImageEditor value (its ``composite``), else ``value`` itself:
    a file path, bytes, a PIL image or an array, all decoded by ``aigc_models.preprocess``."""
    return value.get("composite") if isinstance(value, dict) else value


def has_ink(value: Any) -> bool:
    """Whether a drawn/uploaded picture has visible content: False for None or a blank canvas;
    a picture that cannot be used at all (unreadable, too large) raises ``gr.Error``."""
    try:
        preprocess.to_model_input(picture_of(value))
    except preprocess.EmptyPictureError:
        return False
    except ValueError as err:
        raise UserError(str(err)) from None
    return True


def own_picture(dataset: str, drawing: Any, upload: Any, lang: str,
                unusable_zh: tuple[str, str] = ("你的画", "上传的图片")) -> tuple[torch.Tensor, str] | None:
    """A visitor's own picture ``(1, 1, 28, 28)`` in [-1, 1], framed like ``dataset``'s images: the drawing
    when it has ink, else the upload when given; with where it came from, in ``lang``. None when there is
    neither. One that cannot be used is refused in ``lang``; in Chinese "无法使用<unusable_zh>：", naming
    the drawing or the upload as ``unusable_zh`` says."""
    zh = lang == "zh"
    try:
        if has_ink(drawing):
            return to_model_input(drawing, dataset=dataset), ("你的画" if zh else "your drawing")
    except UserError as err:
        raise refuse(lang, err.message, f"无法使用{unusable_zh[0]}：{err.message}") from None
    if upload is None:
        return None
    try:
        return to_model_input(upload, dataset=dataset), ("你上传的图片" if zh else "your upload")
    except UserError as err:
        raise refuse(lang, err.message, f"无法使用{unusable_zh[1]}：{err.message}") from None


def pick_input(dataset: str, drawing: Any, test_index: float | int | None) -> torch.Tensor:
    """The drawing/upload when it has content, else test image ``test_index``: ``(1, 1, 28, 28)``."""
    if has_ink(drawing):
        return to_model_input(drawing, dataset=dataset)
    if test_index is None:
        raise UserError("No input: draw or upload a picture, or pick a test image.")
    return test_image(dataset, test_index)


def to_model_input(value: Any, *, dataset: str = "mnist") -> torch.Tensor:
    """Any drawn or uploaded picture -> ``(1, 1, 28, 28)`` in [-1, 1], framed like ``dataset``
    (``aigc_models.preprocess.to_model_input``); its ``ValueError`` becomes ``gr.Error``."""
    try:
        return preprocess.to_model_input(picture_of(value), dataset=dataset)
    except ValueError as err:
        raise UserError(str(err)) from None


def test_images(dataset: str, *, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` test-split images ``(n, 1, 28, 28)`` in [-1, 1] and labels; raises ``gr.Error``
    with one sentence when the dataset is not available here."""
    split = load_test_split(dataset)
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n]
    return data_mod.to_signed(split.images[idx]), split.labels[idx]


def load_test_split(dataset: str) -> data_mod.Split:
    """The test split, or ``gr.Error`` saying in one sentence that it is unavailable."""
    try:
        return data_mod.load_split(check_dataset(dataset), train=False)
    except data_mod.DatasetUnavailableError as err:
        raise UserError(dataset_unavailable(dataset)) from err


def test_split_for(dataset: str, lang: str, zh_then: str = "所以这一部分不可用；采样和其他页面仍可使用。"
                   ) -> data_mod.Split:
    """The test split, else a refusal in ``lang`` saying it is unavailable; ``zh_then`` ends the Chinese
    sentence with what the tab can still do (the English one is ``dataset_unavailable``'s)."""
    try:
        return load_test_split(dataset)
    except UserError as err:
        raise refuse(lang, err.message, f"本机没有 {dataset} 图像（离线，且 {data_mod.data_root()} 下没有压缩包），"
                                        f"{zh_then}") from None


def dataset_unavailable(dataset: str) -> str:
    """The one sentence shown wherever real images are needed but the dataset is missing."""
    return (f"The {dataset} images are not available on this machine (offline, no archives under "
            f"{data_mod.data_root()}), so this part is off; sampling and the other tabs still work.")


def test_gallery(dataset: str, n: int = 24) -> list[tuple[Image.Image, str]]:
    """(image, caption) pairs of the first ``n`` test images (fixed, for a picker gallery)."""
    split = load_test_split(dataset)
    names = data_mod.class_names(dataset)
    return [(sampling.grid(data_mod.to_signed(split.images[i : i + 1]), nrow=1, padding=0, scale=3),
             f"#{i} {names[int(split.labels[i])]}") for i in range(n)]


def gallery_for(dataset: str) -> tuple[list[tuple[Image.Image, str]], str]:
    """Test images for the picker gallery and a message ('' or why it is empty)."""
    try:
        return test_gallery(check_dataset(dataset)), ""
    except gr.Error as err:
        return [], str(err)


def select_tile(evt: gr.SelectData) -> tuple[int, None, None]:
    """A gallery tile clicked -> its test image number (tiles are the first test images), and a
    cleared sketchpad and upload so that the test image is what the tab uses."""
    return int(evt.index), None, None


def test_image(dataset: str, index: float | int | None) -> torch.Tensor:
    """Test image number ``index`` as ``(1, 1, 28, 28)`` in [-1, 1]."""
    split = load_test_split(dataset)
    i = check_int(index, "Test image number", 0, len(split) - 1)
    return data_mod.to_signed(split.images[i : i + 1])


# ----------------------------------------------------------------------------- on open

ON_OPEN: list[tuple[Callable[..., Any], list[Any], list[Any]]] = []
"""Handlers a tab wants run on its defaults when a page opens (``app.build_app`` wires them to
``demo.load``), so that a teacher finds content to talk over instead of empty boxes."""


class Browser:
    """What a handler reads of a request: the browser's languages ('zh' or 'en'), for a result
    computed once per language rather than per visitor."""

    def __init__(self, lang: str) -> None:
        self.headers = {"accept-language": "zh-CN" if lang == "zh" else "en"}


def on_open(fn: Callable[..., Any], inputs: list[Any], outputs: list[Any], *, speaks: bool = False) -> None:
    """Show ``fn``'s result for the inputs' current values when a page opens. Results are cached
    by those values (30 students opening the page cost one computation each). With ``speaks``,
    ``fn`` takes the page's language ('en' or 'zh', from the browser's Accept-Language) after the
    inputs, so that its sentences open in the visitor's language; it is cached per language too."""
    shown = quietly(remembered(fn), len(outputs))
    if speaks:
        def opened(*values: Any) -> Any:
            *values, request = values
            return shown(*values, language(request))

        # gradio passes the request to a positional parameter annotated gr.Request
        params = [inspect.Parameter(f"value_{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD) for i in range(len(inputs))]
        params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request))
        opened.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        opened.__annotations__ = {"request": gr.Request}
        opened.__name__ = getattr(fn, "__name__", "opened")
        ON_OPEN.append((opened, inputs, outputs))
    else:
        ON_OPEN.append((shown, inputs, outputs))


def remembered(fn: Callable[..., Any], size: int = 32, stripes: int = 16) -> Callable[..., Any]:
    """``fn`` with its results kept for the last ``size`` distinct (hashable) argument tuples;
    other arguments are passed through uncached. Calls with the same arguments at the same time
    (a class opening the page at once) compute once: the others wait for that result (calls are
    serialised per one of ``stripes`` locks, chosen by the arguments' hash)."""
    cached = lru_cache(maxsize=size)(fn)
    locks = [threading.Lock() for _ in range(stripes)]

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        try:
            key = hash(args)
        except TypeError:
            return fn(*args)
        with locks[key % stripes]:
            return cached(*args)

    return call


def quietly(fn: Callable[..., Any], outputs: int) -> Callable[..., Any]:
    """``fn``, but a refusal (no checkpoint, no data on this machine) leaves its ``outputs`` as
    they are instead of greeting a new visitor with an error."""

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except gr.Error:
            skip = gr.skip()
            return skip if outputs == 1 else tuple(skip for _ in range(outputs))

    return call


# ----------------------------------------------------------------------------- widgets


@dataclass
class Picker:
    """A dataset radio and the checkpoint dropdown it filters."""

    dataset: gr.Radio
    checkpoint: gr.Dropdown
    families: tuple[str, ...]

    def refresh(self, dataset: str, current: str | None) -> dict[str, Any]:
        """Dropdown update listing this dataset's checkpoints, keeping ``current`` if still there."""
        return refresh_choices(dataset, current, self.families)


def refresh_choices(dataset: str, current: str | None, families: tuple[str, ...]) -> dict[str, Any]:
    """``gr.update`` of a checkpoint dropdown: fresh choices, the current value kept when possible."""
    choices = checkpoint_choices(dataset or "mnist", families)
    paths = [p for _, p in choices]
    value = current if current in paths else (paths[0] if paths else None)  # keys, not paths
    return gr.update(choices=choices, value=value)


def picker(families: tuple[str, ...], *, label_key: str = "checkpoint",
           prefer: Callable[[dict[str, Any]], bool] | None = None) -> Picker:
    """Build a dataset radio + checkpoint dropdown; the dropdown follows the dataset. It opens on
    the first checkpoint that ``prefer`` (given the discovered info) likes, else the first one."""
    from ui.i18n import t

    dataset = gr.Radio(DATASET_CHOICES, value="mnist", label=t("dataset"))
    found = discover(families, "mnist")
    choices = [(checkpoint_label(i), i["key"]) for i in found]
    liked = [i["key"] for i in found if prefer is not None and prefer(i)]
    first = liked[0] if liked else (choices[0][1] if choices else None)
    checkpoint = gr.Dropdown(choices, value=first, label=t(label_key),
                             allow_custom_value=True)  # runs appear after start-up; load_model checks
    p = Picker(dataset, checkpoint, families)
    dataset.change(p.refresh, [dataset, checkpoint], checkpoint, api_visibility="private", queue=False)
    return p
