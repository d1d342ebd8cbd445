"""The run control (``aigc_models.run_control``): pause, single steps, learning rates, end, on the real trainer."""

from __future__ import annotations

import queue
import threading
import time

import pytest
import torch
from conftest import tiny_train_config

from aigc_models import training
from aigc_models.run_control import RunControl

WAIT = 120  # seconds before a test gives up on an event (a safety net, never a measurement)


class Driven:
    """A training run iterated in a thread; its events arrive in ``events``."""

    def __init__(self, cfg: training.TrainConfig, control: RunControl) -> None:
        self.events: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(cfg, control), daemon=True)
        self.thread.start()

    def _run(self, cfg, control) -> None:
        try:
            for event in training.train(cfg, control=control):
                self.events.put(event)
        except Exception as err:  # noqa: BLE001 - handed to the test
            self.events.put(err)

    def next_of(self, kind: type) -> object:
        while True:
            event = self.events.get(timeout=WAIT)
            if isinstance(event, Exception):
                raise event
            if isinstance(event, kind):
                return event

    def rest(self) -> list:
        self.thread.join(WAIT)
        assert not self.thread.is_alive()
        out = []
        while not self.events.empty():
            out.append(self.events.get())
        return out


def test_a_paused_run_takes_exactly_the_steps_granted_and_reports_each_at_once(tmp_path):
    control = RunControl(paused=True)
    # log and sample rarely: the granted steps must be reported anyway
    run = Driven(tiny_train_config("dcgan", tmp_path / "run", steps=50, log_every=25, sample_every=25), control)
    run.next_of(training.Started)
    control.step()
    first = run.next_of(training.Step)
    assert first.step == 1
    assert run.next_of(training.Samples).step == 1
    control.step(2)
    assert run.next_of(training.Step).step == 2
    assert run.next_of(training.Step).step == 3
    assert control.paused  # still paused: nothing more is taken
    control.end()
    rest = run.rest()
    done = next(e for e in rest if isinstance(e, training.Done))
    assert done.reason == "stopped" and done.step == 3
    assert done.checkpoint and (tmp_path / "run" / "model.safetensors").exists()  # ended runs save
    assert not any(isinstance(e, training.Step) and e.step > 3 for e in rest)


PAUSE = 10_000.0  # seconds a pause lasts on the test's clock


class PausedOnAClock(RunControl):
    """A control whose first pause lasts ``PAUSE`` seconds on ``clock`` (the test's clock, which moves
    only by these pauses) and no real time: the trainer sees a long pause without the test waiting for one."""

    def __init__(self, clock: dict[str, float]) -> None:
        super().__init__()
        self.clock, self.paused_once = clock, False

    def wait_turn(self, poll: float = 0.5) -> tuple[bool, float]:
        if not self.paused_once:
            self.paused_once = True
            self.clock["offset"] += PAUSE
            return True, PAUSE
        return super().wait_turn(poll)


def test_paused_time_is_not_counted_against_the_time_limit(monkeypatch):
    clock = {"offset": 0.0}
    monkeypatch.setattr(time, "perf_counter", lambda: clock["offset"])  # frozen but for the pause: no real time
    events = list(training.train(tiny_train_config("dcgan", steps=4, max_seconds=PAUSE / 2),
                                 control=PausedOnAClock(clock)))
    done = events[-1]
    assert done.reason == "steps" and done.step == 4  # not "time": the pause, twice the limit, did not count
    assert done.elapsed == 0.0  # nor is it in the run's elapsed time (it would be PAUSE)


def test_resume_after_a_pause_runs_to_the_end():
    control = RunControl(paused=True)
    run = Driven(tiny_train_config("dcgan", steps=4), control)
    run.next_of(training.Started)
    control.resume()
    done = run.next_of(training.Done)
    assert done.reason == "steps" and done.step == 4


def test_new_learning_rates_reach_the_optimisers_before_the_next_step():
    cfg = tiny_train_config("dcgan").validate()
    model = training.build_for_training(cfg, torch.device("cpu"))
    objective = training.GANObjective(model, cfg)
    control = RunControl()
    assert control.set_learning_rates(lr_g=1e-5, lr_d=3e-4) == {"lr_g": 1e-5, "lr_d": 3e-4}
    assert control.apply_learning_rates(objective) == {"lr_g": 1e-5, "lr_d": 3e-4}
    assert [g["lr"] for g in objective.opt_g.param_groups] == [1e-5]
    assert [g["lr"] for g in objective.opt_d.param_groups] == [3e-4]
    assert control.apply_learning_rates(objective) == {}  # applied once
    control.set_learning_rates(lr=1e-3)  # a GAN has no single learning rate: skipped, nothing breaks
    assert control.apply_learning_rates(objective) == {}


def test_the_trainer_applies_a_change_asked_for_mid_run():
    control = RunControl(paused=True)
    seen: list[float] = []
    original = training.GANObjective.step

    def spy(self, real, labels):
        seen.append(self.opt_g.param_groups[0]["lr"])
        return original(self, real, labels)

    mp = pytest.MonkeyPatch()
    mp.setattr(training.GANObjective, "step", spy)
    try:
        cfg = tiny_train_config("dcgan", steps=10, lr_g=2e-4)
        run = Driven(cfg, control)
        control.step()
        run.next_of(training.Step)
        control.set_learning_rates(lr_g=5e-5)
        control.step()
        run.next_of(training.Step)
        control.end()
        run.rest()
    finally:
        mp.undo()
    assert seen == [2e-4, 5e-5]


@pytest.mark.parametrize("rates", [{"lr_x": 1e-3}, {"lr_g": -1.0}, {"lr_d": float("nan")}, {"lr": "fast"}])
def test_bad_learning_rates_are_refused_with_a_sentence(rates):
    with pytest.raises(ValueError, match=r"\w+ \w+"):
        RunControl().set_learning_rates(**rates)


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_bad_step_counts_are_refused(n):
    with pytest.raises(ValueError):
        RunControl().step(n)


def test_pending_steps_are_bounded_and_resume_forgets_them():
    control = RunControl()
    control.step(10_000)
    assert control.paused
    took = sum(control.wait_turn()[0] for _ in range(100))
    assert took == 100
    control.resume()
    assert not control.paused and control.wait_turn()[0]
