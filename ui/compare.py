"""The Compare tab: every shipped generator on one yardstick, quality against sampling time.

The table and the picture come from ``aigc_models.compare``: each checkpoint's stored
evaluator numbers (``evaluate --save``) and training record (``train``), and the sampling
times that ``python -m aigc_models bench --sampling`` wrote to ``docs/sampling-bench.json``.
The paragraph under the picture is computed from the same rows (which checkpoint leads on
quality, diversity and speed), in the visitor's language; nothing here is typed by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from aigc_models import compare, compare_upscalers
from aigc_models.models import REGISTRY
from ui import common
from ui.i18n import EN, ZH, t

LANGUAGES = {"en": EN, "zh": ZH}

# ----------------------------------------------------------------------------- plain functions


def shipped_roots() -> list[Path]:
    """The app's checkpoint folders without the runs folder: the shipped checkpoints (runs trained
    in the app have neither stored metrics nor a measured sampling time)."""
    runs = common.runs_dir().resolve()
    return [d for d in common.checkpoint_dirs() if d.resolve() != runs]


def _name(row: compare.Row, lang: str) -> str:
    entry = REGISTRY.get(row.family)
    label = (entry.label_zh if lang == "zh" else entry.label) if entry else row.family
    return f"{label} `{row.name}`"


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.{1 if value >= 10 else 2}f}"


def reading(rows: Sequence[compare.Row], lang: str = "en", bench: dict[str, Any] | None = None) -> str:
    """The trilemma in one paragraph, from the rows: per dataset, which checkpoint has the lowest
    FD (quality), the highest recall (diversity) and the fewest milliseconds (speed), whether one
    leads on all three, and how many times slower than the fastest the best-quality one is; then
    how the times were measured (from the bench file). In English or Chinese (``lang``)."""
    words = LANGUAGES.get(lang, EN)
    gap = "" if lang == "zh" else " "  # Chinese sentences follow each other without a space
    parts = [words["compare_reading_intro"] + "\n"]
    found = False
    for lead in compare.leaders(rows):
        if not (lead.quality and lead.diversity and lead.speed):
            continue
        found = True
        sentence = words["compare_reading_dataset"].format(
            dataset=lead.dataset, quality=_name(lead.quality, lang), fd=f"{lead.quality.frechet_distance:.1f}",
            diversity=_name(lead.diversity, lang), recall=f"{lead.diversity.recall:.2f}",
            speed=_name(lead.speed, lang), ms=_ms(lead.speed.sample_ms), n=compare.SAMPLING_N)
        if lead.one_leader:
            sentence += gap + words["compare_reading_one"].format(name=_name(lead.quality, lang))
        else:
            sentence += gap + words["compare_reading_split"]
            if lead.quality.sample_ms is not None and lead.quality.name != lead.speed.name:
                ratio = lead.quality.sample_ms / lead.speed.sample_ms
                sentence += gap + words["compare_reading_ratio"].format(ratio=_times(ratio))
        if lead.slowest and lead.slowest.name not in (lead.speed.name, lead.quality.name):
            sentence += gap + words["compare_reading_span"].format(
                slowest=_name(lead.slowest, lang), span=_times(lead.slowest.sample_ms / lead.speed.sample_ms))
        parts.append("- " + sentence)
    if not found:
        parts.append(words["compare_reading_none"])
    left_out = len(rows) - len(compare.plotted(rows))
    if left_out:
        parts.append("\n" + words["compare_reading_missing"].format(k=left_out))
    text = "\n".join(parts)
    if bench:
        text += "\n\n" + words["compare_measured"].format(
            date=bench.get("date", "?"), cpu=bench.get("cpu", "?"),
            device=common.device_words(bench.get("device", "?"), lang),
            n=bench.get("n_images", compare.SAMPLING_N),
            note=(bench.get("note_zh") if lang == "zh" else None) or bench.get("note") or "")  # a hand-written note; note_zh its translation
    return text


# The table's cells are written in English by ``aigc_models.compare``; these say them in Chinese.
ZH_CELLS = ((re.compile(r"\bone pass\b"), "一次前向"), (re.compile(r"\bpixel by pixel\b"), "逐像素"),
            (re.compile(r"(\d[\d,]*) cached steps"), r"\1 步，带缓存"), (re.compile(r"(\d[\d,]*) steps?\b"), r"\1 步"),
            (re.compile(r"\bguidance\b"), "引导"), (re.compile(r"\btemperature\b"), "温度"),
            (re.compile(r"\+ adversarial\b"), "+ 对抗损失"))


def cell_in(text: str, lang: str) -> str:
    """A table cell in ``lang``: the English one, or its Chinese (``ZH_CELLS``, ``common.device_words``)."""
    if lang != "zh":
        return text
    for pattern, said in ZH_CELLS:
        text = pattern.sub(said, text)
    return common.device_words(text, lang)


def _times(ratio: float) -> str:
    """A ratio of times as the reading says it: 2.7 (one decimal below 10), 1,127 (whole above)."""
    return f"{ratio:.1f}" if ratio < 10 else f"{ratio:,.0f}"


def compare_view(lang: str = "en", bench: dict[str, Any] | None = None) -> tuple[pd.DataFrame, Any, str]:
    """(the table, the plotly figure, the paragraph) for the shipped checkpoints, with headers,
    axis titles and words in ``lang`` ("en" or "zh"); ``bench``: the sampling bench already read
    (else read from ``compare.BENCH_FILE``)."""
    words = LANGUAGES.get(lang, EN)
    bench = bench if bench is not None else compare.read_bench(compare.BENCH_FILE)
    rows = compare.collect_rows(shipped_roots(), bench=bench)
    headers = {key: words[f"compare_col_{key}"] for key in compare.HEADERS}
    head, body = compare.table_records(rows, headers)
    text = {key: words[f"compare_fig_{key}"] for key in compare.FIGURE_TEXT}
    labels = {name: (f.label_zh if lang == "zh" else f.label) for name, f in REGISTRY.items()}
    figure = compare.figure(rows, text=text, family_labels=labels)
    body = [[cell_in(cell, lang) for cell in line] for line in body]
    family = list(compare.HEADERS).index("family")
    for line, row in zip(body, rows):  # the family's own name in the page's language, as in the picture's legend
        line[family] = labels.get(row.family, line[family])
    return pd.DataFrame(body, columns=head), figure, reading(rows, lang, bench)


def upscalers_view(lang: str = "en", bench: dict[str, Any] | None = None) -> pd.DataFrame:
    """The super-resolution checkpoints' table (``aigc_models.compare_upscalers``) in ``lang``; ``bench``:
    the sampling bench already read (else read from ``compare.BENCH_FILE``)."""
    words = LANGUAGES.get(lang, EN)
    bench = bench if bench is not None else compare.read_bench(compare.BENCH_FILE)
    rows = compare_upscalers.collect_upscaler_rows(shipped_roots(), bench=bench)
    headers = {key: words[f"compare_sr_col_{key}"] for key in compare_upscalers.HEADERS}
    head, body = compare_upscalers.table_records(rows, headers)
    return pd.DataFrame([[cell_in(cell, lang) for cell in line] for line in body], columns=head)


def show_compare(request: gr.Request | None = None) -> tuple[pd.DataFrame, Any, str, pd.DataFrame]:
    """The Compare view, and the upscalers' table, in the language of the browser that asks."""
    lang = common.language(request)
    bench = compare.read_bench(compare.BENCH_FILE)  # read once for both tables
    return (*compare_view(lang, bench), upscalers_view(lang, bench))


# ----------------------------------------------------------------------------- layout

# Each column's share of the table's width, in per cent: all twelve fit a projector's 1024 px
# without a horizontal scroll (Gradio sizes columns by their longest cell otherwise), with app.CSS's
# smaller type for this table.
COLUMN_SHARES = {"checkpoint": 12, "family": 9, "n": 7, "fd": 9, "accuracy": 6, "coverage": 6, "pr": 7,
                 "time": 8, "sampler": 10, "parameters": 9, "train": 8, "device": 9}
UPSCALER_SHARES = {"checkpoint": 14, "family": 12, "scale": 6, "psnr": 10, "ssim": 6, "fd": 11, "accuracy": 7,
                   "time": 9, "parameters": 7, "train": 9, "device": 9}  # the same, for the upscalers' eleven


def build_tab() -> list[common.Picker]:
    """The Compare tab: the picture, its reading and the table, filled when a page opens (and on
    Refresh, after a new bench or evaluation). No pickers."""
    gr.Markdown(t("compare_intro"))
    plot = gr.Plot(label=t("compare_plot"), elem_id="compare-plot")
    text = gr.Markdown(elem_id="compare-reading")
    table = gr.Dataframe(label=t("compare_table"), interactive=False, wrap=True, elem_id="compare-table",
                         column_widths=[f"{COLUMN_SHARES[key]}%" for key in compare.HEADERS])
    gr.Markdown(t("compare_notes"))
    gr.Markdown(t("compare_sr_intro"))
    upscalers = gr.Dataframe(label=t("compare_sr_table"), interactive=False, wrap=True, elem_id="compare-upscalers",
                             column_widths=[f"{UPSCALER_SHARES[key]}%" for key in compare_upscalers.HEADERS])
    refresh = gr.Button(t("compare_refresh"), size="sm")
    refresh.click(show_compare, None, [table, plot, text, upscalers], api_name="compare")
    # Not common.on_open: its cache is keyed by the arguments, and the argument here is the request
    # (its language); the view is cheap (config files and one JSON file).
    common.ON_OPEN.append((common.quietly(show_compare, 4), [], [table, plot, text, upscalers]))
    return []


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
        for fn, inputs, outputs in common.ON_OPEN:
            demo.load(fn, inputs, outputs)
    demo.launch(i18n=I18N)
