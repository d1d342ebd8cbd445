"""The diffusion family: backbones, objectives, samplers, guidance, training and a save/load round trip.

Tiny configs; every test runs in seconds on a CPU. The sampler tests use exact "oracle"
denoisers for a single data point, so they check the conventions (what the network
predicts, which way the scheduler walks) without any training.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

from aigc_models import samplers, sampling
from aigc_models.checkpoints import check_model_options, load_checkpoint, save_checkpoint
from aigc_models.losses import (ddpm_alphas_cumprod, ddpm_betas, ddpm_loss, ddpm_noise, drop_labels,
                                flow_matching_loss)
from aigc_models.models import build_model, make_config
from aigc_models.models.diffusion import SAMPLERS, Diffusion, DiffusionConfig
from aigc_models.training import TrainConfig, train

TINY_UNET = {"channels": 8, "channel_mults": (1, 1, 2), "default_steps": 3}
TINY_DIT = {"backbone": "dit", "dit_width": 16, "dit_depth": 1, "dit_heads": 2, "default_steps": 3}
ALL_SAMPLERS = [(objective, name) for objective, names in SAMPLERS.items() for name in names]


def tiny(objective: str = "flow", backbone: str = "unet", **overrides) -> Diffusion:
    """A tiny model whose weights are all perturbed (the zero-initialised output layers too),
    so that its predictions depend on the input, the time and the label."""
    torch.manual_seed(0)
    options = {**(TINY_UNET if backbone == "unet" else TINY_DIT), "objective": objective, **overrides}
    model = build_model("diffusion", **options).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def images(b: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.rand(b, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


class Recorder(nn.Module):
    """A stand-in network that returns zeros and remembers what it was given."""

    def __init__(self, config: DiffusionConfig) -> None:
        super().__init__()
        self.config, self.null_label, self.calls = config, config.num_classes, []
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x_t, t, labels):
        self.calls.append((x_t, t, labels))
        return torch.zeros_like(x_t) + 0 * self.dummy


class Oracle(nn.Module):
    """The exact denoiser for data made of one image ``target``: for flow the velocity
    noise - x0 = (x - target) / sigma, for ddpm the noise (x - sqrt(abar) target) / sqrt(1 - abar)."""

    def __init__(self, config: DiffusionConfig, target: torch.Tensor) -> None:
        super().__init__()
        self.config, self.target = config, target
        self.num_classes, self.null_label, self.latent_dim = config.num_classes, config.num_classes, 784
        self.abar = ddpm_alphas_cumprod(config.schedule, config.num_train_timesteps).float()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x_t, t, labels):
        if self.config.objective == "flow":
            sigma = (t / self.config.num_train_timesteps).view(-1, 1, 1, 1)
            return (x_t - self.target) / sigma
        abar = self.abar[t.long()].view(-1, 1, 1, 1)
        return (x_t - abar.sqrt() * self.target) / (1 - abar).sqrt()


# ----------------------------------------------------------------------------- backbones


@pytest.mark.parametrize("options", [TINY_UNET, {**TINY_UNET, "attention": False}, TINY_DIT,
                                     {**TINY_DIT, "patch_size": 2}, {**TINY_DIT, "patch_size": 7}],
                         ids=["unet", "unet-no-attention", "dit-p4", "dit-p2", "dit-p7"])
def test_backbones_predict_one_value_per_pixel(options):
    model = build_model("diffusion", **options).eval()
    x, t, labels = images(), torch.tensor([0.0, 10.0, 500.0, 999.0]), torch.tensor([0, 3, 9, 10])  # 10 = null
    with torch.no_grad():
        out = model(x, t, labels)
    assert out.shape == (4, 1, 28, 28) and out.dtype == torch.float32
    assert torch.equal(out, torch.zeros_like(out))  # zero-initialised output: the untrained net predicts 0
    assert model.latent_dim == 784 and model.num_classes == 10 and model.null_label == 10
    assert model.family == "diffusion" and model.objective == "denoising"
    assert not hasattr(model, "discriminate")


@pytest.mark.parametrize("backbone", ["unet", "dit"])
def test_prediction_depends_on_time_label_and_image(backbone):
    model = tiny(backbone=backbone)
    x = images(1).expand(3, -1, -1, -1)
    with torch.no_grad():
        a, b, c = model(x, torch.tensor([100.0, 900.0, 100.0]), torch.tensor([1, 1, 2]))
    assert not torch.allclose(a, b) and not torch.allclose(a, c)
    with torch.no_grad():
        assert torch.equal(model(x[:1], torch.tensor([5.0]), None), model(x[:1], torch.tensor([5.0]), torch.tensor([10])))


def test_default_sizes_are_small_enough_for_a_cpu():
    assert 0.2e6 < sum(p.numel() for p in build_model("diffusion").parameters()) < 1e6
    assert 0.5e6 < sum(p.numel() for p in build_model("diffusion", backbone="dit").parameters()) < 2e6


def test_dit_position_embedding_is_not_saved():
    model = build_model("diffusion", **TINY_DIT)
    assert not any("pos_embed" in name for name in model.state_dict())


@pytest.mark.parametrize("bad, message", [
    ({"patch_size": 3}, "patch_size must be one of 2, 4, 7"),
    ({"channel_mults": (1, 2)}, "'channel_mults' must be a list of 3 layer sizes, each an integer from 1 to 8"),
    ({"backbone": "vit"}, "'backbone' must be one of unet, dit, got 'vit'"),
    ({"objective": "flow", "default_sampler": "ddim"}, "choose one of: auto, euler, heun"),
    ({"objective": "ddpm", "default_sampler": "euler"}, "choose one of: auto, ddpm, ddim, dpm-solver++"),
    ({"default_steps": 0}, "'default_steps' must be an integer from 1 to 1000"),
    ({"default_guidance": -1.0}, "'default_guidance' must be a number in [0, 20], got -1.0"),
    ({"dit_width": 18, "dit_heads": 4}, "dit_width must be divisible by 4 and by dit_heads"),
])
def test_config_refuses_bad_combinations_in_one_sentence(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_config("diffusion", **bad)


def test_every_config_field_has_a_checkpoint_rule():
    import dataclasses

    defaults = {f.name: getattr(DiffusionConfig(), f.name) for f in dataclasses.fields(DiffusionConfig)}
    checked = check_model_options("diffusion", {k: list(v) if isinstance(v, tuple) else v for k, v in defaults.items()})
    assert make_config("diffusion", **checked) == DiffusionConfig()
    assert check_model_options("diffusion", {"default_guidance": 3})["default_guidance"] == 3.0
    for bad in ({"default_guidance": float("nan")}, {"label_dropout": 1.0}, {"backbone": "gan"},
                {"channel_mults": [1, 2, 99]}, {"num_train_timesteps": 5000}):
        with pytest.raises(ValueError, match="diffusion option"):
            check_model_options("diffusion", bad)


# ----------------------------------------------------------------------------- objectives


@pytest.mark.parametrize("time_sampling", ["uniform", "logit-normal"])
def test_flow_matching_target_is_noise_minus_data(time_sampling):
    """x_sigma = (1 - sigma) x0 + sigma noise, time input sigma * T, target d x / d sigma = noise - x0;
    sigma uniform on (0, 1), or the sigmoid of a standard normal (logit-normal, the default)."""
    config = DiffusionConfig(time_sampling=time_sampling)
    model, x0, labels = Recorder(config), images(), torch.tensor([1, 2, 3, 4])
    torch.manual_seed(7)
    loss = flow_matching_loss(model, x0, labels)
    torch.manual_seed(7)
    sigma = torch.rand(4) if time_sampling == "uniform" else torch.sigmoid(torch.randn(4))
    noise = torch.randn_like(x0)
    x_t, t, seen = model.calls[0]
    s = sigma.view(-1, 1, 1, 1)
    torch.testing.assert_close(x_t, (1 - s) * x0 + s * noise)
    torch.testing.assert_close(t, sigma * 1000)
    assert torch.equal(seen, labels)  # no dropout by default
    torch.testing.assert_close(loss, ((noise - x0) ** 2).mean())  # the prediction was 0


def test_ddpm_forward_process_matches_the_closed_form_by_hand():
    beta0, beta1 = 1e-4, 1e-4 + (0.02 - 1e-4) / 999  # Ho et al.'s linear schedule, first two steps
    abar = ddpm_alphas_cumprod("linear", 1000)
    assert math.isclose(abar[0], 1 - beta0) and math.isclose(abar[1], (1 - beta0) * (1 - beta1))
    x0, eps = torch.tensor([[[[0.5, -1.0]]]]), torch.tensor([[[[1.0, 2.0]]]])
    a = (1 - beta0) * (1 - beta1)
    expected = torch.tensor([[[[math.sqrt(a) * 0.5 + math.sqrt(1 - a), -math.sqrt(a) + 2 * math.sqrt(1 - a)]]]])
    torch.testing.assert_close(ddpm_noise(x0, eps, abar[1:2]), expected)
    # cosine (Nichol & Dhariwal 2021, eq. 17): abar_t = f(t) / f(0), f(t) = cos^2((t / T + s) / (1 + s) * pi / 2)
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    cosine = ddpm_alphas_cumprod("cosine", 1000)
    for t in (0, 1, 500):
        assert math.isclose(cosine[t], f(t + 1) / f(0), rel_tol=1e-9)


def test_ddpm_loss_noises_by_q_and_targets_the_noise():
    model, x0, labels = Recorder(DiffusionConfig(objective="ddpm")), images(), torch.tensor([1, 2, 3, 4])
    torch.manual_seed(3)
    loss = ddpm_loss(model, x0, labels)
    torch.manual_seed(3)
    t, eps = torch.randint(0, 1000, (4,)), torch.randn_like(x0)
    x_t, t_seen, _ = model.calls[0]
    abar = ddpm_alphas_cumprod("linear", 1000)[t].float().view(-1, 1, 1, 1)
    torch.testing.assert_close(x_t, abar.sqrt() * x0 + (1 - abar).sqrt() * eps)
    torch.testing.assert_close(t_seen, t.float())
    torch.testing.assert_close(loss, (eps**2).mean())


@pytest.mark.parametrize("schedule, name", [("linear", "linear"), ("cosine", "squaredcos_cap_v2")])
def test_our_betas_are_diffusers_standard_schedules(schedule, name):
    from diffusers import DDPMScheduler

    theirs = DDPMScheduler(num_train_timesteps=1000, beta_schedule=name).betas.double()
    torch.testing.assert_close(ddpm_betas(schedule, 1000), theirs, atol=1e-7, rtol=1e-5)


def test_label_dropout_uses_the_null_label():
    torch.manual_seed(0)
    labels = torch.randint(0, 10, (10_000,))
    dropped = drop_labels(labels, 0.1, 10)
    changed = dropped != labels
    assert (dropped[changed] == 10).all() and 0.08 < changed.float().mean() < 0.12
    assert torch.equal(drop_labels(labels, 0.0, 10), labels)


# ----------------------------------------------------------------------------- samplers


@pytest.mark.parametrize("objective, sampler", ALL_SAMPLERS)
@pytest.mark.parametrize("steps", [1, 2, 7])
def test_every_sampler_lands_on_the_data_with_the_exact_denoiser(objective, sampler, steps):
    """Our convention and diffusers' agree: with the exact prediction for one data point, the
    scheduler walks from noise to exactly that point (Euler even in one step)."""
    target = images(1, seed=5)
    oracle = Oracle(DiffusionConfig(objective=objective), target)
    noise = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    out, _ = samplers.run_sampler(oracle, noise, None, sampler=sampler, steps=steps, guidance=1.0)
    tolerance = 1e-3 if sampler == "ddpm" else 1e-4  # the ancestral sampler's last step adds noise of variance ~1e-20
    torch.testing.assert_close(out, target.expand(3, -1, -1, -1), atol=tolerance, rtol=0)


class Underestimate(Oracle):
    """The exact denoiser's noise prediction times 0.9: a trained network's kind of error."""

    def forward(self, x_t, t, labels):
        return 0.9 * super().forward(x_t, t, labels)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "dpm-solver++"])
def test_noise_samplers_stay_near_the_data_with_an_imperfect_denoiser(schedule, sampler):
    """An error in the noise prediction is divided by sqrt(abar) in the clean-image estimate, and
    the cosine schedule's first step has abar = 2.4e-9: every sampler clips that estimate to the
    data's range. Without the clip DPM-Solver++ landed 0.78 from the target on average (cosine,
    20 steps) where DDIM landed 0.012; with it, 0.013."""
    target = images(1, seed=5)
    model = Underestimate(DiffusionConfig(objective="ddpm", schedule=schedule), target)
    noise = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    out, _ = samplers.run_sampler(model, noise, None, sampler=sampler, steps=20, guidance=1.0)
    assert float((out - target).abs().mean()) < 0.05


@pytest.mark.parametrize("sampler, steps, times", [
    ("euler", 1, [1000.0]), ("euler", 2, [1000.0, 500.0]), ("euler", 4, [1000.0, 750.0, 500.0, 250.0]),
    ("heun", 1, [1000.0]), ("heun", 2, [1000.0, 500.0, 500.0]), ("heun", 3, [1000.0, 2000 / 3, 2000 / 3, 1000 / 3, 1000 / 3])])
def test_flow_samplers_take_equal_steps_down_to_zero(sampler, steps, times):
    """n steps are n equal steps in sigma, not diffusers' default n - 1 steps to sigma 1/T and a last
    step from 1/T to 0 that does nothing (which made 2 steps the image of 1)."""
    recorder = Recorder(DiffusionConfig(objective="flow"))
    samplers.run_sampler(recorder, images(2), None, sampler=sampler, steps=steps, guidance=1.0)
    seen = [float(t[0]) for _, t, _ in recorder.calls]
    assert seen == pytest.approx(times, abs=1e-3)


@pytest.mark.parametrize("objective, sampler", ALL_SAMPLERS)
def test_every_sampler_is_deterministic_per_seed(objective, sampler):
    model = tiny(objective)
    a = samplers.sample(model, 3, seed=11, sampler=sampler, steps=4)
    b = samplers.sample(model, 3, seed=11, sampler=sampler, steps=4)
    c = samplers.sample(model, 3, seed=12, sampler=sampler, steps=4)
    assert a.shape == (3, 1, 28, 28) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    z = sampling.latents(3, 784, seed=11)
    direct = model.generate(z, sampling.even_labels(3, 10), sampler=sampler, steps=4)
    torch.testing.assert_close(direct, a, atol=1e-5, rtol=0)


def test_ancestral_sampler_takes_an_explicit_generator():
    model = tiny("ddpm")
    z = sampling.latents(2, 784, seed=0)
    labels = torch.tensor([1, 2])
    default = model.generate(z, labels, sampler="ddpm", steps=3)
    own = model.generate(z, labels, sampler="ddpm", steps=3, generator=torch.Generator().manual_seed(99))
    again = model.generate(z, labels, sampler="ddpm", steps=3, generator=torch.Generator().manual_seed(99))
    assert torch.equal(own, again) and not torch.equal(own, default)


def test_guidance_one_is_exactly_the_conditional_prediction():
    model = tiny()
    x, t, labels = images(3), torch.full((3,), 400.0), torch.tensor([0, 4, 9])
    with torch.no_grad():
        cond, uncond = model(x, t, labels), model(x, t, None)
        assert torch.equal(samplers.guided_prediction(model, x, t, labels, 1.0), cond)
        assert torch.equal(samplers.guided_prediction(model, x, t, labels, 0.0), uncond)
        guided = samplers.guided_prediction(model, x, t, labels, 3.0)
    torch.testing.assert_close(guided, uncond + 3.0 * (cond - uncond), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(guided, cond)


def test_guidance_is_one_batched_forward():
    model = tiny()
    sizes = []
    model.net.register_forward_hook(lambda module, args, out: sizes.append(args[0].shape[0]))
    model.generate(sampling.latents(3, 784, seed=0), torch.tensor([1, 2, 3]), steps=2, guidance=2.5)
    assert sizes == [6, 6]
    sizes.clear()
    model.generate(sampling.latents(3, 784, seed=0), torch.tensor([1, 2, 3]), steps=2, guidance=1.0)
    assert sizes == [3, 3]


@pytest.mark.parametrize("objective, sampler", ALL_SAMPLERS)
def test_trajectory_ends_at_the_sample(objective, sampler):
    model = tiny(objective)
    path = samplers.trajectory(model, seed=3, label=7, sampler=sampler, steps=4, guidance=2.0)
    assert path.x_t.shape == path.x0_hat.shape == (4, 1, 28, 28)
    assert path.x0_hat.min() >= -1 and path.x0_hat.max() <= 1
    assert (path.timesteps[1:] < path.timesteps[:-1]).all()
    final = samplers.sample(model, 1, seed=3, labels=7, sampler=sampler, steps=4, guidance=2.0)
    assert torch.equal(path.x_t[-1], final[0])


def test_library_sample_uses_the_default_sampler():
    model = tiny()
    assert torch.equal(sampling.sample(model, 4, seed=2), samplers.sample(model, 4, seed=2))
    assert sampling.interpolate(model, seed_a=1, seed_b=2, steps=3, label=4).shape == (3, 1, 28, 28)


def test_noise_to_is_the_forward_process():
    x0 = images(1)[0]
    assert torch.equal(samplers.noise_to(x0, 0.0, seed=1), x0)
    noise = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(1))[0]
    torch.testing.assert_close(samplers.noise_to(x0, 1.0, seed=1), noise)
    torch.testing.assert_close(samplers.noise_to(x0, 0.25, seed=1), 0.75 * x0 + 0.25 * noise)
    ddpm = DiffusionConfig(objective="ddpm", schedule="cosine")
    abar = float(ddpm_alphas_cumprod("cosine", 1000)[500])
    torch.testing.assert_close(samplers.noise_to(x0[None], 500 / 999, seed=1, config=ddpm)[0],
                               abar**0.5 * x0 + (1 - abar) ** 0.5 * noise)


@pytest.mark.parametrize("call, message", [
    (lambda m: samplers.sample(m, 2, seed=0, sampler="ddim"), "Sampler 'ddim' does not fit a flow-objective diffusion model; choose one of: euler, heun"),
    (lambda m: samplers.sample(m, 2, seed=0, steps=0), "steps must be a whole number between 1 and 1000"),
    (lambda m: samplers.sample(m, 2, seed=0, steps=1001), "steps must be a whole number between 1 and 1000"),
    (lambda m: samplers.sample(m, 2, seed=0, guidance=float("nan")), "guidance .* must be a number between 0 and 20"),
    (lambda m: samplers.sample(m, 2, seed=-1), "seed must be a whole number"),
    (lambda m: samplers.trajectory(m, seed=0, label=10), "label must be a whole number between 0 and 9"),
    (lambda m: samplers.noise_to(torch.zeros(1, 28, 28), 1.5, seed=0), r"t \(0 = the image, 1 = pure noise\)"),
    (lambda m: samplers.noise_to(torch.zeros(28, 28), 0.5, seed=0), "x0 must be a float tensor"),
    (lambda m: m.generate(torch.zeros(2, 10)), r"initial noise must be a float tensor \(B, 784\)"),
    (lambda m: m.generate(torch.zeros(2, 784), torch.tensor([0, 10])), "labels must be whole numbers from 0 to 9"),
])
def test_bad_arguments_are_refused_in_one_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny())


# ----------------------------------------------------------------------------- training and checkpoints


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("diffusion") / "ck"
    cfg = TrainConfig(model="diffusion", model_options=dict(TINY_UNET), steps=3, batch_size=16, device="cpu",
                      seed=0, log_every=1, sample_every=2, lr=2e-3, ema=0.999, out=str(out))
    events = list(train(cfg))
    return events, out


def test_training_runs_and_shows_live_samples(trained_dir):
    events, out = trained_dir
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Started" and kinds[-1] == "Done" and events[-1].reason == "steps"
    losses = [e.losses["loss"] for e in events if type(e).__name__ == "Step"]
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
    grids = [e for e in events if type(e).__name__ == "Samples"]
    assert grids and grids[-1].images.shape == (100, 1, 28, 28) and grids[-1].labels.shape == (100,)
    assert (out / "model.safetensors").is_file()


def test_checkpoint_round_trip_gives_identical_samples(trained_dir, tmp_path):
    _, out = trained_dir
    model = load_checkpoint(out)
    assert isinstance(model, Diffusion) and model.config == make_config("diffusion", **TINY_UNET)
    again = load_checkpoint(save_checkpoint(model, tmp_path / "again"))
    for sampler in SAMPLERS["flow"]:
        assert torch.equal(samplers.sample(model, 4, seed=5, sampler=sampler),
                           samplers.sample(again, 4, seed=5, sampler=sampler))
    assert torch.equal(sampling.sample(model, 4, seed=5), sampling.sample(again, 4, seed=5))
    hub = Diffusion.from_pretrained(str(out))  # the Hub mixin goes through the same checked loader
    assert torch.equal(sampling.sample(hub, 4, seed=5), sampling.sample(model, 4, seed=5))


@pytest.mark.parametrize("options", [{**TINY_DIT, "objective": "ddpm", "schedule": "cosine"},
                                     {**TINY_UNET, "objective": "ddpm"}], ids=["dit-ddpm-cosine", "unet-ddpm"])
def test_other_backbone_and_objective_train_and_round_trip(options, tmp_path):
    cfg = TrainConfig(model="diffusion", model_options=options, steps=2, batch_size=8, device="cpu", seed=0,
                      log_every=1, sample_every=10, out=str(tmp_path / "ck"))
    events = list(train(cfg))
    assert events[-1].reason == "steps"
    model = load_checkpoint(tmp_path / "ck")
    assert model.config.objective == "ddpm"
    again = load_checkpoint(save_checkpoint(model, tmp_path / "again"))
    assert torch.equal(samplers.sample(model, 2, seed=1, sampler="ddpm"), samplers.sample(again, 2, seed=1, sampler="ddpm"))


def test_evaluator_scores_a_diffusion_model(trained_dir):
    from aigc_models.metrics import Evaluator

    evaluator = Evaluator(load_checkpoint("mnist-classifier"), "mnist")
    report = evaluator.evaluate_generator(load_checkpoint(trained_dir[1]), n=40, seed=0)
    assert report["n"] == 40 and 0 <= report["class_accuracy"] <= 1 and math.isfinite(report["frechet_distance"])
