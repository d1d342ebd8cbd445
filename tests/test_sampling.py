"""Seeded sampling, interpolation, VAE helpers and the image writers."""

from __future__ import annotations

import io

import pytest
import torch
from PIL import Image

from aigc_models import sampling
from aigc_models.checkpoints import load_checkpoint
from aigc_models.data import load_split, to_signed

GENERATORS = ["mlp-gan", "dcgan", "cgan", "cgan-mlp", "vae"]


@pytest.fixture(scope="module")
def models(checkpoint_dirs):
    return {name: load_checkpoint(checkpoint_dirs[name]) for name in [*GENERATORS, "classifier"]}


# ----------------------------------------------------------------------------- latents


def test_latents_are_seeded():
    a = sampling.latents(5, 8, seed=1)
    assert a.shape == (5, 8)
    assert torch.equal(a, sampling.latents(5, 8, seed=1))
    assert not torch.equal(a, sampling.latents(5, 8, seed=2))


@pytest.mark.parametrize("t", [0.5, 1.0, 2.0])
def test_truncation_keeps_latents_inside(t):
    z = sampling.latents(200, 16, seed=0, truncation=t)
    assert z.abs().max() <= t
    assert z.abs().max() > 0.5 * t  # still spread out, not squashed to zero
    untruncated = sampling.latents(200, 16, seed=0)
    inside = untruncated.abs() <= t
    assert torch.equal(z[inside], untruncated[inside])  # only the outliers are redrawn


def test_truncation_must_be_positive():
    with pytest.raises(ValueError):
        sampling.latents(2, 4, seed=0, truncation=0)


def test_even_labels():
    assert sampling.even_labels(20, 10).tolist() == [i // 2 for i in range(20)]
    assert torch.bincount(sampling.even_labels(100, 10)).tolist() == [10] * 10


# ----------------------------------------------------------------------------- sample


@pytest.mark.parametrize("name", GENERATORS)
def test_sample_shape_range_and_seed(models, name):
    model = models[name]
    a = sampling.sample(model, 12, seed=3)
    assert a.shape == (12, 1, 28, 28) and a.dtype == torch.float32
    assert a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, sampling.sample(model, 12, seed=3))
    assert not torch.equal(a, sampling.sample(model, 12, seed=4))
    # batching does not change the images
    assert torch.allclose(a, sampling.sample(model, 12, seed=3, batch_size=5), atol=1e-5)


def test_sample_with_truncation(models):
    a = sampling.sample(models["dcgan"], 8, seed=0, truncation=0.5)
    b = sampling.sample(models["dcgan"], 8, seed=0)
    assert a.shape == (8, 1, 28, 28)
    assert not torch.equal(a, b)


def test_conditional_labels(models):
    model = models["cgan"]
    threes = sampling.sample(model, 4, seed=0, labels=3)
    same = sampling.sample(model, 4, seed=0, labels=torch.full((4,), 3))
    assert torch.equal(threes, same)
    assert not torch.equal(threes, sampling.sample(model, 4, seed=0, labels=5))
    default = sampling.sample(model, 10, seed=0)
    assert torch.equal(default, sampling.sample(model, 10, seed=0, labels=torch.arange(10)))
    with pytest.raises(ValueError):
        sampling.sample(model, 4, seed=0, labels=10)
    with pytest.raises(ValueError):
        sampling.sample(model, 4, seed=0, labels=torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="unconditional"):
        sampling.sample(models["dcgan"], 4, seed=0, labels=1)
    with pytest.raises(ValueError):
        sampling.sample(model, 0, seed=0)


def test_discriminator_scores(models):
    x = sampling.sample(models["dcgan"], 6, seed=0)
    scores = sampling.discriminator_scores(models["dcgan"], x)
    assert scores.shape == (6,) and scores.min() >= 0 and scores.max() <= 1
    cond = sampling.discriminator_scores(models["cgan"], x, torch.arange(6))
    assert cond.shape == (6,)


# ----------------------------------------------------------------------------- interpolation


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_endpoints_are_the_seeds_samples(models, name, method):
    model = models[name]
    frames = sampling.interpolate(model, seed_a=1, seed_b=2, steps=5, method=method)
    assert frames.shape == (5, 1, 28, 28)
    assert frames.min() >= -1 and frames.max() <= 1
    a = sampling.sample(model, 1, seed=1, labels=0 if model.num_classes else None)
    b = sampling.sample(model, 1, seed=2, labels=0 if model.num_classes else None)
    assert torch.allclose(frames[0], a[0], atol=1e-5)
    assert torch.allclose(frames[-1], b[0], atol=1e-5)
    assert not torch.allclose(frames[2], a[0], atol=1e-3)


def test_interpolation_keeps_the_label(models):
    frames = sampling.interpolate(models["cgan"], seed_a=1, seed_b=2, steps=3, label=7)
    b = sampling.sample(models["cgan"], 1, seed=2, labels=7)
    assert torch.allclose(frames[-1], b[0], atol=1e-5)


def test_slerp_keeps_norms_and_lerp_does_not():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, generator=g), torch.randn(64, generator=g)
    b = b / b.norm() * a.norm()
    t = torch.linspace(0, 1, 9)
    s = sampling.slerp(a, b, t)
    assert s.shape == (9, 64)
    assert torch.allclose(s.norm(dim=1), a.norm().expand(9), rtol=1e-4)
    assert torch.allclose(s[0], a, atol=1e-5) and torch.allclose(s[-1], b, atol=1e-5)
    lin = sampling.lerp(a, b, t)
    assert lin[4].norm() < 0.9 * a.norm()  # near-orthogonal Gaussians: the midpoint shrinks
    assert torch.allclose(sampling.slerp(a, a, t), a.expand(9, -1))  # parallel: no NaN


def test_path_errors():
    a, b = torch.zeros(4), torch.ones(4)
    with pytest.raises(ValueError):
        sampling.path(a, b, 1, "lerp")
    with pytest.raises(ValueError):
        sampling.path(a, b, 4, "cubic")


def test_interpolate_classes(models):
    model = models["cgan"]
    frames = sampling.interpolate_classes(model, class_a=1, class_b=8, seed=5, steps=6)
    assert frames.shape == (6, 1, 28, 28)
    assert frames.min() >= -1 and frames.max() <= 1
    assert torch.allclose(frames[0], sampling.sample(model, 1, seed=5, labels=1)[0], atol=1e-5)
    assert torch.allclose(frames[-1], sampling.sample(model, 1, seed=5, labels=8)[0], atol=1e-5)
    with pytest.raises(ValueError, match="conditional"):
        sampling.interpolate_classes(models["dcgan"], class_a=1, class_b=2, seed=0)


# ----------------------------------------------------------------------------- VAE


def test_vae_encode_decode_reconstruct(models):
    vae = models["vae"]
    x = to_signed(load_split("mnist", train=False).images[:6])
    mu, logvar = sampling.encode(vae, x)
    assert mu.shape == logvar.shape == (6, 8)
    out = sampling.decode(vae, mu)
    assert out.shape == (6, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
    rec = sampling.reconstruct(vae, x)
    assert torch.equal(rec, out)  # the posterior mean: deterministic
    frames = sampling.interpolate_images(vae, x[0], x[1], steps=4)
    assert frames.shape == (4, 1, 28, 28)
    assert torch.allclose(frames[0], rec[0], atol=1e-5) and torch.allclose(frames[-1], rec[1], atol=1e-5)


# ----------------------------------------------------------------------------- writers


def test_grid_size_and_save(tmp_path):
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    pil = sampling.grid(images, nrow=4)
    assert pil.mode == "L" and pil.size == (4 * 28 + 5 * 2, 4 * 28 + 5 * 2)
    assert sampling.grid(images[:10], nrow=5, padding=0).size == (5 * 28, 2 * 28)
    assert sampling.grid(images, nrow=4, scale=3).size == (3 * 122, 3 * 122)
    path = sampling.save_grid(images, tmp_path / "g.png", nrow=8)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (8 * 28 + 9 * 2, 2 * 28 + 3 * 2)


def test_grid_pixels_follow_the_images():
    black, white = -torch.ones(1, 1, 28, 28), torch.ones(1, 1, 28, 28)
    pil = sampling.grid(torch.cat([black, white]), nrow=2, padding=0)
    px = torch.tensor(list(pil.getdata())).view(28, 56)
    assert (px[:, :28] == 0).all() and (px[:, 28:] == 255).all()


def test_gif_bytes_is_a_multi_frame_gif(tmp_path):
    frames = torch.linspace(-1, 1, 5).view(5, 1, 1, 1).expand(5, 1, 28, 28).contiguous()
    data = sampling.gif_bytes(frames, scale=2)
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF"
        assert gif.size == (56, 56)
        assert gif.is_animated and gif.n_frames == 5 + 3  # bounce: 0..4, then 3..1
    with Image.open(io.BytesIO(sampling.gif_bytes(frames, bounce=False))) as gif:
        assert gif.n_frames == 5 and gif.size == (112, 112)
    path = sampling.save_gif(frames, tmp_path / "a.gif")
    assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
