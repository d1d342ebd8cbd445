"""The Train tab opens on a recorded example of its default run (scripts/train_example.py): the
script records what the tab's own LiveView showed, and the tab reads it back in either language."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from ui import train as tab
from ui.i18n import EN, ZH

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import train_example  # noqa: E402


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short run of the tab's default settings, recorded by the script (30 steps, not 2,000)."""
    out = tmp_path_factory.mktemp("example")
    train_example.record(out, steps=30)
    return out


def test_the_script_records_the_default_run_as_the_tab_showed_it(recorded: Path) -> None:
    record = json.loads((recorded / "example.json").read_text())
    assert record["model"] == tab.LIVE_DEFAULT_FAMILY and record["dataset"] == "mnist"
    assert record["steps"] == 30 and record["reason"] == "steps" and record["seconds"] > 0
    series = {row[2] for row in record["rows"]}
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= series
    assert max(row[0] for row in record["rows"]) == 30
    with Image.open(recorded / "grid.png") as grid:
        assert grid.width > 100 and grid.height > 100  # a class per row: the cGAN's 10 x 10 grid


@pytest.mark.parametrize("lang, said", [("en", EN), ("zh", ZH)])
def test_the_tab_opens_on_the_record_in_the_page_s_language(recorded: Path, monkeypatch: pytest.MonkeyPatch,
                                                            lang: str, said: dict) -> None:
    monkeypatch.setattr(tab, "EXAMPLE_DIR", recorded)
    status, loss, scores, grid, hist = tab.example_view(lang)
    assert status.startswith(said["train_idle"]) and said["train_example"].split("{")[0] in status
    assert ("30 steps" in status) if lang == "en" else ("30 步" in status and "thread" not in status)
    assert set(loss.series) == {"loss_d", "loss_g"} and set(scores.series) == {"d_real", "d_fake"}
    assert isinstance(grid, Image.Image)
    record = json.loads((recorded / "example.json").read_text())
    assert (hist is None) == (record["histogram"] is None)


def test_without_a_record_the_tab_opens_on_its_idle_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tab, "EXAMPLE_DIR", tmp_path / "missing")
    assert tab.example_view("en") == (EN["train_idle"], None, None, None, None)


def test_the_shipped_record_shows_the_whole_default_run() -> None:
    """docs/train-example: the 2,000-step default run, with its last class histogram."""
    status, loss, _scores, grid, hist = tab.example_view("en")
    record = json.loads((tab.EXAMPLE_DIR / "example.json").read_text())
    assert record["steps"] == 2000 and record["model"] == tab.LIVE_DEFAULT_FAMILY
    assert isinstance(hist, pd.DataFrame) and len(hist) == 10 and abs(hist["share"].sum() - 1) < 0.01
    assert isinstance(grid, Image.Image) and loss is not None and "2,000 steps" in status
