"""The Transfer lesson tab (ui/transfer.py): it reads the measured curves and shows them, the
runs' samples and their table, in the page's language; it never shows a file outside its folder."""

from __future__ import annotations

import json
from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from ui import transfer

ZH = SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"})


@pytest.fixture
def measured(tmp_path, monkeypatch):
    """A small results file in transfer_curves.py's format: 2 sizes x 2 starts, one without samples."""
    samples = tmp_path / "docs" / "transfer"
    samples.mkdir(parents=True)
    curves = []
    for size in (100, 0):
        for start, augment in (("scratch", False), ("fine-tune", True)):
            png = samples / f"{size or 'all'}-{start}.png"
            Image.new("L", (30, 30), 128).save(png)
            points = ([{"step": 0, "seconds": 1.0, "frechet_distance": 900.0, "coverage": 10}] if start != "scratch" else [])
            points += [{"step": s, "seconds": 2.0 * s, "frechet_distance": 1000.0 / s, "coverage": 10} for s in (250, 500)]
            curves.append({"size": size, "start": start, "diffaugment": augment, "points": points,
                           "samples": str(png.relative_to(tmp_path)), "seconds": 12.5})
    curves.append({**curves[0], "start": "FreezeD", "samples": "../../etc/passwd"})  # a path outside: never shown
    path = tmp_path / "docs" / "transfer-curves.json"
    path.write_text(json.dumps({"family": "dcgan", "steps": 500, "eval_n": 100, "device": "CPU", "date": "d",
                                "command": "python scripts/transfer_curves.py", "curves": curves}))
    monkeypatch.setattr(transfer.common, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(transfer, "RESULTS", path)
    monkeypatch.setattr(transfer, "SAMPLES_DIR", samples)
    return tmp_path


def test_the_lesson_shows_every_curve_the_runs_samples_and_their_table(measured):
    figure, gallery, table, note = transfer.transfer_lesson("100")
    assert len(figure.data) == 5 and [a.text for a in figure.layout.annotations] == ["100 images", "all 60,000 images"]
    assert sum(trace.showlegend for trace in figure.data) == 3  # one legend entry per run kind, in the first panel
    dashed = {trace.name: trace.line.dash for trace in figure.data if trace.showlegend}
    assert dashed["fine-tuned from MNIST, DiffAugment"] == "dash" and dashed["from scratch, no augmentation"] == "solid"
    assert figure.layout.yaxis.type == "log"
    assert [caption for _, caption in gallery] == ["from scratch, no augmentation", "fine-tuned from MNIST, DiffAugment"]
    assert all(path.startswith(str(measured / "docs" / "transfer")) for path, _ in gallery)  # not the FreezeD row's
    assert list(table["FD at step 0"]) == ["-", 900.0, "-"] and list(table["FD at the end"]) == [2.0, 2.0, 2.0]
    assert "500 steps a run" in note and "FD of 100 samples" in note
    assert len(transfer.transfer_lesson("0")[1]) == 2


def test_the_lesson_speaks_chinese_and_refuses_a_size_not_measured(measured):
    figure, gallery, table, note = transfer.transfer_lesson("0", ZH)
    assert "每次 500 步" in note
    assert figure.layout.annotations[1].text == "全部 60,000 张图像" and table.columns[0] == "图像数"
    assert gallery[0][1] == "从零训练, 无增强"
    with pytest.raises(gr.Error, match=r"Training images: choose one of 100, 0 \(0 = all\), got '5'"):
        transfer.transfer_lesson("5")


def test_without_measurements_the_lesson_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(transfer, "RESULTS", tmp_path / "none.json")
    figure, gallery, table, note = transfer.transfer_lesson("100")
    assert figure is None and gallery == [] and table is None and "scripts/transfer_curves.py" in note


def test_the_shipped_results_file_is_read_when_present():
    result = transfer.load_results()
    if result is None:
        pytest.skip("docs/transfer-curves.json is not measured in this checkout")
    size = str(transfer.sizes_of(result)[0])
    figure, gallery, table, _ = transfer.transfer_lesson(size)
    assert len(figure.data) == len(result["curves"]) and len(table) >= 1 and gallery
