"""Score a PixelCNN's conditional samples at several class-guidance scales (the choice of a card's
``default_guidance``): class accuracy, FD, precision and recall on the project's evaluator, the
samples drawn as ``evaluate --guidance g`` draws them (``metrics.draw``). Writes a JSON record and
prints a Markdown table.

    python scripts/pixelcnn_guidance.py --checkpoint mnist-pixelcnn --guidance 1,1.5,2,2.5,3 --n 2000 --seed 1 \
        --out docs/pixelcnn-guidance.json

Pick the scale on a seed that the card's own evaluation (seed 0) does not use.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aigc_models.checkpoints import load_checkpoint, read_meta
from aigc_models.cli import classifier_for
from aigc_models.metrics import Evaluator, draw
from aigc_models.sampling import even_labels
from aigc_models.training import device_label


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--guidance", default="1,1.5,2,2.5,3", help="comma-separated scales")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="JSON record to write")
    args = parser.parse_args()
    model = load_checkpoint(args.checkpoint)
    dataset = model.config.dataset
    evaluator = Evaluator(classifier_for(dataset, None), dataset)
    labels = even_labels(args.n, model.num_classes)
    rows = []
    for g in (float(x) for x in args.guidance.split(",")):
        start = time.perf_counter()
        report = evaluator.report(draw(model, args.n, seed=args.seed, labels=labels, stepping={"guidance": g}), labels)
        rows.append({"guidance": g, "class_accuracy": report["class_accuracy"], "frechet_distance": report["frechet_distance"],
                     "precision": report["precision"], "recall": report["recall"],
                     "seconds": round(time.perf_counter() - start, 1)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    record = {"checkpoint": str(args.checkpoint), "config": read_meta(args.checkpoint)["config"], "n": args.n,
              "seed": args.seed, "temperature": model.config.temperature, "device": device_label(torch.device("cpu")),
              "torch": torch.__version__, "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
              "command": "python scripts/pixelcnn_guidance.py " + " ".join(sys.argv[1:]), "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    print("| guidance | class accuracy | FD | precision / recall |\n| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['guidance']:g} | {r['class_accuracy']:.4f} | {r['frechet_distance']:.1f} | "
              f"{r['precision']:.2f} / {r['recall']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
