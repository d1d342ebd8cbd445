"""Every registered family builds from a tiny config and keeps the image contract."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import TINY_OPTIONS

from aigc_models.losses import discriminator_loss, generator_loss, vae_loss
from aigc_models.models import REGISTRY, build_model, check_family, make_config

B = 4


def images(b: int = B, seed: int = 0) -> torch.Tensor:
    return torch.rand(b, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_every_registered_family_has_a_tiny_config():
    assert set(TINY_OPTIONS) == set(REGISTRY)


@pytest.mark.parametrize("family", sorted(REGISTRY))
def test_builds_from_tiny_config_with_the_right_outputs(family):
    torch.manual_seed(0)
    model = build_model(family, **TINY_OPTIONS[family]).eval()
    assert model.family == family
    assert model.config == make_config(family, **TINY_OPTIONS[family])
    x = images()
    with torch.no_grad():
        if model.objective == "gan":
            z = torch.randn(B, model.latent_dim)
            labels = torch.arange(B) % model.num_classes if model.num_classes else None
            out = model.generate(z, labels)
            assert out.shape == (B, 1, 28, 28)
            assert out.dtype == torch.float32
            assert out.min() >= -1 and out.max() <= 1
            logits = model.discriminate(out, labels)
            assert logits.shape == (B,)
            assert torch.isfinite(logits).all()
        elif model.objective == "elbo":
            mu, logvar = model.encode(x)
            assert mu.shape == logvar.shape == (B, model.latent_dim)
            z = model.reparameterize(mu, logvar)
            assert z.shape == (B, model.latent_dim)
            out = model.decode(z)
            assert out.shape == (B, 1, 28, 28)
            assert out.min() >= -1 and out.max() <= 1
            logits, mu2, logvar2 = model(x)
            assert logits.shape == (B, 1, 28, 28)
            assert torch.equal(mu2, mu) and torch.equal(logvar2, logvar)
        elif model.objective == "cross-entropy":
            logits = model(x)
            assert logits.shape == (B, 10)
            feats = model.features(x)
            assert feats.shape == (B, TINY_OPTIONS[family]["feature_dim"])
            assert (feats >= 0).all()
            assert torch.allclose(model.head(feats), logits)  # eval: dropout is off
        elif model.objective == "denoising":
            labels = torch.arange(B) % model.num_classes
            prediction = model(x, torch.full((B,), 500.0), labels)  # the network: noisy image, time, label
            assert prediction.shape == (B, 1, 28, 28) and torch.isfinite(prediction).all()
            out = model.generate(torch.randn(B, model.latent_dim), labels)  # the default sampler from noise
            assert out.shape == (B, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
        elif model.objective == "autoregressive":
            labels = torch.arange(B) % model.num_classes
            levels = model.to_levels(x)  # (B, 1, 28, 28) int64 in 0..K-1
            logits = model(model.from_levels(levels), labels)  # the network: each pixel's K logits
            assert logits.shape == (B, model.levels, 28, 28) and torch.isfinite(logits).all()
            assert model.nll(levels, labels).shape == (B,)
            out = model.generate(torch.randn(B, model.latent_dim), labels)  # pixel by pixel from noise
            assert out.shape == (B, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
        elif model.objective == "regression":  # super-resolution: 28 x 28 -> low resolution -> 28 x 28
            low = model.degrade(x)
            assert low.shape == (B, 1, 28 // model.scale, 28 // model.scale)
            out = model.upscale(low)
            assert out.shape == (B, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
        else:  # a new objective needs its own checks here
            pytest.fail(f"untested objective {model.objective!r}")


def test_cgan_mlp_arch_and_labels_matter():
    torch.manual_seed(0)
    model = build_model("cgan", arch="mlp", latent_dim=8, embed_dim=8, g_hidden=(32, 64), d_hidden=(64, 32)).eval()
    z = torch.randn(1, 8).expand(2, -1)
    with torch.no_grad():
        out = model.generate(z, torch.tensor([0, 5]))
    assert out.shape == (2, 1, 28, 28)
    assert not torch.equal(out[0], out[1])  # same noise, different class -> different image


def test_conditional_model_requires_labels():
    model = build_model("cgan", **TINY_OPTIONS["cgan"]).eval()
    with pytest.raises(ValueError, match="labels"):
        model.generate(torch.randn(2, 8))
    with pytest.raises(ValueError, match="labels"):
        model.discriminate(images(2))


def test_bad_cgan_arch_raises():
    with pytest.raises(ValueError, match="arch"):
        build_model("cgan", arch="transformer")


def test_spectral_norm_is_applied():
    model = build_model("dcgan", **TINY_OPTIONS["dcgan"], spectral_norm=True)
    names = [n for n, _ in model.discriminator.named_parameters()]
    assert any("parametrizations" in n for n in names)
    assert not any("parametrizations" in n for n, _ in model.generator.named_parameters())


def receptive_field_rows(model, position: int) -> int:
    """How many image rows reach D's last feature map at (position, position), by gradient."""
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    feature_map = model.discriminator.features.net[:-1](x)  # without the Flatten
    feature_map[0, :, position, position].sum().backward()
    return int((x.grad[0, 0].abs().sum(1) > 0).sum())


def test_dcgan_third_discriminator_stage_widens_what_d_sees():
    two = build_model("dcgan", **TINY_OPTIONS["dcgan"])
    three = build_model("dcgan", **TINY_OPTIONS["dcgan"], d_stages=3).eval()
    c = three.config.d_channels
    with torch.no_grad():
        assert three.discriminator.features(images()).shape == (B, 4 * c * 4 * 4)
        assert three.discriminate(images()).shape == (B,)
    assert receptive_field_rows(two, 3) == 10  # 10 x 10 pixels before the linear logit
    assert receptive_field_rows(three, 2) == 18  # 18 x 18: most of the 20 x 20 box a digit is drawn in
    with pytest.raises(ValueError, match="d_stages"):
        build_model("dcgan", d_stages=4)


def test_dcgan_discriminator_kernel_sets_what_d_sees():
    for kernel, seen in [(4, 10), (5, 13), (6, 16)]:
        model = build_model("dcgan", **TINY_OPTIONS["dcgan"], d_kernel=kernel).eval()
        with torch.no_grad():
            assert model.discriminate(images()).shape == (B,)
        assert receptive_field_rows(model, 3) == seen  # 3k - 2 pixels square under each feature
    with pytest.raises(ValueError, match="d_kernel"):
        build_model("dcgan", d_kernel=3)
    shipped = build_model("dcgan", **TINY_OPTIONS["dcgan"], d_stages=3, d_kernel=5)  # the shipped DCGANs' D
    assert receptive_field_rows(shipped, 2) == 21


def test_conv_cgan_takes_the_dcgan_discriminator_options():
    model = build_model("cgan", **TINY_OPTIONS["cgan"], d_stages=3, d_kernel=5).eval()
    c = model.config.d_channels
    labels = torch.arange(B) % 10
    with torch.no_grad():
        assert model.discriminator.features(images()).shape == (B, 4 * c * 4 * 4)
        assert model.discriminate(images(), labels).shape == (B,)
    assert receptive_field_rows(model, 2) == 21
    with pytest.raises(ValueError, match="d_stages"):
        build_model("cgan", d_stages=1)


def test_minibatch_std_appends_the_spread_of_each_group():
    from aigc_models.models.base import MinibatchStd

    layer = MinibatchStd(group=4)
    same = torch.ones(8, 5)
    out = layer(same)
    assert out.shape == (8, 6) and torch.equal(out[:, :5], same)
    assert out[:, 5].abs().max() < 1e-3  # identical samples: no spread
    varied = torch.randn(8, 5, generator=torch.Generator().manual_seed(0))
    spread = layer(varied)[:, 5]
    assert (spread > 0.1).all()
    assert torch.equal(spread[:2], spread[2:4])  # samples k and k + 2 share a group (groups of 4 across 8)
    assert layer(torch.randn(1, 5))[:, 5].item() == 0  # a batch of one has no spread
    assert layer(torch.randn(6, 5)).shape == (6, 6)  # 6 is not a multiple of 4: one group


@pytest.mark.parametrize("family", ["mlp-gan", "dcgan"])
def test_minibatch_std_lets_d_see_the_other_samples(family):
    torch.manual_seed(0)
    options = {**TINY_OPTIONS[family], "minibatch_std": True}
    model = build_model(family, **options).eval()
    x = images(4)
    other = x.clone()
    other[1] = -1  # change another sample of the same group
    with torch.no_grad():
        assert model.discriminate(x).shape == (4,)
        assert model.discriminate(x)[0] != model.discriminate(other)[0]
        plain = build_model(family, **TINY_OPTIONS[family]).eval()
        assert plain.discriminate(x)[0] == plain.discriminate(other)[0]


def test_registry_errors_are_clear():
    assert check_family("dcgan") == "dcgan"
    with pytest.raises(ValueError, match="Known models"):
        check_family("stylegan")
    with pytest.raises(ValueError, match="no option"):
        make_config("dcgan", g_chanels=8)


def test_make_config_turns_lists_into_tuples():
    cfg = make_config("mlp-gan", g_hidden=[16, 32])
    assert cfg.g_hidden == (16, 32)


# ----------------------------------------------------------------------------- losses


def test_non_saturating_losses_at_zero_logits():
    zero = torch.zeros(8)
    assert discriminator_loss(zero, zero, "ns").item() == pytest.approx(2 * math.log(2))
    assert generator_loss(zero, "ns").item() == pytest.approx(math.log(2))


def test_hinge_losses():
    real = torch.tensor([2.0, 0.5])  # relu(1 - r): 0, 0.5
    fake = torch.tensor([-2.0, 0.0])  # relu(1 + f): 0, 1
    assert discriminator_loss(real, fake, "hinge").item() == pytest.approx(0.25 + 0.5)
    assert generator_loss(fake, "hinge").item() == pytest.approx(1.0)


def test_unknown_gan_loss_raises():
    with pytest.raises(ValueError):
        discriminator_loss(torch.zeros(2), torch.zeros(2), "wgan")
    with pytest.raises(ValueError):
        generator_loss(torch.zeros(2), "wgan")


def test_vae_loss_terms():
    x = images(3)
    logits = torch.randn(3, 1, 28, 28)
    mu, logvar = torch.zeros(3, 4), torch.zeros(3, 4)
    total, recon, kl = vae_loss(logits, x, mu, logvar)
    assert kl.item() == pytest.approx(0.0, abs=1e-6)  # posterior == prior
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, (x + 1) / 2, reduction="sum") / 3
    assert recon.item() == pytest.approx(expected.item(), rel=1e-5)
    assert total.item() == pytest.approx(recon.item() + kl.item())
    _, _, kl2 = vae_loss(logits, x, torch.ones(3, 4), torch.zeros(3, 4))
    assert kl2.item() == pytest.approx(0.5 * 4)  # 0.5 * sum mu^2 per image
