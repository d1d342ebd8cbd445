"""The Class run tab's handlers (``ui/class_run.py``): the passcode, the teacher's controls, the
students' switch, and the stream every viewer watches."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from types import SimpleNamespace

import pytest

from ui import class_run
from ui import train as train_tab
from ui.errors import UserError

CODE = "blue-heron-7"
WAIT = 180  # seconds before a test gives up (a safety net, never a measurement)


def request(session: str, lang: str = "en") -> SimpleNamespace:
    return SimpleNamespace(session_hash=session, headers={"accept-language": "zh-CN" if lang == "zh" else "en"})


@pytest.fixture
def classroom(monkeypatch, tmp_path):
    """Class runs on (a passcode), a fresh class run, runs saved under tmp_path, students allowed."""
    monkeypatch.setenv(class_run.TEACHER_ENV, CODE)
    monkeypatch.setenv("AIGC_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(class_run, "CLASS", class_run.ClassRun())
    train_tab.STUDENTS_HELD.clear()
    yield class_run.CLASS
    control = class_run.CLASS.control
    if control is not None:
        control.end()
    if class_run.CLASS.thread is not None:
        class_run.CLASS.thread.join(WAIT)
    for thread in threading.enumerate():  # torch aborts the interpreter's exit while one still loads the classifier
        if thread.name == train_tab.WARM_THREAD:
            thread.join(WAIT)
    train_tab.STUDENTS_HELD.clear()


def wait_until(condition, what: str) -> None:
    end = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)


def seq_of(status: str) -> int:
    match = re.search(r"\(update (\d+)\)|（更新 (\d+)）", status)
    return int(match.group(1) or match.group(2))


def test_without_a_passcode_class_runs_are_off(monkeypatch):
    monkeypatch.delenv(class_run.TEACHER_ENV, raising=False)
    with pytest.raises(UserError, match="Class runs are off"):
        class_run.unlock("anything", request("a"))
    with pytest.raises(UserError, match="passcode first"):
        class_run.start("cgan", "mnist", 10, 0, request("a"))


def test_the_passcode_unlocks_one_session_and_wrong_codes_lock_out(classroom, monkeypatch):
    with pytest.raises(UserError, match="not the passcode"):
        class_run.unlock("blue-heron-8", request("student"))
    with pytest.raises(UserError, match="口令不对"):
        class_run.unlock("", request("student", "zh"))
    with pytest.raises(UserError, match="passcode first"):  # a student's session cannot steer
        class_run.pause(request("student"))
    assert "Unlocked" in class_run.unlock(f"  {CODE} ", request("teacher"))
    assert classroom.is_teacher("teacher") and not classroom.is_teacher("student")
    for _ in range(class_run.MAX_WRONG - 2):
        with pytest.raises(UserError, match="not the passcode"):
            class_run.unlock("guess", request("attacker"))
    with pytest.raises(UserError, match="Too many wrong passcodes"):  # even the right one, for a while
        class_run.unlock(CODE, request("attacker"))
    assert not classroom.is_teacher("attacker")
    with pytest.raises(UserError, match="No class run"):  # the unlocked teacher is not locked out
        class_run.pause(request("teacher"))


def test_bad_start_settings_are_refused_with_sentences(classroom):
    class_run.unlock(CODE, request("teacher"))
    with pytest.raises(UserError):
        class_run.start("not-a-model", "mnist", 10, 0, request("teacher"))
    with pytest.raises(UserError):
        class_run.start("cgan", "cifar", 10, 0, request("teacher"))
    with pytest.raises(UserError, match="(?i)steps"):
        class_run.start("cgan", "mnist", 0, 0, request("teacher"))
    with pytest.raises(UserError, match="at most"):
        class_run.start("cgan", "mnist", class_run.MAX_STEPS + 1, 0, request("teacher"))
    with pytest.raises(UserError, match="learning rate|Learning rate|No class run"):
        class_run.set_rates(-1, 2e-4, 1e-3, request("teacher"))
    assert classroom.control is None


@pytest.mark.slow
def test_a_class_run_is_steered_by_the_teacher_and_seen_by_every_viewer(classroom, tmp_path):
    teacher = request("teacher")
    class_run.unlock(CODE, teacher)
    said, lr_g, lr_d, _ = class_run.start("cgan", "mnist", 5000, 0, teacher)
    assert (lr_g, lr_d) == (classroom.cfg.lr_g, classroom.cfg.lr_d)  # the rate boxes show the run's
    run = re.search(r"\*\*(class-[^*]+)\*\*", said).group(1)
    with pytest.raises(UserError, match="already going"):
        class_run.start("cgan", "mnist", 10, 0, teacher)

    wait_until(lambda: classroom.views["en"].rows, "the first logged step")  # the run got going
    assert "Paused" in class_run.pause(teacher)
    control = classroom.control
    wait_until(lambda: control.waiting, "the pause")
    last_step = lambda: max(r[0] for r in classroom.views["en"].rows)
    taken = []
    for _ in range(2):  # each click: exactly one more step, logged and published before the reply
        frame = classroom.frame.seq
        said = class_run.one_step(teacher)
        taken.append(int(re.search(r"Step ([\d,]+) taken", said).group(1).replace(",", "")))
        assert last_step() == taken[-1] and classroom.frame.seq > frame
        assert f"Step **{taken[-1]:,} /" in classroom.frame.values["en"]["status"]
    assert taken[1] == taken[0] + 1
    assert "**paused**" in classroom.frame.values["en"]["status"]
    assert "**已暂停**" in classroom.frame.values["zh"]["status"]

    assert "lr G 1e-05" in class_run.set_rates(1e-5, 3e-4, 1e-3, teacher)
    assert "lr G 1e-05 · lr D 0.0003" in classroom.frame.values["en"]["status"]

    assert "held" in class_run.allow_students(False, teacher)
    with pytest.raises(UserError, match="held students' own runs"):
        train_tab.queue_run(None, "cgan", "mnist", request("student"))
    with pytest.raises(UserError, match="暂停了学生自己的训练"):
        train_tab.queue_run(None, "cgan", "mnist", request("student", "zh"))
    class_run.allow_students(True, teacher)
    run_id, _ = train_tab.queue_run(None, "cgan", "mnist", request("student"))
    train_tab.stop_training(run_id, request("student"))  # withdrawn: it would wait for nothing

    class_run.end(teacher)
    classroom.thread.join(WAIT)
    assert "**ended**" in classroom.frame.values["en"]["status"]
    assert (tmp_path / "runs" / run / "model.safetensors").exists()  # ended runs are saved
    assert f"runs/{run}" in classroom.frame.values["en"]["status"]
    with pytest.raises(UserError, match="No class run"):
        class_run.one_step(teacher)


def test_viewers_are_sent_every_frame_once_in_order_built_once_for_all(classroom):
    """Frames published faster than a viewer looks still arrive, each once, in order; the charts
    are serialized and the grid encoded once per change, the same objects for every viewer."""
    from PIL import Image

    async def watch(n: int, lang: str = "en") -> list[tuple]:
        got = []
        stream = class_run.watch(request("viewer", lang))
        async for out in stream:
            got.append(out)
            if len(got) == n:
                break
        await stream.aclose()
        return got

    import pandas as pd

    encoded: list[dict] = []
    plot_data = class_run.plot_data
    classroom.encoders["loss"] = lambda figure: encoded.append(figure) or plot_data(figure)
    losses = pd.DataFrame([(1, 0.5, "loss_d"), (1, 0.7, "loss_g")], columns=["step", "value", "series"])
    scores = pd.DataFrame([(1, 0.6, "d_real"), (1, 0.4, "d_fake")], columns=["step", "value", "series"])

    async def scenario() -> tuple[list, list]:
        first = asyncio.ensure_future(watch(6))
        zh = asyncio.ensure_future(watch(6, "zh"))
        await asyncio.sleep(0.2)
        view = SimpleNamespace(status="Step 1", warning="", rows=[(1, 0.5, "loss_g")], grid=None, hist=None,
                               plots=lambda: (losses, scores))
        classroom.views = {"en": view, "zh": view}
        for i in range(5):  # five frames in a burst, no pause between them
            if i == 2:
                view.grid = Image.new("L", (8, 8))
            classroom.publish()
        return await first, await zh

    got, zh = asyncio.run(scenario())
    seqs = [seq_of(out[0]) for out in got]
    assert seqs == list(range(seqs[0], seqs[0] + 6)) == [seq_of(out[0]) for out in zh]
    assert "none yet" in got[0][0] and "尚未开始" in zh[0][0]
    # before the first class run: the Train tab's recorded example, said to be one, in each language
    assert "an example recorded earlier" in got[0][0] and "之前录制的示例" in zh[0][0]
    assert "example" not in got[1][0]
    assert "**Class run:**" in got[1][0] and "Step 1" in got[1][0]
    parts = dict(zip(class_run.PARTS, zip(*got)))
    assert len(encoded) == 1  # the rows did not change after the first frame: serialized once
    assert [trace["name"] for trace in encoded[0]["data"]] == ["loss_d", "loss_g"]
    assert [trace["line"]["color"] for trace in encoded[0]["data"]] == [train_tab.BLUE, train_tab.ORANGE]
    zh_parts = dict(zip(class_run.PARTS, zip(*zh)))
    example = json.loads(parts["loss"][0].plot)["data"]
    assert {trace["name"] for trace in example} == {"loss_d", "loss_g"} and len(example[0]["x"]) > 10
    assert all(v is parts["loss"][1] for v in parts["loss"][1:] + zh_parts["loss"][1:])
    assert json.loads(parts["scores"][1].plot)["data"][0]["y"] == [0.6]  # a Plotly figure as one JSON string
    assert parts["grid"][0].endswith(".png") and Image.open(parts["grid"][0]).width > 200  # the example's grid
    grids = set(parts["grid"][3:])
    # the example's grid goes when the run starts; the run's first grid is encoded once
    assert parts["grid"][1:3] == (None,) * 2 and len(grids) == 1 and grids.pop().endswith(".png")
    assert parts["hist"][0] is not None and parts["hist"][1] is None


def test_the_tab_shows_only_how_to_turn_class_runs_on_without_a_passcode(monkeypatch):
    import gradio as gr

    monkeypatch.delenv(class_run.TEACHER_ENV, raising=False)
    with gr.Blocks() as demo:
        class_run.build_tab()
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert "class-off" in ids and "class-status" not in ids and "class-code" not in ids
    monkeypatch.setenv(class_run.TEACHER_ENV, CODE)
    with gr.Blocks() as demo:
        class_run.build_tab()
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"class-status", "class-code", "class-start", "class-step", "class-students"} <= ids
    assert "class-off" not in ids
