"""Sample-quality metrics computed with the project's own classifier.

A GAN's loss says little about its images, so quality is measured on samples:

* Frechet distance (Heusel et al. 2017, arXiv:1706.08500) between Gaussian fits
  of the classifier's 128-d features of samples and of the test split;
* classifier score (the Inception Score of Salimans et al. 2016 with our
  classifier): exp E[KL(p(y|x) || p(y))], at most the number of classes;
* class histogram, coverage (classes holding at least 20% of a uniform share)
  and KL(histogram || uniform), which expose mode collapse;
* class accuracy of a conditional model's samples (did it draw what was asked?);
* precision and recall (Kynkaanniemi et al. 2019, arXiv:1904.06991), k = 3;
* for an autoregressive model, the exact test negative log-likelihood (``evaluate_likelihood``);
* for a super-resolution model, PSNR and SSIM on the test split beside bicubic and nearest-neighbour
  upscaling (``evaluate_super_resolution``, computed by torchmetrics).

Every report carries N and the real-data floor: training images scored the
same way against the test split.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import data as data_mod
from .models.diffusion import PROBE_SAMPLE_STEPS
from .sampling import even_labels, sample

COVERAGE_SHARE = 0.2  # a class is covered when it holds >= 20% of the uniform share
COLLAPSE_TOP_SHARE = 0.4  # one class holding more than this share of the samples is a collapse ...
COLLAPSE_COVERED = 0.5  # ... and so is covering at most this fraction of the classes


# ----------------------------------------------------------------------------- maths


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), in float64.

    tr((S1 S2)^(1/2)) equals the sum of square roots of the eigenvalues of the
    symmetric PSD matrix S1^(1/2) S2 S1^(1/2), which avoids a non-symmetric sqrtm.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    w, v = np.linalg.eigh(s1)
    sqrt_s1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = sqrt_s1 @ s2 @ sqrt_s1
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def gaussian_fit(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(F,)`` and covariance ``(F, F)`` of features ``(N, F)``, float64."""
    x = features.double().numpy()
    return x.mean(0), np.cov(x, rowvar=False)


def classifier_score(probs: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))) for class probabilities ``(N, K)``; in [1, K]."""
    p = probs.double().clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)
    return float(torch.exp((p * (p.log() - marginal.log())).sum(1).mean()))


def class_histogram(predicted: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Share of each predicted class ``(K,)``, summing to 1."""
    return torch.bincount(predicted, minlength=num_classes).double() / len(predicted)


def kl_to_uniform(hist: torch.Tensor) -> float:
    """KL(hist || uniform) in nats; 0 for a perfectly balanced sample, log K for one class."""
    k = len(hist)
    h = hist.double()
    nz = h > 0
    return float((h[nz] * (h[nz] * k).log()).sum())


def coverage(hist: torch.Tensor) -> int:
    """Number of classes holding at least ``COVERAGE_SHARE`` of a uniform share."""
    return int((hist >= COVERAGE_SHARE / len(hist)).sum())


def _kth_neighbour_radius(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each row of ``x`` ``(N, F)`` to its k-th nearest other row ``(N,)``."""
    out = []
    for i in range(0, len(x), chunk):
        d = torch.cdist(x[i : i + chunk], x)
        out.append(d.kthvalue(k + 1, dim=1).values)  # +1: the zero distance to itself
    return torch.cat(out)


def _inside_any_ball(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """For each query, whether it lies within some centre's radius ``(Q,)`` bool."""
    out = []
    for i in range(0, len(queries), chunk):
        d = torch.cdist(queries[i : i + chunk], centres)
        out.append((d <= radii[None]).any(1))
    return torch.cat(out)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, *, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) on features ``(N, F)``."""
    real, fake = real.float(), fake.float()
    precision = _inside_any_ball(fake, real, _kth_neighbour_radius(real, k)).float().mean()
    recall = _inside_any_ball(real, fake, _kth_neighbour_radius(fake, k)).float().mean()
    return float(precision), float(recall)


# ----------------------------------------------------------------------------- evaluator


MIRROR_CLASSES = {"mnist": (2, 3, 4, 5, 6, 7, 9)}  # classes whose mirror image is no member of the class


@dataclass
class Scored:
    """Classifier outputs for a set of images."""

    features: torch.Tensor  # (N, F)
    probs: torch.Tensor  # (N, K)


TEST_SCORES_KEPT = 4
"""How many scored test splits ``Evaluator`` keeps in memory (about 5 MB each at 10,000 images)."""
_test_scores: OrderedDict[str, tuple[Scored, tuple[np.ndarray, np.ndarray]]] = OrderedDict()
_test_scores_lock = threading.Lock()


def _scoring_digest(classifier: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int) -> str:
    """A digest of everything the test split's scores depend on: the classifier's weights and
    buffers, the images ``(N, 1, 28, 28)`` uint8 themselves, the device and the batch size. About
    20 ms for 10,000 images, against about 5 s to score them on one CPU thread."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{type(classifier).__qualname__}|{device}|{batch_size}|{tuple(images.shape)}|{images.dtype}".encode())
    for name, tensor in classifier.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    h.update(images.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class Evaluator:
    """Scores images against a dataset's test split with that dataset's classifier.

    The test split's features are computed once per evaluator, and kept for the last
    ``TEST_SCORES_KEPT`` (classifier weights, test images, device, batch size) of the process:
    a second evaluator of the same classifier and split (another ``evaluate`` in a notebook,
    a test) reuses them instead of scoring the 10,000 images again.
    """

    def __init__(self, classifier: nn.Module, dataset: str, *, batch_size: int = 500) -> None:
        self.classifier = classifier.eval()
        self.dataset = data_mod.check_dataset_name(dataset)
        if classifier.config.dataset != self.dataset:
            raise ValueError(f"The classifier was trained on {classifier.config.dataset}, not {self.dataset}.")
        self.batch_size = batch_size
        test = data_mod.load_split(self.dataset, train=False)
        key = _scoring_digest(classifier, test.images, next(classifier.parameters()).device, batch_size)
        with _test_scores_lock:
            kept = _test_scores.get(key)
            if kept is not None:
                _test_scores.move_to_end(key)
        if kept is None:
            scored = self.score(data_mod.to_signed(test.images))
            kept = (scored, gaussian_fit(scored.features))
            with _test_scores_lock:
                _test_scores[key] = kept
                while len(_test_scores) > TEST_SCORES_KEPT:
                    _test_scores.popitem(last=False)
        self.test, self.test_fit = kept
        self.test_labels = test.labels

    @torch.no_grad()
    def score(self, images: torch.Tensor) -> Scored:
        """images ``(N, 1, 28, 28)`` in [-1, 1] -> features and class probabilities."""
        device = next(self.classifier.parameters()).device
        feats, probs = [], []
        for i in range(0, len(images), self.batch_size):
            x = images[i : i + self.batch_size].to(device)
            f = self.classifier.features(x)
            feats.append(f.float().cpu())
            probs.append(torch.softmax(self.classifier.head(f), dim=1).float().cpu())
        return Scored(torch.cat(feats), torch.cat(probs))

    def report(self, images: torch.Tensor, labels: torch.Tensor | None = None, *, pr_samples: int = 5000) -> dict[str, Any]:
        """All metrics for images ``(N, 1, 28, 28)`` in [-1, 1]; ``labels`` = requested classes.

        Precision/recall use the first ``pr_samples`` images and test images (cost is quadratic).
        """
        s = self.score(images)
        k = s.probs.shape[1]
        predicted = s.probs.argmax(1)
        hist = class_histogram(predicted, k)
        m = min(pr_samples, len(images), len(self.test.features))
        precision, recall = precision_recall(self.test.features[:m], s.features[:m])
        out: dict[str, Any] = {
            "n": len(images),
            "frechet_distance": frechet_distance(*gaussian_fit(s.features), *self.test_fit),
            "classifier_score": classifier_score(s.probs),
            "coverage": coverage(hist),
            "kl_to_uniform": kl_to_uniform(hist),
            "precision": precision,
            "recall": recall,
            "class_histogram": [round(float(v), 4) for v in hist],
        }
        if labels is not None:
            out["class_accuracy"] = float((predicted == labels.cpu()).float().mean())
            mirrored = self.mirrored_share(images, labels, s.probs)
            if mirrored is not None:
                out["mirrored_share"] = mirrored
        return out

    def mirrored_share(self, images: torch.Tensor, labels: torch.Tensor,
                       probs: torch.Tensor | None = None) -> float | None:
        """How many of ``images`` ``(N, 1, 28, 28)`` in [-1, 1], drawn for classes ``labels``
        ``(N,)``, are drawn mirrored: among those of a class whose mirror image is no member of it
        (``MIRROR_CLASSES``: the MNIST digits but 0, 1 and 8), the share the classifier finds more
        like their class flipped left to right than as drawn, p(y | flip(x)) > p(y | x). None where
        the dataset has no such classes (Fashion-MNIST's clothes are mostly symmetric) or no image
        is of one. With the shipped classifier, 1,000 MNIST training digits score 0.001 as written
        and 0.999 flipped; the shipped cGAN's samples 0.003 (N = 500). ``probs`` ``(N, classes)``:
        the classifier's probabilities for ``images`` as drawn, where the caller has them already
        (only the flipped images are then scored)."""
        classes = MIRROR_CLASSES.get(self.dataset, ())
        keep = torch.isin(labels.cpu(), torch.tensor(classes, dtype=torch.long))
        if not keep.any():
            return None
        x, y = images[keep], labels.cpu()[keep]
        as_drawn = (self.score(x).probs if probs is None else probs.cpu()[keep]).gather(1, y[:, None])
        flipped = self.score(x.flip(-1)).probs.gather(1, y[:, None])
        return float((flipped > as_drawn).float().mean())

    def real_floor(self, n: int = 10_000, *, seed: int = 0) -> dict[str, Any]:
        """The same report for ``n`` random training images (what a perfect generator would score)."""
        train = data_mod.load_split(self.dataset, train=True)
        idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n]
        return self.report(data_mod.to_signed(train.images[idx]), train.labels[idx])

    def evaluate_generator(self, model: nn.Module, *, n: int = 10_000, seed: int = 0,
                           stepping: dict[str, Any] | None = None) -> dict[str, Any]:
        """Sample ``n`` images (evenly over classes if conditional) and report. ``stepping``: a
        diffusion model's ``sampler`` / ``steps`` / ``guidance`` (each absent = its config's default)."""
        k = getattr(model, "num_classes", 0)
        labels = even_labels(n, k) if k else None
        return self.report(draw(model, n, seed=seed, labels=labels, stepping=stepping), labels)

    def frechet_to(self, images: torch.Tensor, reference: torch.Tensor) -> float:
        """Fréchet distance between two sets of images ``(N, 1, 28, 28)`` in [-1, 1] in this
        evaluator's feature space: e.g. samples against one class's test images, when a model
        learnt that class alone (your own pictures). Both sets need more images than a few; the
        distance is biased upward for small N, so compare it only at equal N."""
        return frechet_distance(*gaussian_fit(self.score(images).features), *gaussian_fit(self.score(reference).features))

    def memorisation_ratio(self, images: torch.Tensor, training: torch.Tensor, held_out: torch.Tensor) -> float:
        """How much closer samples lie to the images a model trained on than to unseen images of the
        same kind, in this evaluator's feature space: the median over samples of (distance to the
        nearest ``training`` image) / (distance to the nearest ``held_out`` image). All three are
        ``(N, 1, 28, 28)`` in [-1, 1]; ``training`` and ``held_out`` the same size. About 1 for a model
        that generalises (or for fresh real images); towards 0 for one that copies its training set."""
        if len(training) != len(held_out):
            raise ValueError(f"training and held_out must be the same size, got {len(training)} and {len(held_out)}.")
        s, t, h = (self.score(x).features for x in (images, training, held_out))
        return float((torch.cdist(s, t).min(1).values / torch.cdist(s, h).min(1).values.clamp_min(1e-12)).median())

    def test_accuracy(self) -> float:
        """The classifier's own accuracy on the test split."""
        return float((self.test.probs.argmax(1) == self.test_labels).float().mean())


def collapse_verdict(hist: torch.Tensor | list[float]) -> dict[str, Any]:
    """The evaluator's judgement of a class histogram ``(K,)``: whether the samples collapse onto
    a few classes (one class above ``COLLAPSE_TOP_SHARE``, or at most ``COLLAPSE_COVERED`` of the
    classes covered), the most frequent class, its share, and how many classes are covered."""
    h = torch.as_tensor(hist, dtype=torch.float64)
    top = int(h.argmax())
    covered = coverage(h)
    return {"collapsing": bool(covered <= int(len(h) * COLLAPSE_COVERED) or float(h[top]) > COLLAPSE_TOP_SHARE),
            "top_class": top, "top_share": float(h[top]), "covered": covered, "classes": len(h)}


def draw(model: nn.Module, n: int, *, seed: int, labels: torch.Tensor | None = None,
         stepping: dict[str, Any] | None = None) -> torch.Tensor:
    """``n`` images ``(n, 1, 28, 28)`` in [-1, 1]: ``sampling.sample``, or for a diffusion model
    with ``stepping`` (sampler / steps / guidance) ``samplers.sample``, which checks each value; a
    PixelCNN takes ``stepping`` {"guidance": g} (its class guidance)."""
    if stepping and model.objective == "autoregressive" and set(stepping) == {"guidance"}:
        return sample(model, n, seed=seed, labels=labels, guidance=stepping["guidance"])
    if stepping:
        if model.objective != "denoising":
            raise ValueError(f"sampler, steps and guidance apply to diffusion models, not to a {model.family}.")
        from .samplers import sample as sample_diffusion

        return sample_diffusion(model, n, seed=seed, labels=labels, **stepping)
    return sample(model, n, seed=seed, labels=labels)


class HistogramProbe:
    """A training-time evaluator (``train(..., evaluator=probe)``): the class histogram of ``n``
    fresh samples, its coverage and ``collapse_verdict``. ``evaluator`` is a ``metrics.Evaluator``
    or a callable that returns one (or None while it is still being built, for which the probe
    returns ``{}``). Each call uses the next seed, so successive histograms are independent.
    A diffusion model is sampled in ``diffusion_steps`` steps (few, so that the probe stays cheap
    beside training: 500 guided 10-step samples of the default U-Net cost about 32 training steps)."""

    def __init__(self, evaluator: Any, *, n: int = 500, diffusion_steps: int = PROBE_SAMPLE_STEPS) -> None:
        self.evaluator, self.n, self.calls = evaluator, n, 0
        self.diffusion_steps = diffusion_steps

    def __call__(self, model: nn.Module) -> dict[str, Any]:
        evaluator = self.evaluator if isinstance(self.evaluator, Evaluator) else self.evaluator()
        if evaluator is None:
            return {}
        self.calls += 1
        stepping = {"steps": self.diffusion_steps} if model.objective == "denoising" else None
        k = getattr(model, "num_classes", 0)
        labels = even_labels(self.n, k) if k else None
        images = draw(model, self.n, seed=self.calls, labels=labels, stepping=stepping)
        probs = evaluator.score(images).probs
        hist = class_histogram(probs.argmax(1), probs.shape[1])
        out = {"class_histogram": hist.tolist(), "coverage": coverage(hist), "n": self.n,
               "collapse": collapse_verdict(hist)}
        mirrored = evaluator.mirrored_share(images, labels, probs) if labels is not None else None
        return out if mirrored is None else {**out, "mirrored_share": mirrored}


# ----------------------------------------------------------------------------- VAE


@torch.no_grad()
def evaluate_vae(model: nn.Module, dataset: str, *, seed: int = 0, batch_size: int = 1000) -> dict[str, float]:
    """On the test split: ELBO (nats/image, one posterior sample, seeded), its
    reconstruction and KL terms, and the mean squared error of the posterior-mean
    reconstruction in [-1, 1] pixel units. A ``binarized`` model is scored on the binarized test
    split (``data.binarized_split``, seed 0), as it was trained."""
    from .losses import vae_loss

    model.eval()
    device = next(model.parameters()).device
    binarized = bool(getattr(model.config, "binarized", False))
    test = data_mod.binarized_split(dataset, train=False) if binarized else data_mod.load_split(dataset, train=False)
    g = torch.Generator(device=device).manual_seed(seed)
    totals = {"elbo": 0.0, "recon": 0.0, "kl": 0.0, "mse": 0.0}
    n = len(test)
    for i in range(0, n, batch_size):
        x = data_mod.to_signed(test.images[i : i + batch_size]).to(device)
        mu, logvar = model.encode(x)
        z = model.reparameterize(mu, logvar, generator=g)
        loss, recon, kl = vae_loss(model.decode_logits(z), x, mu, logvar)
        b = len(x)
        totals["elbo"] -= float(loss) * b
        totals["recon"] += float(recon) * b
        totals["kl"] += float(kl) * b
        totals["mse"] += float(((model.decode(mu) - x) ** 2).mean()) * b
    return {"n": n, **{f"test_{k}": v / n for k, v in totals.items()}}


@torch.no_grad()
def vae_test_nll(model: nn.Module, dataset: str, *, k: int = 100, seed: int = 0, n: int | None = None,
                 batch_size: int = 50) -> dict[str, Any]:
    """A binarized VAE's test negative log-likelihood, bounded by importance sampling (Burda et al.
    2016, IWAE): -log p(x) <= -log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x), z_i ~ q(z | x), in nats
    per image, on the same binarized test split as ``evaluate_likelihood`` (``data.binarized_split``
    with ``seed``), so that it sits beside a PixelCNN's exact NLL; k = 1 is the ELBO (one sample),
    and the bound tightens as k grows. The draws come from a generator seeded ``seed``. ``n``: the
    first n test images (None = all 10,000)."""
    model.eval()
    device = next(model.parameters()).device
    split = data_mod.binarized_split(dataset, train=False, seed=seed)
    count = len(split) if n is None else max(1, min(int(n), len(split)))
    g = torch.Generator(device=device).manual_seed(seed)
    log_2pi = math.log(2 * math.pi)
    total = 0.0
    for i in range(0, count, batch_size):
        x = data_mod.to_signed(split.images[i : min(i + batch_size, count)]).to(device)  # (b, 1, 28, 28) in {-1, 1}
        b = len(x)
        mu, logvar = model.encode(x)  # (b, d)
        eps = torch.randn((k, *mu.shape), generator=g, device=device)  # (k, b, d)
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = model.decode_logits(z.reshape(k * b, -1)).view(k, b, -1)  # (k, b, 784)
        targets = ((x + 1) / 2).view(1, b, -1).expand_as(logits)
        log_px_z = -F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="none").sum(-1)  # (k, b)
        log_pz = -0.5 * (z.pow(2) + log_2pi).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + logvar + log_2pi).sum(-1)
        log_w = (log_px_z + log_pz - log_qz).double()
        total -= float((torch.logsumexp(log_w, dim=0) - math.log(k)).sum())
    return {"test_images": count, "nll_protocol": data_mod.binarized_protocol(dataset, seed), "importance_samples": k, "test_nll_bound": total / count}


# ----------------------------------------------------------------------------- likelihood


@torch.no_grad()
def evaluate_likelihood(model: nn.Module, dataset: str, *, seed: int = 0, marginal: bool = True, n: int | None = None,
                        batch_size: int = 100) -> dict[str, Any]:
    """An autoregressive model's exact negative log-likelihood of the test split (no bound, no sampling).

    With 2 levels the test images are binarized once (``data.binarized_split`` with ``seed``: the
    stochastic binarization of Salakhutdinov & Murray 2008, the protocol of the binarized-MNIST
    benchmark where PixelCNN scores 81.30 nats, van den Oord et al. 2016, arXiv:1601.06759) and the
    NLL is in nats per image; with more levels the grey values are rounded to the model's levels and
    bits per dimension (nats / (784 ln 2)) is the unit to read (only comparable at the same K).

    ``test_nll`` is ``-log p(x)``: for a conditional model p(x) = mean over the classes of p(x | y)
    (``model.marginal_nll``, one network pass per class), comparable with unconditional models;
    with ``marginal=False`` it is left out and only ``test_nll_given_label``, ``-log p(x | y)`` at the
    true label (one pass; never more than log(num_classes) nats below ``test_nll``, and close to that
    when the model tells the classes apart), is measured. A model trained with label dropout also
    gets ``test_nll_without_label``, ``-log p(x | no class)``: its class-free path, an unconditional
    model in its own right (one pass). ``n``: the first n test images (None = all 10,000).
    Batches of 100 (measured on one CPU thread at the default width: 78 images/s, 48 at batches of 500)."""
    model.eval()
    device = next(model.parameters()).device
    if model.levels == 2:
        split = data_mod.binarized_split(dataset, train=False, seed=seed)
        protocol = data_mod.binarized_protocol(dataset, seed)
    else:
        split = data_mod.load_split(dataset, train=False)
        protocol = f"{dataset} test split rounded to {model.levels} grey levels"
    count = len(split) if n is None else max(1, min(int(n), len(split)))
    conditional = bool(model.num_classes)
    class_free = conditional and model.config.guidable
    total = total_given = total_free = 0.0
    for i in range(0, count, batch_size):
        j = min(i + batch_size, count)
        targets = model.to_levels(data_mod.to_signed(split.images[i:j]).to(device))  # (b, 1, 28, 28)
        if marginal or not conditional:
            total += float(model.marginal_nll(targets).sum())
        if conditional:
            total_given += float(model.nll(targets, split.labels[i:j].to(device)).sum())
        if class_free:
            total_free += float(model.nll(targets, torch.full((j - i,), model.null_label, device=device)).sum())
    per_dim = math.log(2) * targets[0].numel()
    out: dict[str, Any] = {"test_images": count, "nll_protocol": protocol}
    if marginal or not conditional:
        out.update(test_nll=total / count, test_bits_per_dim=total / count / per_dim)
    if conditional:
        out.update(test_nll_given_label=total_given / count, test_bits_per_dim_given_label=total_given / count / per_dim)
    if class_free:
        out.update(test_nll_without_label=total_free / count, test_bits_per_dim_without_label=total_free / count / per_dim)
    return out


@torch.no_grad()
def classifier_accuracy(model: nn.Module, dataset: str) -> dict[str, float]:
    """A classifier's accuracy on the test split."""
    model.eval()
    device = next(model.parameters()).device
    test = data_mod.load_split(dataset, train=False)
    correct = 0
    for i in range(0, len(test), 1000):
        x = data_mod.to_signed(test.images[i : i + 1000]).to(device)
        correct += int((model(x).argmax(1).cpu() == test.labels[i : i + 1000]).sum())
    return {"n": len(test), "test_accuracy": correct / len(test)}


# ----------------------------------------------------------------------------- super-resolution


def psnr_ssim(images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image PSNR in dB and SSIM of ``images`` against ``target``, both ``(B, 1, H, W)`` in [-1, 1]
    -> two float ``(B,)`` tensors. Both are computed by torchmetrics (a kept library, not by hand) on
    the images mapped to [0, 1] with ``data_range=1``: PSNR = 10 log10(1 / MSE), infinite for an exact
    copy (torchmetrics caps nothing); SSIM with its defaults, an 11 x 11 Gaussian window of sigma 1.5
    and K = (0.01, 0.03) (Wang et al. 2004), 1 for an exact copy."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    x, y = (images.float().cpu() + 1) / 2, (target.float().cpu() + 1) / 2
    psnr = peak_signal_noise_ratio(x, y, data_range=1.0, dim=(1, 2, 3), reduction="none")
    ssim = structural_similarity_index_measure(x, y, data_range=1.0, reduction="none")
    return psnr, ssim


@torch.no_grad()
def evaluate_super_resolution(model: nn.Module, dataset: str, *, n: int | None = None,
                              batch_size: int = 500, evaluator: Evaluator | None = None) -> dict[str, Any]:
    """A super-resolution model's PSNR (dB) and SSIM on the first ``n`` test images (None = all
    10,000), beside bicubic and nearest-neighbour upscaling of the same low-resolution inputs.

    Each test image (28 x 28, the truth) is shrunk by the model's ``degrade`` (area averaging), upscaled
    by the model (``upscale``), by ``bicubic`` and by ``nearest``, and scored by ``psnr_ssim``; the
    numbers are means over the images (the papers' convention: the mean of per-image PSNR, not the
    PSNR of the mean error). ``psnr_over_bicubic`` is the model's gain in dB. With an ``evaluator``
    (the dataset's classifier), the upscaled images are also scored as a generator's samples are:
    ``fd`` (against the test images' features: how far from real images the upscaling leaves them),
    ``class_accuracy`` (the classifier finds each image's own class), precision and recall, and the
    same for bicubic (``bicubic_fd``, ...): the perception side of the perception-distortion
    trade-off (Blau & Michaeli 2018), beside PSNR and SSIM on the distortion side. ``ValueError`` when
    ``n`` is not 1 to the size of the test split."""
    from .models.superres import bicubic, nearest

    model.eval()
    device = next(model.parameters()).device
    split = data_mod.load_split(dataset, train=False)
    if n is not None and (type(n) is not int or not 1 <= n <= len(split)):
        raise ValueError(f"A super-resolution model is scored on 1 to {len(split):,} test images, not {n!r:.40}.")
    count = len(split) if n is None else n
    scale = model.scale
    sums = {f"{who}_{metric}": 0.0 for who in ("model", "bicubic", "nearest") for metric in ("psnr", "ssim")}
    kept: dict[str, list[torch.Tensor]] = {"model": [], "bicubic": []}  # for the evaluator
    with torch.no_grad():
        for i in range(0, count, batch_size):
            truth = data_mod.to_signed(split.images[i:min(i + batch_size, count)]).to(device)  # (b, 1, 28, 28)
            low = model.degrade(truth)  # (b, 1, 28 / s, 28 / s)
            for who, upscaled in (("model", model.upscale(low)), ("bicubic", bicubic(low, scale)),
                                  ("nearest", nearest(low, scale))):
                psnr, ssim = psnr_ssim(upscaled, truth)
                sums[f"{who}_psnr"] += float(psnr.double().sum())
                sums[f"{who}_ssim"] += float(ssim.double().sum())
                if evaluator is not None and who in kept:
                    kept[who].append(upscaled.cpu())
    mean = {key: value / count for key, value in sums.items()}
    out = {"n": count, "scale": scale, "psnr": mean["model_psnr"], "ssim": mean["model_ssim"],
           "bicubic_psnr": mean["bicubic_psnr"], "bicubic_ssim": mean["bicubic_ssim"],
           "nearest_psnr": mean["nearest_psnr"], "nearest_ssim": mean["nearest_ssim"],
           "psnr_over_bicubic": mean["model_psnr"] - mean["bicubic_psnr"],
           "sr_protocol": (f"{dataset} test split, first {count:,} images; low resolution = area average of "
                           f"{scale} x {scale} blocks; mean per-image PSNR and SSIM (torchmetrics) on [0, 1]")}
    if evaluator is not None:
        labels = split.labels[:count]
        for who, prefix in (("model", ""), ("bicubic", "bicubic_")):
            report = evaluator.report(torch.cat(kept[who]), labels)
            out.update({f"{prefix}{key}": report[key] for key in ("frechet_distance", "class_accuracy",
                                                                  "precision", "recall") if key in report})
        out["sr_protocol"] += "; FD, class accuracy, precision and recall of the upscaled images by the classifier"
    return out


__all__ = ["Evaluator", "HistogramProbe", "collapse_verdict", "COLLAPSE_TOP_SHARE", "COLLAPSE_COVERED", "frechet_distance", "classifier_score", "precision_recall", "kl_to_uniform",
           "coverage", "class_histogram", "evaluate_vae", "evaluate_likelihood", "classifier_accuracy",
           "psnr_ssim", "evaluate_super_resolution"]
