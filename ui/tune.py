"""The Tune tab: a small hyperparameter study on sample quality, run in the Train tab's queue.

The study is ``aigc_models.tune.run_study``: TPE over the family's search space, each trial a
short training run scored by the evaluator (FD, or class accuracy for a conditional model) and
pruned when it trails, never scored by a loss. It waits in the same one-run-at-a-time queue as the
Train tab (``concurrency_id="train"``) and holds a ticket like a run (Stop ends it after marking the
running trial stopped). The table of trials and Optuna's figures (optimisation history, parameter
importances, final loss against quality) refresh after every trial. The trials are kept under
``runs/.tune/NAME`` (hidden from the pickers); the best is saved as the run ``runs/NAME``, so it
appears in the other tabs like any run.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from aigc_models import tune, tune_figures, tune_report, validation
from aigc_models.checkpoints import CheckpointError, load_checkpoint, read_meta, save_checkpoint
from aigc_models.models import REGISTRY
from ui import common
from ui import train as train_tab
from ui.errors import UserError
from ui.i18n import EN, ZH, t

LANGUAGES = {"en": EN, "zh": ZH}
MAX_TRIALS = 12
MIN_TRIAL_SECONDS = 5.0
REPORTS = 2  # intermediate evaluations per trial, read by the pruner
EVAL_N = 500  # samples scored at each evaluation: enough to rank trials, cheap beside a short trial
STUDY_DIR = ".tune"  # under the runs folder; a folder without config.json is never listed or pruned
OPENING_FORM = {"metric": "fd", "trials": 6, "trial_seconds": 30.0, "seed": 0}  # the form's opening values
EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "tune-example" / "study.json"  # scripts/tune_example.py


def family_choices() -> list[tuple[str, str]]:
    """(label, name) of the families the app can train live and search (a ``search_space``)."""
    return [(label, name) for label, name in train_tab.family_choices() if REGISTRY[name].search_space]


def metric_choices(lang: str = "en") -> list[tuple[str, str]]:
    words = LANGUAGES.get(lang, EN)
    return [(words["tune_metric_fd"], "fd"), (words["tune_metric_accuracy"], "accuracy")]


# ----------------------------------------------------------------------------- plain functions


def check_family_choice(family: object) -> str:
    """``family`` if the form offers it, else ``UserError`` listing what it offers."""
    if family not in {name for _, name in family_choices()}:
        raise UserError(f"Unknown model {validation.show(family)}; choose one of "
                        f"{', '.join(v for _, v in family_choices())}.")
    return family


def study_config(family: str, dataset: str, metric: str, trials: float, trial_seconds: float, seed: float,
                 folder: str) -> tune.TuneConfig:
    """The study the form asks for, its trials under ``runs/.tune/folder``; ``UserError`` in one
    sentence when a value is out of range or the trials would not fit in the app's time limit."""
    check_family_choice(family)
    trials = common.check_int(trials, "Trials", 1, MAX_TRIALS)
    seconds = common.check_float(trial_seconds, "Seconds per trial", MIN_TRIAL_SECONDS, train_tab.MAX_SECONDS)
    if trials * seconds > train_tab.MAX_SECONDS:
        raise UserError(f"{trials} trials of {seconds:g} s make {trials * seconds:g} s; a study here may train for "
                        f"at most {train_tab.MAX_SECONDS:g} s: fewer trials or shorter ones.")
    home = common.runs_dir() / STUDY_DIR / folder
    cfg = tune.TuneConfig(model=family, dataset=common.check_dataset(dataset), metric=metric, trials=trials,
                          trial_seconds=seconds, reports=REPORTS, eval_n=EVAL_N, startup_trials=min(3, trials),
                          seed=seed, storage=f"sqlite:///{home / 'study.db'}", study=folder, out=str(home),
                          device="auto")
    try:
        return cfg.validate()
    except ValueError as err:
        raise UserError(str(err)) from None


def trial_frame(study: Any, lang: str = "en") -> pd.DataFrame:
    """The study's trials as a table: number, state, quality, intermediate reports, steps, each
    searched setting and the final losses (what the pruner and the reader compare)."""
    words = LANGUAGES.get(lang, EN)
    info = tune_report.summary(study)
    key, rows = info["metric_key"], info["trials"]
    names = sorted({p for r in rows for p in r["params"]})
    losses = sorted({k for r in rows for k in r["final_losses"] if "loss" in k})
    head = [words["tune_col_trial"], words["tune_col_state"], tune.METRICS[info["metric"] or "fd"].label,
            words["tune_col_reports"], words["tune_col_steps"], *names, *losses]
    body = [[r["trial"], words.get(f"tune_state_{r['state']}", r["state"]),
             None if r[key] is None else round(r[key], 4), " / ".join(f"{v:.3g}" for v in r["reports"]),
             r["steps"], *(_cell(r["params"].get(n)) for n in names),
             *(None if r["final_losses"].get(k) is None else round(r["final_losses"][k], 4) for k in losses)]
            for r in rows]
    return pd.DataFrame(body, columns=head)


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return "-" if value == "" else value


def study_figures(study: Any, lang: str = "en") -> tuple[Any, Any, Any]:
    """(history, importances, loss against quality) with titles in ``lang``."""
    words = LANGUAGES.get(lang, EN)
    return tune_figures.figures(study, text={k: words[f"tune_fig_{k}"] for k in tune_figures.FIGURE_TEXT})


def correlation_line(study: Any, lang: str = "en") -> str:
    """Spearman's rho between each final loss and the quality, in one Markdown line."""
    words = LANGUAGES.get(lang, EN)
    info = tune_report.summary(study)
    parts = [words["tune_rho"].format(loss=loss, rho="n/a" if c["rho"] is None else f"{c['rho']:+.2f}", n=c["n"])
             for loss, c in info["loss_correlations"].items() if "loss" in loss]
    return " · ".join(parts)


def keep_as_run(cfg: tune.TuneConfig, folder: str) -> str | None:
    """Save the study's best trial (``OUT/best``) as the run ``runs/folder``; its key, or None."""
    best = Path(cfg.out) / "best"
    if not (best / "model.safetensors").is_file():
        return None
    meta = read_meta(best)
    out = common.runs_dir() / folder
    save_checkpoint(load_checkpoint(best), out, training=meta.get("training"), metrics=meta.get("metrics"))
    return common.run_key(out)


# ----------------------------------------------------------------------------- handlers


def tune_study(family: str, dataset: str, metric: str, trials: float, trial_seconds: float, seed: float,
               name: str | None, run_id: str | None = None,
               request: gr.Request | None = None) -> Iterator[tuple[Any, ...]]:
    """Run a study and stream (status, trials table, history, importances, loss-quality figure,
    correlations, saved run key, run id) after every trial. ``run_id``: the ticket from
    ``train.queue_run`` (the browser) or empty (an API client: one is made here)."""
    lang = common.language(request)
    words = LANGUAGES.get(lang, EN)
    session = train_tab.session_key(request)
    tickets = train_tab.TICKETS
    ticket = tickets.get(run_id) if run_id else None
    if run_id and (ticket is None or ticket.session != session):
        raise UserError("That run id is not one of your queued runs; start the study again.")
    if ticket is None:  # an API client: its settings are checked before a name is reserved
        wanted = train_tab.run_name(name, check_family_choice(family), common.check_dataset(dataset))
        ticket = tickets.reserve(session, wanted, common.runs_dir())
    if not tickets.start(ticket):
        yield (words["tune_withdrawn"], None, None, None, None, "", "", ticket.run_id)
        return
    saved = None
    try:
        cfg = study_config(family, dataset, metric, trials, trial_seconds, seed, ticket.folder)
        path = common.classifier_path(cfg.dataset)
        if path is None:
            raise UserError(f"No classifier for {cfg.dataset} in this app's checkpoints: a study scores its trials "
                            "with one.")
        evaluator = common.evaluator_for(path, cfg.dataset)
        train_tab.make_room(str(common.runs_dir() / ticket.folder))
        started = time.perf_counter()
        yield (words["tune_status_running"].format(k=1, n=cfg.trials, s=0), None, None, None, None, "", "",
               ticket.run_id)
        try:
            for row in tune.run_study(cfg, evaluator, stop=ticket.stop.is_set):
                study = tune.load_study(cfg.storage, cfg.study)
                done = tune.finished(study)
                status = (words["tune_status_running"].format(k=done + 1, n=cfg.trials,
                                                              s=round(time.perf_counter() - started))
                          if done < cfg.trials and not ticket.stop.is_set() else words["tune_status_saving"])
                yield (status, trial_frame(study, lang), *study_figures(study, lang), correlation_line(study, lang),
                       "", ticket.run_id)
            saved = keep_as_run(cfg, ticket.folder)
        except (ValueError, CheckpointError) as err:
            raise UserError(str(err)) from err
        study = tune.load_study(cfg.storage, cfg.study)
        status = (words["tune_status_done"].format(run=saved) if saved else words["tune_status_none"])
        yield (status, trial_frame(study, lang), *study_figures(study, lang), correlation_line(study, lang),
               saved or "", ticket.run_id)
    finally:
        tickets.finish(ticket, saved is not None)


# ----------------------------------------------------------------------------- layout


@functools.lru_cache(maxsize=len(LANGUAGES))
def recorded_example(lang: str) -> tuple[Any, ...] | None:
    """The study the tab's untouched form runs, recorded once (``scripts/tune_example.py``), as
    the tab shows it in ``lang``: a note saying what it is, the trials table, the three figures and
    the correlations; None without a readable record. Built once per language (Optuna's parameter
    importances take a moment), not on every page load."""
    words = LANGUAGES.get(lang, EN)
    try:
        recorded = json.loads(EXAMPLE.read_text())
        study = tune.study_from_record(recorded["study"])
        settings = recorded["settings"]
        names = {**{name: label for label, name in train_tab.family_choices()},
                 **{name: label for label, name in common.DATASET_CHOICES}}
        note = words["tune_example"].format(
            model=names.get(settings["model"], settings["model"]), dataset=names.get(settings["dataset"], settings["dataset"]),
            trials=settings["trials"], seconds=settings["trial_seconds"], total=recorded["seconds"],
            device=common.device_words(recorded["device"], lang), date=recorded["date"])
    except (OSError, KeyError, TypeError, ValueError):
        return None
    return (note, trial_frame(study, lang), *study_figures(study, lang), correlation_line(study, lang))


def tune_opening(metric: str, lang: str) -> tuple[Any, ...]:
    """What the tab opens on, in ``lang``: the metric's names, then ``recorded_example``; without
    the record, the idle note and the trials table empty but with its headers (an empty table
    without them shows "1 2 3")."""
    words = LANGUAGES.get(lang, EN)
    metric = metric if metric in tune.METRICS else "fd"
    choices = gr.update(choices=metric_choices(lang))
    example = recorded_example(lang if lang in LANGUAGES else "en")
    if example is None:
        head = [words["tune_col_trial"], words["tune_col_state"], tune.METRICS[metric].label,
                words["tune_col_reports"], words["tune_col_steps"]]
        return choices, words["tune_idle"], pd.DataFrame(columns=head), None, None, None, ""
    return (choices, *example)


def build_tab() -> list[common.Picker]:
    """The Tune tab (no checkpoint picker; the best trial appears in the other tabs' pickers)."""
    gr.Markdown(t("tune_intro"))
    with gr.Row():
        with gr.Column(scale=1):
            family = gr.Radio(family_choices(), value=family_choices()[0][1], label=t("model"))
            dataset = gr.Radio(common.DATASET_CHOICES, value="mnist", label=t("dataset"))
            metric = gr.Radio(metric_choices(), value=OPENING_FORM["metric"], label=t("tune_metric"))
            with gr.Row():
                trials = gr.Number(OPENING_FORM["trials"], precision=0, minimum=1, maximum=MAX_TRIALS,
                                   label=t("tune_trials"))
                seconds = gr.Number(min(OPENING_FORM["trial_seconds"], train_tab.MAX_SECONDS), minimum=MIN_TRIAL_SECONDS,
                                    maximum=train_tab.MAX_SECONDS, label=t("tune_trial_seconds"))
            seed = gr.Number(OPENING_FORM["seed"], precision=0, minimum=0, label=t("seed"))
            name = gr.Textbox(label=t("run_name"), placeholder="my-study")
            with gr.Row():
                start = gr.Button(t("tune_start"), variant="primary", elem_id="tune-start")
                stop = gr.Button(t("stop"), variant="stop", elem_id="tune-stop")
            stop_note = gr.Markdown()
        with gr.Column(scale=2):
            status = gr.Markdown(t("tune_idle"), elem_id="tune-status")
            table = gr.Dataframe(label=t("tune_table"), interactive=False, wrap=False, elem_id="tune-table")
            rho = gr.Markdown(elem_id="tune-rho")
            with gr.Row():
                history = gr.Plot(label=t("tune_history"), elem_id="tune-history")
                scatter = gr.Plot(label=t("tune_scatter"), elem_id="tune-scatter")
            importance = gr.Plot(label=t("tune_importance"), elem_id="tune-importance")
            common.on_open(tune_opening, [metric], [metric, status, table, history, importance, scatter, rho], speaks=True)
            with gr.Row():
                saved = gr.Textbox(label=t("saved_run"), interactive=False, elem_id="tune-saved")
                run_id = gr.Textbox("", label=t("run_id"), interactive=False, elem_id="tune-run-id")
    queued = start.click(train_tab.queue_run, [name, family, dataset], [run_id, stop_note], api_visibility="private")
    # queued, not queue=False: gradio shows a refusal (a bad run name, runs held by a teacher) in a toast only then
    ran = queued.success(tune_study, [family, dataset, metric, trials, seconds, seed, name, run_id],
                         [status, table, history, importance, scatter, rho, saved, run_id], api_name="tune",
                         concurrency_limit=1, concurrency_id="train", time_limit=int(train_tab.MAX_SECONDS) + 300)
    ran.then(lambda: "", None, stop_note, api_visibility="private", queue=False)
    stop.click(train_tab.stop_training, [run_id], stop_note, api_visibility="private", queue=False)
    return []


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.queue(max_size=16).launch(i18n=I18N)
