"""Hyperparameter search (aigc_models.tune): scored by the evaluator, pruned, resumed, kept.

Trials here are a few steps of tiny models; most tests score them with a fake evaluator whose
numbers the test chooses, one with the real evaluator on a tiny classifier."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
from conftest import TINY_OPTIONS, run_events, tiny_train_config

from aigc_models import tune, tune_report
from aigc_models.checkpoints import load_checkpoint, read_meta
from aigc_models.models import REGISTRY
from aigc_models.models.base import Choice, Range
from aigc_models.sampling import sample
from aigc_models.training import Step, TrainConfig, setting_bounds

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {"lr_g": Range(1e-4, 1e-3, log=True), "loss": Choice(("ns", "hinge"))}


class FakeEvaluator:
    """Returns the FD values it is given, in order, and records every call."""

    def __init__(self, values: list[float]) -> None:
        self.values, self.calls = list(values), []

    def evaluate_generator(self, model, *, n: int, seed: int) -> dict:
        self.calls.append((n, seed))
        value = self.values.pop(0)
        return {"n": n, "frechet_distance": value, "class_accuracy": 1 / (1 + value)}


def tiny_study(tmp_path: Path, **overrides) -> tune.TuneConfig:
    """A study of dcgan trials of 8 steps at the tiny size, 2 reports each (at steps 2 and 4)."""
    fields = dict(model="dcgan", trials=2, trial_seconds=None, trial_steps=8, reports=2, eval_n=20, device="cpu",
                  storage=f"sqlite:///{tmp_path / 'tune.db'}", study="tiny", out=str(tmp_path / "study"),
                  model_options=dict(TINY_OPTIONS["dcgan"]), space=dict(SPACE), startup_trials=1, baseline=False)
    fields.update(overrides)
    return tune.TuneConfig(**fields)


# ----------------------------------------------------------------------------- the objective


def test_the_objective_is_the_evaluators_score_and_never_a_loss(tmp_path, monkeypatch):
    real_train = tune.train

    def absurd_losses(cfg, **kwargs):  # losses that would win or lose any comparison, if they were read
        for event in real_train(cfg, **kwargs):
            if isinstance(event, Step):
                event = dataclasses.replace(event, losses={"loss_g": 1e9 * cfg.lr_g, "loss_d": -1e9})
            yield event

    monkeypatch.setattr(tune, "train", absurd_losses)
    fake = FakeEvaluator([5.0, 4.0, 3.0, 9.0, 8.0, 7.0])  # trial 0: reports 5, 4, final 3; trial 1: 9, 8, final 7
    cfg = tiny_study(tmp_path, pruner="none")
    rows = list(tune.run_study(cfg, fake))
    assert len(fake.calls) == 6 and set(fake.calls) == {(20, 0)}  # the same N and seed every time
    assert [r["frechet_distance"] for r in rows] == [3.0, 7.0]
    assert [r["reports"] for r in rows] == [[5.0, 4.0], [9.0, 8.0]]
    assert rows[0]["final_losses"]["loss_d"] == -1e9  # recorded beside the score, not optimised
    study = tune.load_study(cfg.storage, "tiny")
    assert study.best_trial.number == 0 and study.best_value == 3.0


def test_accuracy_is_maximised(tmp_path):
    fake = FakeEvaluator([1.0, 1.0, 9.0, 2.0, 2.0, 1.0])  # accuracy = 1 / (1 + FD): trial 1 ends higher
    cfg = tiny_study(tmp_path, model="cgan", model_options=dict(TINY_OPTIONS["cgan"]), metric="accuracy",
                     pruner="none")
    rows = list(tune.run_study(cfg, fake))
    assert rows[1]["class_accuracy"] == pytest.approx(0.5) and rows[0]["class_accuracy"] == pytest.approx(0.1)
    assert tune.load_study(cfg.storage, "tiny").best_trial.number == 1


def test_a_trailing_trial_is_pruned_and_stops(tmp_path):
    fake = FakeEvaluator([1.0, 1.0, 1.0, 50.0, 50.0])  # trial 1 trails trial 0 at its second report
    cfg = tiny_study(tmp_path)
    rows = list(tune.run_study(cfg, fake))
    assert [r["state"] for r in rows] == ["complete", "pruned"]
    assert rows[1]["reports"] == [50.0, 50.0] and rows[1]["frechet_distance"] is None
    assert rows[1]["steps"] == 4 < cfg.trial_steps  # stopped at the report, not trained to the end
    assert len(fake.calls) == 5  # no final evaluation for the pruned trial
    assert not (Path(cfg.out) / "trial-0001").exists()  # and nothing saved
    study = tune.load_study(cfg.storage, "tiny")
    assert study.trials[1].state == optuna.trial.TrialState.PRUNED


def test_a_diverged_trial_counts_as_failed(tmp_path, monkeypatch):
    from aigc_models.training import Done

    def diverging(cfg, **kwargs):
        yield Done(3, 0.1, "diverged", None, "The losses became NaN at step 3.")

    monkeypatch.setattr(tune, "train", diverging)
    rows = list(tune.run_study(tiny_study(tmp_path, trials=2), FakeEvaluator([])))
    assert [r["state"] for r in rows] == ["diverged", "diverged"]  # counted: the study ends


# ----------------------------------------------------------------------------- storage


def test_a_study_resumes_from_its_sqlite_file(tmp_path):
    cfg = tiny_study(tmp_path, trials=1, pruner="none")
    assert [r["trial"] for r in tune.run_study(cfg, FakeEvaluator([3.0, 2.0, 1.0]))] == [0]
    resumed = tiny_study(tmp_path, trials=3, pruner="none")  # a new process: the same command, more trials
    rows = list(tune.run_study(resumed, FakeEvaluator([3.0] * 6)))
    assert [r["trial"] for r in rows] == [1, 2]
    study = tune.load_study(cfg.storage, "tiny")
    assert len(study.trials) == 3 and tune.finished(study) == 3
    assert study.trials[0].params != study.trials[1].params  # not the first trial's draw again
    assert list(tune.run_study(resumed, FakeEvaluator([]))) == []  # already complete: nothing to do


def test_a_trial_whose_process_was_killed_is_marked_failed_on_resume(tmp_path, monkeypatch):
    import time

    import optuna

    monkeypatch.setattr(tune, "GRACE_SECONDS", 1)
    cfg = tiny_study(tmp_path, trials=1, pruner="none")
    storage, _ = tune.storage_for(cfg.storage)
    study = optuna.create_study(storage=storage, study_name="tiny", direction="minimize")
    for key, value in {"model": cfg.model, "dataset": cfg.dataset, "metric": cfg.metric}.items():
        study.set_user_attr(key, value)
    with pytest.warns(UserWarning, match="Heartbeat"):  # Optuna's own trials come from optimize, not ask
        killed = study.ask()  # a trial that sent one heartbeat, then its process died
    storage.record_heartbeat(killed._trial_id)
    # past the grace period with room for the database clock's whole seconds (SQLite's timestamps compare
    # at one-second resolution: 1.5 s once measured as under 1 s): a lower bound, a busy machine only waits longer
    time.sleep(2.5)
    assert [r["trial"] for r in tune.run_study(cfg, FakeEvaluator([3.0] * 3))] == [1]
    states = [t.state.name for t in tune.load_study(cfg.storage, "tiny").trials]
    assert states == ["FAIL", "COMPLETE"]  # not "RUNNING" for ever
    assert tune.trial_row(tune.load_study(cfg.storage, "tiny").trials[0], cfg.objective)["state"] == "stopped"


def test_a_study_refuses_other_settings_under_its_name(tmp_path):
    list(tune.run_study(tiny_study(tmp_path, trials=1), FakeEvaluator([1.0] * 3)))
    other = tiny_study(tmp_path, model="cgan", model_options=dict(TINY_OPTIONS["cgan"]))
    with pytest.raises(ValueError, match=r"^Study tiny in '?sqlite:///.* searches dcgan on mnist for fd, not cgan"):
        list(tune.run_study(other, FakeEvaluator([])))
    fresh = tiny_study(tmp_path, study="another")  # same folder, new study: its trial folders would be overwritten
    with pytest.raises(ValueError, match="already holds trials of another study"):
        list(tune.run_study(fresh, FakeEvaluator([])))


def test_the_shipped_recipe_is_the_first_trial(tmp_path):
    cfg = tiny_study(tmp_path, trials=1, baseline=True, space={"loss": Choice(("ns", "hinge"))}, model_options={})
    base = tune.base_config(cfg.validate())
    assert tune.recipe_params(base, cfg.space) == {"loss": base.loss}
    cfg = tiny_study(tmp_path, trials=1, baseline=True, space={"loss": Choice(("ns", "hinge"))}, trial_steps=2,
                     reports=0, model_options={"g_channels": 4, "d_channels": 4})
    rows = list(tune.run_study(cfg, FakeEvaluator([1.0])))
    assert rows[0]["baseline"] and rows[0]["params"] == {"loss": base.loss}


# ----------------------------------------------------------------------------- the best trial


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory):
    from aigc_models.metrics import Evaluator

    folder = tmp_path_factory.mktemp("classifier") / "mnist-classifier"
    run_events(tiny_train_config("classifier", folder, steps=2))
    return Evaluator(load_checkpoint(folder), "mnist")


def test_the_best_trial_is_kept_as_a_checkpoint_that_loads_and_samples(tmp_path, evaluator):
    cfg = tiny_study(tmp_path, pruner="none")
    rows = list(tune.run_study(cfg, evaluator))
    assert all(r["state"] == "complete" and math.isfinite(r["frechet_distance"]) for r in rows)
    best = min(rows, key=lambda r: r["frechet_distance"])
    kept = Path(cfg.out) / "best"
    meta = read_meta(kept)
    assert meta["training"]["tune"]["trial"] == best["trial"]
    assert meta["metrics"]["frechet_distance"] == pytest.approx(best["frechet_distance"])
    assert f"--lr-g {best['params']['lr_g']}" in meta["training"]["command"]
    assert "python -m aigc_models train --model dcgan" in (kept / "README.md").read_text()
    images = sample(load_checkpoint(kept), 4, seed=0)
    assert images.shape == (4, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    assert torch.equal(images, sample(load_checkpoint(best["checkpoint"]), 4, seed=0))
    info = tune_report.summary(tune.load_study(cfg.storage, "tiny"))
    assert info["best"]["trial"] == best["trial"] and set(info["loss_correlations"]) >= {"loss_g", "loss_d"}
    assert "best: trial" in tune_report.table(info)


# ----------------------------------------------------------------------------- the space


@pytest.mark.parametrize("name", [n for n, f in REGISTRY.items() if f.search_space])
def test_every_search_space_stays_within_the_bounds_trainconfig_declares(name):
    entry = REGISTRY[name]
    space = tune.check_space(entry, entry.search_space)
    base = TrainConfig.for_family(name).validate()
    for key, dim in space.items():
        values = dim.options if isinstance(dim, Choice) else (dim.low, dim.high)
        for value in values:
            cfg = tune.apply_params(base, {key: value})  # validates
            if key in tune.SEARCHED_SETTINGS and key != "diffaugment":
                b = setting_bounds(key)
                assert b.get("choices") is None or value in b["choices"]
                assert b.get("lo") is None or value >= b["lo"]
            assert cfg is not None


def test_apply_params_sets_betas_width_and_model_options():
    base = TrainConfig.for_family("dcgan").validate()
    cfg = tune.apply_params(base, {"beta1": 0.0, "width": 16, "d_kernel": 5, "lr_d": 1e-3})
    assert cfg.betas == (0.0, 0.999) and cfg.lr_d == 1e-3
    assert cfg.model_options == {"g_channels": 16, "d_channels": 16, "d_kernel": 5}


@pytest.mark.parametrize("space, message", [
    ({"lr_g": Range(0.0, 1e-3)}, "lr_g must be a number"),
    ({"lr_g": Range(1e-3, 1e-4)}, "needs low < high"),
    ({"lr_g": Range(-1.0, 1e-3, log=True)}, "log scale"),
    ({"batch_size": Choice((64, 10**6))}, "batch_size must be a whole number"),
    ({"loss": Choice(("ns", "wasserstein"))}, "loss"),
    ({"steps": Choice((1, 2))}, "not a searchable setting"),
    ({"diffaugment": Choice(("flip",))}, "DiffAugment policy"),
    ({"width": Choice((0,))}, "'g_channels' must be an integer from 1"),
    ({"beta1": Choice((1.0,))}, "beta1"),
    ({"lr_g": (1e-4, 1e-3)}, "must be a Range or a Choice"),
    ({}, "dcgan has no search space"),
])
def test_a_bad_search_space_is_refused_in_one_sentence(space, message):
    with pytest.raises(ValueError, match=message) as err:
        tune.check_space(REGISTRY["dcgan"], space)
    assert "\n" not in str(err.value)


def test_a_family_without_width_refuses_a_width():
    with pytest.raises(ValueError, match="mlp-gan has no width fields"):
        tune.check_space(REGISTRY["mlp-gan"], {"width": Choice((16,))})


# ----------------------------------------------------------------------------- arguments and reading


@pytest.mark.parametrize("overrides, message", [
    ({"model": "classifier", "space": None}, "classifier has no search space; the families with one are"),
    ({"model": "nope"}, "Unknown model"),
    ({"metric": "loss"}, "metric"),
    ({"metric": "accuracy"}, "dcgan is unconditional: use the fd metric"),
    ({"trials": 0}, "trials must be a whole number between 1 and"),
    ({"trial_seconds": None, "trial_steps": None}, "A trial needs a budget"),
    ({"trial_seconds": -1.0}, "trial_seconds"),
    ({"reports": 1000}, "reports must be a whole number between 0 and 100"),
    ({"eval_n": 1}, "eval_n must be a whole number between 10 and"),
    ({"pruner": "sometimes"}, "pruner"),
    ({"study": "a b"}, "A study name is 1 to 100 letters"),
    ({"storage": "not a url"}, "is not an SQLAlchemy URL"),
])
def test_bad_settings_are_refused_in_one_sentence(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message) as err:
        tiny_study(tmp_path, **overrides).validate()
    assert "\n" not in str(err.value)


def test_spearman_ranks_with_ties():
    assert tune_report.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert tune_report.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert tune_report.spearman([1, 1, 2, 3], [5, 6, 7, 8]) == pytest.approx(0.9486833)  # scipy.stats.spearmanr
    assert tune_report.spearman([1, 2], [3, 4]) is None and tune_report.spearman([1, 1, 1], [1, 2, 3]) is None


def test_a_missing_study_is_named(tmp_path):
    list(tune.run_study(tiny_study(tmp_path, trials=1, reports=0), FakeEvaluator([1.0])))
    with pytest.raises(ValueError, match=r"^No study named other in '?sqlite:///.*; it holds tiny\.$"):
        tune.load_study(f"sqlite:///{tmp_path / 'tune.db'}", "other")
    with pytest.raises(ValueError, match="No study storage at"):
        tune.load_study(f"sqlite:///{tmp_path / 'none.db'}", "tiny")


# ----------------------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-classifier") / "mnist-classifier"
    run_events(tiny_train_config("classifier", folder, steps=2))
    return folder


def test_tune_on_the_command_line_prints_the_trials_and_a_summary_reads_them(tmp_path, classifier_dir, capsys,
                                                                             monkeypatch):
    from aigc_models import cli

    storage = f"sqlite:///{tmp_path / 'runs' / 'tune.db'}"
    args = ["tune", "--model", "dcgan", "--trials", "2", "--trial-steps", "3", "--reports", "1", "--eval-n", "20",
            "--storage", storage, "--study", "cli", "--out", str(tmp_path / "cli"), "--classifier",
            str(classifier_dir), "--device", "cpu", "--option", "latent_dim=8"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    assert "trial 0: complete" in err and "trial 1:" in err and "best trial kept at" in err
    assert "note: the shipped" not in err and "* the shipped recipe" in out  # latent_dim is not searched
    assert "Spearman rho between final loss_g and frechet_distance over" in out
    assert (tmp_path / "cli" / "best" / "model.safetensors").is_file()

    def no_training(*args, **kwargs):
        raise AssertionError("--summary trained")

    monkeypatch.setattr(tune, "train", no_training)
    assert cli.main(["tune", "--summary", "--study", "cli", "--storage", storage]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:3] == ["trial", "state", "FD"]
    assert cli.main(["tune", "--summary", "--study", "cli", "--storage", storage, "--json"]) == 0
    info = __import__("json").loads(capsys.readouterr().out)
    assert info["model"] == "dcgan" and len(info["trials"]) == 2
    assert cli.main(args) == 0  # the same command again: the study is complete, nothing trains
    assert "trial " not in capsys.readouterr().err.replace("best trial", "")


@pytest.mark.parametrize("args, message", [
    (["--trials", "0"], "trials must be a whole number between 1 and"),
    (["--model", "classifier"], "classifier has no search space"),
    (["--metric", "accuracy"], "dcgan is unconditional: use the fd metric"),
    (["--storage", "not a url"], "is not an SQLAlchemy URL"),
    (["--storage", "sqlite:///FILE/tune.db"], "--storage"),
    (["--out", "FILE"], "is an existing file; give a folder"),
    (["--study", "../up"], "A study name is 1 to 100 letters"),
    (["--trial-seconds", "0"], "trial_seconds must be None"),
    (["--eval-n", "5"], "eval_n must be a whole number between 10"),
    (["--summary", "--study", "x", "--storage", "sqlite:///MISSING.db"], "No study storage at"),
])
def test_bad_tune_arguments_are_refused_in_one_line(tmp_path, capsys, args, message):
    from aigc_models import cli

    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    args = [a.replace("FILE", str(a_file)).replace("MISSING", str(tmp_path / "missing")) for a in args]
    base = ["tune", "--model", "dcgan", "--storage", f"sqlite:///{tmp_path / 'tune.db'}", "--out", str(tmp_path / "o")]
    assert cli.main([*base, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_tune_without_a_model_names_the_searchable_families(capsys):
    from aigc_models import cli

    assert cli.main(["tune"]) == 2
    assert capsys.readouterr().err.startswith("error: tune needs --model: one of mlp-gan, dcgan, cgan")


def test_a_study_record_rebuilds_the_same_study_without_the_trials_folders():
    import json

    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from optuna.trial import TrialState, create_trial

    study = optuna.create_study(direction="minimize")
    study.set_user_attr("model", "dcgan")
    space = {"lr": FloatDistribution(1e-4, 1e-2, log=True), "batch_size": CategoricalDistribution((32, 64))}
    study.add_trial(create_trial(params={"lr": 1e-3, "batch_size": 64}, distributions=space, value=12.5,
                                 intermediate_values={0: 30.0, 1: 14.0},
                                 user_attrs={"checkpoint": "/srv/runs/.tune/x/trial-0000", "steps": 40}))
    study.add_trial(create_trial(state=TrialState.PRUNED, params={"lr": 5e-3, "batch_size": 32}, distributions=space,
                                 intermediate_values={0: 90.0}, user_attrs={"steps": 12}))
    record = json.loads(json.dumps(tune.study_record(study)))  # plain JSON on the way
    assert "/srv" not in json.dumps(record)
    again = tune.study_from_record(record)
    assert again.direction == study.direction and again.user_attrs == {"model": "dcgan"}
    assert [t.state for t in again.trials] == [TrialState.COMPLETE, TrialState.PRUNED]
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert [t.intermediate_values for t in again.trials] == [t.intermediate_values for t in study.trials]
    assert again.best_value == 12.5 and again.trials[0].user_attrs == {"steps": 40}
    with pytest.raises(ValueError, match="Not a study record"):
        tune.study_from_record({"direction": "minimize", "trials": [{"state": "BORED"}]})
