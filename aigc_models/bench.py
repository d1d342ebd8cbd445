"""``python -m aigc_models bench``: how fast the lab trains and samples.

Compares the trainer with the source documents' loop (a torchvision
``DataLoader`` over PIL images with ``ToTensor``, batch 64, ``Sigmoid`` +
``BCELoss``, default Adam, the MLP GAN), run in the same process on the same
device; measures time to quality (MNIST class accuracy of the cGAN and the diffusion
recipe), sampling latency of the shipped generators, and, with ``--app``, the app's start-up
and Sample latency (``ui.app_process.app_latency``: the app lives beside the package).
Throughput is the median over timing windows; latency gives median and p99.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import data as data_mod
from .checkpoints import SHIPPED_DIR, load_checkpoint
from .models import REGISTRY
from .training import Done, Metrics, Step, TrainConfig, device_label, resolve_device, train

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
            g_loss.item()  # the documents print losses every step: a host sync per step
            count += 1
            if count % 10 == 0:
                now = time.perf_counter()
                if count > 10:  # skip the first window (warm-up)
                    windows.append(10 * b / (now - start))
                start = now
                if now - begin >= seconds and len(windows) >= 3:
                    return statistics.median(windows)


# ----------------------------------------------------------------------------- the trainer


SOURCE_NETWORK: dict[str, Any] = {"g_batchnorm": False, "d_dropout": 0.0}
"""``mlp-gan`` options that give the documents' exact network (no BatchNorm in G, no dropout in D)."""


def trainer_throughput(model: str, device: torch.device, *, batch_size: int, seconds: float, **cfg: Any) -> float:
    """Images/second of ``train``: the median of its 10-step logging windows after the first,
    over at least ``seconds`` and at least three windows."""
    config = TrainConfig(model=model, dataset="mnist", steps=10**9, batch_size=batch_size, device=device.type,
                         log_every=10, sample_every=10**9, **cfg)
    rates: list[float] = []
    run = train(config)
    for event in run:
        if isinstance(event, Step):
            rates.append(event.images_per_second)
            if event.elapsed >= seconds and len(rates) >= 4:
                run.close()
                break
    return statistics.median(rates[1:])


TIME_TO_QUALITY_RECIPE: dict[str, Any] = dict(
    batch_size=64, model_options={"g_channels": 32, "d_channels": 32}, lr_g=1e-3, lr_d=1e-3, ema=0.99)
"""The cGAN recipe timed to class accuracy: narrow (32 channels), a high learning rate, a short EMA."""


def time_to_quality(device: torch.device, *, targets: tuple[float, ...], max_seconds: float | None, eval_every: int,
                    eval_n: int = 2000, steps: int = 10**9, model: str = "cgan", **cfg: Any) -> dict[str, Any]:
    """Seconds from ``train`` start (start-up included) until the evaluator first reports
    MNIST class accuracy >= each target on ``eval_n`` samples of the conditional ``model`` (its
    family's own training defaults under ``cfg``), twice: ``seconds_to_accuracy`` on the wall
    clock, and ``training_seconds_to_accuracy`` without the time the checks themselves took
    (drawing ``eval_n`` samples of a diffusion model costs more than its training steps between
    checks). The run ends there, after ``steps`` steps, or after ``max_seconds`` of the trainer's
    clock, which counts the checks (None: no time limit). ``trace``: (step, wall s, training s, accuracy)."""
    from .metrics import Evaluator

    begin = time.perf_counter()
    classifier = load_checkpoint(SHIPPED_DIR / "mnist-classifier", device=device)
    evaluator = Evaluator(classifier, "mnist")
    config = TrainConfig.for_family(model, dataset="mnist", steps=steps, max_seconds=max_seconds, device=device.type,
                                    eval_every=eval_every, log_every=eval_every, sample_every=10**9, **cfg)
    reached: dict[str, float | None] = {f"{t:.2f}": None for t in targets}
    training_reached: dict[str, float | None] = dict(reached)
    trace = []
    checking = [0.0]  # seconds spent in the checks so far

    def check(model_now: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return evaluator.evaluate_generator(model_now, n=eval_n, seed=1)
        finally:
            checking[0] += time.perf_counter() - started

    run = train(config, evaluator=check)
    for event in run:
        if isinstance(event, Metrics):
            acc = event.metrics["class_accuracy"]
            elapsed = time.perf_counter() - begin
            training = elapsed - checking[0]
            trace.append((event.step, round(elapsed, 1), round(training, 1), round(acc, 4)))
            for t in targets:
                if acc >= t and reached[f"{t:.2f}"] is None:
                    reached[f"{t:.2f}"], training_reached[f"{t:.2f}"] = round(elapsed, 1), round(training, 1)
            if all(v is not None for v in reached.values()):
                run.close()
                break
    return {"model": model, "seconds_to_accuracy": reached, "training_seconds_to_accuracy": training_reached,
            "trace": trace, "config": cfg, "eval_n": eval_n, "eval_every": eval_every}


# ----------------------------------------------------------------------------- fast enough to watch

# The Train tab's live view on a CPU (ui/train.py make_config): a loss report every 5 steps, a grid of the
# fixed-noise samples every 20, a class histogram of 500 fresh samples every 4 s, EMA off.
WATCH_SECONDS = 30.0  # a student should see recognisable samples within this
# The live recipes timed: each family's shipped settings as the Train tab fills them in
WATCH_RECIPES = ("mlp-gan", "dcgan", "cgan")


def watchable_run(family: str, *, seconds: float = WATCH_SECONDS, eval_n: int = 1000, seed: int = 0,
                  dataset: str = "mnist", device: str = "cpu", **overrides: Any) -> dict[str, Any]:
    """What a student sees after ``seconds`` of the Train tab's run of ``family`` on ``dataset``:
    the shipped recipe with the live view's settings (``training.live_view_settings``, EMA off as
    the tab has it, its class-histogram probe
    included, so the run pays what the tab pays), stopped by its time limit; then the evaluator on
    ``eval_n`` samples of the model as it stands (seed 1): coverage (classes present among the
    samples), FD against the test split, class accuracy for a conditional model, and the step
    reached. ``overrides``: other ``TrainConfig`` fields (a candidate recipe)."""
    import dataclasses

    from .metrics import Evaluator, HistogramProbe
    from .training import live_view_settings, shipped_recipe

    classifier = load_checkpoint(SHIPPED_DIR / f"{dataset}-classifier")
    evaluator = Evaluator(classifier, dataset)
    cfg = dataclasses.replace(shipped_recipe(family, dataset), steps=10**9, max_seconds=seconds, seed=seed,
                              device=device, **{**live_view_settings(family, cpu=True), "ema": 0.0, **overrides}).validate()
    final: dict[str, Any] = {}
    steps = 0
    begin = time.perf_counter()
    for event in train(cfg, evaluator=HistogramProbe(evaluator, n=500),
                       final_evaluator=lambda m: evaluator.evaluate_generator(m, n=eval_n, seed=1)):
        if isinstance(event, Done):
            steps = event.step
        if isinstance(event, Metrics) and "frechet_distance" in event.metrics:
            final = event.metrics
    wall = time.perf_counter() - begin
    keep = ("frechet_distance", "coverage", "class_accuracy", "kl_to_uniform", "class_histogram")
    return {"family": family, "dataset": dataset, "seconds": seconds, "steps": steps, "wall_with_eval": round(wall, 1),
            "batch_size": cfg.batch_size, "lr_g": cfg.lr_g, "lr_d": cfg.lr_d, "loss": cfg.loss,
            "threads": torch.get_num_threads(), **{k: final[k] for k in keep if k in final}}


def watchable_bench(families: tuple[str, ...] = WATCH_RECIPES, *, seconds: float = WATCH_SECONDS, seeds: int = 3,
                    eval_n: int = 1000, log=print) -> dict[str, Any]:
    """``watchable_run`` for each family and seed 0..``seeds``-1: which live recipe shows
    recognisable samples (coverage 10/10, the lowest FD) within ``seconds`` on this machine."""
    rows = []
    for family in families:
        for seed in range(seeds):
            row = watchable_run(family, seconds=seconds, seed=seed, eval_n=eval_n)
            log(f"{family} seed {seed}: {row['steps']} steps in {seconds:.0f} s, coverage {row.get('coverage')}, "
                f"FD {row.get('frechet_distance', float('nan')):.1f}")
            rows.append(row)
    return {"date": time.strftime("%Y-%m-%d"), "device": device_label(torch.device("cpu")), "cpu": _cpu_name(),
            "torch": torch.__version__, "command": "python -m aigc_models bench " + " ".join(sys.argv[2:]),
            "seconds": seconds, "eval_n": eval_n, "rows": rows}


def watchable_markdown(report: dict[str, Any]) -> str:
    """The README's table: per family, the median steps, FD and coverage over the seeds."""
    header = (f"| Train-tab recipe | steps in {report['seconds']:.0f} s | coverage (10 classes) | FD, N = "
              f"{report['eval_n']:,} | class accuracy |")
    lines = [header, "| --- | --- | --- | --- | --- |"]

    def median(rows: list[dict[str, Any]], key: str) -> Any:
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else None

    for family in dict.fromkeys(r["family"] for r in report["rows"]):
        rows = [r for r in report["rows"] if r["family"] == family]
        acc = median(rows, "class_accuracy")
        lines.append(f"| {family} | {median(rows, 'steps'):,.0f} | {', '.join(str(r.get('coverage')) for r in rows)} | "
                     f"{median(rows, 'frechet_distance'):.1f} (seeds: "
                     f"{', '.join(format(r['frechet_distance'], '.1f') for r in rows)}) | "
                     f"{'-' if acc is None else f'{acc:.3f}'} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- sampling


def timed_calls(call: Callable[[int], Any], *, repeats: int, warmup: int,
                max_seconds: float | None = None) -> dict[str, float]:
    """Median, p90 and p99 milliseconds of ``call(i)``: ``warmup`` untimed calls (i = 0, 1, ...), then
    ``repeats`` timed ones (i continuing), fewer once ``max_seconds`` of timed calls have passed (at
    least five). ``repeats`` in the result is how many were timed."""
    for i in range(warmup):
        call(i)
    times: list[float] = []
    begin = time.perf_counter()
    for i in range(repeats):
        t = time.perf_counter()
        call(warmup + i)
        times.append((time.perf_counter() - t) * 1000)
        if max_seconds is not None and len(times) >= 5 and time.perf_counter() - begin >= max_seconds:
            break
    times.sort()

    def pct(q: float) -> float:
        return round(times[min(len(times) - 1, int(q * len(times)))], 2)

    return {"median_ms": round(statistics.median(times), 2), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "repeats": len(times)}


def sampling_latency(checkpoint: Path, *, n_images: int, repeats: int, warmup: int = 5,
                     max_seconds: float | None = None, model: nn.Module | None = None) -> dict[str, float]:
    """Median, p90 and p99 milliseconds to draw ``n_images`` from a checkpoint on the CPU with
    ``sampling.sample``'s defaults (a diffusion model: its config's sampler, steps and guidance),
    each call with its own seed (``timed_calls``)."""
    from .sampling import sample

    model = model if model is not None else load_checkpoint(checkpoint, device="cpu")
    return timed_calls(lambda i: sample(model, n_images, seed=i), repeats=repeats, warmup=warmup,
                       max_seconds=max_seconds)


def upscaling_latency(model: nn.Module, *, n_images: int, repeats: int, warmup: int = 3,
                      max_seconds: float | None = None) -> dict[str, float]:
    """Median and p90 milliseconds for a super-resolution model to upscale ``n_images`` low-resolution
    images ``(n, 1, 28 / s, 28 / s)`` (seeded noise in [-1, 1]: the network's cost does not depend on
    the picture) on the CPU, timed as ``sampling_latency`` times a generator."""
    side = 28 // model.scale
    low = torch.rand(n_images, 1, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        row = timed_calls(lambda i: model.upscale(low), repeats=repeats, warmup=warmup, max_seconds=max_seconds)
    row.pop("p99_ms")
    return row


DIFFUSION_STEPS = (1, 5, 10, 20, 50)
DIFFUSION_BATCHES = (1, 16, 64)


def diffusion_latency(model: nn.Module, *, steps: tuple[int, ...] = DIFFUSION_STEPS,
                      batches: tuple[int, ...] = DIFFUSION_BATCHES, repeats: int = 20, warmup: int = 2,
                      max_seconds: float = 20.0) -> dict[str, Any]:
    """How a diffusion model's sampling time scales: median milliseconds for each batch size at
    each step count with its config's sampler and guidance, and at 16 images / 20 steps without
    guidance (guidance 1: a plain conditional pass of N instead of one batched pass of 2N)."""
    from .samplers import sample as sample_diffusion

    def timed(n: int, **stepping: Any) -> float:
        for i in range(warmup):
            sample_diffusion(model, n, seed=i, **stepping)
        times, begin = [], time.perf_counter()
        for i in range(repeats):
            t = time.perf_counter()
            sample_diffusion(model, n, seed=warmup + i, **stepping)
            times.append((time.perf_counter() - t) * 1000)
            if len(times) >= 3 and time.perf_counter() - begin >= max_seconds:
                break
        return round(statistics.median(times), 1)

    cfg = model.config
    table = {str(n): {str(k): timed(n, steps=k) for k in steps} for n in batches}
    plain = timed(16, steps=20, guidance=1.0)
    return {"sampler": cfg.sampler, "guidance": cfg.default_guidance, "median_ms": table,
            "16_images_20_steps_unguided_ms": plain, "threads": torch.get_num_threads()}


def diffusion_rows(checkpoints: list[dict[str, Any]], *, max_seconds: float = 20.0, log=print) -> dict[str, Any]:
    """``diffusion_latency`` of every diffusion checkpoint among ``checkpoints`` (rows of
    ``compare.generator_checkpoints``), and, under "reference", 16 images from the first
    conditional GAN among them, timed in the same run for the ratio."""
    rows: dict[str, Any] = {}
    for info in checkpoints:
        if REGISTRY[info["family"]].objective == "denoising":
            rows[info["name"]] = diffusion_latency(load_checkpoint(info["path"], device="cpu"), max_seconds=max_seconds)
            log(f"diffusion sampling {info['name']}: {rows[info['name']]}")
    reference = next((info for info in checkpoints if REGISTRY[info["family"]].can("discriminate", "condition")), None)
    if reference is not None:
        rows["reference"] = {"checkpoint": reference["name"],
                             "16_images_ms": sampling_latency(Path(reference["path"]), n_images=16, repeats=200,
                                                              max_seconds=max_seconds)["median_ms"]}
    return rows


def diffusion_bench(roots: list[Path] | None = None, *, max_seconds: float = 20.0, log=print) -> dict[str, Any]:
    """``bench --diffusion``: only the diffusion rows (``diffusion_rows``) of the checkpoints under
    ``roots`` (default: the shipped ones), with the machine they ran on."""
    from .compare import generator_checkpoints

    return {"date": time.strftime("%Y-%m-%d"), "device": device_label(torch.device("cpu")), "cpu": _cpu_name(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "command": "python -m aigc_models bench " + " ".join(sys.argv[2:]),
            "rows": diffusion_rows(generator_checkpoints(roots or [SHIPPED_DIR]), max_seconds=max_seconds, log=log)}


def diffusion_markdown(rows: dict[str, Any]) -> str:
    """The README's diffusion speed table: median ms by batch size and steps, per checkpoint."""
    lines = []
    reference = rows.get("reference")
    for name, row in rows.items():
        if name == "reference":
            continue
        steps = list(next(iter(row["median_ms"].values())))
        lines += [f"`{name}` ({row['sampler']}, guidance {row['guidance']:g}, {row['threads']} threads): median ms",
                  "", "| images | " + " | ".join(f"{k} steps" for k in steps) + " |",
                  "| --- | " + " | ".join("---" for _ in steps) + " |"]
        lines += [f"| {n} | " + " | ".join(f"{ms:,.0f}" for ms in by_steps.values()) + " |"
                  for n, by_steps in row["median_ms"].items()]
        ratio = (f"; `{reference['checkpoint']}` draws 16 images in {reference['16_images_ms']:.1f} ms, "
                 f"{row['median_ms']['16']['20'] / reference['16_images_ms']:,.0f}x faster"
                 if reference and "16" in row["median_ms"] and "20" in row["median_ms"]["16"] else "")
        lines += ["", f"16 images at 20 steps without guidance: {row['16_images_20_steps_unguided_ms']:,.0f} ms{ratio}.", ""]
    return "\n".join(lines)


def sampling_parameters(model: nn.Module, *, n_images: int = 1) -> int:
    """Parameters of the modules that run while ``sampling.sample`` draws ``n_images`` (a GAN's
    generator, a VAE's decoder, a diffusion model's whole network), found with forward hooks."""
    from .sampling import sample

    called: set[int] = set()
    hooks = [m.register_forward_hook(lambda mod, args, out: called.add(id(mod))) for m in model.modules()]
    try:
        sample(model, n_images, seed=0)
    finally:
        for hook in hooks:
            hook.remove()
    return sum(p.numel() for m in model.modules() if id(m) in called for p in m.parameters(recurse=False))


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform's answer."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def sampling_bench(roots: list[Path] | None = None, *, n_images: int = 64, repeats: int = 50, warmup: int = 3,
                   max_seconds: float = 30.0, note: str = "", note_zh: str = "", log=print) -> dict[str, Any]:
    """``bench --sampling``: milliseconds to draw ``n_images`` from every generator checkpoint under
    ``roots`` (default: the shipped ones) on the CPU, in this process, one after another, so that
    the rows compare; and (``upscalers``) to upscale ``n_images`` with every super-resolution checkpoint. Each row keeps the config's SHA-256 (``compare.config_digest``): the Compare
    view uses a row only for a checkpoint with that config. ``note`` (and ``note_zh``, the same in
    Chinese) says what else ran on the machine; the Compare tab shows it under its reading."""
    from . import compare, compare_upscalers

    roots = roots or [SHIPPED_DIR]
    device = torch.device("cpu")
    report: dict[str, Any] = {
        "what": f"milliseconds to draw {n_images} images with aigc_models.sampling.sample (each model's default "
                "sampler settings), on the CPU, after warm-up; median and 90th percentile of the timed calls",
        "date": time.strftime("%Y-%m-%d"), "device": device_label(device), "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "python": platform.python_version(), "n_images": n_images, "warmup": warmup, "repeats": repeats,
        "max_seconds_per_checkpoint": max_seconds,
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "note": note, **({"note_zh": note_zh} if note_zh else {}), "command": "python -m aigc_models " + shlex.join(sys.argv[1:]), "checkpoints": {},
    }
    for info in compare.generator_checkpoints(roots):
        model = load_checkpoint(info["path"], device="cpu")
        row = sampling_latency(Path(info["path"]), n_images=n_images, repeats=repeats, warmup=warmup,
                               max_seconds=max_seconds, model=model)
        row.pop("p99_ms")
        row.update(threads=torch.get_num_threads(), sampler=compare.sampler_settings(info["family"], info["config"]),
                   sampling_parameters=sampling_parameters(model), config_sha256=compare.config_digest(info["config"]))
        report["checkpoints"][info["name"]] = row
        log(f"{info['name']}: {row['median_ms']} ms median, {row['p90_ms']} ms p90 ({row['repeats']} calls)")
    report["upscalers"] = {}
    for info in compare_upscalers.upscaler_checkpoints(roots):
        model = load_checkpoint(info["path"], device="cpu")
        row = upscaling_latency(model, n_images=n_images, repeats=repeats, warmup=warmup, max_seconds=max_seconds)
        row.update(threads=torch.get_num_threads(), config_sha256=compare.config_digest(info["config"]))
        report["upscalers"][info["name"]] = row
        log(f"{info['name']}: {row['median_ms']} ms median, {row['p90_ms']} ms p90 ({row['repeats']} calls)")
    report["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return report


# ----------------------------------------------------------------------------- the report


@dataclass
class BenchOptions:
    device: str = "cpu"
    quick: bool = False  # seconds instead of minutes: keeps the command working in the tests
    app: bool = False
    out: str = "bench.json"


def run_bench(opts: BenchOptions, log=print) -> dict[str, Any]:
    """Run every part and return the JSON-able report (also written to ``opts.out``)."""
    device = resolve_device(opts.device)
    window = 1.0 if opts.quick else 15.0
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"), "device": device_label(device), "torch": torch.__version__,
        "python": platform.python_version(), "cpu_count": os.cpu_count(), "quick": opts.quick,
        "command": "python -m aigc_models bench " + " ".join(sys.argv[2:]),
    }
    log(f"bench on {report['device']} (window {window:.0f} s per measurement)")
    source = source_loop_throughput(device, seconds=window)
    ours64 = trainer_throughput("mlp-gan", device, batch_size=64, seconds=window, model_options=SOURCE_NETWORK)
    shipped64 = trainer_throughput("mlp-gan", device, batch_size=64, seconds=window)
    report["mlp_gan_batch64"] = {"source_loop_img_s": round(source), "trainer_img_s": round(ours64),
                                 "ratio": round(ours64 / source, 2), "trainer_shipped_network_img_s": round(shipped64)}
    log(f"mlp-gan @64: source loop {source:.0f} img/s, trainer on the same network {ours64:.0f} img/s, "
        f"ratio {ours64 / source:.2f}; with BatchNorm in G and dropout in D {shipped64:.0f} img/s")
    families = ["mlp-gan", "dcgan", "cgan", "vae"] if not opts.quick else ["dcgan"]
    sizes = [64] if opts.quick else ([64, 256, 1024] if device.type == "cpu" else [64, 256, 1024, 4096])
    per_family = {}
    for family in families:
        rates = {bs: trainer_throughput(family, device, batch_size=bs, seconds=window) for bs in sizes}
        best = max(rates, key=rates.get)
        per_family[family] = {"img_s_by_batch": {str(k): round(v) for k, v in rates.items()}, "best_batch": best,
                              "best_img_s": round(rates[best]), "ratio_to_source_loop": round(rates[best] / source, 2)}
        log(f"{family}: " + ", ".join(f"b{k} {v:.0f}" for k, v in rates.items()) + " img/s")
    report["trainer"] = per_family

    if (SHIPPED_DIR / "mnist-classifier").is_dir():
        if opts.quick:  # bounded by steps, not seconds: one evaluation however busy the machine is
            bounds = dict(targets=(0.90,), steps=25, max_seconds=None, eval_every=25, eval_n=200)
        else:
            bounds = dict(targets=(0.90, 0.97), max_seconds=300, eval_every=200, eval_n=2000)
        report["time_to_quality_cgan_mnist"] = time_to_quality(device, **bounds, **TIME_TO_QUALITY_RECIPE)
        log(f"time to quality: {report['time_to_quality_cgan_mnist']['seconds_to_accuracy']}")

    from .compare import generator_checkpoints

    shipped = generator_checkpoints([SHIPPED_DIR])  # every generating family the registry knows
    latency = {}
    for info in shipped:
        if opts.quick and latency:
            break
        latency[info["name"]] = {str(n): sampling_latency(Path(info["path"]), n_images=n, repeats=5 if opts.quick else 200,
                                                          max_seconds=None if opts.quick else 30.0) for n in (1, 64)}
    report["sampling_latency_cpu"] = latency
    log(f"sampling latency: {json.dumps(latency)}")

    diffusion = [info for info in shipped if REGISTRY[info["family"]].objective == "denoising"]
    if diffusion and not opts.quick:
        report["diffusion_sampling_cpu"] = diffusion_rows(shipped, log=log)
        report["time_to_quality_diffusion_mnist"] = time_to_quality(
            device, model=diffusion[0]["family"], targets=(0.97, 0.99), max_seconds=600, eval_every=200, eval_n=2000)
        log(f"diffusion time to quality: {report['time_to_quality_diffusion_mnist']['seconds_to_accuracy']}")
    if opts.app:
        try:  # the app and its process helper live in the repository beside the package, not in it
            from ui.app_process import app_latency
        except ImportError as err:
            raise ValueError("bench --app times app.py: run it from the repository's folder (it needs app.py and ui/).") from err
        report["app"] = app_latency()
        log(f"app: {report['app']}")
    Path(opts.out).write_text(json.dumps(report, indent=2) + "\n")
    return report


def markdown_report(report: dict[str, Any]) -> str:
    """The README's Performance tables from a ``run_bench`` report."""
    lines = [f"Measured {report['date']} on {report['device']} ({report.get('cpu_count', '?')} cores), "
             f"torch {report['torch']}, with `{report['command'].strip()}`. Throughput is the median over "
             "timing windows; latencies give the median and the 99th percentile.", ""]
    m = report["mlp_gan_batch64"]
    lines += ["| training, MLP GAN, batch 64 | images/s |", "| --- | --- |",
              f"| the source documents' loop (DataLoader + PIL `ToTensor`, `Sigmoid` + `BCELoss`) | {m['source_loop_img_s']:,} |",
              f"| this trainer, same network | {m['trainer_img_s']:,} (**{m['ratio']}x**) |"]
    if "trainer_shipped_network_img_s" in m:
        lines.append(f"| this trainer, the MLP GAN with its defaults (BatchNorm in G, dropout in D) "
                     f"| {m['trainer_shipped_network_img_s']:,} |")
    lines.append("")
    sizes = sorted({int(b) for f in report["trainer"].values() for b in f["img_s_by_batch"]})
    lines += ["| trainer, images/s | " + " | ".join(f"batch {b}" for b in sizes) + " | best / source loop |",
              "| --- | " + " | ".join("---" for _ in sizes) + " | --- |"]
    for family, row in report["trainer"].items():
        cells = [f"{row['img_s_by_batch'].get(str(b), '-'):,}" if str(b) in row["img_s_by_batch"] else "-" for b in sizes]
        lines.append(f"| {family} | " + " | ".join(cells) + f" | {row['ratio_to_source_loop']}x |")
    lines.append("")
    for key in ("time_to_quality_cgan_mnist", "time_to_quality_diffusion_mnist"):
        ttq = report.get(key)
        if ttq:
            training = ttq.get("training_seconds_to_accuracy", {})  # absent from reports before it was measured
            reached = ", ".join(
                f"accuracy {k}: " + ("not reached" if v is None else f"{v:.0f} s" + (
                    f" ({training[k]:.0f} s of it training)" if training.get(k) is not None else ""))
                for k, v in ttq["seconds_to_accuracy"].items())
            lines += [f"Time to quality, MNIST {ttq.get('model', 'cgan')} (wall time from start, set-up and the "
                      f"checks included; class accuracy of {ttq.get('eval_n', 2000):,} samples checked every "
                      f"{ttq.get('eval_every', '?')} steps): {reached}.", ""]
    if report.get("sampling_latency_cpu"):
        lines += ["| sampling on the CPU | 1 image, median / p99 | 64 images, median / p99 |", "| --- | --- | --- |"]
        for name, row in report["sampling_latency_cpu"].items():
            one, many = row["1"], row["64"]
            lines.append(f"| `{name}` | {one['median_ms']} / {one['p99_ms']} ms | {many['median_ms']} / {many['p99_ms']} ms |")
        lines.append("")
    diffusion = report.get("diffusion_sampling_cpu") or {}
    reference = diffusion.get("reference")
    for name, row in diffusion.items():
        if name == "reference":
            continue
        steps = list(next(iter(row["median_ms"].values())))
        lines += [f"| `{name}` ({row['sampler']}, guidance {row['guidance']:g}), median ms | "
                  + " | ".join(f"{k} steps" for k in steps) + " |", "| --- |" + " --- |" * len(steps)]
        for n, cells in row["median_ms"].items():
            lines.append(f"| {n} image{'s' if n != '1' else ''} | " + " | ".join(f"{cells[k]:,.0f}" for k in steps) + " |")
        guided = row["median_ms"].get("16", {}).get("20")
        note = [f"16 images at 20 steps without guidance: {row['16_images_20_steps_unguided_ms']:,.0f} ms"]
        if guided:
            note[0] += f" (guided: {guided:,.0f} ms, {guided / row['16_images_20_steps_unguided_ms']:.2f}x)"
        if reference and guided:
            note.append(f"`{reference['checkpoint']}` draws 16 images in {reference['16_images_ms']:.1f} ms in the same "
                        f"run ({guided / reference['16_images_ms']:,.0f}x faster)")
        lines += ["", "; ".join(note) + ".", ""]
    app = report.get("app")
    if app:
        parts = [f"first HTTP 200 {app['seconds_to_first_200']} s after `python app.py`"]
        if "sample_api_seconds_median" in app:
            parts.append(f"Sample (64 images) through the API {app['sample_api_seconds_median'] * 1000:.0f} ms")
        if "sample_click_to_image_seconds_median" in app:
            parts.append(f"from a click on Generate to the image in Chromium {app['sample_click_to_image_seconds_median'] * 1000:.0f} ms")
        lines += ["The app: " + "; ".join(parts) + " (medians).", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- PixelCNN sampling


def pixelcnn_sampling_speed(*, n_images: int = 4, seed: int = 0, repeats: int = 1, **options: Any) -> dict[str, Any]:
    """Seconds to draw ``n_images`` from a PixelCNN (default config, ``options`` override it; random
    weights, the arithmetic does not depend on them) on the CPU by the naive loop (a full network
    pass per pixel) and by the cached sampler, the best of ``repeats`` runs each, and whether both
    drew the same images for the same seed. The naive loop of one image takes tens of seconds."""
    from dataclasses import asdict

    from .models import build_model
    from .models.pixelcnn import sample_pixels
    from .sampling import even_labels, latents

    torch.manual_seed(seed)
    model = build_model("pixelcnn", **options).eval()
    z = latents(n_images, model.latent_dim, seed=seed)
    labels = even_labels(n_images, model.num_classes) if model.num_classes else None

    def best(fast: bool) -> tuple[float, torch.Tensor]:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            images = sample_pixels(model, z, labels, fast=fast)
            times.append(time.perf_counter() - start)
        return min(times), images

    fast_s, fast_images = best(True)
    naive_s, naive_images = best(False)
    return {"what": f"seconds to draw {n_images} images from a PixelCNN on the CPU, best of {repeats}: the naive "
                    "loop (a full network pass per pixel) and the cached sampler, from the same noise",
            "date": time.strftime("%Y-%m-%d"), "cpu": _cpu_name(), "torch": torch.__version__,
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
            "command": "python -m aigc_models " + shlex.join(sys.argv[1:]),
            "config": asdict(model.config), "n_images": n_images, "repeats": repeats, "threads": torch.get_num_threads(),
            "naive_seconds": round(naive_s, 3), "cached_seconds": round(fast_s, 3),
            "speedup": round(naive_s / fast_s, 1), "identical": bool(torch.equal(naive_images, fast_images))}


def pixelcnn_markdown(report: dict[str, Any]) -> str:
    """The README's row: the naive loop against the cached sampler, and whether they drew the same pixels."""
    c = report["config"]
    return "\n".join([
        "| PixelCNN | images | naive loop, s | cached sampler, s | speed-up | same pixels |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {c['channels']} channels, {c['layers']} layers, kernel {c['kernel_size']}, K = {c['levels']} | "
        f"{report['n_images']} | {report['naive_seconds']:.2f} | {report['cached_seconds']:.2f} | "
        f"{report['speedup']:.1f}x | {'yes' if report['identical'] else 'NO'} |",
        "", f"{report['date']}, {report['cpu']}, {report['threads']} threads, best of {report['repeats']}."])
