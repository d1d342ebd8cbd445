"""The ensemble table (issue 16, source document 000 §6.3): each member alone, the documents'
average of the members' outputs, and a mixture, scored by the project's evaluator.

    OMP_NUM_THREADS=1 python scripts/ensemble_table.py --members mnist-mlp-gan,mnist-dcgan \\
        --n 10000 --seed 0 --out docs/ensemble-table.json

Every row is one ``python -m aigc_models evaluate`` command, run as written in the JSON (N
samples, the seed, the dataset's shipped classifier); the first also scores N real training
images, the floor. Writes the JSON (commands, N, seed, device, threads, date, the seconds each
row took, every report in full) and prints the Markdown table; ``--markdown-only`` reprints it
from an existing JSON. The app's Ensembles lesson shows the table from that JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aigc_models import ensemble  # noqa: E402

DEFAULT_OUT = REPO / "docs" / "ensemble-table.json"


def evaluate(args: list[str], *, device: str) -> tuple[dict[str, Any], float]:
    """The JSON that ``python -m aigc_models evaluate ARGS`` prints, and the seconds it took."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "aigc_models", "evaluate", *args, "--device", device], cwd=REPO,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"evaluate {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout), round(time.perf_counter() - start, 1)


def measure(members: list[str], *, n: int, seed: int, device: str, weights: str | None, log=print) -> dict[str, Any]:
    """Every row for ``members`` (2 or more checkpoint names or folders) as a JSON-ready dict."""
    import torch

    from aigc_models.training import device_label

    ensemble.check_refs(members)  # one clear sentence before minutes of measuring
    common = ["--n", str(n), "--seed", str(seed)]
    joined = ",".join(members)
    weighted = ["--weights", weights] if weights else []
    runs: list[tuple[str, str, list[str]]] = [
        *((f"`{m}` alone", "member", ["--checkpoint", m]) for m in members),
        ("average (the documents' way)", "average", ["--ensemble", joined, "--mode", "average", *weighted]),
        ("mixture", "mixture", ["--ensemble", joined, "--mode", "mixture", *weighted]),
    ]
    rows, floor = [], None
    for i, (label, kind, which) in enumerate(runs):
        args = [*which, *common, *([] if i == 0 else ["--no-floor"])]
        log(f"evaluate {' '.join(args)}")
        report, seconds = evaluate(args, device=device)
        if i == 0:
            floor = report.pop("real_floor")
        rows.append({"label": label, "kind": kind, "command": f"python -m aigc_models evaluate {' '.join(args)}",
                     "seconds": seconds, "report": report})
    return {"members": members, "weights": [round(w, 6) for w in ensemble.parse_weights(weights, len(members))],
            "dataset": rows[0]["report"]["dataset"], "n": n, "seed": seed, "date": date.today().isoformat(),
            "device": device_label(torch.device(device)), "threads": os.environ.get("OMP_NUM_THREADS", "all"),
            "torch": torch.__version__, "command": "python scripts/ensemble_table.py " + " ".join(sys.argv[1:]),
            "noise": ensemble.noise_note(ensemble.check_refs(members)), "real_floor": floor, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", default="mnist-mlp-gan,mnist-dcgan", help="comma-separated checkpoints of one dataset")
    p.add_argument("--weights", help="one positive number per member (default: equal)")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--markdown-only", action="store_true", help="reprint the table from --out without measuring")
    args = p.parse_args(argv)
    out = Path(args.out)
    if args.markdown_only:
        print(ensemble.results_table(json.loads(out.read_text())))
        return 0
    results = measure(ensemble.parse_list(args.members, "--members"), n=args.n, seed=args.seed, device=args.device,
                      weights=args.weights, log=lambda m: print(m, file=sys.stderr))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    print(ensemble.results_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
