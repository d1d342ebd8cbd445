"""Sample-quality maths against references, and the evaluator on real data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from aigc_models import metrics
from aigc_models.checkpoints import load_checkpoint
from aigc_models.data import load_split, to_signed

# ----------------------------------------------------------------------------- Frechet distance


def reference_frechet(mu1, s1, mu2, s2) -> float:
    """The textbook formula with scipy's sqrtm (as in pytorch-fid / the TTUR code)."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def random_cov(rng, d: int, condition: float) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.logspace(0, -math.log10(condition), d)
    return (q * eig) @ q.T


@pytest.mark.parametrize("d", [2, 8, 32, 128])
def test_frechet_matches_scipy_on_sample_covariances(d):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((4 * d + 50, d)) @ rng.standard_normal((d, d))
    y = rng.standard_normal((4 * d + 50, d)) * 2 + 0.5
    (m1, s1), (m2, s2) = metrics.gaussian_fit(torch.from_numpy(x)), metrics.gaussian_fit(torch.from_numpy(y))
    assert s1.shape == (d, d) and m1.shape == (d,)
    ours = metrics.frechet_distance(m1, s1, m2, s2)
    assert ours == pytest.approx(reference_frechet(m1, s1, m2, s2), rel=1e-6)


@pytest.mark.parametrize("d,condition", [(8, 1e6), (32, 1e8), (64, 1e4)])
def test_frechet_matches_scipy_on_ill_conditioned_covariances(d, condition):
    rng = np.random.default_rng(1)
    s1, s2 = random_cov(rng, d, condition), random_cov(rng, d, condition)
    m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
    ours = metrics.frechet_distance(m1, s1, m2, s2)
    assert ours == pytest.approx(reference_frechet(m1, s1, m2, s2), rel=1e-5, abs=1e-8)


def test_frechet_closed_forms():
    rng = np.random.default_rng(0)
    s = random_cov(rng, 16, 100)
    mu = rng.standard_normal(16)
    assert metrics.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    shift = np.array([1.0, 2.0, 2.0])
    expected = 9.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)  # diagonal: ||dmu||^2 + sum (sqrt a - sqrt b)^2
    assert metrics.frechet_distance(np.zeros(3), np.diag(a), shift, np.diag(b)) == pytest.approx(expected)


def test_frechet_with_singular_covariance_is_finite_and_non_negative():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((10, 32))  # fewer samples than dimensions: rank 9
    m, s = metrics.gaussian_fit(torch.from_numpy(x))
    value = metrics.frechet_distance(m, s, m, s)
    assert math.isfinite(value) and value == pytest.approx(0.0, abs=1e-6)


# ----------------------------------------------------------------------------- class statistics


def test_classifier_score_bounds():
    k = 10
    same = torch.softmax(torch.randn(1, k), 1).expand(50, k)
    assert metrics.classifier_score(same) == pytest.approx(1.0)
    confident = torch.eye(k).repeat(5, 1)  # each class equally often, fully confident
    assert metrics.classifier_score(confident) == pytest.approx(k, rel=1e-6)
    mixed = torch.softmax(torch.randn(200, k, generator=torch.Generator().manual_seed(0)) * 3, 1)
    assert 1 < metrics.classifier_score(mixed) < k


def test_histogram_kl_and_coverage():
    uniform = metrics.class_histogram(torch.arange(100) % 10, 10)
    assert uniform.tolist() == [0.1] * 10
    assert metrics.kl_to_uniform(uniform) == pytest.approx(0.0, abs=1e-12)
    assert metrics.coverage(uniform) == 10
    one = metrics.class_histogram(torch.full((30,), 4), 10)
    assert one.sum() == pytest.approx(1.0) and one[4] == 1
    assert metrics.kl_to_uniform(one) == pytest.approx(math.log(10))
    assert metrics.coverage(one) == 1
    # a class below 20% of the uniform share (0.02 of the samples) is not covered
    predicted = torch.cat([torch.zeros(99, dtype=torch.int64), torch.ones(1, dtype=torch.int64),
                           torch.full((50,), 2), torch.full((50,), 3)])
    hist = metrics.class_histogram(predicted, 10)
    assert metrics.coverage(hist) == 3
    two = metrics.class_histogram(torch.tensor([0, 1] * 10), 10)
    assert metrics.kl_to_uniform(two) == pytest.approx(math.log(5))


def test_precision_recall():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 8, generator=g)
    assert metrics.precision_recall(real, real.clone()) == (1.0, 1.0)
    far = torch.randn(300, 8, generator=g) + 100.0
    assert metrics.precision_recall(real, far) == (0.0, 0.0)
    # collapsed fakes: all on one real point -> precise, but they recall little
    collapsed = real[:1].expand(300, -1) + 1e-4 * torch.randn(300, 8, generator=g)
    precision, recall = metrics.precision_recall(real, collapsed)
    assert precision == 1.0 and recall < 0.2


# ----------------------------------------------------------------------------- evaluator


@pytest.fixture(scope="module")
def evaluator(checkpoint_dirs):
    return metrics.Evaluator(load_checkpoint(checkpoint_dirs["classifier"]), "mnist", batch_size=2000)


def test_evaluator_reports_real_images_closer_than_noise(evaluator):
    train = load_split("mnist", train=True)
    real = evaluator.report(to_signed(train.images[:300]), train.labels[:300], pr_samples=300)
    noise = evaluator.report(torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    for key in ("n", "frechet_distance", "classifier_score", "coverage", "kl_to_uniform",
                "precision", "recall", "class_histogram"):
        assert key in real
    assert real["n"] == 300 and "class_accuracy" in real and "class_accuracy" not in noise
    assert len(real["class_histogram"]) == 10 and sum(real["class_histogram"]) == pytest.approx(1.0, abs=1e-3)
    assert 0 <= real["frechet_distance"] < noise["frechet_distance"]
    assert real["precision"] > noise["precision"]
    assert 1 <= real["classifier_score"] <= 10 and 0 <= real["coverage"] <= 10


def test_evaluator_on_a_generator(evaluator, checkpoint_dirs):
    cgan = load_checkpoint(checkpoint_dirs["cgan"])
    report = evaluator.evaluate_generator(cgan, n=100, seed=0)
    assert report["n"] == 100 and 0 <= report["class_accuracy"] <= 1
    assert math.isfinite(report["frechet_distance"])
    assert evaluator.evaluate_generator(cgan, n=100, seed=0) == report  # seeded
    assert 0 <= evaluator.test_accuracy() <= 1


def test_frechet_between_two_sets_and_the_memorisation_ratio(evaluator):
    """FD between image sets is zero for a set and itself and grows with a set of another class;
    the memorisation ratio is 0 for copies of the training images, about 1 for unseen ones."""
    test = load_split("mnist", train=False)
    sevens, ones = to_signed(test.images[test.labels == 7]), to_signed(test.images[test.labels == 1])
    assert evaluator.frechet_to(sevens[:300], sevens[:300]) == pytest.approx(0.0, abs=1e-3)
    assert evaluator.frechet_to(sevens[:300], sevens[300:600]) < evaluator.frechet_to(ones[:300], sevens[300:600])
    training, held_out, fresh = sevens[:50], sevens[50:100], sevens[100:400]
    assert evaluator.memorisation_ratio(training.repeat(4, 1, 1, 1), training, held_out) == 0.0
    assert 0.7 < evaluator.memorisation_ratio(fresh, training, held_out) < 1.3
    with pytest.raises(ValueError, match="the same size"):
        evaluator.memorisation_ratio(fresh, training, held_out[:10])


def test_the_mirrored_share_tells_flipped_digits_from_digits_as_written():
    """With the shipped classifier: 500 training digits as written score 0.01 at most, the same
    digits flipped left to right 0.95 at least (measured: 0.001 and 0.999 on 1,000); only the
    lopsided digits count, and a dataset without any gives None."""
    from aigc_models.checkpoints import SHIPPED_DIR

    evaluator = metrics.Evaluator(load_checkpoint(SHIPPED_DIR / "mnist-classifier"), "mnist")
    train = load_split("mnist", train=True)
    x, y = to_signed(train.images[:500]), train.labels[:500]
    assert evaluator.mirrored_share(x, y) <= 0.01
    assert evaluator.mirrored_share(x.flip(-1), y) >= 0.95
    probs = evaluator.score(x.flip(-1)).probs  # scores the caller has already: the same answer
    assert evaluator.mirrored_share(x.flip(-1), y, probs) == evaluator.mirrored_share(x.flip(-1), y)
    symmetric = torch.isin(y, torch.tensor([0, 1, 8]))
    assert evaluator.mirrored_share(x[symmetric].flip(-1), y[symmetric]) is None
    lopsided = ~symmetric
    half = x[lopsided].clone()
    half[::2] = half[::2].flip(-1)
    assert 0.4 <= evaluator.mirrored_share(half, y[lopsided]) <= 0.6
    fashion = metrics.Evaluator(load_checkpoint(SHIPPED_DIR / "fashion-mnist-classifier"), "fashion-mnist")
    assert fashion.mirrored_share(x[:10], y[:10]) is None


def test_the_histogram_probe_reports_the_mirrored_share_of_a_conditional_model(evaluator, checkpoint_dirs):
    probe = metrics.HistogramProbe(evaluator, n=100)
    report = probe(load_checkpoint(checkpoint_dirs["cgan"]))
    assert 0 <= report["mirrored_share"] <= 1 and report["n"] == 100
    assert "mirrored_share" not in probe(load_checkpoint(checkpoint_dirs["dcgan"]))  # no classes asked for


def test_evaluator_rejects_another_datasets_classifier(checkpoint_dirs):
    with pytest.raises(ValueError, match="trained on"):
        metrics.Evaluator(load_checkpoint(checkpoint_dirs["classifier"]), "fashion-mnist")


def test_vae_test_metrics(checkpoint_dirs):
    vae = load_checkpoint(checkpoint_dirs["vae"])
    out = metrics.evaluate_vae(vae, "mnist", seed=0)
    assert out["n"] == 10000
    assert out["test_elbo"] == pytest.approx(-(out["test_recon"] + out["test_kl"]), rel=1e-6)
    assert out["test_recon"] > 0 and out["test_kl"] >= 0 and 0 <= out["test_mse"] <= 4


def test_a_second_evaluator_of_the_same_classifier_and_split_reuses_the_scored_split(checkpoint_dirs, monkeypatch):
    """Scoring the 10,000 test images takes seconds; another Evaluator of the same classifier on the same
    split reuses them, and gives the same report. Other weights or another split are scored afresh."""
    import aigc_models.data as data

    classifier = load_checkpoint(checkpoint_dirs["classifier"])
    metrics._test_scores.clear()
    scored: list[int] = []
    original = metrics.Evaluator.score
    monkeypatch.setattr(metrics.Evaluator, "score", lambda self, x: scored.append(len(x)) or original(self, x))
    first = metrics.Evaluator(classifier, "mnist")
    second = metrics.Evaluator(classifier, "mnist")
    assert scored == [10_000]  # the second scored nothing
    images = to_signed(load_split("mnist", train=False).images[:300])
    assert first.report(images) == second.report(images)
    del scored[1:]  # the two reports' own scoring

    with torch.no_grad():
        next(classifier.parameters()).add_(0.01)  # other weights: scored again
    changed = metrics.Evaluator(classifier, "mnist")
    assert scored == [10_000, 10_000]
    assert not torch.equal(changed.test.features, first.test.features)

    split = load_split("mnist", train=False)
    cut = data.Split(split.dataset, split.train, split.images[:500], split.labels[:500])
    monkeypatch.setattr(data, "load_split", lambda dataset, train=False: cut)  # another split: scored again
    assert len(metrics.Evaluator(classifier, "mnist").test.features) == 500
    assert scored == [10_000, 10_000, 500]
    assert len(metrics._test_scores) <= metrics.TEST_SCORES_KEPT
