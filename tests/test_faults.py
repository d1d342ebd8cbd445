"""Runs that stop, crash or diverge: atomic saves under SIGKILL, disk full, NaN and D-wins
stops that keep the last good checkpoint, stopping the app's run at any moment, and the
runs folder's size cap."""

from __future__ import annotations

import errno
import gc
import os
import random
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import gradio as gr
import pytest
import torch
from app_helpers import app_env, make_tiny_checkpoints, wait_for
from conftest import TINY_OPTIONS, run_events, tiny_train_config

from aigc_models import atomic, checkpoints, cli, objectives, training
from ui import runs_folder as runs
from aigc_models.checkpoints import CheckpointError, list_checkpoints, load_checkpoint, read_meta, save_checkpoint
from aigc_models.models import build_model, make_config
from aigc_models.training import CheckpointSaved, Done, DivergenceWatch, train

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models train fastest on one thread, and on a busy machine two threads spin against
    other processes (measured here: a tiny DCGAN step 16 ms on one thread, 1 s on two)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def filled(value: float, family: str = "dcgan") -> torch.nn.Module:
    """A tiny model whose every weight equals ``value`` (so a load tells which save it came from)."""
    model = build_model(family, make_config(family, **TINY_OPTIONS[family]))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)
    return model


def weight_value(path: Path) -> float:
    return float(next(load_checkpoint(path).parameters()).detach().flatten()[0])


def dot_entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------------------- killed during a save

CHILD_LOOP = r"""
import sys, time, torch
from aigc_models.checkpoints import save_checkpoint
from aigc_models.models import build_model
out, k = sys.argv[1], int(sys.argv[2])
model = build_model("mlp-gan", latent_dim=8, g_hidden=(1024, 2048), d_hidden=(2048, 1024))  # ~30 MB of weights
while True:
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(k)
    print("saving", k, flush=True)
    start = time.perf_counter()
    save_checkpoint(model, out)
    print("saved", k, time.perf_counter() - start, flush=True)
    k += 1
"""


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def test_sigkill_at_random_moments_during_saves_keeps_a_loadable_checkpoint(tmp_path):
    """A child saves a ~30 MB checkpoint over and over (it spends nearly all its time inside
    save_checkpoint); it is SIGKILLed at random moments, four times, and more (up to 16) until
    one kill has landed inside a save: where a kill lands depends on the machine's load, so the
    test counts kills instead of trusting one timing."""
    out, rng = tmp_path / "ckpt", random.Random(0)
    next_value, leftovers, kills = 1, 0, 0
    while kills < 4 or (not leftovers and kills < 16):
        kills += 1
        proc = subprocess.Popen([sys.executable, "-c", CHILD_LOOP, str(out), str(next_value)], stdout=subprocess.PIPE,
                                text=True, env=child_env())
        try:
            words = []
            while not words or words[0] != "saved":  # one whole save first (and its duration)
                words = proc.stdout.readline().split()
                assert words, f"the saving child died early (exit {proc.poll()})"
            time.sleep(rng.uniform(0, 2 * float(words[2])))  # a random moment of the save loop, not a wait
        finally:
            proc.send_signal(signal.SIGKILL)
            lines = [line.split() for line in proc.stdout.read().splitlines()] + [words]
            proc.wait()
        saved = max(int(w[1]) for w in lines if w[0] == "saved")
        started = max(int(w[1]) for w in lines if w[0] == "saving")
        assert weight_value(out) in (saved, started)  # the last whole save, or the killed one if already renamed in
        assert [row["name"] for row in list_checkpoints(tmp_path)] == ["ckpt"]
        assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["ckpt"]
        leftovers += bool(dot_entries(tmp_path))
        next_value = started + 1
    assert leftovers  # at least one kill landed inside a save
    save_checkpoint(filled(0.5), out)  # the next save cleans whatever the kills left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    assert weight_value(out) == 0.5


CHILD_ONE_SAVE = r"""
import os, signal, sys, torch
from aigc_models import atomic, checkpoints
from aigc_models.models import build_model
out, when = sys.argv[1], sys.argv[2]
model = build_model("dcgan", latent_dim=8, g_channels=8, d_channels=8)
with torch.no_grad():
    for p in model.parameters():
        p.fill_(2.0)
real_replace, real_write = os.replace, atomic.write_file

def write(path, data):
    if when == "writing" and path.name == "model.safetensors":
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    real_write(path, data)

def replace(src, dst):
    real_replace(src, dst)
    if (when == "between" and str(src) == out) or (when == "after" and str(dst) == out):
        os.kill(os.getpid(), signal.SIGKILL)

atomic.write_file, os.replace = write, replace
checkpoints.save_checkpoint(model, out)
"""


@pytest.mark.parametrize("when, survivor", [("writing", 1.0), ("between", 1.0), ("after", 2.0)])
def test_sigkill_at_each_stage_of_a_save(tmp_path, when, survivor):
    """Killed while writing, between the two renames (no folder at ``out`` then) or before the
    old copy is removed: a checkpoint loads at ``out``, listings show no leftovers, the next save cleans up."""
    out = tmp_path / "ckpt"
    save_checkpoint(filled(1.0), out)
    proc = subprocess.run([sys.executable, "-c", CHILD_ONE_SAVE, str(out), when], env=child_env(), timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert dot_entries(tmp_path)  # the kill left something behind
    assert weight_value(out) == survivor
    assert [(row["name"], row["path"]) for row in list_checkpoints(tmp_path)] == [("ckpt", str(out))]
    assert read_meta(out)["family"] == "dcgan"
    save_checkpoint(filled(3.0), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    assert weight_value(out) == 3.0


def test_a_save_after_a_kill_between_the_renames_puts_the_previous_checkpoint_back(tmp_path, monkeypatch):
    out = save_checkpoint(filled(1.0), tmp_path / "ckpt")
    os.replace(out, tmp_path / ".ckpt.old")  # the state a kill between the two renames leaves
    failing_writer(monkeypatch, "model.safetensors")
    with pytest.raises(CheckpointError, match="the previous checkpoint there is kept"):
        save_checkpoint(filled(2.0), out)
    assert out.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    assert weight_value(out) == 1.0


def test_a_folder_that_is_not_a_checkpoint_is_never_replaced(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    with pytest.raises(CheckpointError, match="is not a checkpoint folder"):
        save_checkpoint(filled(1.0), precious)
    assert (precious / "chapter1.tex").read_text() == "..."
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_nan_weights_are_never_saved(tmp_path):
    out = save_checkpoint(filled(1.0), tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="NaN or infinite weights"):
        save_checkpoint(filled(float("nan")), out)
    assert weight_value(out) == 1.0


# ----------------------------------------------------------------------------- disk full


def failing_writer(monkeypatch, target: str, err: int = errno.ENOSPC) -> None:
    """Make the checkpoint writer fail part-way through ``target`` as a full disk would."""
    real = atomic.write_file

    def write(path: Path, data: bytes) -> None:
        if path.name == target:
            with open(path, "wb") as f:
                f.write(data[: len(data) // 3])
            raise OSError(err, os.strerror(err))
        real(path, data)

    monkeypatch.setattr(atomic, "write_file", write)


@pytest.mark.parametrize("target", ["model.safetensors", "config.json", "README.md"])
def test_disk_full_keeps_the_previous_checkpoint_and_no_temp_files(tmp_path, monkeypatch, target):
    out = save_checkpoint(filled(1.0), tmp_path / "ckpt")
    failing_writer(monkeypatch, target)
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(filled(2.0), out)
    assert str(info.value) == (f"Disk full while saving the checkpoint to {out}; the previous checkpoint there is "
                               "kept. Free some space and save again.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    assert weight_value(out) == 1.0


def test_disk_full_on_a_first_save_writes_nothing(tmp_path, monkeypatch):
    failing_writer(monkeypatch, "model.safetensors")
    with pytest.raises(CheckpointError, match="Disk full while saving .*; nothing was written there"):
        save_checkpoint(filled(1.0), tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_other_write_errors_say_what_happened(tmp_path, monkeypatch):
    out = save_checkpoint(filled(1.0), tmp_path / "ckpt")
    failing_writer(monkeypatch, "model.safetensors", errno.EACCES)
    with pytest.raises(CheckpointError, match=r"Could not save the checkpoint to .* \(Permission denied\); the previous"):
        save_checkpoint(filled(2.0), out)
    assert weight_value(out) == 1.0


def test_disk_full_in_cli_train_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    failing_writer(monkeypatch, "model.safetensors")
    argv = ["train", "--model", "mlp-gan", "--steps", "2", "--batch-size", "8", "--device", "cpu", "--quiet",
            "--option", "latent_dim=8", "--option", "g_hidden=[16]", "--option", "d_hidden=[16]",
            "--out", str(tmp_path / "run")]
    assert cli.main(argv) == 2
    assert "error: Disk full while saving the checkpoint" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- divergence


def nan_after(monkeypatch, calls: int) -> None:
    """D's loss turns NaN from its ``calls``-th call on (as an exploding run's would)."""
    real, count = objectives.discriminator_loss, [0]

    def loss(*args, **kwargs):
        count[0] += 1
        value = real(*args, **kwargs)
        return value * float("nan") if count[0] >= calls else value

    monkeypatch.setattr(objectives, "discriminator_loss", loss)


def test_nan_losses_stop_the_run_and_keep_the_last_good_checkpoint(tmp_path, monkeypatch):
    nan_after(monkeypatch, 11)
    out = tmp_path / "run"
    events = run_events(tiny_train_config("mlp-gan", out, steps=60, log_every=2, save_every=4))
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "diverged" and done.step == 12
    assert done.message.startswith("Training diverged at step 12: loss_d, loss_g, d_real, d_fake became NaN")
    assert "lower learning rates" in done.message and f"(step 8) is kept at {out}" in done.message
    assert done.facts == {"cause": "nan", "what": "loss_d, loss_g, d_real, d_fake", "at_step": 12, "kept_step": 8}
    assert done.checkpoint == str(out)
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [4, 8]
    assert read_meta(out)["training"]["steps"] == 8
    assert all(torch.isfinite(t).all() for t in load_checkpoint(out).state_dict().values() if t.is_floating_point())


def test_nan_without_save_every_says_nothing_was_saved(tmp_path, monkeypatch):
    nan_after(monkeypatch, 3)
    out = tmp_path / "run"
    done = run_events(tiny_train_config("dcgan", out, steps=30, log_every=1))[-1]
    assert done.reason == "diverged" and done.step == 3 and done.checkpoint is None
    assert "No checkpoint was saved (set save_every" in done.message
    assert done.facts == {"cause": "nan", "what": "loss_d, loss_g", "at_step": 3}  # the DCGAN logs no D scores
    assert not out.exists()


def test_nan_weights_found_when_a_run_is_stopped_mid_window_are_not_saved(tmp_path, monkeypatch):
    """Stopped before the window's losses were read: the weights are checked before the final save."""
    nan_after(monkeypatch, 2)
    out = tmp_path / "run"
    calls = []
    done = run_events(tiny_train_config("mlp-gan", out, steps=30, log_every=100),
                      stop=lambda: calls.append(1) or len(calls) > 4)[-1]
    assert done.reason == "diverged" and done.step == 4
    assert done.message.startswith("Training diverged at step 4: the weights became NaN or infinite")
    assert done.facts == {"cause": "nan", "what": "weights", "at_step": 4}
    assert not out.exists()


def test_nan_weights_behind_finite_losses_are_not_saved_periodically(tmp_path, monkeypatch):
    """The losses of a step are computed before its update: weights can turn NaN while the
    window's losses look fine, so each periodic save checks the weights first."""
    real, count = training.GANObjective.step, [0]

    def step(self, real_images, labels):
        losses = real(self, real_images, labels)
        count[0] += 1
        if count[0] == 4:
            with torch.no_grad():
                next(self.model.generator.parameters()).fill_(float("nan"))
        return losses

    monkeypatch.setattr(training.GANObjective, "step", step)
    out = tmp_path / "run"
    done = run_events(tiny_train_config("mlp-gan", out, steps=30, log_every=2, save_every=2))[-1]
    assert done.reason == "diverged" and done.step == 4
    assert done.message.startswith("Training diverged at step 4: the weights became NaN")
    assert read_meta(out)["training"]["steps"] == 2


def d_wins_config(out: Path, patience: int, steps: int = 600):
    """G barely learns (lr 1e-6) and D learns fast: D wins outright within the first few windows."""
    return tiny_train_config("mlp-gan", out, steps=steps, log_every=5, save_every=5, lr_g=1e-6, lr_d=1e-2,
                             stop_if_d_wins_for=patience)


def test_d_winning_outright_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "run"
    events = run_events(d_wins_config(out, patience=30))
    done = events[-1]
    assert done.reason == "diverged" and done.step < 600
    assert "the discriminator wins outright" in done.message and "lower D learning rate (lr_d)" in done.message
    assert "DiffAugment" in done.message and "hinge loss" in done.message
    last_save = max(e.step for e in events if isinstance(e, CheckpointSaved))
    assert done.facts["cause"] == "d_wins" and done.facts["at_step"] == done.step and done.facts["kept_step"] == last_save
    assert done.facts["d_real"] > 0.99 and done.facts["d_fake"] < 0.01 and done.facts["for_steps"] >= 30
    assert done.step - last_save >= 30  # nothing saved while D was winning
    assert read_meta(out)["training"]["steps"] == last_save and done.checkpoint == str(out)
    load_checkpoint(out)


def test_d_wins_stop_can_be_turned_off(tmp_path):
    events = run_events(d_wins_config(tmp_path / "run", patience=30, steps=80))
    assert events[-1].reason == "diverged" and events[-1].step < 80
    done = run_events(d_wins_config(tmp_path / "run-off", patience=0, steps=80))[-1]
    assert done.reason == "steps" and done.step == 80


def test_divergence_watch_needs_consecutive_d_wins_windows():
    watch = DivergenceWatch(patience=20)
    wins, tie = {"d_real": 0.999, "d_fake": 0.001}, {"d_real": 0.9, "d_fake": 0.1}
    assert watch.check(wins, 10, 10) is None and watch.d_winning
    assert watch.check(tie, 20, 10) is None and not watch.d_winning  # a healthy window resets the count
    assert watch.check(wins, 30, 10) is None
    assert "wins outright" in watch.check(wins, 40, 10)
    assert "became NaN" in DivergenceWatch(0).check({"loss": float("inf")}, 5, 5)
    assert DivergenceWatch(0).check(wins, 10, 10) is None  # 0 = never stop for D winning


def test_cli_train_explains_a_diverged_run(tmp_path, monkeypatch, capsys):
    nan_after(monkeypatch, 2)
    argv = ["train", "--model", "mlp-gan", "--steps", "20", "--batch-size", "8", "--device", "cpu", "--quiet",
            "--log-every", "1", "--option", "latent_dim=8", "--option", "g_hidden=[16]", "--option", "d_hidden=[16]",
            "--out", str(tmp_path / "run")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "error: Training diverged at step 2: loss_d" in err and "No checkpoint was saved" in err


# ----------------------------------------------------------------------------- the app's Train tab

FORM = ["mlp-gan", "mnist", 100_000, 16, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", False, 0.0, 0]


@pytest.fixture
def app(tmp_path_factory, tmp_path, monkeypatch) -> Path:
    """The app's environment with the shared tiny checkpoints and a private runs folder."""
    base = tmp_path_factory.getbasetemp() / "app"
    base.mkdir(exist_ok=True)
    make_tiny_checkpoints(base)
    for key, value in app_env(base).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AIGC_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_app_run_stops_at_any_moment_and_frees_everything(app, monkeypatch):
    """Stop (flag) or close (page gone) at random moments: the worker thread ends,
    the model is freed, no threads or temp folders are left, and the next run starts at once."""
    from ui import train as tab

    models: list[weakref.ref] = []
    real_build = training.build_for_training
    monkeypatch.setattr(training, "build_for_training",
                        lambda cfg, device: models.append(weakref.ref(m := real_build(cfg, device))) or m)
    baseline = threading.active_count()
    rng = random.Random(1)
    for trial, how in enumerate(["stop", "close", "close", "stop"]):
        outputs, errors, close = [], [], threading.Event()

        def work():
            try:
                run = tab.train_model(*FORM, f"run-{trial}")
                for out in run:
                    outputs.append(out)
                    if close.is_set():
                        run.close()
                        break
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        worker = threading.Thread(target=work)
        worker.start()
        wait_for(lambda: outputs or not worker.is_alive(), 120, "the run's first update")
        time.sleep(rng.uniform(0.0, 1.5))  # a random moment of the run, not a wait for anything
        if how == "stop":
            assert "Stopping" in tab.stop_training(None)
        else:
            close.set()
        worker.join(timeout=120)  # how fast a run stops is not a test's business on a busy machine
        assert not worker.is_alive() and errors == []
        # the histogram probe's warm-up thread may still be finishing
        wait_for(lambda: threading.active_count() <= baseline, 120, "the run's threads to end")
        gc.collect()
        assert models[-1]() is None  # nothing holds the run's model any more
        assert all(t.state in ("done", "withdrawn") for t in tab.TICKETS.tickets.values())  # no run left queued or running
        assert dot_entries(app) == []
        folder = app / f"run-{trial}"
        if how == "stop":
            assert "stopped" in outputs[-1][0] and load_checkpoint(folder)
        else:  # closing saves nothing of its own; a fast machine may have made a periodic save before it
            assert not folder.exists() or read_meta(folder)["training"]["steps"] % tab.SAVE_EVERY == 0
    assert len(models) == 4


def test_closing_a_run_at_random_moments_around_saves_leaves_only_whole_checkpoints(tmp_path):
    rng = random.Random(2)
    out = tmp_path / "run"
    for _ in range(3):
        run = train(tiny_train_config("dcgan", out, steps=1000, log_every=1, save_every=1, sample_every=10**6))
        for _ in range(rng.randrange(1, 30)):
            next(run)
        run.close()
        assert dot_entries(tmp_path) == []
        if out.exists():
            load_checkpoint(out)


def test_app_shows_why_a_run_diverged(app, monkeypatch):
    from ui import train as tab

    nan_after(monkeypatch, 3)
    outputs = list(tab.train_model(FORM[0], FORM[1], 40, *FORM[3:], "nan-run"))
    status, *_, warning, saved, _run_id = outputs[-1]
    assert "Training diverged at step 5: loss_d" in status and "became NaN" in status  # logged every 5 steps on a CPU
    assert warning.startswith("**Why the run stopped:**") and saved == ""
    assert not (app / "nan-run").exists()


def test_app_disk_full_is_a_clear_error(app, monkeypatch):
    from ui import train as tab

    failing_writer(monkeypatch, "model.safetensors")
    with pytest.raises(gr.Error, match="Disk full while saving the checkpoint"):
        list(tab.train_model(FORM[0], FORM[1], 3, *FORM[3:], "full-run"))
    assert dot_entries(app) == [] and not (app / "full-run").exists()


# ----------------------------------------------------------------------------- runs folder cap


def fake_run(root: Path, name: str, size: int, age: float) -> Path:
    """A run folder of ``size`` bytes whose last save was ``age`` seconds ago."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"\0" * size)
    (folder / "config.json").write_text("{}")
    stamp = time.time() - age
    os.utime(folder / "config.json", (stamp, stamp))
    return folder


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Path:
    """A stand-in for the shipped checkpoints folder (the real one is never put at risk)."""
    folder = tmp_path / "shipped"
    fake_run(folder, "mnist-dcgan", 1000, 1e6)
    monkeypatch.setattr(runs, "SHIPPED_DIR", folder)
    return folder


def test_prune_removes_the_oldest_runs_until_under_the_cap(tmp_path, shipped):
    root = tmp_path / "runs"
    ages = {"d-run": 400, "b-run": 300, "a-run": 200, "c-run": 100}  # names and creation order not by age
    made = {name: fake_run(root, name, 100_000, age=age) for name, age in ages.items()}
    notes = root / "notes"  # not a run: counted, never deleted, however old
    notes.mkdir()
    (notes / "todo.txt").write_bytes(b"x" * 50_000)
    os.utime(notes, (time.time() - 1e6, time.time() - 1e6))
    (root / "readme.txt").write_bytes(b"x" * 10_000)
    removed = runs.prune_runs(root, max_bytes=260_100)
    assert removed == [made["d-run"], made["b-run"]]
    assert sorted(p.name for p in root.iterdir()) == ["a-run", "c-run", "notes", "readme.txt"]
    assert runs.prune_runs(root, max_bytes=10**9) == []


def test_prune_never_touches_the_run_being_written(tmp_path, shipped):
    root = tmp_path / "runs"
    made = [fake_run(root, f"run{i}", 100_000, age=400 - i * 100) for i in range(3)]
    assert runs.prune_runs(root, max_bytes=0, keep=[made[0]]) == made[1:]
    assert [p.name for p in root.iterdir()] == ["run0"]


def test_prune_never_follows_links_out_of_the_root(tmp_path, shipped):
    root, outside = tmp_path / "runs", tmp_path / "outside"
    fake_run(outside, "precious", 100_000, age=1e6)
    root.mkdir()
    (root / "link").symlink_to(outside / "precious", target_is_directory=True)
    run = fake_run(root, "old", 1000, age=1e5)
    (run / "data").symlink_to(outside / "precious" / "model.safetensors")
    assert runs.prune_runs(root, max_bytes=50_000) == []  # what links point to is not counted
    assert runs.prune_runs(root, max_bytes=0) == [run]
    assert (outside / "precious" / "model.safetensors").stat().st_size == 100_000
    assert (root / "link").is_symlink()


@pytest.mark.parametrize("where", ["is", "holds", "inside", "protected"])
def test_prune_refuses_the_shipped_checkpoints(tmp_path, shipped, where):
    root = {"is": shipped, "holds": tmp_path, "inside": shipped / "mnist-dcgan", "protected": tmp_path / "mine"}[where]
    root.mkdir(exist_ok=True)
    protected = [tmp_path / "mine"] if where == "protected" else []
    with pytest.raises(ValueError, match="Refusing to prune .* whose models are never deleted"):
        runs.prune_runs(root, max_bytes=0, protected=protected)
    assert (shipped / "mnist-dcgan" / "model.safetensors").is_file()


def test_prune_guards_the_real_shipped_folder_by_default():
    assert runs.SHIPPED_DIR == checkpoints.SHIPPED_DIR


def test_prune_removes_stale_temp_folders_but_not_live_ones(tmp_path, shipped):
    root = tmp_path / "runs"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = root / f".x.tmp-{dead.stdout.strip()}-abc"
    live = root / f".y.tmp-{os.getpid()}-abc"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"\0" * 1000)
    assert runs.prune_runs(root, max_bytes=0) == [stale]
    assert live.is_dir()


@pytest.mark.parametrize("value, expected", [("", 500_000_000), ("0.5", 500_000), ("2000", 2_000_000_000)])
def test_runs_cap_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("AIGC_RUNS_MAX_MB", value)
    assert runs.max_runs_bytes() == expected


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf"])
def test_bad_runs_cap_is_one_clear_sentence(monkeypatch, value):
    monkeypatch.setenv("AIGC_RUNS_MAX_MB", value)
    with pytest.raises(ValueError, match="AIGC_RUNS_MAX_MB must be a positive number of megabytes"):
        runs.max_runs_bytes()


def test_app_prunes_old_runs_before_each_run(app, monkeypatch):
    from ui import train as tab

    old = fake_run(app, "old-run", 100_000, age=1e5)
    monkeypatch.setenv("AIGC_RUNS_MAX_MB", "0.01")
    run = tab.train_model(*FORM, "new-run")
    next(run)
    run.close()
    assert not old.exists()


def test_app_refuses_a_runs_folder_inside_the_checkpoints(app, monkeypatch):
    from ui import train as tab

    monkeypatch.setenv("AIGC_RUNS_DIR", os.environ["AIGC_CHECKPOINT_DIRS"])
    with pytest.raises(gr.Error, match="Refusing to prune"):
        next(tab.train_model(*FORM, "x"))
