"""Lesson tab, transfer learning (source document 000 §6.4): Fréchet distance against training
steps on Fashion-MNIST with 100, 1,000 and all training images, for a DCGAN from scratch,
fine-tuned from the MNIST DCGAN and fine-tuned with D's early layers frozen (FreezeD), each with
and without DiffAugment, and each run's final samples. The numbers are measured by
``scripts/transfer_curves.py`` (docs/transfer-curves.json); the tab only reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aigc_models.validation import show
from ui import common
from ui.errors import UserError
from ui.i18n import t

RESULTS = common.REPO_ROOT / "docs" / "transfer-curves.json"
SAMPLES_DIR = common.REPO_ROOT / "docs" / "transfer"
COMMAND = ("python scripts/transfer_curves.py --family dcgan --source mnist-dcgan --dataset fashion-mnist "
           "--sizes 100,1000,0 --steps 1000 --eval-every 250 --eval-n 1000")
COLOURS = {"scratch": "#4c78a8", "fine-tune": "#f58518", "FreezeD": "#54a24b"}
WORDS = {  # (English, Chinese)
    "scratch": ("from scratch", "从零训练"), "fine-tune": ("fine-tuned from MNIST", "从 MNIST 模型微调"),
    "FreezeD": ("fine-tuned, D's early layers frozen (FreezeD)", "微调，冻结 D 的前几层（FreezeD）"),
    "all": ("all 60,000 images", "全部 60,000 张图像"), "images": ("{n:,} images", "{n:,} 张图像"),
    "on": ("DiffAugment", "DiffAugment"), "off": ("no augmentation", "无增强"),
    "step": ("training step", "训练步数"),
    "note": ("{family} · {steps:,} steps a run · FD of {n:,} samples · {device} · {date} · `{command}`",
             "{family} · 每次 {steps:,} 步 · FD 基于 {n:,} 个样本 · {device} · {date} · `{command}`"), "fd": ("FD (lower is better)", "FD（越低越好）"),
    "missing": (f"No measured curves on this server: `{COMMAND}` writes them (about an hour on a 2-core CPU).",
                f"本服务器上没有测量数据：`{COMMAND}` 会生成它们（双核 CPU 上约一小时）。"),
}
COLUMNS = {"en": ["images", "start", "DiffAugment", "FD at step 0", "FD at the end", "steps", "s"],
           "zh": ["图像数", "起点", "DiffAugment", "第 0 步 FD", "结束时 FD", "步数", "秒"]}


def say(key: str, lang: str, **values: Any) -> str:
    """``WORDS[key]`` in ``lang`` ('en' or 'zh'), formatted with ``values``."""
    return WORDS[key][lang == "zh"].format(**values)


def load_results(path: Path | None = None) -> dict[str, Any] | None:
    """The measured curves (``scripts/transfer_curves.py``'s JSON at ``path``, by default
    ``RESULTS``), or None when absent or unreadable."""
    try:
        result = json.loads((path or RESULTS).read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("curves") else None


def size_label(size: int, lang: str) -> str:
    """'100 images', 'all 60,000 images' (or in Chinese)."""
    return say("all", lang) if size == 0 else say("images", lang, n=size)


def sizes_of(result: dict[str, Any]) -> list[int]:
    """The training-set sizes measured, in the order run (0 = all)."""
    return list(dict.fromkeys(int(c["size"]) for c in result["curves"]))


def curve_figure(result: dict[str, Any], lang: str) -> go.Figure:
    """FD against step, one panel per training-set size, one line per start (colour) and
    DiffAugment setting (solid off, dashed on), the three panels on one FD axis (log scale)."""
    sizes = sizes_of(result)
    fig = make_subplots(rows=1, cols=len(sizes), shared_yaxes=True,
                        subplot_titles=[size_label(s, lang) for s in sizes], horizontal_spacing=0.04)
    for curve in result["curves"]:
        col = sizes.index(int(curve["size"])) + 1
        augment = "on" if curve["diffaugment"] else "off"
        name = f"{say(curve['start'], lang)}, {say(augment, lang)}"
        fig.add_trace(go.Scatter(
            x=[p["step"] for p in curve["points"]], y=[p["frechet_distance"] for p in curve["points"]],
            mode="lines+markers", name=name, legendgroup=name, showlegend=col == 1,
            line={"color": COLOURS.get(curve["start"], "#888888"), "dash": "dash" if curve["diffaugment"] else "solid"},
        ), row=1, col=col)
    fig.update_yaxes(type="log", title_text=say("fd", lang), row=1, col=1)
    fig.update_xaxes(title_text=say("step", lang))
    fig.update_layout(height=440, margin={"l": 60, "r": 10, "t": 70, "b": 40},  # room for the label above
                      legend={"orientation": "h", "y": -0.25})
    return fig


def sample_path(curve: dict[str, Any]) -> Path | None:
    """A run's samples PNG as the JSON names it, only when it lies in ``SAMPLES_DIR`` and exists."""
    name = curve.get("samples")
    if not isinstance(name, str):
        return None
    path = (common.REPO_ROOT / name).resolve()
    return path if path.is_relative_to(SAMPLES_DIR.resolve()) and path.is_file() else None


def results_table(result: dict[str, Any], size: int, lang: str) -> pd.DataFrame:
    """One row per run of ``size`` images: start, DiffAugment, FD before training (fine-tuned runs
    start from the MNIST model) and at the end, steps and seconds."""
    rows = []
    for curve in result["curves"]:
        if int(curve["size"]) != size:
            continue
        points = curve["points"]
        first = points[0]["frechet_distance"] if points and points[0]["step"] == 0 else None
        rows.append([size_label(size, lang), say(curve["start"], lang), say("on" if curve["diffaugment"] else "off", lang),
                     "-" if first is None else round(first, 1), round(points[-1]["frechet_distance"], 1),
                     points[-1]["step"], curve.get("seconds")])
    return pd.DataFrame(rows, columns=COLUMNS[lang])


def show_lesson(size: Any, lang: str = "en") -> tuple[Any, list[tuple[str, str]], pd.DataFrame | None, str]:
    """The curves, the final samples of each run with ``size`` training images (a choice of the
    measured sizes, as text: '100', '1000', '0' = all) and their table, in ``lang``."""
    result = load_results()
    if result is None:
        return None, [], None, say("missing", lang)
    choices = [str(s) for s in sizes_of(result)]
    if str(size) not in choices:
        raise UserError(f"Training images: choose one of {', '.join(choices)} (0 = all), got {show(size)}.")
    size = int(size)
    gallery = [(str(path), f"{say(c['start'], lang)}, {say('on' if c['diffaugment'] else 'off', lang)}")
               for c in result["curves"] if int(c["size"]) == size and (path := sample_path(c)) is not None]
    note = say("note", lang, family=result.get("family", "?"), steps=result.get("steps", 0), n=result.get("eval_n", 0),
               device=common.device_words(str(result.get("device", "")), lang), date=result.get("date", ""),
               command=result.get("command", COMMAND))
    return curve_figure(result, lang), gallery, results_table(result, size, lang), note


def transfer_lesson(size: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
    """``show_lesson`` in the language of the browser that asks."""
    return show_lesson(size, common.language(request))


def build_tab() -> list[common.Picker]:
    gr.Markdown(t("transfer_intro"))
    result = load_results()
    sizes = sizes_of(result) if result else [100, 1000, 0]
    size = gr.Radio([(f"{s:,}" if s else t("transfer_all"), str(s)) for s in sizes], value=str(sizes[0]),
                    label=t("transfer_images"), elem_id="transfer-size")
    figure = gr.Plot(label=t("transfer_curves"), elem_id="transfer-curves")
    gallery = gr.Gallery(label=t("transfer_samples"), columns=3, height="auto", elem_id="transfer-samples")
    table = gr.Dataframe(label=t("transfer_table"), interactive=False, wrap=True, elem_id="transfer-table")
    note = gr.Markdown(elem_id="transfer-note")
    gr.Markdown(t("transfer_lesson"))

    size.change(transfer_lesson, [size], [figure, gallery, table, note], api_name="transfer_lesson")
    common.on_open(show_lesson, [size], [figure, gallery, table, note], speaks=True)
    return []
