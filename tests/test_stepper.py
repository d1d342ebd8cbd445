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


# ----------------------------------------------------------------------------- the stepper


def tiny_stepper(family: str = "mlp-gan", seed: int = 0, **settings):
    from aigc_models.stepper import GANStepper

    return GANStepper.fresh(family, "mnist", seed=seed,
                            **{"model_options": TINY_OPTIONS[family], "batch_size": 16, "device": "cpu", **settings})


def params(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.named_parameters()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("family, settings", [("mlp-gan", {}), ("cgan", {}),
                                              ("dcgan", {"model_options": {**TINY_OPTIONS["dcgan"],
                                                                           "spectral_norm": True}})])
def test_a_d_step_changes_only_d_and_a_g_step_only_g(family, settings):
    stepper = tiny_stepper(family, **settings)
    model = stepper.model
    g0, d0 = _state(model.generator), params(model.discriminator)
    report = stepper.d_step()
    assert same(_state(model.generator), g0)  # weights and BatchNorm statistics, bit for bit
    d1 = _state(model.discriminator)
    assert all(not torch.equal(p, d0[k]) for k, p in params(model.discriminator).items() if p.ndim > 1)
    assert torch.equal(report.before.samples, report.after.samples)  # G did not step: the same images
    report = stepper.g_step()
    assert same(_state(model.discriminator), d1)  # spectral-norm estimates included
    g1 = params(model.generator)
    assert all(not torch.equal(g1[k], g0[k]) for k in g1 if g1[k].ndim > 1) and len(g1) > 2
    assert torch.equal(report.before.real_scores, report.after.real_scores)  # D did not step
    assert not torch.equal(report.before.samples, report.after.samples)
    assert stepper.step().step_count == {"D": 2, "G": 2}
    assert all(p.requires_grad for p in model.parameters()) and model.training


def independent_probe(model: torch.nn.Module, stepper) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """D's scores and G's samples computed here, on a copy, without the stepper's code."""
    import copy

    m = copy.deepcopy(model).eval()
    with torch.no_grad():
        samples = m.generate(stepper.fixed_z, stepper.fixed_labels)
        fake = torch.sigmoid(m.discriminate(samples, stepper.fixed_labels))
        real = torch.sigmoid(m.discriminate(stepper.probe_real, stepper.probe_labels))
    return real, fake, samples


@pytest.mark.parametrize("family", ["mlp-gan", "cgan"])
def test_the_reports_before_and_after_are_what_the_model_gives(family):
    stepper = tiny_stepper(family)
    assert stepper.probe_real.shape == (64, 1, 28, 28)
    for click in (stepper.d_step, stepper.g_step, stepper.step):
        before = independent_probe(stepper.model, stepper)
        report = click()
        after = independent_probe(stepper.model, stepper)
        for probe, (real, fake, samples) in ((report.before, before), (report.after, after)):
            assert torch.equal(probe.real_scores, real) and torch.equal(probe.fake_scores, fake)
            assert torch.equal(probe.samples, samples)
            assert probe.samples.shape == (100 if family == "cgan" else 64, 1, 28, 28)
            assert probe.samples.min() >= -1 and probe.samples.max() <= 1
            assert 0 <= float(probe.real_scores.min()) and float(probe.real_scores.max()) <= 1
        # the gradient norms are those of the gradients the step left on the network that stepped
        nets = {"D": stepper.model.discriminator, "G": stepper.model.generator}
        assert set(report.grad_norms) == set(report.stepped)
        for name, norms in report.grad_norms.items():
            grads = [p.grad for p in nets[name].parameters()]
            total = torch.sqrt(sum(g.float().pow(2).sum() for g in grads))
            assert sum(v**2 for v in norms.values()) ** 0.5 == pytest.approx(float(total), rel=1e-5)
            first = next(iter(nets[name].named_parameters()))[0].rpartition(".")[0]
            layer = nets[name].get_submodule(first)
            own = torch.sqrt(sum(p.grad.pow(2).sum() for p in layer.parameters(recurse=False)))
            assert next(iter(norms.items())) == (f"{first} ({type(layer).__name__})", pytest.approx(float(own), rel=1e-6))
    assert stepper.probe() is report.after  # looking twice costs nothing and changes nothing


def test_the_same_seed_and_clicks_give_the_same_numbers_and_another_seed_others():
    def session(seed: int) -> list:
        stepper = tiny_stepper("mlp-gan", seed=seed)  # dropout in D: the stepper's own draws
        reports = [click() for click in (stepper.d_step, stepper.g_step, stepper.step, stepper.d_step)]
        torch.manual_seed(12345)  # the global generator between clicks must not matter
        reports.append(stepper.g_step())
        return [(r.losses, r.grad_norms, r.after.real_scores, r.after.fake_scores, r.after.samples) for r in reports]

    a, b = session(0), session(0)
    torch.rand(7)  # nor what others drew before
    c = session(1)
    for ra, rb in zip(a, b):
        assert ra[0] == rb[0] and ra[1] == rb[1]
        assert all(torch.equal(x, y) for x, y in zip(ra[2:], rb[2:]))
    assert a[0][0] != c[0][0] and not torch.equal(a[-1][4], c[-1][4])


def test_a_full_step_is_a_training_step():
    """step() twice gives training.train's first two steps, loss for loss (log_every=1)."""
    from aigc_models.training import Step, TrainConfig, train

    stepper = tiny_stepper("mlp-gan", seed=4)
    mine = [stepper.step().losses for _ in range(2)]
    cfg = TrainConfig(model="mlp-gan", dataset="mnist", model_options=TINY_OPTIONS["mlp-gan"], steps=2,
                      batch_size=16, device="cpu", seed=4, log_every=1)
    theirs = [e.losses for e in train(cfg) if isinstance(e, Step)]
    assert mine == theirs


def test_a_family_without_a_discriminator_is_refused_in_one_sentence(checkpoint_dirs):
    from aigc_models.stepper import GANStepper

    for call in (lambda: GANStepper.fresh("vae"), lambda: GANStepper.from_checkpoint(checkpoint_dirs["vae"])):
        with pytest.raises(ValueError) as err:
            call()
        message = str(err.value)
        assert message.startswith("Step-by-step training needs a GAN, a model with a discriminator (mlp-gan, dcgan, cgan")
        assert message.endswith("vae is a VAE model.") and "\n" not in message and message.count(". ") == 0
    with pytest.raises(ValueError, match="Unknown model"):
        GANStepper.fresh("stylegan")


def test_from_a_checkpoint_with_the_settings_its_run_recorded(checkpoint_dirs, tmp_path):
    from aigc_models.checkpoints import CheckpointError, load_checkpoint
    from aigc_models.stepper import GANStepper

    folder = checkpoint_dirs["dcgan"]
    stepper = GANStepper.from_checkpoint(folder, device="cpu", lr_d=1e-3)
    assert stepper.cfg.batch_size == 16 and stepper.cfg.lr_d == 1e-3 and stepper.cfg.ema == 0.0  # recorded, then asked
    saved = load_checkpoint(folder)
    assert same(params(stepper.model), params(saved))
    report = stepper.d_step()
    assert report.step_count == {"D": 1, "G": 0} and not same(params(stepper.model.discriminator),
                                                              params(saved.discriminator))
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        GANStepper.from_checkpoint(tmp_path / "nothing-here")
