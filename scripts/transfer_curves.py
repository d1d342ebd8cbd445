"""Transfer learning measured (issue 16, source document 000 §6.4): Fréchet distance against
training steps on Fashion-MNIST with few and with all training images, for a GAN trained from
scratch, fine-tuned from the shipped MNIST model, and fine-tuned with D's early layers frozen
(FreezeD, Mo et al. 2020), each with and without DiffAugment (Zhao et al. 2020).

    OMP_NUM_THREADS=1 python scripts/transfer_curves.py --family dcgan --source mnist-dcgan \\
        --dataset fashion-mnist --sizes 100,1000,0 --steps 1500 --eval-every 250 --eval-n 1000 \\
        --out docs/transfer-curves.json

Every run uses the shipped ``<dataset>-<family>`` recipe (``training.shipped_recipe``), the same
seed (which also draws the subset, stratified by class) and the same step budget; the project's
evaluator scores N samples (seed 0) against the dataset at step 0 and every ``--eval-every``
steps. Writes the JSON (settings, device, threads, date, every curve, the seconds each run took)
and prints the Markdown table of FD at each evaluated step; ``--markdown-only`` reprints it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from aigc_models.checkpoints import load_checkpoint  # noqa: E402
from aigc_models.cli import classifier_for  # noqa: E402
from aigc_models.metrics import Evaluator  # noqa: E402
from aigc_models.sampling import save_grid  # noqa: E402
from aigc_models.training import Metrics, Samples, device_label, shipped_recipe, train  # noqa: E402

STARTS = {  # name -> (start from the source checkpoint, freeze)
    "scratch": (False, "none"),
    "fine-tune": (True, "none"),
    "FreezeD": (True, "d-early"),
}
DIFFAUGMENT = "translation,cutout"


def run_curve(args: argparse.Namespace, evaluator: Evaluator, *, size: int, start: str, augment: bool) -> dict[str, Any]:
    """One run: its settings and [(step, seconds, FD, coverage)] from step 0 to ``args.steps``."""
    from_source, freeze = STARTS[start]
    recipe = shipped_recipe(args.family, args.dataset)
    cfg = dataclasses.replace(  # a run from the source keeps the source's network (its own config, not the recipe's)
        recipe, model_options={} if from_source else recipe.model_options, steps=args.steps, seed=args.seed,
        subset=size, device="cpu", init_from=args.source if from_source else None, freeze=freeze, eval_every=args.eval_every,
        diffaugment=DIFFAUGMENT if augment else "", log_every=args.eval_every, sample_every=args.steps,
        stop_if_d_wins_for=0).validate()
    score = lambda model: evaluator.evaluate_generator(model, n=args.eval_n, seed=0)  # noqa: E731
    points, started = [], time.perf_counter()

    def point(step: int, report: dict[str, Any]) -> None:
        points.append({"step": step, "seconds": round(time.perf_counter() - started, 1),
                       "frechet_distance": report["frechet_distance"], "coverage": report.get("coverage")})

    if from_source:
        point(0, score(load_checkpoint(args.source).eval()))
    last = None
    for event in train(cfg, evaluator=score):
        if isinstance(event, Metrics):
            point(event.step, event.metrics)
        elif isinstance(event, Samples):
            last = event.images  # (64, 1, 28, 28): the fixed-noise samples, the final ones last
    samples = None
    if last is not None and args.samples:  # the final grid, for the app's Transfer lesson
        folder = Path(args.samples)
        folder.mkdir(parents=True, exist_ok=True)
        samples = folder / f"{size or 'all'}-{start}-{'diffaugment' if augment else 'plain'}.png"
        save_grid(last[:32], samples, nrow=8)
        samples = str(samples.relative_to(REPO)) if samples.is_relative_to(REPO) else str(samples)
    return {"size": size, "start": start, "diffaugment": augment, "points": points, "samples": samples,
            "seconds": round(time.perf_counter() - started, 1)}


def markdown(result: dict[str, Any]) -> str:
    """One row per run: FD at each evaluated step."""
    steps = sorted({p["step"] for curve in result["curves"] for p in curve["points"]})
    lines = ["| images | start | DiffAugment | " + " | ".join(f"step {s}" for s in steps) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in steps) + " |"]
    for curve in result["curves"]:
        fd = {p["step"]: p["frechet_distance"] for p in curve["points"]}
        size = f"{curve['size']:,}" if curve["size"] else "all"
        lines.append(f"| {size} | {curve['start']} | {'on' if curve['diffaugment'] else 'off'} | "
                     + " | ".join(f"{fd[s]:.1f}" if s in fd else "-" for s in steps) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="dcgan")
    parser.add_argument("--source", default="mnist-dcgan", help="the checkpoint to fine-tune from")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--sizes", default="100,1000,0", help="training images per run, comma-separated (0 = all)")
    parser.add_argument("--starts", default=",".join(STARTS), help=f"comma-separated, of: {', '.join(STARTS)}")
    parser.add_argument("--augment", default="off,on", help="DiffAugment settings to run: off, on or both")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", default=str(REPO / "docs" / "transfer"),
                        help="folder for each run's final 32 samples (PNG; '' = none)")
    parser.add_argument("--out", default=str(REPO / "docs" / "transfer-curves.json"))
    parser.add_argument("--markdown-only", action="store_true", help="reprint the table from --out")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.markdown_only:
        print(markdown(json.loads(out.read_text())))
        return 0
    starts = [s for s in args.starts.split(",") if s]
    unknown = [s for s in starts if s not in STARTS]
    if unknown:
        parser.error(f"unknown start {unknown[0]!r}; choose from {', '.join(STARTS)}")
    augments = {"off": [False], "on": [True], "off,on": [False, True], "on,off": [False, True]}.get(args.augment)
    if augments is None:
        parser.error("--augment must be off, on or off,on")
    evaluator = Evaluator(classifier_for(args.dataset, None), args.dataset)
    result: dict[str, Any] = {
        "command": "python scripts/transfer_curves.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "family": args.family, "source": args.source, "dataset": args.dataset, "steps": args.steps,
        "eval_every": args.eval_every, "eval_n": args.eval_n, "seed": args.seed, "diffaugment_policy": DIFFAUGMENT,
        "device": device_label(torch.device("cpu")), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "date": date.today().isoformat(), "curves": [],
    }
    for size in [int(s) for s in args.sizes.split(",")]:
        for start in starts:
            for augment in augments:
                curve = run_curve(args, evaluator, size=size, start=start, augment=augment)
                result["curves"].append(curve)
                print(f"{size or 'all'} {start} diffaugment={'on' if augment else 'off'}: FD "
                      f"{curve['points'][-1]['frechet_distance']:.1f} in {curve['seconds']:.0f} s", file=sys.stderr)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(result, indent=1) + "\n")  # after every run: a stopped grid keeps its rows
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
