"""Load test: concurrent clients sample GAN grids from the app while a training run streams.

Loopback only and bounded: at most 64 clients, 500 requests each and 30 minutes in all.
By default it starts ``python app.py`` on a free 127.0.0.1 port with the shipped checkpoints
(or, where ``checkpoints/mnist-dcgan`` is missing, tiny ones trained in seconds), starts one
``/train`` run, lets ``--clients`` clients each make ``--requests`` ``/sample_gan`` calls
(seeds all different), stops the run with ``/stop`` and reports latency and errors as JSON::

    python scripts/load_test.py                               # 16 clients x 50 requests
    python scripts/load_test.py --checkpoints tiny --clients 2 --requests 3
    python scripts/load_test.py --url http://127.0.0.1:7860/ --checkpoint checkpoints/mnist-dcgan

Exit status 0 when every request succeeded, 1 otherwise, 2 for bad options.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as `python scripts/load_test.py`: the package is beside scripts/
from ui.app_process import AppProcess  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_CLIENTS, MAX_REQUESTS, MAX_SECONDS = 64, 500, 1800
TRAIN_ARGS = dict(family="mlp-gan", dataset="mnist", steps=100_000, batch_size=64, lr_g=2e-4, lr_d=2e-4, lr=1e-3,
                  beta1=0.5, beta2=0.999, loss="ns", diffaugment=False, ema=0.0, seed=0)

# ----------------------------------------------------------------------------- options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="attach to a running app (127.0.0.1 or localhost only) instead of starting one")
    parser.add_argument("--checkpoints", choices=["auto", "shipped", "tiny"], default="auto",
                        help="when starting the app: shipped checkpoints/, tiny ones, or shipped if present (auto)")
    parser.add_argument("--checkpoint", help="GAN checkpoint folder to sample (required with --url)")
    parser.add_argument("--clients", type=int, default=16, help=f"concurrent sampling clients, 1..{MAX_CLIENTS}")
    parser.add_argument("--requests", type=int, default=50, help=f"/sample_gan calls per client, 1..{MAX_REQUESTS}")
    parser.add_argument("--images", type=int, default=16, help="images per call, 1..256")
    parser.add_argument("--time-limit", type=float, default=900, help=f"seconds for the whole test, 10..{MAX_SECONDS}")
    parser.add_argument("--no-train", action="store_true", help="no training run during the load")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "aigc_load_test.json"),
                        help="where to write the JSON report")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}.")
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be between 1 and {MAX_REQUESTS}.")
    if not 1 <= args.images <= 256:
        parser.error("--images must be between 1 and 256.")
    if not 10 <= args.time_limit <= MAX_SECONDS:
        parser.error(f"--time-limit must be between 10 and {MAX_SECONDS} seconds.")
    if args.url:
        parts = urlsplit(args.url)
        if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
            parser.error(f"--url must point at this machine (host one of {', '.join(sorted(LOOPBACK))}); "
                         f"got {args.url!r}.")
        if not args.checkpoint:
            parser.error("--checkpoint is required with --url (a GAN checkpoint folder the app knows).")
        args.url = args.url if args.url.endswith("/") else args.url + "/"
    return args


# ----------------------------------------------------------------------------- the app


def start_app(checkpoints: Path, workdir: Path, max_train_seconds: float) -> AppProcess:
    """``python app.py`` on a free 127.0.0.1 port with the given checkpoint folder."""
    (workdir / "runs").mkdir(parents=True, exist_ok=True)
    return AppProcess({"AIGC_CHECKPOINT_DIRS": str(checkpoints), "AIGC_RUNS_DIR": str(workdir / "runs"),
                       "AIGC_TRAIN_MAX_SECONDS": str(int(max_train_seconds)), "HF_HUB_OFFLINE": "1"},
                      log=workdir / "app.log", poll_seconds=1)


def checkpoint_folder(choice: str, workdir: Path) -> tuple[Path, str]:
    """(folder holding the checkpoints, which kind) for the app this script starts."""
    shipped = REPO / "checkpoints"
    if choice == "shipped" or (choice == "auto" and (shipped / "mnist-dcgan" / "model.safetensors").exists()):
        if not (shipped / "mnist-dcgan" / "model.safetensors").exists():
            raise SystemExit("checkpoints/mnist-dcgan is missing; train it or use --checkpoints tiny.")
        return shipped, "shipped"
    sys.path.insert(0, str(REPO / "tests"))
    from app_helpers import make_tiny_checkpoints  # the tests' tiny models: seconds to train

    return make_tiny_checkpoints(workdir) / "checkpoints", "tiny"


# ----------------------------------------------------------------------------- the load


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run_load(url: str, checkpoint: str, args: argparse.Namespace, downloads: Path) -> dict:
    """Start the training stream, run the sampling clients, stop the stream; return the figures."""
    from gradio_client import Client

    deadline = time.time() + args.time_limit
    train_client = train_job = None
    train_error = None
    if not args.no_train:
        train_client = Client(url, verbose=False, download_files=str(downloads))
        train_job = train_client.submit(**TRAIN_ARGS, name=f"loadtest-{time.strftime('%Y%m%d-%H%M%S')}",
                                        api_name="/train")
        while not train_job.outputs() and not train_job.done() and time.time() < deadline:
            time.sleep(0.2)
        if not train_job.outputs():
            train_error = "the training run streamed nothing before the load started"

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(args.clients + 1)

    def client_loop(index: int) -> None:
        client = Client(url, verbose=False, download_files=str(downloads))
        ready.wait(timeout=300)
        for k in range(args.requests):
            left = deadline - time.time()
            if left <= 0:
                return
            seed = index * args.requests + k
            start = time.perf_counter()
            try:
                client.submit(checkpoint, args.images, seed, 0, False, api_name="/sample_gan").result(timeout=left)
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as err:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(f"{type(err).__name__}: {err}"[:300])

    with ThreadPoolExecutor(args.clients) as pool:
        futures = [pool.submit(client_loop, i) for i in range(args.clients)]
        ready.wait(timeout=300)
        updates_before = len(train_job.outputs()) if train_job else 0
        t0 = time.perf_counter()
        for f in futures:
            f.result()
        wall = time.perf_counter() - t0
    updates_during = (len(train_job.outputs()) if train_job else 0) - updates_before

    train_status = None
    if train_job is not None:
        if train_job.done() and train_error is None:
            train_error = "the training run ended before the load did"
        train_client.predict(api_name="/stop")
        stop_by = time.time() + 60
        while not train_job.done() and time.time() < stop_by:
            time.sleep(0.2)
        if not train_job.done():
            train_job.cancel()
            train_error = train_error or "the training run did not stop within 60 s of /stop"
        outputs = train_job.outputs()
        train_status = outputs[-1][0] if outputs else None

    planned = args.clients * args.requests
    return {
        "requests_planned": planned, "requests_ok": len(latencies), "errors": len(errors),
        "not_run_time_limit": planned - len(latencies) - len(errors), "error_samples": sorted(set(errors))[:10],
        "latency_s": {"median": statistics.median(latencies), "p99": percentile(latencies, 99),
                      "mean": statistics.fmean(latencies), "max": max(latencies), "min": min(latencies)}
        if latencies else None,
        "wall_s": wall, "requests_per_s": len(latencies) / wall if wall > 0 else 0.0,
        "training": None if train_job is None else {
            "updates_during_load": updates_during, "updates_total": len(train_job.outputs()),
            "final_status": train_status, "error": train_error},
    }


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import gradio_client

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="aigc-load-") as tmp:
        work = Path(tmp)
        app = None
        if args.url:
            url, checkpoint, kind = args.url, args.checkpoint, "given"
        else:
            folder, kind = checkpoint_folder(args.checkpoints, work)
            checkpoint = args.checkpoint or str(folder / "mnist-dcgan")
            app = start_app(folder, work, args.time_limit + 120)
            url = app.url
        try:
            figures = run_load(url, checkpoint, args, work / "downloads")
        finally:
            if app is not None:
                app.stop()
    report = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "gradio_client": gradio_client.__version__,  # other processes' load skews the figures
                    "load_average_1min_before": load_before, "load_average_1min_after": os.getloadavg()[0]},
        "url": url, "started_app": app is not None, "checkpoints": kind, "checkpoint": checkpoint,
        "clients": args.clients, "requests_per_client": args.requests, "images_per_request": args.images,
        "train_during_load": not args.no_train, **figures,
    }
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(f"report written to {args.out}", file=sys.stderr)
    train_error = (report["training"] or {}).get("error")
    return 0 if report["errors"] == 0 and report["not_run_time_limit"] == 0 and not train_error else 1


if __name__ == "__main__":
    sys.exit(main())
