"""The PixelCNN tab: its handlers called as plain functions on tiny untrained PixelCNN checkpoints
made here with the library (a conditional K = 2 one and an unconditional K = 4 one, weights fixed by
the seed; never a shipped one), its refusals in both languages, the sentence shown when no PixelCNN
checkpoint exists, and its place in the app."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

from aigc_models import data, sampling
from aigc_models.checkpoints import save_checkpoint
from aigc_models.models import build_model
from aigc_models.models.pixelcnn import complete, pixel_distribution, quantize

BINARY, GREY, GUIDED = "mnist-pixelcnn", "mnist-pixelcnn-k4", "mnist-pixelcnn-guided"
TINY = {BINARY: {"channels": 8, "layers": 2}, GREY: {"channels": 8, "layers": 2, "levels": 4, "num_classes": 0},
        GUIDED: {"channels": 8, "layers": 2, "label_dropout": 0.1, "default_guidance": 2.0}}


class Browser:
    """What a handler reads of a request: the browser's languages."""

    def __init__(self, languages: str) -> None:
        self.headers = {"accept-language": languages}


ZH = Browser("zh-CN,zh;q=0.9,en;q=0.8")


@pytest.fixture(scope="module")
def pixelcnn_folder(tmp_path_factory) -> Path:
    """Untrained tiny PixelCNNs with every weight perturbed (so that samples are not constant)."""
    folder = tmp_path_factory.mktemp("pixelcnn-app")
    for name, options in TINY.items():
        torch.manual_seed(0)
        model = build_model("pixelcnn", **options)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.3 * torch.randn_like(p))
        save_checkpoint(model, folder / name)
    return folder


@pytest.fixture(autouse=True)
def env(app_environment: None, root: Path, pixelcnn_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", os.pathsep.join([str(root / "checkpoints"), str(pixelcnn_folder)]))
    torch.set_num_threads(1)


def model(name: str):
    from ui import common, pixelcnn

    return common.load_model(name, pixelcnn.families())


def pixels(path_or_image) -> np.ndarray:
    image = path_or_image if isinstance(path_or_image, Image.Image) else Image.open(path_or_image)
    return np.asarray(image.convert("L"))


def centres(image: Image.Image, scale: int) -> np.ndarray:
    """The 28 x 28 grey values at the centre of each ``scale`` x ``scale`` block."""
    return pixels(image)[scale // 2 :: scale, scale // 2 :: scale]


# ----------------------------------------------------------------------------- the tab in the app


def test_the_tab_follows_diffusion_in_generate_and_lists_pixelcnn_checkpoints_only():
    import app
    from ui import common, diffusion, pixelcnn

    assert pixelcnn.families() == ("pixelcnn",)
    tabs = [(section, key) for section, key, _ in app.TABS]
    assert tabs[tabs.index(("section_generate", "tab_diffusion")) + 1] == ("section_generate", "tab_pixelcnn")
    assert app.TABS.count(("section_generate", "tab_pixelcnn", pixelcnn)) == 1
    assert diffusion in [m for *_, m in app.TABS]
    keys = [key for _, key in common.checkpoint_choices("mnist", pixelcnn.families())]
    assert keys == [BINARY, GUIDED, GREY]  # by name
    opened = {fn.__name__ for fn, _, _ in common.ON_OPEN}
    assert {"open_sample", "open_pixel"} <= opened


def test_the_class_lists_follow_the_checkpoint():
    from ui import pixelcnn

    cls, comp, missing, guidance = pixelcnn.checkpoint_classes("mnist", BINARY)
    assert cls["choices"] == [str(k) for k in range(10)] and cls["value"] == "3"
    assert comp["choices"][0][1] == "auto" and comp["value"] == "auto" and missing == gr.update(visible=False)
    cls, comp, missing, guidance = pixelcnn.checkpoint_classes("mnist", GREY)  # unconditional: none only
    assert [v for _, v in cls["choices"]] == ["none"] == [v for _, v in comp["choices"]]
    cls, comp, missing, guidance = pixelcnn.checkpoint_classes("fashion-mnist", None)
    assert "Sneaker" in cls["choices"] and missing == gr.update(visible=True)


def test_the_guidance_slider_follows_the_checkpoints_card():
    from ui import pixelcnn

    assert pixelcnn.checkpoint_classes("mnist", GUIDED)[3] == gr.update(value=2.0, interactive=True)
    assert pixelcnn.checkpoint_classes("mnist", BINARY)[3] == gr.update(value=1.0, interactive=False)  # no label dropout
    assert pixelcnn.checkpoint_classes("mnist", GREY)[3] == gr.update(value=1.0, interactive=False)  # unconditional
    assert pixelcnn.checkpoint_classes("mnist", None)[3] == gr.update(value=1.0, interactive=False)


def test_guided_samples_pixels_and_completions_are_the_librarys():
    from aigc_models import provenance
    from ui import common, pixelcnn

    m = model(GUIDED)
    grid, _, _, cache = pixelcnn.sample_pixelcnn(GUIDED, "7", 2, 3, 1.0, 3.0)
    guided = m.generate(sampling.latents(2, 784, seed=3), torch.full((2,), 7), guidance=3.0)
    plain = m.generate(sampling.latents(2, 784, seed=3), torch.full((2,), 7), guidance=1.0)
    assert not torch.equal(guided, plain)
    assert (pixels(grid) == np.asarray(common.to_grid(guided))).all()
    assert provenance.read(grid)["guidance"] == 3.0
    _, table, note, _ = pixelcnn.pixel_view(GUIDED, "7", 3, 1.0, 3.0, 12, 14, cache)
    expected = pixel_distribution(m, guided[:1], 12, 14, labels=torch.tensor([7]), guidance=3.0)[0]
    assert np.allclose(table["probability"].to_numpy(), expected.numpy())
    assert "at temperature 1, class guidance 3 the level drawn" in note
    items, note = pixelcnn.complete_pixelcnn(GUIDED, "auto", 7, None, None, 12, 2, 5, 1.0, 3.0)
    truth = data.load_split("mnist", train=False)
    expected = complete(m, data.to_signed(truth.images[7:8]), rows=12, samples=2, seed=5, labels=truth.labels[7:8],
                        guidance=3.0)
    for (image, _), completion in zip(items[1:], expected):
        assert (centres(image, 8) == data.to_uint8(completion)[0].numpy()).all()
    assert "class guidance 3" in note


@pytest.mark.parametrize("handler, args", [
    ("sample", (BINARY, "3", 4, 0, 1.0, 2.0)),
    ("pixel", (BINARY, "3", 0, 1.0, 0.0, 5, 5, None)),
    ("complete", (BINARY, "auto", 0, None, None, 14, 2, 0, 1.0, 1.5)),
])
def test_guidance_is_refused_for_a_model_trained_without_label_dropout(handler, args):
    from ui import pixelcnn

    fn = {"sample": pixelcnn.sample_pixelcnn, "pixel": pixelcnn.pixel_view, "complete": pixelcnn.complete_pixelcnn}[handler]
    with pytest.raises(gr.Error, match="needs a PixelCNN that also learnt images without their class"):
        fn(*args)
    with pytest.raises(gr.Error, match="label_dropout=0.1"):
        fn(*args, request=ZH)
    with pytest.raises(gr.Error, match="Class guidance must be"):
        fn(*(a if i != {"sample": 5, "pixel": 4, "complete": 9}[handler] else 11.0 for i, a in enumerate(args)))


def test_without_a_pixelcnn_checkpoint_the_tab_says_which_command_makes_one(root, monkeypatch):
    from ui import common, pixelcnn
    from ui.i18n import EN
    from ui.i18n import ZH as ZH_TEXT

    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", str(root / "checkpoints"))
    assert common.checkpoint_choices("mnist", pixelcnn.families()) == []
    command = "`python -m aigc_models train --model pixelcnn --dataset mnist --out checkpoints/mnist-pixelcnn`"
    assert pixelcnn.train_command("mnist") == command
    for fn, args in ((pixelcnn.sample_pixelcnn, (None, "3", 4, 0, 1.0)),
                     (pixelcnn.complete_pixelcnn, (None, "auto", 0, None, None, 14, 2, 0, 1.0))):
        with pytest.raises(gr.Error) as err:
            fn(*args)
        assert err.value.message.startswith("Pick a PixelCNN checkpoint first") and command in err.value.message
        with pytest.raises(gr.Error) as err:
            fn(*args, request=ZH)
        assert err.value.message.startswith("请先选择一个 PixelCNN 检查点") and command in err.value.message
    assert command in EN["pixelcnn_missing"] and command in ZH_TEXT["pixelcnn_missing"]
    with pytest.raises(gr.Error, match="holds a DCGAN model; this needs a PixelCNN"):
        pixelcnn.sample_pixelcnn("mnist-dcgan", "3", 4, 0, 1.0)


# ----------------------------------------------------------------------------- sampling and the animation


def test_the_grid_is_the_librarys_samples_and_the_same_seed_gives_the_same_images():
    from aigc_models import provenance
    from ui import common, pixelcnn

    grid, download, gif, cache = pixelcnn.sample_pixelcnn(BINARY, "7", 4, 3, 0.8)
    again = pixelcnn.sample_pixelcnn(BINARY, "7", 4, 3, 0.8)[0]
    other = pixelcnn.sample_pixelcnn(BINARY, "7", 4, 4, 0.8)[0]
    assert grid == download and Path(grid).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (pixels(grid) == pixels(again)).all() and not (pixels(grid) == pixels(other)).all()
    m = model(BINARY)
    direct = m.generate(sampling.latents(4, 784, seed=3), torch.full((4,), 7), temperature=0.8)
    assert (pixels(grid) == np.asarray(common.to_grid(direct))).all()
    assert Image.open(grid).size[0] % (2 * 30 + 2) == 0  # 2 x 2 tiles
    info = provenance.read(grid)
    assert info["checkpoint"] == BINARY and {k: info[k] for k in ("seed", "n", "temperature", "class")} == \
        {"seed": 3, "n": 4, "temperature": 0.8, "class": "7"}
    assert provenance.read(gif)["seed"] == 3 and len(cache) == 1


@pytest.mark.parametrize("name, label", [(BINARY, "5"), (GREY, "none")])
def test_the_gif_fills_in_row_by_row_and_ends_on_the_sample(name, label):
    from ui import pixelcnn

    _, _, gif, _ = pixelcnn.sample_pixelcnn(name, label, 2, 11, 1.0)
    m = model(name)
    first = m.generate(sampling.latents(2, 784, seed=11), torch.full((2,), 5) if m.num_classes else None)[:1]
    image = Image.open(gif)
    assert image.size == (280, 280) and image.n_frames >= 15  # PIL merges repeated frames
    image.seek(0)
    assert (np.asarray(image.convert("RGB")) == pixelcnn.NOT_YET).all()  # nothing drawn yet
    image.seek(image.n_frames - 1)
    last = np.asarray(image.convert("RGB"))
    assert (last[::10, ::10] == data.to_uint8(first)[0, 0].numpy()[:, :, None]).all()  # the sample, every pixel
    assert np.array_equal(last, np.asarray(Image.fromarray(data.to_uint8(first)[0, 0].numpy()).convert("RGB")
                                           .resize((280, 280), Image.NEAREST)))
    image.seek(image.n_frames // 2)  # part way: the top drawn, the bottom still blue
    middle = np.asarray(image.convert("RGB"))
    assert (middle[-1] == pixelcnn.NOT_YET).all() and not (middle[0] == pixelcnn.NOT_YET).all()


def test_long_requests_report_progress_per_row():
    from ui import pixelcnn

    seen = []
    pixelcnn.sample_pixelcnn(BINARY, "1", 1, 0, 1.0, progress=lambda progress, **kw: seen.append(progress))
    assert seen == [(r, 28) for r in range(1, 29)]


# ----------------------------------------------------------------------------- the pixel view


def test_the_pixel_view_shows_the_models_distribution_for_the_clicked_pixel(monkeypatch):
    from ui import pixelcnn

    *_, cache = pixelcnn.sample_pixelcnn(GREY, "none", 3, 2, 1.5)
    monkeypatch.setattr(pixelcnn, "draw", lambda *a, **k: pytest.fail("the grid's first image was cached"))
    picture, table, note, cache = pixelcnn.pixel_view(GREY, "none", 2, 1.5, 1.0, 9, 13, cache)
    assert list(table["level"]) == ["0", "1", "2", "3"] and table["probability"].sum() == pytest.approx(1, abs=1e-6)
    m = model(GREY)
    first = m.generate(sampling.latents(3, 784, seed=2), temperature=1.5)[:1]
    expected = pixel_distribution(m, first, 9, 13, temperature=1.5)[0]
    assert np.allclose(table["probability"].to_numpy(), expected.numpy())
    drawn = int(quantize(first, 4)[0, 0, 9, 13])
    assert note.startswith("Pixel (row 9, column 13): the model sees the 9 rows above it and the 13 pixels")
    assert note.endswith(f"level drawn, {drawn}, had probability {float(expected[drawn]):.3f}.")
    assert picture.size == (280, 280)
    rgb = np.asarray(picture)
    assert tuple(rgb[9 * 10 - 1, 13 * 10 + 5]) == pixelcnn.PICKED  # the outline
    seen = rgb[5::10, 5::10]  # pixel centres: the ones before (9, 13) as they are, the rest tinted
    greys = data.to_uint8(first)[0, 0].numpy()
    assert (seen[:9] == greys[:9, :, None]).all() and (seen[9, :13] == greys[9, :13, None]).all()
    assert not (seen[10:] == greys[10:, :, None]).all(axis=-1).any()
    zh_note = pixelcnn.pixel_view(GREY, "none", 2, 1.5, 1.0, 9, 13, cache, ZH)[2]
    assert zh_note.startswith("像素（第 9 行，第 13 列）")


def test_without_the_cache_the_pixel_view_draws_the_image_again():
    from ui import pixelcnn

    _, table, _, cache = pixelcnn.pixel_view(BINARY, "4", 0, 1.0, 1.0, 0, 0, None)
    assert len(table) == 2 and table["probability"].sum() == pytest.approx(1, abs=1e-6) and len(cache) == 1
    m = model(BINARY)
    blank = pixel_distribution(m, torch.zeros(1, 1, 28, 28), 0, 0, labels=torch.tensor([4]))[0]
    assert np.allclose(table["probability"].to_numpy(), blank.numpy())  # pixel (0, 0) sees nothing


def test_a_click_names_the_pixel_under_it():
    from ui import pixelcnn

    class Click:
        def __init__(self, x: int, y: int) -> None:
            self.index = [x, y]  # on the 280 x 280 image

    assert pixelcnn.select_pixel(Click(137, 42)) == (4, 13)
    assert pixelcnn.select_pixel(Click(279, 279)) == (27, 27)


# ----------------------------------------------------------------------------- completion


def test_completion_keeps_the_given_rows_bit_for_bit_and_marks_them():
    from ui import pixelcnn

    items, note = pixelcnn.complete_pixelcnn(BINARY, "auto", 7, None, None, 12, 3, 5, 1.0)
    assert len(items) == 4 and all(image.size == (224, 224) for image, _ in items)
    truth = data.load_split("mnist", train=False)
    given = data.to_signed(truth.images[7:8])
    assert [c for _, c in items] == [f"original: test image #7 ({int(truth.labels[7])})", "completion 1",
                                     "completion 2", "completion 3"]
    expected = complete(model(BINARY), given, rows=12, samples=3, seed=5, labels=truth.labels[7:8])
    assert (centres(items[0][0], 8) == truth.images[7, 0].numpy()).all()
    for (image, _), completion in zip(items[1:], expected):
        shown = centres(image, 8)
        assert (shown[:12] == truth.images[7, 0, :12].numpy()).all()  # the kept rows, bit for bit
        assert (shown == data.to_uint8(completion)[0].numpy()).all()
        assert tuple(np.asarray(image)[12 * 8, 100]) == pixelcnn.BOUNDARY  # the line under the kept rows
    assert not (centres(items[1][0], 8) == centres(items[2][0], 8)).all()  # different completions
    again, _ = pixelcnn.complete_pixelcnn(BINARY, "auto", 7, None, None, 12, 3, 5, 1.0)
    assert all((pixels(a) == pixels(b)).all() for (a, _), (b, _) in zip(items, again))
    assert note.startswith(f"test image #7 ({int(truth.labels[7])}): rows 0–11 kept as they are")


def test_a_drawn_or_uploaded_picture_is_completed_with_a_class_picked(tmp_path):
    from ui import pixelcnn

    picture = np.zeros((56, 56), np.uint8)
    picture[10:46, 24:32] = 255  # a white bar on black, a "1"
    path = tmp_path / "one.png"
    Image.fromarray(picture).save(path)
    items, note = pixelcnn.complete_pixelcnn(BINARY, "1", 3, None, str(path), 20, 2, 0, 1.0)
    assert items[0][1] == "original: your upload" and note.startswith("your upload: rows 0–19 kept")
    from ui.common import to_model_input

    given = to_model_input(str(path))
    for image, _ in items:
        assert (centres(image, 8)[:20] == data.to_uint8(given)[0, 0, :20].numpy()).all()
    zh_items, zh_note = pixelcnn.complete_pixelcnn(BINARY, "1", 3, None, str(path), 20, 2, 0, 1.0, 1.0, ZH)
    assert zh_items[0][1] == "原图：你上传的图片" and zh_note.startswith("你上传的图片：保留第 0–19 行")
    with pytest.raises(gr.Error, match="has no class of its own"):
        pixelcnn.complete_pixelcnn(BINARY, "auto", 3, None, str(path), 20, 2, 0, 1.0)
    with pytest.raises(gr.Error, match="没有自己的类别"):
        pixelcnn.complete_pixelcnn(BINARY, "auto", 3, None, str(path), 20, 2, 0, 1.0, 1.0, ZH)
    unconditional, _ = pixelcnn.complete_pixelcnn(GREY, "auto", 3, None, str(path), 20, 2, 0, 1.0)  # no class needed
    assert len(unconditional) == 3
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"hello")
    with pytest.raises(gr.Error) as err:
        pixelcnn.complete_pixelcnn(GREY, "none", 3, None, str(bad), 20, 2, 0, 1.0, 1.0, ZH)
    assert err.value.message.startswith("无法使用这张图片：")


# ----------------------------------------------------------------------------- refusals


SAMPLE = (BINARY, "3", 4, 0, 1.0)
COMPLETE = (BINARY, "auto", 0, None, None, 14, 2, 0, 1.0)


@pytest.mark.parametrize("handler, args, english, chinese", [
    ("sample", ("/etc", "3", 4, 0, 1.0), "not one of this app's checkpoints", "不是本应用的检查点"),
    ("sample", (BINARY, "Sneaker", 4, 0, 1.0), "Unknown class 'Sneaker' for mnist; choose one of: 0, 1",
     "mnist 没有类别 'Sneaker'"),
    ("sample", (BINARY, "none", 4, 0, 1.0), "This PixelCNN is conditional: pick a class", "这个 PixelCNN 是条件模型"),
    ("sample", (BINARY, "3", 9, 0, 1.0), "Number of images must be a whole number between 1 and 8", "图像数量必须是 1 到 8"),
    ("sample", (BINARY, "3", 4, -1, 1.0), "Seed must be a whole number between 0 and 2147483647", "种子必须是"),
    ("sample", (BINARY, "3", 4, 0.5, 1.0), "Seed must be a whole number", "种子必须是"),
    ("sample", (BINARY, "3", 4, 0, 0), "Temperature must be", "温度必须是大于 0、不超过 10 的数"),
    ("sample", (BINARY, "3", 4, 0, 10.5), "Temperature must be", "温度必须是大于 0"),
    ("sample", (BINARY, "3", 4, 0, float("nan")), "Temperature must be", "温度必须是"),
    ("pixel", (BINARY, "3", 0, 1.0, 1.0, 28, 0, None), "Row must be a whole number between 0 and 27", "行必须是 0 到 27"),
    ("pixel", (BINARY, "3", 0, 1.0, 1.0, 0, -1, None), "Column must be a whole number between 0 and 27", "列必须是 0 到 27"),
    ("complete", (BINARY, "auto", 0, None, None, 28, 2, 0, 1.0), "Kept rows must be a whole number between 0 and 27",
     "保留的行数必须是 0 到 27"),
    ("complete", (BINARY, "auto", 0, None, None, 14, 17, 0, 1.0), "Completions must be a whole number between 1 and 16",
     "补全数量必须是 1 到 16"),
    ("complete", (BINARY, "auto", 0, None, None, 0, 9, 0, 1.0),
     "9 images × 784 pixels = 7,056 pixel draws; one request here may make at most 6,272",
     "9 张图像 × 784 个像素 = 7,056 次像素采样；这里每个请求最多 6,272 次"),
    ("complete", (BINARY, "auto", 10_000, None, None, 14, 2, 0, 1.0),
     "Test image number must be a whole number between 0 and 9999", "测试图像编号必须是 0 到 9999"),
    ("complete", (BINARY, "Coat", 0, None, None, 14, 2, 0, 1.0), "Unknown class 'Coat'", "mnist 没有类别 'Coat'"),
])
def test_bad_input_is_refused_in_one_sentence_in_the_browsers_language(handler, args, english, chinese):
    from ui import pixelcnn

    handlers = {"sample": pixelcnn.sample_pixelcnn, "pixel": pixelcnn.pixel_view, "complete": pixelcnn.complete_pixelcnn}
    fn = handlers[handler]
    with pytest.raises(gr.Error) as err:
        fn(*args)
    assert english in err.value.message and "\n" not in err.value.message and len(err.value.message) < 400
    with pytest.raises(gr.Error) as err:
        fn(*args, request=ZH)
    assert chinese in err.value.message and "\n" not in err.value.message


def test_the_cap_allows_what_the_sliders_offer():
    from ui import pixelcnn

    assert pixelcnn.check_budget(pixelcnn.MAX_IMAGES, 28, "en") == pixelcnn.MAX_DRAWS == 6272
    assert pixelcnn.check_budget(pixelcnn.MAX_COMPLETIONS, 14, "en") == 6272  # half the rows kept: 16 completions
    assert pixelcnn.check_budget(1, 28, "en") == 4 * 784  # a batch of 1 costs as 4
