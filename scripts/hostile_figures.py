"""The Reliability section's memory figures, measured from outside on a fresh app (loopback only,
bounded): resident memory after 2,000 new sessions, and the peak of one request with two huge
sketches. ``python scripts/hostile_figures.py`` (needs the tests' helpers and the datasets).

Prints one JSON object: idle, after the first 250 and after 2,000 sessions (MB), and the peak
memory of /interpolate_real with two 4096 x 4096 16-bit composites and 4 layers each over the
same call with small sketches (MB)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from api_calls import backend_dependencies, call, get_config, peak_rss_mb, rss_mb  # noqa: E402
from app_helpers import AppServer, make_tiny_checkpoints  # noqa: E402
from test_security import huge_sketch_request, sketch  # noqa: E402


def main() -> None:
    root = make_tiny_checkpoints(Path(tempfile.mkdtemp(prefix="hostile-")))
    server = AppServer(root)
    try:
        config = get_config(server.url)
        pid = server.proc.pid
        out = {"idle_mb": round(rss_mb(pid), 1)}
        dep = next(d for d in backend_dependencies(config) if not d["inputs"] and not d.get("queue", True))
        for i in range(2000):
            assert call(server.url, dep, []).success
            if i + 1 == 250:
                out["after_250_sessions_mb"] = round(rss_mb(pid), 1)
        out["after_2000_sessions_mb"] = round(rss_mb(pid), 1)

        interp, data, small, big = huge_sketch_request(server.url)
        data[1] = data[3] = sketch(small)
        assert call(server.url, interp, data).success
        before = peak_rss_mb(pid)
        data[1] = data[3] = sketch(big)
        reply = call(server.url, interp, data)
        out["huge_sketches_ok"] = reply.success
        out["huge_sketches_peak_over_small_mb"] = round(peak_rss_mb(pid) - before, 1)
        print(json.dumps(out, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
