"""train(config) -> events: every family, the options, and stopping."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from conftest import TINY_OPTIONS, TINY_STEPS, run_events, tiny_train_config

from aigc_models import objectives, training
from aigc_models.checkpoints import load_checkpoint, read_meta, save_checkpoint
from aigc_models.models import build_model, make_config
from aigc_models.training import EMA, CheckpointSaved, Done, Metrics, Samples, Started, Step, train

LOSS_KEYS = {
    "gan": {"loss_d", "loss_g", "d_real", "d_fake"},
    "elbo": {"elbo", "recon", "kl"},
    "cross-entropy": {"loss", "accuracy"},
}
OBJECTIVE = {"mlp-gan": "gan", "dcgan": "gan", "cgan": "gan", "cgan-mlp": "gan", "vae": "elbo", "classifier": "cross-entropy"}


def leftovers(out: Path) -> list[str]:
    """Temporary or backup siblings that a save may leave next to ``out``."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def check_order(events: list, *, samples: bool) -> None:
    kinds = [type(e) for e in events]
    assert kinds[0] is Started
    assert kinds[-1] is Done
    assert kinds[-2] is CheckpointSaved
    steps = [e.step for e in events if isinstance(e, Step)]
    assert steps == sorted(steps) and steps, "Step events must come in step order"
    if samples:
        assert kinds[-3] is Samples  # the final grid, then the save
        assert Samples in kinds[1 : kinds.index(Step) + 2]  # a first grid right after step 1
    else:
        assert Samples not in kinds


# ----------------------------------------------------------------------------- every family


@pytest.mark.parametrize("name", sorted(OBJECTIVE))
def test_each_family_trains_and_saves(trained, name):
    events, out = trained[name]
    objective = OBJECTIVE[name]
    check_order(events, samples=objective != "cross-entropy")
    steps = [e for e in events if isinstance(e, Step)]
    assert [e.step for e in steps] == list(range(1, TINY_STEPS + 1))  # log_every=1
    for e in steps:
        assert set(e.losses) == LOSS_KEYS[objective]
        assert all(math.isfinite(v) for v in e.losses.values())
        assert e.total_steps == TINY_STEPS and e.images_per_second > 0 and e.eta >= 0
    if objective == "gan":
        assert all(0 <= e.losses["d_real"] <= 1 and 0 <= e.losses["d_fake"] <= 1 for e in steps)
    for e in events:
        if isinstance(e, Samples):
            assert e.images.shape[1:] == (1, 28, 28)
            assert e.images.min() >= -1 and e.images.max() <= 1
            assert (e.labels is not None) == name.startswith("cgan")
    done = events[-1]
    assert done.reason == "steps" and done.step == TINY_STEPS
    assert done.checkpoint == events[-2].path == str(out)
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    assert leftovers(out) == []
    started = events[0]
    assert started.parameters > 0 and "CPU" in started.device
    meta = read_meta(out)
    assert meta["training"]["steps"] == TINY_STEPS
    assert meta["training"]["images_seen"] == TINY_STEPS * 16


def test_training_changes_the_weights(checkpoint_dirs):
    torch.manual_seed(0)  # train() seeds the same way before building
    init = build_model("dcgan", make_config("dcgan", **TINY_OPTIONS["dcgan"]))
    trained = load_checkpoint(checkpoint_dirs["dcgan"])
    init_g = dict(init.generator.named_parameters())
    assert any(not torch.equal(p, init_g[n]) for n, p in trained.generator.named_parameters())


def test_same_seed_same_run(tmp_path):
    a = run_events(tiny_train_config("mlp-gan", steps=2))
    b = run_events(tiny_train_config("mlp-gan", steps=2))
    la = [e.losses for e in a if isinstance(e, Step)]
    lb = [e.losses for e in b if isinstance(e, Step)]
    assert la == lb
    assert torch.equal(a[-2].images, b[-2].images)  # final sample grid (no out: Samples, Done)


# ----------------------------------------------------------------------------- options


def test_hinge_loss_is_used(monkeypatch):
    kinds = []
    real = objectives.discriminator_loss

    def spy(real_logits, fake_logits, kind="ns"):
        kinds.append(kind)
        return real(real_logits, fake_logits, kind)

    monkeypatch.setattr(objectives, "discriminator_loss", spy)
    events = run_events(tiny_train_config("dcgan", steps=2, loss="hinge"))
    assert kinds == ["hinge", "hinge"]
    assert all(math.isfinite(v) for e in events if isinstance(e, Step) for v in e.losses.values())


def test_r1_penalty_of_a_linear_discriminator():
    """For logits w . x the gradient at every image is w, so the penalty is gamma / 2 |w|^2
    and its gradient with respect to w is gamma w."""
    torch.manual_seed(0)
    w = torch.randn(28 * 28, requires_grad=True)
    x = torch.rand(5, 1, 28, 28, requires_grad=True)
    penalty = objectives.r1_penalty(x.flatten(1) @ w, x, 0.3)
    assert penalty.item() == pytest.approx(0.15 * w.detach().pow(2).sum().item(), rel=1e-5)
    (grad_w,) = torch.autograd.grad(penalty, w)
    assert torch.allclose(grad_w, 0.3 * w.detach(), rtol=1e-5)


def test_r1_is_applied_lazily_and_changes_d_only_then(monkeypatch):
    calls = []
    real_penalty = objectives.r1_penalty
    monkeypatch.setattr(objectives, "r1_penalty", lambda *a: (calls.append(a[2]), real_penalty(*a))[1])
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    labels = torch.zeros(8, dtype=torch.long)

    def d_grads_after(steps: int, **cfg) -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = build_model("dcgan", **TINY_OPTIONS["dcgan"])
        objective = training.GANObjective(model, training.TrainConfig(model="dcgan", **cfg).validate())
        for _ in range(steps):
            torch.manual_seed(1)  # the same latents in both runs
            objective.step(real, labels)
        return [p.grad.clone() for p in model.discriminator.parameters()]

    plain = d_grads_after(2)
    penalised = d_grads_after(2, r1=10.0, r1_every=3)  # step 0 penalised, step 1 not
    assert calls == [10.0]
    assert not all(torch.equal(a, b) for a, b in zip(plain, penalised))
    calls.clear()
    d_grads_after(7, r1=1.0, r1_every=3)
    assert calls == [1.0, 1.0, 1.0]  # steps 0, 3 and 6


def test_shipped_recipe_is_what_trained_the_shipped_checkpoint(monkeypatch, tmp_path):
    recorded = read_meta("mnist-dcgan")["training"]["train_config"]
    recipe = training.shipped_recipe("dcgan", "MNIST")
    assert recipe.model_options == recorded["model_options"] and recipe.model_options["spectral_norm"] is True
    assert (recipe.lr_g, recipe.lr_d, recipe.loss, recipe.ema, recipe.batch_size) == (
        recorded["lr_g"], recorded["lr_d"], recorded["loss"], recorded["ema"], recorded["batch_size"])
    assert recipe.steps == training.TrainConfig().steps and recipe.out is None  # the caller's to choose
    monkeypatch.setattr(training, "SHIPPED_DIR", tmp_path)  # nothing shipped: the defaults
    assert training.shipped_recipe("dcgan", "mnist") == training.TrainConfig(model="dcgan", dataset="mnist").validate()
    with pytest.raises(ValueError, match="Unknown model"):
        training.shipped_recipe("stylegan", "mnist")


def test_a_default_changed_since_the_checkpoint_keeps_the_recipe_as_trained():
    """The shipped diffusion models were trained with uniform flow-matching times and record no
    model options; the default is logit-normal now, so their recipe must say uniform."""
    config = read_meta("mnist-diffusion")["config"]
    assert read_meta("mnist-diffusion")["training"]["train_config"]["model_options"] == {}
    assert config["time_sampling"] == "uniform" and training.make_config("diffusion").time_sampling == "logit-normal"
    recipe = training.shipped_recipe("diffusion", "mnist")
    assert recipe.model_options["time_sampling"] == "uniform"
    assert recipe.model_options["default_guidance"] == config["default_guidance"]  # the card's measured choice
    assert "channel_mults" not in recipe.model_options  # a list saved for a default tuple is no change
    assert training.changed_model_fields("diffusion", {**config, "time_sampling": "logit-normal"}) == {
        "default_guidance": config["default_guidance"]}


def test_unknown_loss_raises():
    with pytest.raises(ValueError, match="loss"):
        run_events(tiny_train_config("dcgan", loss="wasserstein"))


def test_ema_average_with_its_warm_up():
    """Update n keeps min(decay, (1 + n) / (10 + n)) of the average: 1/10, 2/11, then the decay (0.2 < 3/12)."""
    source = torch.nn.Linear(2, 2)
    ema = EMA(source, 0.2)
    for decay in [1 / 10, 2 / 11, 0.2, 0.2]:
        assert ema.current_decay() == pytest.approx(decay)
        before = ema.module.weight.clone()
        with torch.no_grad():
            source.weight.add_(4.0)
        ema.update(source)
        torch.testing.assert_close(ema.module.weight, decay * before + (1 - decay) * source.weight)
    assert not ema.module.weight.requires_grad


def test_ema_generator_is_exported(tmp_path, monkeypatch):
    """With a decay of ~1 (and no warm-up) the saved G stays at its initial weights; D trains as usual."""
    monkeypatch.setattr(EMA, "warmup", 1)
    events = run_events(tiny_train_config("dcgan", tmp_path / "ema", steps=2, ema=0.999999))
    assert all(math.isfinite(v) for e in events if isinstance(e, Step) for v in e.losses.values())
    torch.manual_seed(0)
    init = build_model("dcgan", make_config("dcgan", **TINY_OPTIONS["dcgan"]))
    saved = load_checkpoint(tmp_path / "ema")
    init_g = dict(init.generator.named_parameters())
    for name, p in saved.generator.named_parameters():
        assert torch.allclose(p, init_g[name], atol=1e-4), name
    init_d = dict(init.discriminator.named_parameters())
    assert any(not torch.allclose(p, init_d[n], atol=1e-4) for n, p in saved.discriminator.named_parameters())


def test_diffaugment_runs_on_real_and_fake(monkeypatch):
    policies = []
    real = objectives.diff_augment

    def spy(x, policy="translation,cutout", **kwargs):
        policies.append(policy)
        return real(x, policy, **kwargs)

    monkeypatch.setattr(objectives, "diff_augment", spy)
    events = run_events(tiny_train_config("cgan", steps=2, diffaugment="translation,cutout"))
    assert policies == ["translation,cutout"] * 6  # D: real + fake, G: fake; per step
    assert all(math.isfinite(v) for e in events if isinstance(e, Step) for v in e.losses.values())


def test_real_augment_runs(monkeypatch):
    calls = []
    real = objectives.classic_augment

    def spy(x, **kwargs):
        calls.append(tuple(x.shape))
        return real(x, **kwargs)

    monkeypatch.setattr(objectives, "classic_augment", spy)
    events = run_events(tiny_train_config("mlp-gan", steps=2, real_augment=True))
    assert calls == [(16, 1, 28, 28)] * 2
    assert all(math.isfinite(v) for e in events if isinstance(e, Step) for v in e.losses.values())


def test_fine_tune_from_a_checkpoint(tmp_path, checkpoint_dirs):
    src = checkpoint_dirs["dcgan"]
    out = tmp_path / "fine-tuned"
    cfg = tiny_train_config("dcgan", out, steps=2, init_from=str(src), model_options={}, dataset="fashion-mnist")
    events = run_events(cfg)
    assert isinstance(events[-1], Done) and events[-1].checkpoint == str(out)
    meta = read_meta(out)
    assert meta["dataset"] == "fashion-mnist"
    # the checkpoint's architecture, not the defaults (g_channels 64)
    assert meta["config"]["g_channels"] == TINY_OPTIONS["dcgan"]["g_channels"]
    before = dict(load_checkpoint(src).generator.named_parameters())
    after = load_checkpoint(out)
    diffs = [float((p - before[n]).abs().max().detach()) for n, p in after.generator.named_parameters()]
    assert max(diffs) > 0  # trained further
    assert read_meta(src)["dataset"] == "mnist"  # the source is untouched


def test_fine_tune_rejects_another_family(checkpoint_dirs):
    with pytest.raises(ValueError, match="init-from"):
        run_events(tiny_train_config("mlp-gan", init_from=str(checkpoint_dirs["dcgan"])))


def test_evaluators_are_called(tmp_path):
    calls = []

    def evaluator(model):
        calls.append(model.training)
        return {"score": 1.5}

    cfg = tiny_train_config("vae", tmp_path / "vae", steps=2, eval_every=1)
    events = run_events(cfg, evaluator=evaluator, final_evaluator=lambda m: {"final": 2.0})
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert [m.metrics for m in metrics] == [{"score": 1.5}, {"score": 1.5}, {"final": 2.0}]
    assert calls == [False, False]  # evaluated in eval mode
    assert read_meta(tmp_path / "vae")["metrics"] == {"final": 2.0}


# ----------------------------------------------------------------------------- stopping


def test_closing_early_writes_nothing(tmp_path):
    out = tmp_path / "run"
    gen = train(tiny_train_config("dcgan", out, steps=50))
    seen = [next(gen) for _ in range(4)]
    assert isinstance(seen[0], Started)
    gen.close()
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder either


def test_closing_early_keeps_the_previous_checkpoint(tmp_path, checkpoint_dirs):
    out = tmp_path / "run"
    save_checkpoint(load_checkpoint(checkpoint_dirs["dcgan"]), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    gen = train(tiny_train_config("dcgan", out, steps=50))
    for _ in range(5):
        next(gen)
    gen.close()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(out) == []


def test_stop_callable_ends_early_and_saves(tmp_path):
    out = tmp_path / "stopped"
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 2  # two steps, then stop

    events = run_events(tiny_train_config("vae", out, steps=50), stop=stop)
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "stopped" and done.step == 2
    assert isinstance(events[-2], CheckpointSaved) and done.checkpoint == str(out)
    assert (out / "model.safetensors").is_file()
    assert read_meta(out)["training"]["steps"] == 2


def test_time_limit_before_the_first_step_saves_nothing(tmp_path):
    out = tmp_path / "none"
    events = run_events(tiny_train_config("dcgan", out, max_seconds=0))
    assert isinstance(events[-1], Done)
    assert events[-1].reason == "time" and events[-1].step == 0 and events[-1].checkpoint is None
    assert not any(isinstance(e, CheckpointSaved) for e in events)
    assert not out.exists()


def test_resolve_device():
    assert training.resolve_device("cpu") == torch.device("cpu")
    assert training.resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError):
        training.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            training.resolve_device("cuda")


def test_recalibrated_batchnorm_matches_the_generators_own_statistics():
    """After re-estimation, G in eval mode draws what it draws in train mode (batch statistics)."""
    from aigc_models.models import build_model
    from aigc_models.training import recalibrate_batchnorm

    torch.manual_seed(0)
    model = build_model("dcgan", latent_dim=8, g_channels=8, d_channels=8)
    for m in model.generator.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.fill_(3.0)  # statistics of some other weights
            m.running_var.fill_(9.0)
    z = torch.randn(4096, 8, generator=torch.Generator().manual_seed(1))

    def gap() -> float:
        with torch.no_grad():
            model.generator.train()
            batch_stats = model.generate(z)
            model.generator.eval()
            return float((model.generate(z) - batch_stats).abs().mean())

    before = gap()
    recalibrate_batchnorm(model, batches=8, batch_size=512)
    assert gap() < 0.02 < before
    assert not model.generator.training and all(
        m.momentum == 0.1 for m in model.generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))


@pytest.mark.parametrize("ema, calls", [(0.0, 0), (0.9, 1)])
def test_an_ema_generator_is_recalibrated_before_it_is_saved(tmp_path, monkeypatch, ema, calls):
    seen = []
    original = objectives.recalibrate_batchnorm
    monkeypatch.setattr(objectives, "recalibrate_batchnorm", lambda model, **kw: seen.append(1) or original(model, **kw))
    run_events(tiny_train_config("dcgan", tmp_path / "out", ema=ema, sample_every=100))
    assert len(seen) == calls


@pytest.mark.parametrize("family", ["mlp-gan", "cgan"])
def test_g_step_leaves_d_untouched_and_trainable(family):
    """D is frozen only during the G step's backward: both players still learn, D's weights
    get gradients from the D step alone, and D is trainable again afterwards."""
    torch.manual_seed(0)
    model = build_model(family, **TINY_OPTIONS.get(family, {}))
    step = training.GANObjective(model, training.TrainConfig(model=family))
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    labels = torch.randint(0, 10, (8,))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    d_grads = []
    step.opt_d.step = (lambda original: lambda *a, **k: (d_grads.append(
        [p.grad.clone() for p in model.discriminator.parameters()]), original(*a, **k))[1])(step.opt_d.step)
    step.step(real, labels)
    assert all(p.requires_grad for p in model.parameters())
    assert all(not torch.equal(p, before[n]) for n, p in model.named_parameters() if n.startswith("generator.") and p.ndim > 1)
    assert all(not torch.equal(p, before[n]) for n, p in model.named_parameters() if n.startswith("discriminator.") and p.ndim > 1)
    # after the G step, D's gradients are still exactly those its own step used
    assert all(torch.equal(p.grad, g) for p, g in zip(model.discriminator.parameters(), d_grads[0]))


def test_evaluation_in_seconds_is_the_trainers_and_exports_only_when_it_runs(monkeypatch):
    """``eval_seconds``: the trainer calls the evaluator when that much time has passed since the
    last call (a tiny value: every step; a huge one: never), and exports the model (a copy and a
    BatchNorm re-estimate with EMA) only for the calls it makes."""
    from aigc_models import training

    exports = []
    real_export = training.GANObjective.export

    def counting_export(self, *, final=False):
        exports.append(final)
        return real_export(self, final=final)

    monkeypatch.setattr(training.GANObjective, "export", counting_export)
    calls = []
    for seconds, expected in ((1e-9, 4), (1e6, 0)):
        calls.clear()
        exports.clear()
        cfg = tiny_train_config("dcgan", steps=4, sample_every=10**6, ema=0.9, eval_seconds=seconds)
        events = run_events(cfg, evaluator=lambda m: calls.append(1) or {"ok": 1})
        assert len(calls) == expected == sum(isinstance(e, training.Metrics) for e in events)
        assert exports.count(True) == expected + 1  # one per evaluation, one for the end of the run
