"""The Tune tab's handlers (ui/tune.py): a tiny study in the Train queue, its table, figures and run."""

from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")


@pytest.fixture
def quick(monkeypatch, app_environment):
    """Trials of about a second (losses reported at every step, so that even one step records them),
    scored on 50 samples."""
    from aigc_models import tune
    from ui import tune as tune_tab

    monkeypatch.setattr(tune, "LOG_EVERY", 1)
    monkeypatch.setattr(tune_tab, "MIN_TRIAL_SECONDS", 0.5)
    monkeypatch.setattr(tune_tab, "EVAL_N", 50)
    return tune_tab


def test_a_study_streams_its_trials_and_saves_the_best_as_a_run(quick):
    import plotly.graph_objects as go

    from ui import common

    outputs = list(quick.tune_study("dcgan", "mnist", "fd", 2, 1.5, 0, "tiny-study"))
    status, table, history, importance, scatter, rho, saved, run_id = outputs[-1]
    assert saved == "runs/tiny-study" and "runs/tiny-study" in status and run_id
    assert list(table.iloc[:, 0]) == [0, 1] and table.columns[2] == "FD"
    assert all(isinstance(f, go.Figure) for f in (history, importance, scatter))
    assert "Spearman rho between final loss_g and quality" in rho
    info = common.find_checkpoint("runs/tiny-study")
    assert info is not None and info["family"] == "dcgan"  # the other tabs list it like any run
    assert not any(i["key"].startswith("runs/.tune") for i in common.discover(("dcgan",)))
    assert len(outputs) == 1 + 2 + 1  # a first status, a row per trial, the end


def test_a_study_speaks_chinese_to_a_chinese_browser(quick):
    class Request:
        headers = {"accept-language": "zh-CN,zh;q=0.9"}
        session_hash = "zh-session"

    outputs = list(quick.tune_study("cgan", "mnist", "accuracy", 1, 1.0, 0, "zh-study", request=Request()))
    status, table, history, *_ = outputs[-1]
    assert "搜索结束" in status and table.columns[1] == "状态"
    assert history.layout.title.text == "优化历史"


@pytest.mark.parametrize("args, message", [
    (("pixelcnn", "mnist", "fd", 2, 10, 0), "Unknown model"),
    (("dcgan", "mnist", "accuracy", 2, 10, 0), "dcgan is unconditional"),
    (("dcgan", "mnist", "fd", 0, 10, 0), "Trials must be a whole number between 1 and 12"),
    (("dcgan", "mnist", "fd", 2, 1000, 0), "Seconds per trial must be a number"),
    (("dcgan", "mnist", "fd", 12, 60, 0), "12 trials of 60 s make 720 s"),
    (("dcgan", "kmnist", "fd", 2, 10, 0), "Unknown dataset"),
])
def test_bad_study_settings_are_refused_in_one_sentence(app_environment, args, message):
    from ui import tune as tune_tab
    from ui.errors import UserError

    with pytest.raises(UserError, match=message):
        tune_tab.study_config(*args, folder="x")


def test_a_queued_study_can_be_withdrawn(quick):
    from ui import train as train_tab

    run_id, _ = train_tab.queue_run("withdrawn-study", "dcgan", "mnist")
    assert "Withdrawn" in train_tab.stop_training(run_id)
    outputs = list(quick.tune_study("dcgan", "mnist", "fd", 1, 1.0, 0, "withdrawn-study", run_id))
    assert outputs == [("The study was withdrawn before it started; nothing was trained.", None, None, None, None,
                        "", "", run_id)]


def test_the_tune_tab_is_in_the_train_section(app_environment):
    import app
    from ui import tune as tune_tab

    assert ("section_train", "tab_tune", tune_tab) in app.TABS
    assert {name for _, name in tune_tab.family_choices()} >= {"dcgan", "cgan"}


def test_an_api_call_with_an_unknown_model_is_refused_before_a_name_is_reserved(app_environment):
    from ui import train as train_tab
    from ui import tune as tune_tab
    from ui.errors import UserError

    before = len(train_tab.TICKETS.tickets)
    with pytest.raises(UserError, match="Unknown model 'xxxxx"):
        next(tune_tab.tune_study("x" * 5000, "mnist", "fd", 1, 10, 0, None))
    assert len(train_tab.TICKETS.tickets) == before


def test_the_tab_opens_on_the_recorded_study_in_both_languages():
    """docs/tune-example/study.json (scripts/tune_example.py): the tab's untouched form's study, shown
    on open with its table, figures and correlations, and a note that says what it is."""
    import json

    import plotly.graph_objects as go

    from ui import tune as tune_tab

    recorded = json.loads(tune_tab.EXAMPLE.read_text())
    assert recorded["settings"] == {"model": tune_tab.family_choices()[0][1], "dataset": "mnist",
                                    **tune_tab.OPENING_FORM}
    trials = recorded["study"]["trials"]
    assert len(trials) == tune_tab.OPENING_FORM["trials"]
    assert all("checkpoint" not in t["user_attrs"] for t in trials)  # no folder of the machine that ran it
    for lang, said in (("en", "a study recorded earlier"), ("zh", "之前录制的一次搜索")):
        _, note, table, history, importance, scatter, rho = tune_tab.tune_opening("fd", lang)
        assert said in note and recorded["date"] in note
        assert len(table) == len(trials) and table.iloc[:, 2].notna().sum() >= 1
        assert all(isinstance(f, go.Figure) and f.data for f in (history, scatter))
        assert rho
        # every word a figure shows (titles, axes, legend) in the page's language, none of Optuna's own
        shown = [str(f.layout.title.text) for f in (history, importance, scatter)]
        shown += [str(f.layout.xaxis.title.text) for f in (history, importance)] + [str(importance.layout.yaxis.title.text)]
        shown += [str(trace.name) for trace in history.data]
        optuna_words = {"Best Value", "Infeasible Trial", "Hyperparameter", "Hyperparameter Importance"}
        assert not optuna_words & set(shown), shown
        if lang == "zh":
            assert {"试验", "目前最佳", "设置", "重要性"} <= set(shown) and "Trial" not in shown, shown


def test_without_the_record_the_tab_opens_on_an_empty_table_with_headers(monkeypatch, tmp_path):
    from ui import tune as tune_tab

    monkeypatch.setattr(tune_tab, "EXAMPLE", tmp_path / "missing.json")
    tune_tab.recorded_example.cache_clear()
    try:
        _, note, table, *figures, rho = tune_tab.tune_opening("accuracy", "en")
    finally:
        tune_tab.recorded_example.cache_clear()
    assert note.startswith("Pick a model") and table.empty and list(table.columns)[2] == "class accuracy"
    assert figures == [None, None, None] and rho == ""
