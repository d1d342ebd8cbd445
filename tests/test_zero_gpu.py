"""On a ZeroGPU Space the Train tab asks for a GPU lease that follows the run (its steps), capped, and
limits the run to that lease so it stops and saves in time. Checked without a Space: the duration
function gets train_model's own arguments, so the two must agree."""

from __future__ import annotations

import inspect

import pytest


def test_duration_follows_the_steps_within_its_bounds(monkeypatch):
    from ui import train

    monkeypatch.setattr(train, "MAX_SECONDS", 600.0)
    monkeypatch.setattr(train, "ZERO_GPU_MAX_SECONDS", 300)
    short, longer = train.gpu_duration("dcgan", "mnist", 100), train.gpu_duration("dcgan", "mnist", 5000)
    assert short == 60 and 60 < longer <= 300 and train.gpu_duration("dcgan", "mnist", 10**9) == 300
    assert train.gpu_duration("dcgan", "mnist", "nonsense") == 60  # the run itself then says what is wrong
    monkeypatch.setattr(train, "MAX_SECONDS", 30.0)  # never a lease longer than the app's own limit needs
    assert train.gpu_duration("dcgan", "mnist", 10**9) == 30 + train.GPU_START_SECONDS + train.GPU_MARGIN_SECONDS
    assert train.gpu_run_seconds("dcgan", "mnist", 10**9) == pytest.approx(30.0)


def test_duration_takes_train_models_arguments():
    from ui import train

    handler = inspect.signature(train.train_model).parameters
    assert list(handler)[:3] == list(inspect.signature(train.gpu_duration).parameters)[:3] == ["family", "dataset", "steps"]
    args = [p.default if p.default is not inspect.Parameter.empty else 1 for p in handler.values()]
    assert isinstance(train.gpu_duration(*args), int)  # ZeroGPU calls it with everything the handler gets
