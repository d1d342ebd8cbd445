"""Record the Train tab's default run once, so that the tab opens on it: its loss curves, D's mean
scores, the last grid from the fixed noise and the last class histogram, as the tab showed them.

    python scripts/train_example.py --out docs/train-example

Runs exactly what pressing Start on an untouched Train tab runs (``ui.train.make_config`` with the
form's opening values: the model ``LIVE_DEFAULT_FAMILY`` on MNIST, its shipped recipe, 2,000 steps,
seed 0, the live view's logging and histogram probe) in this process, feeding the trainer's events
to the tab's own ``LiveView``. Writes ``example.json`` (the command, device, date, steps, seconds,
the loss rows, the histogram) and ``grid.png`` (the last fixed-noise grid) into ``--out``; the
run's checkpoint goes to a temporary folder and is thrown away.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from aigc_models.models import LIVE_DEFAULT_FAMILY  # noqa: E402
from aigc_models.training import Done, Started, train  # noqa: E402
from ui import train as tab  # noqa: E402

DATASET = "mnist"
STEPS = tab.OPENING_STEPS  # the form's opening value


def record(out: Path, *, seed: int = 0, steps: int = STEPS) -> dict:
    """Run the tab's default run and write ``example.json`` and ``grid.png`` into ``out``."""
    batch, lr_g, lr_d, lr, beta1, beta2, loss, ema, _ = tab.recipe_form(LIVE_DEFAULT_FAMILY, DATASET)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = tab.make_config(LIVE_DEFAULT_FAMILY, DATASET, steps, batch, lr_g, lr_d, lr, beta1, beta2, loss,
                              False, ema, seed, str(Path(tmp) / "run"))
        cfg.save_every = tab.SAVE_EVERY
        view = tab.LiveView(cfg, tmp)
        probe = tab.histogram_probe(DATASET, 1)
        started = done = None
        begin = time.perf_counter()
        for event in train(cfg, evaluator=probe):
            view.update(event)
            started = event if isinstance(event, Started) else started
            done = event if isinstance(event, Done) else done
        wall = time.perf_counter() - begin
    if view.grid is None or done is None or started is None:
        raise SystemExit("the run ended without a grid or without its end: nothing to show")
    out.mkdir(parents=True, exist_ok=True)
    view.grid.save(out / "grid.png")
    result = {
        "what": "the Train tab's default run, recorded by scripts/train_example.py; the tab opens on it",
        "command": "python scripts/train_example.py " + " ".join(sys.argv[1:]),
        "date": date.today().isoformat(), "device": started.device, "torch": torch.__version__,
        "model": cfg.model, "dataset": cfg.dataset, "seed": seed, "steps": done.step, "reason": done.reason,
        "seconds": round(done.elapsed, 1), "wall_seconds": round(wall, 1), "batch_size": cfg.batch_size,
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],  # what else ran on the machine
        "rows": [[step, round(value, 5), series] for step, value, series in view.rows],
        # None when the run ended before the probe's first histogram (a short test run)
        "histogram": None if view.hist is None else [round(float(s), 4) for s in view.hist["share"]],
    }
    (out / "example.json").write_text(json.dumps(result) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/train-example")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=STEPS, help="the form's opening value unless testing")
    args = parser.parse_args(argv)
    result = record(Path(args.out), seed=args.seed, steps=args.steps)
    print(f"{result['model']} on {result['dataset']}: {result['steps']} steps in {result['seconds']} s "
          f"({result['device']}); class histogram {result['histogram']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
