"""``python -m aigc_models train | sample | evaluate | tune | bench | compare | list``.

Every failure a user can cause (unknown model or dataset, missing data or
checkpoint, a bad label, a number out of range, an output too large or a path
that cannot be written) ends with one clear line on stderr, ``error: ...``, and
exit code 2, argparse's own refusals included; every number and path is checked
before a model is built or an image drawn. A training run that diverges (NaN
losses, D winning outright) explains why on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import torch

from . import data as data_mod
from . import presets, provenance
from .checkpoints import (SHIPPED_DIR, CheckpointError, expand_user, list_checkpoints, load_checkpoint, read_meta,
                          resolve, update_metrics)
from .models import REGISTRY, build_model, families_with, family, make_config
from .sampling import MAX_SAMPLES, MAX_TRUNCATION
from .validation import check_int, check_optional_float, check_seed, fixed, number, show

# ----------------------------------------------------------------------------- limits

MAX_SCALE = 64  # a 28-pixel sample becomes 1,792 pixels tall: more than a projector shows
MAX_GRID_PIXELS = 64_000_000  # an 8,000 x 8,000 PNG; at --scale 1 building it takes ~12 bytes a pixel (a float RGB grid)
MAX_NPZ_PIXELS = 100_000_000  # 100 MB of uint8 pixels before compression (above --n's own limit today)
TILE, PADDING = 28, 2  # a sample's side and the gap save_grid puts around each one
MAX_ERROR_CHARS = 500  # a refusal longer than this (a library echoing a huge argument) is cut in the middle

# ----------------------------------------------------------------------------- helpers


def classifier_for(dataset: str, explicit: str | None, device: str = "cpu") -> torch.nn.Module:
    """The evaluator's classifier: ``explicit`` or the shipped ``<dataset>-<the classifying family>``."""
    name = families_with("classify")[0]
    path = explicit or str(SHIPPED_DIR / f"{dataset}-{name}")
    if not explicit and not Path(path).is_dir():
        raise CheckpointError(
            f"No classifier for {dataset} at {path}. Train one with "
            f"`python -m aigc_models train --model {name} --dataset {dataset} --out {path}` or pass --classifier."
        )
    model = load_checkpoint(path, device=device)
    if not REGISTRY[model.family].can("classify"):
        raise CheckpointError(f"{show(path)} holds a {model.family}, not a classifier.")
    return model


def parse_label(text: str | None, dataset: str) -> int | None:
    """A class index from '3' or a class name ('Sneaker'), or None."""
    if text is None:
        return None
    names = data_mod.class_names(dataset)
    if text.isascii() and text.isdigit() and len(text) <= 6 and int(text) < len(names):
        return int(text)
    lowered = [n.lower() for n in names]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    raise ValueError(f"Unknown label {show(text)} for {dataset}; use 0..{len(names) - 1} or one of {', '.join(names)}.")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` strings -> dict, values parsed as JSON when they parse."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--option takes key=value, got {show(pair)}.")
        key, value = pair.split("=", 1)
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except ValueError:  # not JSON (or a number of over 4,300 digits): kept as text, for the config check to refuse
            out[key.replace("-", "_")] = value
    return out


def stepping_options(args: argparse.Namespace, objective: str, family_name: str) -> dict[str, Any]:
    """``--sampler`` / ``--steps`` / ``--guidance`` as given (absent ones left out); ``ValueError``
    when any is given for a model that does not take it: all three apply to diffusion models,
    ``--guidance`` also to a PixelCNN (class guidance). The samplers check the values."""
    stepping = {key: value for key, value in (("sampler", args.sampler), ("steps", args.steps),
                                               ("guidance", args.guidance)) if value is not None}
    if objective == "autoregressive" and set(stepping) <= {"guidance"}:
        return stepping
    if stepping and objective != "denoising":
        what = "diffusion models and --guidance to PixelCNNs" if objective == "autoregressive" else "diffusion models"
        raise ValueError(f"--{', --'.join(stepping)} apply to {what}; {show(args.checkpoint)} is a {family_name}.")
    return stepping


def resolved_stepping(model: torch.nn.Module, stepping: dict[str, Any]) -> dict[str, Any]:
    """A diffusion model's sampler, steps and guidance (a PixelCNN's temperature and guidance) with the
    config's defaults filled in (what a report records, so that its numbers name how the samples were drawn)."""
    cfg = model.config
    if model.objective == "autoregressive":
        return {"temperature": cfg.temperature, "guidance": stepping.get("guidance", cfg.default_guidance)}
    return {"sampler": stepping.get("sampler", cfg.sampler), "steps": stepping.get("steps", cfg.default_steps),
            "guidance": stepping.get("guidance", cfg.default_guidance)}


def full_report(model: torch.nn.Module, *, n: int, seed: int, classifier: str | None, floor: bool,
                stepping: dict[str, Any] | None = None) -> dict[str, Any]:
    """What ``evaluate`` prints for any family; a diffusion model's report names its ``sampling``."""
    from .metrics import Evaluator, classifier_accuracy, evaluate_likelihood, evaluate_vae, vae_test_nll

    dataset = model.config.dataset
    if model.objective == "cross-entropy":
        return {"family": model.family, "dataset": dataset, **classifier_accuracy(model, dataset)}
    evaluator = Evaluator(classifier_for(dataset, classifier), dataset)
    if model.objective == "regression":  # super-resolution: PSNR / SSIM beside bicubic and nearest, and the
        from .metrics import evaluate_super_resolution  # upscaled images' FD and class accuracy (perception)

        return {"family": model.family, "dataset": dataset,
                **evaluate_super_resolution(model, dataset, n=n, evaluator=evaluator)}
    out: dict[str, Any] = {"family": model.family, "dataset": dataset, "seed": seed}
    if model.objective == "elbo":
        out.update(evaluate_vae(model, dataset, seed=seed))
        if model.config.binarized:  # the binarized-MNIST benchmark: an importance-sampled bound on -log p(x)
            out.update(vae_test_nll(model, dataset))
        out["prior_samples"] = evaluator.evaluate_generator(model, n=n, seed=seed)
    else:
        if model.objective == "autoregressive":  # the exact test NLL, on the fixed binarization (seed 0)
            out.update(evaluate_likelihood(model, dataset))
        out.update(evaluator.evaluate_generator(model, n=n, seed=seed, stepping=stepping))
    if model.objective in ("denoising", "autoregressive"):
        out["sampling"] = resolved_stepping(model, stepping or {})
    if floor:
        out["real_floor"] = evaluator.real_floor(n, seed=seed)
    out["classifier_test_accuracy"] = evaluator.test_accuracy()
    return out


def progress_evaluator(name: str, dataset: str, *, n: int, classifier: str | None):
    """For ``train --eval-every``: model -> metrics, the classifier loaded once. GANs are scored on ``n``
    samples (seed 0, so successive lines compare); a VAE gets its test ELBO and reconstruction error;
    an autoregressive model its exact NLL given the label on the first ``n`` test images."""
    from .metrics import Evaluator, evaluate_likelihood, evaluate_vae

    if family(name).objective == "elbo":
        return lambda m: evaluate_vae(m, dataset)
    if family(name).objective == "autoregressive":  # NLL given the label on the first n test images
        return lambda m: evaluate_likelihood(m, dataset, marginal=False, n=n)
    if family(name).objective == "regression":  # PSNR / SSIM on the first n test images
        from .metrics import evaluate_super_resolution

        return lambda m: evaluate_super_resolution(m, dataset, n=n)
    evaluator = Evaluator(classifier_for(dataset, classifier), dataset)
    return lambda m: evaluator.evaluate_generator(m, n=n, seed=0)


def grid_size(n: int, *, nrow: int, scale: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG ``save_grid`` writes for ``n`` samples, ``nrow`` to a row
    (torchvision's make_grid: ``PADDING`` around every tile, none around a lone image), enlarged ``scale`` times."""
    if n == 1:
        return TILE * scale, TILE * scale
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    return (cols * (TILE + PADDING) + PADDING) * scale, (rows * (TILE + PADDING) + PADDING) * scale


def check_out_file(text: str, flag: str = "--out") -> Path:
    """``text`` as a file to write: not an existing folder, inside a folder that exists or can be
    created. ``ValueError`` naming ``flag`` otherwise; nothing is created here."""
    if "\x00" in text:
        raise ValueError(f"{flag} {show(text)} contains a NUL byte; no file can have that name.")
    out = expand_user(text)
    try:
        if out.is_dir():
            raise ValueError(f"{flag} {show(text)} is an existing folder; give the path of a file to write.")
        folder = out.parent
        while not folder.exists():  # the nearest ancestor that exists; its subfolders will be created
            folder = folder.parent
        if not folder.is_dir():
            raise ValueError(f"{flag} {show(text)} cannot be created: {show(str(folder))} is a file, not a folder.")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"{flag} {show(text)} cannot be created: no permission to write in {show(str(folder))}.")
    except OSError as err:  # a name the OS refuses: too long, a loop of links
        raise ValueError(f"{flag} {show(text)} cannot be written ({err.strerror or type(err).__name__}).") from None
    return out


def check_device(text: str) -> str:
    """``cpu``, ``cuda``, ``cuda:N``, ``mps`` (when there) or ``auto`` (cuda when there, else cpu), as a device string."""
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"Unknown --device {show(text)}; use auto, cpu, cuda or cuda:N.")
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"--device {show(text)}: no such CUDA GPU here ({torch.cuda.device_count()} found); "
                         f"use --device cpu.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("--device mps: Apple's Metal is not available here; use --device cpu.")
    return text


def outline(meta: dict[str, Any]) -> torch.nn.Module:
    """The model a validated config.json describes, built on the meta device: its attributes
    (``objective``, ``num_classes``) without a byte of weights allocated or read."""
    with torch.device("meta"):
        return build_model(meta["family"], make_config(meta["family"], **meta["config"]))


# ----------------------------------------------------------------------------- commands


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .metrics import classifier_accuracy, evaluate_likelihood, evaluate_vae
    from .sampling import save_grid
    from .training import CheckpointSaved, Done, Metrics, Samples, Started, Step, TrainConfig, command_line, train

    preset = None
    if args.preset is not None:  # a failure preset picks the model, and its settings are the defaults
        preset = presets.check_preset(args.preset)
        wanted = preset.settings["model"]
        if args.model is not None and args.model != wanted:
            raise ValueError(f"--preset {preset.key} trains the {wanted} model, not {show(args.model)}; leave --model "
                             "out.")
        args.model = wanted
    elif args.model is None:
        raise ValueError(f"train needs --model (one of: {', '.join(REGISTRY)}) or --preset (one of: "
                         f"{', '.join(presets.PRESETS)}).")
    family(args.model)
    data_mod.check_dataset_name(args.dataset)
    # TrainConfig.validate() checks the other numbers before anything is built; --eval-n is the CLI's own
    check_int(args.eval_n, "--eval-n (0 = skip)", lo=0, hi=MAX_SAMPLES)
    options = parse_options(args.option)
    for key in ("latent_dim", "arch", "embed_dim"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    entry = family(args.model)
    if args.channels is not None:
        if not entry.width_fields:
            raise ValueError(f"--channels: {args.model} has no width option; use --option.")
        options.update({name: args.channels for name in entry.width_fields})
    if args.spectral_norm:
        options["spectral_norm"] = True
    steps = args.steps if args.steps is not None else (10**9 if args.max_seconds else 2000)
    given = {name: getattr(args, name) for name in SETTING_FLAGS if getattr(args, name) is not None}
    settings = {"dataset": args.dataset, "model_options": options, "amp": not args.no_amp,
                "diffaugment": args.diffaugment, "real_augment": args.real_augment, "init_from": args.init_from,
                "pictures": args.pictures, "out": args.out, "command": command_line()}
    if args.beta1 is not None:
        settings["betas"] = (args.beta1, args.beta2)
    if preset is not None:  # the preset's settings and steps; the flags given win
        if args.steps is None and args.max_seconds:
            given["steps"] = steps
        cfg = presets.preset_config(preset.key, **{**settings, **given})
        steps = cfg.steps
    else:  # flags not given: the family's train_defaults, then TrainConfig's
        cfg = TrainConfig.for_family(args.model, **{**given, "steps": steps}, **settings)
    watch = presets.watch_for(preset.key, cfg.dataset) if preset is not None else None
    if watch is not None and watch.symptom in ("collapse", "mirrored") and not args.eval_every:
        seen_in = "mode collapse, seen in the class histogram" if watch.symptom == "collapse" else \
            "mirrored digits, seen by the classifier"
        print(f"note: the preset's symptom is {seen_in}: add --eval-every (e.g. 100) to watch for it.",
              file=sys.stderr)
    final_eval = None
    if entry.objective == "cross-entropy":
        final_eval = lambda m: classifier_accuracy(m, m.config.dataset)  # noqa: E731
    elif entry.objective == "elbo":
        final_eval = lambda m: evaluate_vae(m, m.config.dataset)  # noqa: E731
    elif entry.objective == "autoregressive":  # given the label (one pass); `evaluate` adds the marginal -log p(x)
        final_eval = lambda m: evaluate_likelihood(m, m.config.dataset, marginal=False)  # noqa: E731
    if entry.objective == "regression":  # PSNR / SSIM on the whole test split, beside bicubic and nearest
        from .metrics import evaluate_super_resolution

        final_eval = lambda m: evaluate_super_resolution(m, m.config.dataset)  # noqa: E731
    if args.eval_n:
        final_eval = lambda m: full_report(m, n=args.eval_n, seed=0, classifier=args.classifier, floor=False)  # noqa: E731
    periodic_eval = None
    if args.eval_every:
        if entry.objective == "cross-entropy":
            raise ValueError("--eval-every scores generated images; the classifier has none (its test accuracy is "
                             "measured at the end).")
        periodic_eval = progress_evaluator(args.model, args.dataset, n=args.eval_n or 2000, classifier=args.classifier)
    by_time = args.steps is None and args.max_seconds is not None
    bar = None  # drawn only once set-up succeeded, so set-up errors print alone
    last_samples = None
    for event in train(cfg, evaluator=periodic_eval, final_evaluator=final_eval):
        if watch is not None and watch.update(event) and bar is not None:
            bar.write(f"symptom ({preset.title}): {watch.evidence}")
        if isinstance(event, Started):
            started = time.perf_counter()
            bar = tqdm(total=int(args.max_seconds) if by_time else steps, unit="s" if by_time else "step",
                       disable=args.quiet, dynamic_ncols=True)
            bar.write(f"training {cfg.model} on {cfg.dataset} | {event.device} | {event.parameters:,} parameters")
        elif isinstance(event, Step):
            bar.update((int(event.elapsed) - bar.n) if by_time else (event.step - bar.n))
            bar.set_postfix({k: f"{v:.3g}" for k, v in event.losses.items()} | {"img/s": f"{event.images_per_second:.0f}"})
        elif isinstance(event, Samples):
            last_samples = event
        elif isinstance(event, Metrics):
            bar.write(json.dumps({"step": event.step, "seconds": round(time.perf_counter() - started, 1)} | event.metrics))
        elif isinstance(event, CheckpointSaved):
            if last_samples is not None:
                save_grid(last_samples.images, Path(event.path) / "samples.png", nrow=10 if last_samples.labels is not None else 8)
            bar.write(f"saved {event.path}")
        elif isinstance(event, Done):
            bar.close()
            if watch is not None and not watch.seen:
                print(f"symptom ({preset.title}): not seen in {event.step:,} steps; try another --seed or more "
                      "--steps.", file=sys.stderr)
            if event.reason == "diverged":
                print(f"error: {event.message}", file=sys.stderr)
                return 1
            print(f"done: {event.step} steps in {event.elapsed:.1f} s ({event.reason})", file=sys.stderr)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from .sampling import even_labels, grid, sample

    # the numbers, the output's size and its path are checked before a model is built or an image drawn
    n = check_int(args.n, "--n", lo=1, hi=MAX_SAMPLES)
    seed = check_seed(args.seed, "--seed")
    truncation = check_optional_float(args.truncation, "--truncation", lo=0.0, hi=MAX_TRUNCATION, lo_open=True,
                                      none_means="no truncation")
    scale = check_int(args.scale, "--scale", lo=1, hi=MAX_SCALE)
    nrow = None if args.nrow is None else check_int(args.nrow, "--nrow", lo=1, hi=n)
    device = check_device(args.device)
    out = check_out_file(args.out)
    if args.ensemble is not None:
        return sample_ensemble(args, n=n, seed=seed, truncation=truncation, scale=scale, nrow=nrow, device=device, out=out)
    ensemble_flags_alone(args)
    meta = read_meta(args.checkpoint)  # config.json only
    described = outline(meta)
    if described.objective == "cross-entropy":
        raise ValueError("A classifier cannot be sampled; pick a GAN or VAE checkpoint.")
    if described.objective == "regression":
        raise ValueError(f"{show(args.checkpoint)} is a super-resolution model: it upscales images instead of drawing "
                         "them; `evaluate` scores it (PSNR and SSIM against bicubic and nearest-neighbour).")
    k = getattr(described, "num_classes", 0)
    label = parse_label(args.label, meta["dataset"])
    if label is not None and not k:
        raise ValueError(f"--label needs a conditional model; {show(args.checkpoint)} is a {meta['family']}.")
    stepping = stepping_options(args, described.objective, meta["family"])
    if truncation is not None and described.objective == "denoising":
        raise ValueError("--truncation applies to GANs and VAEs (a diffusion model's noise is not a latent code).")
    nrow = check_output_size(args.format, n=n, nrow=nrow, scale=scale, conditional=bool(k))

    model = load_checkpoint(args.checkpoint, device=device)
    labels = (torch.full((n,), label, dtype=torch.int64) if label is not None else even_labels(n, k)) if k else None
    if stepping:  # the samplers check each value and name what is allowed
        from .metrics import draw

        images = draw(model, n, seed=seed, labels=labels, stepping=stepping)
    else:
        images = sample(model, n, seed=seed, labels=labels, truncation=truncation)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.format == "npz":
            arrays = {"images": data_mod.to_uint8(images)[:, 0].numpy()}
            if labels is not None:
                arrays["labels"] = labels.numpy()
            np.savez_compressed(out, **arrays)
        else:
            provenance.save_png(grid(images, nrow=nrow, scale=scale), out, sample_provenance(args, meta, n=n, seed=seed,
                                                                                          label=label, stepping=stepping))
    except OSError as err:  # disk full, permissions changed since the check
        raise ValueError(f"Could not write {show(str(out))} ({err.strerror or type(err).__name__}).") from None
    print(f"wrote {n} samples to {out}", file=sys.stderr)
    return 0


def check_output_size(fmt: str, *, n: int, nrow: int | None, scale: int, conditional: bool) -> int | None:
    """``ValueError`` when ``sample``'s npz or PNG would be too large; the PNG's samples per row (a row
    per class for a conditional model, else a square) or None for npz."""
    if fmt == "npz":
        if n * TILE * TILE > MAX_NPZ_PIXELS:
            raise ValueError(f"--n {n:,} makes {n * TILE * TILE:,} pixels of npz; the limit is {MAX_NPZ_PIXELS:,}.")
        return nrow
    nrow = nrow or (10 if conditional else math.ceil(math.sqrt(n)))  # a row per class, else a square
    width, height = grid_size(n, nrow=nrow, scale=scale)
    if width * height > MAX_GRID_PIXELS:
        raise ValueError(f"--n {n:,} at --scale {scale} makes a {width:,} x {height:,} PNG "
                         f"({width * height / 1e6:,.0f} megapixels); the limit is {MAX_GRID_PIXELS / 1e6:.0f} "
                         f"megapixels: lower --n or --scale, or write --format npz.")
    return nrow


# ----------------------------------------------------------------------------- ensembles (issue 16)


def ensemble_flags_alone(args: argparse.Namespace) -> None:
    """``ValueError`` when ``--mode`` or ``--weights`` come without ``--ensemble``."""
    given = [flag for flag, value in (("--mode", args.mode), ("--weights", args.weights)) if value is not None]
    if given:
        raise ValueError(f"{' and '.join(given)} {'go' if len(given) > 1 else 'goes'} with --ensemble (several "
                         f"checkpoints); {show(args.checkpoint)} is one checkpoint.")


def ensemble_outline(args: argparse.Namespace) -> tuple[list[str], str, Any]:
    """The ``--ensemble`` / ``--mode`` / ``--weights`` of ``sample`` or ``evaluate``, checked on the
    members' config.json files only: (names as given, mode, meta-device ensemble)."""
    from . import ensemble

    stepping = [f"--{k}" for k in ("sampler", "steps", "guidance") if getattr(args, k, None) is not None]
    if stepping:
        raise ValueError(f"{', '.join(stepping)} apply to diffusion models, which ensembles do not take.")
    if args.mode is None:
        raise ValueError("--ensemble needs --mode: average (the documents' way: the mean of the members' images "
                         "for the same seed) or mixture (each image from one member, picked by --weights).")
    refs = ensemble.parse_list(args.ensemble, "--ensemble")
    ensemble.check_count(len(refs))
    weights = ensemble.parse_weights(args.weights, len(refs), what="--weights")
    return refs, args.mode, ensemble.check_refs(refs, weights=weights)


def sample_ensemble(args: argparse.Namespace, *, n: int, seed: int, truncation: float | None, scale: int,
                    nrow: int | None, device: str, out: Path) -> int:
    """``sample --ensemble a,b --mode average|mixture [--weights 1,2]``: every member's config is
    checked like one checkpoint's, and the output's size, before any weights load. An npz of a
    mixture also stores which member drew each image (``member``, an index into --ensemble)."""
    import numpy as np

    from . import ensemble
    from .sampling import grid

    refs, mode, described = ensemble_outline(args)
    k = described.num_classes
    label = parse_label(args.label, described.dataset)
    if label is not None and not k:
        raise ValueError(f"--label needs conditional members; {', '.join(described.names)} are unconditional.")
    nrow = check_output_size(args.format, n=n, nrow=nrow, scale=scale, conditional=bool(k))
    ens = ensemble.load(refs, weights=described.weights, device=device)
    labels = ensemble.ensemble_labels(ens, n, label)
    picked = None
    if mode == "average":
        images = ensemble.average(ens, n, seed=seed, labels=labels, truncation=truncation)
    else:
        images, picked = ensemble.mixture(ens, n, seed=seed, labels=labels, truncation=truncation)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.format == "npz":
            arrays = {"images": data_mod.to_uint8(images)[:, 0].numpy()}
            if labels is not None:
                arrays["labels"] = labels.numpy()
            if picked is not None:
                arrays["member"] = picked.numpy()
            np.savez_compressed(out, **arrays)
        else:
            command = " ".join(["python -m aigc_models sample", f"--ensemble {shlex.quote(args.ensemble)}",
                                f"--mode {mode}", *([f"--weights {shlex.quote(args.weights)}"] if args.weights else []),
                                f"--n {n}", f"--seed {seed}",
                                *(f"--{k} {shlex.quote(str(v))}" for k, v in (("label", args.label),
                                  ("truncation", args.truncation), ("nrow", args.nrow)) if v is not None),
                                f"--scale {scale}", "--format png", "--out OUT.png"])
            members = [{"checkpoint": name[:200], "weights_sha256": provenance.weights_sha256(resolve(ref))}
                       for name, ref in zip(ens.names, refs)]
            info = provenance.record(checkpoint=f"ensemble ({mode}) of {', '.join(ens.names)}"[:200], folder=None,
                                     kind=f"ensemble {mode}", dataset=ens.dataset, members=members,
                                     weights=[round(w, 6) for w in ens.weights], seed=seed, n=n, truncation=truncation,
                                     **{"class": data_mod.class_names(ens.dataset)[label] if label is not None else None},
                                     command=command)
            provenance.save_png(grid(images, nrow=nrow, scale=scale), out, info)
    except OSError as err:  # disk full, permissions changed since the check
        raise ValueError(f"Could not write {show(str(out))} ({err.strerror or type(err).__name__}).") from None
    print(f"wrote {n} samples of the {mode} of {len(refs)} members to {out}", file=sys.stderr)
    return 0


def evaluate_ensemble(args: argparse.Namespace, *, n: int, seed: int, device: str) -> int:
    """``evaluate --ensemble a,b --mode average|mixture [--weights 1,2]``: the evaluator's report for the
    ensemble's samples, like any generator's (evenly over the classes when conditional)."""
    from . import ensemble
    from .metrics import Evaluator

    if args.save:
        raise ValueError("--save stores numbers in one checkpoint's card; an ensemble has none: drop --save.")
    refs, mode, described = ensemble_outline(args)
    ens = ensemble.load(refs, weights=described.weights, device=device)
    evaluator = Evaluator(classifier_for(ens.dataset, args.classifier), ens.dataset)
    report: dict[str, Any] = {"dataset": ens.dataset, "seed": seed,
                              **ensemble.evaluate(ens, evaluator, mode=mode, n=n, seed=seed)}
    if not args.no_floor:
        report["real_floor"] = evaluator.real_floor(n, seed=seed)
    report["classifier_test_accuracy"] = evaluator.test_accuracy()
    print(json.dumps(report, indent=2))
    return 0


def sample_provenance(args: argparse.Namespace, meta: dict[str, Any], *, n: int, seed: int, label: int | None,
                      stepping: dict[str, Any]) -> dict[str, Any]:
    """What a PNG written by ``sample`` records: the checkpoint, its weights' hash, the settings, and
    the command that writes the same pixels again (``--out`` left for the reader to choose)."""
    parts = ["python -m aigc_models sample", f"--checkpoint {shlex.quote(str(args.checkpoint))}", f"--n {n}",
             f"--seed {seed}"]
    parts += [f"--{k} {shlex.quote(str(v))}" for k, v in (("label", args.label), ("truncation", args.truncation),
                                                         ("nrow", args.nrow), *stepping.items()) if v is not None]
    parts += [f"--scale {args.scale}", "--format png", "--out OUT.png"]
    names = data_mod.class_names(meta["dataset"])
    return provenance.record(checkpoint=str(args.checkpoint)[:200], folder=resolve(args.checkpoint), kind="samples",
                             dataset=meta["dataset"], family=meta["family"], seed=seed, n=n,
                             **{"class": names[label] if label is not None else None},
                             truncation=args.truncation, **stepping, command=" ".join(parts))


def cmd_pictures(args: argparse.Namespace) -> int:
    from .pictures import read_pictures, save_set
    from .sampling import save_grid

    dataset = data_mod.check_dataset_name(args.dataset)
    out = check_out_file(args.out)
    grid = check_out_file(args.grid, "--grid") if args.grid else None
    pictures = read_pictures(args.sources, dataset=dataset)
    path = save_set(pictures, out)
    if grid is not None:
        grid.parent.mkdir(parents=True, exist_ok=True)
        save_grid(data_mod.to_signed(pictures.images[:256]), grid, nrow=16)
    print(pictures.summary())
    for name, reason in pictures.skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(f"saved {path} (sha256 {pictures.digest()[:16]}…); train on it with --pictures {path} --dataset {dataset}")
    return 0


def cmd_provenance(args: argparse.Namespace) -> int:
    info = provenance.read(check_in_file(args.file))
    if info is None:
        raise ValueError(f"{show(str(args.file))} carries no aigc_models provenance (not written by this lab, or "
                         "its text was stripped).")
    print(json.dumps(info, indent=2, sort_keys=True))
    return 0


def existing(text: str, *, folder: bool) -> Path | None:
    """``text`` as a path when it names an existing file (or, with ``folder``, folder), else None;
    a name the system refuses (a NUL byte, too long) counts as absent."""
    path = expand_user(text)
    try:
        return path if (path.is_dir() if folder else path.is_file()) else None
    except (OSError, ValueError):
        return None


def check_in_file(text: str) -> Path:
    """An existing file to read, else ``ValueError`` in one line."""
    path = existing(text, folder=False)
    if path is None:
        raise ValueError(f"No file at {show(str(text))}.")
    return path


def cmd_evaluate(args: argparse.Namespace) -> int:
    n = check_int(args.n, "--n", lo=2, hi=MAX_SAMPLES)  # a covariance needs two samples
    seed = check_seed(args.seed, "--seed")
    device = check_device(args.device)
    if args.ensemble is not None:
        return evaluate_ensemble(args, n=n, seed=seed, device=device)
    ensemble_flags_alone(args)
    meta = read_meta(args.checkpoint)
    stepping = stepping_options(args, outline(meta).objective, meta["family"])
    if stepping and args.save:
        raise ValueError("--save stores the numbers of the model card's own sampler, steps and guidance; "
                         "drop --save to score other settings.")
    model = load_checkpoint(args.checkpoint, device=device)
    report = full_report(model, n=n, seed=seed, classifier=args.classifier, floor=not args.no_floor, stepping=stepping)
    if args.save:
        update_metrics(args.checkpoint, {k: v for k, v in report.items() if k not in ("family", "dataset")})
    print(json.dumps(report, indent=2))
    return 0


def cmd_sampling_defaults(args: argparse.Namespace) -> int:
    """``sampling-defaults``: set a diffusion checkpoint's card sampler, steps and guidance (a PixelCNN's guidance)."""
    from .checkpoints import update_sampling_defaults

    changes = {field: value for field, value in (("default_sampler", args.sampler), ("default_steps", args.steps),
                                                 ("default_guidance", args.guidance)) if value is not None}
    if not changes:
        raise ValueError("Name at least one of --sampler, --steps and --guidance.")
    config = update_sampling_defaults(args.checkpoint, changes)
    print(json.dumps({k: config[k] for k in changes}))
    print("The stored metrics were measured with the old settings and were dropped; run evaluate --save again.",
          file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import BenchOptions, markdown_report, run_bench

    if args.sampling:
        return cmd_bench_sampling(args)
    if args.diffusion:
        return cmd_bench_diffusion(args)
    if args.pixelcnn:
        return cmd_bench_pixelcnn(args)
    if args.watchable:
        return cmd_bench_watchable(args)
    check_out_file(args.out).parent.mkdir(parents=True, exist_ok=True)  # before minutes of measuring, not after
    report = run_bench(BenchOptions(device=args.device, quick=args.quick, app=args.app, out=args.out),
                       log=lambda m: print(m, file=sys.stderr))
    print(markdown_report(report) if args.markdown else json.dumps(report, indent=2))
    return 0


def cmd_bench_sampling(args: argparse.Namespace) -> int:
    """``bench --sampling``: time 64 images from every generator checkpoint; write the results file."""
    from .bench import sampling_bench

    out = check_out_file(args.out)
    repeats = check_int(args.repeats, "--repeats", lo=5, hi=10_000)
    roots = [check_root(r) for r in args.root] if args.root else None
    report = sampling_bench(roots, repeats=repeats, note=args.note or "", note_zh=args.note_zh or "", log=lambda m: print(m, file=sys.stderr))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_bench_diffusion(args: argparse.Namespace) -> int:
    """``bench --diffusion``: how each diffusion checkpoint's sampling time scales with steps and
    batch, beside a conditional GAN's 16 images; writes the results file, prints the Markdown."""
    from .bench import diffusion_bench, diffusion_markdown

    out = check_out_file(args.out)
    roots = [check_root(r) for r in args.root] if args.root else None
    report = diffusion_bench(roots, log=lambda m: print(m, file=sys.stderr))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(diffusion_markdown(report["rows"]))
    return 0


def cmd_bench_pixelcnn(args: argparse.Namespace) -> int:
    """``bench --pixelcnn``: the naive pixel loop against the cached sampler (the shipped width,
    random weights); writes the results file, prints the Markdown row."""
    from . import bench

    out = check_out_file(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = bench.pixelcnn_sampling_speed(n_images=4, repeats=3)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(bench.pixelcnn_markdown(report))
    return 0


def cmd_bench_watchable(args: argparse.Namespace) -> int:
    """``bench --watchable``: what the Train tab's live recipes show after 30 s on this machine
    (coverage and FD of 1,000 samples, 3 seeds each); writes the results file, prints the table."""
    from . import bench

    out = check_out_file(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = bench.watchable_bench(log=lambda m: print(m, file=sys.stderr))
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(bench.watchable_markdown(report))
    return 0


def check_root(text: str) -> Path:
    """An existing folder of checkpoint folders, else ``ValueError`` in one line."""
    path = existing(text, folder=True)
    if path is None:
        raise ValueError(f"--root {show(text)} is not a folder.")
    return path


def check_out_folder(text: str, flag: str = "--out") -> Path:
    """``text`` as a folder to write into: not an existing file, inside a folder that exists or can be
    created. ``ValueError`` naming ``flag`` otherwise; nothing is created here."""
    path = expand_user(text)
    if existing(text, folder=False) is not None:
        raise ValueError(f"{flag} {show(text)} is an existing file; give a folder.")
    if existing(text, folder=True) is None:
        check_out_file(text, flag)  # the nearest existing ancestor must be a folder we may write in
    elif not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {show(text)} cannot be written: no permission.")
    return path


def cmd_tune(args: argparse.Namespace) -> int:
    """``tune``: an Optuna study on sample quality (``aigc_models.tune``), or ``--summary`` of one."""
    from . import tune, tune_report

    if args.summary:
        if args.study is None and args.model is None:
            raise ValueError("--summary needs --study NAME (or the --model, --dataset and --metric that named it).")
        name = args.study or f"{args.dataset}-{family(args.model).name}-{args.metric}"
        info = tune_report.summary(tune.load_study(args.storage, name))
        print(json.dumps(info, indent=2) if args.json else tune_report.table(info))
        return 0
    if args.model is None:
        raise ValueError("tune needs --model: one of " + ", ".join(n for n, f in REGISTRY.items() if f.search_space) + ".")
    budget = args.trial_seconds if args.trial_seconds is not None else (None if args.trial_steps else 120.0)
    cfg = tune.TuneConfig(model=args.model, dataset=args.dataset, metric=args.metric, trials=args.trials,
                          trial_seconds=budget, trial_steps=args.trial_steps, reports=args.reports, eval_n=args.eval_n,
                          pruner=args.pruner, startup_trials=args.startup_trials, seed=args.seed, storage=args.storage,
                          study=args.study, out=args.out, device=args.device, model_options=parse_options(args.option),
                          baseline=not args.no_baseline).validate()
    db = tune.sqlite_file(cfg.storage)
    if db is not None:
        check_out_file(str(db), "--storage")
    check_out_folder(cfg.out)
    import optuna

    from .metrics import Evaluator

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial is printed here instead
    if cfg.baseline and tune.recipe_params(tune.base_config(cfg), cfg.space) is None:
        print(f"note: the shipped {cfg.dataset}-{cfg.model} recipe lies outside the search space (or --option changed "
              "it), so a new study does not start from it", file=sys.stderr)
    evaluator = Evaluator(classifier_for(cfg.dataset, args.classifier), cfg.dataset)
    key = cfg.objective.key
    print(f"study {cfg.study} in {cfg.storage}: {cfg.trials} trials of {cfg.model} on {cfg.dataset}, "
          f"optimising {cfg.objective.label} on {cfg.eval_n:,} samples; trials in {cfg.out}", file=sys.stderr)
    try:
        for row in tune.run_study(cfg, evaluator):
            value = f"{row[key]:.4g}" if row[key] is not None else "-"
            print(f"trial {row['trial']}: {row['state']}, {cfg.objective.label} {value}, reports {row['reports']}, "
                  f"{json.dumps(row['params'])}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"interrupted; the study is kept in {cfg.storage}: the same command resumes it", file=sys.stderr)
        return 130
    info = tune_report.summary(tune.load_study(cfg.storage, cfg.study)) if cfg.storage else None
    if info is not None:
        print(json.dumps(info, indent=2) if args.json else tune_report.table(info))
        best = Path(cfg.out) / "best"
        if best.is_dir():
            print(f"best trial kept at {best}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``compare``: every generator checkpoint's stored quality beside its measured sampling time,
    then every super-resolution checkpoint's (a second table: they draw nothing from noise)."""
    from . import compare, compare_upscalers

    roots = [check_root(r) for r in args.root] if args.root else [SHIPPED_DIR]
    bench = check_in_file(args.bench) if args.bench else None
    rows = compare.collect_rows(roots, bench=bench)
    if args.png:
        out = check_out_file(args.png, "--png")
        out.parent.mkdir(parents=True, exist_ok=True)
        compare.figure_png(rows).save(out, optimize=True)
        print(f"wrote {out}", file=sys.stderr)
    upscalers = compare_upscalers.collect_upscaler_rows(roots, bench=bench)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows] + [r.as_dict() for r in upscalers], indent=2))
    else:
        print(compare.markdown_table(rows))
        if upscalers:
            print("\n" + compare_upscalers.markdown_table(upscalers))
    return 0


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The checkpoint table: evaluator numbers beside the real-data floor, and how each was trained
    (steps, time and devices over the whole history of a fine-tuned checkpoint, ``compare.whole_training``)."""
    lines = ["| checkpoint | family | FD (floor) | class acc. | coverage | KL to uniform | precision / recall "
             "| test ELBO, nats | test MSE | test acc. | steps | train time | device |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    from .compare import whole_training

    for row in rows:
        m, t = row["metrics"], whole_training(row["training"])
        gen = m.get("prior_samples", m)
        floor = m.get("real_floor", {})
        fd = f"{fixed(gen.get('frechet_distance'), 2)} ({fixed(floor.get('frechet_distance'), 2)})" if "frechet_distance" in gen else "-"
        cov = f"{gen['coverage']}/10" if "coverage" in gen else "-"
        pr = f"{fixed(gen.get('precision'), 2)} / {fixed(gen.get('recall'), 2)}" if "precision" in gen else "-"
        lines.append(
            f"| `{row['name']}` | {row['family']} | {fd} | {fixed(gen.get('class_accuracy'))} | {cov} | "
            f"{fixed(gen.get('kl_to_uniform'), 4)} | {pr} | {fixed(m.get('test_elbo'), 1)} | {fixed(m.get('test_mse'), 4)} | "
            f"{fixed(m.get('test_accuracy'), 4)} | {t['train_steps'] or '-'} | {fixed(t['train_seconds'], 0)} s | "
            f"{t['train_device'] or '-'} |")
    return "\n".join(lines)


def sr_markdown_table(rows: list[dict[str, Any]]) -> str:
    """The super-resolution checkpoints' table: PSNR (dB) and SSIM on the test split beside bicubic and
    nearest-neighbour upscaling of the same low-resolution images, and how each was trained."""
    lines = ["| checkpoint | family | scale | adversarial | test images | PSNR, dB | SSIM | bicubic PSNR / SSIM "
             "| nearest PSNR / SSIM | gain over bicubic, dB | FD (bicubic) | class acc. (bicubic) | steps | train time "
             "| device |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        m, t = row["metrics"], row["training"]
        perception = [f"{fixed(m.get(key), digits)} ({fixed(m.get('bicubic_' + key), digits)})" if key in m else "-"
                      for key, digits in (("frechet_distance", 2), ("class_accuracy", 3))]
        lines.append(
            f"| `{row['name']}` | {row['family']} | x{row['config'].get('scale', '-')} | "
            f"{row['config'].get('adversarial') or '-'} | {m.get('n', '-')} | "
            f"{fixed(m.get('psnr'), 2)} | {fixed(m.get('ssim'), 4)} | {fixed(m.get('bicubic_psnr'), 2)} / {fixed(m.get('bicubic_ssim'), 4)} | "
            f"{fixed(m.get('nearest_psnr'), 2)} / {fixed(m.get('nearest_ssim'), 4)} | {fixed(m.get('psnr_over_bicubic'), 2)} | "
            f"{' | '.join(perception)} | {t.get('steps', '-')} | {fixed(t.get('seconds'), 0)} s | {t.get('device', '-')} |")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    if args.markdown:  # the super-resolution models (PSNR / SSIM, no samples) in a table of their own
        rows = list_checkpoints(args.root)
        upscalers = [row for row in rows if REGISTRY[row["family"]].can("upscale")]
        print(markdown_table([row for row in rows if row not in upscalers]))
        if upscalers:
            print("\n" + sr_markdown_table(upscalers))
        return 0
    print("models:", ", ".join(REGISTRY))
    print("datasets:", ", ".join(data_mod.DATASETS))
    rows = list_checkpoints(args.root)
    print(f"checkpoints in {args.root}:" if rows else f"no checkpoints in {args.root}")
    for row in rows:
        m = row["metrics"]
        keys = ("frechet_distance", "class_accuracy", "coverage", "test_accuracy", "test_elbo", "psnr", "ssim")
        shown = ", ".join(f"{k}={m[k]:.4g}" for k in keys if isinstance(m.get(k), (int, float)))
        print(f"  {row['name']:<28} {row['family']:<11} {row['dataset']:<14} {shown}")
    return 0


# ----------------------------------------------------------------------------- parser


class Parser(argparse.ArgumentParser):
    """argparse refusing in the CLI's own format: one line on stderr, ``error: ...``, exit code 2
    (argparse prints the usage first, over several lines). Its subcommands' parsers are this class too."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"""(['"])([^'"]{77})[^'"]+\1""", r"\1\2...\1", message)  # a long value, cut as show() cuts
        self.exit(2, f"error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(message: object) -> str:
    """``message`` on one line, cut in the middle beyond ``MAX_ERROR_CHARS`` (the end usually says what to do)."""
    text = " ".join(str(message).split())
    if len(text) <= MAX_ERROR_CHARS:
        return text
    return f"{text[:MAX_ERROR_CHARS * 3 // 5]} ... {text[-MAX_ERROR_CHARS // 3:]}"


SETTING_FLAGS = ("steps", "max_seconds", "batch_size", "device", "seed", "lr_g", "lr_d", "lr", "lr_schedule", "loss", "r1",
                 "r1_every", "ema", "save_every", "stop_if_d_wins_for", "log_every", "sample_every", "eval_every",
                 "eval_seconds", "freeze", "subset")
"""The ``TrainConfig`` settings that ``train`` exposes as flags, with their defaults, bounds and help."""


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per ``SETTING_FLAGS`` entry, built from ``TrainConfig``'s declared bounds and help
    (``training.setting_bounds``): its type, default and choices, and the allowed range in the help.
    No flag has a parser default (None = not given), so that a family's ``train_defaults`` can fill
    it; ``--steps`` is 2,000, or unlimited when only ``--max-seconds`` is given."""
    from .configs import field_type
    from .training import TrainConfig, setting_bounds

    for name in SETTING_FLAGS:
        b = setting_bounds(name)
        kwargs: dict[str, Any] = {"help": b["help"]}
        own = {f.name: f.train_defaults[name] for f in REGISTRY.values() if name in f.train_defaults}
        shown = "; ".join([f"default {b['default']}", *(f"{k}: {v}" for k, v in own.items())])
        if b.get("choices"):
            kwargs.update(choices=list(b["choices"]), default=None)
            kwargs["help"] += f" [{shown}]"
        else:
            kind = field_type(TrainConfig, name)
            kwargs["type"] = int if kind is int else float
            low = f"{'>' if b['lo_open'] else ''}{number(b['lo'])}"
            high = f"{'<' if b['hi_open'] else ''}{number(b['hi'])}"
            kwargs["help"] += f" [{low} .. {high}; {shown}]"
            kwargs["default"] = None
        parser.add_argument("--" + name.replace("_", "-"), **kwargs)


def add_stepping_flags(parser: argparse.ArgumentParser) -> None:
    """``--sampler``, ``--steps`` and ``--guidance``: how a diffusion model is sampled."""
    parser.add_argument("--sampler", help="diffusion models: euler or heun (flow), ddpm, ddim or dpm-solver++ (ddpm); "
                        "default: the model card's")
    parser.add_argument("--steps", type=int, help="diffusion models: sampler steps, 1 to 1000 (default: the model card's)")
    parser.add_argument("--guidance", type=float, help="diffusion models and PixelCNNs: classifier-free guidance "
                        "scale, 0 (unconditional) to 20 (a PixelCNN: 10); 1 = plain conditional")


def add_ensemble_flags(parser: argparse.ArgumentParser, which: argparse._MutuallyExclusiveGroup) -> None:
    """``--ensemble`` (instead of ``--checkpoint``), ``--mode`` and ``--weights``."""
    from .ensemble import MAX_MEMBERS, MODES

    which.add_argument("--ensemble", metavar="A,B,...", help=f"2 to {MAX_MEMBERS} generator checkpoints of one "
                       "dataset, comma-separated (names or folders; one may repeat), used together by --mode")
    parser.add_argument("--mode", choices=MODES, help="with --ensemble: average (the source documents' way: the "
                        "mean of the members' images for the same seed) or mixture (each image drawn by one member, "
                        "picked at random by --weights)")
    parser.add_argument("--weights", metavar="W,W,...", help="with --ensemble: one positive number per member, "
                        "comma-separated (default: equal); mixture: how often each member draws, average: its share")


def add_tune_flags(parser: argparse.ArgumentParser) -> None:
    """``tune``'s flags; its numbers are checked by ``tune.TuneConfig.validate``."""
    from .tune import DEFAULT_STORAGE, MAX_REPORTS, MAX_TRIALS, METRICS, PRUNERS

    searchable = [name for name, f in REGISTRY.items() if f.search_space]
    parser.add_argument("--model", help=f"the family to search: one of {', '.join(searchable)}")
    parser.add_argument("--dataset", default="mnist", help=f"one of: {', '.join(data_mod.DATASETS)}")
    parser.add_argument("--metric", default="fd", choices=list(METRICS),
                        help="fd: minimise the Frechet distance; accuracy: maximise the class accuracy of a "
                             "conditional model's samples")
    parser.add_argument("--trials", type=int, default=20, help=f"finished trials the study should hold, 1 to "
                        f"{MAX_TRIALS:,} (earlier ones count: the same command resumes)")
    parser.add_argument("--trial-seconds", type=float, help="each trial's training time in seconds, evaluations "
                        "included (default 120, or none with --trial-steps)")
    parser.add_argument("--trial-steps", type=int, help="each trial's most training steps")
    parser.add_argument("--reports", type=int, default=3, help=f"intermediate evaluations per trial, at even "
                        f"fractions of its budget, that the pruner reads (0 to {MAX_REPORTS})")
    parser.add_argument("--eval-n", type=int, default=1000, help="samples scored at each evaluation (same seed "
                        "every time)")
    parser.add_argument("--pruner", default="median", choices=PRUNERS)
    parser.add_argument("--startup-trials", type=int, default=5, help="random trials before TPE, and finished "
                        "trials before pruning")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampler and of every trial's run")
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="an SQLAlchemy URL: an SQLite file (default "
                        f"{DEFAULT_STORAGE}) or e.g. postgresql://user@host/db for several machines")
    parser.add_argument("--study", help="the study's name (default DATASET-MODEL-METRIC)")
    parser.add_argument("--out", help="folder of the trials' checkpoints (default runs/tune/STUDY)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a model config field fixed for every trial (on top of the shipped recipe)")
    parser.add_argument("--no-baseline", action="store_true", help="do not start with the shipped recipe's settings")
    parser.add_argument("--classifier", help="evaluator classifier checkpoint (default: the shipped one)")
    parser.add_argument("--summary", action="store_true", help="print a study's trials and correlations; no training")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m aigc_models", description="Train, sample and evaluate the AIGC lab's models.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and save a checkpoint folder",
                       description="Train until --steps or --max-seconds, whichever comes first.")
    t.add_argument("--model", help=f"one of: {', '.join(REGISTRY)} (or give --preset)")
    t.add_argument("--preset", help="a failure preset, a run that goes wrong on purpose and says when its symptom "
                   "shows: " + "; ".join(f"{k} ({p.title})" for k, p in presets.PRESETS.items()))
    t.add_argument("--dataset", default="mnist", help=f"one of: {', '.join(data_mod.DATASETS)}")
    t.add_argument("--out", help="checkpoint folder to write at the end")
    add_setting_flags(t)
    t.add_argument("--beta1", type=float, help="Adam beta1 (default 0.5 for GANs, 0.9 otherwise)")
    t.add_argument("--beta2", type=float, default=0.999, help="Adam beta2 (used with --beta1)")
    t.add_argument("--diffaugment", default="", help="DiffAugment policy, e.g. translation,cutout")
    t.add_argument("--real-augment", action="store_true", help="the documents' reals-only augmentation (to see it leak)")
    t.add_argument("--init-from", help="checkpoint to resume or fine-tune from (weights only)")
    t.add_argument("--pictures", help="train on your own pictures instead of the dataset: a zip, a folder of images or "
                   "a set saved by `pictures` (framed like --dataset: mnist for digits, fashion-mnist for objects)")
    t.add_argument("--latent-dim", type=int)
    t.add_argument("--channels", type=int, help="base channel width (the family's width fields: "
                   + "; ".join(f"{f.name}: {', '.join(f.width_fields)}" for f in REGISTRY.values() if f.width_fields) + ")")
    t.add_argument("--arch", help="the model's arch option, where it has one")
    t.add_argument("--embed-dim", type=int, help="the model's class-embedding size, where it has one")
    t.add_argument("--spectral-norm", action="store_true")
    t.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="any other model config field")
    t.add_argument("--no-amp", action="store_true", help="disable bf16 autocast on CUDA")
    t.add_argument("--eval-n", type=int, default=0, help="evaluate N samples at the end (0 = skip); "
                   "--eval-every scores this many (default 2,000), its time counting against --max-seconds")
    t.add_argument("--classifier", help="evaluator classifier checkpoint (default: the shipped one)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="draw images from a checkpoint or an ensemble of checkpoints")
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("--checkpoint", help="folder, shipped name (see `list`) or Hub repo id")
    add_ensemble_flags(s, which)
    s.add_argument("--n", type=int, default=64, help=f"how many samples, 1 to {MAX_SAMPLES:,}")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", help="class index or name (conditional models); default: split evenly")
    s.add_argument("--truncation", type=float, help=f"redraw latents beyond this, in (0, {MAX_TRUNCATION:g}]")
    s.add_argument("--format", choices=["npz", "png"], default="png")
    s.add_argument("--out", required=True, help="file to write (its folder is created)")
    s.add_argument("--nrow", type=int, help="samples per row of the PNG, 1 to --n (default: a row per class, else a square)")
    s.add_argument("--scale", type=int, default=1,
                   help=f"enlarge the PNG, 1 to {MAX_SCALE}; the PNG may hold at most {MAX_GRID_PIXELS / 1e6:.0f} megapixels")
    s.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")
    add_stepping_flags(s)
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="score a checkpoint's (or an ensemble's) samples; prints JSON")
    which = e.add_mutually_exclusive_group(required=True)
    which.add_argument("--checkpoint")
    add_ensemble_flags(e, which)
    e.add_argument("--n", type=int, default=10_000, help=f"how many samples to score, 2 to {MAX_SAMPLES:,}")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--classifier", help="evaluator classifier checkpoint (default: the shipped one)")
    e.add_argument("--no-floor", action="store_true", help="skip the real-data floor")
    e.add_argument("--save", action="store_true", help="store the numbers in the checkpoint's config and card")
    e.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")
    add_stepping_flags(e)
    e.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("sampling-defaults", help="set a diffusion checkpoint's default sampler, steps and guidance, "
                       "or a PixelCNN's guidance (the model card's); its stored metrics are dropped")
    d.add_argument("--checkpoint", required=True, help="a local checkpoint folder or shipped name")
    add_stepping_flags(d)
    d.set_defaults(func=cmd_sampling_defaults)

    b = sub.add_parser("bench", help="training and sampling speed against the source documents' loop")
    b.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    b.add_argument("--quick", action="store_true", help="short windows, fewer models (for tests)")
    b.add_argument("--app", action="store_true", help="also time app start-up and a Sample request")
    b.add_argument("--out", default="bench.json", help="where to write the JSON report")
    b.add_argument("--markdown", action="store_true", help="print the README's Performance tables instead of JSON")
    b.add_argument("--sampling", action="store_true",
                   help="only time 64 images from every generator checkpoint (for `compare`), e.g. "
                        "--out docs/sampling-bench.json")
    b.add_argument("--diffusion", action="store_true",
                   help="only time the diffusion checkpoints: median ms at 1, 5, 10, 20 and 50 steps for 1, 16 and "
                        "64 images, and a conditional GAN's 16 images for the ratio, e.g. --out docs/diffusion-bench.json")
    b.add_argument("--pixelcnn", action="store_true",
                   help="only time PixelCNN sampling: 4 images by the naive loop (a network pass per pixel) and by "
                        "the cached sampler, best of 3, and whether they drew the same pixels, e.g. "
                        "--out docs/pixelcnn-bench.json")
    b.add_argument("--watchable", action="store_true",
                   help="only run the Train tab's MLP GAN, DCGAN and cGAN recipes for 30 s each (3 seeds, its live "
                        "view included) and score what a student would see then: coverage and FD of 1,000 samples, "
                        "e.g. --out docs/watchable-bench.json")
    b.add_argument("--repeats", type=int, default=50, help="--sampling: timed calls per checkpoint, 5 to 10,000 "
                   "(fewer once 30 s have passed)")
    b.add_argument("--root", action="append", help="--sampling, --diffusion: a folder of checkpoints (repeatable; "
                   "default: the shipped ones)")
    b.add_argument("--note", help="--sampling: a sentence stored with the results (what else ran on the machine)")
    b.add_argument("--note-zh", help="--sampling: the same sentence in Chinese, shown by the Compare tab in Chinese")
    b.set_defaults(func=cmd_bench)

    tu = sub.add_parser("tune", help="search training settings for sample quality (Optuna); prints the trials",
                        description="An Optuna study (TPE, with pruning) whose trials are training runs scored by the "
                                    "evaluator (FD, or class accuracy), never by a loss. Each trial is written as a "
                                    "checkpoint folder in --out, the best copied to --out/best. The same command "
                                    "resumes a stopped study; several machines may share one --storage.")
    add_tune_flags(tu)
    tu.set_defaults(func=cmd_tune)

    c = sub.add_parser("compare", help="every generator checkpoint: quality against sampling time",
                       description="The stored evaluator numbers of every generator checkpoint beside the sampling "
                                   "time that `bench --sampling` measured; Markdown by default.")
    form = c.add_mutually_exclusive_group()
    form.add_argument("--markdown", action="store_true", help="print the table as Markdown (the default)")
    form.add_argument("--json", action="store_true", help="print the rows as JSON")
    c.add_argument("--root", action="append", help="a folder of checkpoints (repeatable; default: the shipped ones)")
    c.add_argument("--bench", help="the sampling-bench results file (default: docs/sampling-bench.json)")
    c.add_argument("--png", help="also draw the quality-against-time picture to this PNG file")
    c.set_defaults(func=cmd_compare)

    ls = sub.add_parser("list", help="list models, datasets and checkpoints")
    ls.add_argument("--root", default=str(SHIPPED_DIR))
    ls.add_argument("--markdown", action="store_true", help="print the checkpoint table as Markdown")
    ls.set_defaults(func=cmd_list)

    pc = sub.add_parser("pictures", help="read your own pictures (a zip, folders, image files) into a training set",
                        description="Frame each picture like the dataset's images (28 x 28, white on black), say what "
                        "was skipped and why, and save the set for `train --pictures`.")
    pc.add_argument("sources", nargs="+", help="zip files, folders (walked, links not followed) or image files")
    pc.add_argument("--dataset", default="fashion-mnist", help="framing: mnist (digits) or fashion-mnist (objects)")
    pc.add_argument("--out", required=True, help="the set's file (.safetensors)")
    pc.add_argument("--grid", help="also write the framed pictures as a PNG grid here")
    pc.set_defaults(func=cmd_pictures)

    pv = sub.add_parser("provenance", help="print what made a PNG or GIF that this lab wrote")
    pv.add_argument("file")
    pv.set_defaults(func=cmd_provenance)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # argparse's own refusals: one line, SystemExit(2)
    try:
        return args.func(args)
    except (ValueError, CheckpointError, data_mod.DatasetUnavailableError) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:  # a path the OS refuses (a name too long, not a folder, no permission)
        where = f": {show(str(err.filename))}" if err.filename else ""
        print(f"error: {one_line(err.strerror or err)}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was saved for this run", file=sys.stderr)
        return 130
