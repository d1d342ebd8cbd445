"""Bad input: broken, huge and odd pictures, and out-of-range numbers, through the
library, through the app's handlers, and (one test) through the running app.

Every picture is either used correctly (the same 28 x 28 input as a plain RGB
version of it) or refused with one sentence; every number outside its range is
refused with a sentence naming the field and the range. Each test fails when the
protection it covers is removed.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from aigc_models.models import REGISTRY
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageFile

from aigc_models import augment, preprocess, sampling, validation
from aigc_models.checkpoints import load_checkpoint

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def env(app_environment: None) -> None:
    """Every test here runs with the app's environment (conftest.app_environment)."""


# ----------------------------------------------------------------------------- pictures

INK = (slice(40, 160), slice(30, 60))  # a vertical stroke, off-centre, on a 280 x 280 canvas


def stroke(ink=INK) -> np.ndarray:
    """Black ink on white, ``(280, 280)`` uint8: the reference every variant must match."""
    canvas = np.full((280, 280), 255, np.uint8)
    canvas[ink] = 0
    return canvas


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels: a few KB on disk, width x height
    bytes once decoded (written row by row, never held in memory here)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def palette_with_transparency() -> bytes:
    """P mode: index 0 transparent (background), index 1 opaque black (ink), index 2 white."""
    image = Image.fromarray(np.where(stroke() == 0, 1, 0).astype(np.uint8), mode="P")
    image.putpalette([255, 0, 0, 0, 0, 0, 255, 255, 255] + [0] * (3 * 253))  # transparent index is red
    return encode(image, transparency=0)


def animated(fmt: str) -> bytes:
    """Two frames: the reference stroke, then a horizontal bar (must be ignored)."""
    first = Image.fromarray(stroke()).convert("RGB")
    second = Image.fromarray(stroke((slice(200, 230), slice(20, 260)))).convert("RGB")
    return encode(first, fmt, save_all=True, append_images=[second], duration=100, loop=0)


def cmyk_black_ink() -> Image.Image:
    """Print-style CMYK: white paper (0, 0, 0, 0), the stroke in the black plate only (0, 0, 0, 255)."""
    arr = np.zeros((280, 280, 4), np.uint8)
    arr[..., 3] = 255 - stroke()
    return Image.frombytes("CMYK", (280, 280), arr.tobytes())


def rgba_on_transparent() -> np.ndarray:
    arr = np.zeros((280, 280, 4), np.uint8)  # transparent black everywhere...
    arr[INK] = (0, 0, 0, 255)  # ...but the stroke, opaque black
    return arr


USABLE: dict[str, object] = {  # name -> the file's bytes (built lazily: see usable_files)
    "RGB PNG": lambda: encode(Image.fromarray(stroke()).convert("RGB")),
    "RGBA (ink on transparent)": lambda: encode(Image.fromarray(rgba_on_transparent())),
    "LA": lambda: encode(Image.fromarray(stroke()).convert("LA")),
    "16-bit grey": lambda: encode(Image.fromarray(stroke().astype(np.uint16) * 257)),
    "palette": lambda: encode(Image.fromarray(stroke()).convert("RGB").convert("P")),
    "palette with transparency": palette_with_transparency,
    "CMYK JPEG (ink in K)": lambda: encode(cmyk_black_ink(), "JPEG", quality=95),
    "CMYK TIFF (ink in K)": lambda: encode(cmyk_black_ink(), "TIFF"),
    "1-bit": lambda: encode(Image.fromarray(stroke()).convert("1")),
    "32-bit float TIFF": lambda: encode(Image.fromarray(stroke().astype(np.float32) / 255.0), "TIFF"),
    "animated GIF": lambda: animated("GIF"),
    "animated PNG": lambda: animated("PNG"),
    "WebP": lambda: encode(Image.fromarray(stroke()), "WEBP", lossless=True),
    "white ink on black JPEG": lambda: encode(Image.fromarray(255 - stroke()), "JPEG", quality=95),
}

REFUSED: dict[str, tuple[object, str]] = {  # name -> (bytes, what the sentence must say)
    "not an image": (lambda: b"GIF? no: just some text in a file called digit.png\n" * 20, "not a readable image"),
    "truncated PNG": (lambda: encode(Image.fromarray(stroke()))[:300], "not a readable image"),
    "zero bytes": (lambda: b"", r"empty \(0 bytes\)"),
    "20000 x 20000 PNG (PIL's bomb limit)": (lambda: png_bomb(20000, 20000), r"4096 x 4096"),
    "5000 x 5000 PNG (our limit)": (lambda: png_bomb(5000, 5000), r"5000 x 5000 pixels, more than"),
    "1 x 1 pixel": (lambda: encode(Image.new("L", (1, 1), 0)), r"1 x 1 pixels; it needs at least 8 x 8"),
    "all white": (lambda: encode(Image.new("RGB", (280, 280), "white")), "The picture is empty"),
    "EPS (never opened: Ghostscript)": (lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n", "not a readable image"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every picture case written to a file in gradio's upload folder, where uploads land (the
    upload widget hands the handler a path, and refuses any file outside that folder)."""
    import tempfile

    from gradio.utils import get_upload_folder

    Path(get_upload_folder()).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-pictures-", dir=get_upload_folder()))
    out = {}
    for i, (name, make) in enumerate([*USABLE.items(), *((k, v[0]) for k, v in REFUSED.items())]):
        path = folder / f"case{i}.png"
        path.write_bytes(make())
        out[name] = path
    return out


@pytest.fixture(scope="module")
def reference() -> torch.Tensor:
    return preprocess.to_model_input(np.stack([stroke()] * 3, axis=-1))


def one_sentence(message: str) -> bool:
    return message.endswith(".") and "\n" not in message and "Traceback" not in message and len(message) < 300


@pytest.mark.parametrize("name", list(USABLE))
def test_every_mode_gives_the_same_input_as_rgb(name, files, reference):
    for source in (files[name], files[name].read_bytes()):  # a path and the bytes
        x = preprocess.to_model_input(source)
        assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
        tolerance = 0.1 if "JPEG" in name else 0.02  # JPEG rings a little around the stroke
        assert (x - reference).abs().max() <= tolerance, name


def test_only_common_raster_formats_are_opened(files, monkeypatch):
    """PIL would hand an EPS file to Ghostscript (a PostScript interpreter) on load."""
    from PIL import EpsImagePlugin

    calls = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *args, **kwargs: calls.append(args))
    with pytest.raises(ValueError, match="not a readable image"):
        preprocess.decode_image(files["EPS (never opened: Ghostscript)"])
    assert calls == []


@pytest.mark.parametrize("name", list(REFUSED))
def test_bad_pictures_are_refused_in_one_sentence(name, files):
    for source in (files[name], files[name].read_bytes()):
        with pytest.raises(ValueError, match=REFUSED[name][1]) as info:
            preprocess.to_model_input(source)
        assert one_sentence(str(info.value)), str(info.value)


def test_the_size_is_checked_before_decoding(files, monkeypatch):
    """A bomb is refused from its header: decoding it is never started."""
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for name in ("20000 x 20000 PNG (PIL's bomb limit)", "5000 x 5000 PNG (our limit)"):
        with pytest.raises(ValueError, match="4096 x 4096"):
            preprocess.decode_image(files[name])


def test_phone_photos_are_turned_upright(reference):
    """A camera stores the picture sideways plus an EXIF orientation tag (6 = turn 90 degrees clockwise)."""
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(stroke()))).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    x = preprocess.to_model_input(encode(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert (x - reference).abs().max() <= 0.1


def test_sixteen_bit_and_float_pictures_are_scaled_not_clipped():
    """PIL's convert('L') clips 16-bit values to 255 (all white): the digit would vanish."""
    dark_ink = stroke().astype(np.uint16) * 200  # 16-bit, paper at 51000 of 65535
    x = preprocess.to_model_input(Image.fromarray(dark_ink))
    assert x.max() == 1 and (x > 0).sum() > 20
    as_float = preprocess.to_model_input(stroke().astype(np.float64) / 255.0)
    assert torch.allclose(as_float, preprocess.to_model_input(stroke()), atol=0.02)


def test_transparency_is_background_in_every_form():
    on_transparent = preprocess.to_model_input(rgba_on_transparent())
    assert on_transparent[0, 0, 14, 14] > 0.5 and on_transparent[0, 0, 0, 0] == -1
    # a transparent canvas whose hidden pixels are black is empty, not a black square
    with pytest.raises(preprocess.EmptyPictureError):
        preprocess.to_model_input(np.zeros((100, 100, 4), np.uint8))


def test_uniform_grey_is_empty_not_a_filled_square():
    for level in (60, 128, 200):
        with pytest.raises(preprocess.EmptyPictureError, match="empty"):
            preprocess.to_model_input(np.full((64, 64), level, np.uint8))


@pytest.mark.parametrize("array, message", [
    (np.zeros((0, 0), np.uint8), "0 x 0 pixels"),
    (np.zeros((30, 30, 5), np.uint8), "1 to 4 channels"),
    (np.zeros((2, 30, 30, 3), np.uint8), "1 to 4 channels"),
    (np.full((30, 30), np.nan), "NaN"),
    (np.full((30, 30), -3.0), "values from -3"),
    (np.array([["a"] * 30] * 30), "dtype"),
    (np.zeros((30, 30), complex), "dtype"),
    (np.zeros((5000, 4000), np.uint8), "5000 pixels, more than"),
])
def test_bad_arrays_are_refused_in_one_sentence(array, message):
    with pytest.raises(ValueError, match=message) as info:
        preprocess.to_model_input(array)
    assert one_sentence(str(info.value))


# ----------------------------------------------------------------------------- pictures through the VAE tab


@pytest.mark.parametrize("name", list(USABLE))
def test_vae_tab_uses_every_usable_upload(name, ck, files):
    from ui.vae import reconstruct

    seen, recon, err, latent_map, summary = reconstruct(ck("mnist-vae"), None, str(files[name]), 0)
    assert "Input: your upload" in summary
    expected = sampling.grid(preprocess.to_model_input(files[name]), nrow=1, padding=0, scale=8)
    assert seen.tobytes() == expected.tobytes()


@pytest.mark.parametrize("name", list(REFUSED))
def test_vae_tab_refuses_bad_uploads_in_one_sentence(name, ck, files):
    """Refused, not silently replaced by test image 0."""
    from ui.vae import reconstruct

    with pytest.raises(gr.Error, match=REFUSED[name][1]) as info:
        reconstruct(ck("mnist-vae"), None, str(files[name]), 0)
    assert one_sentence(info.value.message)


def test_vae_tab_sketch_cases(ck):
    from ui.vae import reconstruct

    white = {"composite": np.full((280, 280, 4), 255, np.uint8)}
    with pytest.raises(gr.Error, match="No input"):  # blank sketch, no upload, no test image
        reconstruct(ck("mnist-vae"), white, None, None)
    assert "Input: test image #3" in reconstruct(ck("mnist-vae"), white, None, 3)[4]  # said, not hidden
    assert "Input: your drawing" in reconstruct(ck("mnist-vae"), {"composite": rgba_on_transparent()}, None, 3)[4]
    with pytest.raises(gr.Error, match="1 x 1 pixels"):
        reconstruct(ck("mnist-vae"), {"composite": np.zeros((1, 1, 4), np.uint8)}, None, 3)
    with pytest.raises(gr.Error, match="NaN"):
        reconstruct(ck("mnist-vae"), {"composite": np.full((30, 30), np.nan)}, None, 3)


def test_upload_widget_hands_over_the_file_undecoded(files):
    """gr.Image opens the file with PIL before the handler runs (a bare 'Error' for these);
    the lab's upload passes the path on for aigc_models.preprocess to refuse."""
    from gradio.data_classes import ImageData

    from ui.components import PictureUpload

    widget = PictureUpload(type="filepath", sources=["upload"])
    assert widget.get_block_name() == "image"
    assert widget.get_config().keys() == gr.Image(type="filepath", sources=["upload"]).get_config().keys()  # same widget
    for name in ("zero bytes", "not an image", "20000 x 20000 PNG (PIL's bomb limit)"):
        payload = ImageData(path=str(files[name]), orig_name="x.png")
        assert widget.preprocess(payload) == str(files[name].resolve())
        with pytest.raises(Exception):  # what gradio's own widget does with it
            gr.Image(type="filepath").preprocess(payload)


def test_upload_widget_takes_base64_through_the_api(files, reference):
    import base64

    from gradio.data_classes import ImageData

    from ui.components import PictureUpload

    data = base64.b64encode(files["RGB PNG"].read_bytes()).decode()
    picture = PictureUpload().preprocess(ImageData(url=f"data:image/png;base64,{data}"))
    assert torch.equal(preprocess.to_model_input(picture), reference)
    with pytest.raises(gr.Error, match="not valid base64"):
        PictureUpload().preprocess(ImageData(url="data:image/png;base64,***"))


def test_sketchpad_widget_refuses_bad_files_in_one_sentence(files):
    from gradio.components.image_editor import EditorData
    from gradio.data_classes import FileData

    from ui.components import PictureSketchpad

    widget = PictureSketchpad(type="numpy")
    assert widget.get_block_name() == "imageeditor"
    assert widget.get_config().keys() == gr.Sketchpad(type="numpy").get_config().keys()  # same widget
    for name in ("zero bytes", "truncated PNG", "20000 x 20000 PNG (PIL's bomb limit)", "1 x 1 pixel"):
        payload = EditorData(background=None, layers=[], composite=FileData(path=str(files[name])))
        with pytest.raises(gr.Error, match=REFUSED[name][1]):
            widget.preprocess(payload)
    good = EditorData(background=None, layers=[], composite=FileData(path=str(files["RGB PNG"])))
    assert widget.preprocess(good)["composite"].shape == (280, 280, 2)  # grey + alpha, decoded once


# ----------------------------------------------------------------------------- numbers: the checks


@pytest.mark.parametrize("value", [None, True, False, float("nan"), float("inf"), -float("inf"), 2.5, "3", [3],
                                   -1, 11, 10**100, torch.tensor(3)])
def test_check_int_refuses_and_names_the_range(value):
    with pytest.raises(ValueError, match=r"^Steps must be a whole number between 0 and 10, got .+\.$"):
        validation.check_int(value, "Steps", lo=0, hi=10)


def test_check_int_accepts_whole_numbers_of_any_type():
    assert [validation.check_int(v, "n", lo=0, hi=10) for v in (3, 3.0, np.int64(3), np.float32(3))] == [3] * 4
    assert all(type(validation.check_int(v, "n", lo=0, hi=10)) is int for v in (np.int64(3), 3.0))


@pytest.mark.parametrize("value", [None, True, float("nan"), float("inf"), "0.1", 0.0, 1.5, -1e-9, 10**400])
def test_check_float_refuses_and_names_the_range(value):
    with pytest.raises(ValueError, match=r"^lr must be a number greater than 0 and at most 1, got .+\.$"):
        validation.check_float(value, "lr", lo=0, hi=1, lo_open=True)


def test_ui_checks_are_the_library_checks_as_gr_error():
    from ui import common

    for call, lib in [
        (lambda: common.check_int(float("nan"), "Seed", 0, 9), lambda: validation.check_int(float("nan"), "Seed", lo=0, hi=9)),
        (lambda: common.check_float(7.0, "Strength", 0.0, 2.0), lambda: validation.check_float(7.0, "Strength", lo=0, hi=2)),
    ]:
        with pytest.raises(ValueError) as expected:
            lib()
        with pytest.raises(gr.Error) as got:
            call()
        assert got.value.message == str(expected.value)
    with pytest.raises(gr.Error, match="Known datasets"):
        common.check_dataset(7)
    with pytest.raises(gr.Error, match="Unknown class True"):
        common.class_index("mnist", True)


# ----------------------------------------------------------------------------- numbers: sampling


@pytest.fixture(scope="module")
def models(root: Path) -> dict[str, torch.nn.Module]:
    return {name: load_checkpoint(root / "checkpoints" / f"mnist-{name}") for name in ("dcgan", "cgan", "vae")}


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0), "n must be a whole number between 1 and 100000, got 0"),
    (dict(n=-3), "n must be a whole number between 1 and 100000"),
    (dict(n=10**9), "n must be a whole number between 1 and 100000"),
    (dict(n=NAN), "n must be a whole number"),
    (dict(n=2.5), "n must be a whole number"),
    (dict(n=True), "n must be a whole number"),
    (dict(seed=-1), r"seed must be a whole number between 0 and 9223372036854775807"),
    (dict(seed=2**64), "seed must be a whole number"),
    (dict(seed=NAN), "seed must be a whole number"),
    (dict(truncation=0.0), r"truncation must be None \(no truncation\) or a number greater than 0 and at most 10"),
    (dict(truncation=-1.0), "truncation must be None"),
    (dict(truncation=NAN), "truncation must be None"),
    (dict(truncation=INF), "truncation must be None"),
    (dict(truncation=1e300), "truncation must be None"),
    (dict(batch_size=0), "batch_size must be a whole number between 1 and 100000"),
])
def test_sample_refuses_bad_numbers(models, kwargs, message):
    args = {"n": 4, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        sampling.sample(models["dcgan"], args.pop("n"), **args)


@pytest.mark.parametrize("labels, message", [
    (10, "label must be a whole number between 0 and 9, got 10"),
    (-1, "label must be a whole number between 0 and 9"),
    (2.5, "label must be a whole number"),
    (NAN, "label must be a whole number"),
    (torch.full((4,), 2.5), "labels must be whole numbers from 0 to 9"),
    (torch.tensor([0, 1, 2, 99]), "got values from 0 to 99"),
    ("seven", "labels must be 4 whole numbers"),
])
def test_sample_refuses_bad_labels(models, labels, message):
    with pytest.raises(ValueError, match=message):
        sampling.sample(models["cgan"], 4, seed=0, labels=labels)
    assert sampling.sample(models["cgan"], 4, seed=0, labels=np.int64(3)).shape == (4, 1, 28, 28)


def test_interpolation_refuses_bad_numbers(models):
    with pytest.raises(ValueError, match="steps must be a whole number between 2 and 1000, got 1"):
        sampling.interpolate(models["dcgan"], seed_a=0, seed_b=1, steps=1)
    with pytest.raises(ValueError, match="steps must be a whole number between 2 and 1000"):
        sampling.interpolate(models["dcgan"], seed_a=0, seed_b=1, steps=10**7)
    with pytest.raises(ValueError, match="seed_b must be a whole number"):
        sampling.interpolate(models["dcgan"], seed_a=0, seed_b=NAN)
    with pytest.raises(ValueError, match="Unknown interpolation 'cubic'; choose one of: lerp, slerp"):
        sampling.interpolate(models["dcgan"], seed_a=0, seed_b=1, method="cubic")
    with pytest.raises(ValueError, match="label must be a whole number between 0 and 9"):
        sampling.interpolate(models["cgan"], seed_a=0, seed_b=1, label=12)
    with pytest.raises(ValueError, match="class_b must be a whole number between 0 and 9, got -2"):
        sampling.interpolate_classes(models["cgan"], class_a=1, class_b=-2, seed=0)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        sampling.interpolate_classes(models["cgan"], class_a=1, class_b=2, seed=-5)
    good = torch.zeros(1, 28, 28)
    with pytest.raises(ValueError, match="NaN"):
        sampling.interpolate_images(models["vae"], good, torch.full((1, 28, 28), NAN))
    with pytest.raises(ValueError, match=r"shape \(1, 28, 28\)"):
        sampling.interpolate_images(models["vae"], good, torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="steps must be a whole number"):
        sampling.interpolate_images(models["vae"], good, good, steps=0)


@pytest.mark.parametrize("strength", [NAN, INF, -0.5, 4.5, None, True])
def test_augment_strength_is_checked(strength):
    x = torch.zeros(2, 1, 28, 28)
    for fn in (augment.classic_augment, augment.diff_augment):
        with pytest.raises(ValueError, match="strength must be a number between 0 and 4"):
            fn(x, strength=strength)


# ----------------------------------------------------------------------------- numbers: training


def config(**overrides):
    from aigc_models.training import TrainConfig

    return TrainConfig(**{"model": "dcgan", "dataset": "mnist", "device": "cpu", **overrides})


TRAIN_CASES = [
    (dict(steps=0), "steps must be a whole number between 1 and 1000000000, got 0"),
    (dict(steps=-5), "steps must be a whole number"),
    (dict(steps=NAN), "steps must be a whole number"),
    (dict(steps=10**12), "steps must be a whole number"),
    (dict(batch_size=0), "batch_size must be a whole number between 1 and 4096, got 0"),
    (dict(batch_size=10**6), "batch_size must be a whole number between 1 and 4096"),
    (dict(batch_size=True), "batch_size must be a whole number"),
    (dict(batch_size=16.5), "batch_size must be a whole number"),
    (dict(lr_g=0.0), "lr_g must be a number greater than 0 and at most 1, got 0"),
    (dict(lr_d=-1e-3), "lr_d must be a number greater than 0 and at most 1"),
    (dict(lr=NAN), "lr must be a number greater than 0 and at most 1, got nan"),
    (dict(lr=INF), "lr must be a number greater than 0 and at most 1, got inf"),
    (dict(lr_g=10.0), "lr_g must be a number"),
    (dict(betas=(1.0, 0.999)), "beta1 must be a number at least 0 and less than 1, got 1"),
    (dict(betas=(0.5, NAN)), "beta2 must be a number"),
    (dict(betas=(0.5,)), "betas must be None or two numbers"),
    (dict(ema=1.0), "ema must be a number at least 0 and less than 1"),
    (dict(ema=-0.1), "ema must be a number"),
    (dict(r1=-1.0), r"r1 \(0 = off\) must be a number between 0 and 10000, got -1"),
    (dict(r1=NAN), r"r1 \(0 = off\) must be a number"),
    (dict(r1_every=0), "r1_every must be a whole number between 1"),
    (dict(seed=-1), "seed must be a whole number between 0 and 9223372036854775807"),
    (dict(seed=NAN), "seed must be a whole number"),
    (dict(max_seconds=-1.0), r"max_seconds must be None \(no time limit\) or a number between 0 and 10000000"),
    (dict(max_seconds=NAN), "max_seconds must be None"),
    (dict(log_every=0), "log_every must be a whole number between 1"),
    (dict(sample_every=-1), "sample_every must be a whole number between 1"),
    (dict(eval_every=-1), r"eval_every \(0 = off\) must be a whole number between 0"),
    (dict(model="stylegan"), "Unknown model 'stylegan'. Known models: " + ", ".join(REGISTRY)),
    (dict(dataset="cifar10"), "Unknown dataset 'cifar10'. Known datasets: mnist, fashion-mnist"),
    (dict(dataset=None), "Unknown dataset None"),
    (dict(loss="wgan"), "Unknown loss 'wgan'; choose one of: ns, hinge"),
    (dict(diffaugment="translation,flip"), "Unknown DiffAugment policy 'flip'; choose one of: translation, cutout"),
    (dict(device="tpu"), "Unknown device 'tpu'; choose one of: auto, cpu, cuda"),
]


@pytest.mark.parametrize("overrides, message", TRAIN_CASES)
def test_train_config_refuses_bad_fields(overrides, message, monkeypatch):
    from aigc_models import training

    with pytest.raises(ValueError, match=message):
        config(**overrides).validate()
    # train() checks first, before building a model or loading data
    monkeypatch.setattr(training, "build_for_training", lambda *a, **k: pytest.fail("built a model"))
    with pytest.raises(ValueError, match=message):
        next(training.train(config(**overrides)))


def test_train_config_accepts_the_cli_and_app_defaults():
    cfg = config(steps=10**9, max_seconds=60.0, batch_size=64.0, lr_g=np.float32(2e-4), betas=[0.5, 0.999])
    assert cfg.validate() is cfg
    assert cfg.batch_size == 64 and type(cfg.batch_size) is int and cfg.betas == (0.5, 0.999)
    assert config(max_seconds=0, eval_every=0, ema=0.999, diffaugment="translation, cutout").validate()


@pytest.mark.parametrize("argv, needle", [
    (["--batch-size", "0"], "batch_size must be a whole number between 1 and 4096, got 0."),
    (["--lr-g", "nan"], "lr_g must be a number greater than 0 and at most 1, got nan."),
    (["--steps", "-1"], "steps must be a whole number between 1 and 1000000000, got -1."),
    (["--max-seconds", "inf"], "max_seconds must be None (no time limit)"),
    (["--seed", "-7"], "seed must be a whole number between 0"),
])
def test_cli_train_refuses_bad_numbers_in_one_line(argv, needle, capsys):
    from aigc_models.cli import main

    assert main(["train", "--model", "dcgan", "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


# ----------------------------------------------------------------------------- numbers through the handlers


@pytest.mark.parametrize("args, message", [
    ((NAN, 0, 0, False), "Number of images must be a whole number between 1 and 256, got nan."),
    ((4, 2**40, 0, False), "Seed must be a whole number between 0 and 2147483647"),
    ((4, INF, 0, False), "Seed must be a whole number"),
    ((4, 0, NAN, False), "Truncation must be a number between 0 and 5, got nan."),
])
def test_gan_tab_refuses_bad_numbers(ck, args, message):
    from ui.gan import sample_gan

    with pytest.raises(gr.Error, match=message):
        sample_gan(ck("mnist-dcgan"), *args)


def test_other_tabs_refuse_bad_numbers_and_names(ck):
    from ui import augment as augment_tab
    from ui import cgan, interpolate, train, vae

    with pytest.raises(gr.Error, match="Strength must be a number between 0 and 2, got nan"):
        augment_tab.preview_augment("mnist", 4, NAN, 0)
    with pytest.raises(gr.Error, match="Known datasets: mnist, fashion-mnist"):
        augment_tab.preview_augment("cifar10", 4, 1.0, 0)
    with pytest.raises(gr.Error, match="Number of images must be a whole number between 1 and 256, got -1"):
        vae.prior_samples(ck("mnist-vae"), -1, 0)
    with pytest.raises(gr.Error, match="Steps must be a whole number between 2 and 32"):
        interpolate.interpolate_seeds(ck("mnist-dcgan"), 0, 1, 10**6, None)
    with pytest.raises(gr.Error, match="Unknown class 'Sneaker' for mnist"):
        cgan.morph_classes(ck("mnist-cgan"), "1", "Sneaker", 6, 0)
    form = ["dcgan", "mnist", 10, 16, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", False, 0.0, 0, "/tmp/unused"]
    with pytest.raises(gr.Error, match="lr_g must be a number greater than 0 and at most 1, got nan"):
        train.make_config(*form[:4], NAN, *form[5:])
    with pytest.raises(gr.Error, match="steps must be a whole number"):
        train.make_config(*form[:2], INF, *form[3:])


# ----------------------------------------------------------------------------- properties (hypothesis)

DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64, np.bool_]


@st.composite
def image_arrays(draw) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    h, w = draw(st.integers(0, 40)), draw(st.integers(0, 40))
    shape = draw(st.sampled_from([(h, w), (h, w, 1), (h, w, 2), (h, w, 3), (h, w, 4), (h, w, 5), (h,), (2, h, w, 3)]))
    return draw(hnp.arrays(dtype, shape))  # any values: NaN, inf, negative, huge


def assert_model_input_or_one_sentence(picture) -> None:
    try:
        x = preprocess.to_model_input(picture)
    except ValueError as err:  # any other exception fails the test
        assert one_sentence(str(err)), str(err)
        return
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert torch.isfinite(x).all() and x.min() >= -1 and x.max() <= 1


@FAST
@given(image_arrays())
def test_property_any_array_gives_a_model_input_or_a_value_error(arr):
    assert_model_input_or_one_sentence(arr)


_GOOD_PNG = encode(Image.fromarray(stroke()[::4, ::4]))


@FAST
@given(st.one_of(
    st.binary(max_size=300),
    st.integers(0, len(_GOOD_PNG)).map(lambda k: _GOOD_PNG[:k]),  # truncated anywhere
    st.tuples(st.integers(0, len(_GOOD_PNG) - 1), st.integers(0, 255)).map(  # one byte changed
        lambda p: _GOOD_PNG[: p[0]] + bytes([p[1]]) + _GOOD_PNG[p[0] + 1 :]),
))
def test_property_any_bytes_give_a_model_input_or_a_value_error(data):
    assert_model_input_or_one_sentence(data)


NUMBERS = st.one_of(st.integers(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True, allow_infinity=True),
                    st.booleans(), st.none(), st.text(max_size=3))


def is_whole(value) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float))
            and math.isfinite(value) and float(value).is_integer())


@FAST
@given(NUMBERS, st.integers(-100, 100), st.integers(0, 10**6))
def test_property_check_int_accepts_exactly_the_whole_numbers_in_range(value, lo, span):
    hi = lo + span
    ok = is_whole(value) and lo <= value <= hi
    try:
        out = validation.check_int(value, "count", lo=lo, hi=hi)
    except ValueError as err:
        assert not ok and f"count must be a whole number between {lo} and {hi}, got" in str(err)
    else:
        assert ok and type(out) is int and out == value


@FAST
@given(NUMBERS, st.floats(-1e6, 1e6), st.floats(0, 1e6), st.booleans(), st.booleans())
def test_property_check_float_accepts_exactly_the_finite_numbers_in_range(value, lo, span, lo_open, hi_open):
    hi = lo + span
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    ok = number and abs(value) < 1e308 and math.isfinite(float(value)) and (
        (lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi))
    try:
        out = validation.check_float(value, "rate", lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
    except ValueError as err:
        assert not ok and str(err).startswith("rate must be a number ") and "got" in str(err)
    else:
        assert ok and type(out) is float and out == float(value)


@FAST
@given(st.fixed_dictionaries({}, optional={
    "steps": NUMBERS, "batch_size": NUMBERS, "lr_g": NUMBERS, "lr": NUMBERS, "seed": NUMBERS, "ema": NUMBERS,
    "max_seconds": NUMBERS, "log_every": NUMBERS, "eval_every": NUMBERS,
}))
def test_property_train_config_is_valid_or_names_the_field(overrides):
    from aigc_models.training import MAX_BATCH_SIZE, MAX_STEPS

    try:
        cfg = config(**overrides).validate()
    except ValueError as err:
        assert any(str(err).startswith(f"{field} ") for field in overrides), str(err)
        return
    assert 1 <= cfg.steps <= MAX_STEPS and 1 <= cfg.batch_size <= MAX_BATCH_SIZE
    assert 0 < cfg.lr_g <= 1 and 0 < cfg.lr <= 1 and 0 <= cfg.ema < 1 and 0 <= cfg.seed <= validation.MAX_SEED
    assert cfg.max_seconds is None or 0 <= cfg.max_seconds <= 10**7
    assert 1 <= cfg.log_every and 0 <= cfg.eval_every


# ----------------------------------------------------------------------------- the running app


def test_running_app_refuses_bad_uploads_and_keeps_serving(root, files, tmp_path):
    from gradio_client import Client, handle_file

    from app_helpers import shared_server

    client = Client(shared_server(root).url, verbose=False)
    vae = str(root / "checkpoints" / "mnist-vae")
    for name in ("truncated PNG", "zero bytes", "20000 x 20000 PNG (PIL's bomb limit)", "1 x 1 pixel"):
        upload = tmp_path / f"{name.split()[0]}.png"  # the client sends the file's name too
        upload.write_bytes(files[name].read_bytes())
        with pytest.raises(Exception, match=REFUSED[name][1]):
            client.predict(vae, None, handle_file(str(upload)), 0, api_name="/reconstruct")
    bomb_sketch = {"background": None, "layers": [], "composite": handle_file(str(files["20000 x 20000 PNG (PIL's bomb limit)"]))}
    with pytest.raises(Exception, match="4096 x 4096"):
        client.predict(vae, bomb_sketch, None, 0, api_name="/reconstruct")
    # the worker is still there and still right
    good = tmp_path / "good.png"
    good.write_bytes(files["palette with transparency"].read_bytes())
    seen, recon, err, latent_map, summary = client.predict(vae, None, handle_file(str(good)), 0, api_name="/reconstruct")
    assert "Input: your upload" in summary and Image.open(seen).size == (224, 224)
    assert "Input: test image #2" in client.predict(vae, None, None, 2, api_name="/reconstruct")[4]


def test_pictures_are_framed_as_each_dataset_was_made():
    """MNIST: the object fits 20 x 20 with its centre of mass in the middle; Fashion-MNIST: the
    longest side fills 28. A wide box drawn off-centre lands where each dataset's images are."""
    canvas = np.full((200, 300), 255, np.uint8)
    canvas[120:180, 20:260] = 0  # a dark bar, low and to the left
    for dataset, side in (("mnist", 20), ("fashion-mnist", 28)):
        x = preprocess.to_model_input(canvas, dataset=dataset)[0, 0]
        cols = torch.nonzero((x > 0).any(0)).flatten()
        assert cols.max() - cols.min() + 1 == side, dataset
        rows = torch.nonzero((x > 0).any(1)).flatten()
        assert abs((rows.min() + rows.max()) / 2 - 13.5) <= 1 and abs((cols.min() + cols.max()) / 2 - 13.5) <= 1
    with pytest.raises(ValueError, match="Unknown dataset"):
        preprocess.to_model_input(canvas, dataset="cifar")
