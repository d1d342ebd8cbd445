"""The generation tabs' "enlarge" switch (``ui.enlarge``): samples shown 2 or 4 times larger through
a super-resolution model of their dataset, the model picked by its stored PSNR among the pixel-loss
upscalers, the PNG's provenance naming it, and a refusal in the browser's language for a size with
no upscaler or a bad value. Tiny untrained SR checkpoints are made here (weights fixed by the seed);
``SuperResolution.enlarge`` is also checked on the shipped ESPCN x2."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from aigc_models import provenance
from aigc_models.checkpoints import SHIPPED_DIR, load_checkpoint, save_checkpoint
from aigc_models.data import load_split, to_signed
from aigc_models.models import build_model, make_config


class Browser:
    """What a handler reads of a request: the browser's languages."""

    def __init__(self, languages: str) -> None:
        self.headers = {"accept-language": languages}


ZH = Browser("zh-CN,zh;q=0.9,en;q=0.8")


def tiny_upscaler(family: str, scale: int, **config: float) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(family, make_config(family, scale=scale, channels=8, channels2=4, **config))


@pytest.fixture(scope="module")
def sr_folder(tmp_path_factory) -> Path:
    """MNIST: SRCNN x2 (stored PSNR 30), ESPCN x2 (25), ESPCN x4 (20) and an adversarial ESPCN x4
    (stored PSNR 40, but never picked); Fashion-MNIST: no upscaler at all."""
    folder = tmp_path_factory.mktemp("enlarge")
    for name, family, scale, psnr, extra in (("mnist-srcnn-x2", "srcnn", 2, 30.0, {}),
                                             ("mnist-espcn-x2", "espcn", 2, 25.0, {}),
                                             ("mnist-espcn-x4", "espcn", 4, 20.0, {}),
                                             ("mnist-espcn-x4-gan", "espcn", 4, 40.0, {"adversarial": 0.01})):
        save_checkpoint(tiny_upscaler(family, scale, **extra), folder / name, metrics={"psnr": psnr, "scale": scale})
    return folder


@pytest.fixture(autouse=True)
def env(app_environment: None, root: Path, sr_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", os.pathsep.join([str(root / "checkpoints"), str(sr_folder)]))


# ----------------------------------------------------------------------------- the library


@pytest.mark.parametrize("family", ["srcnn", "espcn"])
@pytest.mark.parametrize("scale", [2, 4])
def test_enlarge_takes_any_size_and_multiplies_it(family, scale):
    model = tiny_upscaler(family, scale).eval()
    images = torch.rand(3, 1, 28, 20) * 2 - 1
    with torch.no_grad():
        out = model.enlarge(images)
        assert out.shape == (3, 1, 28 * scale, 20 * scale) and out.min() >= -1 and out.max() <= 1
        low = torch.rand(2, 1, 28 // scale, 28 // scale) * 2 - 1
        assert torch.equal(model.enlarge(low), model.upscale(low))  # on the trained size it is the upscaling
    for bad in (torch.zeros(2, 3, 28, 28), torch.zeros(28, 28), torch.zeros(1, 1, 28, 28, dtype=torch.uint8), "x"):
        with pytest.raises(ValueError, match=r"shape \(B, 1, H, W\)"):
            model.enlarge(bad)


def test_the_shipped_upscaler_enlarges_a_digit_into_one_that_shrinks_back_to_it():
    """Trained to undo area shrinking, ESPCN x2 applied to full-size test digits gives 56 x 56
    pictures whose 2 x 2 block means are the digits again (nearly): it adds detail within each
    pixel, it does not move strokes. A network that ignored its input would fail this."""
    model = load_checkpoint(SHIPPED_DIR / "mnist-espcn-x2").eval()
    digits = to_signed(load_split("mnist", train=False).images[:64])
    with torch.no_grad():
        big = model.enlarge(digits)
    assert big.shape == (64, 1, 56, 56)
    back = F.avg_pool2d(big, 2)
    error = (back - digits).abs().mean().item()
    shuffled = (back - digits.roll(1, dims=0)).abs().mean().item()
    assert error < 0.1 and error < shuffled / 4, (error, shuffled)


# ----------------------------------------------------------------------------- picking the upscaler


def test_the_upscaler_is_the_pixel_loss_model_with_the_highest_stored_psnr():
    from ui import enlarge

    assert enlarge.upscaler("mnist", 2)["name"] == "mnist-srcnn-x2"  # 30 dB before ESPCN's 25
    assert enlarge.upscaler("mnist", 4)["name"] == "mnist-espcn-x4"  # the adversarial one is never picked
    assert enlarge.upscaler("fashion-mnist", 2) is None


def test_scale_one_leaves_the_samples_untouched_and_says_nothing():
    from ui import enlarge

    images = torch.rand(2, 1, 28, 28) * 2 - 1
    same, extra = enlarge.enlarged(images, "mnist", 1, "en")
    assert same is images and extra == {}


@pytest.mark.parametrize("value", [2, "2", 2.0])
def test_a_scale_of_two_goes_through_the_picked_model(value):
    from ui import enlarge

    images = torch.rand(2, 1, 28, 28) * 2 - 1
    out, extra = enlarge.enlarged(images, "mnist", value, "en")
    expected = load_checkpoint(enlarge.upscaler("mnist", 2)["path"]).eval()
    with torch.no_grad():
        assert torch.equal(out, expected.enlarge(images))
    assert "mnist-srcnn-x2" in extra["enlarged"] and extra["enlarged"].startswith("x2 ")


@pytest.mark.parametrize("bad", [3, 0, -2, 2.5, "x4", None, True, [2]])
def test_a_bad_scale_is_refused_in_one_sentence_in_both_languages(bad):
    from ui import enlarge

    images = torch.zeros(1, 1, 28, 28)
    with pytest.raises(gr.Error, match="Enlarge must be 1 \\(off\\), 2 or 4"):
        enlarge.enlarged(images, "mnist", bad, "en")
    with pytest.raises(gr.Error, match="放大倍数必须是 1（不放大）、2 或 4"):
        enlarge.enlarged(images, "mnist", bad, "zh")


def test_a_size_with_no_upscaler_is_refused_with_the_command_that_trains_one():
    from ui import enlarge

    command = "python -m aigc_models train --model espcn --dataset fashion-mnist --option scale=4"
    with pytest.raises(gr.Error) as err:
        enlarge.enlarged(torch.zeros(1, 1, 28, 28), "fashion-mnist", 4, "en")
    assert "No x4 upscaler is listed for fashion-mnist" in err.value.message and command in err.value.message
    with pytest.raises(gr.Error) as err:
        enlarge.enlarged(torch.zeros(1, 1, 28, 28), "fashion-mnist", 4, "zh")
    assert "没有 fashion-mnist 的 4 倍超分辨率模型" in err.value.message and command in err.value.message


# ----------------------------------------------------------------------------- the tabs


def test_the_gan_tab_enlarges_its_grid_and_its_png_says_by_what(ck):
    from ui import gan

    plain, _ = gan.sample_gan(ck("mnist-dcgan"), 4, 3, 0, False)
    big, png = gan.sample_gan(ck("mnist-dcgan"), 4, 3, 0, False, 4)
    assert "enlarged" not in (provenance.read(gan.sample_gan(ck("mnist-dcgan"), 4, 3, 0, False)[1]) or {})
    info = provenance.read(png)
    assert info["enlarged"].startswith("x4 by the super-resolution model mnist-espcn-x4") and info["seed"] == 3
    # 2 x 2 tiles of 112 pixels (+ 2-pixel gaps) at least, against 28-pixel tiles repeated 9 times
    assert big.width >= 2 * 112 + 6 and big.width != plain.width
    captioned, _ = gan.sample_gan(ck("mnist-dcgan"), 4, 3, 0, True, 2)  # D scores the samples as drawn
    assert isinstance(captioned, Image.Image) and captioned.mode == "RGB"


def test_the_cgan_tab_refuses_an_enlargement_with_no_upscaler_in_the_browsers_language(ck, root, monkeypatch):
    from ui import cgan

    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", str(root / "checkpoints"))  # no upscaler listed
    assert cgan.sample_classes(ck("mnist-cgan"), "3", "one", 2, 0)[0] is not None
    with pytest.raises(gr.Error, match="No x2 upscaler is listed for mnist"):
        cgan.sample_classes(ck("mnist-cgan"), "3", "one", 2, 0, 2)
    with pytest.raises(gr.Error, match="没有 mnist 的 2 倍超分辨率模型"):
        cgan.sample_classes(ck("mnist-cgan"), "3", "one", 2, 0, 2, ZH)


def test_the_diffusion_tab_refuses_a_bad_scale_before_it_samples(ck):
    from ui import diffusion

    calls = []
    with pytest.raises(gr.Error, match="Enlarge must be"):
        diffusion.sample_diffusion(ck("mnist-diffusion"), "3", 2, 0, None, 2, 1.0, 3, progress=calls.append)
    assert calls == []
    path, _ = diffusion.sample_diffusion(ck("mnist-diffusion"), "3", 2, 0, None, 2, 1.0, 2, progress=None)
    assert provenance.read(path)["enlarged"].startswith("x2 by the super-resolution model mnist-srcnn-x2")


def test_the_vae_tab_enlarges_its_prior_samples_and_refuses_a_bad_scale_first(ck, sr_folder, monkeypatch):
    """The same seed decodes the same latents: x4 is the plain grid's samples through mnist-espcn-x4,
    and the PNG says so. A bad scale is refused before the decoder runs."""
    from aigc_models import sampling
    from ui import common, vae

    plain, plain_png = vae.prior_samples(ck("mnist-vae"), 4, 7)
    big, png = vae.prior_samples(ck("mnist-vae"), 4, 7, 4)
    samples = sampling.sample(common.load_model(ck("mnist-vae"), vae.families()), 4, seed=7)
    upscaler = load_checkpoint(sr_folder / "mnist-espcn-x4").eval()
    with torch.no_grad():
        expected = common.to_grid(upscaler.enlarge(samples))
    assert big.tobytes() == expected.tobytes()
    assert plain.tobytes() == common.to_grid(samples).tobytes() != big.tobytes()
    info = provenance.read(png)
    assert info["enlarged"].startswith("x4 by the super-resolution model mnist-espcn-x4") and info["seed"] == 7
    assert "enlarged" not in provenance.read(plain_png)
    decoded = []
    monkeypatch.setattr(sampling, "sample", lambda *args, **kwargs: decoded.append(args) or samples)
    with pytest.raises(gr.Error, match="Enlarge must be 1 \\(off\\), 2 or 4"):
        vae.prior_samples(ck("mnist-vae"), 4, 7, 3)
    with pytest.raises(gr.Error, match="放大倍数必须是"):
        vae.prior_samples(ck("mnist-vae"), 4, 7, "x2", ZH)
    assert decoded == []


def test_the_label_says_the_grid_is_upscaled():
    from ui import enlarge

    assert enlarge.label(1)["label"].key == "samples"
    assert enlarge.label(2)["label"].key == "samples_x2" and enlarge.label(4)["label"].key == "samples_x4"
    assert enlarge.label("junk")["label"].key == "samples"
    assert enlarge.label(4, "prior_samples")["label"].key == "prior_samples_x4"
    assert enlarge.label(1, "prior_samples")["label"].key == "prior_samples"


def test_every_generation_tab_has_the_switch():
    """Every grid of samples drawn from noise carries it: GAN, cGAN, Diffusion, PixelCNN, and the VAE
    tab's samples from the prior."""
    import app
    from ui.i18n import EN
    from ui.i18n import ZH as ZH_TEXT

    demo = app.build_app()
    switches = {block.elem_id: block.value for block in demo.blocks.values()
                if isinstance(block, gr.Radio) and getattr(block.label, "key", None) == "enlarge"}
    assert set(switches) >= {"gan-enlarge", "pixelcnn-enlarge", "vae-enlarge"} and len(switches) == 5
    assert set(switches.values()) == {1}
    for key in ("samples", "prior_samples"):
        for scale in (2, 4):
            assert all(f"{key}_x{scale}" in table for table in (EN, ZH_TEXT)), f"{key}_x{scale} is not translated"
