"""Measure the failure presets at full length: does each preset's symptom show within its run, for
each seed, and when? Writes a JSON record and prints the README's table.

    python scripts/preset_symptoms.py --seeds 0,1,2 --threads 1 --out docs/preset-symptoms.json
    python scripts/preset_symptoms.py --presets reals-only-augmentation,control-cgan --add   # one preset, later
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

from aigc_models import metrics
from aigc_models.checkpoints import SHIPPED_DIR, load_checkpoint
from aigc_models.metrics import collapse_verdict
from aigc_models.presets import (
    PRESETS,
    SYMPTOMS,
    SymptomWatch,
    control_config,
    preset_config,
    sample_spread,
)
from aigc_models.training import Done, Metrics, Samples, Step, train

LIVE = {"device": "cpu", "log_every": 5, "sample_every": 20, "eval_seconds": 10.0}  # as the Train tab's live view on CPU


def run_watched(key: str, seed: int, evaluator: metrics.Evaluator) -> list[dict]:
    """One full-length run of preset ``key`` (or ``control``: the healthy MLP GAN, watched for
    every symptom) with ``seed``; the class histogram of 500 fresh samples every 10 s, as in the
    Train tab's live view. One row per symptom watched."""
    if key == "control":
        cfg, symptoms = control_config(seed, **LIVE), SYMPTOMS
    elif key == "control-cgan":  # the mirrored-digit preset's cGAN with the real images as they are
        cfg, symptoms = preset_config("reals-only-augmentation", seed=seed, real_augment=False, **LIVE), ("mirrored",)
    else:
        cfg, symptoms = preset_config(key, seed=seed, **LIVE), (PRESETS[key].symptom,)
    watches = [SymptomWatch(symptom, cfg.dataset) for symptom in symptoms]
    start, done = time.perf_counter(), None
    trace: dict[str, list] = {"top_share": [], "spread": [], "d_gap": [], "mirrored": []}  # (step, value): thresholds
    for event in train(cfg, evaluator=metrics.HistogramProbe(evaluator, n=500)):
        if isinstance(event, Metrics) and "class_histogram" in event.metrics:
            trace["top_share"].append((event.step, round(collapse_verdict(event.metrics["class_histogram"])["top_share"], 3)))
            if "mirrored_share" in event.metrics:
                trace["mirrored"].append((event.step, round(event.metrics["mirrored_share"], 3)))
        elif isinstance(event, Samples) and event.step % 100 == 0:
            trace["spread"].append((event.step, round(sample_spread(event.images), 3)))
        elif isinstance(event, Step) and event.step % 50 == 0 and "d_real" in event.losses:
            trace["d_gap"].append((event.step, round(float(event.losses["d_real"] - event.losses["d_fake"]), 3)))
        for watch in watches:
            if watch.update(event):
                print(f"  {key} seed {seed} ({watch.symptom}): {watch.evidence}", flush=True)
        if isinstance(event, Done):
            done = event
    seconds = round(time.perf_counter() - start, 1)
    return [{"preset": key, "symptom": w.symptom, "seed": seed, "steps": cfg.steps, "seen": w.seen,
             "seen_at": w.seen_at, "evidence": w.evidence, "ended": done.reason if done else None,
             "ended_at": done.step if done else None, "seconds": seconds, "trace": trace} for w in watches]


CONTROLS = {"control": "Control: the healthy MLP GAN",
            "control-cgan": "Control: the same cGAN, real images as they are"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--presets", default=",".join([*PRESETS, "control", "control-cgan"]))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="docs/preset-symptoms.json")
    parser.add_argument("--add", action="store_true",
                        help="keep --out's runs of the other presets (a preset added later is measured alone)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    evaluator = metrics.Evaluator(load_checkpoint(SHIPPED_DIR / "mnist-classifier"), "mnist")
    keys = args.presets.split(",")
    rows = [row for key in keys for seed in args.seeds.split(",") for row in run_watched(key, int(seed), evaluator)]
    run = {"command": "python " + " ".join(sys.argv), "device": f"cpu ({platform.processor() or 'unknown'}), "
           f"{args.threads} thread(s)", "torch": torch.__version__}
    record = {**run, "runs": rows}
    if args.add and Path(args.out).is_file():
        before = json.loads(Path(args.out).read_text())
        earlier = [{k: before[k] for k in ("command", "device", "torch")}, *before.get("earlier", [])]
        record = {**run, "earlier": earlier, "runs": [r for r in before["runs"] if r["preset"] not in keys] + rows}
        rows = record["runs"]
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print("| run | symptom watched | seeds showing it | step first seen (median) | run length |")
    print("| --- | --- | --- | --- | --- |")
    for (key, symptom) in dict.fromkeys((r["preset"], r["symptom"]) for r in rows):
        mine = [r for r in rows if r["preset"] == key and r["symptom"] == symptom]
        seen = sorted(r["seen_at"] for r in mine if r["seen"])
        median = f"{seen[len(seen) // 2]:,}" if seen else "-"
        title = PRESETS[key].title if key in PRESETS else CONTROLS[key]
        print(f"| {title} | {symptom} | {len(seen)} of {len(mine)} | {median} | {mine[0]['steps']:,} steps, "
              f"median {sorted(r['seconds'] for r in mine)[len(mine) // 2]:.0f} s |")


if __name__ == "__main__":
    main()
