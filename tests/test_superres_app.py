"""The Super-resolution tab: its handler called as a plain function on tiny SRCNN and ESPCN x2
checkpoints made here with the library (never the shipped ones), its refusals in both languages,
and its place in the app."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

from aigc_models.checkpoints import load_checkpoint, save_checkpoint
from aigc_models.data import load_split, to_signed
from aigc_models.metrics import psnr_ssim
from aigc_models.models import build_model, make_config
from aigc_models.models.superres import bicubic, downscale, nearest


class Browser:
    """What a handler reads of a request: the browser's languages."""

    def __init__(self, languages: str) -> None:
        self.headers = {"accept-language": languages}


ZH = Browser("zh-CN,zh;q=0.9,en;q=0.8")


@pytest.fixture(scope="module")
def sr_folder(tmp_path_factory) -> Path:
    """Untrained tiny x2 checkpoints of both families (their weights fixed by the seed)."""
    folder = tmp_path_factory.mktemp("sr-app")
    for family in ("srcnn", "espcn"):
        torch.manual_seed(0)
        model = build_model(family, make_config(family, scale=2, channels=8, channels2=4))
        save_checkpoint(model, folder / f"mnist-{family}-x2")
    return folder


@pytest.fixture(autouse=True)
def env(app_environment: None, root: Path, sr_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", os.pathsep.join([str(root / "checkpoints"), str(sr_folder)]))


def test_the_tab_is_in_the_explore_section():
    import app
    from ui import superres

    assert ("section_explore", "tab_superres", superres) in app.TABS
    assert superres.families() == ("srcnn", "espcn")


def test_the_tab_opens_in_the_browsers_language():
    """What the page runs on open gets the visitor's Accept-Language, and each language is cached apart."""
    import app  # noqa: F401  (builds the tabs, filling common.ON_OPEN)
    from ui import common

    shown = {fn.__name__: fn for fn, _, _ in common.ON_OPEN}["open_compare"]
    english = shown("mnist", 2, 7, Browser("en-US,en;q=0.9"))[1]
    chinese = shown("mnist", 2, 7, ZH)[1]
    assert english.startswith("test image #7, shrunk 2 times")
    assert chinese.startswith("测试图像 #7，缩小 2 倍")
    assert shown("mnist", 2, 7, Browser("en-US"))[1] == english


def test_x2_shows_input_baselines_both_models_and_truth_with_their_scores(sr_folder):
    from ui import superres

    items, table = superres.compare("mnist", 2, 7)
    captions = [caption for _, caption in items]
    assert captions[0] == "low-resolution input 14 × 14" and captions[-1] == "truth 28 × 28"
    assert [c.split(":")[0] for c in captions[1:-1]] == ["nearest", "bicubic", "SRCNN (mnist-srcnn-x2)",
                                                        "ESPCN (mnist-espcn-x2)"]
    assert all(image.size == (224, 224) for image, _ in items)
    truth = to_signed(load_split("mnist", train=False).images[7:8])
    low = downscale(truth, 2)
    with torch.no_grad():
        expected = [nearest(low, 2), bicubic(low, 2), load_checkpoint(sr_folder / "mnist-srcnn-x2").upscale(low),
                    load_checkpoint(sr_folder / "mnist-espcn-x2").upscale(low)]
    psnr, ssim = psnr_ssim(torch.cat(expected), truth.expand(4, -1, -1, -1))
    for caption, p, s in zip(captions[1:-1], psnr.tolist(), ssim.tolist()):
        assert caption.endswith(f": {p:.2f} dB, SSIM {s:.3f}")
        assert f"| {p:.2f} | {s:.3f} |" in table
    assert table.startswith("test image #7, shrunk 2 times (14 × 14, area average)")
    assert "No SRCNN" not in table and "No ESPCN" not in table
    # the input tile shows the 14 x 14 image at its true size, centred on grey
    tile = np.asarray(items[0][0].convert("L"))
    assert tile[0, 0] == 48 and tile.shape == (224, 224)
    assert (np.asarray(items[2][0].convert("L"))[::8, ::8].shape == (28, 28))


def test_x4_without_checkpoints_shows_the_baselines_and_how_to_train_a_model():
    from ui import superres

    items, table = superres.compare("mnist", "4", 0)
    assert len(items) == 4 and items[0][1] == "low-resolution input 7 × 7"
    for family in ("srcnn", "espcn"):
        assert (f"train one with `python -m aigc_models train --model {family} --dataset mnist --option scale=4 "
                f"--out checkpoints/mnist-{family}-x4`") in table


def test_an_adversarial_upscaler_is_shown_beside_the_pixel_loss_one(tmp_path, root, sr_folder, monkeypatch):
    """At x4, an ESPCN trained on the pixel loss and one trained with an adversarial loss too (SRGAN)
    each get a tile, the adversarial one named so, in both languages."""
    from ui import superres

    for name, weight in (("mnist-espcn-x4", 0.0), ("mnist-espcn-x4-gan", 0.01)):
        torch.manual_seed(0)
        save_checkpoint(build_model("espcn", make_config("espcn", scale=4, adversarial=weight, channels=8, channels2=4)),
                        tmp_path / name)
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", os.pathsep.join([str(root / "checkpoints"), str(sr_folder), str(tmp_path)]))
    items, table = superres.compare("mnist", 4, 0)
    assert [caption.split(":")[0] for _, caption in items[1:-1]] == [
        "nearest", "bicubic", "ESPCN (mnist-espcn-x4)", "ESPCN + adversarial (mnist-espcn-x4-gan)"]
    assert "No SRCNN checkpoint at x4" in table and "No ESPCN" not in table
    items, _ = superres.compare("mnist", 4, 0, request=ZH)
    assert items[-2][1].startswith("ESPCN + 对抗损失 (mnist-espcn-x4-gan):")


def test_an_upload_is_enlarged_instead_of_the_test_image(tmp_path):
    from ui import superres

    picture = np.zeros((56, 56), np.uint8)
    picture[10:46, 24:32] = 255  # a white bar on black, a "1"
    path = tmp_path / "one.png"
    Image.fromarray(picture).save(path)
    items, table = superres.compare("mnist", 2, 5, str(path))
    assert table.startswith("your upload, shrunk 2 times") and len(items) == 6
    zh_items, zh_table = superres.compare("mnist", 2, 5, str(path), request=ZH)
    assert zh_table.startswith("你上传的图片，缩小 2 倍") and zh_items[0][1] == "低分辨率输入 14 × 14"


def sketch(ink: bool = True) -> dict[str, np.ndarray]:
    """A sketchpad value: a 280 x 280 white RGBA canvas, with a black vertical stroke (a "1") when ``ink``."""
    canvas = np.full((280, 280, 4), 255, np.uint8)
    if ink:
        canvas[40:240, 125:155, :3] = 0
    return {"composite": canvas}


def test_a_drawing_is_enlarged_before_an_upload_or_the_test_image(tmp_path):
    """The drawing wins over an upload and the test image, framed like the dataset's images: the
    truth tile is the drawing as the models see it, and every score is measured against it."""
    from aigc_models.preprocess import to_model_input
    from ui import superres

    upload = tmp_path / "blank-but-one.png"
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(upload)
    items, table = superres.compare("mnist", 2, 5, str(upload), sketch())
    assert table.startswith("your drawing, shrunk 2 times (14 × 14, area average)") and len(items) == 6
    truth = to_model_input(sketch()["composite"], dataset="mnist")  # (1, 1, 28, 28) in [-1, 1]
    shown = torch.from_numpy(np.asarray(items[-1][0].convert("L"))[::8, ::8].astype(np.float32)) / 127.5 - 1
    assert torch.allclose(shown, truth[0, 0], atol=1 / 127.5)
    low = downscale(truth, 2)
    psnr, ssim = psnr_ssim(bicubic(low, 2), truth)
    assert items[2][1] == f"bicubic: {psnr.item():.2f} dB, SSIM {ssim.item():.3f}"
    zh_items, zh_table = superres.compare("mnist", 2, 5, None, sketch(), request=ZH)
    assert zh_table.startswith("你的画，缩小 2 倍")


def test_a_blank_canvas_falls_back_to_the_upload_then_the_test_image(tmp_path):
    from ui import superres

    assert superres.compare("mnist", 4, 6, None, sketch(ink=False))[1].startswith("test image #6, shrunk 4 times")
    picture = np.zeros((28, 28), np.uint8)
    picture[4:24, 12:16] = 255
    path = tmp_path / "one.png"
    Image.fromarray(picture).save(path)
    assert superres.compare("mnist", 2, 6, str(path), sketch(ink=False))[1].startswith("your upload, shrunk 2 times")


def test_an_unusable_drawing_is_refused_in_both_languages():
    from ui import superres

    broken = {"composite": np.full((30, 30), np.nan)}
    with pytest.raises(gr.Error, match="NaN") as err:
        superres.compare("mnist", 2, 0, None, broken)
    assert "\n" not in err.value.message
    with pytest.raises(gr.Error) as err:
        superres.compare("mnist", 2, 0, None, broken, request=ZH)
    assert err.value.message.startswith("无法使用你的画：")


@pytest.mark.parametrize("args, en, zh", [
    (("mnist", 3, 0), "Scale must be 2 or 4, got 3.", "放大倍数必须是 2 或 4，收到的是 3。"),
    (("mnist", "x2", 0), "Scale must be 2 or 4, got 'x2'.", "放大倍数必须是 2 或 4，收到的是 'x2'。"),
    (("mnist", 2, 10_000), "Test image number must be a whole number between 0 and 9999, got 10000.",
     "测试图像编号必须是 0 到 9999 之间的整数，收到的是 10000。"),
    (("mnist", 2, -1.5), "Test image number must be a whole number between 0 and 9999", "测试图像编号必须是 0 到 9999 之间的整数"),
    (("cifar", 2, 0), "Unknown dataset", "未知数据集 'cifar'；可选 mnist 或 fashion-mnist。"),
])
def test_bad_inputs_are_refused_in_one_sentence_in_both_languages(args, en, zh):
    from ui import superres

    with pytest.raises(gr.Error) as err:
        superres.compare(*args)
    assert err.value.message.startswith(en) and "\n" not in err.value.message
    with pytest.raises(gr.Error) as err:
        superres.compare(*args, request=ZH)
    assert err.value.message.startswith(zh)


def test_an_unreadable_upload_is_refused(tmp_path):
    from ui import superres

    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"hello")
    with pytest.raises(gr.Error):
        superres.compare("mnist", 2, 0, str(bad))
    with pytest.raises(gr.Error) as err:
        superres.compare("mnist", 2, 0, str(bad), request=ZH)
    assert err.value.message.startswith("无法使用上传的图片：")
