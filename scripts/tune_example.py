"""Record the Tune tab's default study once, so that the tab opens on it: its trials table, Optuna's
figures and the loss-quality correlations, as the tab showed them.

    python scripts/tune_example.py --out docs/tune-example

Runs what pressing Start on an untouched Tune tab runs (``ui.tune.study_config`` with the form's
opening values: the first family offered on MNIST, FD, 6 trials of 30 s, seed 0) in this process,
with the trials in a temporary runs folder that is thrown away. Writes ``study.json`` into
``--out``: the command, device, date, settings and the study (``aigc_models.tune.study_record``,
without the trials' folders).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/tune-example")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        os.environ["AIGC_RUNS_DIR"] = runs  # read by ui.common.runs_dir, imported below
        from aigc_models import tune
        from ui import common
        from ui import tune as tab

        family, settings = tab.family_choices()[0][1], tab.OPENING_FORM
        cfg = tab.study_config(family, "mnist", **settings, folder="example")
        evaluator = common.evaluator_for(common.classifier_path(cfg.dataset), cfg.dataset)
        begin = time.perf_counter()
        for row in tune.run_study(cfg, evaluator):
            print(json.dumps(row, default=str)[:300], flush=True)
        seconds = time.perf_counter() - begin
        study = tune.load_study(cfg.storage, cfg.study)
        record = {"command": "python " + " ".join(sys.argv), "device": f"CPU ({torch.get_num_threads()} threads)",
                  "date": date.today().isoformat(), "seconds": round(seconds, 1),
                  "settings": {"model": family, "dataset": cfg.dataset, **settings},
                  "study": tune.study_record(study)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "study.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"{len(record['study']['trials'])} trials in {seconds:.0f} s -> {out / 'study.json'}")


if __name__ == "__main__":
    main()
