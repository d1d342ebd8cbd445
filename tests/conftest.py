"""Shared test setup: offline environment, the real (small) datasets, tiny trained checkpoints.

The environment is fixed here, before any test module imports ``aigc_models``
(and with it ``huggingface_hub``, which reads ``HF_HUB_OFFLINE`` at import):

* ``HF_HUB_OFFLINE=1``: without it a Hub call here retries for ~20 s before failing.
* ``AIGC_DATA_DIR``: taken from the environment (CI copies ``../shared/data`` into a
  cache and sets it). If unset, the ``.gz`` archives in ``../shared/data`` are copied
  into a user cache folder and the variable points there; nothing is ever unpacked
  inside ``../shared``.
* Threads: pytest-xdist runs one worker per core (``pytest.ini``); each worker, and every
  app or command-line subprocess it starts, gets its share of the cores
  (``OMP_NUM_THREADS``), since two torch processes that each spin on every core are
  slower together than one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def _prepare_data_dir() -> None:
    """Point ``AIGC_DATA_DIR`` at a writable copy of the archives when it is not set."""
    if os.environ.get("AIGC_DATA_DIR"):
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aigc_models" / "data"
    for name in ("MNIST", "FashionMNIST"):
        src = SHARED_DATA / name / "raw"
        if not src.is_dir():
            continue
        dst = cache / name / "raw"
        dst.mkdir(parents=True, exist_ok=True)
        for archive in src.glob("*.gz"):
            target = dst / archive.name
            if not target.is_file() or target.stat().st_size != archive.stat().st_size:
                shutil.copyfile(archive, target)  # plain copy: writable, unlike the read-only share
    os.environ["AIGC_DATA_DIR"] = str(cache)


_prepare_data_dir()


def _share_the_cores() -> int:
    """Threads for this process: all the cores alone, its share of them under pytest-xdist."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    threads = max(1, (os.cpu_count() or 1) // workers)
    if workers > 1:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # subprocesses (app.py, the CLI) inherit it
    return threads


THREADS = _share_the_cores()

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)


def pytest_configure(config: pytest.Config) -> None:
    """Unpack the archives once, before the xdist workers start, so that two of them never
    write the same unpacked file at once (torchvision unpacks on first use)."""
    if hasattr(config, "workerinput"):
        return  # a worker: the controller has done it
    from aigc_models.data import DATASETS, DatasetUnavailableError, load_split

    for dataset in DATASETS:
        for train in (True, False):
            try:
                load_split(dataset, train=train)
            except DatasetUnavailableError:
                pass  # the tests that need the data say so themselves
    load_split.cache_clear()

# ----------------------------------------------------------------------------- tiny configs

TINY_OPTIONS: dict[str, dict] = {
    "mlp-gan": {"latent_dim": 8, "g_hidden": (32, 64), "d_hidden": (64, 32)},
    "dcgan": {"latent_dim": 8, "g_channels": 8, "d_channels": 8},
    "cgan": {"latent_dim": 8, "embed_dim": 8, "g_channels": 8, "d_channels": 8},
    "vae": {"latent_dim": 8, "channels": 8},
    "diffusion": {"channels": 8, "channel_mults": (1, 1, 2), "default_steps": 3},
    "pixelcnn": {"channels": 8, "layers": 2},
    "srcnn": {"channels": 8, "channels2": 4},
    "espcn": {"channels": 8, "channels2": 4},
    "classifier": {"channels": 8, "feature_dim": 32},
}
"""Every registered family at a size that trains a step in milliseconds on a CPU."""

TINY_STEPS = 3


def tiny_train_config(model: str, out: str | os.PathLike | None = None, **overrides):
    """A ``TrainConfig`` for a few CPU steps of ``model`` at its tiny size."""
    from aigc_models.training import TrainConfig

    fields = dict(
        model=model, dataset="mnist", model_options=dict(TINY_OPTIONS[model]), steps=TINY_STEPS,
        batch_size=16, device="cpu", seed=0, log_every=1, sample_every=2,
        out=str(out) if out is not None else None,
    )
    fields.update(overrides)
    return TrainConfig(**fields)


def run_events(cfg, **kwargs) -> list:
    """All events of a training run, in order."""
    from aigc_models.training import train

    return list(train(cfg, **kwargs))


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test, restored after: tiny models gain nothing from two, and
    pytest-xdist's two workers already share the two cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> dict[str, tuple[list, Path]]:
    """One tiny run per family (plus the MLP variant of cgan): name -> (events, checkpoint folder)."""
    root = tmp_path_factory.mktemp("trained")
    runs = {name: tiny_train_config(name, root / name) for name in TINY_OPTIONS}
    runs["cgan-mlp"] = tiny_train_config(
        "cgan", root / "cgan-mlp",
        model_options={"arch": "mlp", "latent_dim": 8, "embed_dim": 8, "g_hidden": (32, 64), "d_hidden": (64, 32)},
    )
    torch.manual_seed(0)
    return {name: (run_events(cfg), Path(cfg.out)) for name, cfg in runs.items()}


@pytest.fixture(scope="session")
def checkpoint_dirs(trained) -> dict[str, Path]:
    """name -> folder of a tiny saved checkpoint (mlp-gan, dcgan, cgan, cgan-mlp, vae, classifier)."""
    return {name: path for name, (_, path) in trained.items()}


@pytest.fixture(scope="session")
def tiny_diffusion(tmp_path_factory) -> Path:
    """A diffusion checkpoint trained for 2 steps by the command line (U-Net 8/8/16, 2 sampler steps)."""
    from aigc_models import cli

    out = tmp_path_factory.mktemp("diffusion") / "tiny"
    assert cli.main(["train", "--model", "diffusion", "--steps", "2", "--batch-size", "8", "--device", "cpu",
                     "--option", "channels=8", "--option", "channel_mults=[1,1,2]", "--option", "default_steps=2",
                     "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture
def clean_split_cache():
    """``load_split`` is lru_cached: clear it around tests that change the data root."""
    from aigc_models.data import load_split

    load_split.cache_clear()
    yield
    load_split.cache_clear()


@pytest.fixture
def offline_torchvision(monkeypatch):
    """No real download: torchvision's MNIST downloader fails as if the network were unreachable."""
    from urllib.error import URLError

    import torchvision.datasets.mnist as tv_mnist

    def unreachable(url, *args, **kwargs):
        raise URLError(f"network unreachable (test): {url}")

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", unreachable)
    monkeypatch.setattr(tv_mnist.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(tv_mnist.FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])


@pytest.fixture
def missing_data_dir(tmp_path, monkeypatch, clean_split_cache, offline_torchvision) -> Path:
    """``AIGC_DATA_DIR`` pointing at an empty folder, with no network."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("AIGC_DATA_DIR", str(empty))
    return empty


# ----------------------------------------------------------------------------- the app's tests


@pytest.fixture(scope="session")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with tiny checkpoints for the app, made once per session (app_helpers)."""
    from app_helpers import make_tiny_checkpoints

    base = tmp_path_factory.getbasetemp() / "app"
    base.mkdir(exist_ok=True)
    return make_tiny_checkpoints(base)


@pytest.fixture
def app_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the app runs with, pointed at the tiny checkpoints."""
    from app_helpers import app_env

    for key, value in app_env(root).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def ck(root: Path):
    """name -> path of a tiny checkpoint folder."""
    return lambda name: str(root / "checkpoints" / name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with the most slow tests first (each file's own order kept): pytest-xdist hands out
    files in this order, and a long file started last would end the run alone."""
    slow: dict[Path, int] = {}
    for item in items:
        slow[item.path] = slow.get(item.path, 0) + bool(item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.path])
