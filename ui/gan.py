"""Tab 1, GAN sampling: a grid from an MLP GAN, a DCGAN or a GAN trained in the app,
optionally captioned with what the discriminator thinks of each sample."""

from __future__ import annotations

from typing import Any

import gradio as gr
from PIL import Image

from aigc_models import sampling
from ui import common, enlarge
from ui.i18n import t


# ----------------------------------------------------------------------------- handlers


def sample_gan(checkpoint: str | None, n: float, seed: float, truncation: float, show_d: bool,
               enlarge_by: Any = 1, request: gr.Request | None = None) -> tuple[Image.Image, str]:
    """Sample ``n`` images with ``seed`` from a GAN checkpoint.

    Args:
        checkpoint: checkpoint folder (from the dropdown).
        n: number of images, 1..256.
        seed: 0..2**31-1; the same seed gives the same grid.
        truncation: 0 = off, else redraw latent entries with |z| > truncation.
        show_d: caption each sample with D's probability that it is real (scored as drawn, 28 x 28).
        enlarge_by: 1, or 2 / 4 to show the samples upscaled by a super-resolution model (``ui.enlarge``).
    Returns:
        A PNG-ready grid (greyscale, or RGB when captioned) and the path of the PNG download.
    """
    model = common.load_model(checkpoint, common.gan_families())
    n = common.check_int(n, "Number of images", 1, common.MAX_IMAGES)
    seed = common.check_int(seed, "Seed", 0, 2**31 - 1)
    trunc = common.check_float(truncation, "Truncation", 0.0, 5.0) or None
    images = sampling.sample(model, n, seed=seed, truncation=trunc)
    shown, enlarged = enlarge.enlarged(images, model.config.dataset, enlarge_by, common.language(request))
    if show_d:
        scores = sampling.discriminator_scores(model, images)
        image = common.captioned_grid(shown, [f"D={s:.2f}" for s in scores.tolist()])
    else:
        image = common.to_grid(shown)
    info = common.provenance_of(checkpoint, "samples", seed=seed, n=n, truncation=trunc, discriminator_captions=show_d,
                                **enlarged)
    return image, common.save_download(image, f"gan-seed{seed}", ".png", info)


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The GAN sampling tab; returns its checkpoint pickers for app-wide refreshes."""
    gr.Markdown(t("gan_intro"))
    with gr.Row():
        with gr.Column(scale=1):
            pick = common.picker(common.gan_families())
            n = gr.Slider(1, common.MAX_IMAGES, value=64, step=1, label=t("n_images"))
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, label=t("seed"))
                dice = gr.Button(t("random_seed"), size="sm")
            truncation = gr.Slider(0, 3, value=0, step=0.1, label=t("truncation"))
            show_d = gr.Checkbox(False, label=t("show_d"))
            enlarge_by = enlarge.control("gan-enlarge")
            go = gr.Button(t("generate"), variant="primary")
        with gr.Column(scale=2):
            image = gr.Image(format="png", type="pil", label=t("samples"), show_label=True, elem_id="gan-grid")
            download = gr.File(label=t("download_png"))
            gr.Markdown(t("d_note"))
    dice.click(common.random_seed, None, seed, api_visibility="private", queue=False)
    inputs = [pick.checkpoint, n, seed, truncation, show_d, enlarge_by]
    go.click(sample_gan, inputs, [image, download], api_name="sample_gan")
    enlarge.wire(enlarge_by, image, (sample_gan, inputs, [image, download]))
    common.on_open(sample_gan, inputs, [image, download])
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
