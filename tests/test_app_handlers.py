"""The app's handlers called as plain functions, on tiny checkpoints (no server, no browser)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np

import pytest
import torch
from PIL import Image

from app_helpers import REPO


@pytest.fixture(autouse=True)
def env(app_environment: None) -> None:
    """Every test here runs with the app's environment (conftest.app_environment)."""


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def drawing(background: int = 255, ink: int = 0) -> np.ndarray:
    """A 280 x 280 RGBA 'sketch' of a vertical stroke, off-centre."""
    canvas = np.full((280, 280, 4), 255, np.uint8)
    canvas[..., :3] = background
    canvas[40:160, 30:60, :3] = ink
    return canvas


# ----------------------------------------------------------------------------- common


def test_discovery_lists_tiny_checkpoints_by_family_and_dataset(ck):
    from ui import common

    gans = [key for _, key in common.checkpoint_choices("mnist", common.gan_families())]
    shipped = [key for key in gans if not key.startswith(common.RUN_PREFIX)]  # other tests may add runs
    assert shipped == ["mnist-dcgan", "mnist-mlp-gan"] == gans[:2]  # names, never server paths
    assert [k for _, k in common.checkpoint_choices("fashion-mnist", common.gan_families())
            if not k.startswith(common.RUN_PREFIX)] == []
    assert common.find_checkpoint("mnist-dcgan")["path"] == ck("mnist-dcgan")
    assert common.classifier_path("mnist") == ck("mnist-classifier")


def test_sketch_becomes_white_on_black_and_centred():
    from ui.common import to_model_input

    x = to_model_input({"composite": drawing()})
    assert x.shape == (1, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert x[0, 0, 0, 0] == -1  # background black
    ys, xs = torch.nonzero(x[0, 0] > 0, as_tuple=True)
    assert 10 <= ys.float().mean() <= 17 and 10 <= xs.float().mean() <= 17  # centred
    inverted = to_model_input(drawing(background=0, ink=255))  # already white on black
    assert torch.allclose(x, inverted, atol=0.05)
    transparent = np.zeros((100, 100, 4), np.uint8)
    transparent[20:80, 45:55] = (0, 0, 0, 255)  # black ink on a transparent layer
    assert to_model_input(transparent)[0, 0, 14, 14] > 0.5
    with pytest.raises(gr.Error, match="empty"):
        to_model_input(np.full((50, 50, 3), 255, np.uint8))
    with pytest.raises(gr.Error, match="No image"):
        to_model_input(None)


# ----------------------------------------------------------------------------- GAN tab


def test_gan_grid_is_png_sized_and_seeded(ck):
    from ui.gan import sample_gan

    a, path = sample_gan(ck("mnist-dcgan"), 16, 7, 0, False)
    b, _ = sample_gan(ck("mnist-dcgan"), 16, 7, 0, False)
    c, _ = sample_gan(ck("mnist-dcgan"), 16, 8, 0, False)
    assert a.mode == "L" and a.size[0] == a.size[1] and a.size[0] % (4 * 30 + 2) == 0
    assert png_bytes(a) == png_bytes(b) != png_bytes(c)
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captioned, _ = sample_gan(ck("mnist-mlp-gan"), 5, 1, 1.5, True)
    assert captioned.mode == "RGB"


@pytest.mark.parametrize("args, message", [
    ((None, 4, 0, 0, False), "Pick a"),
    (("mnist-dcgan", 0, 0, 0, False), "between 1 and 256"),
    (("mnist-dcgan", 4, -1, 0, False), "Seed"),
    (("mnist-dcgan", 4, 1.5, 0, False), "whole number"),
    (("mnist-dcgan", 4, 0, 9, False), "Truncation"),
    (("mnist-vae", 4, 0, 0, False), "needs"),
    (("/etc", 4, 0, 0, False), "not one of this app's checkpoints"),
])
def test_gan_bad_inputs_say_what_is_wrong(ck, args, message):
    from ui.gan import sample_gan

    path = ck(args[0]) if args[0] and not args[0].startswith("/") else args[0]
    with pytest.raises(gr.Error, match=message):
        sample_gan(path, *args[1:])


# ----------------------------------------------------------------------------- cGAN tab


def test_cgan_one_class_rows_and_morph(ck):
    from ui.cgan import morph_classes, sample_classes

    one, _ = sample_classes(ck("mnist-cgan"), "7", "one", 9, 0)
    rows, _ = sample_classes(ck("mnist-cgan"), "7", "all", 3, 0)
    assert one.size[0] == one.size[1]
    assert rows.size[1] > rows.size[0]  # 10 rows of 3
    strip, gif = morph_classes(ck("mnist-cgan"), "1", "7", 6, 0)
    assert strip.size[0] > 5 * strip.size[1]
    assert Path(gif).read_bytes()[:6] == b"GIF89a"
    with pytest.raises(gr.Error, match="Unknown class"):
        sample_classes(ck("mnist-cgan"), "Sneaker", "one", 2, 0)


# ----------------------------------------------------------------------------- interpolation tab


@pytest.mark.parametrize("name", ["mnist-mlp-gan", "mnist-cgan", "mnist-vae"])
def test_interpolation_lerp_and_slerp(ck, name):
    from ui.interpolate import interpolate_seeds

    lerp, slerp, gif = interpolate_seeds(ck(name), 1, 2, 8, "3")
    assert lerp.size == slerp.size and lerp.size[0] > 7 * lerp.size[1]
    assert png_bytes(lerp) != png_bytes(slerp)
    assert Image.open(gif).n_frames > 8  # bounces back


def test_vae_interpolation_between_a_drawing_and_a_test_image(ck):
    from ui.interpolate import interpolate_real

    lerp, slerp, gif = interpolate_real(ck("mnist-vae"), drawing(), 0, None, 3, 5)
    assert lerp.size == slerp.size
    with pytest.raises(gr.Error, match="Test image number"):
        interpolate_real(ck("mnist-vae"), None, 10**6, None, 0, 5)


# ----------------------------------------------------------------------------- VAE tab


@pytest.mark.parametrize("name", ["mnist-vae", "mnist-vae4"])
def test_vae_reconstruction_error_and_latent_map(ck, name):
    from ui.vae import prior_samples, reconstruct

    seen, recon, err, latent_map, summary = reconstruct(ck(name), {"composite": drawing()}, None, 0)
    assert seen.size == recon.size == err.size == (224, 224)
    assert latent_map is not None and latent_map.size[0] > 400
    assert "squared error" in summary
    from_test = reconstruct(ck(name), None, None, 5)[0]
    uploaded = reconstruct(ck(name), None, drawing(), 5)[0]
    assert png_bytes(uploaded) == png_bytes(seen)
    assert png_bytes(from_test) != png_bytes(seen)
    grid, png = prior_samples(ck(name), 9, 0)
    assert grid.size[0] > 0 and Image.open(png).size == grid.size


def test_a_binarized_vae_reads_and_shows_the_picture_in_black_and_white(ck):
    """A binarized VAE never saw a grey pixel in training: the tab thresholds the input at mid-grey,
    encodes that, and shows it as the input the model sees (a grey VAE keeps the grey levels)."""
    from aigc_models.checkpoints import save_checkpoint
    from aigc_models.models import build_model
    from ui.vae import reconstruct

    folder = Path(ck("mnist-vae")).parent / "mnist-vae-binarized-tiny"
    torch.manual_seed(0)
    save_checkpoint(build_model("vae", dataset="mnist", latent_dim=4, channels=8, binarized=True), folder)
    try:
        seen, recon, _, _, summary = reconstruct(str(folder), None, None, 5)
        assert set(np.unique(np.asarray(seen)).tolist()) == {0, 255} and "black-and-white" in summary
        grey = np.asarray(reconstruct(ck("mnist-vae"), None, None, 5)[0])
        assert len(np.unique(grey)) > 2  # the same test image, in grey, for a VAE trained on grey images
        assert np.array_equal(np.asarray(seen) == 255, grey > 127)  # threshold at mid-grey
    finally:
        shutil.rmtree(folder)


def test_vae_gallery_selection_uses_the_test_image():
    from ui.common import gallery_for

    images, message = gallery_for("mnist")
    assert len(images) == 24 and message == ""


# ----------------------------------------------------------------------------- augmentation tab


def test_augmentation_preview_is_seeded_and_changes_images():
    from ui.augment import preview_augment

    a = preview_augment("mnist", 8, 1.0, 3)
    b = preview_augment("mnist", 8, 1.0, 3)
    assert [png_bytes(x) for x in a[:3]] == [png_bytes(x) for x in b[:3]]
    assert png_bytes(a[0]) != png_bytes(a[1]) and png_bytes(a[0]) != png_bytes(a[2])
    none = preview_augment("mnist", 8, 0.0, 3)
    assert png_bytes(none[0]) == png_bytes(none[1]) == png_bytes(none[2])


def test_vae_summary_speaks_the_pages_language(ck):
    from ui import common, vae

    english = vae.reconstruct(ck("mnist-vae"), None, None, 3)[4]
    chinese = vae.reconstruct(ck("mnist-vae"), None, None, 3, common.Browser("zh"))[4]
    assert english.startswith("Input: test image #3. Mean squared error") and "Latent mean" in english
    assert chinese.startswith("输入：测试图像 #3。均方误差") and "潜变量均值" in chinese
    assert vae.open_reconstruction(ck("mnist-vae"), None, None, 3, "zh")[4] == chinese


def test_augmentation_note_speaks_the_pages_language():
    from ui import augment, common

    assert augment.preview_augment("mnist", 4, 1.0, 2)[3] == "4 test images of mnist, strength 1, seed 2."
    chinese = augment.preview_augment("mnist", 4, 1.0, 2, common.Browser("zh"))
    assert chinese[3] == "4 张 mnist 测试图像，强度 1，种子 2。"
    assert augment.open_preview("mnist", 4, 1.0, 2, "zh")[3] == chinese[3]  # what the Chinese page opens on


def test_missing_dataset_is_one_sentence_and_the_rest_works(ck, monkeypatch):
    from aigc_models import data as data_mod
    from ui import augment, common, gan, vae

    def unavailable(*args, **kwargs):
        raise data_mod.DatasetUnavailableError("offline")

    monkeypatch.setattr(data_mod, "load_split", unavailable)
    originals, classic, diff, note = augment.preview_augment("mnist", 4, 1.0, 0)
    assert originals is None and "not available" in note and note.count(". ") <= 1
    images, message = common.gallery_for("mnist")
    assert images == [] and "not available" in message
    vae._test_encodings.cache_clear()
    seen, recon, err, latent_map, summary = vae.reconstruct(ck("mnist-vae"), {"composite": drawing()}, None, 0)
    assert latent_map is None and "not available" in summary
    assert gan.sample_gan(ck("mnist-dcgan"), 4, 0, 0, False)[0] is not None
    with pytest.raises(gr.Error, match="not available"):
        common.test_image("mnist", 0)


# ----------------------------------------------------------------------------- train tab


def test_training_streams_stops_saves_and_is_selectable(root):
    from ui import common, train

    run = train.train_model("mlp-gan", "mnist", 100_000, 16, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", True, 0.9, 0, "handler-run")
    updates, stopped = [], False
    for out in run:
        updates.append(out)
        if len(updates) >= 4 and out[1] is not None and not stopped:  # streaming, with losses logged
            assert "Stopping" in train.stop_training(None)
            stopped = True
    status, losses, scores, grid, hist, warning, saved, run_id = updates[-1]
    assert len(updates) >= 4 and "stopped" in status
    assert set(losses.series) == {"loss_d", "loss_g"} and set(scores.series) == {"d_real", "d_fake"}
    assert grid is not None and grid.size[0] > 200
    assert saved == "runs/handler-run" and (root / "runs" / "handler-run" / "README.md").exists()
    assert str(root) not in status  # the run is named, never its server path
    assert saved in [key for _, key in common.checkpoint_choices("mnist", common.gan_families())]
    assert run_id and "already ended" in train.stop_training(run_id)
    assert train.stop_training(None).startswith("Nothing to stop")


def test_training_form_starts_from_the_shipped_recipe(root):
    from aigc_models.checkpoints import read_meta
    from ui import train

    batch, lr_g, lr_d, lr, beta1, beta2, loss, ema, note = train.recipe_form("dcgan", "fashion-mnist")
    assert (batch, lr_g, lr_d, loss, beta1) == (64, 2e-3, 2e-3, "hinge", 0.5)
    assert "fashion-mnist-dcgan" in note and "`d_stages=3`" in note
    assert ema == 0.0 and "EMA 0.999" in note  # off, so that the live grid moves from the first steps
    assert train.recipe_form("vae", "mnist")[0::4] == (128, 0.9, "Settings of the shipped `mnist-vae`; the model: `latent_dim=16`.")
    cfg = train.make_config("dcgan", "fashion-mnist", 10, batch, lr_g, lr_d, lr, beta1, beta2, loss, False, ema, 0, "x")
    shipped = read_meta("fashion-mnist-dcgan")["config"]
    assert cfg.model_options and all(shipped[k] == v for k, v in cfg.model_options.items())
    with pytest.raises(gr.Error, match="Unknown model"):
        train.recipe_form("stylegan", "mnist")


def test_training_form_is_checked(root):
    from ui import train

    args = ["mlp-gan", "mnist", 10, 16, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", False, 0.0, 0]
    with pytest.raises(gr.Error, match="Run name"):
        next(train.train_model(*args, "../escape"))
    with pytest.raises(gr.Error, match="batch_size must be a whole number between 1 and 4096"):
        next(train.train_model(*args[:3], 0, *args[4:], ""))
    with pytest.raises(gr.Error, match="beta1"):
        next(train.train_model(*args[:7], 1.5, *args[8:], ""))
    with pytest.raises(gr.Error, match="off on this server"):
        train.push_to_hub("model")


def test_training_on_a_few_images_from_the_train_tab(root):
    """The form's subset reaches the run (the status names it, the saved record keeps it) and a
    subset below one image per class is refused with the library's sentence."""
    from aigc_models.checkpoints import read_meta
    from ui import train

    args = ["dcgan", "fashion-mnist", 6, 8, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", False, 0.0, 3]
    try:
        updates = list(train.train_model(*args, "few-shot", "", 100))
        status, saved = updates[0][0], updates[-1][6]
        assert "(100 images)" in status and saved == "runs/few-shot"
        assert read_meta(root / "runs" / "few-shot")["training"]["train_config"]["subset"] == 100
    finally:  # other tests list the runs folder's Fashion-MNIST GANs
        shutil.rmtree(root / "runs" / "few-shot", ignore_errors=True)
    assert train.make_config(*args, "x").subset == 0  # the form's default: the whole split
    with pytest.raises(gr.Error, match=r"subset \(0 = all\) must be 0 or at least 10"):
        next(train.train_model(*args, "few-shot-bad", "", 5))


def test_collapse_warning_in_plain_words_from_the_evaluators_verdict():
    from aigc_models import metrics
    from ui.train import collapse_warning, histogram_frame

    names = tuple(str(d) for d in range(10))
    assert "mode collapse" in collapse_warning([0.7, 0.3] + [0.0] * 8, names, 100)
    assert "no sign" in collapse_warning([0.1] * 10, names, 100)
    assert metrics.collapse_verdict([0.7, 0.3] + [0.0] * 8)["collapsing"]
    assert not metrics.collapse_verdict([0.1] * 10)["collapsing"]
    assert metrics.collapse_verdict([0.41] + [0.59 / 9] * 9)["collapsing"]  # one class over COLLAPSE_TOP_SHARE
    frame = histogram_frame([0.1] * 10, ("T-shirt/top", "Trouser", *names[2:]))
    assert list(frame["class"])[:3] == ["0 T-shirt/top", "1 Trouser", "2"] and frame["share"].sum() == pytest.approx(1)


# ----------------------------------------------------------------------------- boundaries


def test_the_package_never_imports_gradio():
    code = ("import sys, aigc_models.training, aigc_models.sampling, aigc_models.metrics, aigc_models.cli;"
            "sys.exit('gradio' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_app_module_sets_offline_launch_options():
    text = (REPO / "app.py").read_text()
    assert text.index("GRADIO_ANALYTICS_ENABLED") < text.index("import gradio")
    assert "share=False" in text and "max_file_size" in text and "delete_cache" in text
    assert "GoogleFont" not in text


def test_loss_plots_start_with_a_real_frame_with_numeric_axes():
    """Gradio's plot fixes its colour legend and scale types from the first value it gets:
    an empty first frame drew every line without a colour and a categorical loss axis.
    So the plots get None until the first step, then typed frames with every series."""
    from aigc_models.training import Step, TrainConfig
    from ui.train import LiveView

    view = LiveView(TrainConfig(model="mlp-gan"), "unused")
    assert view.plots() == (None, None)
    view.update(Step(step=10, total_steps=100, losses={"loss_d": 1.2, "loss_g": 0.7, "d_real": 0.6, "d_fake": 0.4},
                     images_per_second=100.0, elapsed=1.0, eta=9.0))
    losses, scores = view.plots()
    assert sorted(losses.series) == ["loss_d", "loss_g"] and sorted(scores.series) == ["d_fake", "d_real"]
    plot = gr.LinePlot(x="step", y="value", color="series")
    for frame in (losses, scores):
        assert plot.postprocess(frame).datatypes == {"step": "quantitative", "value": "quantitative", "series": "nominal"}


def test_every_picture_tab_opens_on_content_and_an_unusable_default_stays_quiet(app_environment):
    import app
    from ui import common
    from ui.errors import UserError

    opened = {fn.__name__ for fn, _, _ in common.ON_OPEN}
    assert {"sample_gan", "sample_classes", "morph_classes", "interpolate_seeds", "open_reconstruction",
            "open_preview"} <= opened
    loads = [d for d in app.demo.fns.values() if any(t[1] == "load" for t in d.targets)]
    assert len(loads) >= len(common.ON_OPEN)

    def refuses(*args):
        raise UserError("no checkpoint here")

    quiet = common.quietly(refuses, 2)
    assert all(isinstance(v, dict) and v.get("__type__") == "update" for v in quiet("x"))  # gr.skip(): nothing changes
    calls = []
    remembered = common.remembered(lambda a, b: calls.append((a, b)) or a + b)
    assert remembered(1, 2) == remembered(1, 2) == 3 and calls == [(1, 2)]


def test_a_class_opening_the_page_at_once_computes_each_opening_result_once():
    import threading

    from ui import common

    calls, started, release = [], threading.Event(), threading.Event()

    def slow(a: int) -> int:
        calls.append(a)
        started.set()
        release.wait(60)
        return a * 2

    remembered = common.remembered(slow)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(remembered(21))) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.wait(60)
    release.set()  # the first call returns; the seven others waited for it and get its result
    for thread in threads:
        thread.join(60)
    assert results == [42] * 8 and calls == [21]


# ----------------------------------------------------------------------------- sections


def parents(layout: dict, wanted: int, chain: tuple[int, ...] = ()) -> tuple[int, ...] | None:
    """The component ids from the page's root down to ``wanted`` in /config's layout tree."""
    if layout.get("id") == wanted:
        return chain
    for child in layout.get("children", []):
        found = parents(child, wanted, (*chain, layout.get("id")))
        if found is not None:
            return found
    return None


def tab_items(config: dict) -> dict[str, dict]:
    return {c["props"]["id"]: c for c in config["components"] if c["type"] == "tabitem" and c["props"].get("id")}


def test_tabs_are_grouped_into_sections_and_keep_their_ids(app_environment):
    import app
    from ui import about, augment, cgan, diffusion, gan, interpolate, train, vae

    modules = [module for _, _, module in app.TABS]
    assert len(set(modules)) == len(modules) and {gan, cgan, diffusion, interpolate, vae, augment, train, about} <= set(modules)
    assert len({key for _, key, _ in app.TABS}) == len(app.TABS)  # ids are unique
    config = app.demo.get_config_file()
    items = tab_items(config)
    for section, tabs in app.sections():
        for key, _ in tabs:
            assert items[key]["props"]["elem_id"] == key  # the ids tests and scripts know stay
            chain = parents(config["layout"], items[key]["id"])
            inside = [i for i in chain if i in {c["id"] for c in items.values()}]
            if len(tabs) == 1:  # a section of one tab is that tab, at the top
                assert inside == []
            else:
                assert inside == [items[section]["id"]]
    order = [s for s, _ in app.sections()]
    assert [s for s in order if s in ("section_generate", "section_explore", "section_train", "section_lessons",
                                      "section_about")] == ["section_generate", "section_explore", "section_train",
                                                            "section_lessons", "section_about"]
    assert [k for k, _ in dict(app.sections())["section_generate"]][:3] == ["tab_gan", "tab_cgan", "tab_diffusion"]
    assert any(len(tabs) == 1 for _, tabs in app.sections()) and any(len(tabs) > 1 for _, tabs in app.sections())


def test_opening_a_section_refreshes_every_picker_in_it_and_picks_the_brush(app_environment):
    import app
    from ui import common, components

    items = tab_items(app.demo.get_config_file())

    def on_select(key: str) -> list:
        return [d for d in app.demo.fns.values() if (items[key]["id"], "select") in [tuple(t) for t in d.targets]]

    refreshes = {}
    for key, pickers in (("section_generate", 4), ("section_explore", 3), ("tab_diffusion", 1), ("tab_interp", 2),
                         ("tab_vae", 1), ("tab_train", 0), ("tab_aug", 0)):
        events = on_select(key)
        assert any(d.js == components.SELECT_BRUSH_JS for d in events), key  # nested tabs pick the brush too
        refresh = [d for d in events if d.fn is not None]
        assert len(refresh) == (1 if pickers else 0), key
        if pickers:
            assert len(refresh[0].outputs) == pickers and len(refresh[0].inputs) == 2 * pickers
            refreshes[key] = refresh[0].fn
    gan, cgan, diffusion, pixelcnn = refreshes["section_generate"](*["mnist", None] * 4)
    assert [k for _, k in gan["choices"]] == [k for _, k in common.checkpoint_choices("mnist", common.gan_families())]
    assert gan["value"] == "mnist-dcgan" and cgan["value"] == "mnist-cgan" and "choices" in diffusion
    assert "choices" in pixelcnn


def test_adding_a_tab_is_one_line(app_environment, monkeypatch):
    import types

    import app
    import gradio as gr

    toy = types.ModuleType("toy_tab")
    toy.build_tab = lambda: [gr.Markdown("a toy tab", elem_id="toy-text")][:0]
    monkeypatch.setattr(app, "TABS", [*app.TABS, ("section_lessons", "tab_toy", toy)])
    config = app.build_app().get_config_file()
    items = tab_items(config)
    lessons = items["section_lessons"]["id"]  # the one-tab section now nests its two tabs
    assert parents(config["layout"], items["tab_toy"]["id"])[-2:] == parents(config["layout"], items["tab_aug"]["id"])[-2:]
    assert lessons in parents(config["layout"], items["tab_toy"]["id"])
    assert "tab_aug" in items and items["tab_aug"]["props"]["elem_id"] == "tab_aug"


# ----------------------------------------------------------------------------- failure presets (Train tab)


def test_a_failure_preset_fills_the_form_in_the_page_language():
    from types import SimpleNamespace

    from ui import train

    zh = SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"})
    family, steps, batch, lr_g, lr_d, lr, beta1, beta2, loss, ema, note, text = train.preset_form(
        "learning-rate-too-high", "dcgan", "mnist")
    assert (family, steps, lr_g, lr_d, beta1, beta2) == ("mlp-gan", 1000, 0.5, 0.5, 0.5, 0.999)
    assert "Preset `learning-rate-too-high`" in note and text.startswith("**Learning rate far too high.**")
    assert "Watch for:" in text
    assert train.preset_form("learning-rate-too-high", "dcgan", "mnist", zh)[-1].startswith("**学习率过高。**")
    docs = train.preset_form("documents-as-written", "mlp-gan", "mnist")
    assert docs[6:8] == (0.9, 0.999) and "real images in [0, 1]" in docs[10]
    # none: the model's shipped recipe back, the text cleared, the model and steps left as they are
    none = train.preset_form("", "dcgan", "mnist")
    assert none[0] == "dcgan" and none[2:11] == train.recipe_form("dcgan", "mnist") and none[-1] == ""
    with pytest.raises(gr.Error, match="Unknown preset"):
        train.preset_form("nope", "dcgan", "mnist")


def test_changing_the_model_clears_the_preset_and_the_dataset_keeps_it():
    from ui import train

    kept = train.recipe_or_preset("mlp-gan", "fashion-mnist", "learning-rate-too-high")
    assert kept[-1] == "learning-rate-too-high" and kept[1:3] == (0.5, 0.5)
    cleared = train.recipe_or_preset("dcgan", "mnist", "learning-rate-too-high")
    assert cleared[-1] == "" and cleared[:-1] == train.recipe_form("dcgan", "mnist")


def test_a_preset_run_from_the_train_tab_names_its_symptom(root):
    """The preset's settings the form cannot show (no dropout in D) reach the run, and the warning
    box says when the symptom shows; a preset with another model is refused."""
    from aigc_models.checkpoints import read_meta
    from ui import train

    args = ["mlp-gan", "mnist", 220, 32, 2e-5, 2e-3, 1e-3, 0.5, 0.999, "ns", False, 0.0, 0]
    cfg = train.make_config(*args, "x", 0, "d-much-faster-than-g")
    assert cfg.model_options["d_dropout"] == 0.0 and (cfg.lr_g, cfg.lr_d) == (2e-5, 2e-3)
    assert train.make_config(*args, "x", 0, "documents-as-written").reals_in_unit
    mirrored = train.preset_form("reals-only-augmentation", "mlp-gan", "mnist")
    assert mirrored[0] == "cgan" and "the real images flipped, rotated" in mirrored[10]
    cgan_args = ["cgan", *args[1:]]
    assert train.make_config(*cgan_args, "x", 0, "reals-only-augmentation").real_augment
    assert not train.make_config(*cgan_args, "x", 0, "").real_augment
    with pytest.raises(gr.Error, match="trains the mlp-gan model, not dcgan"):
        train.make_config("dcgan", *args[1:], "x", 0, "d-much-faster-than-g")
    try:
        updates = list(train.train_model(*args, "preset-run", "", 0, "d-much-faster-than-g"))
        warnings = [u[5] for u in updates]
        assert "watching for the symptom (d-ahead)" in warnings[0]
        assert "**Symptom seen — D learns far faster than G:** at step" in warnings[-1]
        assert read_meta(root / "runs" / "preset-run")["config"]["d_dropout"] == 0.0
    finally:
        shutil.rmtree(root / "runs" / "preset-run", ignore_errors=True)


def test_the_live_view_names_the_symptom_and_the_collapse_in_chinese():
    from aigc_models.presets import preset_config
    from aigc_models.training import Done, Metrics
    from ui import train

    view = train.LiveView(preset_config("learning-rate-too-high"), "x", "learning-rate-too-high", "zh")
    assert view.outputs()[5] == "**学习率过高**：正在留意症状（diverges）…"
    view.update(Metrics(300, {"class_histogram": [1.0] + [0.0] * 9}))
    assert view.outputs()[5].endswith("**警告（第 300 步）：** 100% 的新样本看起来像“0”，10 个类别中只出现 1 个。生成器正在收缩到少数几种"
                                      "图像（模式崩溃）。训练早期这很正常；如果持续下去，试试 DiffAugment、更低的学习率或 hinge 损失。")
    view.update(Done(520, 10.0, "diverged", None, "Training stopped at step 520: the discriminator wins outright "
                                                  "(mean D(real) 1.000), so the generator gets no useful signal."))
    assert view.outputs()[5].startswith("**出现症状 — 学习率过高：** 训练在第 520 步自行停止：判别器完全获胜。")
    english = train.LiveView(preset_config("learning-rate-too-high"), "x", "learning-rate-too-high")
    english.update(Done(520, 10.0, "diverged", None, "Training stopped at step 520: loss_d became NaN or infinite, so x"))
    assert english.outputs()[5].startswith("**Symptom seen — Learning rate far too high:** the run stopped by itself at "
                                           "step 520: loss_d became NaN or infinite.")


def test_why_a_run_diverged_is_said_in_the_page_language_without_a_server_path():
    from aigc_models.training import Done
    from ui import train

    d_wins = Done(520, 10.0, "diverged", "/srv/app/runs/r1", "Training stopped at step 520: the discriminator ...",
                  {"cause": "d_wins", "d_real": 0.9996, "d_fake": 0.0004, "for_steps": 500, "at_step": 520,
                   "kept_step": 500})
    zh = train.LiveView(train.TrainConfig(), "x", "", "zh")
    zh.update(d_wins)
    status, warning = zh.outputs()[0], zh.outputs()[5]
    assert status.startswith("**训练在 520 步、10 秒后停止。** 训练在第 520 步停止：判别器完全获胜（最近 500 步里平均 D(真实) 1.000")
    assert status.endswith("最后一个正常的检查点（第 500 步）保存为 runs/r1。") and "/srv" not in status + warning
    assert warning.startswith("**训练停止的原因：**")
    nan = Done(12, 3.0, "diverged", None, "Training diverged at step 12: ...",
               {"cause": "nan", "what": "weights", "at_step": 12, "save_every": 1000})
    assert train.diverged_message(nan, None, "zh").startswith("训练在第 12 步发散：权重变成了 NaN 或无穷大")
    assert train.diverged_message(nan, None, "en") == (
        "Training diverged at step 12: the weights became NaN or infinite, so the weights are no longer usable and were "
        "not saved. Try lower learning rates (lr_g and lr_d around 2e-4, lr around 1e-3 for a VAE), Adam beta1 0.5, or "
        "the hinge loss. No checkpoint was saved: the run went wrong before its first save (every 1,000 steps).")
    plain = Done(3, 1.0, "diverged", None, "Something else went wrong.")  # no facts: the trainer's sentence
    assert train.diverged_message(plain, None, "zh") == "Something else went wrong."


def test_the_live_views_status_lines_follow_the_page_language():
    from aigc_models.training import Done, Started, Step, TrainConfig
    from ui import train

    cfg = TrainConfig(model="dcgan", subset=100).validate()
    lines = {}
    for lang in ("en", "zh"):
        view = train.LiveView(cfg, "x", lang=lang)
        said = [view.status]
        view.update(Started(cfg, "CPU (2 threads)", 1234))
        said.append(view.status)
        view.update(Step(40, 2000, {"loss_d": 1.0}, 512.0, 3.2, 150.0))
        said.append(view.status)
        view.saved = "runs/demo"
        view.update(Done(2000, 160.0, "time", None))
        said.append(view.status)
        lines[lang] = said
    assert lines["en"] == ["Starting…", "Training **dcgan** on **mnist** (100 images) · CPU (2 threads) · 1,234 parameters",
                           "Step **40 / 2,000** · **512 images/s** · elapsed 3 s · about **150 s left**",
                           "The run reached the time limit after 2,000 steps in 160 s. Saved as `runs/demo`: pick it in "
                           "the other tabs."]
    assert lines["zh"] == ["正在启动…", "正在训练 **dcgan**，数据集 **mnist**（100 张图像） · CPU（2 个线程） · 1,234 个参数",
                           "第 **40 / 2,000** 步 · **每秒 512 张图像** · 已用 3 秒 · 约剩 **150 秒**",
                           "训练达到了时间上限，共 2,000 步、160 秒。已保存为 `runs/demo`：可在其他页面中选择。"]


def test_queue_and_stop_sentences_follow_the_page_language(root):
    from types import SimpleNamespace

    from ui import train

    zh = SimpleNamespace(headers={"accept-language": "zh-CN"}, session_hash="zh-queue")
    assert train.stop_training(None, zh) == "没有可停止的：你没有排队中或正在进行的训练。"
    run_id, note = train.queue_run("zh-queued", "mlp-gan", "mnist", zh)
    assert note.startswith("训练 **zh-queued**：没有其他训练在进行时就会开始")
    assert train.stop_training(run_id, zh) == "已撤回：排队中的训练 **zh-queued** 不会开始。"
    assert next(train.train_model("mlp-gan", "mnist", 5, 16, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", False, 0.0, 0,
                                  "zh-queued", run_id, request=zh))[0] == "这次训练在开始前已被撤回；没有训练任何东西。"
