"""scripts/load_test.py keeps working: a tiny run against the shared app, and its refusals
(a host other than this machine, more clients or requests than its bounds)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app_helpers import REPO, shared_server

SCRIPT = REPO / "scripts" / "load_test.py"


def run_script(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_a_small_load_against_the_tiny_checkpoints(root, tmp_path):
    server = shared_server(root)
    out = tmp_path / "load.json"
    done = run_script("--url", server.url, "--checkpoint", str(root / "checkpoints" / "mnist-dcgan"),
                      "--clients", "2", "--requests", "3", "--images", "4", "--time-limit", "120", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["requests_ok"] == 6 and report["errors"] == 0 and report["not_run_time_limit"] == 0
    latency = report["latency_s"]
    assert 0 < latency["min"] <= latency["median"] <= latency["p99"] <= latency["max"]
    assert report["machine"]["cpu_count"] >= 1 and report["requests_per_s"] > 0
    training = report["training"]
    assert training["error"] is None and training["updates_total"] >= 1 and "stopped" in training["final_status"]


@pytest.mark.parametrize("args, message", [
    (["--url", "http://example.com/", "--checkpoint", "x"], "must point at this machine"),
    (["--url", "http://10.0.0.1:7860/", "--checkpoint", "x"], "must point at this machine"),
    (["--clients", "65"], "--clients must be between 1 and 64"),
    (["--requests", "501"], "--requests must be between 1 and 500"),
    (["--time-limit", "99999"], "--time-limit must be between"),
])
def test_it_refuses_other_hosts_and_unbounded_runs(args, message):
    done = run_script(*args, timeout=60)
    assert done.returncode == 2 and message in done.stderr
