"""The Diffusion tab: its handlers called as plain functions on tiny diffusion checkpoints made
here with the library (a flow one and a ddpm one, never the shipped ones), then the running
app through gradio_client, and its endpoints under hostile values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from app_helpers import REPO, AppServer

TINY_DIFFUSION = {  # name -> model options: 2 training steps each, seconds on a CPU
    "mnist-diffusion": dict(channels=8, channel_mults=[1, 1, 2], default_steps=4),
    "mnist-diffusion-ddpm": dict(channels=8, channel_mults=[1, 1, 2], objective="ddpm", default_steps=5,
                                 default_guidance=2.0),
}


def make_tiny_diffusion(folder: Path) -> Path:
    """Tiny diffusion checkpoints in ``folder`` (made once, kept for the session)."""
    from aigc_models.training import TrainConfig, train

    for name, options in TINY_DIFFUSION.items():
        if (folder / name / "model.safetensors").exists():
            continue
        cfg = TrainConfig(model="diffusion", dataset="mnist", steps=2, batch_size=8, device="cpu", log_every=1,
                          out=str(folder / name), model_options=options)
        for _ in train(cfg):
            pass
    return folder


def checkpoint_dirs(root: Path) -> str:
    """The tiny app checkpoints plus the tiny diffusion ones, as ``AIGC_CHECKPOINT_DIRS``."""
    return os.pathsep.join([str(root / "checkpoints"), str(make_tiny_diffusion(root / "diffusion"))])


@pytest.fixture(autouse=True)
def env(app_environment: None, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's environment (conftest.app_environment) with the tiny diffusion checkpoints."""
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", checkpoint_dirs(root))


class Browser:
    """What a handler reads of a request: the browser's languages."""

    def __init__(self, languages: str) -> None:
        self.headers = {"accept-language": languages}


ZH = Browser("zh-CN,zh;q=0.9,en;q=0.8")
FLOW, DDPM = "mnist-diffusion", "mnist-diffusion-ddpm"


def pixels(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def model(name: str):
    from ui import common, diffusion

    return common.load_model(name, diffusion.families())


# ----------------------------------------------------------------------------- sampling


def test_the_tab_lists_diffusion_checkpoints_from_the_registry():
    from aigc_models.models import REGISTRY
    from ui import common, diffusion

    assert diffusion.families() == tuple(n for n, f in REGISTRY.items() if f.objective == "denoising") != ()
    keys = [key for _, key in common.checkpoint_choices("mnist", diffusion.families())]
    assert {FLOW, DDPM} <= set(keys) and not {"mnist-dcgan", "mnist-cgan", "mnist-vae"} & set(keys)
    from aigc_models.models.diffusion import DiffusionConfig

    guidance = DiffusionConfig().default_guidance  # the tiny FLOW model keeps the family's default
    assert diffusion.checkpoint_defaults(FLOW) == (["euler", "heun"], "euler", 4, guidance)
    assert diffusion.checkpoint_defaults(DDPM) == (["ddpm", "ddim", "dpm-solver++"], "dpm-solver++", 5, 2.0)
    assert diffusion.checkpoint_defaults("mnist-dcgan") is None and diffusion.checkpoint_defaults("/etc") is None
    sampler, steps, guidance = diffusion.checkpoint_settings(DDPM)
    assert sampler["choices"] == ["ddpm", "ddim", "dpm-solver++"]
    assert (sampler["value"], steps["value"], guidance["value"]) == ("dpm-solver++", 5, 2.0)
    assert all(u == gr.skip() for u in diffusion.checkpoint_settings("nothing-here"))


def test_grid_is_seeded_and_carries_its_settings():
    from aigc_models import provenance
    from ui.diffusion import sample_diffusion

    shown, download = sample_diffusion(FLOW, "7", 9, 3, "heun", 3, 2.5)
    again, _ = sample_diffusion(FLOW, "7", 9, 3, "heun", 3, 2.5)
    other, _ = sample_diffusion(FLOW, "7", 9, 4, "heun", 3, 2.5)
    assert shown == download and Path(shown).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (pixels(shown) == pixels(again)).all() and not (pixels(shown) == pixels(other)).all()
    grid = Image.open(shown)
    assert grid.size[0] == grid.size[1] and grid.size[0] % (3 * 30 + 2) == 0  # 3 x 3 tiles
    info = provenance.read(shown)
    assert info["checkpoint"] == FLOW and info["weights_sha256"]
    assert {k: info[k] for k in ("seed", "n", "sampler", "steps", "guidance", "class")} == \
        {"seed": 3, "n": 9, "sampler": "heun", "steps": 3, "guidance": 2.5, "class": "7"}


def test_no_class_is_unconditional_and_guidance_then_does_nothing():
    from aigc_models import provenance, samplers
    from ui.diffusion import sample_diffusion

    plain, _ = sample_diffusion(FLOW, "none", 4, 0, "euler", 3, 0)
    guided, _ = sample_diffusion(FLOW, "none", 4, 0, "euler", 3, 7.5)
    seven, _ = sample_diffusion(FLOW, "7", 4, 0, "euler", 3, 7.5)
    assert (pixels(plain) == pixels(guided)).all() and not (pixels(plain) == pixels(seven)).all()
    assert provenance.read(guided)["guidance"] == 0.0 and provenance.read(guided)["class"] == "none (unconditional)"
    direct = samplers.sample(model(FLOW), 4, seed=0, sampler="euler", steps=3, guidance=0)
    from ui.common import to_grid

    assert (np.asarray(to_grid(direct)) == pixels(plain)).all()


def test_long_requests_report_progress_per_network_call():
    from ui.diffusion import sample_diffusion

    seen = []
    sample_diffusion(FLOW, "3", 2, 0, "heun", 30, 2.0, progress=lambda progress, **kw: seen.append(progress))
    assert seen[-1] == (59, 59)  # heun: two network calls a step, one on the last
    assert 2 <= len(seen) <= 59 and [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_request_is_capped_and_the_message_says_how_to_get_under_it():
    from ui.diffusion import MAX_EVALUATIONS, check_budget, sample_diffusion

    flow = model(FLOW)
    assert check_budget(flow, 4, 500, "euler", False, "en") == MAX_EVALUATIONS == 2000
    assert check_budget(flow, 4, 250, "euler", True, "en") == 2000  # guidance: 8 images a call
    assert check_budget(flow, 1, 500, "euler", False, "en") == 2000  # a call on 1 image counts as 4
    with pytest.raises(gr.Error, match=r"^'?500 steps × 2 network calls a step \(heun\) × 1 image a call, counted as 4 "
                                       r"\(a call costs that much by itself\) = 4,000 image evaluations; one request here "
                                       r"may make at most 2,000, a few seconds on a 2-core CPU"):
        check_budget(flow, 1, 500, "heun", False, "en")
    with pytest.raises(gr.Error, match=r"200 steps × 32 images a call \(16 × 2: guidance .*\) = 6,400 .* fewer steps or images"):
        sample_diffusion(FLOW, "3", 16, 0, "euler", 200, 2.0)
    with pytest.raises(gr.Error, match=r"200 步 × 每次调用 32 张图像（16 × 2：引导.*6,400 次图像计算；这里每个请求最多 2,000 次"):
        sample_diffusion(FLOW, "3", 16, 0, "euler", 200, 2.0, request=ZH)
    sample_diffusion(FLOW, "3", 16, 0, "euler", 125, 1.0)  # guidance 1: one pass a step, 2,000 evaluations


@pytest.mark.parametrize("args, english, chinese", [
    ((None, "3", 4, 0, "euler", 3, 1.0), "Pick a diffusion checkpoint first", "请先选择一个扩散模型检查点"),
    (("/etc", "3", 4, 0, "euler", 3, 1.0), "not one of this app's checkpoints", "不是本应用的检查点"),
    (("mnist-dcgan", "3", 4, 0, "euler", 3, 1.0), "holds a DCGAN model; this needs a diffusion model", "这里需要扩散模型"),
    ((FLOW, "Sneaker", 4, 0, "euler", 3, 1.0), r"Unknown class 'Sneaker' for mnist; choose none", "mnist 没有类别 'Sneaker'"),
    ((FLOW, "3", 0, 0, "euler", 3, 1.0), "Number of images must be a whole number between 1 and 64", "图像数量必须是 1 到 64"),
    ((FLOW, "3", 4, -1, "euler", 3, 1.0), "Seed must be a whole number between 0 and 2147483647", "种子必须是"),
    ((FLOW, "3", 4, 0.5, "euler", 3, 1.0), "Seed must be a whole number", "种子必须是"),
    ((FLOW, "3", 4, 0, "ddim", 3, 1.0), "Sampler 'ddim' does not fit a flow-objective", "采样器 'ddim' 不适用于 flow"),
    ((DDPM, "3", 4, 0, "euler", 3, 1.0), "choose one of: ddpm, ddim, dpm-solver\\+\\+", "可选：ddpm, ddim, dpm-solver"),
    ((FLOW, "3", 4, 0, "euler", 0, 1.0), "Steps must be a whole number between 1 and 1000", "步数必须是 1 到 1000"),
    ((FLOW, "3", 4, 0, "euler", float("nan"), 1.0), "Steps must be", "步数必须是"),
    ((FLOW, "3", 4, 0, "euler", 3, 21), "Guidance must be a number between 0 and 20", "引导强度必须是 0 到 20 之间的数"),
    ((FLOW, "3", 4, 0, "euler", 3, float("inf")), "Guidance must be", "引导强度必须是"),
])
def test_bad_input_is_refused_in_the_browsers_language(args, english, chinese):
    from ui.diffusion import sample_diffusion

    with pytest.raises(gr.Error, match=english):
        sample_diffusion(*args)
    with pytest.raises(gr.Error) as refused:
        sample_diffusion(*args, request=ZH)
    assert chinese.replace("\\", "") in refused.value.message and len(refused.value.message) < 300


def test_the_language_is_the_browsers_first_choice():
    from ui.common import language

    assert language(ZH) == "zh" and language(Browser("zh-TW")) == "zh"
    assert language(Browser("en-GB,zh;q=0.5")) == language(None) == language(Browser("")) == "en"


# ----------------------------------------------------------------------------- the trajectory


def test_trajectory_ends_on_the_sample_and_scrubbing_never_resamples(monkeypatch):
    from aigc_models import provenance, samplers
    from aigc_models.sampling import latents
    from ui import diffusion

    calls = []
    real_trajectory = samplers.trajectory
    monkeypatch.setattr(samplers, "trajectory", lambda *a, **k: calls.append(k) or real_trajectory(*a, **k))
    args = (FLOW, "5", 11, "euler", 6, 2.0)
    noisy, clean, note, gif, slider, cache = diffusion.trajectory_view(*args, 3, None)
    assert len(calls) == 1 and slider == gr.update(maximum=6, value=3)
    assert note == "3 / 6 · t = 0.500 · x_t = 0.50·x₀ + 0.50·ε"  # flow Euler: 6 equal steps, sigma 1, 5/6, ..., 1/6
    assert Image.open(gif).n_frames >= 5 and provenance.read(gif)["sampler"] == "euler"  # (PIL merges equal frames)
    assert provenance.read(noisy)["kind"] == "denoising step 3 of 6"
    seen = {3: pixels(noisy)}
    for position in (0, 6, 99):  # 99: past the end shows the finished sample
        noisy, clean, note, gif, slider, cache = diffusion.trajectory_view(*args, position, cache)
        assert gif == gr.skip() and slider == gr.skip()
        seen[position] = pixels(noisy)
    assert len(calls) == 1  # every scrub came from the session's cache
    assert note.startswith("6 / 6 · t = 0 ·") and (seen[6] == seen[99]).all() and (pixels(clean) == seen[6]).all()
    final = samplers.sample(model(FLOW), 1, seed=11, labels=5, sampler="euler", steps=6, guidance=2.0)
    assert (seen[6] == np.asarray(diffusion._big(diffusion.data_mod.to_uint8(final)[0, 0].numpy()))).all()
    start = latents(1, 784, seed=11).view(28, 28).clamp(-1, 1)
    assert (seen[0] == np.asarray(diffusion._big(diffusion.data_mod.to_uint8(start).numpy()))).all()

    for seed in (12, 13):  # other settings: a new run each; the session keeps the last CACHED_RUNS
        *_, slider, cache = diffusion.trajectory_view(FLOW, "5", seed, "euler", 6, 2.0, 2, cache)
        assert slider == gr.update(maximum=6, value=2)
    assert len(calls) == 3 and len(cache) == diffusion.CACHED_RUNS


def test_ddpm_trajectory_counts_the_schedules_steps():
    from ui.diffusion import trajectory_view

    *_, note, gif, slider, _ = trajectory_view(DDPM, "none", 0, "ddim", 5, 2.0, 0, None)
    assert note == "0 / 5 · t = 999 / 1000 · x_t = 0.01·x₀ + 1.00·ε"  # trailing spacing starts at T - 1
    with pytest.raises(gr.Error, match="300 steps × 2 network calls a step \\(heun\\) × 2 images a call \\(1 × 2: "
                                       "guidance .*, counted as 4 .* = 2,400 image evaluations"):
        trajectory_view(FLOW, "3", 0, "heun", 300, 2.0, 0, None)


def test_the_gif_plays_the_run_side_by_side_and_holds_the_end():
    from ui.diffusion import GIF_FRAMES, GIF_HOLD, trajectory_view

    gif = trajectory_view(FLOW, "2", 0, "euler", 200, 1.0, 0, None)[3]
    image = Image.open(gif)
    assert image.size == (58 * 6, 28 * 6) and 20 < image.n_frames <= GIF_FRAMES + GIF_HOLD
    image.seek(0)
    durations = []
    for i in range(image.n_frames):
        image.seek(i)
        durations.append(image.info["duration"])
    assert max(durations) >= 110 * 2  # the finished sample stays longer (PIL merges the repeated frames)


# ----------------------------------------------------------------------------- the forward process


def test_forward_process_noises_a_real_image_to_t():
    from ui.diffusion import forward_process

    real, noised, strip, note = forward_process(FLOW, "none", 0, 0.0, 1)
    assert real.size == noised.size == (280, 280) and np.array_equal(np.asarray(real), np.asarray(noised))
    assert note == "#0 (7) · t = 0.00 · x_t = 1.00·x₀ + 0.00·ε"
    real, noised, strip, note = forward_process(FLOW, "none", 0, 1.0, 1)
    assert not np.array_equal(np.asarray(real), np.asarray(noised)) and note.endswith("0.00·x₀ + 1.00·ε")
    assert strip.size[0] > 10 * strip.size[1]
    same = forward_process(FLOW, "none", 0, 0.37, 1)[1]
    other = forward_process(FLOW, "none", 0, 0.37, 2)[1]
    assert np.array_equal(np.asarray(same), np.asarray(forward_process(FLOW, "none", 0, 0.37, 1)[1]))
    assert not np.array_equal(np.asarray(same), np.asarray(other))  # the seed picks the noise
    assert forward_process(FLOW, "2", 0, 0.5, 0)[3].startswith("#1 (2) · t = 0.50")  # the first test 2
    assert forward_process(DDPM, "none", 3, 0.5, 0)[3].startswith("#3 (0) · t = 0.50 (step 500 / 1000) · x_t = 0.")


def test_forward_process_refuses_in_both_languages(monkeypatch):
    from aigc_models import data as data_mod
    from ui.diffusion import forward_process

    with pytest.raises(gr.Error, match="Test image number must be a whole number between 0 and 9999"):
        forward_process(FLOW, "none", 10_000, 0.5, 0)
    with pytest.raises(gr.Error, match="测试图像编号必须是 0 到 9999"):
        forward_process(FLOW, "none", 10_000, 0.5, 0, ZH)
    with pytest.raises(gr.Error, match="Noise level t must be a number between 0 and 1"):
        forward_process(FLOW, "none", 0, 1.5, 0)
    with pytest.raises(gr.Error, match="choose none \\(pick the image by number\\)"):
        forward_process(FLOW, "Coat", 0, 0.5, 0)

    def unavailable(*args, **kwargs):
        raise data_mod.DatasetUnavailableError("offline")

    monkeypatch.setattr(data_mod, "load_split", unavailable)
    with pytest.raises(gr.Error, match="not available on this machine"):
        forward_process(FLOW, "none", 0, 0.5, 0)
    with pytest.raises(gr.Error, match="本机没有 mnist 图像"):
        forward_process(FLOW, "none", 0, 0.5, 0, ZH)


# ----------------------------------------------------------------------------- the tab in the app


def test_the_tab_opens_on_content_and_follows_the_dataset():
    import app
    from ui import common, diffusion

    opened = {fn.__name__: (inputs, outputs) for fn, inputs, outputs in common.ON_OPEN}
    assert {"open_grid", "open_trajectory", "open_forward"} <= set(opened)
    assert app.TABS.count(("section_generate", "tab_diffusion", diffusion)) == 1
    grid, download = diffusion.open_grid(FLOW, "3", 4, 0, "euler", 4, 1.75)
    assert grid == download and Image.open(grid).size[0] > 0
    assert len(diffusion.open_trajectory(FLOW, "3", 0, "euler", 4, 1.75, 1)) == 4  # no state, no slider update
    fashion, forward = diffusion.class_choices("fashion-mnist")
    assert fashion["choices"][0][1] == forward["choices"][0][1] == "none" and "Sneaker" in fashion["choices"]
    assert fashion["value"] == "Dress" and forward["value"] == "none"


def test_diffusers_can_be_imported_by_several_requests_at_once():
    """The first requests of a server (the on-open results) ask for schedulers from several
    threads at once; diffusers resolves its names lazily, which failed without a lock."""
    code = """
import threading
from aigc_models import samplers
from aigc_models.models.diffusion import DiffusionConfig
errors = []
def make(name, objective):
    try:
        samplers.make_scheduler(name, DiffusionConfig(dataset="mnist", objective=objective))
    except Exception as err:
        errors.append(repr(err))
jobs = [("euler", "flow"), ("heun", "flow"), ("ddpm", "ddpm"), ("ddim", "ddpm"), ("dpm-solver++", "ddpm")] * 2
threads = [threading.Thread(target=make, args=job) for job in jobs]
[t.start() for t in threads]
[t.join() for t in threads]
print(errors)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- the running app


@pytest.fixture(scope="module")
def server(root: Path):
    app = AppServer(root, extra_env={"AIGC_CHECKPOINT_DIRS": checkpoint_dirs(root)})
    yield app
    app.stop()


def test_the_endpoints_through_gradio_client(server):
    from gradio_client import Client

    from aigc_models import provenance

    client = Client(server.url, verbose=False)
    grid, download = client.predict(FLOW, "4", 4, 1, "euler", 3, 1.5, api_name="/sample_diffusion")
    again, _ = client.predict(FLOW, "4", 4, 1, "euler", 3, 1.5, api_name="/sample_diffusion")
    assert (pixels(grid) == pixels(again)).all() and provenance.read(download)["class"] == "4"
    noisy, clean, note, gif, position = client.predict(FLOW, "4", 1, "euler", 3, 1.5, 1,
                                                       api_name="/diffusion_trajectory")
    assert note.startswith("1 / 3 · t = ") and (position["maximum"], position["value"]) == (3, 1)
    assert Image.open(noisy).size == Image.open(clean).size == (280, 280) and Image.open(gif).n_frames > 3
    real, noised, strip, line = client.predict(FLOW, "none", 5, 0.25, 0, api_name="/diffusion_forward")
    assert line.startswith("#5 (1) · t = 0.25") and Image.open(real).size == (280, 280)
    with pytest.raises(Exception, match="Steps must be a whole number between 1 and 1000, got 2.5"):
        client.predict(FLOW, "4", 4, 1, "euler", 2.5, 1.5, api_name="/sample_diffusion")
    chinese = Client(server.url, verbose=False, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    with pytest.raises(Exception, match="采样器 'ddpm' 不适用于 flow 目标的扩散模型"):
        chinese.predict(FLOW, "4", 4, 1, "ddpm", 3, 1.5, api_name="/sample_diffusion")


def test_the_tabs_endpoints_work_on_the_pages_defaults(server):
    """Each handler of this tab answers the values the page sends untouched (hostile values on every
    input are test_api_fuzz's, whose server holds a tiny diffusion checkpoint too)."""
    from api_calls import backend_dependencies, call, components_by_id, default_value, get_config

    config = get_config(server.url)
    comps = components_by_id(config)
    ours = {c["id"] for c in config["components"] if str(c.get("props", {}).get("elem_id", "")).startswith("diffusion-")}
    deps = [d for d in backend_dependencies(config) if set(d["inputs"]) & ours]
    assert {d.get("api_name") for d in deps} >= {"sample_diffusion", "diffusion_trajectory", "diffusion_forward"}
    for dep in deps:
        reply = call(server.url, dep, [default_value(comps[i]) for i in dep["inputs"]])
        assert reply.success, (dep.get("api_name"), reply.error)
    assert "Traceback" not in Path(server.log.name).read_text()
