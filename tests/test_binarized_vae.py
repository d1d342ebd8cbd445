"""A VAE on binarized MNIST (the likelihood benchmark beside the PixelCNN): it trains on images
binarized afresh, and its test NLL is bounded by importance sampling on the fixed binarized test
split. Tiny configs on a CPU."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import run_events, tiny_train_config

from aigc_models import cli, data
from aigc_models.checkpoints import read_meta, save_checkpoint
from aigc_models.metrics import evaluate_vae, vae_test_nll
from aigc_models.models import build_model
from aigc_models.models.vae import VAE

TINY = {"latent_dim": 4, "channels": 4}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def prior_with_constant_decoder(bias: float) -> VAE:
    """q(z | x) = p(z) = N(0, I) and p(x | z) = Bernoulli(sigmoid(bias)) for every pixel, whatever z:
    then every importance weight is p(x), and the bound is exact."""
    model = build_model("vae", **TINY, binarized=True)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.decoder[-1].bias.fill_(bias)
    return model


def test_the_bound_is_exact_when_the_posterior_is_the_prior_and_the_decoder_ignores_z():
    model = prior_with_constant_decoder(-1.3)
    got = vae_test_nll(model, "mnist", k=7, n=20)
    split = data.binarized_split("mnist", train=False, seed=0)
    x = (split.images[:20].float() / 255).view(20, -1)  # {0, 1}
    exact = F.binary_cross_entropy_with_logits(torch.full_like(x, -1.3), x, reduction="none").sum(1).mean()
    assert got["test_nll_bound"] == pytest.approx(float(exact), rel=1e-6)
    assert got["test_images"] == 20 and got["importance_samples"] == 7 and "binarized once" in got["nll_protocol"]
    uniform = vae_test_nll(prior_with_constant_decoder(0.0), "mnist", k=3, n=5)["test_nll_bound"]
    assert uniform == pytest.approx(784 * math.log(2), rel=1e-6)  # a coin per pixel: log 2 nats each


def test_more_importance_samples_tighten_the_bound_and_the_draws_are_seeded():
    torch.manual_seed(0)
    model = build_model("vae", **TINY, binarized=True)
    one = vae_test_nll(model, "mnist", k=1, n=50)["test_nll_bound"]
    many = vae_test_nll(model, "mnist", k=64, n=50)["test_nll_bound"]
    assert many < one
    assert vae_test_nll(model, "mnist", k=64, n=50)["test_nll_bound"] == many
    assert vae_test_nll(model, "mnist", k=64, n=50, seed=1)["test_nll_bound"] != many  # another binarization and draw


def test_a_binarized_vae_encodes_a_grey_picture_as_its_black_and_white_threshold():
    """It trained on binary images only: a grey picture is read thresholded at mid-grey; binary
    images (training, the binarized test split) pass unchanged; a plain VAE reads grey as grey."""
    torch.manual_seed(0)
    binary_model = build_model("vae", **TINY, binarized=True).eval()
    plain = build_model("vae", **TINY).eval()
    grey = data.to_signed(data.load_split("mnist", train=False).images[:8])
    black_and_white = torch.where(grey > 0, 1.0, -1.0)
    assert set(binary_model.as_input(grey).unique().tolist()) == {-1.0, 1.0}
    assert torch.equal(binary_model.as_input(black_and_white), black_and_white)
    assert torch.equal(binary_model.encode(grey)[0], binary_model.encode(black_and_white)[0])
    assert not torch.equal(plain.encode(grey)[0], plain.encode(black_and_white)[0])
    assert plain.as_input(grey) is grey


def test_a_binarized_vae_trains_on_binary_images_and_a_plain_one_on_grey(monkeypatch):
    seen = []
    forward = VAE.forward
    monkeypatch.setattr(VAE, "forward", lambda self, x: seen.append(x.detach().clone()) or forward(self, x))
    for binarized in (True, False):
        events = run_events(tiny_train_config("vae", steps=2, sample_every=1000,
                                              model_options={**TINY, "binarized": binarized}))
        assert type(events[-1]).__name__ == "Done"
        values = set(seen[-1].unique().tolist())
        assert (values <= {-1.0, 1.0}) if binarized else len(values) > 2


def test_evaluate_scores_a_binarized_vae_on_the_binarized_test_split(tmp_path, capsys, monkeypatch):
    from aigc_models import metrics

    model = prior_with_constant_decoder(-2.0)
    folder = save_checkpoint(model, tmp_path / "bvae")
    assert read_meta(folder)["config"]["binarized"] is True
    elbo = evaluate_vae(model, "mnist")
    x = data.binarized_split("mnist", train=False, seed=0).images.float().div(255).view(10_000, -1)
    exact = F.binary_cross_entropy_with_logits(torch.full_like(x, -2.0), x, reduction="none").sum(1).mean()
    assert -elbo["test_elbo"] == pytest.approx(float(exact), rel=1e-5)  # the prior is the posterior: KL 0
    bound = metrics.vae_test_nll
    monkeypatch.setattr(metrics, "vae_test_nll", lambda model, dataset: bound(model, dataset, k=4, n=30))
    classifier = tmp_path / "classifier"
    run_events(tiny_train_config("classifier", classifier, steps=2))
    assert cli.main(["evaluate", "--checkpoint", str(folder), "--n", "20", "--classifier", str(classifier),
                     "--no-floor"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["importance_samples"] == 4 and report["test_nll_bound"] == pytest.approx(
        bound(model, "mnist", k=4, n=30)["test_nll_bound"])
    assert report["test_elbo"] == pytest.approx(elbo["test_elbo"])


def test_the_binarized_split_follows_load_split_and_keeps_no_copy_of_its_own(monkeypatch):
    """CI once failed here: the shipped-checkpoint test cut ``load_split`` to 2,000 test images
    while ``binarized_split`` cached its result, and a later evaluation on the same worker was
    scored on those 2,000 images instead of the 10,000."""
    full = data.load_split("mnist", train=False)
    cut = data.Split(full.dataset, full.train, full.images[:2000], full.labels[:2000])
    with monkeypatch.context() as patch:
        patch.setattr(data, "load_split", lambda dataset, *, train=True: cut)
        assert len(data.binarized_split("mnist", train=False)) == 2000
    assert len(data.binarized_split("mnist", train=False)) == 10_000
    model = prior_with_constant_decoder(-2.0)
    assert evaluate_vae(model, "mnist")["n"] == 10_000
