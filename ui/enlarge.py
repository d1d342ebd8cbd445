"""The "enlarge" switch of the generation tabs (GAN, conditional GAN, Diffusion, PixelCNN, and the
VAE tab's samples from the prior): a grid's samples shown 2 or 4 times larger through a super-resolution model of the same dataset,
and labelled as upscaled.

Which model: among the listed checkpoints of the upscaling families (``families_with("upscale")``)
trained on the grid's dataset at that scale with the pixel loss alone, the one whose stored test
PSNR is highest (``evaluate --save``; one without stored numbers counts last). The adversarial
upscaler is left out: it invents texture, and a grid of samples should show what the generator
drew, only larger.

The networks learnt to turn an area-shrunk digit back into its 28 x 28 original; given a 28 x 28
sample they produce their guess at a finer version of it (``SuperResolution.enlarge``), not more
detail from the generator. The grid's label and the PNG's provenance say so."""

from __future__ import annotations

from typing import Any

import gradio as gr
import torch

from aigc_models import validation
from aigc_models.models import families_with
from ui import common
from ui.i18n import t

SCALES = (1, 2, 4)
"""1 = as drawn (28 x 28 a sample); 2 and 4: through an upscaler."""


def upscaling_families() -> tuple[str, ...]:
    return families_with("upscale")


def control(elem_id: str) -> gr.Radio:
    """The switch, placed among a tab's controls; off by default."""
    return gr.Radio([(t("enlarge_off"), 1), ("x2", 2), ("x4", 4)], value=1, label=t("enlarge"),
                    info=t("enlarge_info"), elem_id=elem_id)


def checked(scale: Any, lang: str) -> int:
    """``scale`` as 1, 2 or 4 (a radio sends a number, an API caller may send "2"), else a refusal."""
    value = int(scale) if isinstance(scale, str) and scale.strip().isdigit() else scale
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is int and value in SCALES:
        return value
    raise common.refuse(lang, f"Enlarge must be 1 (off), 2 or 4, got {validation.show(scale)}.",
                        f"放大倍数必须是 1（不放大）、2 或 4，收到的是 {validation.show(scale)}。")


def upscaler(dataset: str, scale: int) -> dict[str, Any] | None:
    """The listed pixel-loss upscaler for ``dataset`` at ``scale`` with the highest stored PSNR, or None."""
    found = [info for info in common.discover(upscaling_families(), dataset)
             if info["config"].get("scale") == scale and not info["config"].get("adversarial")]

    def psnr(info: dict[str, Any]) -> float:
        value = (info.get("metrics") or {}).get("psnr")
        return float(value) if isinstance(value, (int, float)) else float("-inf")

    return max(found, key=psnr, default=None)  # max keeps the first (shipped before trained here) of equals


def enlarged(images: torch.Tensor, dataset: str, scale: Any, lang: str) -> tuple[torch.Tensor, dict[str, Any]]:
    """images ``(B, 1, 28, 28)`` in [-1, 1] -> ``(B, 1, 28 s, 28 s)`` in [-1, 1] and what to add to the
    image's provenance (empty when ``scale`` is 1). A refusal, in ``lang``, when no upscaler for
    ``dataset`` at ``scale`` is listed."""
    scale = checked(scale, lang)
    if scale == 1:
        return images, {}
    info = upscaler(dataset, scale)
    if info is None:
        command = f"python -m aigc_models train --model espcn --dataset {dataset} --option scale={scale}"
        raise common.refuse(lang, f"No x{scale} upscaler is listed for {dataset}, so the samples cannot be enlarged "
                                  f"{scale} times; train one with `{command}`, or pick another size.",
                            f"没有 {dataset} 的 {scale} 倍超分辨率模型，所以无法把样本放大 {scale} 倍；"
                            f"可以用 `{command}` 训练一个，或换一个倍数。")
    model = common.load_model(info["key"], upscaling_families())
    with torch.no_grad():
        return model.enlarge(images), {"enlarged": f"x{scale} by the super-resolution model {info['key']} "
                                                   "(its guess at finer strokes, not the generator's)"}


def label(scale: Any, base: str = "samples") -> dict[str, Any]:
    """The grid's label for ``scale``: the i18n key ``base`` ("Samples"), or ``base``_x2 / _x4 that says
    the samples are shown upscaled."""
    value = scale if scale in SCALES else 1
    return gr.update(label=t(base) if value == 1 else t(f"{base}_x{value}"))


def wire(switch: gr.Radio, grid: gr.Image, regenerate: tuple[Any, list[Any], list[Any]], base: str = "samples") -> None:
    """Flipping ``switch`` draws the grid again (same seed, same samples) with ``regenerate`` =
    (handler, inputs, outputs), then relabels ``grid`` (i18n keys ``base``, ``base``_x2, ``base``_x4);
    a refused size leaves grid and label as they were."""
    fn, inputs, outputs = regenerate

    def relabel(scale: Any) -> dict[str, Any]:
        return label(scale, base)

    # .input, not .change: only a visitor's click redraws (a change event also follows any value the
    # server sets). Named apart, so that the tab's own endpoint keeps the handler's name whichever is
    # wired first.
    switch.input(fn, inputs, outputs, api_name=f"{fn.__name__}_enlarged", api_visibility="private",
                  trigger_mode="always_last").success(relabel, switch, grid, api_visibility="private", queue=False)
