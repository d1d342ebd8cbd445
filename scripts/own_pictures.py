"""Your own pictures, measured (issue 17): a DCGAN trained on 100 pictures of one Fashion-MNIST
class, read the way a user's upload is read (PNG files in a zip -> ``aigc_models.pictures``), with
and without DiffAugment (Zhao et al. 2020), scored by the Fréchet distance (the project's
classifier features) of 1,000 samples against that class's 1,000 test images.

    OMP_NUM_THREADS=2 python scripts/own_pictures.py --label 7 --steps 3000 --eval-every 500 \\
        --seeds 0,1,2 --out docs/own-pictures.json

Each evaluation also gives the memorisation ratio (``Evaluator.memorisation_ratio``): the median
over samples of the distance to the nearest of the 100 training pictures over the distance to the
nearest of 100 held-out pictures of the class; about 1 when a model makes new pictures, towards 0
when it copies its training set. Yardsticks at the same N = 1,000 against the same test images: 1,000 other training pictures of
the class (framed the same way: what a perfect generator would score), the 100 training pictures
each repeated 10 times (what a generator that copies its pictures would score) and 1,000 test
images of the nearest other class. Every run uses the shipped ``fashion-mnist-dcgan`` recipe with
``--steps`` and its seed; the pictures are drawn once (``--pick-seed``). Writes the JSON (settings,
device, threads, date, every curve) and each run's final samples under docs/own-pictures/ (not the
pictures themselves: they are dataset images); prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from aigc_models import data as data_mod  # noqa: E402
from aigc_models.cli import classifier_for  # noqa: E402
from aigc_models.metrics import Evaluator, draw  # noqa: E402
from aigc_models.pictures import read_pictures, save_set  # noqa: E402
from aigc_models.sampling import save_grid  # noqa: E402
from aigc_models.training import (  # noqa: E402
    Done,
    Metrics,
    device_label,
    resolve_device,
    shipped_recipe,
    train,
)

DATASET = "fashion-mnist"
DIFFAUGMENT = "translation,cutout"
EVAL_N = 1000


def zip_of(images: torch.Tensor, names: list[str]) -> bytes:
    """uint8 ``(N, 1, 28, 28)`` -> a zip of PNG files, as a user would upload them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for image, name in zip(images, names):
            png = io.BytesIO()
            Image.fromarray(image[0].numpy()).save(png, format="PNG")
            archive.writestr(name, png.getvalue())
    return buf.getvalue()


def framed(images: torch.Tensor, folder: Path, tag: str) -> torch.Tensor:
    """The images after the upload path (PNG in a zip, read and framed): uint8, same shape."""
    path = folder / f"{tag}.zip"
    path.write_bytes(zip_of(images, [f"{tag}/{i:04d}.png" for i in range(len(images))]))
    return read_pictures(path, dataset=DATASET).images


def run_curve(args: argparse.Namespace, evaluator: Evaluator, pictures: Path, reference: torch.Tensor,
              training: torch.Tensor, held_out: torch.Tensor, *, seed: int, augment: bool, grid: Path) -> dict[str, Any]:
    cfg = dataclasses.replace(shipped_recipe("dcgan", DATASET), steps=args.steps, max_seconds=None, seed=seed,
                              device="cpu", pictures=str(pictures), diffaugment=DIFFAUGMENT if augment else "",
                              eval_every=args.eval_every, log_every=50, sample_every=args.steps, out=None).validate()
    points, started = [], time.perf_counter()
    final: dict[str, Any] = {}

    def score(model: torch.nn.Module) -> dict[str, float]:
        samples = draw(model, EVAL_N, seed=0)
        final["samples"] = samples
        return {"frechet_distance": evaluator.frechet_to(samples, reference),
                "memorisation_ratio": evaluator.memorisation_ratio(samples, training, held_out)}

    reason = "steps"
    for event in train(cfg, evaluator=score, final_evaluator=score):
        if isinstance(event, Metrics):
            if not points or points[-1]["step"] != event.step:
                points.append({"step": event.step, "seconds": round(time.perf_counter() - started, 1),
                               "frechet_distance": round(event.metrics["frechet_distance"], 1),
                               "memorisation_ratio": round(event.metrics["memorisation_ratio"], 3)})
        elif isinstance(event, Done):
            reason = event.reason if not event.message else f"{event.reason}: {event.message}"
    if "samples" in final:
        save_grid(final["samples"][:64], grid, nrow=8, scale=2)
    row = {"seed": seed, "diffaugment": augment, "points": points, "reason": reason,
           "seconds": round(time.perf_counter() - started, 1), "samples": str(grid.relative_to(REPO))}
    print(json.dumps({k: v for k, v in row.items() if k != "points"} | {"last": points[-1] if points else None}),
          flush=True)
    return row


def markdown(record: dict[str, Any]) -> str:
    steps = ", ".join(str(p["step"]) for p in record["runs"][0]["points"])
    lines = [f"| samples | FD (memorisation ratio) at step {steps}, median of {len(record['seeds'])} seeds |", "|---|---|"]
    for augment in (False, True):
        runs = [r for r in record["runs"] if r["diffaugment"] == augment]
        steps = [p["step"] for p in runs[0]["points"]]
        cells = []
        for step in steps:
            values = [p["frechet_distance"] for r in runs for p in r["points"] if p["step"] == step]
            ratios = [p["memorisation_ratio"] for r in runs for p in r["points"] if p["step"] == step]
            cells.append(f"{median(values):.0f} ({median(ratios):.2f})")
        lines.append(f"| DCGAN{' + DiffAugment' if augment else ''} | {' / '.join(cells)} |")
    for name, value in record["yardsticks"].items():
        lines.append(f"| {name} | {value['frechet_distance']:.0f} ({value['memorisation_ratio']:.2f}) |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--label", type=int, default=7, help="the Fashion-MNIST class (7 = Sneaker)")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--pick-seed", type=int, default=0)
    p.add_argument("--out", default="docs/own-pictures.json")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    names = data_mod.class_names(DATASET)
    train_split = data_mod.load_split(DATASET, train=True)
    test_split = data_mod.load_split(DATASET, train=False)
    members = torch.nonzero(train_split.labels == args.label).flatten()
    order = members[torch.randperm(len(members), generator=torch.Generator().manual_seed(args.pick_seed))]
    evaluator = Evaluator(classifier_for(DATASET, None), DATASET)
    reference = data_mod.to_signed(test_split.images[test_split.labels == args.label])
    folder = Path(tempfile.mkdtemp(prefix="own-pictures-"))
    upload = train_split.images[order[: args.count]]
    pictures = folder / "pictures.zip"
    pictures.write_bytes(zip_of(upload, [f"{names[args.label]}/{i:03d}.png" for i in range(args.count)]))
    picture_set = read_pictures(pictures, dataset=DATASET)
    save_set(picture_set, folder / "pictures.safetensors")
    others = framed(train_split.images[order[args.count : args.count + EVAL_N]], folder, "others")
    repeated = data_mod.to_signed(picture_set.images.repeat(EVAL_N // args.count, 1, 1, 1))
    training = data_mod.to_signed(picture_set.images)
    held_out = data_mod.to_signed(framed(train_split.images[order[-args.count:]], folder, "held-out"))
    class_fd = {k: evaluator.frechet_to(data_mod.to_signed(test_split.images[test_split.labels == k][:EVAL_N]), reference)
                for k in range(data_mod.NUM_CLASSES) if k != args.label}
    nearest = min(class_fd, key=class_fd.get)
    nearest_images = data_mod.to_signed(test_split.images[test_split.labels == nearest][:EVAL_N])

    def yardstick(images: torch.Tensor, fd: float | None = None) -> dict[str, float]:
        return {"frechet_distance": round(evaluator.frechet_to(images, reference) if fd is None else fd, 1),
                "memorisation_ratio": round(evaluator.memorisation_ratio(images, training, held_out), 3)}

    yardsticks = {
        f"1,000 other {names[args.label]} training pictures (a perfect generator)": yardstick(data_mod.to_signed(others)),
        f"the {args.count} pictures, each 10 times (a generator that copies them)": yardstick(repeated),
        f"1,000 {names[nearest]} test images (the nearest other class)": yardstick(nearest_images, class_fd[nearest]),
    }
    print(json.dumps(yardsticks), flush=True)
    grids = REPO / "docs" / "own-pictures"
    grids.mkdir(parents=True, exist_ok=True)
    runs = []
    for seed in seeds:
        for augment in (False, True):
            tag = f"seed{seed}-{'diffaugment' if augment else 'plain'}"
            runs.append(run_curve(args, evaluator, folder / "pictures.safetensors", reference, training, held_out, seed=seed,
                                  augment=augment, grid=grids / f"{tag}.png"))
    record = {
        "command": "python " + " ".join(sys.argv), "dataset": DATASET, "label": args.label,
        "class_name": names[args.label], "count": args.count, "pick_seed": args.pick_seed,
        "read": picture_set.summary(), "sha256": picture_set.digest(), "steps": args.steps,
        "eval_every": args.eval_every, "eval_n": EVAL_N, "reference": f"the {len(reference):,} test images of the class",
        "recipe": "shipped fashion-mnist-dcgan (training.shipped_recipe)", "diffaugment_policy": DIFFAUGMENT,
        "seeds": seeds, "device": device_label(resolve_device("cpu")), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "date": date.today().isoformat(),
        "yardsticks": yardsticks,
        "runs": runs,
    }
    out = REPO / args.out
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(markdown(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
