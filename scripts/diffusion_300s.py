"""The 300-second bar: train a diffusion model with the default recipe (what
``python -m aigc_models train --model diffusion --dataset mnist --device cpu --max-seconds 300``
runs), keep a copy of the averaged model every ``--every`` seconds of the run, then score each
copy with the project's evaluator: the time to class accuracy 0.99 from the start, and the final
model's class accuracy and FD. Writes a JSON record and prints the README's rows.

    python scripts/diffusion_300s.py --seconds 300 --every 30 --n 2000 --final-n 10000 \
        --out docs/diffusion-300s.json --checkpoint runs/diffusion-300s

Only the copies are taken during the run (a deep copy of a 0.29 M-parameter network, milliseconds);
all sampling happens after it, so the run's 300 seconds are spent training.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aigc_models.checkpoints import SHIPPED_DIR, load_checkpoint
from aigc_models.metrics import Evaluator
from aigc_models.training import Done, TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between copies of the model")
    parser.add_argument("--n", type=int, default=2000, help="samples scored per copy")
    parser.add_argument("--final-n", type=int, default=10_000, help="samples scored for the final model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="where to save the final model (default: a temporary folder)")
    parser.add_argument("--out", default="docs/diffusion-300s.json")
    args = parser.parse_args()
    checkpoint = args.checkpoint or tempfile.mkdtemp(prefix="diffusion-300s-")

    cfg = TrainConfig.for_family("diffusion", dataset="mnist", device="cpu", steps=10**9, max_seconds=args.seconds,
                                 seed=args.seed, eval_seconds=args.every, log_every=50, sample_every=10**9,
                                 out=checkpoint)
    copies: list[tuple[float, torch.nn.Module]] = []
    begin = time.perf_counter()

    def keep(model: torch.nn.Module) -> dict:
        copies.append((time.perf_counter() - begin, model))  # train hands over a fresh copy (export(final=True))
        return {}

    done = [event for event in train(cfg, evaluator=keep) if isinstance(event, Done)][-1]
    evaluator = Evaluator(load_checkpoint(SHIPPED_DIR / "mnist-classifier"), "mnist")
    trace = []
    for seconds, model in copies:
        acc = evaluator.evaluate_generator(model.eval(), n=args.n, seed=1)["class_accuracy"]
        trace.append({"seconds": round(seconds, 1), "class_accuracy": round(acc, 4)})
        print(f"{seconds:6.1f} s  class accuracy {acc:.4f} (N = {args.n})", flush=True)
    reached = next((row["seconds"] for row in trace if row["class_accuracy"] >= 0.99), None)
    model = load_checkpoint(checkpoint)
    report = evaluator.evaluate_generator(model.eval(), n=args.final_n, seed=0)
    record = {
        "command": "python " + " ".join(sys.argv), "device": f"cpu ({platform.processor() or 'unknown'}), "
        f"{torch.get_num_threads()} threads", "torch": torch.__version__,
        "recipe": {k: getattr(cfg, k) for k in ("batch_size", "lr", "lr_schedule", "ema", "model_options")},
        "model_defaults": {k: getattr(model.config, k) for k in ("time_sampling", "default_sampler", "default_steps",
                                                                  "default_guidance")},
        "steps": done.step, "seconds": round(done.elapsed, 1), "trace": trace, "seconds_to_accuracy_0.99": reached,
        "final": {k: report[k] for k in ("n", "class_accuracy", "frechet_distance", "precision", "recall", "coverage")},
    }
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    f = record["final"]
    print(f"{done.step:,} steps in {done.elapsed:.0f} s; first copy at class accuracy >= 0.99: {reached} s; final "
          f"(N = {f['n']:,}): class accuracy {f['class_accuracy']:.4f}, FD {f['frechet_distance']:.2f}, precision "
          f"{f['precision']:.2f}, recall {f['recall']:.2f}")


if __name__ == "__main__":
    main()
