"""What each speed choice of the trainer pays, measured in one process on one device.

A GAN on MNIST (``--model``, default the MLP GAN) at batch 64 (the source documents' setting), images/second as the
median of 10-step windows over ``--seconds`` per variant, variants interleaved over
``--rounds`` rounds so that machine noise hits them alike:

* ``trainer``: as shipped (fused Adam, losses summed on the device, read every 10 steps);
* ``foreach-adam``: PyTorch's default multi-tensor Adam instead of the fused kernel;
* ``sync-every-step``: a host read of G's loss after every step, as the documents print it;
* ``d-weight-grads-in-g-step``: D not frozen during the G step's backward;
* ``bf16-autocast-on-cpu``: bf16 autocast on the CPU as well.

    python scripts/speed_ablation.py --seconds 10 --rounds 3 [--model dcgan]
"""

from __future__ import annotations

import argparse
import json
import statistics
from contextlib import nullcontext
from typing import Callable, ContextManager
from unittest.mock import patch

import torch

from aigc_models import training
from aigc_models.bench import trainer_throughput
from aigc_models.training import device_label, resolve_device


_original_step = training.GANObjective.step


def _step_then_sync(self, real, labels):
    out = _original_step(self, real, labels)
    out["loss_g"].item()  # the host waits for the device, every step
    return out


# Each variant: a context manager that swaps one piece of the trainer for the run.
VARIANTS: dict[str, Callable[[], ContextManager]] = {
    "trainer": nullcontext,
    # PyTorch's default multi-tensor Adam instead of the fused kernel
    "foreach-adam": lambda: patch.object(training, "adam", lambda params, *, lr, betas: torch.optim.Adam(
        params, lr=lr, betas=betas, foreach=True)),
    "sync-every-step": lambda: patch.object(training.GANObjective, "step", _step_then_sync),
    # the freeze becomes a no-op, so the G step's backward also fills D's weight gradients
    "d-weight-grads-in-g-step": lambda: patch.object(torch.nn.Module, "requires_grad_",
                                                     lambda self, requires_grad=True: self),
    "bf16-autocast-on-cpu": lambda: patch.object(training.GANObjective, "autocast",
                                                 lambda self: torch.autocast("cpu", dtype=torch.bfloat16)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="mlp-gan", choices=["mlp-gan", "dcgan", "cgan"])
    args = parser.parse_args()
    device = resolve_device(args.device)
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, variant in VARIANTS.items():
            with variant():
                rates[name].append(trainer_throughput(args.model, device, batch_size=64, seconds=args.seconds))
    base = statistics.median(rates["trainer"])
    report = {name: {"img_s_median": round(statistics.median(r)), "runs": [round(x) for x in r],
                     "vs_trainer": round(statistics.median(r) / base, 2)} for name, r in rates.items()}
    print(json.dumps({"device": device_label(device), "model": args.model, "seconds": args.seconds,
                      "rounds": args.rounds, **report}, indent=2))


if __name__ == "__main__":
    main()
