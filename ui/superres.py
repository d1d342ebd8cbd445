"""Super-resolution tab: shrink a test image (or a drawing, or an upload) 2 or 4 times, then enlarge
it back with nearest-neighbour, bicubic and every super-resolution model listed for that dataset and
scale (SRCNN, ESPCN: one checkpoint of each family), beside the truth, with the PSNR and SSIM of
each against the truth (``aigc_models.metrics.psnr_ssim``, torchmetrics).

Refusals are said in the language the browser asks for (``common.language``)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import sampling, validation
from aigc_models.metrics import psnr_ssim
from aigc_models.models import REGISTRY, families_with
from aigc_models.models.superres import SCALES, bicubic, downscale, nearest
from ui import common, components
from ui.errors import UserError
from ui.i18n import t


def families() -> tuple[str, ...]:
    """This tab's families, from the registry: the ones that upscale."""
    return families_with("upscale")


TILE_SCALE = 8  # 28 x 28 -> 224 x 224 pixels, nearest neighbour
LOOK = ["pixelated"]
refuse = common.refuse

# ----------------------------------------------------------------------------- inputs


def checked_scale(scale: Any, lang: str) -> int:
    """``scale`` as 2 or 4 (a radio sends a string or a number), else a refusal."""
    try:
        value = validation.check_int(int(scale) if isinstance(scale, str) and scale.isdigit() else scale,
                                     "Scale", lo=min(SCALES), hi=max(SCALES))
        if value in SCALES:
            return value
    except ValueError:
        pass
    raise refuse(lang, f"Scale must be 2 or 4, got {validation.show(scale)}.",
                 f"放大倍数必须是 2 或 4，收到的是 {validation.show(scale)}。")


def truth_image(dataset: str, index: Any, upload: Any, lang: str, drawing: Any = None) -> tuple[torch.Tensor, str]:
    """The high-resolution image ``(1, 1, 28, 28)`` in [-1, 1]: the drawing when it has ink, else the
    upload when given, else test image ``index``; and where it came from (in ``lang``). A drawing or
    upload is framed like ``dataset``'s images (``aigc_models.preprocess``)."""
    own = common.own_picture(dataset, drawing, upload, lang)
    if own is not None:
        return own
    split = common.test_split_for(dataset, lang, "所以这个页面只能用上传的图片。")
    i = common.whole(index, common.TEST_IMAGE_NUMBER, 0, len(split) - 1, lang)
    return data_mod.to_signed(split.images[i : i + 1]), (f"测试图像 #{i}" if lang == "zh" else f"test image #{i}")


def adversarial(info: dict[str, Any]) -> bool:
    """Whether a listed checkpoint was trained with an adversarial loss beside its pixel loss (SRGAN)."""
    return bool(info["config"].get("adversarial"))


def upscalers(dataset: str, scale: int) -> list[dict[str, Any]]:
    """For ``dataset`` at ``scale``: the first listed checkpoint of each upscaling family trained on
    the pixel loss alone, then of each trained with an adversarial loss too, in registry order."""
    found: dict[tuple[bool, str], dict[str, Any]] = {}
    for info in common.discover(families(), dataset):
        if info["config"].get("scale") == scale:
            found.setdefault((adversarial(info), info["family"]), info)
    return [found[(gan, name)] for gan in (False, True) for name in families() if (gan, name) in found]


# ----------------------------------------------------------------------------- the handler


def _tile(image: torch.Tensor) -> Image.Image:
    """``(1, H, W)`` in [-1, 1] -> a ``224 x 224`` PNG-ready tile; a smaller image sits at its true
    size relative to the 28 x 28 ones, centred on dark grey, so that the input looks as small as it is."""
    side = image.shape[-1]
    small = sampling.grid(image[None], nrow=1, padding=0, scale=TILE_SCALE)
    if side == 28:
        return small
    canvas = Image.new(small.mode, (28 * TILE_SCALE, 28 * TILE_SCALE), 48 if small.mode == "L" else (48, 48, 48))
    offset = (28 - side) * TILE_SCALE // 2
    canvas.paste(small, (offset, offset))
    return canvas


def compare(dataset: Any, scale: Any, index: Any, upload: Any = None, drawing: Any = None,
            request: gr.Request | None = None) -> tuple[list[tuple[Image.Image, str]], str]:
    """Shrink the image ``scale`` times (area average), enlarge it back every way there is here.

    Args:
        dataset: 'mnist' or 'fashion-mnist': whose upscalers, test images and framing.
        scale: 2 or 4. index: the test image number, used when nothing is drawn or uploaded.
        upload, drawing: an uploaded file / a sketchpad value (``ui.components``); the drawing wins.

    Returns:
        Gallery items (image, caption): the low-resolution input, nearest, bicubic, each listed
        model's upscaling and the truth, each captioned with its PSNR (dB) and SSIM against the
        truth; and a Markdown table of the same numbers (with the checkpoints used, and the
        families with no checkpoint at this scale).
    """
    lang = common.language(request)
    zh = lang == "zh"
    try:
        dataset = common.check_dataset(dataset)
    except UserError as err:
        raise refuse(lang, err.message, f"未知数据集 {validation.show(dataset)}；可选 mnist 或 fashion-mnist。") from None
    scale = checked_scale(scale, lang)
    truth, source = truth_image(dataset, index, upload, lang, drawing)  # (1, 1, 28, 28)
    low = downscale(truth, scale)  # (1, 1, 28 / s, 28 / s)
    rows: list[tuple[str, torch.Tensor]] = [("nearest" if not zh else "最近邻", nearest(low, scale)),
                                            ("bicubic" if not zh else "双三次", bicubic(low, scale))]
    used = upscalers(dataset, scale)
    for info in used:
        model = common.load_model(info["key"], families())
        label = REGISTRY[info["family"]].label_zh if zh else REGISTRY[info["family"]].label
        if adversarial(info):
            label += " + 对抗损失" if zh else " + adversarial"
        with torch.no_grad():
            rows.append((f"{label} ({info['key']})", model.upscale(low)))
    psnr, ssim = psnr_ssim(torch.cat([image for _, image in rows]), truth.expand(len(rows), -1, -1, -1))
    side = 28 // scale
    items = [(_tile(low[0]), f"{'低分辨率输入' if zh else 'low-resolution input'} {side} × {side}")]
    lines = ["| 方法 | PSNR（dB） | SSIM |" if zh else "| method | PSNR (dB) | SSIM |",
             "| --- | --- | --- |"]
    for (name, image), p, s in zip(rows, psnr.tolist(), ssim.tolist()):
        items.append((_tile(image[0]), f"{name}: {p:.2f} dB, SSIM {s:.3f}"))
        lines.append(f"| {name} | {p:.2f} | {s:.3f} |")
    items.append((_tile(truth[0]), f"{'真实图像' if zh else 'truth'} 28 × 28"))
    missing = [name for name in families() if name not in {info["family"] for info in used if not adversarial(info)}]
    head = (f"{source}，缩小 {scale} 倍（{side} × {side}，区域平均）后再放大回 28 × 28。" if zh else
            f"{source}, shrunk {scale} times ({side} × {side}, area average) and enlarged back to 28 × 28.")
    notes = [head, "", *lines]
    for name in missing:
        command = (f"`python -m aigc_models train --model {name} --dataset {dataset} --option scale={scale} "
                   f"--out checkpoints/{dataset}-{name}-x{scale}`")
        notes += ["", (f"这里没有 x{scale} 的 {REGISTRY[name].label_zh} 检查点；可用 {command} 训练一个。" if zh else
                       f"No {REGISTRY[name].label} checkpoint at x{scale} here; train one with {command}.")]
    return items, "\n".join(notes)


def open_compare(dataset: str, scale: Any, index: Any, lang: str) -> tuple[list[tuple[Image.Image, str]], str]:
    return compare(dataset, scale, index, None, None, common.Browser(lang))


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The super-resolution tab; it picks checkpoints by dataset and scale itself, so it returns no picker."""
    gr.Markdown(t("sr_intro"))
    images, message = common.gallery_for("mnist")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            dataset = gr.Dropdown(common.DATASET_CHOICES, value="mnist", label=t("dataset"), elem_id="sr-dataset")
            scale = gr.Radio([("x2", 2), ("x4", 4)], value=2, label=t("sr_scale"), elem_id="sr-scale")
            with gr.Row():
                sketch = components.PictureSketchpad(label=t("draw"), show_label=False, type="numpy", height=300,
                                                     canvas_size=(280, 280), elem_id="sr-sketch",
                                                     elem_classes=[components.SKETCH_CLASS], scale=2)
                upload = components.PictureUpload(label=t("upload"), type="filepath", image_mode=None,
                                                  sources=["upload", "clipboard"], height=300, scale=1,
                                                  elem_id="sr-upload")
            gallery = gr.Gallery(images, label=t("test_images"), columns=3, height=220, allow_preview=False,
                                 elem_id="sr-gallery")
            gallery_note = gr.Markdown(message)
            index = gr.Number(0, precision=0, minimum=0, label=t("test_index"), elem_id="sr-index")
            go = gr.Button(t("sr_button"), variant="primary", elem_id="sr-go")
        with gr.Column(scale=2):
            # four across: at x4 the input, two baselines, three models and the truth fit in two rows, so the
            # truth is never scrolled out of the gallery's sight
            results = gr.Gallery(label=t("sr_results"), columns=4, height="auto", object_fit="contain",
                                 allow_preview=True, elem_id="sr-results", elem_classes=LOOK)
            table = gr.Markdown(elem_id="sr-table")
            gr.Markdown(t("sr_lesson"))
    inputs, outputs = [dataset, scale, index, upload, sketch], [results, table]
    changed = dataset.change(common.gallery_for, dataset, [gallery, gallery_note], api_visibility="private")
    changed.then(compare, inputs, outputs, api_visibility="private")
    picked = gallery.select(common.select_tile, None, [index, sketch, upload], api_visibility="private", queue=False)
    picked.then(None, js=components.SELECT_BRUSH_JS, api_visibility="private", queue=False)  # clearing the pad drops its tool
    picked.then(compare, inputs, outputs, api_visibility="private")
    go.click(compare, inputs, outputs, api_name="superres")
    scale.change(compare, inputs, outputs, api_visibility="private")
    common.on_open(open_compare, [dataset, scale, index], outputs, speaks=True)
    return []


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
