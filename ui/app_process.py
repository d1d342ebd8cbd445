"""``python app.py`` in a subprocess on a free loopback port (for ``bench --app``, the load
script and the tests), and ``app_latency``, the benchmark's app rows. Nothing here imports
gradio in this process: the app runs in its own."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from aigc_models.checkpoints import SHIPPED_DIR, list_checkpoints
from aigc_models.models import REGISTRY

APP = Path(__file__).resolve().parent.parent / "app.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    """Start ``app.py`` with ``env`` added to this process's environment and wait until it
    answers HTTP 200 on its root page (``seconds_to_ready`` records how long that took).

    ``log``: file for the app's output (None discards it). Raises ``RuntimeError`` naming the
    log when the app exits or does not answer within ``timeout`` seconds.
    """

    def __init__(self, env: dict[str, str] | None = None, *, log: Path | None = None,
                 timeout: float = 180, poll_seconds: float = 0.1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        full_env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False",
                    **(env or {}), "GRADIO_SERVER_PORT": str(self.port)}
        self.log: IO[str] | None = open(log, "w") if log else None
        where = f"see {log}" if log else "its output was discarded"
        begin = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, str(APP)], cwd=APP.parent, env=full_env,
                                     stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        while time.perf_counter() - begin < timeout:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"app.py exited with {self.proc.returncode}; {where}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        self.seconds_to_ready = time.perf_counter() - begin
                        return
            except OSError:
                pass
            time.sleep(poll_seconds)
        self.stop()
        raise RuntimeError(f"app.py did not answer within {timeout:.0f} s; {where}")

    def stop(self) -> None:
        """Terminate the app (kill it after 20 s) and close its log."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()


# ----------------------------------------------------------------------------- the app


def _browser_click_seconds(url: str, *, repeats: int) -> list[float]:
    """Seconds from a click on the GAN tab's Generate button to a new grid image, in headless
    Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright); [] when either is missing."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return []
    if not chromium.exists():
        return []
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        page.goto(url, wait_until="networkidle")
        seed = page.get_by_label("Seed").first
        for i in range(repeats):
            seed.fill(str(1000 + i))
            previous = page.evaluate("() => document.querySelector('#gan-grid img')?.src || ''")
            t = time.perf_counter()
            page.get_by_role("button", name="Generate", exact=True).first.click()
            page.wait_for_function("prev => { const i = document.querySelector('#gan-grid img');"
                                   " return i && i.complete && i.src && i.src !== prev; }", arg=previous, timeout=60_000)
            times.append(time.perf_counter() - t)
        browser.close()
    return times


def app_latency(*, timeout: float = 120, repeats: int = 5) -> dict[str, Any]:
    """Seconds from ``python app.py`` to the first HTTP 200; then the Sample round trip through
    the API (64 images of the first GAN checkpoint) and from a browser click to the image."""
    from gradio_client import Client

    app = AppProcess(timeout=timeout, poll_seconds=0.05)
    url = app.url
    try:
        out: dict[str, Any] = {"seconds_to_first_200": round(app.seconds_to_ready, 2)}
        gans = [info["name"] for info in list_checkpoints(SHIPPED_DIR)  # what the GAN tab samples
                if info["dataset"] == "mnist" and REGISTRY[info["family"]].can("discriminate")
                and not REGISTRY[info["family"]].can("condition")]
        if gans:
            client = Client(url, verbose=False)
            checkpoint = str(SHIPPED_DIR / gans[0])
            times = []
            for i in range(repeats + 1):
                t = time.perf_counter()
                client.predict(checkpoint, 64, i, 0, False, api_name="/sample_gan")
                times.append(time.perf_counter() - t)
            out["sample_api_seconds_median"] = round(statistics.median(times[1:]), 3)  # first call warms the cache
            clicks = _browser_click_seconds(url, repeats=repeats)
            if clicks:
                out["sample_click_to_image_seconds_median"] = round(statistics.median(clicks), 3)
            out["sample_checkpoint"] = gans[0]
        return out
    finally:
        app.stop()
