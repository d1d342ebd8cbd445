"""Class run (issue 17): a teacher trains one model and every connected browser watches it live.

One training run, in one background thread, is folded into one frame at a time (status, the two
loss charts, the sample grid, the class histogram, the warning; in English and in Chinese), at
most every ``PUBLISH_EVERY`` seconds and after every step the teacher takes by hand. A frame holds
its values ready to send: the charts serialized once as Plotly JSON, the grid a PNG written
once. Each viewer holds one stream (an async generator: no thread while it waits) that sends it
every frame it has not had, and gradio's stream sends only what changed since its last one, so a
viewer costs a send per frame, never a computation: ``scripts/class_run_viewers.py`` measures
1 against 30 viewers.

The teacher unlocks the controls with the passcode the server was started with
(``AIGC_TEACHER_CODE``); the session that unlocked may start a run, pause it, take single steps,
change the learning rates, end it, and hold or allow students' own runs in the Train tab.
Without a passcode the tab only says how to turn class runs on, and the app behaves as before.
Wrong passcodes are counted: after ``MAX_WRONG`` in ``LOCKOUT_SECONDS`` no code is taken until
the window has passed (an unlocked teacher is not affected).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.plot import PlotData

from aigc_models import data as data_mod
from aigc_models.models import REGISTRY
from aigc_models.run_control import RunControl
from aigc_models.training import (
    CheckpointSaved,
    Done,
    Samples,
    Started,
    TrainConfig,
    check_setting,
    train,
)
from ui import common
from ui import train as train_tab
from ui.errors import UserError, log
from ui.i18n import t

TEACHER_ENV = "AIGC_TEACHER_CODE"
MAX_SECONDS = float(os.environ.get("AIGC_CLASS_MAX_SECONDS", "1800"))  # training time of a class run (pauses not counted)
MAX_STEPS = 100_000
PUBLISH_EVERY = 0.5  # seconds between frames while the run trains
POLL = 0.05  # seconds between a viewer's looks at the latest frame
HISTORY = 64  # frames kept, so a viewer that looks late is sent each one it missed, in order
WATCH_SECONDS = 3 * 3600  # a viewer's stream ends after this ("Watch" starts another)
MAX_TEACHERS = 8  # sessions that unlocked the controls, the most recent kept
MAX_WRONG, LOCKOUT_SECONDS = 10, 60.0
LANGUAGES = ("en", "zh")
RATE_NAMES = {"lr_g": "lr G", "lr_d": "lr D", "lr": "lr"}
PARTS = ("status", "loss", "scores", "grid", "hist", "warning")  # a frame's parts, in the tab's output order


def teacher_code() -> str:
    """The passcode class runs need ('' = class runs are off)."""
    return os.environ.get(TEACHER_ENV, "").strip()


# no legend: the component's label names the colours (as in the Train tab), and a legend sat under it
LAYOUT = {"height": 300, "margin": {"l": 50, "r": 10, "t": 30, "b": 40}, "paper_bgcolor": "white",
          "plot_bgcolor": "white", "font": {"size": 13}, "showlegend": False}
AXIS = {"gridcolor": "#e5e5e5", "zeroline": False}


def line_figure(table: Any, y_title: str) -> dict[str, Any] | None:
    """A long table (step, value, series) as a Plotly figure (a plain dict: built in a millisecond,
    where ``plotly.graph_objects`` took 20) in the Train tab's colours; None for None."""
    if table is None:
        return None
    data = [{"type": "scatter", "mode": "lines", "name": str(series), "x": part["step"].tolist(),
             "y": part["value"].tolist(),
             "line": {"color": train_tab.SERIES_COLOURS.get(str(series), "#888888"), "width": 2}}
            for series, part in table.groupby("series", sort=False)]
    return {"data": data, "layout": {**LAYOUT, "xaxis": {**AXIS, "title": {"text": "step"}},
                                     "yaxis": {**AXIS, "title": {"text": y_title}}}}


def bar_figure(table: Any) -> dict[str, Any] | None:
    """The class histogram (class, share) as Plotly bars on a 0-1 axis; None for None."""
    if table is None:
        return None
    data = [{"type": "bar", "x": table["class"].astype(str).tolist(), "y": table["share"].tolist(),
             "marker": {"color": "#4c78a8"}}]
    return {"data": data, "layout": {**LAYOUT, "margin": {**LAYOUT["margin"], "b": 60},
                                     "xaxis": {**AXIS, "type": "category"},
                                     "yaxis": {**AXIS, "range": [0, 1], "title": {"text": "share"}}}}


def plot_data(figure: dict[str, Any]) -> PlotData:
    """A figure as ``gr.Plot`` takes it (and passes on as it is): one JSON string, made once per frame
    for every viewer. Gradio's per-viewer pass over a frame's outputs crosses a string at once; a
    native plot's table of rows cost it one visit per number: 38 % of the server's Python time with
    30 viewers."""
    return PlotData(type="plotly", plot=json.dumps(figure))


@dataclass
class Frame:
    """What every viewer is shown: per language, each part's value as the page takes it (the charts
    already serialized, the grid a PNG file), so sending it to a viewer computes nothing."""

    seq: int = 0
    values: dict[str, dict[str, Any]] = field(default_factory=lambda: {lang: {} for lang in LANGUAGES})


class ClassRun:
    """The server's one class run: its control, its views, the latest frame, and who may steer it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.control: RunControl | None = None
        self.thread: threading.Thread | None = None
        self.cfg: TrainConfig | None = None
        self.views: dict[str, train_tab.LiveView] = {}
        self.frame = Frame()
        self.history: deque[Frame] = deque(maxlen=HISTORY)
        self.students_allowed = True
        self.teachers: OrderedDict[str, float] = OrderedDict()
        self.wrong: deque[float] = deque()
        self.folder = Path(tempfile.mkdtemp(prefix="aigc-class-"))  # the grid's PNG, written once per frame
        self._shown: dict[str, Any] = {}  # what the frame's charts and grid were made from
        self.encoders: dict[str, Callable[[Any], Any]] = {part: plot_data for part in ("loss", "scores", "hist")}
        self.publish()  # a viewer who connects first reads "none yet"

    # ------------------------------------------------------------------ who may steer
    def unlock(self, session: str, code: str) -> bool:
        """True when ``code`` is the passcode (``session`` may then steer); False when it is wrong.
        Raises ``UserError`` when class runs are off or too many wrong codes came lately."""
        expected = teacher_code()
        if not expected:
            raise UserError(f"Class runs are off on this server: start it with {TEACHER_ENV} set.")
        now = time.monotonic()
        with self.lock:
            while self.wrong and now - self.wrong[0] > LOCKOUT_SECONDS:
                self.wrong.popleft()
            if len(self.wrong) >= MAX_WRONG:
                raise UserError(f"Too many wrong passcodes: try again in {LOCKOUT_SECONDS:.0f} seconds.")
            if not hmac.compare_digest(str(code).strip().encode(), expected.encode()):
                self.wrong.append(now)
                log.info("class run: a wrong passcode")
                return False
            self.teachers[session] = now
            self.teachers.move_to_end(session)
            while len(self.teachers) > MAX_TEACHERS:
                self.teachers.popitem(last=False)
            return True

    def is_teacher(self, session: str) -> bool:
        return bool(teacher_code()) and session in self.teachers

    # ------------------------------------------------------------------ the run
    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, cfg: TrainConfig, on_end: Callable[[], None] = lambda: None) -> None:
        """Start ``cfg`` in a background thread, watched by everyone; refuses while one is running.
        ``on_end`` is called in that thread once the run has ended."""
        with self.lock:
            if self.running:
                raise ValueError("A class run is already going: end it first.")
            self.cfg, self.control = cfg, RunControl()
            self.views = {lang: train_tab.LiveView(cfg, cfg.out or "", "", lang) for lang in LANGUAGES}
            self.thread = threading.Thread(target=self._train, args=(cfg, self.control, on_end), daemon=True,
                                           name="class-run")
            self.thread.start()
        self.publish()

    def _train(self, cfg: TrainConfig, control: RunControl, on_end: Callable[[], None]) -> None:
        last = 0.0
        probe = train_tab.histogram_probe(cfg.dataset, REGISTRY[cfg.model].live_cost)
        try:
            for event in train(cfg, control=control, evaluator=probe):
                for view in self.views.values():
                    view.update(event)
                now = time.perf_counter()
                by_hand = control.single and isinstance(event, Samples)  # a step taken by hand: shown at once
                if now - last >= PUBLISH_EVERY or by_hand or isinstance(event, (Started, CheckpointSaved, Done)):
                    last = now
                    self.publish()
        except Exception as err:  # noqa: BLE001 - the class sees that the run ended, the log says why
            log.exception("class run failed")
            for lang, view in self.views.items():
                view.status = (f"全班训练出错停止：{err}" if lang == "zh" else f"The class run stopped on an error: {err}")
                view.ended = True
        finally:
            control.end()
            self.publish()
            on_end()

    def publish(self) -> None:
        """Fold the views into a new frame; the charts and the grid are rebuilt only when their content
        changed, once, from the English view (they have no words)."""
        with self.lock:
            old = self.frame
            frame = Frame(old.seq + 1, {lang: dict(old.values[lang]) for lang in LANGUAGES})
            for lang in LANGUAGES:
                view = self.views.get(lang)
                line = self.line(lang, frame.seq)
                frame.values[lang]["status"] = f"{line}\n\n{view.status}" if view else line
                frame.values[lang]["warning"] = view.warning if view else ""
            if not self.views:
                self._show_example(frame)
            elif self._shown.get("views") is not self.views:  # a new run: the example's or the last run's go
                self._shown = {"views": self.views}
                for part in ("loss", "scores", "grid", "hist"):
                    self._put(frame, part, None)
            view = self.views.get("en")
            if view is not None:
                rows = len(view.rows)
                if self._shown.get("plots") != rows:
                    self._shown["plots"] = rows
                    loss, scores = view.plots()
                    self._put(frame, "loss", line_figure(loss, "loss"))
                    self._put(frame, "scores", line_figure(scores, "mean"))
                if view.grid is not None and self._shown.get("grid") is not view.grid:
                    self._shown["grid"] = view.grid
                    self._put(frame, "grid", self._grid_file(view.grid, frame.seq))
                if view.hist is not None and self._shown.get("hist") is not view.hist:
                    self._shown["hist"] = view.hist
                    self._put(frame, "hist", bar_figure(view.hist))
            self.frame = frame
            self.history.append(frame)

    def _show_example(self, frame: Frame) -> None:
        """Before the first class run: the Train tab's recorded example run, said to be one, so that a
        class opening the tab has curves and samples to talk over (its parts are set once)."""
        examples = {lang: train_tab.recorded_example(lang, "class_example") for lang in LANGUAGES}
        if examples["en"] is None:
            return
        for lang, (sentence, *_parts) in examples.items():
            frame.values[lang]["status"] += f"\n\n{sentence}"
        if not self._shown.get("example"):
            self._shown["example"] = True
            _, loss, scores, grid, hist = examples["en"]
            self._put(frame, "loss", line_figure(loss, "loss"))
            self._put(frame, "scores", line_figure(scores, "mean"))
            self._put(frame, "grid", self._grid_file(grid, frame.seq))
            if hist is not None:
                self._put(frame, "hist", bar_figure(hist))

    def since(self, seq: int) -> list[Frame]:
        """The frames after ``seq`` still kept, oldest first (just the latest for a new viewer, ``seq`` < 0)."""
        with self.lock:
            if seq < 0:
                return [self.frame]
            return [frame for frame in self.history if frame.seq > seq]

    def _put(self, frame: Frame, part: str, value: Any) -> None:
        encode = self.encoders.get(part)
        if encode is not None and value is not None:
            value = encode(value)
        for lang in LANGUAGES:
            frame.values[lang][part] = value

    def _grid_file(self, grid: Any, seq: int) -> str:
        """The grid as a PNG, encoded once for every viewer; grids older than a minute are deleted
        (each viewer was sent a copy in gradio's cache)."""
        path = self.folder / f"grid-{seq}.png"
        grid.save(path)
        for old in self.folder.glob("grid-*.png"):
            if old != path and old.stat().st_mtime < time.time() - 60:
                old.unlink(missing_ok=True)
        return str(path)

    def line(self, lang: str, seq: int) -> str:
        """The first line every viewer reads: who runs it, its state, its learning rates, the students' switch."""
        said = train_tab.words(lang)
        students = said["class_students_on" if self.students_allowed else "class_students_off"]
        if self.control is None or self.cfg is None:
            return said["class_none"].format(students=students, seq=seq)
        state = ("class_state_ended" if self.control.ended else
                 "class_state_paused" if self.control.paused else "class_state_running")
        rates = self.rates()
        shown = " · ".join(f"{RATE_NAMES[name]} {value:g}" for name, value in rates.items())
        return said["class_line"].format(model=REGISTRY[self.cfg.model].label, dataset=self.cfg.dataset,
                                         state=said[state], rates=shown, students=students, seq=seq)

    def rates(self) -> dict[str, float]:
        """The run's learning rates now (the latest asked for)."""
        cfg = self.cfg
        if cfg is None:
            return {}
        names = ("lr_g", "lr_d") if REGISTRY[cfg.model].objective == "gan" else ("lr",)
        return {name: getattr(cfg, name) for name in names}


CLASS = ClassRun()


# ----------------------------------------------------------------------------- handlers


def _teacher(request: gr.Request | None) -> tuple[str, str]:
    """(session, language) of a request that may steer, else a refusal in the page's language."""
    lang = common.language(request)
    session = train_tab.session_key(request)
    if not CLASS.is_teacher(session):
        raise common.refuse(lang, "Unlock the teacher's controls with the passcode first.", "请先用口令解锁教师控制。")
    return session, lang


def unlock(code: str | None, request: gr.Request | None = None) -> str:
    """Take the passcode; the session may steer the class run from now on."""
    lang = common.language(request)
    if not CLASS.unlock(train_tab.session_key(request), code or ""):
        raise common.refuse(lang, "That is not the passcode.", "口令不对。")
    return train_tab.words(lang)["class_unlocked"]


def start(family: str, dataset: str, steps: float, seed: float,
          request: gr.Request | None = None) -> tuple[str, float, float, float]:
    """Start a class run of ``family`` on ``dataset`` with its shipped recipe (the Train tab's), ``steps``
    steps. Returns (what happened, and the run's learning rates G, D and single, for the rate boxes)."""
    _, lang = _teacher(request)
    train_tab.check_family_choice(family)
    dataset = common.check_dataset(dataset)
    if CLASS.running:
        raise common.refuse(lang, "A class run is already going: end it first.", "全班训练已在进行：请先结束它。")
    try:
        steps = int(check_setting("steps", steps))
        if steps > MAX_STEPS:
            raise ValueError(f"Steps: at most {MAX_STEPS:,} for a class run.")
    except ValueError as err:
        raise UserError(str(err)) from None
    try:
        data_mod.load_split(dataset, train=True)
    except data_mod.DatasetUnavailableError as err:
        raise UserError(common.dataset_unavailable(dataset)) from err
    batch, lr_g, lr_d, lr, beta1, beta2, loss, ema, _note = train_tab.recipe_form(family, dataset)
    ticket = train_tab.TICKETS.reserve("class", f"class-{train_tab.run_name(None, family, dataset)}", common.runs_dir())
    train_tab.TICKETS.start(ticket)
    try:
        out = str(common.runs_dir() / ticket.folder)
        cfg = train_tab.make_config(family, dataset, steps, batch, lr_g, lr_d, lr, beta1, beta2, loss, False, ema,
                                    seed, out)
        cfg.max_seconds, cfg.save_every, cfg.command = MAX_SECONDS, train_tab.SAVE_EVERY, "app.py (Class run tab)"
        train_tab.make_room(out)
        CLASS.start(cfg, on_end=lambda: train_tab.TICKETS.finish(ticket, Path(out).exists()))
    except BaseException as err:  # the folder name is free again
        train_tab.TICKETS.finish(ticket, False)
        if isinstance(err, ValueError) and not isinstance(err, UserError):
            raise UserError(str(err)) from None
        raise
    return train_tab.words(lang)["class_started"].format(run=ticket.folder), cfg.lr_g, cfg.lr_d, cfg.lr


def _control(lang: str) -> RunControl:
    control = CLASS.control
    if control is None or control.ended or not CLASS.running:
        raise common.refuse(lang, "No class run is going: start one first.", "没有进行中的全班训练：请先开始一个。")
    return control


def pause(request: gr.Request | None = None) -> str:
    _, lang = _teacher(request)
    _control(lang).pause()
    CLASS.publish()
    return train_tab.words(lang)["class_paused"]


def resume(request: gr.Request | None = None) -> str:
    _, lang = _teacher(request)
    _control(lang).resume()
    CLASS.publish()
    return train_tab.words(lang)["class_resumed"]


def one_step(request: gr.Request | None = None) -> str:
    """One training step of a paused run (pauses a running one first); every viewer sees it at once."""
    _, lang = _teacher(request)
    taken = _control(lang).step_and_wait()
    if taken is None:
        raise common.refuse(lang, "The step was not taken: the run ended or is busy; try again.",
                            "这一步没有完成：训练已结束或正忙，请再试一次。")
    return train_tab.words(lang)["class_stepped"].format(step=taken)


def end(request: gr.Request | None = None) -> str:
    _, lang = _teacher(request)
    _control(lang).end()
    return train_tab.words(lang)["class_ending"]


def set_rates(lr_g: float, lr_d: float, lr: float, request: gr.Request | None = None) -> str:
    """New learning rates for the running class run, from its next step (those the model has)."""
    _, lang = _teacher(request)
    control = _control(lang)
    names = CLASS.rates()
    asked = {name: value for name, value in (("lr_g", lr_g), ("lr_d", lr_d), ("lr", lr)) if name in names}
    try:
        checked = control.set_learning_rates(**asked)
    except ValueError as err:
        raise UserError(str(err)) from None
    if CLASS.cfg is not None:
        for name, value in checked.items():
            setattr(CLASS.cfg, name, value)
    CLASS.publish()
    shown = ", ".join(f"{RATE_NAMES[k]} {v:g}" for k, v in checked.items())
    return train_tab.words(lang)["class_rates_set"].format(rates=shown)


def allow_students(allowed: bool, request: gr.Request | None = None) -> str:
    """Allow (True) or hold (False) students' own runs in the Train tab."""
    _, lang = _teacher(request)
    CLASS.students_allowed = bool(allowed)
    train_tab.STUDENTS_HELD.clear() if allowed else train_tab.STUDENTS_HELD.set()
    CLASS.publish()
    return train_tab.words(lang)["class_students_allowed" if allowed else "class_students_held"]


async def watch(request: gr.Request | None = None) -> AsyncIterator[tuple[Any, ...]]:
    """Stream the class run to one viewer: every frame since the last it was sent, oldest first,
    checked every ``POLL`` seconds, for ``WATCH_SECONDS``. No computation per viewer: the values are
    ready to send, and gradio's stream sends only what changed since the viewer's last frame.
    (Not ``gr.skip()`` for an unchanged part: gradio rebuilds the component for every skip; with the
    skips and native plots, 30 viewers cost 1.79 times one viewer's server CPU, against 1.30 now.)"""
    lang = common.language(request)
    seq = -1
    deadline = time.monotonic() + WATCH_SECONDS
    while time.monotonic() < deadline:
        for frame in CLASS.since(seq):
            seq = frame.seq
            yield tuple(frame.values[lang].get(part) for part in PARTS)
        await asyncio.sleep(POLL)


def build_tab() -> list[common.Picker]:
    """The viewer (everyone) and, when class runs are on, the teacher's controls."""
    gr.Markdown(t("class_intro"))
    if not teacher_code():
        gr.Markdown(t("class_off"), elem_id="class-off")
        return []
    with gr.Row():
        with gr.Column(scale=2):
            status = gr.Markdown(t("class_waiting"), elem_id="class-status")
            with gr.Row():
                loss_plot = gr.Plot(label=t("losses"), elem_id="class-loss")
                d_plot = gr.Plot(label=t("d_scores"), elem_id="class-scores")
            with gr.Row():
                grid = gr.Image(format="png", type="filepath", label=t("samples_fixed"), elem_id="class-grid",
                                elem_classes=["below-label"])  # the label and buttons above the first row (app.CSS)
                hist = gr.Plot(label=t("class_hist"), elem_id="class-hist")
            warning = gr.Markdown(elem_id="class-warning")
            again = gr.Button(t("class_watch"), size="sm", elem_id="class-watch")
        with gr.Column(scale=1):
            with gr.Accordion(t("class_teacher"), open=False, elem_id="class-teacher"):
                code = gr.Textbox(label=t("class_code"), type="password", elem_id="class-code")
                unlock_btn = gr.Button(t("class_unlock"), elem_id="class-unlock")
                family = gr.Radio(train_tab.family_choices(), value=train_tab.LIVE_DEFAULT_FAMILY, label=t("model"))
                dataset = gr.Radio(common.DATASET_CHOICES, value="mnist", label=t("dataset"))
                with gr.Row():
                    steps = train_tab.setting_number("steps", 3000, t("steps"), elem_id="class-steps")
                    seed = train_tab.setting_number("seed", 0, t("seed"))
                start_btn = gr.Button(t("class_start"), variant="primary", elem_id="class-start")
                with gr.Row():
                    pause_btn = gr.Button(t("class_pause"), elem_id="class-pause")
                    resume_btn = gr.Button(t("class_resume"), elem_id="class-resume")
                    step_btn = gr.Button(t("class_step"), elem_id="class-step")
                    end_btn = gr.Button(t("class_end"), variant="stop", elem_id="class-end")
                with gr.Row():
                    lr_g = train_tab.setting_number("lr_g", 2e-4, t("lr_g"), elem_id="class-lr-g")
                    lr_d = train_tab.setting_number("lr_d", 2e-4, t("lr_d"), elem_id="class-lr-d")
                    lr = train_tab.setting_number("lr", 1e-3, t("lr_vae"), elem_id="class-lr")
                rates_btn = gr.Button(t("class_rates"), elem_id="class-rates")
                students = gr.Checkbox(True, label=t("class_students"), elem_id="class-students")
                note = gr.Markdown(elem_id="class-note")
    outputs = [status, loss_plot, d_plot, grid, hist, warning]
    # queued (not queue=False): gradio shows a refusal's sentence in a toast only for queued events
    unlock_btn.click(unlock, [code], note, api_name="class_unlock")
    start_btn.click(start, [family, dataset, steps, seed], [note, lr_g, lr_d, lr], api_name="class_start")
    pause_btn.click(pause, None, note, api_name="class_pause")
    resume_btn.click(resume, None, note, api_name="class_resume")
    step_btn.click(one_step, None, note, api_name="class_step")
    end_btn.click(end, None, note, api_name="class_end")
    rates_btn.click(set_rates, [lr_g, lr_d, lr], note, api_name="class_rates")
    students.input(allow_students, [students], note, api_visibility="private")
    # one stream per viewer, all at once (no queueing behind each other), from page load on
    stream = {"concurrency_limit": None, "time_limit": WATCH_SECONDS + 60, "show_progress": "hidden"}
    again.click(watch, None, outputs, api_name="class_watch", **stream)
    root = gr.context.Context.root_block
    if root is not None:
        root.load(watch, None, outputs, api_visibility="private", **stream)
    return []
