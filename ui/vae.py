"""Tab 4, VAE reconstruction: an input from the sketchpad, an upload or the test
set, as the model sees it (28 x 28, white on black), its reconstruction, the
error, and where it lands on a map of the test set's encodings; plus samples
from the prior."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import gradio as gr
import torch
from PIL import Image, ImageDraw, ImageFont

from aigc_models import data as data_mod
from aigc_models import provenance, sampling
from aigc_models.models import families_with
from ui import common, components, enlarge
from ui.i18n import t


def families() -> tuple[str, ...]:
    """This tab's families, from the registry: families that encode and decode."""
    return families_with("encode")


MAP_POINTS = 2000
MAP_SIZE = 440
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]

# ----------------------------------------------------------------------------- latent map


@lru_cache(maxsize=4)
def _test_encodings(path: str, stamp: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Posterior means of ``MAP_POINTS`` test images, their labels, and the 2-D projection
    (identity for a 2-D latent, else the top-2 principal axes): (mu, labels, mean, axes)."""
    model = common.load_model(path, families())
    images, labels = common.test_images(model.config.dataset, n=MAP_POINTS, seed=0)
    mu, _ = sampling.encode(model, images)
    mean = mu.mean(0)
    if mu.shape[1] == 2:
        axes = torch.eye(2)
    else:
        _, _, v = torch.pca_lowrank(mu - mean, q=2, center=False)
        axes = v[:, :2]
    return mu, labels, mean, axes


def latent_map(checkpoint: str, point: torch.Tensor) -> Image.Image:
    """Scatter of the test set's encodings coloured by class, ``point`` ``(D,)`` marked with a ring."""
    model = common.load_model(checkpoint, families())
    mu, labels, mean, axes = _test_encodings(str(checkpoint), common._weights_stamp(str(checkpoint)))
    xy = (mu - mean) @ axes
    p = (point - mean) @ axes
    lo = torch.minimum(xy.min(0).values, p)
    hi = torch.maximum(xy.max(0).values, p)
    pad = (hi - lo).clamp_min(1e-3) * 0.04
    lo, hi = lo - pad, hi + pad
    size, margin, legend_w = MAP_SIZE, 14, 120
    img = Image.new("RGB", (size + legend_w, size), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()

    def to_px(v: torch.Tensor) -> tuple[float, float]:
        u = (v - lo) / (hi - lo).clamp_min(1e-6)
        return margin + float(u[0]) * (size - 2 * margin), size - margin - float(u[1]) * (size - 2 * margin)

    for v, k in zip(xy, labels.tolist()):
        x, y = to_px(v)
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=PALETTE[k])
    x, y = to_px(p)
    draw.ellipse([x - 9, y - 9, x + 9, y + 9], outline="black", width=3)
    draw.line([x - 13, y, x + 13, y], fill="black", width=2)
    draw.line([x, y - 13, x, y + 13], fill="black", width=2)
    names = data_mod.class_names(model.config.dataset)
    for k, name in enumerate(names):
        draw.rectangle([size + 6, 10 + 16 * k, size + 16, 20 + 16 * k], fill=PALETTE[k])
        draw.text((size + 22, 9 + 16 * k), name, fill="black", font=font)
    axis = "z1, z2" if mu.shape[1] == 2 else f"PCA of {mu.shape[1]}-d latent"
    draw.text((size + 6, 10 + 16 * len(names) + 8), axis, fill="black", font=font)
    draw.text((size + 6, 10 + 16 * len(names) + 24), "+ = input", fill="black", font=font)
    return img


# ----------------------------------------------------------------------------- handlers


def reconstruct(checkpoint: str | None, drawing: Any, upload: Any, test_index: float | None,
                request: gr.Request | None = None) -> tuple[Image.Image, Image.Image, Image.Image, Image.Image | None, str]:
    """Reconstruct the drawing (when it has ink), else the upload (when given), else test image ``test_index``.

    The upload is a file path (``components.PictureUpload``) decoded by ``aigc_models.preprocess``,
    or an array / PIL image when called directly; an unreadable, empty, too large or too
    small upload is refused with one sentence rather than replaced by the test image.

    Returns:
        The input as the model sees it (28 x 28, shown enlarged), the reconstruction, the
        absolute error (brighter = worse), the latent map (None without test data) and a
        one-line summary with the squared error, in the browser's language.
    """
    zh = common.language(request) == "zh"
    model = common.load_model(checkpoint, families())
    if common.has_ink(drawing):
        x = common.to_model_input(drawing, dataset=model.config.dataset)  # (1, 1, 28, 28)
        source = "你的手绘" if zh else "your drawing"
    elif upload is not None:
        x, source = common.to_model_input(upload, dataset=model.config.dataset), "你上传的图片" if zh else "your upload"
        made = provenance.read(upload) if isinstance(upload, (str, bytes)) else None
        if made is not None:
            source += f" ({provenance.describe(made)})"
    else:
        x = common.pick_input(model.config.dataset, None, test_index)
        source = f"测试图像 #{int(test_index)}" if zh else f"test image #{int(test_index)}"
    x = model.as_input(x)  # a binarized VAE reads (and is shown) the picture in black and white
    recon = sampling.reconstruct(model, x)
    error = (recon - x).abs() - 1  # |diff| in [0, 2] shown as [-1, 1]
    mse = float(((recon - x) ** 2).mean())
    mu, _ = sampling.encode(model, x)
    try:
        point_map = latent_map(str(checkpoint), mu[0])
        note = ""
    except gr.Error as err:
        point_map, note = None, f" {err}"
    latent = [round(v, 2) for v in mu[0].tolist()[:8]]
    if getattr(model.config, "binarized", False):
        note += (" 这个 VAE 只在黑白图像上训练过：它读入的是以中灰为阈值的黑白图。" if zh else
                 " This VAE was trained on black-and-white pictures only: it reads the picture thresholded at mid-grey.")
    summary = (f"输入：{source}。均方误差（像素范围 [-1, 1]）：**{mse:.4f}**。潜变量均值：{latent}。{note}" if zh else
               f"Input: {source}. Mean squared error (pixels in [-1, 1]): **{mse:.4f}**. Latent mean: {latent}.{note}")
    big = lambda im: sampling.grid(im, nrow=1, padding=0, scale=8)  # noqa: E731
    return big(x), big(recon), big(error), point_map, summary


def open_reconstruction(checkpoint: str | None, drawing: Any, upload: Any, test_index: float | None,
                        lang: str) -> tuple[Any, ...]:
    """What the tab opens on, computed once per language (``common.on_open`` with ``speaks``)."""
    return reconstruct(checkpoint, drawing, upload, test_index, common.Browser(lang))


def prior_samples(checkpoint: str | None, n: float, seed: float, enlarge_by: Any = 1,
                  request: gr.Request | None = None) -> tuple[Image.Image, str]:
    """``n`` decoder means of latents drawn from the prior N(0, I), with ``seed``.

    Args:
        enlarge_by: 1, or 2 / 4 to show the samples upscaled by a super-resolution model (``ui.enlarge``).
    Returns:
        The grid and the path of its PNG download (provenance: checkpoint, seed, n, the upscaler).
    """
    model = common.load_model(checkpoint, families())
    n = common.check_int(n, "Number of images", 1, common.MAX_IMAGES)
    seed = common.check_int(seed, "Seed", 0, 2**31 - 1)
    lang = common.language(request)
    enlarge.checked(enlarge_by, lang)  # refused before the decoding, not after it
    images = sampling.sample(model, n, seed=seed)  # (n, 1, 28, 28) in [-1, 1]
    shown, enlarged = enlarge.enlarged(images, model.config.dataset, enlarge_by, lang)
    image = common.to_grid(shown)
    info = common.provenance_of(checkpoint, "samples from the prior", seed=seed, n=n, **enlarged)
    return image, common.save_download(image, f"vae-prior-seed{seed}", ".png", info)


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The VAE tab; returns its checkpoint picker."""
    gr.Markdown(t("vae_intro"))
    images, message = common.gallery_for("mnist")
    with gr.Row():
        with gr.Column(scale=1):
            pick = common.picker(families(), prefer=lambda info: info["config"].get("latent_dim") == 2)  # a map, not a PCA
            with gr.Row():
                sketch = components.PictureSketchpad(label=t("draw"), show_label=False, type="numpy", height=420, canvas_size=(280, 280),
                                                 elem_id="vae-sketch", elem_classes=[components.SKETCH_CLASS], scale=2)
                upload = components.PictureUpload(label=t("upload"), type="filepath", image_mode=None,
                                              sources=["upload", "clipboard"], height=420, scale=1,
                                              elem_id="vae-upload")
            gallery = gr.Gallery(images, label=t("test_images"), columns=3, height=220, allow_preview=False,
                                 elem_id="vae-gallery")
            gallery_note = gr.Markdown(message)
            index = gr.Number(0, precision=0, minimum=0, label=t("test_index"))
            go = gr.Button(t("reconstruct"), variant="primary")
        with gr.Column(scale=2):
            with gr.Row():
                # one button each: three side by side leave a projector's 1024 px too little room for the labels
                seen = gr.Image(format="png", type="pil", label=t("as_model_sees"), elem_id="vae-input", buttons=["download"])
                recon = gr.Image(format="png", type="pil", label=t("reconstruction"), elem_id="vae-recon",
                                 buttons=["download"])
                err = gr.Image(format="png", type="pil", label=t("error"), buttons=["download"])
            summary = gr.Markdown()
            point_map = gr.Image(format="png", type="pil", label=t("latent_map"))
    with gr.Accordion(t("prior_title"), open=False):
        with gr.Row():
            n = gr.Slider(1, common.MAX_IMAGES, value=64, step=1, label=t("n_images"))
            seed = gr.Number(0, precision=0, minimum=0, label=t("seed"))
            enlarge_by = enlarge.control("vae-enlarge")
            go_prior = gr.Button(t("generate"), variant="primary", elem_id="vae-prior-go")
        prior = gr.Image(format="png", type="pil", label=t("prior_samples"), elem_id="vae-prior")
        prior_file = gr.File(label=t("download_png"), elem_id="vae-prior-download")
    pick.dataset.change(common.gallery_for, pick.dataset, [gallery, gallery_note], api_visibility="private")
    outputs = [seen, recon, err, point_map, summary]
    picked = gallery.select(common.select_tile, None, [index, sketch, upload], api_visibility="private", queue=False)
    picked.then(None, js=components.SELECT_BRUSH_JS, api_visibility="private", queue=False)  # clearing the pad drops its tool
    picked.then(reconstruct, [pick.checkpoint, sketch, upload, index], outputs, api_name="reconstruct_from_gallery",
                api_visibility="private")
    go.click(reconstruct, [pick.checkpoint, sketch, upload, index], outputs, api_name="reconstruct")
    common.on_open(open_reconstruction, [pick.checkpoint, sketch, upload, index], outputs, speaks=True)
    prior_in, prior_out = [pick.checkpoint, n, seed, enlarge_by], [prior, prior_file]
    go_prior.click(prior_samples, prior_in, prior_out, api_name="vae_prior")
    enlarge.wire(enlarge_by, prior, (prior_samples, prior_in, prior_out), base="prior_samples")
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
