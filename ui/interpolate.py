"""Tab 3, latent interpolation: walk between two seeds of a GAN, cGAN or VAE,
lerp beside slerp, as strips and an animated GIF; for a VAE, walk between
two real images through the encoder."""

from __future__ import annotations

from typing import Any

import gradio as gr
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import sampling
from aigc_models.models import REGISTRY, families_with
from ui import common, components
from ui.i18n import t


def families() -> tuple[str, ...]:
    """Families whose latent walks this tab shows (from the registry)."""
    return families_with("interpolate")


def encoders() -> tuple[str, ...]:
    """Families that walk between real images through an encoder."""
    return families_with("encode")


OPEN_SEEDS = (0, 5)  # on the shipped mnist-dcgan a 6 and a 1 (classifier confidence 1.00 each): the walk shows a change

# ----------------------------------------------------------------------------- handlers


def _strips_and_gif(lerp: torch.Tensor, slerp: torch.Tensor, stem: str,
                    info: dict[str, Any] | None = None) -> tuple[Image.Image, Image.Image, str]:
    """Two one-row strips and one GIF playing lerp (left) beside slerp (right), with provenance ``info``."""
    pairs = torch.cat([lerp, slerp], dim=3)  # (S, 1, 28, 56)
    gif = sampling.gif_bytes(pairs, scale=5)
    n = len(lerp)
    return (common.to_grid(lerp, nrow=n), common.to_grid(slerp, nrow=n),
            common.save_download(gif, stem, ".gif", info))


def interpolate_seeds(checkpoint: str | None, seed_a: float, seed_b: float, steps: float,
                      class_name: str | None) -> tuple[Image.Image, Image.Image, str]:
    """Images along lerp and slerp paths between two seeds' latents.

    Args:
        checkpoint: a GAN, cGAN or VAE checkpoint (a VAE decodes prior latents).
        seed_a, seed_b: the two ends, 0..2**31-1.
        steps: images per path, 2..32.
        class_name: the fixed class for a cGAN (ignored otherwise).
    Returns:
        The lerp strip, the slerp strip (PNG-ready) and the path of a GIF of both.
    """
    model = common.load_model(checkpoint, families())
    a = common.check_int(seed_a, "Seed A", 0, 2**31 - 1)
    b = common.check_int(seed_b, "Seed B", 0, 2**31 - 1)
    steps = common.check_int(steps, "Steps", 2, 32)
    label = common.class_index(model.config.dataset, class_name) if model.num_classes else None
    lerp, slerp = (sampling.interpolate(model, seed_a=a, seed_b=b, steps=steps, method=m, label=label)
                   for m in ("lerp", "slerp"))
    info = common.provenance_of(checkpoint, "interpolation (lerp left, slerp right)", seed=f"{a} -> {b}", steps=steps,
                                **({"class": class_name} if label is not None else {}))
    return _strips_and_gif(lerp, slerp, f"interp-{a}-{b}", info)


def interpolate_real(checkpoint: str | None, drawing_a: Any, index_a: float, drawing_b: Any,
                     index_b: float, steps: float) -> tuple[Image.Image, Image.Image, str]:
    """A VAE walk between two real images through the encoder's means.

    Each end is the drawing/upload when it has content, else that test image number.
    Returns the lerp strip, the slerp strip and the path of a GIF of both.
    """
    model = common.load_model(checkpoint, encoders())
    dataset = model.config.dataset
    a = common.pick_input(dataset, drawing_a, index_a)[0]
    b = common.pick_input(dataset, drawing_b, index_b)[0]
    steps = common.check_int(steps, "Steps", 2, 32)
    lerp, slerp = (sampling.interpolate_images(model, a, b, steps=steps, method=m) for m in ("lerp", "slerp"))
    info = common.provenance_of(checkpoint, "interpolation between two real images", steps=steps)
    return _strips_and_gif(lerp, slerp, "interp-real", info)


def class_visibility(checkpoint: str | None, dataset: str) -> dict[str, Any]:
    """Show the class dropdown only for a cGAN, listing ``dataset``'s classes."""
    name = common.family_of(checkpoint)
    conditional = name is not None and REGISTRY[name].can("condition")
    names = list(data_mod.class_names(common.check_dataset(dataset)))
    return gr.update(visible=conditional, choices=names, value=names[0])


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The interpolation tab; returns its two checkpoint pickers."""
    gr.Markdown(t("interp_intro"))
    with gr.Row():
        with gr.Column(scale=1):
            # opens on an unconditional GAN: two seeds then give two different digits
            pick = common.picker(families(), prefer=lambda info: not REGISTRY[info["family"]].can("condition"))
            opening = class_visibility(pick.checkpoint.value, "mnist")
            cls = gr.Dropdown(opening["choices"], value=opening["value"], label=t("class"),
                              visible=opening["visible"], allow_custom_value=True, elem_id="interp-class")
            with gr.Row():
                seed_a = gr.Number(OPEN_SEEDS[0], precision=0, minimum=0, label=t("seed_a"))
                seed_b = gr.Number(OPEN_SEEDS[1], precision=0, minimum=0, label=t("seed_b"))
            dice = gr.Button(t("random_seeds"), size="sm")
            steps = gr.Slider(2, 32, value=10, step=1, label=t("steps"))
            go = gr.Button(t("interpolate"), variant="primary")
        with gr.Column(scale=2):
            # the label and buttons above the strip (app.CSS), not over its first and last frames
            lerp = gr.Image(format="png", type="pil", label="lerp", elem_id="interp-lerp", elem_classes=["below-label"])
            slerp = gr.Image(format="png", type="pil", label="slerp", elem_id="interp-slerp", elem_classes=["below-label"])
            gif = gr.File(label=t("download_gif"))
            gr.Markdown(t("slerp_note"))
    with gr.Accordion(t("vae_real_title"), open=False) as real_images:
        gr.Markdown(t("vae_real_intro"))
        with gr.Row():
            vae_pick = common.picker(encoders(), label_key="vae_checkpoint")
            steps_r = gr.Slider(2, 32, value=10, step=1, label=t("steps"))
        with gr.Row():
            with gr.Column():
                draw_a = components.PictureSketchpad(label=t("image_a"), type="numpy", height=220, canvas_size=(280, 280),
                                                  elem_classes=[components.SKETCH_CLASS])
                index_a = gr.Number(0, precision=0, minimum=0, label=t("test_index_a"))
            with gr.Column():
                draw_b = components.PictureSketchpad(label=t("image_b"), type="numpy", height=220, canvas_size=(280, 280),
                                                  elem_classes=[components.SKETCH_CLASS])
                index_b = gr.Number(1, precision=0, minimum=0, label=t("test_index_b"))
        go_r = gr.Button(t("interpolate"), variant="primary")
        with gr.Row():
            lerp_r = gr.Image(format="png", type="pil", label="lerp")
            slerp_r = gr.Image(format="png", type="pil", label="slerp")
        gif_r = gr.File(label=t("download_gif"))
    real_images.expand(None, js=components.SELECT_BRUSH_JS, api_visibility="private", queue=False)
    pick.checkpoint.change(class_visibility, [pick.checkpoint, pick.dataset], cls, api_visibility="private",
                           queue=False)
    dice.click(lambda: (common.random_seed(), common.random_seed()), None, [seed_a, seed_b],
               api_visibility="private", queue=False)
    go.click(interpolate_seeds, [pick.checkpoint, seed_a, seed_b, steps, cls], [lerp, slerp, gif],
             api_name="interpolate")
    common.on_open(interpolate_seeds, [pick.checkpoint, seed_a, seed_b, steps, cls], [lerp, slerp, gif])
    go_r.click(interpolate_real, [vae_pick.checkpoint, draw_a, index_a, draw_b, index_b, steps_r],
               [lerp_r, slerp_r, gif_r], api_name="interpolate_real")
    return [pick, vae_pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
