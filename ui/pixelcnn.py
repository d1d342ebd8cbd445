"""PixelCNN tab: sample an autoregressive model (a class, seed, temperature, class guidance), watch one image fill
in row by row (a GIF recorded while the cached sampler draws it), click a pixel to see the K
probabilities the model gave it from everything above and to its left, and complete a test,
drawn or uploaded image from its top k rows.

Works with any PixelCNN checkpoint the app lists (``families()`` reads the registry); with none,
the tab says which command trains one. Refusals are said in the language the browser asks for
(``common.language``). A request's work is capped in pixel draws (``MAX_DRAWS``)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageDraw

from aigc_models import data as data_mod
from aigc_models import sampling, validation
from aigc_models.models import REGISTRY, make_config
from aigc_models.models.pixelcnn import (
    MAX_GUIDANCE,
    MAX_TEMPERATURE,
    PIXELS,
    SIDE,
    complete,
    dequantize,
    pixel_distribution,
    sample_pixels,
)
from ui import common, components, enlarge
from ui.errors import UserError
from ui.i18n import t


def families() -> tuple[str, ...]:
    """This tab's families, from the registry: generators trained with the autoregressive objective."""
    return tuple(name for name, f in REGISTRY.items() if f.objective == "autoregressive" and f.can("generate"))


NONE = "none"  # the class of an unconditional model
AUTO = "auto"  # completion: the test image's own class
MAX_IMAGES = 8
MAX_COMPLETIONS = 16
MAX_DRAWS = 8 * PIXELS
"""Pixel draws one request may make: images x pixels drawn, a batch of fewer than ``MIN_BATCH``
images counted as ``MIN_BATCH`` (a pixel's pass through every layer costs about the same for 1 image
as for 4). Measured with the cached sampler on one thread of this 2-core CPU while trainings used
both cores: an 8-layer, 32-channel model drew 1 image in 7.7 s and 16 in 10.2 s; a 12-layer,
64-channel one 1 in 12 s and 16 in 28 s. 6,272 draws (8 whole images) stay around 10 s there and a
few seconds on an idle machine."""
MIN_BATCH = 4
OPEN_CLASS = 3
FRAME_SCALE = 10  # 28 x 28 -> 280 x 280 pixels, nearest neighbour (the clickable image and the GIF)
GIF_HOLD = 8  # the finished image stays this many frames longer
GIF_MS = 90
TILE_SCALE = 8  # completion tiles: 224 x 224
CACHED_IMAGES = 4  # first images a session keeps for the pixel view
NOT_YET = (28, 44, 92)  # pixels not drawn yet (GIF) or ignored (pixel view): dark blue, never a grey level
PICKED = (255, 64, 64)  # the clicked pixel's outline
BOUNDARY = (255, 150, 0)  # the line under the kept rows
LOOK = ["pixelated"]
BUTTONS = ["download", "fullscreen"]

# ----------------------------------------------------------------------------- refusals in both languages

FIELDS = {  # a control's name in both languages
    "n": ("Number of images", "图像数量"), "seed": ("Seed", "种子"), "temperature": ("Temperature", "温度"),
    "guidance": ("Class guidance", "类别引导"),
    "row": ("Row", "行"), "col": ("Column", "列"), "rows": ("Kept rows", "保留的行数"),
    "completions": ("Completions", "补全数量"), "index": ("Test image number", "测试图像编号"),
}
refuse = common.refuse


def whole(value: Any, field: str, lo: int, hi: int, lang: str) -> int:
    """``common.whole`` for the control ``FIELDS[field]``."""
    return common.whole(value, FIELDS[field], lo, hi, lang)


def temperature_of(value: Any, lang: str) -> float:
    """``value`` in (0, ``MAX_TEMPERATURE``] (the library's bound), else a refusal."""
    try:
        return validation.check_float(value, FIELDS["temperature"][0], lo=0.0, hi=MAX_TEMPERATURE, lo_open=True)
    except ValueError as err:
        raise refuse(lang, str(err), f"温度必须是大于 0、不超过 {validation.number(MAX_TEMPERATURE)} 的数，"
                                     f"收到的是 {validation.show(value)}。") from None


def guidance_of(model: torch.nn.Module, value: Any, label: int | None, lang: str) -> float:
    """Class guidance in [0, ``MAX_GUIDANCE``]: 1 for an unconditional model (nothing to guide), and
    anything but 1 only for a model trained with label dropout (``PixelCNNConfig.guidable``)."""
    guidance = common.real(value, FIELDS["guidance"], 0.0, MAX_GUIDANCE, lang)
    if label is None or guidance == 1 or model.config.guidable:
        return guidance if label is not None else 1.0
    raise refuse(lang, f"Class guidance {guidance:g} needs a PixelCNN that also learnt images without their class "
                       "(trained with --option label_dropout=0.1); this one was not, so set guidance to 1.",
                 f"类别引导 {guidance:g} 需要一个也学过“不带类别的图像”的 PixelCNN（训练时加 --option label_dropout=0.1）；"
                 "这个模型没有，请把引导设为 1。")


def guidance_words(guidance: float, lang: str) -> str:
    """'' at guidance 1 (plain conditional), else ', guidance g' in ``lang`` (for the notes)."""
    if guidance == 1:
        return ""
    return f"，类别引导 {guidance:g}" if lang == "zh" else f", class guidance {guidance:g}"


def train_command(dataset: str) -> str:
    """The command that trains this tab's first family on ``dataset`` into the shipped checkpoints folder."""
    name = families()[0]
    return f"`python -m aigc_models train --model {name} --dataset {dataset} --out checkpoints/{dataset}-{name}`"


def load(checkpoint: Any, lang: str) -> torch.nn.Module:
    """The PixelCNN a request names (``common.load_model``, cached), refused in ``lang``; with none
    picked, the refusal names the command that trains one."""
    command = train_command("mnist")
    info = common.picked_checkpoint(
        checkpoint, families(), lang,
        pick=((f"Pick a PixelCNN checkpoint first (none is selected or none exists for this dataset); train one "
               f"with {command} (fashion-mnist in both places for Fashion-MNIST)."),
              (f"请先选择一个 PixelCNN 检查点（还没有选择，或者这个数据集还没有）；可用 {command} 训练一个"
               "（Fashion-MNIST 把两处 mnist 换成 fashion-mnist）。")),
        needs=("{key} holds a {label} model; this needs a PixelCNN.", "{key} 是{label}模型；这里需要 PixelCNN。"))
    try:
        return common.load_model(checkpoint, families())
    except UserError as err:
        raise refuse(lang, err.message, f"无法加载检查点 {info['key']}：{err.message}") from None


def class_label(model: torch.nn.Module, name: Any, lang: str, *, auto: bool = False) -> int | None:
    """A class name of the model's dataset -> its index; an unconditional model takes none (whatever
    is sent). ``auto`` (completion): ``AUTO`` -> -1, "the test image's own class"."""
    if not model.num_classes:
        return None
    names = data_mod.class_names(model.config.dataset)
    if auto and name == AUTO:
        return -1
    if isinstance(name, str) and name in names[: model.num_classes]:
        return names.index(name)
    listed = ", ".join(names[: model.num_classes])
    if name == NONE:
        raise refuse(lang, f"This PixelCNN is conditional: pick a class ({listed}).",
                     f"这个 PixelCNN 是条件模型：请选择一个类别（{listed}）。")
    raise refuse(lang, f"Unknown class {validation.show(name)} for {model.config.dataset}; choose one of: {listed}.",
                 f"{model.config.dataset} 没有类别 {validation.show(name)}；请选择以下之一：{listed}。")


def check_budget(images: int, rows: int, lang: str) -> int:
    """Pixel draws of ``images`` images with ``rows`` rows each to draw (see ``MAX_DRAWS``), or a refusal."""
    cost = max(images, MIN_BATCH) * rows * SIDE
    if cost <= MAX_DRAWS:
        return cost
    raise refuse(lang, f"{images} images × {rows * SIDE} pixels = {cost:,} pixel draws; one request here may make at "
                       f"most {MAX_DRAWS:,} (each draw is a pass through every layer), so keep more rows or ask for "
                       "fewer images.",
                 f"{images} 张图像 × {rows * SIDE} 个像素 = {cost:,} 次像素采样；这里每个请求最多 {MAX_DRAWS:,} 次"
                 "（每次都要经过所有层），请保留更多行或减少图像数。")


def settings(model: torch.nn.Module, class_name: Any, seed: Any, temperature: Any, guidance: Any, lang: str
             ) -> tuple[int | None, int, float, float]:
    """Checked (label or None, seed, temperature, guidance)."""
    label = class_label(model, class_name, lang)
    return (label, whole(seed, "seed", 0, 2**31 - 1, lang), temperature_of(temperature, lang),
            guidance_of(model, guidance, label, lang))


def class_text(model: torch.nn.Module, label: int | None) -> str:
    return data_mod.class_names(model.config.dataset)[label] if label is not None else "none (unconditional)"


# ----------------------------------------------------------------------------- drawing


class Progress:
    """``sample_pixels``' ``on_row``: reports rows to a ``gr.Progress`` and keeps one image's frames."""

    def __init__(self, progress: Any, first_row: int, keep: bool) -> None:
        self.progress, self.first_row, self.keep = progress, first_row, keep
        self.frames: list[np.ndarray] = []

    def __call__(self, row: int, codes: torch.Tensor) -> None:
        if self.keep:
            self.frames.append(codes[0, 0].cpu().numpy().copy())
        if self.progress is not None:
            self.progress((row + 1 - self.first_row, SIDE - self.first_row), desc="Drawing pixels", unit="rows")


def draw(model: torch.nn.Module, n: int, label: int | None, seed: int, temperature: float, guidance: float,
         progress: Any = None) -> tuple[torch.Tensor, list[np.ndarray]]:
    """``n`` images by the cached sampler, noise ``sampling.latents(n, 784, seed)`` (as ``sampling.sample``):
    levels ``(n, 1, 28, 28)`` int64, and the first image's levels after each row ``(28, 28)`` x 28."""
    z = sampling.latents(n, PIXELS, seed=seed)
    labels = torch.full((n,), label, dtype=torch.long) if label is not None else None
    rows = Progress(progress, 0, keep=True)
    codes = sample_pixels(model, z, labels, temperature=temperature, guidance=guidance if labels is not None else None,
                          fast=True, on_row=rows)
    return codes, rows.frames


def grey(codes: np.ndarray | torch.Tensor, levels: int) -> np.ndarray:
    """Levels 0..K-1 -> uint8 grey values (as ``data.to_uint8`` of ``dequantize``), same shape."""
    return data_mod.to_uint8(dequantize(torch.as_tensor(np.asarray(codes)), levels)).numpy()


def frame(codes: np.ndarray, levels: int, drawn: int) -> Image.Image:
    """One GIF frame: the first ``drawn`` pixels (raster order) in grey, the rest ``NOT_YET``; 280 x 280 RGB."""
    rgb = np.repeat(grey(codes, levels)[:, :, None], 3, axis=2)
    rgb.reshape(-1, 3)[drawn:] = NOT_YET
    return Image.fromarray(rgb, "RGB").resize((SIDE * FRAME_SCALE,) * 2, Image.NEAREST)


def gif_bytes(frames: list[np.ndarray], levels: int) -> bytes:
    """The image filling in: a blank frame, one frame per drawn row, the finished image held."""
    import io

    pictures = [frame(frames[0], levels, 0)] + [frame(f, levels, (r + 1) * SIDE) for r, f in enumerate(frames)]
    pictures += [pictures[-1]] * GIF_HOLD
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=GIF_MS, loop=0)
    return buf.getvalue()


# ----------------------------------------------------------------------------- handlers


def sample_pixelcnn(checkpoint: str | None, class_name: str | None, n: float, seed: float, temperature: float,
                    guidance: float = 1.0, enlarge_by: Any = 1, cache: dict[str, Any] | None = None, request: gr.Request | None = None,
                    progress: Any = gr.Progress()) -> tuple[str, str, str, dict[str, Any]]:
    """A grid of ``n`` samples and a GIF of the first one filling in, row by row.

    Args:
        class_name: a class name of the checkpoint's dataset ('7', 'Sneaker'); ignored (send 'none')
            for an unconditional model.
        n: images, 1..8. seed: same seed and settings, same images (``sampling.sample``'s noise).
        temperature: the logits are divided by it before each draw, (0, 10]; below 1 sharper.
        guidance: class guidance, 0..10: 1 = plain conditional, 0 = no class, above 1 the logits are
            pushed away from the class-free model's (needs a checkpoint trained with label dropout).
        enlarge_by: 1, or 2 / 4 to show the grid upscaled by a super-resolution model (``ui.enlarge``;
            the GIF and the pixel view stay at the model's own 28 x 28 pixels).
    Returns:
        The grid's PNG (with provenance) twice, shown and offered as the download; the GIF; and the
        session's cache, which keeps the first image for the pixel view.
    """
    lang = common.language(request)
    model = load(checkpoint, lang)
    label, seed, temperature, guidance = settings(model, class_name, seed, temperature, guidance, lang)
    n = whole(n, "n", 1, MAX_IMAGES, lang)
    enlarge.checked(enlarge_by, lang)  # refused before the sampling, not after it
    check_budget(n, SIDE, lang)
    codes, frames = draw(model, n, label, seed, temperature, guidance, progress)
    shown, enlarged = enlarge.enlarged(model.from_levels(codes), model.config.dataset, enlarge_by, lang)
    info = common.provenance_of(checkpoint, "samples", seed=seed, n=n, temperature=temperature, guidance=guidance,
                                **{"class": class_text(model, label)})
    grid = common.save_download(common.to_grid(shown), f"pixelcnn-seed{seed}", ".png",
                                {**info, **enlarged} if info else None)
    record = {**info, "kind": "the first sample filling in, one frame a row"} if info else None
    gif = common.save_download(gif_bytes(frames, model.levels), f"pixelcnn-run-seed{seed}", ".gif", record)
    cache = remember(cache, image_key(checkpoint, label, seed, temperature, guidance), codes[0, 0].numpy())
    return grid, grid, gif, cache


def image_key(checkpoint: Any, label: int | None, seed: int, temperature: float, guidance: float) -> str:
    info = common.find_checkpoint(checkpoint)
    return repr((info["path"], common._weights_stamp(info["path"]), label, seed, temperature, guidance))


def remember(cache: Any, key: str, codes: np.ndarray) -> dict[str, Any]:
    """The session's cache with ``codes`` under ``key`` (the last ``CACHED_IMAGES`` kept)."""
    cache = dict(cache) if isinstance(cache, dict) else {}
    cache.pop(key, None)
    while len(cache) >= CACHED_IMAGES:
        cache.pop(next(iter(cache)))
    cache[key] = codes
    return cache


def marked(codes: np.ndarray, levels: int, row: int, col: int) -> Image.Image:
    """The image at 280 x 280 with pixel (row, col) outlined and the pixels at and after it, which the
    model does not see for it, in ``NOT_YET`` blue beside its grey (a half-tint: still readable)."""
    rgb = np.repeat(grey(codes, levels)[:, :, None], 3, axis=2).astype(np.float32)
    flat = rgb.reshape(-1, 3)
    flat[row * SIDE + col:] = 0.35 * flat[row * SIDE + col:] + 0.65 * np.array(NOT_YET, np.float32)
    out = Image.fromarray(rgb.round().astype(np.uint8), "RGB").resize((SIDE * FRAME_SCALE,) * 2, Image.NEAREST)
    x, y = col * FRAME_SCALE, row * FRAME_SCALE
    ImageDraw.Draw(out).rectangle([x - 1, y - 1, x + FRAME_SCALE, y + FRAME_SCALE], outline=PICKED, width=2)
    return out


def level_names(levels: int) -> list[str]:
    """Bar labels for levels 0..K-1, zero-padded so that they sort in order: '0', '1' or '000' .. '255'."""
    width = len(str(levels - 1))
    return [f"{k:0{width}d}" for k in range(levels)]


def pixel_view(checkpoint: str | None, class_name: str | None, seed: float, temperature: float, guidance: float,
               row: float, col: float, cache: dict[str, Any] | None = None, request: gr.Request | None = None
               ) -> tuple[Image.Image, pd.DataFrame, str, dict[str, Any]]:
    """The model's distribution for pixel (row, col) of the grid's first image, given the pixels
    before it (above, and to its left in its row), at the sampling temperature and guidance.

    The image comes from the session's cache when the grid was drawn in this session, else it is
    drawn again (1 image, the same noise). Returns:
        The image with the pixel outlined and the pixels it may not see tinted, a table of the K
        probabilities (``level``, ``probability``) for ``gr.BarPlot``, a line naming the drawn level
        and its probability, and the cache.
    """
    lang = common.language(request)
    model = load(checkpoint, lang)
    label, seed, temperature, guidance = settings(model, class_name, seed, temperature, guidance, lang)
    row = whole(row, "row", 0, SIDE - 1, lang)
    col = whole(col, "col", 0, SIDE - 1, lang)
    key = image_key(checkpoint, label, seed, temperature, guidance)
    codes = cache.get(key) if isinstance(cache, dict) else None
    if codes is None:
        check_budget(1, SIDE, lang)
        codes = draw(model, 1, label, seed, temperature, guidance)[0][0, 0].numpy()
    cache = remember(cache, key, codes)
    image = model.from_levels(torch.as_tensor(codes))[None, None]  # (1, 1, 28, 28)
    labels = torch.tensor([label]) if label is not None else None
    probs = pixel_distribution(model, image, row, col, labels=labels, temperature=temperature, guidance=guidance)[0]
    table = pd.DataFrame({"level": level_names(model.levels), "probability": probs.tolist()})
    drawn = int(codes[row, col])
    p = float(probs[drawn])
    guided = guidance_words(guidance, lang)
    note = (f"像素（第 {row} 行，第 {col} 列）：模型看到它上方的 {row} 行和左边的 {col} 个像素；在温度 {temperature:g}"
            f"{guided} 下，抽到的等级 {drawn} 的概率是 {p:.3f}。" if lang == "zh" else
            f"Pixel (row {row}, column {col}): the model sees the {row} rows above it and the {col} pixels to its "
            f"left; at temperature {temperature:g}{guided} the level drawn, {drawn}, had probability {p:.3f}.")
    return marked(codes, model.levels, row, col), table, note, cache


def select_pixel(evt: gr.SelectData) -> tuple[int, int]:
    """A click on the 280 x 280 image -> (row, column) of the pixel under it."""
    x, y = evt.index[:2]
    return min(max(int(y) // FRAME_SCALE, 0), SIDE - 1), min(max(int(x) // FRAME_SCALE, 0), SIDE - 1)


def tile(image: torch.Tensor, rows: int) -> Image.Image:
    """``(1, 28, 28)`` in [-1, 1] -> 224 x 224 RGB with a ``BOUNDARY`` line under the first ``rows`` rows
    (2 pixels on the edge between two image rows: each pixel's centre is untouched)."""
    out = sampling.grid(image[None], nrow=1, padding=0, scale=TILE_SCALE).convert("RGB")
    y = rows * TILE_SCALE
    ImageDraw.Draw(out).rectangle([0, max(y - 1, 0), SIDE * TILE_SCALE - 1, min(y, SIDE * TILE_SCALE - 1)],
                                  fill=BOUNDARY)
    return out


def picture(model: torch.nn.Module, drawing: Any, upload: Any, index: Any, lang: str
            ) -> tuple[torch.Tensor, int | None, str]:
    """The image to complete ``(1, 1, 28, 28)`` in [-1, 1]: the drawing when it has ink, else the upload,
    else test image ``index``; its class (test images only) and where it came from, in ``lang``."""
    dataset, zh = model.config.dataset, lang == "zh"
    own = common.own_picture(dataset, drawing, upload, lang, unusable_zh=("这张图片", "这张图片"))
    if own is not None:
        return own[0], None, own[1]
    split = common.test_split_for(dataset, lang, "所以只能补全你画的或上传的图片。")
    i = whole(index, "index", 0, len(split) - 1, lang)
    name = data_mod.class_names(dataset)[int(split.labels[i])]
    return (data_mod.to_signed(split.images[i : i + 1]), int(split.labels[i]),
            f"测试图像 #{i}（{name}）" if zh else f"test image #{i} ({name})")


def complete_pixelcnn(checkpoint: str | None, class_name: str | None, index: float, drawing: Any, upload: Any,
                      rows: float, n: float, seed: float, temperature: float, guidance: float = 1.0,
                      request: gr.Request | None = None, progress: Any = gr.Progress()
                      ) -> tuple[list[tuple[Image.Image, str]], str]:
    """Keep the top ``rows`` rows of a picture and let the model draw the rest, ``n`` times.

    Args:
        class_name: 'auto' (a test image's own class) or a class name; ignored by an unconditional model.
        index: the test image number, used when nothing is drawn or uploaded.
        drawing, upload: a sketchpad value / an uploaded file (``ui.components``); the drawing wins.
        rows: kept rows, 0..27. n: completions, 1..16 (each with its own noise from ``seed``).
        temperature, guidance: as for ``sample_pixelcnn``.
    Returns:
        Gallery items: the original and each completion, 224 x 224 with an orange line under the kept
        rows; and a line saying what was kept and drawn.
    """
    lang = common.language(request)
    zh = lang == "zh"
    model = load(checkpoint, lang)
    label = class_label(model, class_name, lang, auto=True)
    seed, temperature = whole(seed, "seed", 0, 2**31 - 1, lang), temperature_of(temperature, lang)
    rows = whole(rows, "rows", 0, SIDE - 1, lang)
    n = whole(n, "completions", 1, MAX_COMPLETIONS, lang)
    check_budget(n, SIDE - rows, lang)
    given, own, source = picture(model, drawing, upload, index, lang)
    if label == -1:
        if own is None:
            raise refuse(lang, "A drawn or uploaded picture has no class of its own: pick one for this conditional "
                               "PixelCNN.", "画的或上传的图片没有自己的类别：这个条件 PixelCNN 需要你选一个类别。")
        label = own
    guidance = guidance_of(model, guidance, label, lang)
    labels = torch.tensor([label]) if label is not None else None
    out = complete(model, given, rows=rows, seed=seed, samples=n, labels=labels, temperature=temperature,
                   guidance=guidance if labels is not None else None, on_row=Progress(progress, rows, keep=False))
    items = [(tile(given[0], rows), f"原图：{source}" if zh else f"original: {source}")]
    items += [(tile(image, rows), f"补全 {j + 1}" if zh else f"completion {j + 1}") for j, image in enumerate(out)]
    kind = f"类别 {class_text(model, label)}" if label is not None else "无条件模型"
    guided = guidance_words(guidance, lang)
    note = (f"{source}：保留第 0–{rows - 1} 行（橙线以上，原样不变），模型逐个像素画出其余 {SIDE - rows} 行，"
            f"{n} 次（种子 {seed}，温度 {temperature:g}{guided}，{kind}）。" if zh and rows else
            f"{source}：不保留任何行，模型从头画 {n} 次（种子 {seed}，温度 {temperature:g}{guided}，{kind}）。" if zh else
            f"{source}: rows 0–{rows - 1} kept as they are (above the orange line); the model drew the other "
            f"{SIDE - rows} rows pixel by pixel, {n} times (seed {seed}, temperature {temperature:g}{guided}, "
            f"class {class_text(model, label)})." if rows else
            f"{source}: no row kept; the model drew the whole image {n} times (seed {seed}, temperature "
            f"{temperature:g}{guided}, class {class_text(model, label)}).")
    return items, note


def card_guidance(checkpoint: str | None) -> tuple[float, bool]:
    """(the card's default guidance, whether the model can be guided) of a listed PixelCNN, from its
    config.json (no weights loaded); (1, False) when there is none or it does not parse."""
    info = common.find_checkpoint(checkpoint, families())
    if info is None:
        return 1.0, False
    try:
        config = make_config(info["family"], **info["config"])
    except (TypeError, ValueError):
        return 1.0, False
    return float(config.default_guidance), config.guidable


def checkpoint_classes(dataset: str, checkpoint: str | None) -> tuple[Any, Any, Any, Any]:
    """A dataset or checkpoint picked: both class dropdowns (the sampling one on the opening class or
    none for an unconditional model; the completion one on auto), the no-checkpoint note shown only
    when nothing is picked, and the guidance slider on the card's value (movable only when the model
    can be guided). Reads config.json only."""
    info = common.find_checkpoint(checkpoint, families())
    names = list(data_mod.class_names(info["dataset"] if info else common.check_dataset(dataset)))
    conditional = info is None or int(info["config"].get("num_classes", 10)) > 0
    guidance, guidable = card_guidance(checkpoint)
    slider = gr.update(value=guidance, interactive=guidable)
    if not conditional:
        return (gr.update(choices=[(str(t("pixelcnn_unconditional")), NONE)], value=NONE),
                gr.update(choices=[(str(t("pixelcnn_unconditional")), NONE)], value=NONE), gr.update(visible=False),
                slider)
    return (gr.update(choices=names, value=names[OPEN_CLASS]),
            gr.update(choices=[(str(t("pixelcnn_auto_class")), AUTO), *names], value=AUTO),
            gr.update(visible=info is None), slider)


# ----------------------------------------------------------------------------- on open (cached by argument)


def open_sample(checkpoint: str | None, class_name: str | None, n: float, seed: float,
                temperature: float, guidance: float) -> tuple[str, str, str]:
    return sample_pixelcnn(checkpoint, class_name, n, seed, temperature, guidance, cache=None, request=None,
                           progress=None)[:3]


def open_pixel(checkpoint: str | None, class_name: str | None, seed: float, temperature: float, guidance: float,
               row: float, col: float, lang: str) -> tuple[Any, ...]:
    return pixel_view(checkpoint, class_name, seed, temperature, guidance, row, col, None, common.Browser(lang))[:3]


def open_completion(checkpoint: str | None, class_name: str | None, index: float, rows: float, n: float, seed: float,
                    temperature: float, guidance: float, lang: str) -> tuple[list[tuple[Image.Image, str]], str]:
    """The completion section on open: the defaults' test image completed (no drawing, no upload)."""
    return complete_pixelcnn(checkpoint, class_name, index, None, None, rows, n, seed, temperature, guidance,
                             common.Browser(lang), progress=None)


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The PixelCNN tab; returns its checkpoint picker."""
    gr.Markdown(t("pixelcnn_intro"))
    names = list(data_mod.class_names("mnist"))
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            pick = common.picker(families())
            missing = gr.Markdown(t("pixelcnn_missing"), visible=not pick.checkpoint.value, elem_id="pixelcnn-missing")
            cls = gr.Dropdown(names, value=names[OPEN_CLASS], label=t("class"), allow_custom_value=True,
                              elem_id="pixelcnn-class")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, label=t("seed"), elem_id="pixelcnn-seed")
                dice = gr.Button(t("random_seed"), size="sm")
            temperature = gr.Slider(0.1, 3.0, value=1.0, step=0.05, label=t("pixelcnn_temperature"),
                                    elem_id="pixelcnn-temperature")
            guidance0, guidable = card_guidance(pick.checkpoint.value)
            guidance = gr.Slider(0, 5.0, value=guidance0, step=0.25, label=t("pixelcnn_guidance"),
                                 interactive=guidable, elem_id="pixelcnn-guidance")
            n = gr.Slider(1, MAX_IMAGES, value=4, step=1, label=t("n_images"), elem_id="pixelcnn-n")
            enlarge_by = enlarge.control("pixelcnn-enlarge")
            go = gr.Button(t("generate"), variant="primary", elem_id="pixelcnn-generate")
        with gr.Column(scale=2):
            with gr.Row():
                grid = gr.Image(format="png", type="filepath", label=t("samples"), elem_id="pixelcnn-grid",
                                elem_classes=[*LOOK, "below-label"], buttons=BUTTONS, height=330)
                gif = gr.Image(type="filepath", label=t("pixelcnn_gif"), elem_id="pixelcnn-gif",
                               elem_classes=LOOK, buttons=BUTTONS, height=330)
            grid_file = gr.File(label=t("download_png"))
    gr.Markdown(t("pixelcnn_pixel_title"))
    with gr.Row():
        with gr.Column(scale=1):
            clicked = gr.Image(format="png", type="pil", label=t("pixelcnn_click"), elem_id="pixelcnn-pixel-image",
                               elem_classes=LOOK, buttons=["fullscreen"], height=330, interactive=False)
            with gr.Row():
                row = gr.Number(14, precision=0, minimum=0, maximum=SIDE - 1, label=t("pixelcnn_row"),
                                elem_id="pixelcnn-row")
                col = gr.Number(14, precision=0, minimum=0, maximum=SIDE - 1, label=t("pixelcnn_col"),
                                elem_id="pixelcnn-col")
        with gr.Column(scale=1):
            bars = gr.BarPlot(x="level", y="probability", y_lim=[0, 1], label=t("pixelcnn_bars"), height=300,
                              elem_id="pixelcnn-bars")
            pixel_note = gr.Markdown(elem_id="pixelcnn-pixel-note")
    cache = gr.State(None)
    gr.Markdown(t("pixelcnn_complete_title"))
    images, message = common.gallery_for("mnist")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Row():
                sketch = components.PictureSketchpad(label=t("draw"), show_label=False, type="numpy", height=300, canvas_size=(280, 280),
                                                     elem_id="pixelcnn-sketch", elem_classes=[components.SKETCH_CLASS],
                                                     scale=2)
                upload = components.PictureUpload(label=t("upload"), type="filepath", image_mode=None,
                                                  sources=["upload", "clipboard"], height=300, scale=1,
                                                  elem_id="pixelcnn-upload")
            gallery = gr.Gallery(images, label=t("test_images"), columns=3, height=180, allow_preview=False,
                                 elem_id="pixelcnn-gallery")
            gallery_note = gr.Markdown(message)
            index = gr.Number(0, precision=0, minimum=0, label=t("test_index"), elem_id="pixelcnn-index")
            comp_cls = gr.Dropdown([(t("pixelcnn_auto_class"), AUTO), *names], value=AUTO,
                                   label=t("pixelcnn_complete_class"), allow_custom_value=True,
                                   elem_id="pixelcnn-complete-class")
            kept = gr.Slider(0, SIDE - 1, value=14, step=1, label=t("pixelcnn_rows"), elem_id="pixelcnn-rows")
            count = gr.Slider(1, MAX_COMPLETIONS, value=4, step=1, label=t("pixelcnn_completions"),
                              elem_id="pixelcnn-completions")
            comp_go = gr.Button(t("pixelcnn_complete"), variant="primary", elem_id="pixelcnn-complete")
        with gr.Column(scale=2):
            completions = gr.Gallery(label=t("pixelcnn_completed"), columns=5, height="auto", object_fit="contain",
                                     allow_preview=True, elem_id="pixelcnn-completions-out", elem_classes=LOOK)
            comp_note = gr.Markdown(elem_id="pixelcnn-complete-note")
    gr.Markdown(t("pixelcnn_help"), elem_id="pixelcnn-help")

    view_in = [pick.checkpoint, cls, seed, temperature, guidance, row, col, cache]
    view_out = [clicked, bars, pixel_note, cache]
    comp_in = [pick.checkpoint, comp_cls, index, sketch, upload, kept, count, seed, temperature, guidance]
    pick.checkpoint.change(checkpoint_classes, [pick.dataset, pick.checkpoint], [cls, comp_cls, missing, guidance],
                           api_visibility="private", queue=False)
    pick.dataset.change(common.gallery_for, pick.dataset, [gallery, gallery_note], api_visibility="private")
    dice.click(common.random_seed, None, seed, api_visibility="private", queue=False)
    grid_in = [pick.checkpoint, cls, n, seed, temperature, guidance, enlarge_by, cache]
    enlarge.wire(enlarge_by, grid, (sample_pixelcnn, grid_in, [grid, grid_file, gif, cache]))
    go.click(sample_pixelcnn, grid_in, [grid, grid_file, gif, cache], api_name="sample_pixelcnn").success(pixel_view, view_in, view_out, api_visibility="private")
    picked_pixel = clicked.select(select_pixel, None, [row, col], api_visibility="private", queue=False)
    picked_pixel.then(pixel_view, view_in, view_out, api_visibility="private", trigger_mode="always_last")
    gr.on([row.submit, col.submit], pixel_view, view_in, view_out, api_name="pixelcnn_pixel",
          trigger_mode="always_last")
    picked = gallery.select(common.select_tile, None, [index, sketch, upload], api_visibility="private", queue=False)
    picked.then(None, js=components.SELECT_BRUSH_JS, api_visibility="private", queue=False)
    picked.then(complete_pixelcnn, comp_in, [completions, comp_note], api_visibility="private")
    comp_go.click(complete_pixelcnn, comp_in, [completions, comp_note], api_name="complete_pixelcnn")
    common.on_open(open_sample, [pick.checkpoint, cls, n, seed, temperature, guidance], [grid, grid_file, gif])
    common.on_open(open_pixel, view_in[:-1], view_out[:-1], speaks=True)
    common.on_open(open_completion, [pick.checkpoint, comp_cls, index, kept, count, seed, temperature, guidance],
                   [completions, comp_note], speaks=True)
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
