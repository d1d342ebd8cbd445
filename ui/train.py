"""Tab 6, train: one run at a time across the app, streamed live (loss curves,
D's mean scores, a sample grid from fixed noise, speed and time left, and the
classifier's class histogram of fresh samples with a mode-collapse warning).

The app never touches an optimizer: it builds a ``TrainConfig``, iterates
``aigc_models.training.train`` and turns its events into views. Stop asks the
trainer to end early *and save*; closing the page aborts (the run keeps only its
last periodic save). Runs are saved under ``common.runs_dir()``, whose oldest
runs are pruned before each new run to stay under ``$AIGC_RUNS_MAX_MB``. A run
that diverges (NaN losses, D winning outright) stops and says why in plain words.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import metrics, validation
from aigc_models import presets as presets_mod
from aigc_models.checkpoints import SHIPPED_DIR, CheckpointError
from aigc_models.models import LIVE_DEFAULT_FAMILY, REGISTRY, families_with
from aigc_models.training import (CheckpointSaved, Done, Metrics, Samples, Started, Step, TrainConfig, device_label,
                                  live_view_settings, resolve_device, setting_bounds, shipped_recipe, train)
from ui import common
from ui.errors import UserError
from ui.i18n import EN, ZH, t
from ui.run_tickets import NAME_PATTERN, RunTickets, Ticket
from ui.runs_folder import prune_runs



def family_choices() -> list[tuple[str, str]]:
    """(label, name) of every family the registry marks trainable in the app (``train_live``)."""
    return [(REGISTRY[name].label, name) for name in families_with("train_live")]

MAX_SECONDS = float(os.environ.get("AIGC_TRAIN_MAX_SECONDS", "600"))
UPDATE_EVERY = 0.5  # seconds between UI updates (at least one a second)
HIST_SAMPLES = 500
PLOT_POINTS = 400
# Fixed colours, named in the plots' labels: Gradio draws the legend below a fixed-height
# chart, where it is cut off. Blue is D (or the reconstruction, or the ELBO), orange is G.
BLUE, ORANGE = "#4c78a8", "#f58518"
SERIES_COLOURS = {"loss_d": BLUE, "loss_g": ORANGE, "recon": BLUE, "kl": ORANGE,
                  "d_real": BLUE, "d_fake": ORANGE, "elbo": BLUE}
OPENING_STEPS = 2000  # the steps field's value when the tab opens (scripts/train_example.py records that run)
SAVE_EVERY = 1000  # steps between saves during a run, so a diverged run keeps its last good checkpoint

TICKETS = RunTickets()  # who owns which run (ui/run_tickets.py)
STUDENTS_HELD = threading.Event()  # set by a teacher (ui/class_run.py): visitors' own runs are refused

# ZeroGPU (Hugging Face Spaces) lends a GPU per call for a duration asked up front, and refuses a
# call whose duration exceeds what the visitor's quota has left. So the duration follows the run
# asked for (its steps at an assumed GPU step time, plus start-up, capped at ZERO_GPU_MAX_SECONDS),
# and the run itself is limited to that duration less a margin (gpu_run_seconds), so that it stops
# and saves before the lease ends, whatever a step really costs there. GPU_STEP_SECONDS is a guess
# for these small networks, not a measurement: no ZeroGPU Space was available to measure it.
ZERO_GPU_MAX_SECONDS = int(os.environ.get("AIGC_ZEROGPU_MAX_SECONDS", "300"))
GPU_STEP_SECONDS = 0.02
GPU_START_SECONDS = 30  # the lease starts before the run: loading the data, building the model
GPU_MARGIN_SECONDS = 15  # the final save and samples after the run's time limit


def gpu_duration(family: str, dataset: str, steps: float, *args: Any, **kwargs: Any) -> int:
    """Seconds of ZeroGPU to ask for a run of ``steps`` (``train_model``'s arguments): between
    60 and ``ZERO_GPU_MAX_SECONDS``, and never more than the app's own time limit needs."""
    try:
        wanted = GPU_START_SECONDS + GPU_MARGIN_SECONDS + float(steps) * GPU_STEP_SECONDS
    except (TypeError, ValueError):  # the run checks its settings and says what is wrong
        wanted = 60
    cap = min(ZERO_GPU_MAX_SECONDS, int(MAX_SECONDS) + GPU_START_SECONDS + GPU_MARGIN_SECONDS)
    return int(min(max(wanted, 60), cap))


def gpu_run_seconds(family: str, dataset: str, steps: float) -> float:
    """The time limit of a run on ZeroGPU: its lease (``gpu_duration``) less start-up and margin."""
    return float(gpu_duration(family, dataset, steps) - GPU_START_SECONDS - GPU_MARGIN_SECONDS)


try:  # ZeroGPU on Hugging Face Spaces; absent elsewhere, where training runs as is
    import spaces

    gpu = spaces.GPU(duration=gpu_duration)
    ON_ZERO_GPU = True
except ImportError:  # pragma: no cover - depends on the host
    ON_ZERO_GPU = False

    def gpu(fn):  # type: ignore[no-redef]
        return fn


# ----------------------------------------------------------------------------- live view


WARM_THREAD = "histogram-probe-warm"


def histogram_probe(dataset: str, live_cost: int = 1) -> metrics.HistogramProbe | None:
    """The library's class-histogram probe on ``dataset``'s classifier (None without one); the
    classifier and the test features are loaded in the background, so the run starts at once and
    the first histograms come as soon as they are ready. A family ``live_cost`` times dearer to sample
    than a GAN is probed on that many times fewer images (and less often: ``make_config``)."""
    path = common.classifier_path(dataset)
    if not path:
        return None
    ready: dict[str, Any] = {}

    def warm() -> None:
        try:
            ready["evaluator"] = common.evaluator_for(path, dataset)
        except Exception:  # noqa: BLE001 - no test data or a broken classifier: no histogram
            ready["evaluator"] = None

    threading.Thread(target=warm, daemon=True, name=WARM_THREAD).start()
    return metrics.HistogramProbe(lambda: ready.get("evaluator"), n=HIST_SAMPLES // live_cost)


def histogram_frame(hist: list[float], names: tuple[str, ...]) -> pd.DataFrame:
    """The class histogram as a table for ``gr.BarPlot``: one row per class ("3", or "3 Dress": the index
    first, so the bars stay in class order), its share of the samples."""
    labels = [name if name == str(k) else f"{k} {name}" for k, name in enumerate(names)]
    return pd.DataFrame({"class": labels, "share": [float(v) for v in hist]})


def words(lang: str) -> dict[str, str]:
    """The interface strings in ``lang`` ('en' or 'zh'), for sentences a handler writes."""
    return ZH if lang == "zh" else EN


def collapse_warning(hist: list[float], names: tuple[str, ...], step: int, lang: str = "en") -> str:
    """The evaluator's verdict on the class histogram (``metrics.collapse_verdict``), in plain words
    in ``lang``."""
    verdict = metrics.collapse_verdict(hist)
    top, covered, k = verdict["top_class"], verdict["covered"], verdict["classes"]
    key = "collapse_warning" if verdict["collapsing"] else "collapse_none"
    return words(lang)[key].format(step=step, share=verdict["top_share"], name=names[top], covered=covered, k=k)


def symptom_sentence(watch: presets_mod.SymptomWatch, lang: str) -> str:
    """What a seen symptom's numbers show, in ``lang`` (the library's ``EVIDENCE`` in English)."""
    facts = dict(watch.facts)
    if lang == "zh" and watch.symptom == "diverges":
        facts["cause"] = ("判别器完全获胜" if facts.get("d_wins")
                          else str(facts.get("cause", "")).replace(" became NaN or infinite", " 变成了 NaN 或无穷大"))
    return words(lang)[f"symptom_{watch.symptom.replace('-', '_')}"].format(**facts)


def diverged_message(event: Done, saved: str | None, lang: str) -> str:
    """Why a run diverged and what to try, in ``lang``, from the trainer's facts (``Done.facts``);
    the trainer's own sentence where it gave none. ``saved``: the kept run's key (never a server path)."""
    facts = event.facts
    if facts.get("cause") not in ("nan", "d_wins"):
        return event.message.replace(event.checkpoint, saved) if event.checkpoint and saved else event.message
    said = words(lang)
    if facts["cause"] == "nan":
        what = said["div_weights"] if facts["what"] == "weights" else facts["what"]
        text = said["div_nan"].format(step=facts["at_step"], what=what)
    else:
        text = said["div_d_wins"].format(step=facts["at_step"], d_real=facts["d_real"], d_fake=facts["d_fake"],
                                         steps=facts["for_steps"])
    if "kept_step" in facts and saved:
        return text + said["div_kept"].format(step=facts["kept_step"], run=saved)
    if "save_every" in facts:
        return text + said["div_none_before"].format(every=facts["save_every"])
    return text + said["div_none"]


def plot_frames(rows: list[tuple[int, float, str]]) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(losses, D's mean scores or the ELBO) as long tables: step, value, series; None while empty.

    Gradio's plot builds its chart, colour legend included, from the first non-empty value
    it gets and afterwards only swaps the data: an empty first frame left every line without
    a colour (invisible) and the loss axis categorical. None removes the chart, so each run
    starts a fresh one from its first real step.
    """
    if len(rows) > PLOT_POINTS * 4:  # keep the plot light: thin out evenly
        stride = len(rows) // (PLOT_POINTS * 4) + 1
        steps = sorted({r[0] for r in rows})[::stride]
        keep = set(steps) | {rows[-1][0]}
        rows = [r for r in rows if r[0] in keep]
    second = ("d_real", "d_fake", "elbo")
    df = pd.DataFrame(rows, columns=["step", "value", "series"]).astype(
        {"step": "int64", "value": "float64", "series": "str"})
    frames = df[~df.series.isin(second)], df[df.series.isin(second)]
    return tuple(frame if len(frame) else None for frame in frames)  # type: ignore[return-value]


class LiveView:
    """Folds training events into what the tab shows."""

    def __init__(self, cfg: TrainConfig, run_dir: str, preset: str = "", lang: str = "en", pictures: int = 0) -> None:
        self.cfg, self.run_dir, self.lang, self.pictures = cfg, run_dir, lang, pictures
        # a failure preset's symptom, watched for and named in the warning box the moment it shows
        self.preset = presets_mod.PRESETS[preset] if preset else None
        self.watch = presets_mod.watch_for(preset, cfg.dataset) if preset else None
        self.names = data_mod.class_names(cfg.dataset)
        self.rows: list[tuple[int, float, str]] = []
        self.status = words(lang)["train_starting"]
        self.grid: Image.Image | None = None
        self.hist: pd.DataFrame | None = None
        self.warning = ""
        self.saved: str | None = None
        self.rate: float | None = None  # images per second, smoothed over the log windows
        self.ended = False

    def update(self, event: Any) -> None:
        """Take one event from the trainer."""
        if self.watch is not None:
            self.watch.update(event)
        said = words(self.lang)
        if isinstance(event, Started):
            n = self.pictures or event.config.subset
            images = said["train_pictures" if self.pictures else "train_images"].format(n=n) if n else ""
            device = common.device_words(event.device, self.lang)
            self.status = said["train_started"].format(model=event.config.model, dataset=event.config.dataset,
                                                       images=images, device=device, parameters=event.parameters)
        elif isinstance(event, Step):
            self.rows += [(event.step, v, k) for k, v in event.losses.items()]
            # a short window's rate swings (a histogram probe or a sample grid lands in some windows): smooth it
            rate = event.images_per_second
            self.rate = rate if self.rate is None else 0.8 * self.rate + 0.2 * rate
            self.status = said["train_step"].format(step=event.step, total=event.total_steps, rate=self.rate,
                                                    elapsed=event.elapsed, eta=event.eta)
        elif isinstance(event, Samples):
            self.grid = common.to_grid(event.images, nrow=10 if event.labels is not None else 8, target=400)
        elif isinstance(event, Metrics) and "class_histogram" in event.metrics:
            hist = event.metrics["class_histogram"]
            self.hist = histogram_frame(hist, self.names)
            self.warning = collapse_warning(hist, self.names, event.step, self.lang)
        elif isinstance(event, CheckpointSaved):
            self.saved = common.run_key(event.path)  # runs/NAME: what the pickers list, never a server path
        elif isinstance(event, Done) and event.reason == "diverged":
            self.ended = True
            self.saved = common.run_key(event.checkpoint) if event.checkpoint else None
            message = diverged_message(event, self.saved, self.lang)
            self.status = said["train_diverged"].format(step=event.step, elapsed=event.elapsed, message=message)
            self.warning = said["train_why"].format(message=message)
        elif isinstance(event, Done):
            self.ended = True
            how = said[f"train_how_{event.reason}" if event.reason in ("steps", "time", "stopped") else "train_how_ended"]
            where = said["train_saved"].format(run=self.saved) if self.saved else said["train_nothing_saved"]
            self.status = said["train_done"].format(how=how, step=event.step, elapsed=event.elapsed, where=where)

    def plots(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """(losses, D's mean scores or the ELBO) as ``plot_frames`` makes them from this run's rows."""
        return plot_frames(self.rows)

    def symptom_line(self) -> str:
        """Where the run stands on its preset's symptom ('' without a preset)."""
        if self.watch is None or self.preset is None:
            return ""
        said = words(self.lang)
        title = said[preset_key(self.preset.key)]
        if self.watch.seen:
            return f"**{said['symptom_seen'].format(title=title)}** {symptom_sentence(self.watch, self.lang)}"
        if self.ended:  # finished, stopped, time limit or diverged
            return f"**{said['symptom_missing'].format(title=title)}**"
        return said["symptom_watching"].format(title=f"**{title}**", symptom=self.preset.symptom)

    def outputs(self) -> tuple[Any, ...]:
        loss, scores = self.plots()
        warning = "\n\n".join(part for part in (self.symptom_line(), self.warning) if part)
        return self.status, loss, scores, self.grid, self.hist, warning, self.saved or ""


# ----------------------------------------------------------------------------- handlers


def run_name(name: str | None, family: str, dataset: str) -> str:
    """The folder name asked for: the user's (letters, digits, . _ -) or family-dataset-time.
    ``TICKETS.reserve`` adds a suffix when it is taken."""
    if name is not None and not isinstance(name, str):
        raise UserError(f"Run name must be text, got {validation.show(name)}.")
    name = (name or "").strip()
    if not name:
        return f"{dataset}-{family}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not NAME_PATTERN.fullmatch(name):
        raise UserError("Run name: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    return name


def check_family_choice(family: str) -> None:
    """``UserError`` unless ``family`` is one the form offers."""
    if family not in dict((v, k) for k, v in family_choices()):
        raise UserError(f"Unknown model {validation.show(family)}; choose one of "
                        f"{', '.join(v for _, v in family_choices())}.")


def recipe_form(family: str, dataset: str, lang: str = "en") -> tuple[Any, ...]:
    """The form values that trained the shipped checkpoint of this model and dataset:
    (batch size, lr G, lr D, lr VAE, beta1, beta2, loss, EMA, a Markdown note naming the
    checkpoint and the model options a run will use). Defaults where nothing is shipped.
    EMA stays 0 for a live view; the note (in ``lang``) says what the shipped run used."""
    check_family_choice(family)
    recipe = shipped_recipe(family, common.check_dataset(dataset))
    beta1, beta2 = recipe.adam_betas()
    name = f"{recipe.dataset}-{family}"
    said = words(lang)
    options = ", ".join(f"`{k}={v}`" for k, v in sorted(recipe.model_options.items())) or said["recipe_defaults"]
    note = (said["recipe_shipped"].format(name=name, options=options) if (SHIPPED_DIR / name).is_dir()
            else said["recipe_none"].format(name=name))
    if recipe.ema:  # an EMA of G moves too slowly to watch in a short run: the grid would show noise for ~1,000 steps
        note += said["recipe_ema"].format(ema=recipe.ema)
    return (recipe.batch_size, recipe.lr_g, recipe.lr_d, recipe.lr, beta1, beta2, recipe.loss, 0.0, note)


def make_config(family: str, dataset: str, steps: float, batch_size: float, lr_g: float, lr_d: float,
                lr: float, beta1: float, beta2: float, loss: str, diffaugment: bool, ema: float, seed: float,
                out: str, subset: float = 0, preset: str | None = "", pictures: str | None = None,
                init_from: str | None = None) -> TrainConfig:
    """Validate the form and build the ``TrainConfig`` (log and sample often enough for a live view),
    with the model options of the shipped checkpoint of this model and dataset (``recipe_form``).
    ``subset``: train on that many training images, stratified and drawn by the seed (0 = all).
    ``preset``: a failure preset's key (``aigc_models.presets``), whose model options and settings
    the form does not show (e.g. reals in [0, 1]) apply; the form's values win for the rest.
    ``pictures``: a picture set's path (``ui/pictures.py``), trained on instead of the dataset;
    ``init_from``: a checkpoint to fine-tune. The limits are ``TrainConfig``'s own (``TrainConfig.validate``), the sentences too."""
    check_family_choice(family)
    cpu = resolve_device("auto").type == "cpu"
    dataset = common.check_dataset(dataset)
    fields = {
        "dataset": dataset, "steps": steps, "max_seconds": MAX_SECONDS, "batch_size": batch_size,
        "lr_g": lr_g, "lr_d": lr_d, "lr": lr, "betas": (beta1, beta2), "loss": loss, "seed": seed, "device": "auto", "ema": ema,
        "diffaugment": "translation,cutout" if diffaugment else "",
        "subset": subset, "out": out, **live_view_settings(family, cpu=cpu), "command": "app.py (Train tab)",
    }
    if pictures:  # no class histogram: own pictures have no classes to count
        fields.update(pictures=pictures, init_from=init_from, eval_seconds=0.0,
                      command="app.py (Your pictures tab)")
    try:
        if preset:
            wanted = check_preset_choice(preset).settings["model"]
            if family != wanted:
                raise UserError(f"The preset {preset} trains the {wanted} model, not {family}: pick {wanted} or set "
                                "the preset to none.")
            return presets_mod.preset_config(preset, **fields)
        return TrainConfig(model=family, model_options=shipped_recipe(family, dataset).model_options,
                           **fields).validate()
    except ValueError as err:
        raise UserError(str(err)) from None


# ----------------------------------------------------------------------------- failure presets


def preset_key(key: str, part: str = "") -> str:
    """The i18n key of a preset's title (``part`` ''), ``cause`` or ``watch``."""
    return f"preset_{key.replace('-', '_')}" + (f"_{part}" if part else "")


def preset_choices() -> list[tuple[Any, str]]:
    """(label, key) of the failure presets, after 'none' ('')."""
    return [(t("preset_none"), "")] + [(t(preset_key(key)), key) for key in presets_mod.PRESETS]


def check_preset_choice(preset: Any) -> presets_mod.FailurePreset:
    """The preset named ``preset``; ``UserError`` naming the presets otherwise."""
    try:
        return presets_mod.check_preset(preset)
    except ValueError as err:
        raise UserError(str(err)) from None


def preset_text(key: str, lang: str) -> str:
    """A preset's title, cause and the symptom to watch, as Markdown in ``lang`` ('en' or 'zh')."""
    words, stop = (ZH, "。") if lang == "zh" else (EN, ".")
    return (f"**{words[preset_key(key)]}{stop}** {words[preset_key(key, 'cause')]}\n\n"
            f"**{words['preset_watch']}** {words[preset_key(key, 'watch')]}")


def preset_form(preset: str | None, family: str, dataset: str, request: gr.Request | None = None) -> tuple[Any, ...]:
    """Choosing a failure preset fills the form with its settings: (model, steps, then
    ``recipe_form``'s nine values, then the preset's cause and symptom in the page's language).
    Choosing none puts the chosen model's shipped recipe back and clears the text."""
    lang = common.language(request)
    if not preset:
        return (family, gr.update(), *recipe_form(family, dataset, lang), "")
    p = check_preset_choice(preset)
    cfg = presets_mod.preset_config(p.key, dataset=common.check_dataset(dataset))
    said = words(lang)
    options = ", ".join(f"`{k}={v}`" for k, v in sorted(p.model_options.items())) or said["preset_default_options"]
    extra = (said["preset_reals_in_unit"] if cfg.reals_in_unit else "") + \
        (said["preset_real_augment"] if cfg.real_augment else "")
    note = said["preset_note"].format(key=p.key, model=cfg.model, options=options, extra=extra)
    return (cfg.model, cfg.steps, *preset_values(cfg), note, preset_text(p.key, lang))


def preset_values(cfg: TrainConfig) -> tuple[Any, ...]:
    """A config's form values in ``recipe_form``'s order, less its note (eight values)."""
    beta1, beta2 = cfg.adam_betas()
    return (cfg.batch_size, cfg.lr_g, cfg.lr_d, cfg.lr, beta1, beta2, cfg.loss, cfg.ema)


def recipe_or_preset(family: str, dataset: str, preset: str | None,
                     request: gr.Request | None = None) -> tuple[Any, ...]:
    """The form after the model or dataset changed: the preset's values while a preset is chosen
    and the model is still its model, else the model's shipped recipe with the preset cleared.
    ``recipe_form``'s nine values, then the preset."""
    lang = common.language(request)
    if preset:
        p = check_preset_choice(preset)
        if p.settings["model"] == family:
            cfg = presets_mod.preset_config(p.key, dataset=common.check_dataset(dataset))
            return (*preset_values(cfg), words(lang)["preset_kept"].format(key=p.key), preset)
    return (*recipe_form(family, dataset, lang), "")


def setting_number(name: str, value: float, label: Any, **kwargs: Any) -> gr.Number:
    """A number box whose limits are ``TrainConfig``'s for the setting ``name`` (``setting_bounds``)."""
    b = setting_bounds(name)
    integer = isinstance(b["default"], int)
    return gr.Number(value, precision=0 if integer else None, minimum=b["lo"], maximum=b["hi"], label=label, **kwargs)


def session_key(request: gr.Request | None) -> str:
    """Who is asking: the browser/client session, or 'local' for direct calls."""
    return getattr(request, "session_hash", None) or "local"


def check_held(request: gr.Request | None) -> None:
    """Refuse a visitor's own run while the teacher holds them (a class run is on, ``ui/class_run.py``)."""
    if STUDENTS_HELD.is_set():
        raise UserError(words(common.language(request))["train_held"])


def queue_run(name: str | None, family: str, dataset: str, request: gr.Request | None = None) -> tuple[str, str]:
    """Reserve a ticket for the run the browser is about to queue (so that Stop can withdraw it
    while it waits). Returns (run id, status line)."""
    check_held(request)
    check_family_choice(family)
    wanted = run_name(name, family, common.check_dataset(dataset))
    ticket = TICKETS.reserve(session_key(request), wanted, common.runs_dir())
    return ticket.run_id, words(common.language(request))["queue_note"].format(run=ticket.folder)


@gpu
def train_model(family: str, dataset: str, steps: float, batch_size: float, lr_g: float, lr_d: float,
                lr: float, beta1: float, beta2: float, loss: str, diffaugment: bool, ema: float, seed: float,
                name: str | None, run_id: str | None = None, subset: float = 0, preset: str | None = "",
                request: gr.Request | None = None) -> Iterator[tuple[Any, ...]]:
    """Train a model and stream the view at least once a second (``subset`` and ``preset``:
    ``make_config``'s; with a preset the warning box says when its symptom shows).

    ``run_id``: the ticket from ``queue_run`` (the browser), or empty (an API client: a ticket
    is made here). Yields (status markdown, loss table, D-score table, sample grid, class
    histogram, collapse warning, saved run key, run id); the run id is what ``/stop`` takes.
    The run is saved under the runs folder as ``runs/NAME`` (a suffix is added when the name
    is taken) when it finishes, hits the time limit or is stopped.
    """
    check_held(request)

    def wanted() -> str:
        check_family_choice(family)
        return run_name(name, family, common.check_dataset(dataset))

    ticket = claim_ticket(run_id, wanted, request)
    lang = common.language(request)
    yield from live_run(ticket, lambda out: make_config(family, dataset, steps, batch_size, lr_g, lr_d, lr, beta1, beta2,
                                                        loss, diffaugment, ema, seed, out, subset, preset),
                        lang, preset or "")


def claim_ticket(run_id: str | None, wanted: Callable[[], str], request: gr.Request | None) -> Ticket:
    """The queued run ``run_id`` of this session (from ``queue_run``), or, for a client that queued
    nothing (``run_id`` empty), a new ticket for the folder name ``wanted()`` returns."""
    session = session_key(request)
    ticket = TICKETS.get(run_id) if run_id else None
    if run_id and (ticket is None or ticket.session != session):
        raise UserError("That run id is not one of your queued runs; start the run again.")
    return ticket if ticket is not None else TICKETS.reserve(session, wanted(), common.runs_dir())


def live_run(ticket: Ticket, build: Callable[[str], TrainConfig], lang: str, preset: str = "",
             pictures: int = 0) -> Iterator[tuple[Any, ...]]:
    """Train a reserved ticket's run and stream ``LiveView.outputs()`` plus the run id, at least
    once a second. ``build(out)`` makes the validated config that saves to ``out``; a config with
    ``pictures`` (``pictures`` of them) has no class histogram. The ticket is finished whatever happens."""
    if not TICKETS.start(ticket):
        yield (words(lang)["queue_withdrawn_before"], None, None, None, None, "", "", ticket.run_id)
        return
    saved = False
    try:
        out = str(common.runs_dir() / ticket.folder)
        cfg = build(out)
        cfg.save_every = SAVE_EVERY
        if ON_ZERO_GPU:  # stop and save within the GPU lease asked for this run
            cfg.max_seconds = min(cfg.max_seconds or MAX_SECONDS, gpu_run_seconds(cfg.model, cfg.dataset, cfg.steps))
        make_room(out)
        if not cfg.pictures:
            try:
                data_mod.load_split(cfg.dataset, train=True)
            except data_mod.DatasetUnavailableError as err:
                raise UserError(common.dataset_unavailable(cfg.dataset)) from err
        view = LiveView(cfg, out, preset, lang, pictures=pictures)
        probe = None if cfg.pictures else histogram_probe(cfg.dataset, REGISTRY[cfg.model].live_cost)
        run = train(cfg, stop=ticket.stop.is_set, evaluator=probe)
        last = 0.0
        try:
            for event in run:
                view.update(event)
                saved = saved or isinstance(event, CheckpointSaved)
                now = time.perf_counter()
                if now - last >= UPDATE_EVERY or isinstance(event, (Started, Done)):
                    last = now
                    yield (*view.outputs(), ticket.run_id)
        except CheckpointError as err:  # disk full while saving: the message says what was kept
            raise UserError(str(err)) from err
        finally:
            run.close()  # a cancelled request (page closed) aborts; earlier saves stay intact
            if torch.cuda.is_available():
                torch.cuda.empty_cache()  # hand the run's GPU memory back for the next run
    finally:
        TICKETS.finish(ticket, saved)


def make_room(out: str) -> None:
    """Prune the oldest runs so the runs folder stays under its cap (never ``out`` or the shipped checkpoints)."""
    runs = common.runs_dir()
    env = os.environ.get("AIGC_CHECKPOINT_DIRS")  # the checkpoint folders as configured (common.checkpoint_dirs adds runs)
    protected = [p for p in env.split(os.pathsep) if p] if env else [common.REPO_ROOT / "checkpoints"]
    try:
        prune_runs(runs, keep=[out], protected=protected)
    except (ValueError, OSError) as err:
        raise UserError(f"Runs folder {runs}: {err}") from err


def stop_training(run_id: str | None = None, request: gr.Request | None = None) -> str:
    """Stop a run: the one whose id is given (an API client's, from ``/train``'s output), else
    this session's newest. A running run saves and ends within a step or two; a queued one is
    withdrawn and never starts."""
    ticket = TICKETS.get(run_id) if run_id else TICKETS.latest_of(session_key(request))
    if run_id and ticket is None:
        raise UserError("No run has that id; a run id comes from the Train tab's output when a run starts.")
    said = words(common.language(request))
    if ticket is None:
        gr.Info(said["stop_nothing"])
        return said["stop_nothing"]
    outcome = TICKETS.stop(ticket)
    key = {"withdrawn": "stop_withdrawn", "stopping": "stop_stopping"}.get(outcome, "stop_ended")
    return said[key].format(run=ticket.folder)


HUB_REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def hub_namespace() -> str | None:
    """The Hub user or organisation the owner allows pushes to (``AIGC_HUB_NAMESPACE``), when
    ``HF_TOKEN`` is set too; None means pushing is off."""
    namespace = os.environ.get("AIGC_HUB_NAMESPACE", "").strip()
    return namespace if namespace and os.environ.get("HF_TOKEN") else None


def push_to_hub(repo_name: str | None, request: gr.Request | None = None) -> str:
    """Upload the newest run this session trained (weights, config, model card) to
    ``AIGC_HUB_NAMESPACE/repo_name`` with the owner's ``HF_TOKEN``. Off unless both are set;
    never a folder named by the client, never another session's run."""
    namespace = hub_namespace()
    if namespace is None:
        raise UserError("Pushing to the Hub is off on this server (its owner has not set AIGC_HUB_NAMESPACE and "
                        "HF_TOKEN).")
    if not isinstance(repo_name, str) or not HUB_REPO_NAME.fullmatch(repo_name.strip()):
        raise UserError("Repository name: up to 96 letters, digits, '.', '_' or '-' (no owner: runs go to "
                        f"{namespace}/).")
    folder = TICKETS.last_saved(session_key(request))
    run_path = common.runs_dir() / folder if folder else None
    if run_path is None or not (run_path / "model.safetensors").is_file():
        raise UserError("Train and save a run in this session first; then push it.")
    repo_id = f"{namespace}/{repo_name.strip()}"
    from huggingface_hub import HfApi

    api = HfApi(token=os.environ["HF_TOKEN"])
    try:
        api.create_repo(repo_id, exist_ok=True)
        info = api.upload_folder(folder_path=str(run_path), repo_id=repo_id,
                                 allow_patterns=["config.json", "model.safetensors", "README.md", "samples.png"],
                                 commit_message="Upload from the AIGC lab app")
    except Exception as err:  # noqa: BLE001 - network, auth, offline: say what happened
        raise UserError(f"Push failed: {type(err).__name__}: {validation.show(str(err))}") from err
    return f"Pushed **{folder}** to {getattr(info, 'commit_url', repo_id)}"


# ----------------------------------------------------------------------------- layout


def recipe_note_in(family: str, dataset: str, lang: str) -> str:
    """``recipe_form``'s note alone, in ``lang`` (the page's first note, in the visitor's language)."""
    return recipe_form(family, dataset, lang)[8]


EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "docs" / "train-example"  # scripts/train_example.py


@functools.lru_cache(maxsize=2)
def _example_record(folder: Path) -> tuple[dict[str, Any], Image.Image] | None:
    try:
        record = json.loads((folder / "example.json").read_text())
        with Image.open(folder / "grid.png") as grid:
            return record, grid.convert("RGB")
    except (OSError, ValueError):
        return None


def recorded_example(lang: str, sentence: str = "train_example") -> tuple[Any, ...] | None:
    """The recorded default run (``scripts/train_example.py``) when ``EXAMPLE_DIR`` holds one: the
    ``sentence`` (a key of the words) that says it is an example and what it was, its loss and
    D-score tables, last fixed-noise grid and class histogram; None without one."""
    found = _example_record(EXAMPLE_DIR)
    if found is None:
        return None
    record, grid = found
    loss, scores = plot_frames([(int(step), float(value), str(series)) for step, value, series in record["rows"]])
    hist = histogram_frame(record["histogram"], data_mod.class_names(record["dataset"])) if record["histogram"] else None
    label = REGISTRY[record["model"]].label_zh if lang == "zh" else REGISTRY[record["model"]].label
    said = words(lang)[sentence].format(
        model=label, dataset=record["dataset"], steps=record["steps"], seconds=record["seconds"],
        device=common.device_words(record["device"], lang), date=record["date"])
    return said, loss, scores, grid, hist


def example_view(lang: str) -> tuple[Any, ...]:
    """What the tab opens on: the idle sentence and, when there is one, the recorded example run
    (``recorded_example``), said to be an example (status, loss table, D-score table, grid, histogram)."""
    idle = words(lang)["train_idle"]
    found = recorded_example(lang)
    if found is None:
        return idle, None, None, None, None
    sentence, *parts = found
    return (f"{idle}\n\n{sentence}", *parts)


def device_sentence(lang: str) -> str:
    """Where runs train and for how long at most, in ``lang``."""
    device = common.device_words(device_label(resolve_device("auto")), lang)
    return words(lang)["train_device"].format(device=device, seconds=MAX_SECONDS)


def build_tab() -> list[common.Picker]:
    """The training tab (no checkpoint picker; its runs appear in the other tabs' pickers)."""
    gr.Markdown(t("train_intro"))
    device_line = gr.Markdown(device_sentence("en"), elem_id="train-device")
    common.on_open(device_sentence, [], [device_line], speaks=True)
    with gr.Row():
        with gr.Column(scale=1):
            # the recipe whose samples are recognisable soonest (bench --watchable), not the first listed
            family = gr.Radio(family_choices(), value=LIVE_DEFAULT_FAMILY, label=t("model"))
            dataset = gr.Radio(common.DATASET_CHOICES, value="mnist", label=t("dataset"))
            # each model starts from the settings that trained its shipped checkpoint
            b0, lr_g0, lr_d0, lr0, beta1_0, beta2_0, loss0, ema0, note0 = recipe_form(family.value, "mnist")
            recipe_note = gr.Markdown(note0, elem_id="train-recipe")
            common.on_open(recipe_note_in, [family, dataset], [recipe_note], speaks=True)
            preset = gr.Dropdown(preset_choices(), value="", label=t("preset"), elem_id="train-preset")
            preset_note = gr.Markdown(elem_id="train-preset-note")
            with gr.Row():
                steps = setting_number("steps", OPENING_STEPS, t("steps"))
                batch = setting_number("batch_size", b0, t("batch_size"))
            with gr.Accordion(t("optimiser"), open=False):
                with gr.Row():
                    lr_g = setting_number("lr_g", lr_g0, t("lr_g"))
                    lr_d = setting_number("lr_d", lr_d0, t("lr_d"))
                    lr = setting_number("lr", lr0, t("lr_vae"))
                with gr.Row():
                    beta1 = gr.Number(beta1_0, minimum=0, maximum=1, label="Adam β1")
                    beta2 = gr.Number(beta2_0, minimum=0, maximum=1, label="Adam β2")
                loss = gr.Radio([("non-saturating", "ns"), ("hinge", "hinge")], value=loss0, label=t("loss"))
                ema = setting_number("ema", ema0, t("ema"))
                seed = setting_number("seed", 0, t("seed"))
            subset = setting_number("subset", 0, t("subset"), elem_id="train-subset")
            diffaug = gr.Checkbox(False, label=t("diffaugment"))
            name = gr.Textbox(label=t("run_name"), placeholder="my-first-gan")
            with gr.Row():
                start = gr.Button(t("start"), variant="primary", elem_id="train-start")
                stop = gr.Button(t("stop"), variant="stop", elem_id="train-stop")
            stop_note = gr.Markdown()
        with gr.Column(scale=2):
            status = gr.Markdown(t("train_idle"), elem_id="train-status")
            with gr.Row():
                # the colours are named in the labels, so no legend (it was cut off below a fixed-height chart)
                loss_plot = gr.LinePlot(x="step", y="value", color="series", label=t("losses"), height=340,
                                        color_map=SERIES_COLOURS, colors_in_legend=[], y_title="loss",
                                        elem_id="train-loss")
                d_plot = gr.LinePlot(x="step", y="value", color="series", label=t("d_scores"), height=340,
                                     color_map=SERIES_COLOURS, colors_in_legend=[], y_title="mean",
                                     elem_id="train-scores")
            with gr.Row():
                grid = gr.Image(format="png", type="pil", label=t("samples_fixed"), elem_id="train-grid",
                                elem_classes=["below-label"])  # the label and buttons above the first row (app.CSS)
                hist = gr.BarPlot(x="class", y="share", label=t("class_hist"), y_lim=[0, 1], height=300,
                                  elem_id="train-hist")
            warning = gr.Markdown()
            with gr.Row():
                saved = gr.Textbox(label=t("saved_run"), interactive=False, elem_id="train-saved")
                run_id = gr.Textbox("", label=t("run_id"), interactive=False, elem_id="train-run-id")
            namespace = hub_namespace()
            with gr.Row(visible=namespace is not None):
                repo = gr.Textbox(label=t("hub_repo"), placeholder="my-first-gan",
                                  info=f"{namespace}/…" if namespace else None)
                push = gr.Button(t("push"))
                pushed = gr.Markdown()
    common.on_open(example_view, [], [status, loss_plot, d_plot, grid, hist], speaks=True)
    form = [batch, lr_g, lr_d, lr, beta1, beta2, loss, ema, recipe_note]
    for choice in (family, dataset):
        choice.change(recipe_or_preset, [family, dataset, preset], [*form, preset], api_visibility="private",
                      queue=False)
    preset.change(preset_form, [preset, family, dataset], [family, steps, *form, preset_note],
                  api_visibility="private", queue=False)
    queued = start.click(queue_run, [name, family, dataset], [run_id, stop_note], api_visibility="private")
    # queued, not queue=False: gradio shows a refusal (a bad run name, runs held by a teacher) in a toast only then
    trained = queued.success(train_model, [family, dataset, steps, batch, lr_g, lr_d, lr, beta1, beta2, loss, diffaug,
                                           ema, seed, name, run_id, subset, preset],
                             [status, loss_plot, d_plot, grid, hist, warning, saved, run_id],
                             api_name="train", concurrency_limit=1, concurrency_id="train",
                             time_limit=int(MAX_SECONDS) + 120)
    trained.then(lambda: "", None, stop_note, api_visibility="private", queue=False)  # no "Stopping…" after the end
    stop.click(stop_training, [run_id], stop_note, api_name="stop", queue=False)
    push.click(push_to_hub, [repo], pushed, api_name="push_to_hub")
    return []


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.queue(max_size=16).launch(i18n=I18N)
