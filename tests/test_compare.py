"""The Compare view (aigc_models/compare.py, ui/compare.py, `bench --sampling`, `compare`):
rows from tiny checkpoints that `evaluate --save` scored, merged with a sampling bench,
as a Markdown table, a plotly figure, a PNG, the CLI and the tab's handler.
No assertion depends on how long anything took."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aigc_models import compare
from aigc_models.bench import sampling_bench
from aigc_models.checkpoints import load_checkpoint, read_meta
from aigc_models.cli import main
from conftest import run_events, tiny_train_config

REPO = Path(__file__).resolve().parent.parent
SCORED = ("tiny-dcgan", "tiny-vae", "tiny-diffusion")  # scored by `evaluate --save`
UNSCORED = "tiny-mlp-gan"  # trained, never evaluated: no metrics
FAMILY = {"tiny-dcgan": "dcgan", "tiny-vae": "vae", "tiny-diffusion": "diffusion", UNSCORED: "mlp-gan",
          "tiny-classifier": "classifier"}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A folder of tiny checkpoints: a GAN, a VAE and a diffusion model scored with `evaluate --save`
    (N = 50, the shipped classifier), an MLP GAN without metrics, and a classifier (not a generator)."""
    folder = tmp_path_factory.mktemp("compare") / "checkpoints"
    for name, family in FAMILY.items():
        run_events(tiny_train_config(family, folder / name))
    for name in SCORED:
        assert main(["evaluate", "--checkpoint", str(folder / name), "--n", "50", "--save"]) == 0
    return folder


@pytest.fixture(scope="module")
def bench(root: Path) -> dict:
    """A sampling bench of the tiny checkpoints (few calls; the numbers are never compared)."""
    return sampling_bench([root], repeats=5, warmup=1, max_seconds=5, note="test", log=lambda m: None)


def by_name(rows: list[compare.Row]) -> dict[str, compare.Row]:
    return {r.name: r for r in rows}


# ----------------------------------------------------------------------------- rows


def test_rows_come_from_the_stored_metrics_and_training_record(root: Path, bench: dict) -> None:
    """One row per generator (the classifier is not one); FD, recall, N and training time as
    `evaluate --save` and `train` stored them (a VAE's from its prior samples); parameters from the config."""
    rows = by_name(compare.collect_rows([root], bench=bench))
    assert set(rows) == {*SCORED, UNSCORED}
    for name in SCORED:
        meta = read_meta(root / name)
        scores = meta["metrics"].get("prior_samples", meta["metrics"])
        row = rows[name]
        assert row.family == FAMILY[name]
        assert row.frechet_distance == pytest.approx(scores["frechet_distance"])
        assert row.recall == pytest.approx(scores["recall"])
        assert row.coverage == scores["coverage"] and row.n == 50
        assert row.floor == pytest.approx(meta["metrics"]["real_floor"]["frechet_distance"])
        assert row.train_seconds == pytest.approx(meta["training"]["seconds"])
        assert row.train_steps == meta["training"]["steps"] and row.train_device == meta["training"]["device"]
        model = load_checkpoint(root / name)
        assert row.parameters == sum(p.numel() for p in model.parameters())
    assert rows["tiny-vae"].scored == "prior samples" and rows["tiny-dcgan"].scored == "samples"
    diffusion = rows["tiny-diffusion"]
    assert diffusion.class_accuracy is not None  # conditional: the classifier checks the asked class
    config = load_checkpoint(root / "tiny-diffusion").config
    assert diffusion.sampler == f"{config.sampler}, {config.default_steps} steps, guidance {config.default_guidance:g}"
    assert rows["tiny-dcgan"].sampler == "one pass"
    plain = rows[UNSCORED]
    assert (plain.frechet_distance, plain.recall, plain.n, plain.class_accuracy) == (None, None, None, None)


def test_a_fine_tuned_checkpoint_counts_the_runs_it_continued() -> None:
    """Training time, steps and devices add up over ``continued_from`` (the card's whole history)."""
    first = {"seconds": 3300.2, "steps": 1628, "device": "CPU (1 thread)", "command": "train ..."}
    tuned = {"seconds": 3000.1, "steps": 6473, "device": "CPU (2 threads)", "continued_from": first}
    assert compare.whole_training(tuned) == {"train_seconds": pytest.approx(6300.3), "train_steps": 8101,
                                             "train_device": "CPU (1 thread) → CPU (2 threads)"}
    assert compare.whole_training({**tuned, "continued_from": {**first, "device": "CPU (2 threads)"}})["train_device"] \
        == "CPU (2 threads)"
    assert compare.whole_training(first) == {"train_seconds": 3300.2, "train_steps": 1628, "train_device": "CPU (1 thread)"}
    assert compare.whole_training({}) == {"train_seconds": None, "train_steps": None, "train_device": None}
    assert compare.train_cell(6300.3, 8101) == "6,300 s (8,101 steps)"


def test_sampling_times_merge_by_name_and_config(root: Path, bench: dict) -> None:
    """A row takes its checkpoint's measurement; a checkpoint missing from the bench, or measured with
    another config, keeps its row with no time and says why."""
    rows = by_name(compare.collect_rows([root], bench=bench))
    for name in (*SCORED, UNSCORED):
        measured = bench["checkpoints"][name]
        assert rows[name].sample_ms == measured["median_ms"] and rows[name].sample_ms_p90 == measured["p90_ms"]
        assert rows[name].sampling_parameters == measured["sampling_parameters"] and rows[name].bench_note == ""
    edited = json.loads(json.dumps(bench))
    del edited["checkpoints"]["tiny-dcgan"]
    edited["checkpoints"]["tiny-vae"]["config_sha256"] = "0" * 64
    rows = by_name(compare.collect_rows([root], bench=edited))
    assert set(rows) == {*SCORED, UNSCORED}
    assert rows["tiny-dcgan"].sample_ms is None and rows["tiny-dcgan"].bench_note == "not measured"
    assert rows["tiny-vae"].sample_ms is None and rows["tiny-vae"].bench_note == "measured on another config"
    assert rows["tiny-diffusion"].sample_ms == bench["checkpoints"]["tiny-diffusion"]["median_ms"]
    assert all(r.sample_ms is None for r in compare.collect_rows([root], bench={}))


def test_sampling_bench_report(root: Path, bench: dict) -> None:
    """The results file records N = 64, threads, repeats and, per checkpoint, median <= p90, the
    config's digest and the parameters that ran: a GAN's generator only, all of a diffusion model."""
    assert bench["n_images"] == compare.SAMPLING_N == 64
    assert bench["threads"] == torch.get_num_threads() and bench["note"] == "test"
    assert set(bench["checkpoints"]) == {*SCORED, UNSCORED}
    for name, row in bench["checkpoints"].items():
        assert 0 < row["median_ms"] <= row["p90_ms"]
        assert row["repeats"] == 5 and row["threads"] == bench["threads"]
        assert row["config_sha256"] == compare.config_digest(read_meta(root / name)["config"])
    gan = load_checkpoint(root / "tiny-dcgan")
    assert bench["checkpoints"]["tiny-dcgan"]["sampling_parameters"] == sum(p.numel() for p in gan.generator.parameters())
    diffusion = load_checkpoint(root / "tiny-diffusion")
    assert bench["checkpoints"]["tiny-diffusion"]["sampling_parameters"] == sum(p.numel() for p in diffusion.parameters())


# ----------------------------------------------------------------------------- table and picture


def test_markdown_table_has_every_row_and_dashes_for_what_is_missing(root: Path, bench: dict) -> None:
    edited = json.loads(json.dumps(bench))
    del edited["checkpoints"]["tiny-dcgan"]
    rows = compare.collect_rows([root], bench=edited)
    lines = compare.markdown_table(rows).splitlines()
    assert lines[0] == "| " + " | ".join(compare.HEADERS.values()) + " |"
    assert lines[1] == "|" + " --- |" * len(compare.HEADERS)
    assert len(lines) == 2 + len(rows)
    cells = {line.split(" | ")[0][3:-1]: line.strip("| ").split(" | ") for line in lines[2:]}
    keys = list(compare.HEADERS)
    col = {k: keys.index(k) for k in keys}
    dcgan, diffusion, plain = (by_name(rows)[n] for n in ("tiny-dcgan", "tiny-diffusion", UNSCORED))
    assert cells["tiny-dcgan"][col["fd"]] == f"{dcgan.frechet_distance:.2f} ({dcgan.floor:.2f})"
    assert cells["tiny-dcgan"][col["time"]] == "-"  # not measured: still listed
    assert cells["tiny-vae"][col["fd"]].endswith("†")  # prior samples
    assert cells["tiny-diffusion"][col["accuracy"]] == f"{diffusion.class_accuracy:.3f}"
    assert cells["tiny-diffusion"][col["time"]] != "-" and "steps" in cells["tiny-diffusion"][col["sampler"]]
    assert cells[UNSCORED][col["fd"]] == cells[UNSCORED][col["pr"]] == cells[UNSCORED][col["n"]] == "-"
    assert cells[UNSCORED][col["train"]] == f"{plain.train_seconds:,.0f} s ({plain.train_steps:,} steps)"
    chinese = compare.markdown_table(rows, headers={"fd": "FD（下限）"}).splitlines()[0]
    assert "FD（下限）" in chinese and "FD (floor)" not in chinese


def test_figure_one_marker_per_measured_checkpoint_coloured_by_family_on_log_axes(root: Path, bench: dict) -> None:
    rows = compare.collect_rows([root], bench=bench)
    fig = compare.figure(rows)
    markers = [t for t in fig.data if t.mode == "markers+text"]
    plotted = {name for t in markers for name in t.text}
    assert plotted == set(SCORED)  # the MLP GAN has no FD: table only
    for trace in markers:
        families = {by_name(rows)[n].family for n in trace.text}
        assert len(families) == 1 and trace.marker.color == compare.family_colour(families.pop())
        for name, x, y in zip(trace.text, trace.x, trace.y):
            assert (x, y) == (by_name(rows)[name].sample_ms, by_name(rows)[name].frechet_distance)
    assert len({t.marker.color for t in markers}) == 3
    assert any(t.mode == "lines" and t.name == "real-data floor" for t in fig.data)
    axes = [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]
    assert axes and all(fig.layout[k].type == "log" for k in axes)
    assert fig.layout.xaxis.title.text == compare.FIGURE_TEXT["x"]
    empty = compare.figure(compare.collect_rows([root], bench={}), text={"empty": "nothing"})
    assert not empty.data and empty.layout.annotations[0].text == "nothing"


def test_figure_png_draws_each_family_colour(root: Path, bench: dict) -> None:
    rows = compare.collect_rows([root], bench=bench)
    image = compare.figure_png(rows, width=900, height=450)
    assert image.size == (900, 450) and image.mode == "RGB"
    colours = {c for _, c in image.getcolors(maxcolors=1 << 20)}
    for family in ("dcgan", "vae", "diffusion"):
        hex_colour = compare.family_colour(family)
        assert tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)) in colours
    assert tuple(int(compare.family_colour("mlp-gan")[i:i + 2], 16) for i in (1, 3, 5)) not in colours  # no FD


def test_leaders_per_dataset(root: Path, bench: dict) -> None:
    rows = compare.collect_rows([root], bench=bench)
    base = by_name(rows)["tiny-dcgan"]
    fake = [dataclasses.replace(base, name="a", frechet_distance=10.0, recall=0.2, sample_ms=50.0),
            dataclasses.replace(base, name="b", frechet_distance=40.0, recall=0.9, sample_ms=5.0),
            dataclasses.replace(base, name="c", frechet_distance=90.0, recall=0.5, sample_ms=2.0),
            dataclasses.replace(base, name="d", frechet_distance=None, recall=None, sample_ms=None)]
    (lead,) = compare.leaders(fake)
    assert (lead.quality.name, lead.diversity.name, lead.speed.name, lead.slowest.name) == ("a", "b", "c", "a")
    assert not lead.one_leader
    (alone,) = compare.leaders([fake[0]])
    assert alone.one_leader


# ----------------------------------------------------------------------------- the command line


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "aigc_models", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_cli_bench_sampling_then_compare(root: Path, tmp_path: Path) -> None:
    """`bench --sampling --root` writes the results file; `compare` prints the table (Markdown by
    default, JSON with --json) and draws the PNG with --png."""
    out = tmp_path / "bench.json"
    result = run_cli("bench", "--sampling", "--root", str(root), "--repeats", "5", "--out", str(out), "--note", "ci")
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert set(report["checkpoints"]) == {*SCORED, UNSCORED} and report["threads"] == 1 and report["note"] == "ci"
    assert "--sampling" in report["command"]
    rows = compare.collect_rows([root], bench=report)
    png = tmp_path / "compare.png"
    result = run_cli("compare", "--root", str(root), "--bench", str(out), "--png", str(png))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == compare.markdown_table(rows)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = run_cli("compare", "--root", str(root), "--bench", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [r.as_dict() for r in rows]
    missing = run_cli("compare", "--root", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: --root")


# ----------------------------------------------------------------------------- the tab


@pytest.fixture
def tab_env(root: Path, bench: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app pointed at the tiny checkpoints and their bench file."""
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", str(root))
    monkeypatch.setenv("AIGC_RUNS_DIR", str(tmp_path / "runs"))
    shutil.copytree(root / "tiny-dcgan", tmp_path / "runs" / "my-run")  # a run: not a shipped checkpoint
    file = tmp_path / "sampling-bench.json"
    file.write_text(json.dumps(bench))
    monkeypatch.setattr(compare, "BENCH_FILE", file)
    return file


def test_tab_handler_shows_table_figure_and_a_reading_computed_from_the_rows(tab_env: Path, root: Path,
                                                                          bench: dict) -> None:
    from aigc_models.models import REGISTRY
    from ui import compare as tab
    from ui.i18n import EN, ZH

    rows = compare.collect_rows([root], bench=bench)
    table, fig, text = tab.compare_view("en")
    assert list(table.columns) == [EN[f"compare_col_{k}"] for k in compare.HEADERS]
    assert sorted(table.iloc[:, 0]) == sorted(r.name for r in rows)  # shipped only: the run is not listed
    assert {n for t in fig.data if t.mode == "markers+text" for n in t.text} == set(SCORED)
    (lead,) = compare.leaders(rows)
    assert f"`{lead.quality.name}` (FD {lead.quality.frechet_distance:.1f})" in text
    assert f"`{lead.diversity.name}` (recall {lead.diversity.recall:.2f})" in text
    assert f"`{lead.speed.name}`" in text and "test" in text  # the bench's note
    zh_table, zh_fig, zh_text = tab.compare_view("zh")
    assert list(zh_table.columns) == [ZH[f"compare_col_{k}"] for k in compare.HEADERS]
    assert zh_fig.layout.xaxis.title.text == ZH["compare_fig_x"]
    assert {t.name for t in zh_fig.data if t.mode == "markers+text"} == {
        REGISTRY[FAMILY[n]].label_zh for n in SCORED}
    assert f"`{lead.quality.name}`（FD {lead.quality.frechet_distance:.1f}）" in zh_text
    assert set(zh_table.iloc[:, 1]) == {REGISTRY[FAMILY[r.name]].label_zh for r in rows}  # 扩散模型, not Diffusion

    class Request:
        headers = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}

    assert tab.show_compare(Request())[2] == zh_text and tab.show_compare(None)[2] == text
    tab_env.write_text(json.dumps({**bench, "note_zh": "另一个核心在训练"}))  # the note in Chinese, where measured with one
    assert tab.compare_view("zh")[2].endswith("另一个核心在训练") and tab.compare_view("en")[2] == text


def test_tab_table_in_chinese_and_sized_to_fit() -> None:
    from aigc_models.models.pixelcnn import PixelCNNConfig
    from ui import compare as tab

    from aigc_models import compare_upscalers

    assert list(tab.COLUMN_SHARES) == list(compare.HEADERS) and sum(tab.COLUMN_SHARES.values()) == 100
    assert list(tab.UPSCALER_SHARES) == list(compare_upscalers.HEADERS) and sum(tab.UPSCALER_SHARES.values()) == 100
    assert tab.cell_in("one pass", "zh") == "一次前向"
    assert tab.cell_in("euler, 20 steps, guidance 1.3", "zh") == "euler, 20 步, 引导 1.3"
    assert tab.cell_in("600 s (28,197 steps)", "zh") == "600 s (28,197 步)"
    assert tab.cell_in("CPU (1 thread)", "zh") == "CPU（1 个线程）"
    assert tab.cell_in("euler, 20 steps, guidance 1.3", "en") == "euler, 20 steps, guidance 1.3"
    words = compare.sampler_settings("pixelcnn", {"dataset": "mnist", "temperature": 0.9})
    assert words == PixelCNNConfig(temperature=0.9).sampling_words() and "pixel by pixel" in words and "0.9" in words
    assert tab.cell_in(words, "zh") == "逐像素 (784 步，带缓存), 温度 0.9"


def test_tab_reading_when_nothing_is_measured(tab_env: Path, root: Path) -> None:
    from ui import compare as tab
    from ui.i18n import EN

    tab_env.write_text(json.dumps({"checkpoints": {}}))
    table, fig, text = tab.compare_view("en")
    assert len(table) == 4 and (table.iloc[:, list(compare.HEADERS).index("time")] == "-").all()
    assert EN["compare_reading_none"] in text and not fig.data


def test_tab_builds_in_blocks(tab_env: Path) -> None:
    import gradio as gr

    from ui import common
    from ui import compare as tab

    before = len(common.ON_OPEN)
    with gr.Blocks():
        assert tab.build_tab() == []
    assert len(common.ON_OPEN) == before + 1
    del common.ON_OPEN[before:]


def test_point_names_lean_away_from_the_panel_s_edges() -> None:
    """A name centred over the leftmost or rightmost point was cut off by the panel's border at
    1024 px ("nist-mlp-gan"): those lean inwards."""
    span = (2.5, 4000.0)
    assert compare._label_side(2.5, span) == "top right"
    assert compare._label_side(4000.0, span) == "top left"
    assert compare._label_side(60.0, span) == "top center"
    assert compare._label_side(7.0, (7.0, 7.0)) == "top center"  # one point: centred


def test_two_points_on_top_of_each_other_get_their_names_on_opposite_sides(root: Path, bench: dict) -> None:
    """The two MNIST VAEs sample in the same time at about the same FD: their names printed over each
    other in both the app's figure and the README's PNG."""
    base = by_name(compare.collect_rows([root], bench=bench))["tiny-dcgan"]
    rows = [dataclasses.replace(base, name="vae", frechet_distance=351.0, sample_ms=3.3),
            dataclasses.replace(base, name="vae-binarized", frechet_distance=345.0, sample_ms=3.4),
            dataclasses.replace(base, name="far", frechet_distance=10.0, sample_ms=2000.0)]
    sides = compare._label_sides(rows)
    assert sides == {"vae": "top right", "vae-binarized": "bottom right", "far": "top left"}
    # Fashion-MNIST's panel at 1024 px: the PixelCNN's long name, leaning left, ran into the DCGAN's
    fashion = [dataclasses.replace(base, name=name, frechet_distance=fd, sample_ms=ms) for name, fd, ms in (
        ("fashion-mnist-mlp-gan", 149.2, 2.02), ("fashion-mnist-dcgan", 58.7, 6.99),
        ("fashion-mnist-vae", 284.5, 3.18), ("fashion-mnist-diffusion", 14.5, 2288.0),
        ("fashion-mnist-pixelcnn", 49.6, 794.0))]
    sides = compare._label_sides(fashion)
    assert sides["fashion-mnist-dcgan"] == "top right" and sides["fashion-mnist-pixelcnn"] == "bottom left"

    taken = [compare._free_label_box(100, 100, 80, 14, (0, 400), [])]
    assert taken[0] == (108, 82, 188, 96)  # above right of the dot
    second = compare._free_label_box(101, 101, 80, 14, (0, 400), taken)
    assert second[1] > 100 and not (second[0] < taken[0][2] and second[1] < taken[0][3] and taken[0][1] < second[3])
    edge = compare._free_label_box(390, 200, 80, 14, (0, 400), [])
    assert edge[2] <= 398 and edge[0] < 390  # leans left inside the panel rather than past its border


# ----------------------------------------------------------------------------- the upscalers' table


@pytest.fixture(scope="module")
def sr_root(tmp_path_factory) -> Path:
    """Tiny untrained upscalers with stored metrics, as `evaluate --save` would leave them: an SRCNN x2
    (no FD), an ESPCN x4 with FD, and the same ESPCN x4 trained with an adversarial weight."""
    from aigc_models.checkpoints import save_checkpoint
    from aigc_models.models import build_model, make_config

    folder = tmp_path_factory.mktemp("compare-sr") / "checkpoints"
    for name, family, scale, adversarial, metrics in (
            ("tiny-srcnn-x2", "srcnn", 2, 0.0, {"n": 100, "psnr": 23.5, "ssim": 0.9, "bicubic_psnr": 20.25}),
            ("tiny-espcn-x4", "espcn", 4, 0.0, {"n": 100, "psnr": 17.5, "ssim": 0.6, "bicubic_psnr": 14.75,
                                                "frechet_distance": 350.0, "bicubic_frechet_distance": 900.0,
                                                "class_accuracy": 0.875}),
            ("tiny-espcn-x4-gan", "espcn", 4, 0.01, {"n": 100, "psnr": 17.75})):
        torch.manual_seed(0)
        model = build_model(family, make_config(family, scale=scale, channels=8, channels2=4, adversarial=adversarial))
        save_checkpoint(model, folder / name, metrics={**metrics, "scale": scale},
                        training={"seconds": 12.0, "steps": 34, "device": "CPU (1 thread)"})
    return folder


def test_upscaler_rows_come_from_the_stored_metrics_and_the_bench(sr_root: Path) -> None:
    from aigc_models import compare_upscalers as cu

    report = sampling_bench([sr_root], repeats=3, warmup=1, max_seconds=2, log=lambda m: None)
    assert report["checkpoints"] == {} and set(report["upscalers"]) == {"tiny-srcnn-x2", "tiny-espcn-x4",
                                                                         "tiny-espcn-x4-gan"}
    assert all(row["median_ms"] > 0 and row["repeats"] >= 3 for row in report["upscalers"].values())
    assert compare.collect_rows([sr_root], bench=report) == []  # not generators: no point in the picture
    rows = {r.name: r for r in cu.collect_upscaler_rows([sr_root], bench=report)}
    assert [r.name for r in cu.collect_upscaler_rows([sr_root], bench=report)] == [
        "tiny-srcnn-x2", "tiny-espcn-x4", "tiny-espcn-x4-gan"]  # by scale, then family in registry order
    espcn = rows["tiny-espcn-x4"]
    assert (espcn.scale, espcn.psnr, espcn.bicubic_psnr, espcn.frechet_distance, espcn.class_accuracy) == (
        4, 17.5, 14.75, 350.0, 0.875)
    assert espcn.upscale_ms == report["upscalers"]["tiny-espcn-x4"]["median_ms"]
    assert espcn.parameters == sum(p.numel() for p in load_checkpoint(sr_root / "tiny-espcn-x4").parameters())
    cells = cu.table_cells(espcn)
    assert (cells["psnr"], cells["fd"], cells["accuracy"], cells["scale"]) == ("17.50 (14.75)", "350.0 (900.0)",
                                                                             "0.875", "x4")
    assert cells["train"] == "12 s (34 steps)" and cells["parameters"].endswith(" k")
    assert cu.table_cells(rows["tiny-srcnn-x2"])["fd"] == "-"
    assert cu.table_cells(rows["tiny-espcn-x4-gan"])["family"] == "ESPCN + adversarial 0.01"
    # a time measured on another config is not shown
    other = json.loads(json.dumps(report))
    other["upscalers"]["tiny-espcn-x4"]["config_sha256"] = "0" * 64
    assert {r.name: r for r in cu.collect_upscaler_rows([sr_root], bench=other)}["tiny-espcn-x4"].upscale_ms is None
    table = cu.markdown_table(list(rows.values()))
    assert table.count("\n| `tiny-") == 3 and "PSNR, dB (bicubic)" in table


def test_the_compare_command_and_tab_show_the_upscalers_in_both_languages(sr_root: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture) -> None:
    from aigc_models import compare_upscalers as cu
    from ui import compare as tab
    from ui.i18n import EN, ZH

    file = tmp_path / "bench.json"
    file.write_text(json.dumps({"checkpoints": {}}))
    assert main(["compare", "--root", str(sr_root), "--bench", str(file), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| `tiny-espcn-x4` | ESPCN | x4 | 17.50 (14.75) |" in out
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", str(sr_root))
    monkeypatch.setenv("AIGC_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(compare, "BENCH_FILE", file)
    english, chinese = tab.upscalers_view("en"), tab.upscalers_view("zh")
    assert list(english.columns) == [EN[f"compare_sr_col_{k}"] for k in cu.HEADERS]
    assert list(chinese.columns) == [ZH[f"compare_sr_col_{k}"] for k in cu.HEADERS]
    assert "ESPCN + 对抗损失 0.01" in set(chinese.iloc[:, 1]) and "12 s (34 步)" in set(chinese.iloc[:, -2])

    class Request:
        headers = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}

    assert tab.show_compare(Request())[3].equals(chinese)
