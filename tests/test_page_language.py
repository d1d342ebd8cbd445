"""Sentences the handlers write follow the page's language: the Train tab's device line, recipe and
preset notes, the Tune tab's opening table, the Ensembles note and measured table."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from ui import ensemble as ensemble_tab
from ui import train, tune

CJK = re.compile(r"[\u4e00-\u9fff]")


def request(lang: str) -> SimpleNamespace:
    return SimpleNamespace(session_hash=f"lang-{lang}", headers={"accept-language": "zh-CN,zh" if lang == "zh" else "en"})


def test_the_train_tab_s_device_line_and_recipe_note_in_both_languages():
    en, zh = train.device_sentence("en"), train.device_sentence("zh")
    assert en.startswith("**Device:**") and "time limit" in en
    assert zh.startswith("**设备：**") and "每次训练最长" in zh and "time limit" not in zh
    assert "thread" not in zh and ("个线程" in zh or "CPU" not in zh)  # a GPU's name stays as its maker wrote it
    note_en, note_zh = train.recipe_note_in("dcgan", "mnist", "en"), train.recipe_note_in("dcgan", "mnist", "zh")
    assert "mnist-dcgan" in note_en and "mnist-dcgan" in note_zh
    assert not CJK.search(note_en) and CJK.search(note_zh) and "Settings of" not in note_zh
    assert train.recipe_or_preset("dcgan", "mnist", "", request("zh"))[8] == note_zh


def test_device_labels_are_said_in_chinese(tmp_path):
    from ui.common import device_words

    assert device_words("CPU (2 threads)", "zh") == "CPU（2 个线程）"
    assert device_words("CPU (1 thread)", "zh") == "CPU（1 个线程）"
    assert device_words("CPU (1 thread)", "en") == "CPU (1 thread)"
    assert device_words("NVIDIA H200", "zh") == "NVIDIA H200"
    from aigc_models.training import Started, TrainConfig

    cfg = TrainConfig(model="cgan", dataset="mnist")
    view = train.LiveView(cfg, str(tmp_path), lang="zh")
    view.update(Started(config=cfg, device="CPU (2 threads)", parameters=10))
    assert "CPU（2 个线程）" in view.status and "thread" not in view.status


def test_preset_notes_in_both_languages():
    en = train.preset_form("documents-as-written", "mlp-gan", "mnist", request("en"))
    zh = train.preset_form("documents-as-written", "mlp-gan", "mnist", request("zh"))
    assert en[-2].startswith("Preset `documents-as-written`") and "[0, 1]" in en[-2]
    assert zh[-2].startswith("预设 `documents-as-written`") and "[0, 1]" in zh[-2] and "Preset" not in zh[-2]
    kept = train.recipe_or_preset("mlp-gan", "mnist", "documents-as-written", request("zh"))
    assert kept[8].startswith("预设") and kept[-1] == "documents-as-written"


def test_the_tune_tab_opens_on_a_headed_table_in_the_page_s_language():
    for lang in ("en", "zh"):
        choices, note, table, *_ = tune.tune_opening("fd", lang)  # the recorded study
        assert list(table.columns)[:2] == [tune.LANGUAGES[lang]["tune_col_trial"], tune.LANGUAGES[lang]["tune_col_state"]]
        assert len(table) == tune.OPENING_FORM["trials"]
        assert set(table.iloc[:, 1]) <= {tune.LANGUAGES[lang][f"tune_state_{s}"] for s in ("complete", "pruned")}
        assert choices["choices"] == tune.metric_choices(lang)
        assert bool(CJK.search(note)) == (lang == "zh")
    assert CJK.search(tune.metric_choices("zh")[0][0]) and not CJK.search(tune.metric_choices("en")[0][0])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_ensembles_note_and_table_follow_the_page(lang, tmp_path):
    results = {"dataset": "mnist", "n": 100, "seed": 0, "members": ["a", "b"], "weights": [0.5, 0.5], "device": "CPU",
               "date": "2026-12-01", "real_floor": {"frechet_distance": 2.5, "coverage": 10},
               "rows": [{"label": "`a` alone", "report": {}, "command": "python -m aigc_models evaluate --checkpoint a"},
                        {"label": "average (the documents' way)", "report": {}, "command": "x"},
                        {"label": "mixture", "report": {}, "command": "y"}],
               "noise": "The members' latent sizes differ."}
    path = tmp_path / "ensemble-table.json"
    path.write_text(json.dumps(results))
    table = ensemble_tab.measured_table(path, lang)
    if lang == "zh":
        assert "| 样本 | FD（越低越好）" in table and "真实训练图像（下限）" in table and "平均（文档的做法）" in table
        assert "`a` 单独" in table and "每一行对应一条命令" in table and "latent sizes" not in table
    else:
        assert "| samples | FD (lower is better)" in table and "real training images (the floor)" in table
        assert "Each row is one command" in table and "latent sizes differ" in table
    missing = ensemble_tab.measured_table(tmp_path / "none.json", lang)
    assert ("这里还没有测量表" if lang == "zh" else "No measured table here yet") in missing


def test_the_ensembles_note_names_the_noise_and_the_draws_in_both_languages():
    members = SimpleNamespace(latent_dim=64)
    ens = SimpleNamespace(members=[members, members], names=["x", "y"], shares_noise=True, weights=[0.5, 0.5])
    en = ensemble_tab.ensemble_note(ens, ["A", "B", "A"], 3, 7, "en")
    zh = ensemble_tab.ensemble_note(ens, ["A", "B", "A"], 3, 7, "zh")
    assert "same z" in en and "A drew 2" in en and "B drew 1" in en and "Seed 7" in en
    assert "同一个 z" in zh and "A 画了 2 张" in zh and "种子 7" in zh and not re.search(r"[A-Za-z]{4,}", zh.replace("z", ""))
