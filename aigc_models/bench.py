"""``python -m aigc_models bench``: how fast the lab trains and samples.

Compares the trainer with the source documents' loop (a torchvision
``DataLoader`` over PIL images with ``ToTensor``, batch 64, ``Sigmoid`` +
``BCELoss``, default Adam, the MLP GAN), run in the same process on the same
device; measures time to quality (MNIST cgan class accuracy), sampling latency
of the shipped GANs, and, when asked, the app's start-up and Sample latency.
Throughput is the median over timing windows; latency gives median and p99.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import data as data_mod
from .checkpoints import SHIPPED_DIR, load_checkpoint
from .training import Metrics, Step, TrainConfig, device_label, resolve_device, train

# ----------------------------------------------------------------------------- the documents' loop


class SourceGenerator(nn.Module):
    """The source document's G, verbatim (section 1.1)."""

    def __init__(self, noise_dim: int = 100) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(noise_dim, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
            nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 28 * 28), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z).reshape(-1, 1, 28, 28)


class SourceDiscriminator(nn.Module):
    """The source document's D, verbatim: ends in ``Sigmoid``."""

    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Flatten(), nn.Linear(28 * 28, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256),
            nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid(),
        )

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.model(img)


def source_loop_throughput(device: torch.device, *, seconds: float, batch_size: int = 64) -> float:
    """Images/second of the documents' training loop (median over 10-step windows)."""
    import torchvision
    import torchvision.transforms as transforms
    from torch.utils.data import DataLoader

    data_mod.load_split("mnist", train=True)  # makes sure the archives are unpacked
    dataset = torchvision.datasets.MNIST(root=str(data_mod.data_root()), train=True, download=False,
                                         transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
    generator, discriminator = SourceGenerator().to(device), SourceDiscriminator().to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=0.0002)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=0.0002)
    criterion = nn.BCELoss()
    windows, count, start, begin = [], 0, time.perf_counter(), time.perf_counter()
    while True:
        for real_imgs, _ in loader:
            real_imgs = real_imgs.to(device)
            b = real_imgs.size(0)
            opt_d.zero_grad()
            fake_imgs = generator(torch.randn(b, 100, device=device))
            d_loss = criterion(discriminator(real_imgs), torch.ones(b, 1, device=device)) + criterion(
                discriminator(fake_imgs.detach()), torch.zeros(b, 1, device=device))
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss = criterion(discriminator(fake_imgs), torch.ones(b, 1, device=device))
            g_loss.backward()
            opt_g.step()
            float(g_loss)  # the documents print losses every step: a host sync per step
            count += 1
            if count % 10 == 0:
                now = time.perf_counter()
                if count > 10:  # skip the first window (warm-up)
                    windows.append(10 * b / (now - start))
                start = now
                if now - begin >= seconds and len(windows) >= 3:
                    return statistics.median(windows)


# ----------------------------------------------------------------------------- the trainer


def trainer_throughput(model: str, device: torch.device, *, batch_size: int, seconds: float, **cfg: Any) -> float:
    """Images/second of ``train`` (median of its logging windows after the first)."""
    config = TrainConfig(model=model, dataset="mnist", steps=10**9, max_seconds=seconds, batch_size=batch_size,
                         device=device.type, log_every=10, sample_every=10**9, **cfg)
    rates = [e.images_per_second for e in train(config) if isinstance(e, Step)]
    rates = rates[1:] or rates
    return statistics.median(rates)


def time_to_quality(device: torch.device, *, targets: tuple[float, ...], max_seconds: float, eval_every: int,
                    eval_n: int = 2000, **cfg: Any) -> dict[str, Any]:
    """Wall seconds from ``train`` start (start-up included) until the evaluator first
    reports MNIST cgan class accuracy >= each target on ``eval_n`` samples."""
    from .metrics import Evaluator

    begin = time.perf_counter()
    classifier = load_checkpoint(SHIPPED_DIR / "mnist-classifier", device=device)
    evaluator = Evaluator(classifier, "mnist")
    config = TrainConfig(model="cgan", dataset="mnist", steps=10**9, max_seconds=max_seconds, device=device.type,
                         eval_every=eval_every, log_every=eval_every, sample_every=10**9, **cfg)
    reached: dict[str, float | None] = {f"{t:.2f}": None for t in targets}
    trace = []
    run = train(config, evaluator=lambda m: evaluator.evaluate_generator(m, n=eval_n, seed=1))
    for event in run:
        if isinstance(event, Metrics):
            acc = event.metrics["class_accuracy"]
            elapsed = time.perf_counter() - begin
            trace.append((event.step, round(elapsed, 1), round(acc, 4)))
            for t in targets:
                if acc >= t and reached[f"{t:.2f}"] is None:
                    reached[f"{t:.2f}"] = round(elapsed, 1)
            if all(v is not None for v in reached.values()):
                run.close()
                break
    return {"seconds_to_accuracy": reached, "trace": trace, "config": cfg}


# ----------------------------------------------------------------------------- sampling


def sampling_latency(checkpoint: Path, *, n_images: int, repeats: int) -> dict[str, float]:
    """Median and p99 milliseconds to draw ``n_images`` from a checkpoint on the CPU."""
    from .sampling import sample

    model = load_checkpoint(checkpoint, device="cpu")
    times = []
    for i in range(repeats + 5):
        t = time.perf_counter()
        sample(model, n_images, seed=i)
        times.append((time.perf_counter() - t) * 1000)
    times = sorted(times[5:])
    return {"median_ms": round(statistics.median(times), 2), "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 2)}


# ----------------------------------------------------------------------------- the app


def app_latency(*, port: int = 7899, timeout: float = 120) -> dict[str, float]:
    """Seconds from ``python app.py`` to the first HTTP 200, and of one Sample request."""
    from gradio_client import Client

    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"}
    app = Path(__file__).resolve().parent.parent / "app.py"
    begin = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(app)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first_200 = None
        while time.perf_counter() - begin < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        first_200 = time.perf_counter() - begin
                        break
            except OSError:
                time.sleep(0.05)
        if first_200 is None:
            raise RuntimeError("the app did not answer within the timeout")
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        api = client.view_api(return_format="dict", print_info=False)
        name = next((n for n in api["named_endpoints"] if "sample" in n and "gan" in n), None)
        out = {"seconds_to_first_200": round(first_200, 2)}
        if name is not None:
            times = []
            for _ in range(5):
                t = time.perf_counter()
                client.predict(api_name=name)
                times.append(time.perf_counter() - t)
            out["sample_request_seconds_median"] = round(statistics.median(times), 3)
            out["sample_endpoint"] = name
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ----------------------------------------------------------------------------- the table


@dataclass
class BenchOptions:
    device: str = "cpu"
    quick: bool = False
    app: bool = False
    out: str = "bench.json"


def run_bench(opts: BenchOptions, log=print) -> dict[str, Any]:
    """Run every part and return the JSON-able report (also written to ``opts.out``)."""
    device = resolve_device(opts.device)
    window = 3.0 if opts.quick else 15.0
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"), "device": device_label(device), "torch": torch.__version__,
        "python": platform.python_version(), "quick": opts.quick,
        "command": "python -m aigc_models bench " + " ".join(sys.argv[2:]),
    }
    log(f"bench on {report['device']} (window {window:.0f} s per measurement)")
    source = source_loop_throughput(device, seconds=window)
    ours64 = trainer_throughput("mlp-gan", device, batch_size=64, seconds=window)
    report["mlp_gan_batch64"] = {"source_loop_img_s": round(source), "trainer_img_s": round(ours64),
                                 "ratio": round(ours64 / source, 2)}
    log(f"mlp-gan @64: source loop {source:.0f} img/s, trainer {ours64:.0f} img/s, ratio {ours64 / source:.2f}")
    families = ["mlp-gan", "dcgan", "cgan", "vae"] if not opts.quick else ["mlp-gan", "dcgan"]
    sizes = [64, 256] if opts.quick else ([64, 256, 1024] if device.type == "cpu" else [64, 256, 1024, 4096])
    per_family = {}
    for family in families:
        rates = {bs: trainer_throughput(family, device, batch_size=bs, seconds=window) for bs in sizes}
        best = max(rates, key=rates.get)
        per_family[family] = {"img_s_by_batch": {str(k): round(v) for k, v in rates.items()}, "best_batch": best,
                              "best_img_s": round(rates[best]), "ratio_to_source_loop": round(rates[best] / source, 2)}
        log(f"{family}: " + ", ".join(f"b{k} {v:.0f}" for k, v in rates.items()) + " img/s")
    report["trainer"] = per_family

    if (SHIPPED_DIR / "mnist-classifier").is_dir():
        targets = (0.90,) if opts.quick else (0.90, 0.97)
        limit = 60 if opts.quick else 300
        report["time_to_quality_cgan_mnist"] = time_to_quality(
            device, targets=targets, max_seconds=limit, eval_every=100 if opts.quick else 200, eval_n=500 if opts.quick else 2000,
            batch_size=64, model_options={"g_channels": 32, "d_channels": 32}, lr_g=1e-3, lr_d=1e-3, ema=0.99)
        log(f"time to quality: {report['time_to_quality_cgan_mnist']['seconds_to_accuracy']}")

    latency = {}
    for family in ("mlp-gan", "dcgan", "cgan"):
        for dataset in ("mnist", "fashion-mnist"):
            ckpt = SHIPPED_DIR / f"{dataset}-{family}"
            if ckpt.is_dir():
                latency[ckpt.name] = {str(n): sampling_latency(ckpt, n_images=n, repeats=20 if opts.quick else 200) for n in (1, 64)}
    report["sampling_latency_cpu"] = latency
    log(f"sampling latency: {json.dumps(latency)}")
    if opts.app:
        report["app"] = app_latency()
        log(f"app: {report['app']}")
    Path(opts.out).write_text(json.dumps(report, indent=2) + "\n")
    return report
