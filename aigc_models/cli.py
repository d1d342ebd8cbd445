"""``python -m aigc_models train | sample | evaluate | list``.

Every failure a user can cause (unknown model or dataset, missing data or
checkpoint, bad label) ends with one clear line on stderr and exit code 2.
A training run that diverges (NaN losses, D winning outright) explains why on
stderr and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from . import data as data_mod
from .checkpoints import SHIPPED_DIR, CheckpointError, list_checkpoints, load_checkpoint, read_meta, update_metrics
from .models import REGISTRY

# ----------------------------------------------------------------------------- helpers


def classifier_for(dataset: str, explicit: str | None, device: str = "cpu") -> torch.nn.Module:
    """The evaluator's classifier: ``explicit`` or the shipped ``<dataset>-classifier``."""
    path = explicit or str(SHIPPED_DIR / f"{dataset}-classifier")
    if not explicit and not Path(path).is_dir():
        raise CheckpointError(
            f"No classifier for {dataset} at {path}. Train one with "
            f"`python -m aigc_models train --model classifier --dataset {dataset} --out {path}` or pass --classifier."
        )
    model = load_checkpoint(path, device=device)
    if model.family != "classifier":
        raise CheckpointError(f"{path} holds a {model.family}, not a classifier.")
    return model


def parse_label(text: str | None, dataset: str) -> int | None:
    """A class index from '3' or a class name ('Sneaker'), or None."""
    if text is None:
        return None
    names = data_mod.class_names(dataset)
    if text.isdigit() and int(text) < len(names):
        return int(text)
    lowered = [n.lower() for n in names]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    raise ValueError(f"Unknown label {text!r} for {dataset}; use 0..{len(names) - 1} or one of {', '.join(names)}.")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` strings -> dict, values parsed as JSON when they parse."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--option takes key=value, got {pair!r}.")
        key, value = pair.split("=", 1)
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def full_report(model: torch.nn.Module, *, n: int, seed: int, classifier: str | None, floor: bool) -> dict[str, Any]:
    """What ``evaluate`` prints for any family."""
    from .metrics import Evaluator, classifier_accuracy, evaluate_vae

    dataset = model.config.dataset
    if model.objective == "classifier":
        return {"family": "classifier", "dataset": dataset, **classifier_accuracy(model, dataset)}
    evaluator = Evaluator(classifier_for(dataset, classifier), dataset)
    out: dict[str, Any] = {"family": model.family, "dataset": dataset, "seed": seed}
    if model.objective == "vae":
        out.update(evaluate_vae(model, dataset, seed=seed))
        out["prior_samples"] = evaluator.evaluate_generator(model, n=n, seed=seed)
    else:
        out.update(evaluator.evaluate_generator(model, n=n, seed=seed))
    if floor:
        out["real_floor"] = evaluator.real_floor(n, seed=seed)
    out["classifier_test_accuracy"] = evaluator.test_accuracy()
    return out


def progress_evaluator(family: str, dataset: str, *, n: int, classifier: str | None):
    """For ``train --eval-every``: model -> metrics, the classifier loaded once. GANs are scored on ``n``
    samples (seed 0, so successive lines compare); a VAE gets its test ELBO and reconstruction error."""
    from .metrics import Evaluator, evaluate_vae

    if family == "vae":
        return lambda m: evaluate_vae(m, dataset)
    evaluator = Evaluator(classifier_for(dataset, classifier), dataset)
    return lambda m: evaluator.evaluate_generator(m, n=n, seed=0)


# ----------------------------------------------------------------------------- commands


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .sampling import save_grid
    from .training import CheckpointSaved, Done, Metrics, Samples, Started, Step, TrainConfig, command_line, train

    from .metrics import classifier_accuracy, evaluate_vae
    from .models import check_family

    check_family(args.model)
    data_mod.check_dataset_name(args.dataset)
    options = parse_options(args.option)
    for key in ("latent_dim", "arch", "embed_dim"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.channels is not None:
        options.update(({"channels": args.channels} if args.model in ("vae", "classifier")
                        else {"g_channels": args.channels, "d_channels": args.channels}))
    if args.spectral_norm:
        options["spectral_norm"] = True
    steps = args.steps if args.steps is not None else (10**9 if args.max_seconds else 2000)
    cfg = TrainConfig(
        model=args.model, dataset=args.dataset, model_options=options, steps=steps, max_seconds=args.max_seconds,
        batch_size=args.batch_size, lr_g=args.lr_g, lr_d=args.lr_d, lr=args.lr,
        betas=(args.beta1, args.beta2) if args.beta1 is not None else None, loss=args.loss, seed=args.seed,
        r1=args.r1, r1_every=args.r1_every,
        device=args.device, amp=not args.no_amp, ema=args.ema, diffaugment=args.diffaugment,
        real_augment=args.real_augment, init_from=args.init_from, out=args.out, log_every=args.log_every,
        sample_every=args.sample_every, save_every=args.save_every, eval_every=args.eval_every,
        command=command_line(),
    )
    final_eval = None
    if args.model == "classifier":
        final_eval = lambda m: classifier_accuracy(m, m.config.dataset)  # noqa: E731
    elif args.model == "vae":
        final_eval = lambda m: evaluate_vae(m, m.config.dataset)  # noqa: E731
    if args.eval_n:
        final_eval = lambda m: full_report(m, n=args.eval_n, seed=0, classifier=args.classifier, floor=False)  # noqa: E731
    periodic_eval = None
    if args.eval_every:
        if args.model == "classifier":
            raise ValueError("--eval-every scores generated images; the classifier has none (its test accuracy is "
                             "measured at the end).")
        periodic_eval = progress_evaluator(args.model, args.dataset, n=args.eval_n or 2000, classifier=args.classifier)
    by_time = args.steps is None and args.max_seconds is not None
    bar = None  # drawn only once set-up succeeded, so set-up errors print alone
    last_samples = None
    for event in train(cfg, evaluator=periodic_eval, final_evaluator=final_eval):
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
            if event.reason == "diverged":
                print(f"error: {event.message}", file=sys.stderr)
                return 1
            print(f"done: {event.step} steps in {event.elapsed:.1f} s ({event.reason})", file=sys.stderr)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from .sampling import even_labels, sample, save_grid

    model = load_checkpoint(args.checkpoint, device=args.device)
    if model.objective == "classifier":
        raise ValueError("A classifier cannot be sampled; pick a GAN or VAE checkpoint.")
    k = getattr(model, "num_classes", 0)
    label = parse_label(args.label, model.config.dataset)
    if label is not None and not k:
        raise ValueError(f"--label needs a conditional model; {args.checkpoint} is a {model.family}.")
    labels = (torch.full((args.n,), label, dtype=torch.int64) if label is not None else even_labels(args.n, k)) if k else None
    images = sample(model, args.n, seed=args.seed, labels=labels, truncation=args.truncation)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.format == "npz":
        arrays = {"images": data_mod.to_uint8(images)[:, 0].numpy()}
        if labels is not None:
            arrays["labels"] = labels.numpy()
        np.savez_compressed(out, **arrays)
    else:
        save_grid(images, out, nrow=args.nrow or (10 if k else None), scale=args.scale)
    print(f"wrote {args.n} samples to {out}", file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = load_checkpoint(args.checkpoint, device=args.device)
    report = full_report(model, n=args.n, seed=args.seed, classifier=args.classifier, floor=not args.no_floor)
    if args.save:
        update_metrics(args.checkpoint, {k: v for k, v in report.items() if k not in ("family", "dataset")})
    print(json.dumps(report, indent=2))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import BenchOptions, markdown_report, run_bench

    report = run_bench(BenchOptions(device=args.device, quick=args.quick, app=args.app, out=args.out),
                       log=lambda m: print(m, file=sys.stderr))
    print(markdown_report(report) if args.markdown else json.dumps(report, indent=2))
    return 0


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The checkpoint table: evaluator numbers beside the real-data floor, and how each was trained."""
    def f(value: Any, digits: int = 3) -> str:
        return f"{value:.{digits}f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"

    lines = ["| checkpoint | family | FD (floor) | class acc. | coverage | KL to uniform | precision / recall "
             "| test ELBO, nats | test MSE | test acc. | steps | train time | device |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        m, t = row["metrics"], row["training"]
        gen = m.get("prior_samples", m)
        floor = m.get("real_floor", {})
        fd = f"{f(gen.get('frechet_distance'), 2)} ({f(floor.get('frechet_distance'), 2)})" if "frechet_distance" in gen else "-"
        cov = f"{gen['coverage']}/10" if "coverage" in gen else "-"
        pr = f"{f(gen.get('precision'), 2)} / {f(gen.get('recall'), 2)}" if "precision" in gen else "-"
        lines.append(
            f"| `{row['name']}` | {row['family']} | {fd} | {f(gen.get('class_accuracy'))} | {cov} | "
            f"{f(gen.get('kl_to_uniform'), 4)} | {pr} | {f(m.get('test_elbo'), 1)} | {f(m.get('test_mse'), 4)} | "
            f"{f(m.get('test_accuracy'), 4)} | {t.get('steps', '-')} | {f(t.get('seconds'), 0)} s | {t.get('device', '-')} |")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    if args.markdown:
        print(markdown_table(list_checkpoints(args.root)))
        return 0
    print("models:", ", ".join(REGISTRY))
    print("datasets:", ", ".join(data_mod.DATASETS))
    rows = list_checkpoints(args.root)
    print(f"checkpoints in {args.root}:" if rows else f"no checkpoints in {args.root}")
    for row in rows:
        m = row["metrics"]
        keys = ("frechet_distance", "class_accuracy", "coverage", "test_accuracy", "test_elbo")
        shown = ", ".join(f"{k}={m[k]:.4g}" for k in keys if isinstance(m.get(k), (int, float)))
        print(f"  {row['name']:<28} {row['family']:<11} {row['dataset']:<14} {shown}")
    return 0


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m aigc_models", description="Train, sample and evaluate the AIGC lab's models.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and save a checkpoint folder",
                       description="Train until --steps or --max-seconds, whichever comes first.")
    t.add_argument("--model", required=True, help=f"one of: {', '.join(REGISTRY)}")
    t.add_argument("--dataset", default="mnist", help=f"one of: {', '.join(data_mod.DATASETS)}")
    t.add_argument("--out", help="checkpoint folder to write at the end")
    t.add_argument("--save-every", type=int, default=0,
                   help="also save to --out every N steps while the run is healthy (0 = only at the end)")
    t.add_argument("--steps", type=int, help="training steps (default 2000, unlimited with --max-seconds)")
    t.add_argument("--max-seconds", type=float, help="wall-time limit")
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--lr-g", type=float, default=2e-4)
    t.add_argument("--lr-d", type=float, default=2e-4)
    t.add_argument("--lr", type=float, default=1e-3, help="learning rate of the VAE and the classifier")
    t.add_argument("--beta1", type=float, help="Adam beta1 (default 0.5 for GANs, 0.9 otherwise)")
    t.add_argument("--beta2", type=float, default=0.999)
    t.add_argument("--loss", default="ns", choices=["ns", "hinge"], help="GAN loss: non-saturating or hinge")
    t.add_argument("--r1", type=float, default=0.0,
                   help="R1 penalty weight on D's gradient at real images (0 = off, e.g. 0.1)")
    t.add_argument("--r1-every", type=int, default=16, help="apply R1 every N steps, scaled by N (lazy)")
    t.add_argument("--ema", type=float, default=0.0, help="EMA decay of G (0 = off, e.g. 0.999)")
    t.add_argument("--diffaugment", default="", help="DiffAugment policy, e.g. translation,cutout")
    t.add_argument("--real-augment", action="store_true", help="the documents' reals-only augmentation (to see it leak)")
    t.add_argument("--init-from", help="checkpoint to resume or fine-tune from (weights only)")
    t.add_argument("--latent-dim", type=int)
    t.add_argument("--channels", type=int, help="base channel width")
    t.add_argument("--arch", choices=["conv", "mlp"], help="cgan architecture")
    t.add_argument("--embed-dim", type=int, help="cgan class-embedding size")
    t.add_argument("--spectral-norm", action="store_true")
    t.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="any other model config field")
    t.add_argument("--no-amp", action="store_true", help="disable bf16 autocast on CUDA")
    t.add_argument("--log-every", type=int, default=50)
    t.add_argument("--sample-every", type=int, default=250)
    t.add_argument("--eval-n", type=int, default=0, help="evaluate N samples at the end (0 = skip)")
    t.add_argument("--eval-every", type=int, default=0,
                   help="also evaluate every N steps on --eval-n samples (default 2,000) and print one JSON line; "
                        "the time it takes counts against --max-seconds")
    t.add_argument("--classifier", help="evaluator classifier checkpoint (default: the shipped one)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="draw images from a checkpoint")
    s.add_argument("--checkpoint", required=True, help="folder, shipped name (mnist-dcgan) or Hub repo id")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", help="class index or name (conditional models); default: split evenly")
    s.add_argument("--truncation", type=float)
    s.add_argument("--format", choices=["npz", "png"], default="png")
    s.add_argument("--out", required=True)
    s.add_argument("--nrow", type=int)
    s.add_argument("--scale", type=int, default=1)
    s.add_argument("--device", default="cpu")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="score a checkpoint's samples; prints JSON")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--n", type=int, default=10_000)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--classifier", help="evaluator classifier checkpoint (default: the shipped one)")
    e.add_argument("--no-floor", action="store_true", help="skip the real-data floor")
    e.add_argument("--save", action="store_true", help="store the numbers in the checkpoint's config and card")
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=cmd_evaluate)

    b = sub.add_parser("bench", help="training and sampling speed against the source documents' loop")
    b.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    b.add_argument("--quick", action="store_true", help="short windows, fewer models (for tests)")
    b.add_argument("--app", action="store_true", help="also time app start-up and a Sample request")
    b.add_argument("--out", default="bench.json", help="where to write the JSON report")
    b.add_argument("--markdown", action="store_true", help="print the README's Performance tables instead of JSON")
    b.set_defaults(func=cmd_bench)

    ls = sub.add_parser("list", help="list models, datasets and checkpoints")
    ls.add_argument("--root", default=str(SHIPPED_DIR))
    ls.add_argument("--markdown", action="store_true", help="print the checkpoint table as Markdown")
    ls.set_defaults(func=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "n", 1) is not None and getattr(args, "n", 1) < 1:
        print("error: --n must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (ValueError, CheckpointError, data_mod.DatasetUnavailableError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was saved for this run", file=sys.stderr)
        return 130
