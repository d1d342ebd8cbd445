"""Hyperparameter search on sample quality: the source document's Optuna study (its section 6.2), done right.

The document's study minimised a cGAN's "validation loss" over 100 trials of 50 epochs with no
pruning. A GAN's loss does not measure its images, so here every trial is scored by the project's
evaluator (``metrics.Evaluator``): the Frechet distance of the classifier's features of its samples
(``fd``, lower is better) or, for a conditional model, the class accuracy of its samples
(``accuracy``, higher is better). The shape follows optuna-examples' ``pytorch_simple.py``: each
trial trains, reports an intermediate value, asks ``should_prune()`` and returns a quality number.

* A trial is an ordinary training run (``training.train``) of the family's shipped recipe
  (``training.shipped_recipe``) with the searched settings on top, limited by a time (or step)
  budget and written as a checkpoint folder ``OUT/trial-NNNN``; the best one is copied to
  ``OUT/best`` with its card.
* The evaluator scores the model ``reports`` times on the way (at even fractions of the budget;
  report k is Optuna's step k, so trials of different speeds compare at the same share of their
  time), and a pruner (median, or Hyperband) stops a trial that trails the finished ones.
* The space comes from the registry (``Family.search_space``, declared in each family's module).
* The study's first trial is the shipped recipe itself, when the space holds it, so the study
  measures its own improvement (or none) at the same budget.
* Every trial also records its final losses (the mean of its last 50 steps), so that
  ``tune_report.loss_correlations`` measures what the document's choice would have been worth: Spearman's rank
  correlation between each final loss and the quality, across the finished trials.

The study lives in Optuna's storage: an SQLite file by default, so a stopped study resumes where it
stopped (``trials`` counts the trials already finished), or any SQLAlchemy URL, e.g.
``postgresql://user@host/db``: several machines running the same command on one storage and study
name share its trials (each asks the sampler for new settings as its last trial ends).

Optuna is imported inside the functions that use it (about 0.2 s), so importing the package stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import data as data_mod
from .augment import parse_policy
from .checkpoints import expand_user, load_checkpoint, read_meta, save_checkpoint
from .configs import check_config_value
from .models import DEFAULT_FAMILY, REGISTRY, check_family
from .models.base import Choice, Family, Range
from .sampling import MAX_SAMPLES
from .training import (MAX_SECONDS, MAX_STEPS, CheckpointSaved, Done, Metrics, Step, TrainConfig, check_setting,
                       shipped_recipe, train)
from .validation import check_choice, check_float, check_int, check_optional_float, check_seed, show

if TYPE_CHECKING:
    import optuna

    from .metrics import Evaluator

# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Metric:
    """What a study optimises: an evaluator report's ``key`` and its direction."""

    key: str
    direction: str  # "minimize" or "maximize"
    label: str


METRICS = {
    "fd": Metric("frechet_distance", "minimize", "FD"),
    "accuracy": Metric("class_accuracy", "maximize", "class accuracy"),
}
PRUNERS = ("median", "hyperband", "none")
DEFAULT_STORAGE = "sqlite:///runs/tune.db"
DEFAULT_ROOT = Path("runs") / "tune"
MAX_TRIALS = 10_000
MAX_REPORTS = 100
MAX_NAME = 100
SEARCHED_SETTINGS = ("batch_size", "lr_g", "lr_d", "lr", "loss", "r1", "ema", "diffaugment")
"""The ``TrainConfig`` settings a search space may name (besides ``beta1`` and ``width``)."""
BETA2 = 0.999
LOG_EVERY = 10  # steps per loss report: a short trial still reports; the final losses average the last LOSS_WINDOWS
LOSS_WINDOWS = 5
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass
class TuneConfig:
    """A study: what to search, how long each trial trains, how it is scored, where it is kept.

    ``trials`` counts finished trials (completed, pruned or diverged) including those a stopped
    study already ran. A trial trains for ``trial_seconds`` and/or ``trial_steps`` (the first
    reached). ``eval_n`` samples are scored at each of ``reports`` intermediate points and at the
    end (seed ``seed`` every time, so trials compare on the same noise). ``storage``: an SQLAlchemy
    URL, or None for a study held in memory. ``space``: None = the family's ``search_space``; a
    dict replaces it. ``model_options`` fix model config fields on top of the shipped recipe."""

    model: str = DEFAULT_FAMILY
    dataset: str = "mnist"
    metric: str = "fd"
    trials: int = 20
    trial_seconds: float | None = 120.0
    trial_steps: int | None = None
    reports: int = 3
    eval_n: int = 1000
    pruner: str = "median"
    startup_trials: int = 5  # random trials before TPE models the space, and finished trials before pruning starts
    seed: int = 0
    storage: str | None = DEFAULT_STORAGE
    study: str | None = None  # None: DATASET-MODEL-METRIC
    out: str | None = None  # None: runs/tune/STUDY
    device: str = "auto"
    model_options: dict[str, Any] = field(default_factory=dict)
    baseline: bool = True
    space: dict[str, Range | Choice] | None = None

    def validate(self) -> TuneConfig:
        """Check every field and fill the defaults in place (``study``, ``out``); ``ValueError`` in
        one sentence naming the field otherwise. Returns ``self``."""
        self.model = check_family(self.model)
        entry = REGISTRY[self.model]
        self.dataset = data_mod.check_dataset_name(self.dataset)
        self.metric = check_choice(self.metric, "metric", METRICS)
        if self.metric == "accuracy" and not entry.can("condition"):
            raise ValueError(f"The accuracy metric scores a conditional model's samples against their labels; "
                             f"{self.model} is unconditional: use the fd metric.")
        self.trials = check_int(self.trials, "trials", lo=1, hi=MAX_TRIALS)
        self.trial_seconds = check_optional_float(self.trial_seconds, "trial_seconds", lo=0, hi=MAX_SECONDS,
                                                  lo_open=True, none_means="no time limit")
        if self.trial_steps is not None:
            self.trial_steps = check_int(self.trial_steps, "trial_steps", lo=1, hi=MAX_STEPS)
        if self.trial_seconds is None and self.trial_steps is None:
            raise ValueError("A trial needs a budget: give trial_seconds, trial_steps or both.")
        self.reports = check_int(self.reports, "reports", lo=0, hi=MAX_REPORTS)
        self.eval_n = check_int(self.eval_n, "eval_n", lo=10, hi=MAX_SAMPLES)
        self.pruner = check_choice(self.pruner, "pruner", PRUNERS)
        self.startup_trials = check_int(self.startup_trials, "startup_trials", lo=0, hi=MAX_TRIALS)
        self.seed = check_seed(self.seed)
        self.study = check_name(self.study or f"{self.dataset}-{self.model}-{self.metric}")
        if self.storage is not None:
            check_storage(self.storage)
        self.out = str(expand_user(self.out)) if self.out else str(DEFAULT_ROOT / self.study)
        self.space = check_space(entry, self.space if self.space is not None else entry.search_space)
        return self

    @property
    def objective(self) -> Metric:
        return METRICS[self.metric]


def check_name(name: object) -> str:
    """A study name: 1 to ``MAX_NAME`` letters, digits, ``-``, ``_`` or ``.`` (it also names a folder)."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or not set(name) <= NAME_CHARS or name[0] == ".":
        raise ValueError(f"A study name is 1 to {MAX_NAME} letters, digits, '-', '_' or '.' (not first), "
                         f"got {show(name)}.")
    return name


def check_storage(url: object) -> str:
    """``url`` if SQLAlchemy can parse it, else ``ValueError``; an SQLite file's folder is checked by the caller."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not isinstance(url, str) or not url:
        raise ValueError(f"The storage must be an SQLAlchemy URL such as {DEFAULT_STORAGE}, got {show(url)}.")
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"The storage {show(url)} is not an SQLAlchemy URL; use e.g. {DEFAULT_STORAGE} or "
                         "postgresql://user@host/database.") from None
    return url


def sqlite_file(url: str) -> Path | None:
    """The database file an ``sqlite:///`` URL names (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return expand_user(parsed.database)


# ----------------------------------------------------------------------------- the search space


def _check_value(entry: Family, name: str, value: Any) -> Any:
    """``value`` for search-space ``name`` of ``entry`` in its plain type, or ``ValueError`` with the
    bounds ``TrainConfig`` (or the model's config) declares for it."""
    if name == "beta1":
        return check_float(value, "beta1", lo=0, hi=1, hi_open=True)
    if name == "diffaugment":
        parse_policy(value)
        return value
    if name in SEARCHED_SETTINGS:
        return check_setting(name, value)
    fields = entry.width_fields if name == "width" else (name,)
    checked = [check_config_value(entry.config, f, value, where=entry.name) for f in fields]  # width: each field
    return checked[0]


def check_space(entry: Family, space: object) -> dict[str, Range | Choice]:
    """``space`` if every name is one a search may set for ``entry`` and every value lies within the
    bounds that ``TrainConfig`` or the family's config declares; ``ValueError`` naming the first
    that does not."""
    if not isinstance(space, dict) or not space:
        searchable = [name for name, f in REGISTRY.items() if f.search_space]
        raise ValueError(f"{entry.name} has no search space; the families with one are {', '.join(searchable)}.")
    options = {f.name for f in dataclasses.fields(entry.config)} - {"dataset"}
    for name, dim in space.items():
        if name == "width" and not entry.width_fields:
            raise ValueError(f"{entry.name} has no width fields, so its search space cannot name width.")
        if name not in (*SEARCHED_SETTINGS, "beta1", "width") and name not in options:
            raise ValueError(f"A search space names {show(name)}: not a searchable setting "
                             f"({', '.join((*SEARCHED_SETTINGS, 'beta1', 'width'))}) nor a {entry.name} option.")
        if isinstance(dim, Range):
            if not (isinstance(dim.low, (int, float)) and isinstance(dim.high, (int, float)) and dim.low < dim.high):
                raise ValueError(f"Search range {name} needs low < high, got {show(dim.low)} and {show(dim.high)}.")
            if dim.log and dim.low <= 0:
                raise ValueError(f"Search range {name} is on a log scale, so low must be above 0, got {show(dim.low)}.")
            _check_value(entry, name, dim.low)
            _check_value(entry, name, dim.high)
        elif isinstance(dim, Choice):
            if not isinstance(dim.options, tuple) or not dim.options:
                raise ValueError(f"Search choice {name} needs a non-empty tuple of options, got {show(dim.options)}.")
            for value in dim.options:
                _check_value(entry, name, value)
        else:
            raise ValueError(f"Search space entry {name} must be a Range or a Choice, got {show(dim)}.")
    return dict(space)


def suggest(trial: optuna.Trial, space: dict[str, Range | Choice]) -> dict[str, Any]:
    """One value per dimension, drawn by the study's sampler through ``trial``."""
    params: dict[str, Any] = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            params[name] = trial.suggest_categorical(name, list(dim.options))
        elif isinstance(dim.low, int) and isinstance(dim.high, int):
            params[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
        else:
            params[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
    return params


def apply_params(base: TrainConfig, params: dict[str, Any]) -> TrainConfig:
    """``base`` with searched ``params`` set: a ``TrainConfig`` setting, ``beta1`` (beta2 stays
    0.999), ``width`` (every width field) or a model config field; validated."""
    entry = REGISTRY[base.model]
    settings: dict[str, Any] = {}
    options = dict(base.model_options)
    for name, value in params.items():
        if name == "beta1":
            settings["betas"] = (value, BETA2)
        elif name == "width":
            options.update({f: value for f in entry.width_fields})
        elif name in SEARCHED_SETTINGS:
            settings[name] = value
        else:
            options[name] = value
    return dataclasses.replace(base, model_options=options, **settings).validate()


def recipe_params(base: TrainConfig, space: dict[str, Range | Choice]) -> dict[str, Any] | None:
    """The values ``base`` (the shipped recipe) has for each dimension of ``space``, or None when one
    lies outside it (then the study cannot start from the recipe)."""
    entry = REGISTRY[base.model]
    defaults = dataclasses.asdict(entry.config())
    params: dict[str, Any] = {}
    for name, dim in space.items():
        if name == "beta1":
            value = base.adam_betas()[0]
        elif name == "width":
            value = base.model_options.get(entry.width_fields[0], defaults[entry.width_fields[0]])
        elif name in SEARCHED_SETTINGS:
            value = getattr(base, name)
        else:
            value = base.model_options.get(name, defaults[name])
        inside = value in dim.options if isinstance(dim, Choice) else dim.low <= value <= dim.high
        if not inside:
            return None
        params[name] = value
    if "beta1" in space and base.betas is not None and base.betas[1] != BETA2:
        return None
    return params


def base_config(cfg: TuneConfig) -> TrainConfig:
    """What every trial of ``cfg`` trains before its searched settings: the family's shipped recipe
    with ``cfg.model_options`` on top, ``cfg``'s budget, seed and device, and the intermediate
    evaluations at even fractions of the budget (by time when there is a time budget)."""
    recipe = shipped_recipe(cfg.model, cfg.dataset)
    steps = cfg.trial_steps if cfg.trial_steps is not None else MAX_STEPS
    eval_every, eval_seconds = 0, 0.0
    if cfg.reports and cfg.trial_seconds is not None:
        eval_seconds = cfg.trial_seconds / (cfg.reports + 1)
    elif cfg.reports:
        eval_every = max(1, steps // (cfg.reports + 1))
    return dataclasses.replace(
        recipe, model_options={**recipe.model_options, **cfg.model_options}, steps=steps,
        max_seconds=cfg.trial_seconds, seed=cfg.seed, device=cfg.device, out=None, save_every=0,
        sample_every=MAX_STEPS, eval_every=eval_every, eval_seconds=eval_seconds, log_every=LOG_EVERY,
    ).validate()


def train_command(cfg: TrainConfig) -> str:
    """The ``python -m aigc_models train`` command that trains ``cfg`` again (settings that differ
    from the family's defaults, every model option), for the trial's model card."""
    defaults = TrainConfig.for_family(cfg.model)
    parts = ["python -m aigc_models train", f"--model {cfg.model}", f"--dataset {cfg.dataset}"]
    if cfg.steps != MAX_STEPS or cfg.max_seconds is None:
        parts.append(f"--steps {cfg.steps}")
    if cfg.max_seconds is not None:
        parts.append(f"--max-seconds {cfg.max_seconds:g}")
    for name in ("batch_size", "lr_g", "lr_d", "lr", "loss", "r1", "r1_every", "ema", "seed", "device"):
        if getattr(cfg, name) != getattr(defaults, name):
            parts.append(f"--{name.replace('_', '-')} {getattr(cfg, name)}")
    if cfg.betas is not None:
        parts.append(f"--beta1 {cfg.betas[0]} --beta2 {cfg.betas[1]}")
    if cfg.diffaugment:
        parts.append(f"--diffaugment {shlex.quote(cfg.diffaugment)}")
    for key, value in cfg.model_options.items():
        parts.append("--option " + shlex.quote(f"{key}={json.dumps(value, separators=(',', ':'))}"))
    if cfg.out:
        parts.append(f"--out {shlex.quote(str(cfg.out))}")
    return " ".join(parts)


# ----------------------------------------------------------------------------- one trial


class TrialDiverged(RuntimeError):
    """A trial's run diverged (NaN losses, D winning outright): recorded as failed, and counted."""


class TrialStopped(RuntimeError):
    """The study was asked to stop during a trial: recorded as failed, not counted."""


class QualityProbe:
    """The training-time evaluator of a trial: the first ``limit`` calls score ``n`` samples (seed
    ``seed``) with ``evaluator``; later ones return ``{}`` at no cost. ``last`` is the latest report."""

    def __init__(self, evaluator: Evaluator, *, n: int, seed: int, limit: int) -> None:
        self.evaluator, self.n, self.seed, self.limit = evaluator, n, seed, limit
        self.calls = 0
        self.last: dict[str, Any] | None = None

    def __call__(self, model: Any) -> dict[str, Any]:
        if self.calls >= self.limit:
            return {}
        self.calls += 1
        self.last = self.evaluator.evaluate_generator(model, n=self.n, seed=self.seed)
        return self.last


def quality(report: dict[str, Any], metric: Metric) -> float:
    """The number a study optimises from an evaluator report (``ValueError`` if it lacks it)."""
    value = report.get(metric.key)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"The evaluator's report has no finite {metric.key} ({metric.label}).")
    return float(value)


def make_objective(cfg: TuneConfig, base: TrainConfig, evaluator: Evaluator, *,
                   stop: Callable[[], bool] | None = None) -> Callable[[optuna.Trial], float]:
    """The study's objective: train one trial, report its quality ``cfg.reports`` times (pruning
    when told to) and return the evaluator's final score of its samples. Its losses are recorded
    (user attribute ``final_losses``) and never returned."""
    import optuna

    metric = cfg.objective

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, cfg.space)
        run = apply_params(base, params)
        run.out = str(Path(cfg.out) / f"trial-{trial.number:04d}")
        run.command = train_command(run)
        probe = QualityProbe(evaluator, n=cfg.eval_n, seed=cfg.seed, limit=cfg.reports)
        final: dict[str, Any] = {}

        def score(model: Any) -> dict[str, Any]:
            final.update(evaluator.evaluate_generator(model, n=cfg.eval_n, seed=cfg.seed))
            return final

        progress: dict[str, Any] = {}
        recent: list[dict[str, float]] = []
        done: Done | None = None
        events = train(run, stop=stop, evaluator=probe, final_evaluator=score)
        try:
            for event in events:
                if isinstance(event, Step):  # recorded beside the quality, never optimised
                    recent = [*recent[1 - LOSS_WINDOWS:], event.losses]
                    progress.update(steps=event.step, seconds=round(event.elapsed, 1),
                                    final_losses={k: sum(r[k] for r in recent) / len(recent) for k in event.losses})
                elif isinstance(event, Metrics) and event.metrics and event.metrics is probe.last:
                    trial.report(quality(event.metrics, metric), probe.calls)
                    if trial.should_prune():
                        progress.update(pruned_at_step=event.step, steps=event.step)
                        raise optuna.TrialPruned(f"pruned at report {probe.calls} (step {event.step})")
                elif isinstance(event, CheckpointSaved):
                    progress["checkpoint"] = event.path
                elif isinstance(event, Done):
                    done = event
                    progress.update(steps=event.step, seconds=round(event.elapsed, 1))
        finally:
            events.close()  # a pruned run stops here; nothing is saved for it
            for key, value in progress.items():
                trial.set_user_attr(key, value)
        if done.reason == "diverged":
            trial.set_user_attr("diverged", done.message)
            raise TrialDiverged(done.message)
        if done.reason == "stopped":
            raise TrialStopped("stopped during the trial")
        trial.set_user_attr("metrics", {k: v for k, v in final.items() if isinstance(v, (int, float))})
        return quality(final, metric)

    return objective


# ----------------------------------------------------------------------------- the study


HEARTBEAT_SECONDS = 60  # a running trial writes a heartbeat this often ...
GRACE_SECONDS = 300  # ... and one silent for this long (its process was killed) is marked failed


def storage_for(url: str | None, *, must_exist: bool = False) -> tuple[Any, str]:
    """Optuna's storage for an SQLAlchemy ``url`` (None: in memory) and its name for messages (no
    password). An SQLite file's folder is created, unless ``must_exist`` asks for the file to be
    there. ``ValueError`` in one sentence when it cannot be opened.

    Trials send Optuna's heartbeat: a trial whose process was killed (no heartbeat for
    ``GRACE_SECONDS``) is marked failed when the study next runs, instead of staying "running"
    for ever, while a trial another machine is still running keeps its heartbeat and its state."""
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    if url is None:
        return None, "memory"
    where = make_url(check_storage(url)).render_as_string(hide_password=True)
    db = sqlite_file(url)
    if db is not None:
        if must_exist and not db.is_file():
            raise ValueError(f"No study storage at {show(str(db))}.")
        db.parent.mkdir(parents=True, exist_ok=True)
    try:
        kwargs = {"connect_args": {"timeout": 60}} if db is not None else {}  # wait for another worker's write
        with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna since 2.9: say it once, here
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT_SECONDS,
                                              grace_period=GRACE_SECONDS), where
    except (ImportError, SQLAlchemyError, ValueError) as err:
        reason = " ".join(str(err).split())[:200]
        raise ValueError(f"Could not open the study storage {show(where)} ({reason}).") from None


def load_study(url: str, name: str) -> optuna.Study:
    """An existing study, to read (``summary``); ``ValueError`` when there is none of that name."""
    import optuna

    storage, where = storage_for(url, must_exist=True)
    try:
        return optuna.load_study(study_name=check_name(name), storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise ValueError(f"No study named {name} in {show(where)}; it holds "
                         f"{', '.join(names[:20]) if names else 'none'}.") from None


PRIVATE_TRIAL_ATTRS = ("checkpoint",)  # a trial's folder on the machine that ran it: not for a record others read


def study_record(study: optuna.Study) -> dict[str, Any]:
    """A study as plain JSON data: its direction and attributes, and each trial's state, settings
    (with their search distributions), value, intermediate reports and attributes, less the
    trial's folder. ``study_from_record`` rebuilds it in memory, for the tables and figures."""
    from optuna.distributions import distribution_to_json

    return {"direction": study.direction.name.lower(), "user_attrs": dict(study.user_attrs),
            "trials": [{"state": t.state.name, "params": t.params,
                        "distributions": {k: distribution_to_json(d) for k, d in t.distributions.items()},
                        "value": t.value, "intermediate_values": {str(k): v for k, v in t.intermediate_values.items()},
                        "user_attrs": {k: v for k, v in t.user_attrs.items() if k not in PRIVATE_TRIAL_ATTRS}}
                       for t in study.trials]}


def study_from_record(record: dict[str, Any]) -> optuna.Study:
    """The in-memory study ``study_record`` wrote; ``ValueError`` in one sentence for a record it did not."""
    import optuna
    from optuna.distributions import json_to_distribution
    from optuna.trial import TrialState, create_trial

    try:
        study = optuna.create_study(direction=record["direction"])
        for key, value in record["user_attrs"].items():
            study.set_user_attr(key, value)
        for t in record["trials"]:
            state = TrialState[t["state"]]
            study.add_trial(create_trial(
                state=state, params=t["params"], value=t["value"] if state == TrialState.COMPLETE else None,
                distributions={k: json_to_distribution(d) for k, d in t["distributions"].items()},
                intermediate_values={int(k): v for k, v in t["intermediate_values"].items()},
                user_attrs=t["user_attrs"]))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ValueError(f"Not a study record (study_record): {' '.join(str(err).split())[:200]}.") from None
    return study


def open_study(cfg: TuneConfig) -> optuna.Study:
    """The study named ``cfg.study`` in ``cfg.storage``, created when missing; an existing one must
    search the same family and dataset for the same metric (``ValueError`` in one sentence)."""
    import optuna

    storage, where = storage_for(cfg.storage)
    study = optuna.create_study(storage=storage, study_name=cfg.study, direction=cfg.objective.direction,
                                load_if_exists=True)
    recorded = {k: study.user_attrs.get(k) for k in ("model", "dataset", "metric")}
    wanted = {"model": cfg.model, "dataset": cfg.dataset, "metric": cfg.metric}
    if not study.trials and not any(recorded.values()):
        for key, value in wanted.items():
            study.set_user_attr(key, value)
    elif recorded != wanted:
        raise ValueError(f"Study {cfg.study} in {show(where)} searches {recorded['model']} on {recorded['dataset']} "
                         f"for {recorded['metric']}, not {cfg.model} on {cfg.dataset} for {cfg.metric}; "
                         f"name another study.")
    return study


def sampler_for(cfg: TuneConfig, done: int) -> optuna.samplers.BaseSampler:
    """TPE (Bergstra et al. 2011), seeded by ``cfg.seed`` and the ``done`` trials so far: a resumed
    study does not draw its first trials' random settings again."""
    import optuna

    return optuna.samplers.TPESampler(seed=cfg.seed + done, n_startup_trials=cfg.startup_trials)


def pruner_for(cfg: TuneConfig) -> optuna.pruners.BasePruner:
    """The median rule (a trial stops when its best report so far trails the median of the finished
    trials' at the same report; never at the first report, where a GAN's score is still noise), or
    Hyperband (Li et al. 2018) over the reports, or none."""
    import optuna

    if cfg.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=max(cfg.startup_trials, 1), n_warmup_steps=2)
    if cfg.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(cfg.reports, 1), reduction_factor=3)
    return optuna.pruners.NopPruner()


def finished(study: optuna.Study) -> int:
    """Trials that count towards a study's ``trials``: completed, pruned, or failed by diverging
    (a trial stopped or interrupted by the user does not count)."""
    from optuna.trial import TrialState

    return sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED)
               or (t.state == TrialState.FAIL and "diverged" in t.user_attrs) for t in study.trials)


def check_out(cfg: TuneConfig, study: optuna.Study) -> None:
    """A new study's folder must not hold another study's trials (their folders would be overwritten)."""
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"The study folder {show(str(out))} is a file; name a folder.")
    if not study.trials and out.is_dir() and any(out.glob("trial-*")):
        raise ValueError(f"{show(str(out))} already holds trials of another study; name another output folder "
                         "or resume that study.")


def run_study(cfg: TuneConfig, evaluator: Evaluator, *,
              stop: Callable[[], bool] | None = None) -> Iterator[dict[str, Any]]:
    """Run trials until the study holds ``cfg.trials`` finished ones, yielding each trial's row
    (``trial_row``) as it ends, then keep the best as ``OUT/best`` (``keep_best``). ``stop``: a
    callable returning True ends the study after marking the running trial stopped. Closing the
    generator between trials leaves the study as it is, to resume."""
    import optuna

    cfg.validate()
    study = open_study(cfg)
    check_out(cfg, study)
    base = base_config(cfg)
    if cfg.baseline and not study.trials:
        params = recipe_params(base, cfg.space)
        if params is not None:
            study.enqueue_trial(params, user_attrs={"baseline": "the shipped recipe"}, skip_if_exists=True)
    study.sampler = sampler_for(cfg, len(study.trials))
    study.pruner = pruner_for(cfg)
    objective = make_objective(cfg, base, evaluator, stop=stop)
    while finished(study) < cfg.trials and not (stop is not None and stop()):
        study.optimize(objective, n_trials=1, catch=(TrialDiverged, TrialStopped))
        yield trial_row(study.trials[-1], cfg.objective)
    if any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        keep_best(study, cfg)


def keep_best(study: optuna.Study, cfg: TuneConfig) -> Path | None:
    """Copy the best completed trial's checkpoint to ``OUT/best``, its card naming the study, the
    trial and its score; None when that trial's folder is gone."""
    best = study.best_trial
    source = best.user_attrs.get("checkpoint")
    if not source or not Path(source).is_dir():
        return None
    meta = read_meta(source)
    model = load_checkpoint(source)
    training = {**meta.get("training", {}),
                "tune": {"study": study.study_name, "trial": best.number, "metric": cfg.metric,
                         cfg.objective.key: best.value, "params": best.params, "trials": len(study.trials)}}
    return save_checkpoint(model, Path(cfg.out) / "best", training=training, metrics=meta.get("metrics", {}))


# ----------------------------------------------------------------------------- a trial's record


def trial_row(trial: optuna.trial.FrozenTrial, metric: Metric) -> dict[str, Any]:
    """One trial as a flat dict: number, state, value, the report at which it was pruned, steps,
    seconds, its params, its final losses and its checkpoint."""
    attrs = trial.user_attrs
    state = trial.state.name.lower()
    if state == "fail":
        state = "diverged" if "diverged" in attrs else "stopped"
    value = trial.value if trial.state.name == "COMPLETE" else None  # a pruned trial's is its last report
    return {"trial": trial.number, "state": state, metric.key: value,
            "reports": [round(v, 4) for _, v in sorted(trial.intermediate_values.items())],
            "steps": attrs.get("steps"), "seconds": attrs.get("seconds"), "params": dict(trial.params),
            "final_losses": dict(attrs.get("final_losses", {})), "checkpoint": attrs.get("checkpoint"),
            "baseline": "baseline" in attrs}


__all__ = ["TuneConfig", "METRICS", "PRUNERS", "DEFAULT_STORAGE", "check_space", "suggest", "apply_params",
           "recipe_params", "base_config", "train_command", "make_objective", "open_study", "run_study", "keep_best",
           "trial_row", "sqlite_file", "check_name", "check_storage", "storage_for", "load_study"]
