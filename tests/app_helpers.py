"""Shared by the app tests: tiny checkpoints (seconds to train) and the app in a subprocess.

Both are built once per test session (cached in pytest's base temp folder / a
module global), whichever test module asks first.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TINY: dict[str, dict] = {
    "mnist-mlp-gan": dict(model="mlp-gan", model_options=dict(g_hidden=[32], d_hidden=[32])),
    "mnist-dcgan": dict(model="dcgan", model_options=dict(g_channels=8, d_channels=8)),
    "mnist-cgan": dict(model="cgan", model_options=dict(g_channels=8, d_channels=8, embed_dim=8)),
    "mnist-vae": dict(model="vae", model_options=dict(latent_dim=2, channels=8)),
    "mnist-vae4": dict(model="vae", model_options=dict(latent_dim=4, channels=8)),
    "mnist-classifier": dict(model="classifier", model_options=dict(channels=4, feature_dim=16)),
}


def app_env(root: Path) -> dict[str, str]:
    """Environment for the app and its handlers: tiny checkpoints, a private runs folder, offline."""
    return {
        "AIGC_CHECKPOINT_DIRS": str(root / "checkpoints"),
        "AIGC_RUNS_DIR": str(root / "runs"),
        "AIGC_DATA_DIR": os.environ.get("AIGC_DATA_DIR", str(Path.home() / ".cache" / "aigc_data")),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "AIGC_TRAIN_MAX_SECONDS": "120",
    }


def make_tiny_checkpoints(root: Path) -> Path:
    """Train each tiny model for 2 steps into ``root/checkpoints`` (skipped when already there)."""
    from aigc_models.training import TrainConfig, train

    ckpts = root / "checkpoints"
    for name, spec in TINY.items():
        if (ckpts / name / "model.safetensors").exists():
            continue
        cfg = TrainConfig(dataset="mnist", steps=2, batch_size=8, device="cpu", out=str(ckpts / name), log_every=1, **spec)
        for _ in train(cfg):
            pass
    (root / "runs").mkdir(exist_ok=True)
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python app.py`` on a free 127.0.0.1 port, with the tiny checkpoints
    (``extra_env`` adds or overrides variables, e.g. ``AIGC_QUEUE_SIZE``)."""

    def __init__(self, root: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, **app_env(root), "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(self.port),
               **(extra_env or {})}
        self.log = open(root / f"app-{self.port}.log", "w")
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}; see {self.log.name}")
            try:
                urllib.request.urlopen(self.url + "config", timeout=2)
                return
            except OSError:
                time.sleep(1)
        self.stop()
        raise RuntimeError(f"app.py did not start within 180 s; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


_SERVER: AppServer | None = None


def shared_server(root: Path) -> AppServer:
    """One app per test session (the client and browser tests share it)."""
    global _SERVER
    if _SERVER is None or _SERVER.proc.poll() is not None:
        _SERVER = AppServer(root)
        import atexit

        atexit.register(_SERVER.stop)
    return _SERVER
