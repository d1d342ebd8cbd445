"""Step-by-step GAN training (issue 17): the objective's two phases, ``aigc_models.stepper``
and the "Step by step" tab's handlers, on tiny models and real MNIST batches."""

from __future__ import annotations

import pytest
import torch

from aigc_models import objectives, training
from aigc_models.models import build_model
from conftest import TINY_OPTIONS

# ----------------------------------------------------------------------------- the objective's phases


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("family, settings", [("mlp-gan", {}), ("cgan", {}),
                                              ("dcgan", {"r1": 1.0, "r1_every": 2, "diffaugment": "translation,cutout",
                                                         "real_augment": True})])
def test_step_is_the_d_phase_then_the_g_phase_bit_for_bit(family, settings):
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    labels = torch.randint(0, 10, (8,), generator=torch.Generator().manual_seed(3))

    def run(split: bool) -> tuple[list, dict[str, torch.Tensor]]:
        torch.manual_seed(0)
        model = build_model(family, **TINY_OPTIONS[family])
        objective = objectives.GANObjective(model, training.TrainConfig(model=family, **settings).validate())
        logs = []
        for _ in range(3):
            if split:
                d = objective.d_phase(real, labels)
                loss_g = objective.g_phase(d.fake, d.fake_labels)
                logs.append([d.loss_d, loss_g, torch.sigmoid(d.d_real).mean(), torch.sigmoid(d.d_fake).mean()])
            else:
                out = objective.step(real, labels)
                logs.append([out["loss_d"], out["loss_g"], out["d_real"], out["d_fake"]])
        return logs, _state(model)

    (whole, whole_state), (split, split_state) = run(False), run(True)
    assert all(torch.equal(a, b) for wa, sa in zip(whole, split) for a, b in zip(wa, sa))
    assert whole_state.keys() == split_state.keys()
    assert all(torch.equal(whole_state[k], split_state[k]) for k in whole_state)
