"""What 30 viewers of a class run cost the server, against one (issue 17), on loopback.

Starts ``app.py`` with a teacher passcode, then for each viewer count (``--viewers 1,30``,
repeated ``--repeats`` times, interleaved) connects that many viewers (gradio clients streaming
``/class_watch``), has the teacher start a class run of ``--steps`` steps and waits for its end.
Measured per run: the server process's CPU seconds (user + system, all threads, from
``/proc/PID/stat``) from the start click to the final frame (after an uncounted warm-up run), and for each viewer the share of the
run's frames it received (frames carry a sequence number, "update N", in their first line).

    python scripts/class_run_viewers.py --viewers 1,30 --repeats 2 --steps 600 --out docs/class-run-viewers.json

The server trains with one thread (``OMP_NUM_THREADS=1``) so that the viewers' clients have the
other core: CPU seconds, not wall time, are compared. Bounded: each run gives up after
``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from gradio_client import Client

ROOT = Path(__file__).resolve().parents[1]
CODE = "loopback-measure"
SEQ = re.compile(r"\(update (\d+)\)|（更新 (\d+)）")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and all its threads so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Viewer:
    """One browser's stream of the class run: the sequence numbers it received and their states."""

    def __init__(self, url: str) -> None:
        # as a browser does: files are fetched once when their address changes, not with every frame
        self.client = Client(url, verbose=False, download_files=False)
        self.http = httpx.Client(timeout=60)
        self.grids: set[str] = set()
        self.seen: dict[int, str] = {}
        self.error = ""
        self.job = self.client.submit(api_name="/class_watch")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            self._follow()
        except Exception as err:  # noqa: BLE001 - reported by the run
            self.error = repr(err)

    def _follow(self) -> None:
        done = 0
        while not self.stop.is_set():
            outputs = self.job.outputs()
            for out in outputs[done:]:
                status = out[0] if isinstance(out[0], str) else ""
                match = SEQ.search(status)
                if match:
                    self.seen[int(match.group(1) or match.group(2))] = status
                grid = out[3].get("url") if isinstance(out[3], dict) else None
                if grid and grid not in self.grids:
                    self.grids.add(grid)
                    self.http.get(grid).raise_for_status()
            done = len(outputs)
            time.sleep(0.05)

    def latest(self) -> int:
        return max(self.seen, default=0)

    def ended_at(self, after: int) -> int | None:
        """The first frame after ``after`` that says the run ended."""
        ended = [seq for seq, status in self.seen.items() if seq > after and "**ended**" in status]
        return min(ended) if ended else None

    def close(self) -> None:
        self.stop.set()
        self.job.cancel()
        self.client.close()
        self.http.close()


def wait_for(condition, timeout: float, what: str, watchers: list[Viewer] = ()) -> None:
    end = time.monotonic() + timeout
    while not condition():
        failed = [w.error for w in watchers if w.error]
        if failed:
            raise RuntimeError(f"a viewer failed: {failed[0]}")
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.1)


def one_run(url: str, pid: int, viewers: int, steps: int, timeout: float) -> dict:
    watchers = [Viewer(url) for _ in range(viewers)]
    try:
        wait_for(lambda: all(w.seen for w in watchers), 120, "every viewer's first frame", watchers)
        before = max(w.latest() for w in watchers)
        teacher = Client(url, verbose=False)
        teacher.predict(CODE, api_name="/class_unlock")
        cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
        teacher.predict("cgan", "mnist", steps, 0, api_name="/class_start")
        wait_for(lambda: any(w.ended_at(before) for w in watchers), timeout, "the run's end", watchers)
        cpu1, wall1 = cpu_seconds(pid), time.perf_counter()
        last = min(w.ended_at(before) for w in watchers if w.ended_at(before))
        time.sleep(3)  # let the last frame reach every viewer
        teacher.close()
        published = last - before
        shares = [len([s for s in w.seen if before < s <= last]) / published for w in watchers]
        return {"viewers": viewers, "steps": steps, "server_cpu_s": round(cpu1 - cpu0, 2),
                "wall_s": round(wall1 - wall0, 1), "frames_published": published,
                "received_share_min": round(min(shares), 3), "received_share_median": round(statistics.median(shares), 3),
                "grids_fetched_median": statistics.median(len(w.grids) for w in watchers)}
    finally:
        for w in watchers:
            w.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--viewers", default="1,30")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--port", type=int, default=7899)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--warmup", type=int, default=1, help="uncounted runs first (the data, the classifier: loaded once)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    counts = [int(v) for v in args.viewers.split(",")]
    env = {**os.environ, "AIGC_TEACHER_CODE": CODE, "GRADIO_SERVER_PORT": str(args.port), "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "AIGC_RUNS_DIR": tempfile.mkdtemp(prefix="class-viewers-runs-"), "AIGC_QUEUE_SIZE": "256"}
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{args.port}/"
    try:
        wait_for(lambda: _up(url), 300, "the server")
        for _ in range(args.warmup):
            print("warm-up:", json.dumps(one_run(url, server.pid, 1, min(args.steps, 100), args.timeout)), flush=True)
        runs = []
        for _ in range(args.repeats):
            for n in counts:
                run = one_run(url, server.pid, n, args.steps, args.timeout)
                print(json.dumps(run), flush=True)
                runs.append(run)
    finally:
        server.terminate()
        server.wait(30)
    summary = {}
    for n in counts:
        mine = [r for r in runs if r["viewers"] == n]
        summary[str(n)] = {"server_cpu_s_median": statistics.median(r["server_cpu_s"] for r in mine),
                           "received_share_min": min(r["received_share_min"] for r in mine)}
    if len(counts) > 1:
        summary["cpu_ratio_most_to_fewest"] = round(summary[str(max(counts))]["server_cpu_s_median"] /
                                                    summary[str(min(counts))]["server_cpu_s_median"], 3)
    result = {"command": "python " + " ".join(sys.argv), "cpu": os.cpu_count(), "runs": runs, "summary": summary,
              "date": time.strftime("%Y-%m-%d")}
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "config", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
