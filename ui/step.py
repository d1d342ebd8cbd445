"""Step by step (issue 17): train a GAN one click at a time and see what each step changed, as
GAN Lab does on 2-D points, on real images. D step, G step, D+G step, slow motion (one full step
a second until Pause) and Reset; after each click: the fixed-noise samples before and after, D's
scores on a fixed batch of real images and on those fakes before and after (two histograms), the
gradient norm of each layer of the network that stepped, and one sentence on what changed.

The library does the work (``aigc_models.stepper.GANStepper``); this module only keeps each
visitor's stepper and draws its reports. Steppers live on the server, one per browser session,
in a bounded store (``StepperStore``: at most ``MAX_STEPPERS``, the least recently used dropped
first, its owner told at their next click) and are dropped when the page closes; never in
``gr.State``, where 200 sessions could hold 200 models and their optimisers.

Everything a visitor reads after a click is in the language their browser asks for
(``common.language``); the figures carry no words (their labels are translated)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import pandas as pd
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import validation
from aigc_models.checkpoints import CheckpointError
from aigc_models.models import DEFAULT_FAMILY, REGISTRY, families_with
from aigc_models.stepper import NETWORKS, GANStepper, Probe, StepReport
from ui import common
from ui.i18n import t
from ui.train import MAX_SECONDS, session_key

MAX_STEPPERS = 8  # steppers the server keeps at once (a DCGAN with Adam: about 10 MB; an MLP GAN: about 30 MB)
REMEMBER_DROPPED = 1024  # sessions whose stepper was dropped, remembered to tell them why
PACE = 1.0  # seconds between slow-motion steps (the tests set 0)
SLOW_MOTION_STEPS = 600  # a slow-motion run stops by itself after this many steps (10 minutes at PACE) ...
SLOW_MOTION_SECONDS = min(600.0, MAX_SECONDS)  # ... or this many seconds (the app's limit on a training run)
MAX_SEED = 2**31 - 1
SOURCES = ("scratch", "checkpoint")
BLUE, ORANGE = "#4c78a8", "#f58518"  # D / real images, G / fakes: the Train tab's colours
BINS = 20
LOOK = ["pixelated", "below-label"]  # crisp pixels, drawn below the label (app.CSS)


def families() -> tuple[str, ...]:
    """The tab's models: every family the registry gives a discriminator."""
    return families_with("discriminate")


def family_choices() -> list[tuple[str, str]]:
    return [(REGISTRY[name].label, name) for name in families()]


# ----------------------------------------------------------------------------- the store


@dataclass
class Entry:
    """One visitor's stepper and what was asked to build it."""

    stepper: GANStepper
    key: tuple[Any, ...]  # the form's settings it was built from
    name: dict[str, str]  # what it is, per language
    pause: threading.Event = field(default_factory=threading.Event)
    runner: object | None = None  # the slow-motion loop that drives it now, if any


class StepperStore:
    """At most ``capacity`` steppers, one per session; putting one more drops the least recently
    used (its slow motion stops) and remembers its session, so that its owner can be told."""

    def __init__(self, capacity: int = MAX_STEPPERS, remember: int = REMEMBER_DROPPED) -> None:
        self.capacity, self.remember = capacity, remember
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.dropped: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, session: str) -> Entry | None:
        """The session's entry (now the most recently used), or None."""
        with self.lock:
            entry = self.entries.get(session)
            if entry is not None:
                self.entries.move_to_end(session)
            return entry

    def holds(self, session: str, entry: Entry) -> bool:
        with self.lock:
            return self.entries.get(session) is entry

    def put(self, session: str, entry: Entry) -> None:
        """Keep ``entry`` for ``session`` (replacing its own), dropping the least recently used beyond capacity."""
        with self.lock:
            old = self.entries.pop(session, None)
            self.dropped.pop(session, None)
            self.entries[session] = entry
            gone = [old] if old is not None else []
            while len(self.entries) > self.capacity:
                victim, entry_gone = self.entries.popitem(last=False)
                gone.append(entry_gone)
                self.dropped[victim] = None
            while len(self.dropped) > self.remember:
                self.dropped.popitem(last=False)
        for g in gone:
            g.pause.set()  # its slow motion, if any, stops

    def was_dropped(self, session: str) -> bool:
        """Whether ``session``'s stepper was dropped to make room since it last built one (asked once)."""
        with self.lock:
            if session in self.dropped:
                del self.dropped[session]
                return True
            return False

    def forget(self, session: str) -> None:
        """The page closed: drop its stepper, with nothing to tell."""
        with self.lock:
            entry = self.entries.pop(session, None)
            self.dropped.pop(session, None)
        if entry is not None:
            entry.pause.set()


STORE = StepperStore()


# ----------------------------------------------------------------------------- checks, in both languages


refuse = common.refuse


@dataclass(frozen=True)
class Form:
    """The checked form: what to build."""

    source: str
    family: str
    dataset: str
    seed: int
    checkpoint: dict[str, Any] | None  # the discovered checkpoint (common.find_checkpoint) when source is "checkpoint"

    @property
    def key(self) -> tuple[Any, ...]:
        where = self.checkpoint["key"] if self.checkpoint else self.family
        return (self.source, where, self.dataset, self.seed)


def check_form(family: Any, dataset: Any, seed: Any, source: Any, checkpoint: Any, lang: str) -> Form:
    """Every input of the form checked, or a ``UserError`` in ``lang`` saying what is wrong."""
    if source not in SOURCES:
        raise refuse(lang, f"Start from must be scratch or checkpoint, got {validation.show(source)}.",
                     f"起点必须是 scratch（从头开始）或 checkpoint（检查点），收到的是 {validation.show(source)}。")
    if family not in families():
        listed = ", ".join(families())
        raise refuse(lang, f"Step-by-step training needs a GAN; choose one of {listed}, not {validation.show(family)}.",
                     f"单步训练需要 GAN；请从 {listed} 中选择，而不是 {validation.show(family)}。")
    if not isinstance(dataset, str) or dataset not in data_mod.DATASETS:
        listed = ", ".join(data_mod.DATASETS)
        raise refuse(lang, f"Unknown dataset {validation.show(dataset)}. Known datasets: {listed}.",
                     f"未知的数据集 {validation.show(dataset)}。可选：{listed}。")
    try:
        seed = validation.check_int(seed, "Seed", lo=0, hi=MAX_SEED)
    except ValueError as err:
        raise refuse(lang, str(err), f"种子必须是 0 到 {MAX_SEED} 之间的整数，收到的是 {validation.show(seed)}。") from None
    info = None
    if source == "checkpoint":
        info = common.picked_checkpoint(
            checkpoint, families(), lang,
            pick=("Pick a GAN checkpoint first (none is selected or none exists for this dataset), or start from scratch.",
                  "请先选择一个 GAN 检查点（还没有选择，或者这个数据集还没有），或者选择从头开始。"),
            needs=("{key} holds a {label} model, which has no discriminator; step-by-step training needs a GAN.",
                   "{key} 是{label}模型，没有判别器；单步训练需要 GAN。"))
        family = info["family"]
    return Form(source, family, dataset, seed, info)


def build(form: Form, lang: str) -> Entry:
    """A new stepper for ``form``; failures (no data here, a broken checkpoint) as a ``UserError``."""
    label = REGISTRY[form.family].label
    try:
        if form.checkpoint is not None:
            stepper = GANStepper.from_checkpoint(form.checkpoint["path"], dataset=form.dataset, seed=form.seed)
            # a checkpoint keeps weights only: Adam's moment estimates start from zero, so its first
            # steps move the weights more than the run's last steps did
            name = {"en": f"**{form.checkpoint['key']}** ({label}) on **{form.dataset}**, seed {form.seed} "
                          "(its optimiser starts afresh, so the first steps change more than later ones)",
                    "zh": f"**{form.checkpoint['key']}**（{label}），数据集 **{form.dataset}**，种子 {form.seed}"
                          "（优化器从零开始，所以最初几步的变化比后面的大）"}
        else:
            stepper = GANStepper.fresh(form.family, form.dataset, seed=form.seed)
            name = {"en": f"A new **{label}** (seed {form.seed}) on **{form.dataset}**",
                    "zh": f"新的 **{label}**（种子 {form.seed}），数据集 **{form.dataset}**"}
    except data_mod.DatasetUnavailableError as err:
        raise refuse(lang, common.dataset_unavailable(form.dataset),
                     f"本机没有 {form.dataset} 的图像（离线，{data_mod.data_root()} 下没有压缩包），所以无法训练；其他页面仍可使用。") from err
    except (CheckpointError, OSError, ValueError) as err:
        where = form.checkpoint["key"] if form.checkpoint else label
        raise refuse(lang, f"Could not start {where}: {err}", f"无法启动 {where}：{err}") from err
    return Entry(stepper, form.key, name)


DROPPED = {
    "en": ("Your earlier model was dropped to make room: this server keeps {n} step-by-step models at a time and "
           "yours had waited longest, so a new one starts from step 0."),
    "zh": "你之前的模型已被移除以腾出空间：服务器同时最多保留 {n} 个单步训练模型，你的闲置最久，所以新模型从第 0 步开始。",
}
CHANGED = {"en": "The settings changed, so a new model starts from step 0.", "zh": "设置已改变，所以新模型从第 0 步开始。"}


def obtain(family: Any, dataset: Any, seed: Any, source: Any, checkpoint: Any, request: gr.Request | None, *,
           renew: bool = False) -> tuple[Entry, str]:
    """The session's stepper for the form's settings, built when it has none, when the settings
    changed, or when ``renew`` (Reset); with a note for the visitor ("" when nothing to say)."""
    lang = common.language(request)
    form = check_form(family, dataset, seed, source, checkpoint, lang)
    session = session_key(request)
    entry = STORE.get(session)
    if entry is not None and entry.key == form.key and not renew:
        return entry, ""
    dropped = STORE.was_dropped(session)
    fresh = build(form, lang)
    STORE.put(session, fresh)
    if dropped:
        said = DROPPED[lang].format(n=STORE.capacity)
        gr.Warning(said)
        return fresh, said
    return fresh, CHANGED[lang] if entry is not None and entry.key != form.key else ""


# ----------------------------------------------------------------------------- views


def score_figure(probe: Probe, top: float) -> Any:
    """D's scores as a histogram in ``BINS`` bins over [0, 1]: the real images' (blue) over the
    fakes' (orange), each bar the share of its images, dashed lines at the means; y up to ``top``.
    No words in it (the component's label says what it is, in the page's language)."""
    import plotly.graph_objects as go

    centres = [(i + 0.5) / BINS for i in range(BINS)]
    fig = go.Figure()
    for scores, colour, name in ((probe.real_scores, BLUE, "D(x)"), (probe.fake_scores, ORANGE, "D(G(z))")):
        fig.add_bar(x=centres, y=shares(scores), name=name, marker_color=colour, opacity=0.65, width=1 / BINS,
                    hovertemplate="%{y:.0%}<extra>" + name + "</extra>")
        fig.add_vline(x=float(scores.mean()), line_color=colour, line_dash="dash", line_width=2)
    fig.update_layout(barmode="overlay", template="none", plot_bgcolor="white", paper_bgcolor="white", height=260,
                      margin={"l": 45, "r": 15, "t": 45, "b": 30}, bargap=0,  # the top clear of the label
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
                      xaxis={"range": [0, 1], "dtick": 0.1, "showline": True, "linecolor": "black", "gridcolor": "#e6e6e6"},
                      yaxis={"range": [0, top], "tickformat": ".0%", "showline": True, "linecolor": "black",
                             "gridcolor": "#e6e6e6"})
    return fig


def shares(scores: torch.Tensor) -> list[float]:
    """The share of ``scores`` (in [0, 1]) in each of ``BINS`` equal bins (1.0 falls in the last)."""
    idx = (scores.float() * BINS).long().clamp(0, BINS - 1)
    return (torch.bincount(idx, minlength=BINS).float() / max(len(scores), 1)).tolist()


def grid(probe: Probe) -> Image.Image:
    conditional = len(probe.samples) == 100
    return common.to_grid(probe.samples, nrow=10 if conditional else 8, target=400)


def grad_frame(report: StepReport | None) -> pd.DataFrame | None:
    """The gradient norms as a table for ``gr.BarPlot``, in the networks' order: layer
    ("D · features.0 (Linear)"), norm, net ("D" or "G"); None before the first step.

    A network that did not step gets one bar of height 0 at the first layer: Gradio builds a
    chart's colours from the first table it shows and afterwards only swaps the data, so a G
    step after a D step would otherwise draw colourless (invisible) bars."""
    if report is None:
        return None
    rows = [(f"{net} · {layer}", value, net) for net, norms in report.grad_norms.items() for layer, value in norms.items()]
    rows += [(rows[0][0], 0.0, net) for net in NETWORKS if net not in report.grad_norms]
    return pd.DataFrame(rows, columns=["layer", "norm", "net"]).astype({"layer": "str", "norm": "float64", "net": "str"})


def moved(a: float, b: float, lang: str) -> str:
    """'rose from 0.61 to 0.66' / 'fell …' / 'stayed at 0.61', in ``lang``; a change too small
    for two decimals is shown with three ('fell from 0.507 to 0.506')."""
    digits = 2 if f"{a:.2f}" != f"{b:.2f}" else 3
    x, y = f"{a:.{digits}f}", f"{b:.{digits}f}"
    if x == y:
        return f"保持 {x}" if lang == "zh" else f"stayed at {x}"
    if lang == "zh":
        return f"从 {x} {'升' if b > a else '降'}到 {y}"
    return f"{'rose' if b > a else 'fell'} from {x} to {y}"


def reading(report: StepReport, lang: str) -> str:
    """One sentence on what the step changed: D's mean scores on the real and the fake probe
    images, and how far the samples moved (or that they did not: G did not step)."""
    b, a = report.before, report.after
    real = moved(float(b.real_scores.mean()), float(a.real_scores.mean()), lang)
    fake = moved(float(b.fake_scores.mean()), float(a.fake_scores.mean()), lang)
    change = float((a.samples - b.samples).abs().mean())
    count = report.step_count
    if report.stepped == ("D",):
        if lang == "zh":
            return f"D 第 {count['D']} 步：D 对真实图像的平均分{real}，对生成图像的平均分{fake}；样本没有变化（G 没有更新）。"
        return (f"D step {count['D']}: D's mean score on real images {real}; on fakes it {fake}; the samples did not "
                "change (G did not step).")
    samples_zh = f"样本平均每个像素变化 {change:.3f}（像素取值 −1 到 1）"
    samples_en = f"the samples moved by {change:.3f} per pixel on average (pixels run from −1 to 1)"
    if report.stepped == ("G",):
        if lang == "zh":
            return f"G 第 {count['G']} 步：D 对生成图像的平均分{fake}，对真实图像的平均分{real}；{samples_zh}。"
        return f"G step {count['G']}: D's mean score on fakes {fake}; on real images it {real}; {samples_en}."
    if lang == "zh":
        return f"第 {count['D']} 步（先 D 后 G）：D 对真实图像的平均分{real}，对生成图像的平均分{fake}；{samples_zh}。"
    return f"Step {count['D']} (D then G): D's mean score on real images {real}; on fakes it {fake}; {samples_en}."


def status(entry: Entry, report: StepReport | None, lang: str, note: str = "") -> str:
    """A Markdown line: which model, how many steps each network took, the last losses, and ``note``."""
    count = entry.stepper.step_count
    losses = report.losses if report is not None else {}
    shown = " · ".join(f"{name} {losses[key]:.3f}" for key, name in (("loss_d", "loss D"), ("loss_g", "loss G"))
                       if key in losses)
    if lang == "zh":
        line = f"{entry.name['zh']} · D 已更新 **{count['D']}** 步，G **{count['G']}** 步"
        line += f" · 这一步的损失：{shown}" if shown else ""
    else:
        line = f"{entry.name['en']} · steps taken: D **{count['D']}**, G **{count['G']}**"
        line += f" · this step's losses: {shown}" if shown else ""
    return f"{line}\n\n{note}" if note else line


def pictures(before: Probe, after: Probe) -> tuple[Any, ...]:
    """(before grid, after grid, before histogram, after histogram), both histograms on one y scale."""
    top = max(max(shares(p.real_scores) + shares(p.fake_scores)) for p in (before, after))
    top = min(1.0, top * 1.1 + 0.02)
    return grid(before), grid(after), score_figure(before, top), score_figure(after, top)


def view(entry: Entry, report: StepReport | None, lang: str, note: str = "") -> tuple[Any, ...]:
    """The tab's outputs: (status, reading, before grid, after grid, before histogram, after
    histogram, gradient norms). Without a report (a new model): the current probe on both sides."""
    if report is None:
        probe = entry.stepper.probe()
        idle = ("还没有走任何一步：点击 **D 单步**、**G 单步** 或 **D+G 单步**。" if lang == "zh" else
                "No step yet: click **D step**, **G step** or **D+G step**.")
        return (status(entry, None, lang, note), idle, *pictures(probe, probe), None)
    return (status(entry, report, lang, note), reading(report, lang), *pictures(report.before, report.after),
            grad_frame(report))


# ----------------------------------------------------------------------------- handlers


def _click(kind: str, form: tuple[Any, ...], request: gr.Request | None) -> tuple[Any, ...]:
    lang = common.language(request)
    entry, note = obtain(*form, request)
    report = {"d": entry.stepper.d_step, "g": entry.stepper.g_step, "dg": entry.stepper.step}[kind]()
    return view(entry, report, lang, note)


def d_step(family: str, dataset: str, seed: float, source: str, checkpoint: str | None,
           request: gr.Request | None = None) -> tuple[Any, ...]:
    """One D step of this session's GAN (built from the form at the first click); returns the
    view (``view``)."""
    return _click("d", (family, dataset, seed, source, checkpoint), request)


def g_step(family: str, dataset: str, seed: float, source: str, checkpoint: str | None,
           request: gr.Request | None = None) -> tuple[Any, ...]:
    """One G step of this session's GAN; returns the view (``view``)."""
    return _click("g", (family, dataset, seed, source, checkpoint), request)


def dg_step(family: str, dataset: str, seed: float, source: str, checkpoint: str | None,
            request: gr.Request | None = None) -> tuple[Any, ...]:
    """One full training step (D then G on the same fakes); returns the view (``view``)."""
    return _click("dg", (family, dataset, seed, source, checkpoint), request)


def reset(family: str, dataset: str, seed: float, source: str, checkpoint: str | None,
          request: gr.Request | None = None) -> tuple[Any, ...]:
    """A new model from the form, at step 0 (a slow motion in progress stops); returns the view."""
    lang = common.language(request)
    entry, note = obtain(family, dataset, seed, source, checkpoint, request, renew=True)
    return view(entry, None, lang, note if note != CHANGED[lang] else "")


def slow_motion(family: str, dataset: str, seed: float, source: str, checkpoint: str | None,
                request: gr.Request | None = None, pace: float | None = None) -> Iterator[tuple[Any, ...]]:
    """Full steps one after another, a view after each, ``pace`` seconds apart (``PACE``; the
    tests pass 0), until Pause, Reset, the page closing, another slow motion of the same session,
    ``SLOW_MOTION_STEPS`` steps or ``SLOW_MOTION_SECONDS``. The last view says why it stopped."""
    lang = common.language(request)
    session = session_key(request)
    entry, note = obtain(family, dataset, seed, source, checkpoint, request)
    me = object()
    entry.runner = me
    entry.pause.clear()
    pace = PACE if pace is None else pace
    taken, report, begun, limit = 0, None, time.monotonic(), False
    try:
        while True:
            if entry.pause.is_set() or entry.runner is not me or not STORE.holds(session, entry):
                break
            if taken >= SLOW_MOTION_STEPS or time.monotonic() - begun >= SLOW_MOTION_SECONDS:
                limit = True
                break
            report = entry.stepper.step()
            taken += 1
            yield view(entry, report, lang, note)
            note = ""
            if entry.pause.wait(pace) if pace > 0 else entry.pause.is_set():
                break
    finally:  # also when gradio closes the generator (the request was cancelled)
        mine = entry.runner is me
        if mine:
            entry.runner = None
    if mine and STORE.holds(session, entry):  # not replaced: say where it stopped
        why = ((f"慢动作在 {taken} 步后自动停止。" if limit else f"暂停：慢动作走了 {taken} 步。") if lang == "zh" else
               (f"Slow motion stopped by itself after {taken} steps." if limit
                else f"Paused after {taken} slow-motion steps."))
        skip = gr.skip()
        yield (status(entry, report, lang, why), skip, skip, skip, skip, skip, skip)


def pause(request: gr.Request | None = None) -> None:
    """Stop this session's slow motion after the step in progress."""
    entry = STORE.get(session_key(request))
    if entry is None or entry.runner is None:
        lang = common.language(request)
        gr.Info("慢动作没有在运行。" if lang == "zh" else "Slow motion is not running.")
        return
    entry.pause.set()


def forget(request: gr.Request) -> None:
    """The page closed: drop its stepper now."""
    STORE.forget(session_key(request))


def preview(family: str, dataset: str, seed: float, source: str, checkpoint: str | None) -> tuple[Any, ...]:
    """What a new model from these settings shows before any step (on open; cached by argument,
    kept in no store): (before grid, after grid, before histogram, after histogram)."""
    entry = build(check_form(family, dataset, seed, source, checkpoint, "en"), "en")
    probe = entry.stepper.probe()
    return pictures(probe, probe)


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The step-by-step tab; returns its checkpoint picker."""
    gr.Markdown(t("step_intro"))
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            family = gr.Radio(family_choices(), value=families()[0], label=t("step_family"), elem_id="step-family")
            source = gr.Radio([(t("from_scratch"), "scratch"), (t("from_checkpoint"), "checkpoint")], value="scratch",
                              label=t("step_source"), elem_id="step-source")
            pick = common.picker(families(), prefer=lambda info: info["family"] == DEFAULT_FAMILY)
            seed = gr.Number(0, precision=0, minimum=0, maximum=MAX_SEED, label=t("seed"), elem_id="step-seed")
            with gr.Row():  # two a row: each label stays on one line at 1024 px
                d = gr.Button(t("d_step"), variant="primary", elem_id="step-d", min_width=100)
                g = gr.Button(t("g_step"), variant="primary", elem_id="step-g", min_width=100)
            with gr.Row():
                dg = gr.Button(t("dg_step"), variant="primary", elem_id="step-dg", min_width=100)
                again = gr.Button(t("reset"), elem_id="step-reset", min_width=100)
            with gr.Row():
                slow = gr.Button(t("slow_motion"), elem_id="step-slow", min_width=100, scale=3)  # its longer label
                stop = gr.Button(t("pause"), variant="stop", elem_id="step-pause", min_width=80, scale=2)
        with gr.Column(scale=5):
            state = gr.Markdown(t("step_idle"), elem_id="step-status")
            said = gr.Markdown(elem_id="step-reading")
            with gr.Row():
                before = gr.Image(format="png", type="pil", label=t("step_before"), elem_id="step-before",
                                  elem_classes=LOOK, buttons=["fullscreen"], height=330)
                after = gr.Image(format="png", type="pil", label=t("step_after"), elem_id="step-after",
                                 elem_classes=LOOK, buttons=["fullscreen"], height=330)
            gr.Markdown(t("scores_note"))
            with gr.Row():
                hist_before = gr.Plot(label=t("scores_before"), elem_id="step-hist-before")
                hist_after = gr.Plot(label=t("scores_after"), elem_id="step-hist-after")
            grads = gr.BarPlot(x="layer", y="norm", color="net", label=t("grad_norms"), height=400,
                               color_map={"D": BLUE, "G": ORANGE}, colors_in_legend=[], x_title=" ",
                               y_title="‖∇‖", x_label_angle=-90, sort=None,  # None: the networks' order
                               elem_id="step-grads")
    form = [family, pick.dataset, seed, source, pick.checkpoint]
    outputs = [state, said, before, after, hist_before, hist_after, grads]
    d.click(d_step, form, outputs, api_name="step_d", concurrency_id="step")
    g.click(g_step, form, outputs, api_name="step_g", concurrency_id="step")
    dg.click(dg_step, form, outputs, api_name="step_dg", concurrency_id="step")
    slow.click(slow_motion, form, outputs, api_name="step_slow_motion", concurrency_limit=MAX_STEPPERS,
               concurrency_id="step-slow", time_limit=int(SLOW_MOTION_SECONDS) + 120)
    stop.click(pause, None, None, api_name="step_pause", queue=False)
    again.click(reset, form, outputs, api_name="step_reset", concurrency_id="step")
    common.on_open(preview, form, outputs[2:6])
    root = gr.context.Context.root_block
    if root is not None:
        root.unload(forget)  # a closed page's stepper goes at once
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.queue().launch(i18n=I18N)
