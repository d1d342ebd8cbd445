"""A remote control for a training run: pause, single steps, new learning rates, end.

``train(cfg, control=RunControl())`` asks the control before every step (``wait_turn``) and
applies the learning rates asked for (``apply_learning_rates``); another
thread (a teacher's clicks) calls ``pause``, ``resume``, ``step``, ``set_learning_rates`` and
``end``. While paused the trainer sleeps on a condition (no CPU) and that time is not counted
against the run's time limit, its ETA or its images per second. A step taken while paused is
reported at once (a ``Step`` and a ``Samples`` event), so a class sees what one step changed.

New learning rates take effect before the next step, on the optimiser they name:
``lr_g`` (a GAN's generator), ``lr_d`` (its discriminator), ``lr`` (every other objective's one
network). Limits are ``TrainConfig``'s.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from aigc_models.training import check_setting

LEARNING_RATES = {"lr_g": "opt_g", "lr_d": "opt_d", "lr": "opt"}  # setting -> the objective's optimiser attribute
MAX_PENDING_STEPS = 100  # single steps asked for and not yet taken, at most


class RunControl:
    """Thread-safe; one per run. The trainer calls ``wait_turn`` and ``apply_learning_rates``;
    anyone else calls the rest."""

    def __init__(self, *, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._paused = paused
        self._granted = 0  # single steps asked for while paused
        self._ended = False
        self._rates: dict[str, float] = {}  # asked for, not yet applied
        self.single = False  # True while the trainer takes a step granted during a pause
        self.waiting = False  # True while the trainer is blocked in a pause
        self.started = 0  # steps the trainer has begun under this control (= its step count, from the first)

    # ------------------------------------------------------------------ the teacher's side
    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def ended(self) -> bool:
        return self._ended

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused, self._granted = False, 0
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """Let a paused run take ``n`` more steps (1 to ``MAX_PENDING_STEPS`` pending); pauses a running one first."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError("Steps: a whole number of at least 1.")
        with self._cond:
            self._paused = True
            self._granted = min(self._granted + n, MAX_PENDING_STEPS)
            self._cond.notify_all()

    def step_and_wait(self, timeout: float = 60.0) -> int | None:
        """``step()``, then wait until the trainer took it and is paused again (its events yielded);
        returns the step's number, or None when the run ended or ``timeout`` passed first."""
        with self._cond:
            target = self.started + self._granted + 1
        self.step()
        deadline = time.perf_counter() + timeout
        with self._cond:
            while not (self.started >= target and self.waiting) and not self._ended:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.05))
            return target if self.started >= target else None

    def end(self) -> None:
        """The run stops before its next step and saves (``Done(reason="stopped")``)."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def set_learning_rates(self, **rates: Any) -> dict[str, float]:
        """Ask for new learning rates (``lr_g``, ``lr_d``, ``lr``; each within ``TrainConfig``'s limits).
        Returns them checked; raises ``ValueError`` with a sentence for an unknown name or a bad value."""
        checked: dict[str, float] = {}
        for name, value in rates.items():
            if name not in LEARNING_RATES:
                raise ValueError(f"Unknown learning rate {name!r}: use one of {', '.join(LEARNING_RATES)}.")
            checked[name] = float(check_setting(name, value))
        with self._cond:
            self._rates.update(checked)
        return checked

    # ------------------------------------------------------------------ the trainer's side
    def wait_turn(self, poll: float = 0.5) -> tuple[bool, float]:
        """Block while paused with no step granted. Returns (take a step?, seconds spent waiting):
        False once the run was ended."""
        start = time.perf_counter()
        with self._cond:
            while not self._ended and self._paused and self._granted == 0:
                self.waiting = True
                self._cond.wait(poll)
            self.waiting = False
            if self._ended:
                return False, time.perf_counter() - start
            self.single = self._paused
            if self._paused:
                self._granted -= 1
            self.started += 1
        return True, time.perf_counter() - start

    def apply_learning_rates(self, objective: Any) -> dict[str, float]:
        """Set the learning rates asked for since the last call on ``objective``'s optimisers and
        forget them; returns those applied (a GAN has no ``lr``, a VAE no ``lr_g``: skipped)."""
        with self._cond:
            rates, self._rates = self._rates, {}
        applied: dict[str, float] = {}
        for name, value in rates.items():
            optimiser = getattr(objective, LEARNING_RATES[name], None)
            if optimiser is None:
                continue
            for group in optimiser.param_groups:
                group["lr"] = group["base_lr"] = value  # a schedule scales the new value from here on
            applied[name] = value
        return applied
