"""Tab 2, conditional GAN: ask for a class by name, see a row per class, or
morph one class into another at fixed noise."""

from __future__ import annotations

from typing import Any

import gradio as gr
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import sampling
from aigc_models.models import families_with
from ui import common, enlarge
from ui.i18n import t


def families() -> tuple[str, ...]:
    """This tab's families, from the registry: conditional GANs whose class embedding can be morphed."""
    return families_with("condition", "discriminate", "class_morph")


MORPH = (5, 6)  # the opening morph: on the shipped mnist-cgan the steadiest of the pairs measured (largest step 1.24x the mean)
ONE_CLASS, EVERY_CLASS = "one", "all"

# ----------------------------------------------------------------------------- handlers


def class_choices(dataset: str, index: int = 0) -> dict[str, Any]:
    """Class dropdown update for ``dataset``, selecting class ``index``."""
    names = list(data_mod.class_names(common.check_dataset(dataset)))
    return gr.update(choices=names, value=names[index])


def sample_classes(checkpoint: str | None, class_name: str, mode: str, per_class: float, seed: float,
                   enlarge_by: Any = 1, request: gr.Request | None = None) -> tuple[Image.Image, str]:
    """Samples of one class (a square grid) or a row per class, from a cGAN.

    Args:
        class_name: a class name of the checkpoint's dataset ('7', 'Sneaker').
        mode: 'one' for ``class_name`` only, 'all' for a row per class.
        per_class: images per class, 1..20 (one class: that many in a square grid).
        seed: same seed, same images.
        enlarge_by: 1, or 2 / 4 to show the samples upscaled by a super-resolution model (``ui.enlarge``).
    Returns:
        The PNG-ready grid and the path of its PNG download.
    """
    model = common.load_model(checkpoint, families())
    dataset = model.config.dataset
    per = common.check_int(per_class, "Images per class", 1, 20)
    seed = common.check_int(seed, "Seed", 0, 2**31 - 1)
    if mode == EVERY_CLASS:
        labels, nrow = torch.arange(model.num_classes).repeat_interleave(per), per
    else:
        labels, nrow = torch.full((per,), common.class_index(dataset, class_name)), None
    images = sampling.sample(model, len(labels), seed=seed, labels=labels)
    images, enlarged = enlarge.enlarged(images, dataset, enlarge_by, common.language(request))
    image = common.to_grid(images, nrow=nrow)
    info = common.provenance_of(checkpoint, "samples", seed=seed, per_class=per, **enlarged,
                                **({"class": class_name} if mode != EVERY_CLASS else {"classes": "a row per class"}))
    return image, common.save_download(image, f"cgan-seed{seed}", ".png", info)


def morph_classes(checkpoint: str | None, class_a: str, class_b: str, steps: float,
                  seed: float) -> tuple[Image.Image, str]:
    """A cGAN morph from ``class_a`` to ``class_b`` at fixed noise (class embeddings interpolated).

    Returns:
        A one-row strip ``steps`` images long and the path of an animated GIF.
    """
    model = common.load_model(checkpoint, families())
    dataset = model.config.dataset
    a, b = common.class_index(dataset, class_a), common.class_index(dataset, class_b)
    steps = common.check_int(steps, "Steps", 2, 32)
    seed = common.check_int(seed, "Seed", 0, 2**31 - 1)
    frames = sampling.interpolate_classes(model, class_a=a, class_b=b, seed=seed, steps=steps)
    gif = sampling.gif_bytes(frames, scale=6)
    info = common.provenance_of(checkpoint, "class morph", seed=seed, steps=steps, morph=f"{class_a} -> {class_b}")
    return common.to_grid(frames, nrow=steps), common.save_download(gif, f"morph-{a}-{b}-seed{seed}", ".gif", info)


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The conditional GAN tab; returns its checkpoint picker."""
    gr.Markdown(t("cgan_intro"))
    names = list(data_mod.class_names("mnist"))
    with gr.Row():
        with gr.Column(scale=1):
            pick = common.picker(families())
            seed = gr.Number(0, precision=0, minimum=0, label=t("seed"))
        with gr.Column(scale=2):
            with gr.Tab(t("by_class")):
                with gr.Row():
                    cls = gr.Dropdown(names, value="0", label=t("class"), allow_custom_value=True)
                    mode = gr.Radio([(t("one_class"), ONE_CLASS), (t("row_per_class"), EVERY_CLASS)],
                                    value=EVERY_CLASS, label=t("layout"))
                    per = gr.Slider(1, 20, value=8, step=1, label=t("per_class"))
                enlarge_by = enlarge.control("cgan-enlarge")
                go = gr.Button(t("generate"), variant="primary")
                grid = gr.Image(format="png", type="pil", label=t("samples"), elem_id="cgan-grid")
                grid_file = gr.File(label=t("download_png"))
            with gr.Tab(t("morph")):
                with gr.Row():
                    cls_a = gr.Dropdown(names, value=names[MORPH[0]], label=t("from_class"), allow_custom_value=True)
                    cls_b = gr.Dropdown(names, value=names[MORPH[1]], label=t("to_class"), allow_custom_value=True)
                    steps = gr.Slider(2, 32, value=10, step=1, label=t("steps"))
                morph_go = gr.Button(t("morph_button"), variant="primary")
                strip = gr.Image(format="png", type="pil", label=t("morph"), elem_id="cgan-morph",
                                 elem_classes=["below-label"])  # the label above the strip, not over its first frame
                gif = gr.File(label=t("download_gif"))
    for dropdown, index in ((cls, 0), (cls_a, MORPH[0]), (cls_b, MORPH[1])):
        pick.dataset.change(lambda d, i=index: class_choices(d, i), pick.dataset, dropdown,
                            api_visibility="private", queue=False)
    by_class = [pick.checkpoint, cls, mode, per, seed, enlarge_by]
    go.click(sample_classes, by_class, [grid, grid_file], api_name="sample_cgan")
    enlarge.wire(enlarge_by, grid, (sample_classes, by_class, [grid, grid_file]))
    morph_go.click(morph_classes, [pick.checkpoint, cls_a, cls_b, steps, seed], [strip, gif], api_name="morph_cgan")
    common.on_open(sample_classes, by_class, [grid, grid_file])
    common.on_open(morph_classes, [pick.checkpoint, cls_a, cls_b, steps, seed], [strip, gif])
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
