"""Tab 1, GAN sampling: a grid from an MLP GAN, a DCGAN or a GAN trained in the app,
optionally captioned with what the discriminator thinks of each sample."""

from __future__ import annotations

import gradio as gr
from PIL import Image

from aigc_models import sampling
from ui import common
from ui.i18n import t


# ----------------------------------------------------------------------------- handlers


def sample_gan(checkpoint: str | None, n: float, seed: float, truncation: float,
               show_d: bool) -> tuple[Image.Image, str]:
    """Sample ``n`` images with ``seed`` from a GAN checkpoint.

    Args:
        checkpoint: checkpoint folder (from the dropdown).
        n: number of images, 1..256.
        seed: 0..2**31-1; the same seed gives the same grid.
        truncation: 0 = off, else redraw latent entries with |z| > truncation.
        show_d: caption each sample with D's probability that it is real.
    Returns:
        A PNG-ready grid (greyscale, or RGB when captioned) and the path of the PNG download.
    """
    model = common.load_model(checkpoint, common.gan_families())
    n = common.check_int(n, "Number of images", 1, common.MAX_IMAGES)
    seed = common.check_int(seed, "Seed", 0, 2**31 - 1)
    trunc = common.check_float(truncation, "Truncation", 0.0, 5.0) or None
    images = sampling.sample(model, n, seed=seed, truncation=trunc)
    if show_d:
        scores = sampling.discriminator_scores(model, images)
        image = common.captioned_grid(images, [f"D={s:.2f}" for s in scores.tolist()])
    else:
        image = common.to_grid(images)
    info = common.provenance_of(checkpoint, "samples", seed=seed, n=n, truncation=trunc, discriminator_captions=show_d)
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
            go = gr.Button(t("generate"), variant="primary")
        with gr.Column(scale=2):
            image = gr.Image(format="png", type="pil", label=t("samples"), show_label=True, elem_id="gan-grid")
            download = gr.File(label=t("download_png"))
            gr.Markdown(t("d_note"))
    dice.click(common.random_seed, None, seed, api_visibility="private", queue=False)
    go.click(sample_gan, [pick.checkpoint, n, seed, truncation, show_d], [image, download], api_name="sample_gan")
    common.on_open(sample_gan, [pick.checkpoint, n, seed, truncation, show_d], [image, download])
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
