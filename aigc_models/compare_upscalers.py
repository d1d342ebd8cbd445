"""The super-resolution checkpoints on their own yardstick, the second table of the Compare view.

An upscaler draws nothing from noise, so it has no point on the generators' picture (FD of samples
against the time to draw them). What it has instead, one row per checkpoint of an upscaling family
(the registry's ``upscale`` ability): the test-split PSNR and SSIM and the gain over bicubic that
``evaluate --save`` stored (``metrics.evaluate_super_resolution``), the FD and class accuracy of the
upscaled test images where stored, its parameters, how it was trained, and the time to upscale 64
test-sized images on the CPU that ``bench --sampling`` measured (``upscalers`` in
``docs/sampling-bench.json``, used only for a checkpoint with the same config, as for the
generators). Nothing is typed by hand; "-" marks what was not stored or measured.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .checkpoints import SHIPPED_DIR
from .compare import (DASH, SAMPLING_N, _fmt, _int, _millions, _ms, _number, checkpoints_with, config_digest, markdown, whole_training,
                      parameter_count, read_bench, records, train_cell)
from .data import DATASETS
from .models import REGISTRY


@dataclass(frozen=True)
class UpscalerRow:
    """One super-resolution checkpoint. Numbers are None where nothing was stored or measured."""

    name: str
    family: str
    label: str                        # the registry's display name ("ESPCN")
    dataset: str
    scale: int | None
    adversarial: float                # weight of the adversarial loss; 0 = the pixel loss alone
    n: int | None                     # test images scored
    psnr: float | None                # dB, mean per image
    ssim: float | None
    bicubic_psnr: float | None
    frechet_distance: float | None    # of the upscaled test images (the dataset's classifier)
    bicubic_frechet_distance: float | None
    class_accuracy: float | None      # the classifier names the upscaled image's true class
    parameters: int
    upscale_ms: float | None          # median milliseconds to upscale SAMPLING_N images (the bench)
    upscale_ms_p90: float | None
    train_seconds: float | None
    train_steps: int | None
    train_device: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def upscaler_checkpoints(roots: Iterable[str | os.PathLike] = (SHIPPED_DIR,)) -> list[dict[str, Any]]:
    """Every valid checkpoint of an upscaling family under ``roots``; the first root to hold a name wins."""
    return checkpoints_with("upscale", roots)


def collect_upscaler_rows(roots: Iterable[str | os.PathLike] = (SHIPPED_DIR,), *,
                          bench: str | os.PathLike | dict[str, Any] | None = None) -> list[UpscalerRow]:
    """One ``UpscalerRow`` per super-resolution checkpoint under ``roots``, with the bench's time
    where it was measured on the same config; ordered by dataset, scale, family (registry order), name."""
    measured = read_bench(bench).get("upscalers", {})
    measured = measured if isinstance(measured, dict) else {}
    order = {name: i for i, name in enumerate(REGISTRY)}
    datasets = list(DATASETS)
    rows = []
    for info in upscaler_checkpoints(roots):
        metrics, training, config = info["metrics"], info["training"], info["config"]
        timing = measured.get(info["name"])
        if not isinstance(timing, dict) or timing.get("config_sha256") != config_digest(config):
            timing = {}
        rows.append(UpscalerRow(
            name=info["name"], family=info["family"], label=REGISTRY[info["family"]].label, dataset=info["dataset"],
            scale=_int(config.get("scale")), adversarial=_number(config.get("adversarial")) or 0.0,
            n=_int(metrics.get("n")), psnr=_number(metrics.get("psnr")), ssim=_number(metrics.get("ssim")),
            bicubic_psnr=_number(metrics.get("bicubic_psnr")),
            frechet_distance=_number(metrics.get("frechet_distance")),
            bicubic_frechet_distance=_number(metrics.get("bicubic_frechet_distance")),
            class_accuracy=_number(metrics.get("class_accuracy")),
            parameters=parameter_count(info["family"], config),
            upscale_ms=_number(timing.get("median_ms")), upscale_ms_p90=_number(timing.get("p90_ms")),
            **whole_training(training),
        ))
    rows.sort(key=lambda r: (datasets.index(r.dataset) if r.dataset in datasets else len(datasets), r.scale or 0,
                             order.get(r.family, len(order)), r.name))
    return rows


HEADERS: dict[str, str] = {
    "checkpoint": "checkpoint", "family": "family", "scale": "scale", "psnr": "PSNR, dB (bicubic)", "ssim": "SSIM",
    "fd": "FD of the upscalings (bicubic)", "accuracy": "class acc.",
    "time": f"{SAMPLING_N} images, ms (median / p90)", "parameters": "parameters", "train": "train time",
    "device": "device",
}
"""Column key -> English header; ``markdown_table`` takes another mapping (the app's Chinese one)."""


def table_cells(row: UpscalerRow) -> dict[str, str]:
    """The row's cells as text, by column key ("-" where nothing is stored or measured)."""
    family = row.label + (f" + adversarial {row.adversarial:g}" if row.adversarial else "")
    fd = DASH if row.frechet_distance is None else f"{row.frechet_distance:.1f} ({_fmt(row.bicubic_frechet_distance, 1)})"
    return {
        "checkpoint": row.name, "family": family, "scale": DASH if row.scale is None else f"x{row.scale}",
        "psnr": DASH if row.psnr is None else f"{row.psnr:.2f} ({_fmt(row.bicubic_psnr, 2)})",
        "ssim": _fmt(row.ssim, 3), "fd": fd, "accuracy": _fmt(row.class_accuracy, 3),
        "time": DASH if row.upscale_ms is None else f"{_ms(row.upscale_ms)} / {_ms(row.upscale_ms_p90)}",
        "parameters": f"{row.parameters / 1e3:,.1f} k" if row.parameters < 100_000 else _millions(row.parameters),
        "train": train_cell(row.train_seconds, row.train_steps), "device": row.train_device or DASH,
    }


def table_records(rows: Sequence[UpscalerRow], headers: dict[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(header line, cell lines) of the table, for a ``gr.Dataframe`` or any other grid."""
    return records([table_cells(r) for r in rows], HEADERS, headers)


def markdown_table(rows: Sequence[UpscalerRow], *, headers: dict[str, str] | None = None) -> str:
    """The upscalers' table in Markdown: one line per row, "-" for what is missing."""
    return markdown(*table_records(rows, headers))


__all__ = ["HEADERS", "UpscalerRow", "collect_upscaler_rows", "markdown_table", "table_cells", "table_records",
           "upscaler_checkpoints"]
