"""Generator ensembles: the source documents' output average, and a mixture.

§6.3 of source document 000 ensembles generators by averaging their outputs for the same
noise: ``mean_i G_i(z)``. Different generators map the same z to different digits, so the
average lays several digits over each other: a blur. A mixture instead draws each sample
from ONE member, picked at random in proportion to its weight; its images are the members'
own images, and its class histogram is the weighted mix of theirs.

Members are checkpoints of one dataset that draw an image from a latent code in one pass:
a family with the registry's "generate" ability that is not a diffusion model (whose noise
is the start of a many-step sampler with its own settings, not a latent code), all
conditional with the same classes or all unconditional. Several copies of one checkpoint
are allowed (averaging them gives that checkpoint back).

Noise: member i's latents are ``sampling.latents(n, latent_dim_i, seed=seed)``, exactly what
``sampling.sample(member, n, seed=seed)`` draws. Members of one latent size therefore see the
same z; members of different sizes cannot share a z and each size gets its own draw from the
same seed (``noise_note`` says which). Images are float ``(B, 1, 28, 28)`` in [-1, 1]; every
random result takes a seed, and the same seed gives the same choices and images.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .checkpoints import load_checkpoint, read_meta, resolve
from .models import REGISTRY, build_model, families_with, make_config
from .sampling import MAX_SAMPLES, conditional_labels, even_labels
from .sampling import sample as sample_one
from .validation import check_choice, check_int, check_seed, fixed, show

MODES = ("average", "mixture")
MIN_MEMBERS, MAX_MEMBERS = 2, 8
MAX_WEIGHT = 1e6  # weights are relative: 1e6 against 1 already means "never the other one"
MIXTURE_STREAM = 0x6D6978  # mixes into the seed of the member choices, so they are independent of the latents

# ----------------------------------------------------------------------------- members


def member_families() -> tuple[str, ...]:
    """Registered families whose checkpoints can be members: they generate, and are not diffusion models."""
    return tuple(name for name in families_with("generate") if REGISTRY[name].objective != "denoising")


@dataclass(frozen=True)
class Ensemble:
    """Members (loaded models, or meta-device outlines for checking), their display names and
    their weights normalised to sum to 1. Build it with ``make`` or ``load``, which check it."""

    members: tuple[nn.Module, ...]
    names: tuple[str, ...]
    weights: tuple[float, ...]

    @property
    def dataset(self) -> str:
        return str(self.members[0].config.dataset)

    @property
    def num_classes(self) -> int:
        """0 for unconditional members, else their (shared) number of classes."""
        return int(getattr(self.members[0], "num_classes", 0))

    @property
    def shares_noise(self) -> bool:
        """True when every member has the same latent size, so that all see the same z."""
        return len({m.latent_dim for m in self.members}) == 1


def check_members(members: Sequence[nn.Module], names: Sequence[str]) -> None:
    """``ValueError`` in one sentence unless ``members`` (2..``MAX_MEMBERS`` models or meta-device
    outlines, named by ``names``) can form an ensemble: generators, not diffusion models, of one
    dataset, all conditional with the same classes or all unconditional."""
    check_count(len(members))
    for model, name in zip(members, names):
        entry = REGISTRY.get(getattr(model, "family", ""))
        if entry is None or not entry.can("generate"):
            raise ValueError(f"{show(name)} is a {getattr(model, 'family', type(model).__name__)}, which does not "
                             f"generate images; ensemble members are generators ({', '.join(member_families())}).")
        if entry.objective == "denoising":
            raise ValueError(f"{show(name)} is a diffusion model: its noise starts a many-step sampler, not a latent "
                             f"code that one pass turns into an image; ensemble members are "
                             f"{', '.join(member_families())}.")
    first, first_name = members[0], names[0]
    for model, name in zip(members[1:], names[1:]):
        if model.config.dataset != first.config.dataset:
            raise ValueError(f"{show(first_name)} draws {first.config.dataset} and {show(name)} draws "
                             f"{model.config.dataset}: an ensemble's members must share one dataset.")
        k0, k = getattr(first, "num_classes", 0), getattr(model, "num_classes", 0)
        if bool(k0) != bool(k):
            cond, plain = (first_name, name) if k0 else (name, first_name)
            raise ValueError(f"{show(cond)} is conditional (it draws the class it is asked for) and {show(plain)} "
                             f"is not: ensemble conditional members with conditional ones only.")
        if k0 != k:
            raise ValueError(f"{show(first_name)} has {k0} classes and {show(name)} has {k}: conditional members "
                             f"must share their classes.")


def check_count(k: int) -> None:
    """``ValueError`` unless an ensemble of ``k`` members is allowed (``MIN_MEMBERS``..``MAX_MEMBERS``)."""
    if not MIN_MEMBERS <= k <= MAX_MEMBERS:
        raise ValueError(f"An ensemble takes {MIN_MEMBERS} to {MAX_MEMBERS} members, got {k}"
                         + ("; to sample one checkpoint, use it alone." if k == 1 else "."))


def check_weights(weights: Sequence[object] | None, k: int) -> tuple[float, ...]:
    """``k`` positive finite weights (at most ``MAX_WEIGHT``; None = equal) -> normalised to sum 1."""
    if weights is None:
        return tuple(1.0 / k for _ in range(k))
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ValueError(f"weights must be a list of {k} positive numbers, one per member, got {show(weights)}.")
    if len(weights) != k:
        raise ValueError(f"{len(weights)} weights for {k} members: give one weight per member, in the members' order.")
    out = []
    for i, w in enumerate(weights):
        ok = isinstance(w, numbers.Real) and not isinstance(w, bool)
        value = float(w) if ok and abs(w) < 1e308 else math.nan
        if not (math.isfinite(value) and 0 < value <= MAX_WEIGHT):
            zero = " (a member with weight 0 is not a member: leave it out)" if value == 0 else ""
            raise ValueError(f"weight {i + 1} must be a number above 0 and at most {MAX_WEIGHT:g}, got {show(w)}{zero}.")
        out.append(value)
    total = sum(out)
    return tuple(w / total for w in out)


def parse_list(text: object, what: str) -> list[str]:
    """Comma-separated items of ``text`` with surrounding spaces removed; ``ValueError`` for an empty item."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text: items separated by commas, got {show(text)}.")
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise ValueError(f"{what} must be items separated by commas, with none empty, got {show(text)}.")
    return items


def parse_weights(text: str | None, k: int, *, what: str = "weights") -> tuple[float, ...]:
    """'1,2,1' -> normalised weights for ``k`` members; None or blank = equal weights."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return check_weights(None, k)
    values = []
    for item in parse_list(text, what):
        try:
            values.append(float(item))
        except ValueError:
            raise ValueError(f"{what} must be numbers separated by commas, got {show(item)}.") from None
    if len(values) != k:
        raise ValueError(f"{what}: {len(values)} number{'s' if len(values) > 1 else ''} for {k} members; give one "
                         f"weight per member, in order.")
    return check_weights(values, k)


def make(members: Sequence[nn.Module], *, names: Sequence[str] | None = None,
         weights: Sequence[object] | None = None) -> Ensemble:
    """An ``Ensemble`` of loaded models (checked by ``check_members`` and ``check_weights``)."""
    names = tuple(str(n) for n in names) if names is not None else tuple(
        f"{getattr(m, 'family', 'model')} #{i + 1}" for i, m in enumerate(members))
    if len(names) != len(members):
        raise ValueError(f"{len(names)} names for {len(members)} members.")
    check_members(members, names)
    return Ensemble(tuple(members), names, check_weights(weights, len(members)))


def outline(ref: str | os.PathLike) -> nn.Module:
    """The model a checkpoint's config.json describes, built on the meta device (no weights read):
    enough for ``check_members`` before anything is loaded."""
    meta = read_meta(ref)
    with torch.device("meta"):
        return build_model(meta["family"], make_config(meta["family"], **meta["config"]))


def check_refs(refs: Sequence[str | os.PathLike], *, weights: Sequence[object] | None = None) -> Ensemble:
    """The ensemble that ``refs`` (checkpoint folders or shipped names) would make, checked on their
    config.json files only: meta-device members, so that a refusal comes before any weights load."""
    refs = list(refs)
    check_count(len(refs))  # before any file is read
    return make([outline(r) for r in refs], names=[str(r) for r in refs], weights=weights)


def load(refs: Sequence[str | os.PathLike], *, weights: Sequence[object] | None = None,
         device: str | torch.device = "cpu") -> Ensemble:
    """Load and check an ensemble of checkpoints (folders or shipped names), named as given.
    Every config is checked before any weights are read; a checkpoint named twice loads once."""
    described = check_refs(refs, weights=weights)
    loaded: dict[Path, nn.Module] = {}
    models = []
    for ref in refs:
        folder = resolve(ref).resolve()
        if folder not in loaded:
            loaded[folder] = load_checkpoint(folder, device=device)
        models.append(loaded[folder])
    return Ensemble(tuple(models), described.names, described.weights)


# ----------------------------------------------------------------------------- noise and labels


def noise_note(ens: Ensemble) -> str:
    """One sentence: whether the members share z, or which latent sizes draw their own noise."""
    sizes = [m.latent_dim for m in ens.members]
    if ens.shares_noise:
        return f"Every member sees the same z for each sample (latent size {sizes[0]})."
    listed = ", ".join(f"{name}: {d}" for name, d in zip(ens.names, sizes))
    return (f"The members' latent sizes differ ({listed}), so they cannot share a z: each size draws its own "
            f"noise from the same seed (members of one size share it).")


def ensemble_labels(ens: Ensemble, n: int, labels: torch.Tensor | int | None) -> torch.Tensor | None:
    """``(n,)`` int64 labels for conditional members (None = split evenly), None for unconditional ones."""
    if ens.num_classes:
        return conditional_labels(n, ens.num_classes, labels)
    if labels is not None:
        raise ValueError("The ensemble's members are unconditional; they take no labels.")
    return None


# ----------------------------------------------------------------------------- sampling


def member_images(ens: Ensemble, n: int, *, seed: int, labels: torch.Tensor | int | None = None,
                  truncation: float | None = None) -> torch.Tensor:
    """Each member's ``n`` images for ``seed``: ``(K, n, 1, 28, 28)`` in [-1, 1], row i exactly what
    ``sampling.sample(member_i, n, seed=seed)`` draws (the same z where latent sizes match)."""
    n = check_int(n, "n", lo=1, hi=MAX_SAMPLES)
    seed = check_seed(seed)
    lb = ensemble_labels(ens, n, labels)
    return torch.stack([sample_one(m, n, seed=seed, labels=lb, truncation=truncation) for m in ens.members])


@torch.inference_mode()
def average(ens: Ensemble, n: int, *, seed: int, labels: torch.Tensor | int | None = None,
            truncation: float | None = None) -> torch.Tensor:
    """The documents' ensemble: the weighted mean of the members' images for ``seed``,
    ``(n, 1, 28, 28)`` in [-1, 1]. Members are drawn one at a time (memory: two batches of n)."""
    n = check_int(n, "n", lo=1, hi=MAX_SAMPLES)
    seed = check_seed(seed)
    lb = ensemble_labels(ens, n, labels)
    out = torch.zeros(n, 1, 28, 28)
    for model, w in zip(ens.members, ens.weights):
        out += w * sample_one(model, n, seed=seed, labels=lb, truncation=truncation)
    return out.clamp_(-1, 1)  # a convex mix of [-1, 1] stays inside; the clamp only absorbs rounding


def choices(weights: Sequence[float], n: int, *, seed: int) -> torch.Tensor:
    """Which member draws each of ``n`` samples: ``(n,)`` int64 in 0..K-1, member i with probability
    ``weights[i]`` (normalised here), independently per sample. Seeded by ``seed`` through its own
    stream (``MIXTURE_STREAM``), independent of the latents that the same seed draws."""
    p = np.asarray(check_weights(list(weights), len(weights)), dtype=np.float64)
    n = check_int(n, "n", lo=1, hi=MAX_SAMPLES)
    rng = np.random.default_rng([MIXTURE_STREAM, check_seed(seed)])
    return torch.from_numpy(rng.choice(len(p), size=n, p=p)).to(torch.int64)


@torch.inference_mode()
def mixture(ens: Ensemble, n: int, *, seed: int, labels: torch.Tensor | int | None = None,
            truncation: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The mixture: sample j is member ``choices[j]``'s image j for ``seed`` (exactly what that member
    alone draws), members picked in proportion to their weights. Returns images ``(n, 1, 28, 28)``
    in [-1, 1] and the choices ``(n,)`` int64. Each picked member draws all n and keeps its rows,
    so that image j does not depend on the other members: at most K times one member's cost."""
    n = check_int(n, "n", lo=1, hi=MAX_SAMPLES)
    seed = check_seed(seed)
    lb = ensemble_labels(ens, n, labels)
    picked = choices(ens.weights, n, seed=seed)
    out = torch.empty(n, 1, 28, 28)
    for i, model in enumerate(ens.members):
        rows = (picked == i).nonzero().flatten()
        if len(rows):
            out[rows] = sample_one(model, n, seed=seed, labels=lb, truncation=truncation)[rows]
    return out, picked


def sample(ens: Ensemble, n: int, *, mode: str, seed: int, labels: torch.Tensor | int | None = None,
           truncation: float | None = None) -> torch.Tensor:
    """``n`` images ``(n, 1, 28, 28)`` in [-1, 1] by ``mode``: 'average' or 'mixture'."""
    mode = check_choice(mode, "mode", MODES)
    if mode == "average":
        return average(ens, n, seed=seed, labels=labels, truncation=truncation)
    return mixture(ens, n, seed=seed, labels=labels, truncation=truncation)[0]


# ----------------------------------------------------------------------------- evaluation


def evaluate(ens: Ensemble, evaluator: Any, *, mode: str, n: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """The evaluator's report (``metrics.Evaluator.report``) for ``n`` samples of the ensemble, split
    evenly over the classes when conditional, as ``Evaluator.evaluate_generator`` scores one model."""
    mode = check_choice(mode, "mode", MODES)
    k = ens.num_classes
    labels = even_labels(n, k) if k else None
    images = sample(ens, n, mode=mode, seed=seed, labels=labels)
    return {"ensemble": list(ens.names), "mode": mode, "weights": [round(w, 6) for w in ens.weights],
            "noise": noise_note(ens), **evaluator.report(images, labels)}


# ----------------------------------------------------------------------------- the measured table


TABLE_TEXT = {
    "header": "| samples | FD (lower is better) | coverage | KL to uniform | precision | recall |",
    "floor": "real training images (the floor)",
    "footer": "{dataset}, N = {n:,} samples each, seed {seed}, members {members} (weights {weights}); {device}, {date}.",
}
"""The words of ``results_table`` (an app passes them in its page's language)."""


def results_table(results: dict[str, Any], text: dict[str, str] | None = None) -> str:
    """The Markdown table of ``scripts/ensemble_table.py``'s results (``docs/ensemble-table.json``):
    the real-data floor, each member alone, the average and the mixture, with N under it;
    ``text`` overrides ``TABLE_TEXT``'s words."""
    words = {**TABLE_TEXT, **(text or {})}

    def line(label: str, m: dict[str, Any]) -> str:
        k = len(m.get("class_histogram", [])) or 10
        return (f"| {label} | {fixed(m.get('frechet_distance'), 2)} | {m.get('coverage', '-')}/{k} | "
                f"{fixed(m.get('kl_to_uniform'), 4)} | {fixed(m.get('precision'), 3)} | {fixed(m.get('recall'), 3)} |")

    lines = [words["header"], "| --- | --- | --- | --- | --- | --- |", line(words["floor"], results.get("real_floor") or {})]
    lines += [line(row["label"], row["report"]) for row in results.get("rows", [])]
    weights = ", ".join(f"{w:g}" for w in results.get("weights", []))
    lines.append("")
    lines.append(words["footer"].format(dataset=results.get("dataset", "?"), n=results.get("n", 0),
                                        seed=results.get("seed", "?"), members=", ".join(results.get("members", [])),
                                        weights=weights, device=results.get("device", "?"),
                                        date=results.get("date", "?")))
    return "\n".join(lines)


__all__ = ["Ensemble", "MODES", "MAX_MEMBERS", "member_families", "check_count", "check_members", "check_weights", "parse_list",
           "parse_weights", "make", "outline", "check_refs", "load", "noise_note", "member_images", "average",
           "choices", "mixture", "sample", "evaluate", "results_table"]
