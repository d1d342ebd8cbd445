"""Tab 5, augmentation preview: real images before and after the source
documents' augmentations and after DiffAugment, with a lesson on why
augmenting only the real images leaks into what a GAN learns."""

from __future__ import annotations

from typing import Any

import gradio as gr
import torch
from PIL import Image

from aigc_models import augment
from ui import common
from ui.i18n import t

# ----------------------------------------------------------------------------- handlers


def preview_augment(dataset: str, n: float, strength: float, seed: float, request: gr.Request | None = None
                    ) -> tuple[Image.Image | None, Image.Image | None, Image.Image | None, str]:
    """The same ``n`` test images: as they are, after the documents' augmentations, after DiffAugment.

    Args:
        dataset: 'mnist' or 'fashion-mnist'.
        n: number of images, 1..64.
        strength: 0..2, scales every augmentation (0 = none).
        seed: picks the images and the random augmentations; same seed, same result.
    Returns:
        Three PNG-ready grids and a one-line note in the browser's language (the only output when
        the dataset is missing).
    """
    dataset = common.check_dataset(dataset)
    n = common.check_int(n, "Number of images", 1, 64)
    strength = common.check_float(strength, "Strength", 0.0, 2.0)
    seed = common.check_int(seed, "Seed", 0, 2**31 - 1)
    try:
        images, _ = common.test_images(dataset, n=n, seed=seed)
    except gr.Error as err:
        gr.Warning(str(err))
        return None, None, None, str(err)
    classic = augment.classic_augment(images, strength=strength, generator=torch.Generator().manual_seed(seed))
    diff = augment.diff_augment(images, strength=strength, generator=torch.Generator().manual_seed(seed))
    nrow = min(n, 8)
    grids = [common.to_grid(x, nrow=nrow, target=360) for x in (images, classic, diff)]
    note = (f"{n} 张 {dataset} 测试图像，强度 {strength:g}，种子 {seed}。" if common.language(request) == "zh"
            else f"{n} test images of {dataset}, strength {strength:g}, seed {seed}.")
    return grids[0], grids[1], grids[2], note


def open_preview(dataset: str, n: float, strength: float, seed: float, lang: str) -> tuple[Any, ...]:
    """What the tab opens on, computed once per language (``common.on_open`` with ``speaks``)."""
    return preview_augment(dataset, n, strength, seed, common.Browser(lang))


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The augmentation tab (no checkpoint picker)."""
    gr.Markdown(t("aug_intro"))
    with gr.Row():
        dataset = gr.Radio(common.DATASET_CHOICES, value="mnist", label=t("dataset"))
        n = gr.Slider(1, 64, value=32, step=1, label=t("n_images"))
        strength = gr.Slider(0, 2, value=1, step=0.1, label=t("strength"))
        seed = gr.Number(0, precision=0, minimum=0, label=t("seed"))
    go = gr.Button(t("augment_button"), variant="primary")
    note = gr.Markdown()
    with gr.Row():
        # each panel's label and button above its first row (app.CSS), not over it; one button each, so
        # that the three labels stay whole in a projector's 1024 px
        look = {"elem_classes": ["below-label"], "buttons": ["download"]}
        original = gr.Image(format="png", type="pil", label=t("original"), elem_id="aug-original", **look)
        classic = gr.Image(format="png", type="pil", label=t("classic_aug"), elem_id="aug-classic", **look)
        diff = gr.Image(format="png", type="pil", label=t("diff_aug"), elem_id="aug-diff", **look)
    gr.Markdown(t("aug_lesson"))
    go.click(preview_augment, [dataset, n, strength, seed], [original, classic, diff, note], api_name="augment")
    common.on_open(open_preview, [dataset, n, strength, seed], [original, classic, diff, note], speaks=True)
    return []


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
