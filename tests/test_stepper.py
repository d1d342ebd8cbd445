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


# ----------------------------------------------------------------------------- the tab's handlers


@pytest.fixture
def tab(app_environment, monkeypatch):
    """ui.step with an empty store of its own."""
    from ui import step

    monkeypatch.setattr(step, "STORE", step.StepperStore())
    return step


def visitor(session: str = "visitor", lang: str = "en-US"):
    """What gradio passes as the request: the session and the browser's language."""
    from types import SimpleNamespace

    return SimpleNamespace(session_hash=session, headers={"accept-language": lang})


FORM = ("mlp-gan", "mnist", 0, "scratch", None)


def png(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_each_button_steps_the_sessions_model_and_shows_what_changed(tab):
    me = visitor()
    status, reading, before, after, hist_before, hist_after, grads = tab.d_step(*FORM, me)
    assert "steps taken: D **1**, G **0**" in status and "loss D" in status and "loss G" not in status
    assert reading.startswith("D step 1: D's mean score on real images ") and "the samples did not change" in reading
    assert png(before) == png(after) and before.size[0] >= 400  # G did not step: the same picture
    assert list(grads.layer[grads.net == "D"]) == [f"D · {k}" for k in ("features.0 (Linear)", "features.3 (Linear)",
                                                                        "head (Linear)")]  # the network's order
    assert (grads.norm[grads.net == "D"] > 0).all() and list(grads.norm[grads.net == "G"]) == [0.0]  # G: a 0 bar
    stepper = tab.STORE.get("visitor").stepper
    assert [b.y for b in hist_after.data[:2]] == [tuple(tab.shares(stepper.probe().real_scores)),
                                                  tuple(tab.shares(stepper.probe().fake_scores))]
    assert hist_before.layout.yaxis.range == hist_after.layout.yaxis.range  # one scale for both

    status, reading, before2, after2, *_, grads = tab.g_step(*FORM, me)
    assert "steps taken: D **1**, G **1**" in status and reading.startswith("G step 1: D's mean score on fakes ")
    assert png(before2) == png(after) and png(after2) != png(before2)  # it goes on from the last picture
    assert list(grads.net) == ["G"] * 7 + ["D"] and list(grads.norm)[-1] == 0.0 and list(grads.layer)[-1] == list(grads.layer)[0]
    status, reading, *_, grads = tab.dg_step(*FORM, me)
    assert "steps taken: D **2**, G **2**" in status and reading.startswith("Step 2 (D then G): ")
    assert list(dict.fromkeys(grads.net)) == ["D", "G"] and (grads.norm > 0).all()
    assert tab.STORE.get("visitor").stepper is stepper  # one model, stepped three times

    # the sentence is the report's numbers; in Chinese for a Chinese browser
    report = stepper.d_step()
    assert f"{float(report.before.real_scores.mean()):.2f}" in tab.reading(report, "en")
    assert tab.reading(report, "zh").startswith("D 第 3 步：D 对真实图像的平均分")
    zh = tab.d_step(*FORM, visitor("visitor", "zh-CN"))
    assert "D 已更新 **4** 步" in zh[0] and zh[1].startswith("D 第 4 步")


def test_moved_says_rose_fell_or_stayed_and_keeps_small_changes_visible(tab):
    assert tab.moved(0.61, 0.66, "en") == "rose from 0.61 to 0.66"
    assert tab.moved(0.42, 0.35, "en") == "fell from 0.42 to 0.35"
    assert tab.moved(0.5070, 0.5057, "en") == "fell from 0.507 to 0.506"
    assert tab.moved(0.5, 0.50001, "en") == "stayed at 0.500" and tab.moved(0.42, 0.35, "zh") == "从 0.42 降到 0.35"


def test_reset_starts_again_and_a_checkpoint_is_named_never_its_path(tab, root):
    me = visitor()
    tab.d_step(*FORM, me)
    status, reading, before, after, *_, grads = tab.reset(*FORM, me)
    assert "steps taken: D **0**, G **0**" in status and reading.startswith("No step yet") and grads is None
    assert png(before) == png(after)
    assert png(before) == png(tab.preview(*FORM)[0])  # what the tab opened on
    status, *_ = tab.reset("mlp-gan", "mnist", 3, "checkpoint", "mnist-dcgan", me)
    assert status.startswith("**mnist-dcgan** (DCGAN) on **mnist**, seed 3") and str(root) not in status
    assert "optimiser starts afresh" in status
    assert tab.STORE.get("visitor").stepper.model.family == "dcgan"
    # changing the form and clicking builds the model the form now names, and says so
    status, *_ = tab.g_step(*FORM, me)
    assert "A new **MLP GAN**" in status and "G **1**" in status and "The settings changed" in status


def test_slow_motion_steps_until_pause(tab):
    me = visitor()
    run = tab.slow_motion(*FORM, me, pace=0)
    views = [next(run) for _ in range(3)]
    assert "D **1**, G **1**" in views[0][0] and "D **3**, G **3**" in views[-1][0]
    assert [v[1].split(":")[0] for v in views] == ["Step 1 (D then G)", "Step 2 (D then G)", "Step 3 (D then G)"]
    tab.pause(me)
    rest = list(run)
    assert len(rest) == 1 and "Paused after 3 slow-motion steps." in rest[0][0]
    assert tab.STORE.get("visitor").stepper.step_count == {"D": 3, "G": 3}
    # Reset, or a closed page, stops it without a word (the model it drove is gone)
    run = tab.slow_motion(*FORM, me, pace=0)
    next(run)
    tab.reset(*FORM, me)
    assert list(run) == []
    run = tab.slow_motion(*FORM, me, pace=0)
    next(run)
    tab.forget(me)
    assert list(run) == [] and tab.STORE.get("visitor") is None


def test_slow_motion_stops_by_itself_at_its_step_or_time_limit(tab, monkeypatch):
    monkeypatch.setattr(tab, "SLOW_MOTION_STEPS", 2)
    views = list(tab.slow_motion(*FORM, visitor(), pace=0))
    assert len(views) == 3 and "Slow motion stopped by itself after 2 steps." in views[-1][0]
    monkeypatch.setattr(tab, "SLOW_MOTION_SECONDS", 0)  # the app's time limit on a run (AIGC_TRAIN_MAX_SECONDS)
    views = list(tab.slow_motion(*FORM, visitor(), pace=0))
    assert len(views) == 1 and "Slow motion stopped by itself after 0 steps." in views[-1][0]
    run = tab.slow_motion(*FORM, visitor("closer"), pace=0)
    monkeypatch.setattr(tab, "SLOW_MOTION_SECONDS", 600)
    next(run)
    run.close()  # gradio cancels the request: nothing runs any more
    assert tab.STORE.get("closer").runner is None


def test_the_store_keeps_at_most_eight_and_drops_the_least_recently_used(tab):
    store = tab.StepperStore()
    entries = {f"s{i}": tab.Entry(stepper=None, key=(i,), name={}) for i in range(10)}
    for name in ("s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"):
        store.put(name, entries[name])
    assert len(store) == tab.MAX_STEPPERS == 8
    store.get("s0")  # s0 used again: s1 is now the least recently used
    store.put("s8", entries["s8"])
    assert store.get("s1") is None and store.get("s0") is entries["s0"] and len(store) == 8
    assert entries["s1"].pause.is_set()  # its slow motion, if any, stops
    assert store.was_dropped("s1") and not store.was_dropped("s1")  # told once
    store.forget("s2")
    assert store.get("s2") is None and not store.was_dropped("s2")  # a closed page has nothing to be told


def test_a_dropped_visitor_is_told_at_the_next_click(tab, monkeypatch):
    monkeypatch.setattr(tab, "STORE", tab.StepperStore(capacity=2))
    a, b, c = visitor("a"), visitor("b"), visitor("c")
    tab.d_step(*FORM, a)
    tab.d_step(*FORM, b)
    tab.d_step(*FORM, b)
    tab.d_step(*FORM, c)  # a's model is the least recently used: dropped
    status = tab.d_step(*FORM, a)[0]
    assert "Your earlier model was dropped to make room: this server keeps 2 step-by-step models" in status
    assert "D **1**, G **0**" in status
    assert tab.STORE.get("b") is None and tab.STORE.get("c").stepper.step_count["D"] == 1
    zh = tab.d_step(*FORM, visitor("b", "zh-CN"))[0]
    assert "你之前的模型已被移除" in zh


@pytest.mark.parametrize("form, english, chinese", [
    (("vae", "mnist", 0, "scratch", None), "Step-by-step training needs a GAN; choose one of mlp-gan, dcgan, cgan",
     "单步训练需要 GAN"),
    (("mlp-gan", "cifar", 0, "scratch", None), "Unknown dataset 'cifar'", "未知的数据集"),
    (("mlp-gan", "mnist", -1, "scratch", None), "Seed must be a whole number between 0 and 2147483647", "种子必须是"),
    (("mlp-gan", "mnist", 0.5, "scratch", None), "Seed must be a whole number", "种子必须是"),
    (("mlp-gan", "mnist", 0, "somewhere", None), "Start from must be scratch or checkpoint", "起点必须是"),
    (("mlp-gan", "mnist", 0, "checkpoint", None), "Pick a GAN checkpoint first", "请先选择一个 GAN 检查点"),
    (("mlp-gan", "mnist", 0, "checkpoint", "/etc"), "'/etc' is not one of this app's checkpoints", "不是本应用的检查点"),
    (("mlp-gan", "mnist", 0, "checkpoint", "mnist-vae"), "mnist-vae holds a VAE model, which has no discriminator",
     "没有判别器"),
])
def test_every_input_is_checked_in_one_sentence_in_the_visitors_language(tab, form, english, chinese):
    import gradio as gr

    for click in (tab.d_step, tab.g_step, tab.dg_step, tab.reset, lambda *a: next(tab.slow_motion(*a, pace=0))):
        with pytest.raises(gr.Error) as err:
            click(*form, visitor())
        assert err.value.message.startswith(english) and "\n" not in err.value.message
    with pytest.raises(gr.Error) as err:
        tab.d_step(*form, visitor(lang="zh-CN"))
    assert chinese in err.value.message
    assert len(tab.STORE) == 0


def test_no_data_here_is_one_sentence(tab, missing_data_dir):
    import gradio as gr

    with pytest.raises(gr.Error, match="images are not available on this machine"):
        tab.d_step(*FORM, visitor())


def test_the_tab_sits_in_the_train_section_opens_on_content_and_forgets_closed_pages(app_environment):
    import app
    from ui import common, step
    from ui.i18n import EN, ZH

    assert ("section_train", "tab_step", step) in app.TABS
    assert [k for k, _ in dict(app.sections())["section_train"]][:2] == ["tab_train", "tab_step"]  # then Tune
    assert (EN["tab_step"], ZH["tab_step"]) == ("Step by step", "单步训练")
    assert "preview" in {fn.__name__ for fn, _, _ in common.ON_OPEN}
    unloads = [d for d in app.demo.fns.values() if any(t[1] == "unload" for t in d.targets)]
    assert any(getattr(d.fn, "__name__", "") == "forget" and d.fn.__module__ == "ui.step" for d in unloads)
    endpoints = {d.api_name for d in app.demo.fns.values()}
    assert {"step_d", "step_g", "step_dg", "step_slow_motion", "step_pause", "step_reset"} <= endpoints
