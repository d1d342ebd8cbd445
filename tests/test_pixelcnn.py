"""The PixelCNN family: masks (by gradients), the exact likelihood, the two samplers, completion,
the predicted distribution of a pixel, the binarization protocol, a save/load round trip and the CLI.

Tiny configs on a CPU. The mask tests find what every output pixel depends on from one backward
pass over 784 copies of an image (copy i's gradient is what pixel i sees).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import run_events, tiny_train_config

from aigc_models import cli, data, sampling
from aigc_models.checkpoints import load_checkpoint, read_meta, save_checkpoint
from aigc_models.losses import categorical_nll
from aigc_models.metrics import evaluate_likelihood
from aigc_models.models import build_model
from aigc_models.models.pixelcnn import PixelCNN, complete, dequantize, pixel_distribution, quantize, sample_pixels

TINY = {"channels": 8, "layers": 3, "kernel_size": 5}
SIDE = 28


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**overrides) -> PixelCNN:
    """A tiny model with every weight perturbed, so that its logits depend on every input they may."""
    torch.manual_seed(0)
    model = build_model("pixelcnn", **{**TINY, **overrides}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


def mnist_test_images(n: int) -> torch.Tensor:
    """The first ``n`` MNIST test images, ``(n, 1, 28, 28)`` in [-1, 1] (real grey values)."""
    return data.to_signed(data.load_split("mnist", train=False).images[:n])


# ----------------------------------------------------------------------------- masks


def dependence(fn, x: torch.Tensor) -> torch.Tensor:
    """``(784, 784)`` bool: entry [i, j] says whether output pixel i of ``fn`` (images ``(N, 1, 28, 28)``
    -> features ``(N, C, 28, 28)``) changes with input pixel j (raster order), at input ``x`` ``(1, 1, 28, 28)``."""
    copies = x.repeat(SIDE * SIDE, 1, 1, 1).requires_grad_(True)
    out = fn(copies)  # (784, C, 28, 28)
    i = torch.arange(SIDE * SIDE)
    out[i, :, i // SIDE, i % SIDE].sum().backward()
    return copies.grad.flatten(1) != 0  # row i: the gradient of output pixel i


def cone(r: int, c: int, *, up: int, left: int, side: int, own_row: bool = True) -> torch.Tensor:
    """``(784,)`` bool: rows r - up .. r - 1 at columns c - side .. c + side, and (own_row) row r at
    columns c - left .. c - 1; clipped to the image."""
    grid = torch.zeros(SIDE, SIDE, dtype=torch.bool)
    grid[max(r - up, 0) : r, max(c - side, 0) : c + side + 1] = True
    if own_row:
        grid[r, max(c - left, 0) : c] = True
    return grid.flatten()


def test_every_output_pixel_sees_exactly_the_pixels_before_it_in_its_receptive_field():
    """No pixel at or after i (mask A, mask B, the link from the vertical stack) and no blind spot:
    three layers of 5 x 5 see 6 rows up, 6 columns either side above, 6 pixels to the left."""
    model = tiny(num_classes=10)
    x = torch.rand(1, 1, SIDE, SIDE) * 2 - 1
    deps = dependence(lambda xs: model(xs, torch.full((len(xs),), 3)), x)
    assert not deps.triu().any()  # nothing at or after pixel i
    for r, c in [(14, 14), (6, 6), (27, 27), (3, 20), (20, 0)]:
        assert torch.equal(deps[r * SIDE + c], cone(r, c, up=6, left=6, side=6)), (r, c)
    assert not deps[0].any()  # the first pixel sees nothing: only the class


def test_the_vertical_stack_sees_only_the_rows_above():
    model = tiny(num_classes=0)

    def links(layers: int):
        def fn(xs: torch.Tensor) -> torch.Tensor:
            v = xs
            for layer in model.layers[:layers]:
                p = layer.half
                v, link = layer.vertical_out(layer.vertical_pre(F.pad(v, (p, p, p, 0))), 0.0)
            return link  # (N, 2C, 28, 28): what the horizontal stack gets from above
        return fn

    x = torch.rand(1, 1, SIDE, SIDE) * 2 - 1
    for layers, up in ((1, 2), (3, 6)):  # the first layer's mask A drops its own row; each layer reaches 2 rows higher
        deps = dependence(links(layers), x)
        for r, c in [(14, 14), (0, 5), (27, 0)]:
            assert torch.equal(deps[r * SIDE + c], cone(r, c, up=up, left=0, side=up, own_row=False)), (layers, r, c)


def test_the_horizontal_stack_sees_only_the_pixels_to_the_left():
    """With the vertical links cut, the output at (r, c) sees row r left of c: mask A on the first
    layer (not the pixel itself), mask B after (each layer reaches 2 pixels further left)."""
    model = tiny(num_classes=0)
    with torch.no_grad():
        for layer in model.layers:
            layer.v_to_h.weight.zero_()
            layer.v_to_h.bias.zero_()
    x = torch.rand(1, 1, SIDE, SIDE) * 2 - 1
    deps = dependence(lambda xs: model(xs), x)
    for r, c in [(14, 14), (5, 27), (9, 3)]:
        assert torch.equal(deps[r * SIDE + c], cone(r, c, up=0, left=6, side=0)), (r, c)


def test_the_first_layer_does_not_see_its_own_pixel():
    model = tiny(num_classes=0)
    first = model.layers[0]
    p = first.half

    def layer_one(xs: torch.Tensor) -> torch.Tensor:
        _, link = first.vertical_out(first.vertical_pre(F.pad(xs, (p, p, p, 0))), 0.0)
        return first.horizontal_out(first.horizontal_pre(F.pad(xs, (p, 0, 0, 0))), link, xs)

    deps = dependence(layer_one, torch.rand(1, 1, SIDE, SIDE) * 2 - 1)
    assert not deps.diagonal().any()  # mask A: output i never sees input i
    for r, c in [(14, 14), (1, 1)]:
        assert torch.equal(deps[r * SIDE + c], cone(r, c, up=2, left=2, side=2)), (r, c)


def test_mask_a_on_the_first_layer_and_mask_b_after():
    """The convolutions themselves: the first layer's (mask A) skip the pixel's own row (vertical) and
    own pixel (horizontal); a later layer's (mask B) read them, since its input there saw only earlier
    pixels. (Mask A everywhere would also be causal, the residual path hides it from the other tests.)"""
    model = tiny(num_classes=0)
    x = torch.rand(1, 1, SIDE, SIDE) * 2 - 1
    for index, own in ((0, False), (1, True)):
        layer = model.layers[index]
        p, width = layer.half, layer.v_conv.in_channels
        vertical = dependence(lambda xs: layer.vertical_pre(F.pad(xs.expand(-1, width, -1, -1), (p, p, p, 0))), x)
        horizontal = dependence(lambda xs: layer.horizontal_pre(F.pad(xs.expand(-1, width, -1, -1), (p, 0, 0, 0))), x)
        r, c = 14, 14
        itself = own & (torch.arange(SIDE * SIDE) == r * SIDE + c)
        assert torch.equal(horizontal[r * SIDE + c], cone(r, c, up=0, left=p, side=0) | itself)
        same_row = torch.zeros(SIDE, SIDE, dtype=torch.bool)
        same_row[r, c - p : c + p + 1] = own
        assert torch.equal(vertical[r * SIDE + c], cone(r, c, up=p, left=0, side=p, own_row=False) | same_row.flatten())


# ----------------------------------------------------------------------------- likelihood


@pytest.mark.parametrize("k", [2, 16, 256])
def test_equal_logits_give_exactly_log_k_per_pixel(k):
    targets = torch.randint(0, k, (3, 1, SIDE, SIDE), generator=torch.Generator().manual_seed(0))
    nll = categorical_nll(torch.zeros(3, k, SIDE, SIDE, dtype=torch.float64), targets)
    assert nll.dtype == torch.float64 and torch.equal(nll, torch.full((3,), 784 * math.log(k), dtype=torch.float64))
    # a model whose output layer is zero has equal logits: log K per pixel, 1 bit per dimension for K = 2
    model = tiny(levels=k)
    with torch.no_grad():
        model.head[-1].weight.zero_()
        model.head[-1].bias.zero_()
    labels = torch.tensor([0, 4, 9])
    assert torch.allclose(model.nll(targets, labels).double(), nll, rtol=1e-6)
    assert torch.allclose(model.marginal_nll(targets), nll, rtol=1e-6)


def test_categorical_nll_is_the_sum_of_minus_log_probabilities():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 4, SIDE, SIDE, generator=g, dtype=torch.float64)
    targets = torch.randint(0, 4, (2, 1, SIDE, SIDE), generator=g)
    by_hand = -torch.log_softmax(logits, 1).gather(1, targets).flatten(1).sum(1)
    assert torch.allclose(categorical_nll(logits, targets), by_hand, rtol=1e-12)


def test_the_marginal_nll_averages_the_classes_probabilities():
    model = tiny()
    targets = quantize(mnist_test_images(2), 2)
    per_class = torch.stack([model.nll(targets, torch.full((2,), y)) for y in range(10)], 1).double()
    best = per_class.min(1, keepdim=True).values  # -log mean_y p(x | y), scaled by the likeliest class's p
    expected = best[:, 0] - torch.log(torch.exp(best - per_class).mean(1))
    assert torch.allclose(model.marginal_nll(targets), expected, rtol=1e-6)
    assert (model.marginal_nll(targets) <= per_class.min(1).values + math.log(10) + 1e-3).all()


def test_evaluate_likelihood_reads_the_fixed_binarized_test_set():
    model = tiny()
    with torch.no_grad():
        model.head[-1].weight.zero_()
        model.head[-1].bias.zero_()
    report = evaluate_likelihood(model, "mnist", n=20)
    assert report["test_images"] == 20 and "binarized once" in report["nll_protocol"]
    assert report["test_nll"] == pytest.approx(784 * math.log(2), rel=1e-6)
    assert report["test_bits_per_dim"] == pytest.approx(1.0, rel=1e-6)
    assert report["test_nll_given_label"] == pytest.approx(784 * math.log(2), rel=1e-6)
    assert "test_nll" not in evaluate_likelihood(model, "mnist", n=20, marginal=False)
    assert "test_nll_without_label" not in report  # trained without label dropout: no class-free path


def test_a_model_trained_with_label_dropout_also_reports_its_class_free_likelihood():
    model = tiny(label_dropout=0.1)
    report = evaluate_likelihood(model, "mnist", n=20, marginal=False)
    split = data.binarized_split("mnist", train=False, seed=0)
    targets = quantize(data.to_signed(split.images[:20]), 2)
    with torch.no_grad():
        expected = model.nll(targets, torch.full((20,), model.null_label)).mean()
    assert report["test_nll_without_label"] == pytest.approx(float(expected), rel=1e-5)
    assert report["test_bits_per_dim_without_label"] == pytest.approx(float(expected) / (784 * math.log(2)), rel=1e-5)
    assert report["test_nll_without_label"] != pytest.approx(report["test_nll_given_label"])


def test_binarization_is_stochastic_seeded_and_fixed_for_the_test_set():
    grey = torch.tensor([0, 64, 128, 255], dtype=torch.uint8).repeat(20_000, 1)
    once = data.binarize(grey, generator=torch.Generator().manual_seed(0))
    assert set(once.unique().tolist()) == {0, 255}
    white = (once == 255).double().mean(0)
    assert white[0] == 0 and white[3] == 1 and abs(white[1] - 64 / 255) < 0.02 and abs(white[2] - 128 / 255) < 0.02
    assert torch.equal(once, data.binarize(grey, generator=torch.Generator().manual_seed(0)))
    test = data.binarized_split("mnist", train=False, seed=0)
    assert len(test) == 10_000 and torch.equal(test.labels, data.load_split("mnist", train=False).labels)
    assert torch.equal(test.images, data.binarized_split("mnist", train=False, seed=0).images)
    assert not torch.equal(test.images, data.binarized_split("mnist", train=False, seed=1).images)
    signed = data.binarize(torch.zeros(4, 1, SIDE, SIDE))  # float in [-1, 1]: grey 0.5 -> {-1, 1}
    assert set(signed.unique().tolist()) <= {-1.0, 1.0}


@pytest.mark.parametrize("k", [2, 4, 7, 16, 33, 256])
def test_levels_round_trip(k):
    levels = torch.arange(k).view(1, 1, 1, k)
    assert torch.equal(quantize(dequantize(levels, k), k), levels)
    assert dequantize(levels, k).min() == -1 and dequantize(levels, k).max() == 1


# ----------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("options", [{"levels": 2}, {"levels": 5, "kernel_size": 3, "num_classes": 0}])
def test_the_cached_sampler_draws_the_same_pixels_as_the_naive_loop(options):
    model = tiny(**options)
    z = sampling.latents(3, model.latent_dim, seed=7)
    labels = torch.tensor([1, 5, 8]) if model.num_classes else None
    for temperature in (1.0, 0.6):
        naive = sample_pixels(model, z, labels, temperature=temperature, fast=False)
        cached = sample_pixels(model, z, labels, temperature=temperature, fast=True)
        assert torch.equal(naive, cached), temperature
        assert len(naive.unique()) > 1 and not torch.equal(naive[0], naive[1])  # real samples, not a constant
    other = sample_pixels(model, sampling.latents(3, model.latent_dim, seed=8), labels)
    assert not torch.equal(other, cached)


def test_sample_through_the_shared_sampler_is_seeded_and_on_the_level_grid():
    model = tiny(levels=4)
    a = sampling.sample(model, 6, seed=3)
    assert a.shape == (6, 1, SIDE, SIDE) and torch.equal(a, sampling.sample(model, 6, seed=3))
    assert set(torch.round((a + 1) * 1.5).unique().tolist()) <= {0.0, 1.0, 2.0, 3.0}
    assert torch.allclose(a, dequantize(quantize(a, 4), 4))
    assert not torch.equal(a, sampling.sample(model, 6, seed=4))


def test_completion_keeps_the_given_rows_exactly():
    model = tiny()
    given = mnist_test_images(2)  # real grey values, not on the model's 2 levels
    out = complete(model, given, rows=12, samples=3, seed=5, labels=torch.tensor([7, 2]))
    assert out.shape == (6, 1, SIDE, SIDE)
    for i in range(6):
        assert torch.equal(out[i, :, :12], given[i // 3, :, :12])  # bit for bit
        assert set(out[i, :, 12:].unique().tolist()) <= {-1.0, 1.0}  # the rest: sampled levels
    assert not torch.equal(out[0, :, 12:], out[1, :, 12:])  # several completions per seed
    assert torch.equal(out, complete(model, given, rows=12, samples=3, seed=5, labels=torch.tensor([7, 2])))
    naive = complete(model, given, rows=12, samples=3, seed=5, labels=torch.tensor([7, 2]), fast=False)
    assert torch.equal(out, naive)


def test_completion_conditions_on_the_kept_rows():
    model = tiny()
    given = mnist_test_images(2)
    label = torch.tensor([3])
    a = complete(model, given[:1], rows=14, seed=0, labels=label)
    b = complete(model, given[1:], rows=14, seed=0, labels=label)  # the same noise and class, other kept rows
    assert not torch.equal(a[:, :, 14:], b[:, :, 14:])


def test_pixel_distribution_is_the_models_conditional_for_that_pixel():
    model = tiny(levels=4)
    image = mnist_test_images(1)
    labels = torch.tensor([7])
    probs = pixel_distribution(model, image, 10, 12, labels=labels)
    assert probs.shape == (1, 4) and torch.allclose(probs.sum(1), torch.ones(1))
    logits = model(dequantize(quantize(image, 4), 4), labels)[:, :, 10, 12]
    assert torch.allclose(probs, torch.softmax(logits, 1))
    later = image.clone()
    later[:, :, 10, 12:] = 1.0  # the pixel itself and the rest of its row
    later[:, :, 11:] = -1.0  # and every row below
    assert torch.equal(pixel_distribution(model, later, 10, 12, labels=labels), probs)
    earlier = image.clone()
    for r, c in ((10, 11), (9, 12)):  # the pixel just before and the one above, black <-> white
        earlier[0, 0, r, c] = 1.0 if image[0, 0, r, c] < 0 else -1.0
    assert not torch.equal(pixel_distribution(model, earlier, 10, 12, labels=labels), probs)
    sharper = pixel_distribution(model, image, 10, 12, labels=labels, temperature=0.5)
    assert sharper.max() >= probs.max()


# ----------------------------------------------------------------------------- class guidance


def test_the_null_label_gives_the_class_free_network():
    model = tiny(label_dropout=0.1)
    x = dequantize(quantize(mnist_test_images(2), 2), 2)
    null = torch.full((2,), model.null_label)
    assert model.null_label == 10
    with torch.no_grad():
        free = model(x, null)
        for layer in model.layers:
            layer.cond.weight.zero_()
        assert torch.equal(free, model(x, torch.tensor([3, 9])))  # no class bias at all


def test_guided_sampling_draws_the_same_pixels_from_both_samplers_and_differs_from_plain():
    model = tiny(label_dropout=0.1)
    z = sampling.latents(3, model.latent_dim, seed=11)
    labels = torch.tensor([2, 4, 6])
    plain = sample_pixels(model, z, labels)
    for temperature in (1.0, 0.7):
        naive = sample_pixels(model, z, labels, guidance=3.0, temperature=temperature, fast=False)
        cached = sample_pixels(model, z, labels, guidance=3.0, temperature=temperature, fast=True)
        assert torch.equal(naive, cached), temperature
    assert not torch.equal(cached, plain)
    assert torch.equal(sample_pixels(model, z, labels, guidance=1.0), plain)  # 1 = plain conditional
    unconditional = sample_pixels(model, z, torch.full((3,), model.null_label), guidance=1.0)
    assert torch.equal(sample_pixels(model, z, labels, guidance=0.0), unconditional)  # 0 = no class
    assert not torch.equal(unconditional, plain)


def test_the_configs_default_guidance_is_what_sampling_uses():
    model = tiny(label_dropout=0.1, default_guidance=2.5)
    z = sampling.latents(2, model.latent_dim, seed=1)
    labels = torch.tensor([0, 7])
    assert torch.equal(sample_pixels(model, z, labels), sample_pixels(model, z, labels, guidance=2.5))
    assert torch.equal(sampling.sample(model, 2, seed=1, labels=labels), model.generate(z, labels, guidance=2.5))
    assert "guidance 2.5" in model.config.sampling_words()


def test_the_guided_distribution_of_a_pixel_mixes_the_class_and_the_class_free_logits():
    model = tiny(levels=4, label_dropout=0.1)
    image = mnist_test_images(1)
    x = dequantize(quantize(image, 4), 4)
    with torch.no_grad():
        cond = model(x, torch.tensor([5]))[:, :, 9, 14].double()
        free = model(x, torch.tensor([model.null_label]))[:, :, 9, 14].double()
    for g in (0.0, 1.0, 2.0):
        expected = torch.softmax((free + g * (cond - free)).float() / 0.8, 1)
        got = pixel_distribution(model, image, 9, 14, labels=torch.tensor([5]), temperature=0.8, guidance=g)
        assert torch.allclose(got, expected, atol=1e-6), g


def test_guidance_needs_a_model_that_learnt_images_without_their_class():
    z = sampling.latents(1, 784, seed=0)
    with pytest.raises(ValueError, match="trained without label_dropout.*label_dropout=0.1"):
        sample_pixels(tiny(), z, torch.tensor([1]), guidance=2.0)
    with pytest.raises(ValueError, match="trained without label_dropout"):
        pixel_distribution(tiny(), mnist_test_images(1), 3, 3, labels=torch.tensor([1]), guidance=0.0)
    with pytest.raises(ValueError, match="trained without label_dropout"):
        build_model("pixelcnn", **TINY, default_guidance=2.0)
    with pytest.raises(ValueError, match="unconditional"):
        build_model("pixelcnn", **TINY, num_classes=0, label_dropout=0.1, default_guidance=2.0)
    with pytest.raises(ValueError, match="guidance"):
        sample_pixels(tiny(label_dropout=0.1), z, torch.tensor([1]), guidance=11.0)
    assert torch.equal(sample_pixels(tiny(), z, torch.tensor([1]), guidance=1.0), sample_pixels(tiny(), z, torch.tensor([1])))


def test_training_with_label_dropout_trains_that_share_of_images_without_their_class(monkeypatch):
    from aigc_models.objectives import AutoregressiveObjective

    seen = []
    forward = PixelCNN.forward
    monkeypatch.setattr(PixelCNN, "forward", lambda self, x, labels=None: seen.append(labels) or forward(self, x, labels))
    labels = torch.arange(10).repeat(40)  # 400 images
    images = mnist_test_images(400)
    for p in (0.0, 0.5):
        model = tiny(label_dropout=p).train()
        objective = AutoregressiveObjective(model, tiny_train_config("pixelcnn", model_options={**TINY, "label_dropout": p}))
        torch.manual_seed(0)
        objective.step(images, labels)
        got = seen[-1]
        dropped = got == model.null_label
        assert torch.equal(got[~dropped], labels[~dropped])
        assert (0.4 < dropped.float().mean() < 0.6) if p else not dropped.any()


def test_fine_tuning_from_a_checkpoint_applies_options_that_keep_its_shapes(tmp_path):
    first = tmp_path / "first"
    assert type(run_events(tiny_train_config("pixelcnn", first, steps=1))[-1]).__name__ == "Done"
    tuned = tmp_path / "tuned"
    events = run_events(tiny_train_config("pixelcnn", tuned, steps=1, init_from=str(first),
                                          model_options={"label_dropout": 0.2}))
    assert type(events[-1]).__name__ == "Done"
    model = load_checkpoint(tuned)
    assert model.config.label_dropout == 0.2 and model.config.channels == load_checkpoint(first).config.channels
    assert read_meta(tuned)["training"]["continued_from"]["checkpoint"] == str(first)
    with pytest.raises(ValueError, match=r"channels=16 \(the checkpoint has 8\) would change its shape"):
        run_events(tiny_train_config("pixelcnn", tmp_path / "wider", steps=1, init_from=str(first),
                                     model_options={"channels": 16}))


def test_the_cli_sets_a_pixelcnns_default_guidance(tmp_path, capsys):
    folder = save_checkpoint(tiny(label_dropout=0.1), tmp_path / "guided")
    assert cli.main(["sampling-defaults", "--checkpoint", str(folder), "--guidance", "2"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"default_guidance": 2.0}
    assert load_checkpoint(folder).config.default_guidance == 2.0
    plain = save_checkpoint(tiny(), tmp_path / "plain")
    assert cli.main(["sampling-defaults", "--checkpoint", str(plain), "--guidance", "2"]) != 0
    assert "trained without label_dropout" in capsys.readouterr().err
    assert cli.main(["sampling-defaults", "--checkpoint", str(folder), "--steps", "5"]) != 0
    assert "default_steps cannot be set here" in capsys.readouterr().err


# ----------------------------------------------------------------------------- checkpoints, trainer, CLI


def test_a_saved_model_loads_to_the_same_samples_and_likelihood(tmp_path):
    model = tiny(levels=3)
    folder = save_checkpoint(model, tmp_path / "pixelcnn")
    loaded = load_checkpoint(folder)
    assert isinstance(loaded, PixelCNN) and loaded.config == model.config
    assert torch.equal(sampling.sample(loaded, 4, seed=1), sampling.sample(model, 4, seed=1))
    targets = quantize(mnist_test_images(3), 3)
    labels = torch.tensor([0, 1, 2])
    assert torch.equal(loaded.nll(targets, labels), model.nll(targets, labels))


def test_the_trainer_yields_likelihood_losses_and_binary_samples():
    events = run_events(tiny_train_config("pixelcnn", steps=2, sample_every=1000))
    steps = [e for e in events if type(e).__name__ == "Step"]
    samples = [e for e in events if type(e).__name__ == "Samples"]
    assert steps and set(steps[-1].losses) == {"nll", "bits_per_dim"}
    assert steps[0].losses["nll"] == pytest.approx(steps[0].losses["bits_per_dim"] * 784 * math.log(2))
    assert samples and set(samples[-1].images.unique().tolist()) <= {-1.0, 1.0}
    assert type(events[-1]).__name__ == "Done" and events[-1].reason == "steps"


def test_the_trainer_saves_the_weight_average_with_ema(tmp_path):
    events = run_events(tiny_train_config("pixelcnn", tmp_path / "ema", steps=3, ema=0.999, sample_every=1000))
    assert type(events[-1]).__name__ == "Done" and events[-1].reason == "steps"
    saved = load_checkpoint(tmp_path / "ema")  # the saved weights are the (warmed-up) average
    plain = run_events(tiny_train_config("pixelcnn", tmp_path / "plain", steps=3, sample_every=1000))
    assert type(plain[-1]).__name__ == "Done"
    averaged = dict(saved.named_parameters())
    last = dict(load_checkpoint(tmp_path / "plain").named_parameters())
    assert any(not torch.equal(averaged[k], last[k]) for k in last)  # same seed and data: only the average differs


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    out = tmp_path_factory.mktemp("pixelcnn-classifier") / "classifier"
    run_events(tiny_train_config("classifier", out, steps=2))
    return out


def test_the_cli_trains_samples_and_evaluates_a_pixelcnn(tmp_path, capsys, classifier):
    out = tmp_path / "pixelcnn"
    # unconditional, so that evaluate's exact NLL needs one pass over the test set, not one per class
    assert cli.main(["train", "--model", "pixelcnn", "--dataset", "mnist", "--option", "levels=2", "--option",
                     "num_classes=0", "--channels", "8", "--option", "layers=2", "--steps", "3", "--batch-size", "8",
                     "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    meta = read_meta(out)
    assert meta["family"] == "pixelcnn" and meta["config"]["channels"] == 8 and (out / "samples.png").is_file()
    assert meta["metrics"]["test_images"] == 10_000 and meta["metrics"]["test_nll"] > 0  # the trainer's final NLL
    npz = tmp_path / "samples.npz"
    assert cli.main(["sample", "--checkpoint", str(out), "--n", "4", "--seed", "2", "--format", "npz",
                     "--out", str(npz)]) == 0
    images = np.load(npz)["images"]
    assert images.shape == (4, 28, 28) and set(np.unique(images)) <= {0, 255}
    capsys.readouterr()
    assert cli.main(["evaluate", "--checkpoint", str(out), "--n", "20", "--classifier", str(classifier),
                     "--no-floor"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "pixelcnn" and report["n"] == 20 and "frechet_distance" in report
    assert report["test_nll"] == pytest.approx(meta["metrics"]["test_nll"], rel=1e-5)
    assert report["test_bits_per_dim"] == pytest.approx(report["test_nll"] / (784 * math.log(2)))


def test_the_cli_samples_and_evaluates_a_pixelcnn_at_a_chosen_guidance(tmp_path, capsys, classifier, monkeypatch):
    model = tiny(label_dropout=0.1)
    folder = save_checkpoint(model, tmp_path / "guided")
    npz = tmp_path / "guided.npz"
    assert cli.main(["sample", "--checkpoint", str(folder), "--n", "4", "--seed", "2", "--label", "3", "--guidance", "3",
                     "--format", "npz", "--out", str(npz)]) == 0
    expected = model.generate(sampling.latents(4, 784, seed=2), torch.full((4,), 3), guidance=3.0)
    assert np.array_equal(np.load(npz)["images"], data.to_uint8(expected)[:, 0].numpy())
    assert not np.array_equal(np.load(npz)["images"], data.to_uint8(model.generate(sampling.latents(4, 784, seed=2),
                                                                                    torch.full((4,), 3)))[:, 0].numpy())
    from aigc_models import metrics

    monkeypatch.setattr(metrics, "evaluate_likelihood", lambda model, dataset: {"test_nll": 1.0})  # 10 passes, not here
    capsys.readouterr()
    assert cli.main(["evaluate", "--checkpoint", str(folder), "--n", "20", "--classifier", str(classifier),
                     "--no-floor", "--guidance", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sampling"] == {"temperature": 1.0, "guidance": 3.0} and report["n"] == 20
    assert cli.main(["sample", "--checkpoint", str(folder), "--n", "4", "--steps", "3", "--out", str(npz)]) != 0
    assert "--steps apply to diffusion models and --guidance to PixelCNNs" in capsys.readouterr().err


def test_bench_pixelcnn_writes_the_naive_against_cached_row(tmp_path, capsys, monkeypatch):
    """`bench --pixelcnn` on a narrow model (the shipped width takes minutes by the naive loop): both
    samplers drew the same pixels, the file and the Markdown row say so. No speed is asserted (bench's job)."""
    import functools

    from aigc_models import bench

    monkeypatch.setattr(bench, "pixelcnn_sampling_speed",
                        functools.partial(bench.pixelcnn_sampling_speed, channels=8, layers=2))
    out = tmp_path / "pixelcnn-bench.json"
    assert cli.main(["bench", "--pixelcnn", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["identical"] is True and report["n_images"] == 4 and report["repeats"] == 3
    assert report["config"]["channels"] == 8 and report["naive_seconds"] > 0 and report["cached_seconds"] > 0
    row = capsys.readouterr().out
    assert "| 8 channels, 2 layers, kernel 5, K = 2 | 4 |" in row and "| yes |" in row


def test_the_model_card_names_the_temperature_and_guidance_its_numbers_hold_for(tmp_path):
    from aigc_models import hub

    folder = save_checkpoint(tiny(label_dropout=0.1, default_guidance=1.5), tmp_path / "card")
    meta = {**read_meta(folder), "metrics": {"n": 10, "sampling": {"temperature": 1.0, "guidance": 1.5}}}
    card = hub.model_card(meta)
    assert "Samples drawn pixel by pixel at temperature 1.0 and class guidance 1.5 (the config's defaults)." in card
    assert "sampler" not in card.split("## Evaluation")[1]
