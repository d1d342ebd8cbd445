"""The learning-rate schedule: its shape, that the trainer follows it step by step, that a teacher's
mid-run change rescales it, and that shipped recipes keep the schedule they were trained with."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import tiny_train_config

from aigc_models import training
from aigc_models.run_control import RunControl


def test_cosine_falls_from_one_to_zero_and_constant_stays_at_one():
    assert [training.lr_factor("constant", p) for p in (0, 0.5, 1)] == [1.0, 1.0, 1.0]
    assert training.lr_factor("cosine", 0.0) == 1.0
    assert training.lr_factor("cosine", 0.5) == pytest.approx(0.5)
    assert training.lr_factor("cosine", 1.0) == pytest.approx(0.0, abs=1e-12)
    assert training.lr_factor("cosine", 2.0) == pytest.approx(0.0, abs=1e-12)  # past the end: stays at 0
    with pytest.raises(ValueError, match="lr_schedule"):
        training.lr_factor("linear", 0.5)


def test_progress_is_whichever_of_steps_and_seconds_is_used_up_first():
    assert training.run_progress(25, 100, 10.0, None) == 0.25
    assert training.run_progress(25, 100, 60.0, 120.0) == 0.5  # the time limit ends it first
    assert training.run_progress(90, 100, 60.0, 120.0) == 0.9
    assert training.run_progress(10, 10**9, 300.0, 300.0) == 1.0


def _learning_rates_seen(monkeypatch, family_objective, **cfg) -> list[float]:
    seen: list[float] = []
    original = family_objective.step

    def spy(self, real, labels):
        seen.append(self.opt.param_groups[0]["lr"])
        return original(self, real, labels)

    monkeypatch.setattr(family_objective, "step", spy)
    list(training.train(tiny_train_config("diffusion", **cfg)))
    return seen


def test_the_trainer_steps_along_the_cosine(monkeypatch):
    seen = _learning_rates_seen(monkeypatch, training.DiffusionObjective, steps=4, lr=1e-3, lr_schedule="cosine")
    expected = [1e-3 * (1 + math.cos(math.pi * s / 4)) / 2 for s in range(4)]
    assert seen == pytest.approx(expected)


def test_a_constant_schedule_leaves_the_learning_rate_alone(monkeypatch):
    assert _learning_rates_seen(monkeypatch, training.DiffusionObjective, steps=3, lr=1e-3) == [1e-3] * 3


def test_a_time_limit_drives_the_cosine_when_it_ends_the_run_first(monkeypatch):
    clock = iter(range(0, 10**6, 10))  # each reading of the clock 10 s later
    monkeypatch.setattr(training.time, "perf_counter", lambda: float(next(clock)))
    seen = _learning_rates_seen(monkeypatch, training.DiffusionObjective, steps=10**6, max_seconds=1000,
                                lr=1e-3, lr_schedule="cosine", log_every=10**6, sample_every=10**6)
    assert len(seen) > 10
    assert seen[0] == pytest.approx(1e-3, rel=0.01)
    assert all(b < a for a, b in zip(seen, seen[1:]))  # falling at every step, though the steps are far from used up
    assert seen[-1] < 1e-4


def test_a_teacher_change_is_the_new_peak_the_schedule_scales():
    cfg = tiny_train_config("diffusion", lr=1e-3, lr_schedule="cosine").validate()
    objective = training.DiffusionObjective(training.build_for_training(cfg, torch.device("cpu")), cfg)
    training.scale_learning_rates(objective, 0.5)
    assert objective.opt.param_groups[0]["lr"] == pytest.approx(5e-4)
    control = RunControl()
    control.set_learning_rates(lr=4e-3)
    control.apply_learning_rates(objective)
    assert objective.opt.param_groups[0]["lr"] == 4e-3  # applied as asked, at once
    training.scale_learning_rates(objective, 0.25)
    assert objective.opt.param_groups[0]["lr"] == pytest.approx(1e-3)  # and scaled from there on


def test_the_classifier_keeps_its_own_schedule():
    with pytest.raises(ValueError, match="one-cycle"):
        tiny_train_config("classifier", lr_schedule="cosine").validate()


def test_a_shipped_recipe_recorded_before_the_schedule_existed_is_constant(monkeypatch):
    import dataclasses

    from aigc_models.models import REGISTRY

    entry = REGISTRY["diffusion"]
    monkeypatch.setitem(REGISTRY, "diffusion",
                        dataclasses.replace(entry, train_defaults={**entry.train_defaults, "lr_schedule": "cosine"}))
    assert training.TrainConfig.for_family("diffusion").lr_schedule == "cosine"
    recorded = training.read_meta(training.SHIPPED_DIR / "mnist-diffusion")["training"]["train_config"]
    assert "lr_schedule" not in recorded  # trained before the field: at a constant rate
    assert training.shipped_recipe("diffusion", "mnist").lr_schedule == "constant"
