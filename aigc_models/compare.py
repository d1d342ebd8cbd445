"""Every shipped generator on one yardstick: quality against sampling time.

One row per checkpoint folder of a generating family (the registry's ``generate``
ability): the evaluator's numbers as ``evaluate --save`` stored them in its
config.json (Frechet distance beside the real-data floor, class accuracy,
coverage, precision and recall, and N), how it was trained (``train``'s record:
time, steps, device), its size, and the time to draw 64 images on the CPU as
``python -m aigc_models bench --sampling`` measured it (``docs/sampling-bench.json``).
Nothing here is typed by hand: a checkpoint without metrics or without a
measurement shows "-" and stays in the table.

The picture is the "generative learning trilemma" (Xiao et al. 2022,
arXiv:2112.07804: high-quality samples, mode coverage, fast sampling; GANs give
the first and the last, VAEs the last two, diffusion models the first two)
drawn from this lab's own measurements: Frechet distance against milliseconds
for 64 images, both on log scales, one panel per dataset (the two datasets'
FDs come from different classifiers and do not compare), one colour per family.
``figure`` builds it with plotly (the app's ``gr.Plot``); ``figure_png`` draws
the same points with PIL for the README, so no browser or kaleido is needed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageDraw, ImageFont

from .checkpoints import SHIPPED_DIR, list_checkpoints
from .data import DATASETS, class_names
from .models import REGISTRY, build_model, families_with, make_config

# ----------------------------------------------------------------------------- places and constants

BENCH_FILE = SHIPPED_DIR.parent / "docs" / "sampling-bench.json"
"""Where ``bench --sampling`` writes its results and where the Compare view reads them."""

SAMPLING_N = 64
"""Images per timed sampling call: one grid, as the app's tabs draw it."""

PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880")
"""Plotly's default colours; a family gets the one at its position in the registry."""

FLOOR_COLOUR = "#7f7f7f"
DASH = "-"


def family_colour(family: str) -> str:
    """The family's colour, the same in the plotly figure and the PNG (its registry position)."""
    names = list(REGISTRY)
    index = names.index(family) if family in names else len(names)
    return PALETTE[index % len(PALETTE)]


def config_digest(config: dict[str, Any]) -> str:
    """SHA-256 of a checkpoint's model config (canonical JSON). Sampling time depends on the
    network and its default sampler settings, not on the weights: a retrained checkpoint with
    the same config keeps its measurement, a changed one does not."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=list).encode()).hexdigest()


def sampler_settings(family: str, config: dict[str, Any]) -> str:
    """How ``sampling.sample`` draws from this model with no options: "one pass" for a generator or
    decoder, the config's default sampler, steps and guidance for an iterative sampler, or what a
    config's own ``sampling_words()`` says (an autoregressive model: pixel by pixel)."""
    built = make_config(family, **config)
    if callable(getattr(built, "sampling_words", None)):
        return built.sampling_words()
    steps = getattr(built, "default_steps", None)
    if steps is None:
        return "one pass"
    sampler = getattr(built, "sampler", None) or getattr(built, "default_sampler", "?")
    guidance = getattr(built, "default_guidance", None)
    return f"{sampler}, {steps} steps" + (f", guidance {guidance:g}" if guidance is not None else "")


def parameter_count(family: str, config: dict[str, Any]) -> int:
    """Trainable parameters of every network in the checkpoint (a GAN's discriminator included),
    from the config alone (built on the meta device: no weights read or allocated)."""
    with torch.device("meta"):
        model = build_model(family, make_config(family, **config))
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Row:
    """One checkpoint on the yardstick. Numbers are None where nothing was stored or measured."""

    name: str
    family: str
    label: str                        # the registry's display name ("DCGAN")
    dataset: str
    n: int | None                     # samples the evaluator scored
    frechet_distance: float | None
    floor: float | None               # real-data floor: N training images scored the same way
    class_accuracy: float | None      # conditional models: the classifier agrees with the asked class
    coverage: int | None              # classes the classifier finds in the samples
    num_classes: int
    precision: float | None
    recall: float | None              # diversity: how much of the real data the samples reach
    scored: str                       # "samples", or "prior samples" (a VAE's decoded N(0, I) draws)
    sampler: str                      # "one pass", or "euler, 20 steps, guidance 1.75"
    parameters: int                   # every network in the checkpoint
    sampling_parameters: int | None   # the modules that run while sampling (measured by the bench)
    train_seconds: float | None
    train_steps: int | None
    train_device: str | None
    sample_ms: float | None           # median milliseconds for SAMPLING_N images (the bench)
    sample_ms_p90: float | None
    threads: int | None               # CPU threads of that measurement
    bench_note: str                   # "" when measured; else why the time is missing

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def read_bench(source: str | os.PathLike | dict[str, Any] | None = None) -> dict[str, Any]:
    """A sampling-bench results file as a dict (``{}`` when there is none). ``source``: a path,
    an already-read dict, or None for ``BENCH_FILE``. A file that is not a JSON object with a
    ``checkpoints`` object raises ``ValueError``."""
    if isinstance(source, dict):
        report = source
    else:
        path = Path(source) if source is not None else BENCH_FILE
        if not path.is_file():
            return {}
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise ValueError(f"{path} is not a sampling-bench JSON file ({type(err).__name__}).") from None
    if not isinstance(report, dict) or not isinstance(report.get("checkpoints", {}), dict):
        raise ValueError("A sampling-bench file is a JSON object whose 'checkpoints' maps names to measurements.")
    return report


def generator_checkpoints(roots: Iterable[str | os.PathLike] = (SHIPPED_DIR,)) -> list[dict[str, Any]]:
    """Every valid checkpoint of a generating family (registry ability ``generate``) under ``roots``,
    as ``checkpoints.list_checkpoints`` reads them (validated config.json); the first root to hold a
    name wins."""
    return checkpoints_with("generate", roots)


def checkpoints_with(ability: str, roots: Iterable[str | os.PathLike] = (SHIPPED_DIR,)) -> list[dict[str, Any]]:
    """Every valid checkpoint under ``roots`` of a family with the registry ``ability``; the first
    root to hold a name wins."""
    families = set(families_with(ability))
    found: dict[str, dict[str, Any]] = {}
    for root in roots:
        for info in list_checkpoints(root):
            if info["family"] in families and info["name"] not in found:
                found[info["name"]] = info
    return list(found.values())


def collect_rows(roots: Iterable[str | os.PathLike] = (SHIPPED_DIR,), *,
                 bench: str | os.PathLike | dict[str, Any] | None = None) -> list[Row]:
    """One ``Row`` per generator checkpoint under ``roots``, merged with the sampling bench.

    Quality comes from the checkpoint's stored ``metrics`` (for a model whose metrics keep their
    sample scores under ``prior_samples``, as a VAE's do, from there), training from its stored
    ``training``; the time from ``bench`` (see ``read_bench``), used only when it was measured on
    a checkpoint with the same config (``config_digest``). Rows are ordered by dataset, then by
    family in registry order, then by name.
    """
    report = read_bench(bench)
    measured = report.get("checkpoints", {})
    order = {name: i for i, name in enumerate(REGISTRY)}
    datasets = list(DATASETS)
    rows = []
    for info in generator_checkpoints(roots):
        metrics, training, config = info["metrics"], info["training"], info["config"]
        scores = metrics.get("prior_samples") if isinstance(metrics.get("prior_samples"), dict) else metrics
        floor = metrics.get("real_floor") if isinstance(metrics.get("real_floor"), dict) else {}
        timing = measured.get(info["name"])
        note = ""
        if not isinstance(timing, dict):
            timing, note = {}, "not measured"
        elif timing.get("config_sha256") != config_digest(config):
            timing, note = {}, "measured on another config"
        family = info["family"]
        rows.append(Row(
            name=info["name"], family=family, label=REGISTRY[family].label, dataset=info["dataset"],
            n=_int(scores.get("n", metrics.get("n"))),
            frechet_distance=_number(scores.get("frechet_distance")), floor=_number(floor.get("frechet_distance")),
            class_accuracy=_number(scores.get("class_accuracy")), coverage=_int(scores.get("coverage")),
            num_classes=len(class_names(info["dataset"])),
            precision=_number(scores.get("precision")), recall=_number(scores.get("recall")),
            scored="prior samples" if scores is not metrics else "samples",
            sampler=sampler_settings(family, config), parameters=parameter_count(family, config),
            sampling_parameters=_int(timing.get("sampling_parameters")),
            **whole_training(training),
            sample_ms=_number(timing.get("median_ms")), sample_ms_p90=_number(timing.get("p90_ms")),
            threads=_int(timing.get("threads", report.get("threads"))), bench_note=note,
        ))
    rows.sort(key=lambda r: (datasets.index(r.dataset) if r.dataset in datasets else len(datasets),
                             order.get(r.family, len(order)), r.name))
    return rows


# ----------------------------------------------------------------------------- the table

HEADERS: dict[str, str] = {
    "checkpoint": "checkpoint", "family": "family", "n": "N", "fd": "FD (floor)", "accuracy": "class acc.",
    "coverage": "coverage", "pr": "precision / recall", "time": f"{SAMPLING_N} images, ms (median / p90)",
    "sampler": "sampler", "parameters": "parameters (sampling)", "train": "train time", "device": "device",
}
"""Column key -> English header; ``markdown_table`` takes another mapping (the app's Chinese one)."""


def _fmt(value: float | None, digits: int) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    """Milliseconds to three significant figures without an exponent: 1.53, 12.4, 1,234."""
    if value is None:
        return DASH
    return f"{value:,.0f}" if value >= 100 else f"{value:.{1 if value >= 10 else 2}f}"


def _millions(count: int | None) -> str:
    return DASH if count is None else f"{count / 1e6:.2f} M"


def table_cells(row: Row) -> dict[str, str]:
    """The row's table cells as text, by column key ("-" where nothing is stored or measured)."""
    fd = DASH
    if row.frechet_distance is not None:
        fd = f"{row.frechet_distance:.2f} ({_fmt(row.floor, 2)})" + (" †" if row.scored == "prior samples" else "")
    pr = DASH if row.precision is None and row.recall is None else f"{_fmt(row.precision, 2)} / {_fmt(row.recall, 2)}"
    time = DASH if row.sample_ms is None else f"{_ms(row.sample_ms)} / {_ms(row.sample_ms_p90)}"
    params = _millions(row.parameters) + (f" ({_millions(row.sampling_parameters)})" if row.sampling_parameters else "")
    return {
        "checkpoint": row.name, "family": row.label, "n": DASH if row.n is None else f"{row.n:,}", "fd": fd,
        "accuracy": _fmt(row.class_accuracy, 3),
        "coverage": DASH if row.coverage is None else f"{row.coverage}/{row.num_classes}", "pr": pr, "time": time,
        "sampler": row.sampler, "parameters": params, "train": train_cell(row.train_seconds, row.train_steps),
        "device": row.train_device or DASH,
    }


def whole_training(training: dict[str, Any]) -> dict[str, Any]:
    """A card's ``training`` record with the runs it continued (``continued_from``, a fine-tuned
    checkpoint's history) added up: ``train_seconds`` and ``train_steps`` summed over the runs (None
    when the latest run does not record them), ``train_device`` the devices in order, joined by " → "."""
    runs, run = [], training
    while isinstance(run, dict):
        runs.append(run)
        run = run.get("continued_from")
    seconds, steps = [_number(r.get("seconds")) for r in runs], [_int(r.get("steps")) for r in runs]
    devices = [r["device"] for r in reversed(runs) if isinstance(r.get("device"), str)]
    return {"train_seconds": sum(x for x in seconds if x is not None) if seconds[0] is not None else None,
            "train_steps": sum(x for x in steps if x is not None) if steps[0] is not None else None,
            "train_device": " → ".join(dict.fromkeys(devices)) or None}


def train_cell(seconds: float | None, steps: int | None) -> str:
    """How long a checkpoint trained: "600 s (28,197 steps)", or "-" when not recorded."""
    if seconds is None:
        return DASH
    return f"{seconds:,.0f} s" + (f" ({steps:,} steps)" if steps is not None else "")


def records(cells: Sequence[dict[str, str]], headers: dict[str, str], names: dict[str, str] | None = None
            ) -> tuple[list[str], list[list[str]]]:
    """(header line, cell lines) from each row's cells by column key, the columns in ``headers``'
    order, named by ``names`` where given (another language) else by ``headers``."""
    said = {**headers, **(names or {})}
    return [said[k] for k in headers], [[row[k] for k in headers] for row in cells]


def markdown(head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A Markdown table, the first cell of each line as code (a checkpoint's name)."""
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += [f"| `{cells[0]}` | " + " | ".join(cells[1:]) + " |" for cells in body]
    return "\n".join(lines)


def table_records(rows: Sequence[Row], headers: dict[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(header line, cell lines) of the table, for a ``gr.Dataframe`` or any other grid."""
    return records([table_cells(r) for r in rows], HEADERS, headers)


def markdown_table(rows: Sequence[Row], *, headers: dict[str, str] | None = None) -> str:
    """The Compare table in Markdown: one line per row, "-" for what is missing."""
    return markdown(*table_records(rows, headers))


# ----------------------------------------------------------------------------- the trilemma, in numbers


@dataclass(frozen=True)
class Leaders:
    """Per dataset: which checkpoint leads on each corner of the trilemma (None: nothing measured)."""

    dataset: str
    quality: Row | None      # lowest Frechet distance
    diversity: Row | None    # highest recall
    speed: Row | None        # fewest milliseconds for SAMPLING_N images
    slowest: Row | None

    @property
    def one_leader(self) -> bool:
        """True when one checkpoint leads on all three corners (then there is no trilemma here)."""
        names = {r.name if r else None for r in (self.quality, self.diversity, self.speed)}
        return len(names) == 1 and None not in names


def leaders(rows: Sequence[Row]) -> list[Leaders]:
    """The trilemma's corners per dataset, from the rows' measured numbers (datasets in data order)."""
    out = []
    for dataset in [d for d in DATASETS if any(r.dataset == d for r in rows)]:
        mine = [r for r in rows if r.dataset == dataset]
        scored = [r for r in mine if r.frechet_distance is not None]
        diverse = [r for r in mine if r.recall is not None]
        timed = [r for r in mine if r.sample_ms is not None]
        out.append(Leaders(
            dataset=dataset,
            quality=min(scored, key=lambda r: r.frechet_distance) if scored else None,
            diversity=max(diverse, key=lambda r: r.recall) if diverse else None,
            speed=min(timed, key=lambda r: r.sample_ms) if timed else None,
            slowest=max(timed, key=lambda r: r.sample_ms) if timed else None,
        ))
    return out


# ----------------------------------------------------------------------------- the picture


def plotted(rows: Sequence[Row]) -> list[Row]:
    """The rows that can be drawn: both a Frechet distance and a sampling time."""
    return [r for r in rows if r.frechet_distance is not None and r.sample_ms is not None
            and r.frechet_distance > 0 and r.sample_ms > 0]


FIGURE_TEXT: dict[str, str] = {
    "title": "Quality against sampling time (lower left is better)",
    "x": f"ms for {SAMPLING_N} images (CPU, log scale)", "y": "Frechet distance (log scale)",
    "floor": "real-data floor", "empty": "No checkpoint has both a stored FD and a measured sampling time yet.",
}
"""The figure's English words; ``figure`` takes another mapping (the app's Chinese one)."""


AXIS_STYLE: dict[str, Any] = {"showline": True, "linecolor": "black", "mirror": True, "gridcolor": "#e6e6e6",
                              "zeroline": False}
LAYOUT_STYLE: dict[str, Any] = {"template": "none", "plot_bgcolor": "white", "paper_bgcolor": "white",
                                "margin": {"l": 70, "r": 20, "t": 70, "b": 60}}
"""A plain white look set here rather than by a plotly template: a template would add about 7 KB
to every figure sent to a browser."""


def figure(rows: Sequence[Row], *, text: dict[str, str] | None = None, family_labels: dict[str, str] | None = None):
    """The trilemma picture as a plotly ``Figure``: one panel per dataset, x = median milliseconds
    for ``SAMPLING_N`` images and y = Frechet distance, both log axes; one marker per checkpoint,
    labelled with its name and coloured by family (one legend entry per family), and the
    dataset's real-data floor as a dashed line. Rows without both numbers are left out (the table
    keeps them). ``text`` and ``family_labels`` replace the English words and the registry's labels."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    words = {**FIGURE_TEXT, **(text or {})}
    points = plotted(rows)
    datasets = [d for d in DATASETS if any(r.dataset == d for r in points)]
    if not datasets:
        fig = go.Figure()
        fig.add_annotation(text=words["empty"], showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        fig.update_xaxes(type="log", title_text=words["x"], **AXIS_STYLE)
        fig.update_yaxes(type="log", title_text=words["y"], **AXIS_STYLE)
        fig.update_layout(title=words["title"], height=480, **LAYOUT_STYLE)
        return fig
    fig = make_subplots(rows=1, cols=len(datasets), subplot_titles=datasets, horizontal_spacing=0.1)
    shown: set[str] = set()
    for col, dataset in enumerate(datasets, start=1):
        mine = [r for r in points if r.dataset == dataset]
        side = _label_sides(mine)
        for family in [f for f in REGISTRY if any(r.family == f for r in mine)]:
            group = [r for r in mine if r.family == family]
            fig.add_trace(go.Scatter(
                x=[r.sample_ms for r in group], y=[r.frechet_distance for r in group], mode="markers+text",
                text=[r.name for r in group], textposition=[side[r.name] for r in group],
                name=(family_labels or {}).get(family, REGISTRY[family].label),
                legendgroup=family, showlegend=family not in shown,
                marker={"size": 12, "color": family_colour(family), "line": {"width": 1, "color": "white"}},
                customdata=[[r.sampler, r.recall if r.recall is not None else float("nan"), r.n or 0] for r in group],
                hovertemplate="%{text}<br>FD %{y:.1f}, %{x:.3g} ms<br>%{customdata[0]}<br>recall %{customdata[1]:.2f}, "
                              "N %{customdata[2]:,}<extra></extra>",
            ), row=1, col=col)
            shown.add(family)
        floors = [r.floor for r in rows if r.dataset == dataset and r.floor]
        if floors:
            xs = [r.sample_ms for r in mine]
            fig.add_trace(go.Scatter(
                x=[min(xs) / 1.5, max(xs) * 1.5], y=[floors[0]] * 2, mode="lines", name=words["floor"],
                legendgroup="floor", showlegend="floor" not in shown,
                line={"dash": "dash", "color": FLOOR_COLOUR, "width": 1}, hoverinfo="skip",
            ), row=1, col=col)
            shown.add("floor")
    fig.update_xaxes(type="log", title_text=words["x"], **AXIS_STYLE)
    fig.update_yaxes(type="log", title_text=words["y"], **AXIS_STYLE)
    fig.update_layout(title=words["title"], height=520, legend={"orientation": "h", "y": -0.2}, **LAYOUT_STYLE)
    return fig


def _label_side(ms: float, span: tuple[float, float]) -> str:
    """Where a point's name goes: towards the panel's middle for points near its left or right
    edge (on log x), so that a name is not cut off by the panel's border at a projector's width."""
    lo, hi = (math.log10(v) for v in span)
    where = (math.log10(ms) - lo) / (hi - lo) if hi > lo else 0.5
    return "top left" if where > 0.65 else "top right" if where < 0.2 else "top center"


def _free_label_box(cx: float, cy: float, w: float, h: float, x_range: tuple[float, float],
                    taken: Sequence[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """Where a point's name goes in the PNG: the first of above-right, below-right, above-left and
    below-left of the dot (centre ``cx, cy``) whose ``w`` x ``h`` box stays inside the panel's
    ``x_range`` and overlaps no name already placed (``taken``: boxes as left, top, right, bottom);
    above-right or above-left, whichever fits the panel, when every side is taken. Two checkpoints
    at the same time and FD (the two MNIST VAEs) then get one name above and one below."""
    sides = [(cx + 8, cy - 4 - h), (cx + 8, cy + 4), (cx - 8 - w, cy - 4 - h), (cx - 8 - w, cy + 4)]
    inside = [(x, y) for x, y in sides if x >= x_range[0] + 2 and x + w <= x_range[1] - 2] or sides[2:3]
    for x, y in inside:
        box = (x, y, x + w, y + h)
        if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
            return box
    x, y = inside[0]
    return (x, y, x + w, y + h)


LABEL_CHARS_PER_PANEL, LABEL_HEIGHT = 55, 0.07
"""How many characters of a point's name fit across one panel at a projector's 1024 px (two panels),
and a name's height, as shares of the panel: what ``_label_sides`` estimates names' boxes with."""


def _label_sides(points: Sequence[Row]) -> dict[str, str]:
    """Each point's ``textposition`` in one panel. Plotly does not move names apart, so their boxes
    are estimated here (``LABEL_CHARS_PER_PANEL``, ``LABEL_HEIGHT``, on the panel's log axes scaled to
    0..1) and each name takes the first of ``_label_side``'s choice, the same below the point, then
    the other sides, whose box overlaps no name placed before it (``_label_side``'s when none is
    free): two checkpoints at the same time and FD (the two MNIST VAEs) get one name above and
    one below, and a long name leaning left stays off its neighbour's."""
    def unit(values: list[float]) -> list[float]:
        lo, hi = min(values), max(values)
        return [(v - lo) / (hi - lo) if hi > lo else 0.5 for v in values]

    xs = unit([math.log10(r.sample_ms) for r in points])
    ys = unit([math.log10(r.frechet_distance) for r in points])
    span = (min(r.sample_ms for r in points), max(r.sample_ms for r in points))
    placed: list[tuple[float, float, float, float]] = []
    out: dict[str, str] = {}
    for r, x, y in zip(points, xs, ys):
        first = _label_side(r.sample_ms, span)
        w, h = len(r.name) / LABEL_CHARS_PER_PANEL, LABEL_HEIGHT
        tries = [first, first.replace("top", "bottom")] + [f"{v} {s}" for v in ("top", "bottom")
                                                            for s in ("right", "left", "center")]
        for side in dict.fromkeys(tries):
            vertical, horizontal = side.split()
            left = {"right": x, "left": x - w, "center": x - w / 2}[horizontal]
            low = y + 0.01 if vertical == "top" else y - 0.01 - h
            box = (left, low, left + w, low + h)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        else:
            side, box = first, None
        out[r.name] = side
        if box is not None:
            placed.append(box)
    return out


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks 1, 2, 5 x 10^k inside [lo, hi] (fewer when that gives more than eight)."""
    ticks = []
    for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        ticks += [m * 10**k for m in (1, 2, 5) if lo <= m * 10**k <= hi]
    return [t for t in ticks if math.log10(t) == round(math.log10(t))] if len(ticks) > 8 else ticks


def _tick_text(value: float) -> str:
    return f"{value:g}" if value >= 0.01 else f"{value:.0e}"


def figure_png(rows: Sequence[Row], *, width: int = 1200, height: int = 560,
               text: dict[str, str] | None = None) -> Image.Image:
    """The same picture as ``figure``, drawn with PIL (RGB ``width`` x ``height``) for the README: one
    log-log panel per dataset, a dot per checkpoint coloured by family and labelled with its
    name, the real-data floor dashed, and a legend of families."""
    words = {**FIGURE_TEXT, **(text or {})}
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font, small, big = (ImageFont.load_default(size=s) for s in (15, 13, 19))
    draw.text((width // 2, 16), words["title"], fill="black", font=big, anchor="mt")
    points = plotted(rows)
    datasets = [d for d in DATASETS if any(r.dataset == d for r in points)]
    if not datasets:
        draw.text((width // 2, height // 2), words["empty"], fill="black", font=font, anchor="mm")
        return image
    families = [f for f in REGISTRY if any(r.family == f for r in points)]
    x = 20  # the legend, left to right under the title
    for family in families:
        draw.ellipse((x, 52, x + 12, 64), fill=family_colour(family))
        draw.text((x + 18, 58), REGISTRY[family].label, fill="black", font=font, anchor="lm")
        x += 34 + int(draw.textlength(REGISTRY[family].label, font=font))
    draw.line((x, 58, x + 24, 58), fill=FLOOR_COLOUR, width=2)
    draw.text((x + 30, 58), words["floor"], fill="black", font=font, anchor="lm")
    margin_l, margin_r, top, bottom = 80, 30, 110, height - 70
    panel_w = (width - margin_l - margin_r - 60 * (len(datasets) - 1)) // len(datasets)
    for i, dataset in enumerate(datasets):
        left = margin_l + i * (panel_w + 60)
        right = left + panel_w
        mine = [r for r in points if r.dataset == dataset]
        floor = next((r.floor for r in rows if r.dataset == dataset and r.floor), None)
        xs = [r.sample_ms for r in mine]
        ys = [r.frechet_distance for r in mine] + ([floor] if floor else [])
        x_lo, x_hi = math.log10(min(xs)) - 0.35, math.log10(max(xs)) + 0.35
        y_lo, y_hi = math.log10(min(ys)) - 0.2, math.log10(max(ys)) + 0.25

        def px(v: float, lo=x_lo, hi=x_hi, left=left, right=right) -> float:
            return left + (math.log10(v) - lo) / (hi - lo) * (right - left)

        def py(v: float, lo=y_lo, hi=y_hi) -> float:
            return bottom - (math.log10(v) - lo) / (hi - lo) * (bottom - top)

        for t in _log_ticks(10**x_lo, 10**x_hi):
            draw.line((px(t), top, px(t), bottom), fill="#e6e6e6")
            draw.text((px(t), bottom + 6), _tick_text(t), fill="black", font=small, anchor="mt")
        for t in _log_ticks(10**y_lo, 10**y_hi):
            draw.line((left, py(t), right, py(t)), fill="#e6e6e6")
            draw.text((left - 6, py(t)), _tick_text(t), fill="black", font=small, anchor="rm")
        draw.rectangle((left, top, right, bottom), outline="black")
        draw.text(((left + right) // 2, top - 10), dataset, fill="black", font=font, anchor="mb")
        draw.text(((left + right) // 2, bottom + 28), words["x"], fill="black", font=font, anchor="mt")
        if floor:
            for start in range(int(left), int(right), 12):
                draw.line((start, py(floor), min(start + 6, right), py(floor)), fill=FLOOR_COLOUR, width=2)
        taken: list[tuple[float, float, float, float]] = []  # boxes of the names drawn so far
        for r in mine:
            cx, cy = px(r.sample_ms), py(r.frechet_distance)
            draw.ellipse((cx - 6, cy - 6, cx + 6, cy + 6), fill=family_colour(r.family), outline="white")
        for r in mine:
            cx, cy = px(r.sample_ms), py(r.frechet_distance)
            box = _free_label_box(cx, cy, draw.textlength(r.name, font=small), 14, (left, right), taken)
            taken.append(box)
            draw.text((box[0], box[1]), r.name, fill="black", font=small, anchor="lt")
    label = Image.new("RGB", (bottom - top, 22), "white")
    ImageDraw.Draw(label).text(((bottom - top) // 2, 11), words["y"], fill="black", font=font, anchor="mm")
    image.paste(label.rotate(90, expand=True), (8, top))
    return image


__all__ = ["Row", "Leaders", "BENCH_FILE", "SAMPLING_N", "HEADERS", "FIGURE_TEXT", "collect_rows", "read_bench",
           "generator_checkpoints", "markdown_table", "table_records", "table_cells", "leaders", "figure",
           "figure_png", "plotted", "family_colour", "config_digest", "sampler_settings", "parameter_count"]
