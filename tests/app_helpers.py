"""Shared by the app tests: tiny checkpoints (seconds to train) and the app in a subprocess.

Both are built once per test session (cached in pytest's base temp folder / a
module global), whichever test module asks first.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ui.app_process import AppProcess

REPO = Path(__file__).resolve().parent.parent
TINY: dict[str, dict] = {
    "mnist-mlp-gan": dict(model="mlp-gan", model_options=dict(g_hidden=[32], d_hidden=[32])),
    "mnist-dcgan": dict(model="dcgan", model_options=dict(g_channels=8, d_channels=8)),
    "mnist-cgan": dict(model="cgan", model_options=dict(g_channels=8, d_channels=8, embed_dim=8)),
    "mnist-vae": dict(model="vae", model_options=dict(latent_dim=2, channels=8)),
    "mnist-vae4": dict(model="vae", model_options=dict(latent_dim=4, channels=8)),
    "mnist-classifier": dict(model="classifier", model_options=dict(channels=4, feature_dim=16)),
    # the same spec as tests/test_diffusion_app.py's own "mnist-diffusion", which its tests find first or second
    "mnist-diffusion": dict(model="diffusion", model_options=dict(channels=8, channel_mults=[1, 1, 2], default_steps=4)),
}


def app_env(root: Path) -> dict[str, str]:
    """Environment for the app and its handlers: tiny checkpoints, a private runs folder, offline."""
    return {
        "AIGC_CHECKPOINT_DIRS": str(root / "checkpoints"),
        "AIGC_RUNS_DIR": str(root / "runs"),
        "AIGC_DATA_DIR": os.environ.get("AIGC_DATA_DIR", str(Path.home() / ".cache" / "aigc_data")),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "AIGC_TRAIN_MAX_SECONDS": "600",  # the tests stop their runs; a time limit must not end one first
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


class AppServer(AppProcess):
    """``python app.py`` on a free 127.0.0.1 port, with the tiny checkpoints
    (``extra_env`` adds or overrides variables, e.g. ``AIGC_QUEUE_SIZE``)."""

    def __init__(self, root: Path, extra_env: dict[str, str] | None = None) -> None:
        log = root / f"app-{os.getpid()}-{time.monotonic_ns()}.log"
        super().__init__({**app_env(root), **(extra_env or {})}, log=log, poll_seconds=1)


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate`` every 0.2 s; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


_SERVER: AppServer | None = None


def shared_server(root: Path) -> AppServer:
    """One app per test session (the client and browser tests share it)."""
    global _SERVER
    if _SERVER is None or _SERVER.proc.poll() is not None:
        _SERVER = AppServer(root)
        import atexit

        atexit.register(_SERVER.stop)
    return _SERVER
