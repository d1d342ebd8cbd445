"""The diffusion lessons in numbers: sample quality against sampler steps, and against guidance.

    python scripts/diffusion_tables.py --checkpoint mnist-diffusion --n 1000 --out docs/diffusion-tables.json

Scores the checkpoint with the project's evaluator (its dataset's shipped classifier), seed 0, N
samples split evenly over the classes, against the real-data floor at the same N:

* steps table: every sampler of the model's objective at 1, 2, 4, 8, 16, 32 and 64 steps, at the
  model card's guidance (FD and class accuracy);
* guidance table: 0, 1, 2, 4 and 8 at the card's sampler and steps (class accuracy, FD,
  precision and recall: fidelity against diversity).

Writes the JSON (with the command, N, device, threads and the time each row took) and prints both
tables as Markdown (``--markdown-only`` reprints them from an existing JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from aigc_models.checkpoints import load_checkpoint  # noqa: E402
from aigc_models.cli import classifier_for  # noqa: E402
from aigc_models.metrics import Evaluator  # noqa: E402
from aigc_models.models.diffusion import SAMPLERS  # noqa: E402
from aigc_models.training import device_label  # noqa: E402

STEPS = (1, 2, 4, 8, 16, 32, 64)
GUIDANCE = (0.0, 1.0, 2.0, 4.0, 8.0)
KEEP = ("frechet_distance", "class_accuracy", "precision", "recall", "coverage", "kl_to_uniform")


def score(evaluator: Evaluator, model: torch.nn.Module, *, n: int, seed: int, **stepping: Any) -> dict[str, Any]:
    """One row: the evaluator's numbers for samples drawn with ``stepping``, and the seconds it took."""
    start = time.perf_counter()
    report = evaluator.evaluate_generator(model, n=n, seed=seed, stepping=stepping)
    return {**stepping, **{k: report[k] for k in KEEP if k in report}, "seconds": round(time.perf_counter() - start, 1)}


def measure(checkpoint: str, *, n: int, seed: int = 0, steps: tuple[int, ...] = STEPS,
            guidance: tuple[float, ...] = GUIDANCE, log=print) -> dict[str, Any]:
    """Both tables for ``checkpoint`` (a folder or shipped name) as a JSON-ready dict."""
    model = load_checkpoint(checkpoint, device="cpu")
    cfg = model.config
    evaluator = Evaluator(classifier_for(cfg.dataset, None), cfg.dataset)
    out: dict[str, Any] = {
        "checkpoint": checkpoint, "n": n, "seed": seed, "date": date.today().isoformat(),
        "device": device_label(torch.device("cpu")), "torch": torch.__version__,
        "command": "python scripts/diffusion_tables.py " + " ".join(sys.argv[1:]),
        "card": {"sampler": cfg.sampler, "steps": cfg.default_steps, "guidance": cfg.default_guidance},
        "real_floor": {k: v for k, v in evaluator.real_floor(n, seed=seed).items() if k in KEEP},
        "steps_table": [], "guidance_table": [],
    }
    for sampler in SAMPLERS[cfg.objective]:
        for s in steps:
            out["steps_table"].append(score(evaluator, model, n=n, seed=seed, sampler=sampler, steps=s,
                                            guidance=cfg.default_guidance))
            log(f"steps {sampler} {s}: {out['steps_table'][-1]}")
    for g in guidance:
        out["guidance_table"].append(score(evaluator, model, n=n, seed=seed, sampler=cfg.sampler,
                                           steps=cfg.default_steps, guidance=g))
        log(f"guidance {g}: {out['guidance_table'][-1]}")
    return out


def markdown(result: dict[str, Any]) -> str:
    """The two tables, with what they were measured on."""
    floor = result["real_floor"]
    card = result["card"]
    samplers = list(dict.fromkeys(row["sampler"] for row in result["steps_table"]))
    steps = list(dict.fromkeys(row["steps"] for row in result["steps_table"]))
    cell = {(r["sampler"], r["steps"]): r for r in result["steps_table"]}
    lines = [f"`{result['checkpoint']}`, N = {result['n']:,}, seed {result['seed']}, {result['device']}, "
             f"{result['date']}; real-data floor at this N: FD {floor['frechet_distance']:.1f}. "
             f"Steps table at guidance {card['guidance']:g}; guidance table with {card['sampler']}, "
             f"{card['steps']} steps. Made by `{result['command']}`.", "",
             "| sampler | " + " | ".join(f"{s} steps" for s in steps) + " |",
             "| --- |" + " --- |" * len(steps)]
    for sampler in samplers:
        lines.append(f"| {sampler}: FD | " + " | ".join(f"{cell[sampler, s]['frechet_distance']:.1f}" for s in steps) + " |")
        lines.append(f"| {sampler}: class acc. | " + " | ".join(f"{cell[sampler, s]['class_accuracy']:.3f}" for s in steps) + " |")
        lines.append(f"| {sampler}: seconds | " + " | ".join(f"{cell[sampler, s]['seconds']:.0f}" for s in steps) + " |")
    lines += ["", "| guidance | class acc. | FD | precision | recall |", "| --- | --- | --- | --- | --- |"]
    for r in result["guidance_table"]:
        lines.append(f"| {r['guidance']:g} | {r['class_accuracy']:.3f} | {r['frechet_distance']:.1f} | "
                     f"{r['precision']:.2f} | {r['recall']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default="mnist-diffusion")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="comma-separated step counts")
    parser.add_argument("--guidance", default=",".join(map(str, GUIDANCE)), help="comma-separated guidance scales")
    parser.add_argument("--out", required=True, help="the JSON to write (or read, with --markdown-only)")
    parser.add_argument("--markdown-only", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.markdown_only:
        print(markdown(json.loads(out.read_text())))
        return 0
    result = measure(args.checkpoint, n=args.n, seed=args.seed, steps=tuple(int(s) for s in args.steps.split(",")),
                     guidance=tuple(float(g) for g in args.guidance.split(",")),
                     log=lambda m: print(m, file=sys.stderr))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
