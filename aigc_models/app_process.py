"""``python app.py`` in a subprocess on a free loopback port: for the benchmark, the load
script and the tests. The package starts the app as a process and never imports gradio."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

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
