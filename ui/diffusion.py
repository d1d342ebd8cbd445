"""Diffusion tab: sample a diffusion model (a class or none, seed, sampler, steps, guidance),
watch one image denoise step by step (a slider over its trajectory, the noisy image beside the
model's guess of the clean one, and a GIF of the whole run), and noise a real test image to a
chosen level t (the forward process that training uses).

Refusals are said in the language the browser asks for (``common.language``): every check
here has an English and a Chinese sentence. A request's work is capped (``MAX_EVALUATIONS``)
so that it stays within a few seconds on a 2-core CPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import numpy as np
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import samplers, sampling, validation
from aigc_models.losses import ddpm_alphas_cumprod
from aigc_models.models import REGISTRY, make_config
from aigc_models.models.diffusion import MAX_GUIDANCE, MAX_SAMPLE_STEPS, SAMPLERS
from ui import common, enlarge
from ui.errors import UserError
from ui.i18n import t


def families() -> tuple[str, ...]:
    """This tab's families, from the registry: generators trained with the diffusion objective
    (``aigc_models.samplers`` steps their network)."""
    return tuple(name for name, f in REGISTRY.items() if f.objective == "denoising" and f.can("generate"))


NONE = "none"  # the class value that means unconditional (and, in the forward section, "by number")
MAX_IMAGES = 64
MAX_EVALUATIONS = 2_000
"""Image evaluations of the network one request may make: steps x calls a step x images a call
(x 2 with guidance), a call on fewer than ``MIN_CALL`` images counted as ``MIN_CALL`` (a call has a
cost of its own). Measured with the shipped 0.29 M-parameter U-Net on one thread of this 2-core
CPU while a training run used the other: 11 ms a step for 1 image, 31 ms for 8, 103 ms for 32,
306 ms for 128 (2.4-3.8 ms an evaluation), so 2,000 take about 5 s, about half that on an idle
machine. 16 images at 20 steps with guidance (640) take about 1.5 s."""
MIN_CALL = 4
OPEN_CLASS = 3  # the class the tab opens on
OPEN_STEP_SHARE = 4  # the step slider opens a quarter of the way: still noise, yet the guess is already a digit
GIF_FRAMES = 60  # a longer run is shown in this many evenly spaced frames
GIF_HOLD = 8  # the finished sample stays this many frames longer
FRAME_SCALE = 10  # 28 x 28 -> 280 x 280 pixels, nearest neighbour
CACHED_RUNS = 2  # trajectories a session keeps (each at most 1,001 x 2 small uint8 images)
STRIP_LEVELS = 11  # t = 0, 0.1, ..., 1
LOOK = ["pixelated", "below-label"]  # crisp pixels, drawn below the label and buttons (app.CSS)
BUTTONS = ["download", "fullscreen"]  # a share link means nothing offline

# ----------------------------------------------------------------------------- refusals in both languages

FIELDS = {  # a control's name in both languages, for the sentences below
    "n": ("Number of images", "图像数量"), "seed": ("Seed", "种子"), "steps": ("Steps", "步数"),
    "guidance": ("Guidance", "引导强度"), "step": ("Step", "步"), "t": ("Noise level t", "噪声水平 t"),
    "index": ("Test image number", "测试图像编号"),
}


refuse = common.refuse


def whole(value: Any, field: str, lo: int, hi: int, lang: str) -> int:
    """``common.whole`` for the control ``FIELDS[field]``."""
    return common.whole(value, FIELDS[field], lo, hi, lang)


def real(value: Any, field: str, lo: float, hi: float, lang: str) -> float:
    """``common.real`` for the control ``FIELDS[field]``."""
    return common.real(value, FIELDS[field], lo, hi, lang)


def load(checkpoint: Any, lang: str) -> torch.nn.Module:
    """The diffusion model a request names (``common.load_model``, cached), refused in ``lang``."""
    info = common.picked_checkpoint(
        checkpoint, families(), lang,
        pick=("Pick a diffusion checkpoint first (none is selected or none exists for this dataset).",
              "请先选择一个扩散模型检查点（还没有选择，或者这个数据集还没有扩散模型）。"),
        needs=("{key} holds a {label} model; this needs a diffusion model.", "{key} 是{label}模型；这里需要扩散模型。"))
    try:
        return common.load_model(checkpoint, families())
    except UserError as err:
        raise refuse(lang, err.message, f"无法加载检查点 {info['key']}：{err.message}") from None


def class_label(dataset: str, name: Any, lang: str, *, none_means: str = "unconditional") -> int | None:
    """A class name of ``dataset`` -> its index; ``NONE`` -> None."""
    names = data_mod.class_names(dataset)
    if name == NONE:
        return None
    if isinstance(name, str) and name in names:
        return names.index(name)
    listed = ", ".join(names)
    raise refuse(lang, f"Unknown class {validation.show(name)} for {dataset}; choose {NONE} ({none_means}) or one "
                       f"of: {listed}.",
                 f"{dataset} 没有类别 {validation.show(name)}；请选择 {NONE} 或以下之一：{listed}。")


def sampler_of(model: torch.nn.Module, sampler: Any, lang: str) -> str:
    """``sampler`` if it fits the model's objective (``samplers.check_sampler``), else a refusal."""
    try:
        return samplers.check_sampler(model, sampler if sampler not in (None, "") else None)
    except ValueError as err:
        allowed = ", ".join(SAMPLERS[model.config.objective])
        raise refuse(lang, str(err), f"采样器 {validation.show(sampler)} 不适用于 {model.config.objective} "
                                     f"目标的扩散模型；可选：{allowed}。") from None


def evaluations_per_step(model: torch.nn.Module, sampler: str) -> int:
    """How many times ``sampler`` calls the network a step (its diffusers scheduler's ``order``:
    Heun 2, the others 1)."""
    return int(getattr(type(samplers.make_scheduler(sampler, model.config)), "order", 1))


def check_budget(model: torch.nn.Module, n: int, steps: int, sampler: str, guided: bool, lang: str) -> int:
    """The request's image evaluations (see ``MAX_EVALUATIONS``), or a refusal that names each
    factor, the cap and how to get under it."""
    order = evaluations_per_step(model, sampler)
    batch = n * (2 if guided else 1)
    cost = steps * order * max(batch, MIN_CALL)
    if cost <= MAX_EVALUATIONS:
        return cost
    en, zh = [f"{steps} steps"], [f"{steps} 步"]
    if order > 1:
        en.append(f"{order} network calls a step ({sampler})")
        zh.append(f"每步 {order} 次网络调用（{sampler}）")
    en.append(f"{batch} image{'s' if batch != 1 else ''} a call" + (f" ({n} × 2: guidance runs the network with and "
                                                                   "without the class)" if guided else ""))
    zh.append(f"每次调用 {batch} 张图像" + (f"（{n} × 2：引导要在有类别和无类别时各运行一次网络）" if guided else ""))
    if batch < MIN_CALL:
        en[-1] += f", counted as {MIN_CALL} (a call costs that much by itself)"
        zh[-1] += f"，按 {MIN_CALL} 张计（一次调用本身就有这么多开销）"
    raise refuse(lang, " × ".join(en) + f" = {cost:,} image evaluations; one request here may make at most "
                                         f"{MAX_EVALUATIONS:,}, a few seconds on a 2-core CPU. Use fewer steps or images "
                                         "(guidance 0 or 1 halves the cost).",
                 " × ".join(zh) + f" = {cost:,} 次图像计算；这里每个请求最多 {MAX_EVALUATIONS:,} 次，在 2 核 CPU 上约几秒。"
                                  "请减少步数或图像数（引导强度设为 0 或 1 可减半）。")


def settings(model: torch.nn.Module, class_name: Any, seed: Any, sampler: Any, steps: Any, guidance: Any,
             lang: str) -> tuple[int | None, int, str, int, float]:
    """Checked (label or None, seed, sampler, steps, guidance); guidance is 0 without a class
    (the network then gets the null label: the unconditional prediction)."""
    label = class_label(model.config.dataset, class_name, lang)
    seed = whole(seed, "seed", 0, 2**31 - 1, lang)
    sampler = sampler_of(model, sampler, lang)
    steps = whole(steps, "steps", 1, min(MAX_SAMPLE_STEPS, model.config.num_train_timesteps), lang)
    guidance = real(guidance, "guidance", 0.0, MAX_GUIDANCE, lang)
    return label, seed, sampler, steps, (guidance if label is not None else 0.0)


def guided(label: int | None, guidance: float) -> bool:
    """Whether a step costs two network evaluations (``samplers.guided_prediction``)."""
    return label is not None and guidance not in (0.0, 1.0)


# ----------------------------------------------------------------------------- noise levels


def mix(config: Any, time: float) -> tuple[float, float]:
    """(a, b) of x_t = a x0 + b noise at the model's time ``time`` (flow: sigma T; ddpm: the step)."""
    total = config.num_train_timesteps
    if config.objective == "flow":
        sigma = min(max(time / total, 0.0), 1.0)
        return 1.0 - sigma, sigma
    abar = float(ddpm_alphas_cumprod(config.schedule, total)[min(max(round(time), 0), total - 1)])
    return abar**0.5, (1.0 - abar) ** 0.5


def level_note(config: Any, time: float | None) -> str:
    """A language-free line: the time and the mix, e.g. ``t = 0.750 · x_t = 0.25·x₀ + 0.75·ε``;
    ``time`` None is the finished sample."""
    if time is None:
        return "t = 0 · x_t = x₀"
    a, b = mix(config, time)
    when = (f"t = {time / config.num_train_timesteps:.3f}" if config.objective == "flow"
            else f"t = {round(time)} / {config.num_train_timesteps}")
    return f"{when} · x_t = {a:.2f}·x₀ + {b:.2f}·ε"


# ----------------------------------------------------------------------------- progress


class _Counted:
    """A model that reports each network call to ``tick`` (for ``gr.Progress``) and is otherwise
    the model itself: the samplers see the same config, parameters and outputs."""

    def __init__(self, model: torch.nn.Module, tick: Callable[[], None]) -> None:
        self._model, self._tick = model, tick

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        self._tick()
        return self._model(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def counted(model: torch.nn.Module, calls: int, progress: Any) -> Any:
    """``model`` reporting progress over ``calls`` network calls (about 50 updates at most)."""
    if progress is None:
        return model
    done = [0]
    every = max(1, calls // 50)

    def tick() -> None:
        done[0] += 1
        if done[0] % every == 0 or done[0] == calls:
            progress((min(done[0], calls), calls), desc="Denoising", unit="network calls")

    return _Counted(model, tick)


# ----------------------------------------------------------------------------- handlers


def sample_diffusion(checkpoint: str | None, class_name: str | None, n: float, seed: float, sampler: str | None,
                     steps: float, guidance: float, enlarge_by: Any = 1, request: gr.Request | None = None,
                     progress: Any = gr.Progress()) -> tuple[str, str]:
    """A grid of ``n`` samples of one class (or none: unconditional) from a diffusion checkpoint.

    Args:
        class_name: a class name of the checkpoint's dataset ('7', 'Sneaker') or 'none'.
        n: images, 1..64. seed: same seed and settings, same images.
        sampler: one of the checkpoint objective's samplers ('euler', 'heun' / 'ddpm', 'ddim', 'dpm-solver++').
        steps: 1..1000; guidance: 0..20 (1 = plain conditional; ignored without a class).
        enlarge_by: 1, or 2 / 4 to show the samples upscaled by a super-resolution model (``ui.enlarge``).
    Returns:
        The path of the grid's PNG (with provenance) twice: shown, and offered as the download.
    """
    lang = common.language(request)
    model = load(checkpoint, lang)
    label, seed, sampler, steps, guidance = settings(model, class_name, seed, sampler, steps, guidance, lang)
    n = whole(n, "n", 1, MAX_IMAGES, lang)
    enlarge.checked(enlarge_by, lang)  # refused before the sampling, not after it
    check_budget(model, n, steps, sampler, guided(label, guidance), lang)
    order = evaluations_per_step(model, sampler)
    calls = steps * order - (order - 1)  # a second-order sampler (heun) makes one call on its last step
    images = samplers.sample(counted(model, calls, progress), n, seed=seed, labels=label, sampler=sampler,
                             steps=steps, guidance=guidance)
    images, enlarged = enlarge.enlarged(images, model.config.dataset, enlarge_by, lang)
    info = common.provenance_of(checkpoint, "samples", seed=seed, n=n, sampler=sampler, steps=steps,
                                guidance=guidance, **enlarged,
                                **{"class": class_name if label is not None else "none (unconditional)"})
    path = common.save_download(common.to_grid(images), f"diffusion-seed{seed}", ".png", info)
    return path, path


def _frames(model: torch.nn.Module, label: int | None, seed: int, sampler: str, steps: int,
            guidance: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One image's run as S + 1 positions: the image the sampler holds before step k + 1 (k = 0:
    the initial noise; k = S: the sample), the clean image the network predicted from it (at S:
    the sample), and a line of its noise level. Images ``(S + 1, 28, 28)`` uint8."""
    path = samplers.trajectory(model, seed=seed, label=label, sampler=sampler, steps=steps, guidance=guidance)
    z = sampling.latents(1, model.latent_dim, seed=seed).view(1, 1, 28, 28)
    noisy = torch.cat([z.clamp(-1, 1), path.x_t])  # (S + 1, 1, 28, 28)
    clean = torch.cat([path.x0_hat, path.x_t[-1:]])
    notes = [level_note(model.config, float(time)) for time in path.timesteps] + [level_note(model.config, None)]
    return data_mod.to_uint8(noisy)[:, 0].numpy(), data_mod.to_uint8(clean)[:, 0].numpy(), notes


def _gif(noisy: np.ndarray, clean: np.ndarray) -> bytes:
    """The run as a GIF, noisy | predicted side by side (at most ``GIF_FRAMES`` frames, the
    finished sample held)."""
    last = len(noisy) - 1
    picks = sorted(set(np.linspace(0, last, min(len(noisy), GIF_FRAMES)).round().astype(int).tolist()))
    picks += [last] * GIF_HOLD
    gap = np.full((len(picks), 28, 2), 128, np.uint8)
    pairs = np.concatenate([noisy[picks], gap, clean[picks]], axis=2)[:, None]  # (F, 1, 28, 58)
    return sampling.gif_bytes(data_mod.to_signed(torch.from_numpy(pairs)), scale=6, duration_ms=110, bounce=False)


def _big(frame: np.ndarray) -> Image.Image:
    return Image.fromarray(frame).resize((28 * FRAME_SCALE, 28 * FRAME_SCALE), Image.NEAREST)


def trajectory_view(checkpoint: str | None, class_name: str | None, seed: float, sampler: str | None, steps: float,
                    guidance: float, position: float, cache: dict[str, Any] | None = None,
                    request: gr.Request | None = None) -> tuple[Any, ...]:
    """The grid's first image at step ``position`` of its denoising run.

    The run is computed once per (checkpoint, class, seed, sampler, steps, guidance) and kept in
    the session's ``cache`` (the last ``CACHED_RUNS`` runs), so that scrubbing never resamples.
    Returns:
        The noisy image's PNG, the predicted clean image's PNG, the step's noise-level line, the
        GIF of the run, the step slider's update (its end is S: set when the run is new, else
        unchanged) and the cache. A run already cached leaves the GIF unchanged too.
    """
    lang = common.language(request)
    model = load(checkpoint, lang)
    label, seed, sampler, steps, guidance = settings(model, class_name, seed, sampler, steps, guidance, lang)
    position = whole(position, "step", 0, MAX_SAMPLE_STEPS, lang)
    info = common.find_checkpoint(checkpoint)
    key = repr((info["path"], common._weights_stamp(info["path"]), label, seed, sampler, steps, guidance))
    cache = dict(cache) if isinstance(cache, dict) else {}
    run = cache.get(key)
    fresh = run is None
    if fresh:
        check_budget(model, 1, steps, sampler, guided(label, guidance), lang)
        noisy, clean, notes = _frames(model, label, seed, sampler, steps, guidance)
        record = common.provenance_of(checkpoint, "denoising run (x_t | predicted clean image)", seed=seed,
                                      sampler=sampler, steps=steps, guidance=guidance,
                                      **{"class": class_name if label is not None else "none (unconditional)"})
        gif = common.save_download(_gif(noisy, clean), f"diffusion-run-seed{seed}", ".gif", record)
        run = {"noisy": noisy, "clean": clean, "notes": notes, "gif": gif, "record": record}
        cache.pop(key, None)
        while len(cache) >= CACHED_RUNS:
            cache.pop(next(iter(cache)))
        cache[key] = run
    k = min(position, steps)
    record = {**run["record"], "kind": f"denoising step {k} of {steps}"} if run["record"] else None
    shown_noisy = common.save_download(_big(run["noisy"][k]), f"diffusion-xt-{k}", ".png", record)
    shown_clean = common.save_download(_big(run["clean"][k]), f"diffusion-x0-{k}", ".png", record)
    note = f"{k} / {steps} · {run['notes'][k]}"
    slider = gr.update(maximum=steps, value=k) if fresh else gr.skip()
    return shown_noisy, shown_clean, note, (run["gif"] if fresh else gr.skip()), slider, cache


def forward_process(checkpoint: str | None, class_name: str | None, index: float, level: float, seed: float,
                    request: gr.Request | None = None) -> tuple[Image.Image, Image.Image, Image.Image, str]:
    """A real test image noised to level ``level`` (0 = the image, 1 = pure noise) the way the
    checkpoint was trained (flow: a straight mix; ddpm: its schedule at step round(t (T - 1))).

    Args:
        class_name: 'none' to pick test image ``index``, else the first test image of that class.
        seed: the noise.
    Returns:
        The real image, the noised one, a strip of the same image and noise at t = 0, 0.1, ..., 1,
        and the line of the mix.
    """
    lang = common.language(request)
    model = load(checkpoint, lang)
    config, dataset = model.config, model.config.dataset
    label = class_label(dataset, class_name, lang, none_means="pick the image by number")
    level = real(level, "t", 0.0, 1.0, lang)
    seed = whole(seed, "seed", 0, 2**31 - 1, lang)
    split = common.test_split_for(dataset, lang)
    if label is None:
        i = whole(index, "index", 0, len(split) - 1, lang)
    else:
        i = int(torch.nonzero(split.labels == label)[0, 0])
    x0 = data_mod.to_signed(split.images[i : i + 1])  # (1, 1, 28, 28)
    noised = samplers.noise_to(x0, level, seed=seed, config=config)
    strip = torch.cat([samplers.noise_to(x0, float(s), seed=seed, config=config)
                       for s in torch.linspace(0, 1, STRIP_LEVELS)])
    total = config.num_train_timesteps
    time = level * total if config.objective == "flow" else round(level * (total - 1))
    a, b = mix(config, time)
    step = "" if config.objective == "flow" else f" (step {round(time)} / {total})"
    name = data_mod.class_names(dataset)[int(split.labels[i])]
    note = f"#{i} ({name}) · t = {level:.2f}{step} · x_t = {a:.2f}·x₀ + {b:.2f}·ε"
    return (_big(data_mod.to_uint8(x0)[0, 0].numpy()), _big(data_mod.to_uint8(noised)[0, 0].numpy()),
            common.to_grid(strip, nrow=STRIP_LEVELS, target=900), note)


def checkpoint_defaults(checkpoint: Any) -> tuple[list[str], str, int, float] | None:
    """(samplers, default sampler, default steps, default guidance) of a listed diffusion
    checkpoint, read from its config.json (no weights loaded), or None."""
    info = common.find_checkpoint(checkpoint, families())
    if info is None:
        return None
    try:
        config = make_config(info["family"], **info["config"])
    except (TypeError, ValueError):
        return None
    return list(SAMPLERS[config.objective]), config.sampler, int(config.default_steps), float(config.default_guidance)


def checkpoint_settings(checkpoint: str | None) -> tuple[Any, Any, Any]:
    """A checkpoint picked: its samplers, and the sampler, steps and guidance its card names."""
    found = checkpoint_defaults(checkpoint)
    if found is None:
        return gr.skip(), gr.skip(), gr.skip()
    choices, sampler, steps, guidance = found
    return gr.update(choices=choices, value=sampler), gr.update(value=steps), gr.update(value=guidance)


def class_choices(dataset: str) -> tuple[Any, Any]:
    """Both class dropdowns for ``dataset``: the sampling one (none = unconditional) on the
    opening class, the forward one (none = by number) on none."""
    names = list(data_mod.class_names(common.check_dataset(dataset)))
    return (gr.update(choices=[(str(t("no_class")), NONE), *names], value=names[OPEN_CLASS]),
            gr.update(choices=[(str(t("by_number")), NONE), *names], value=NONE))


# ----------------------------------------------------------------------------- on open (cached by argument)


def open_grid(checkpoint: str | None, class_name: str | None, n: float, seed: float, sampler: str | None,
              steps: float, guidance: float) -> tuple[str, str]:
    return sample_diffusion(checkpoint, class_name, n, seed, sampler, steps, guidance, request=None, progress=None)


def open_trajectory(checkpoint: str | None, class_name: str | None, seed: float, sampler: str | None, steps: float,
                    guidance: float, position: float) -> tuple[Any, ...]:
    return trajectory_view(checkpoint, class_name, seed, sampler, steps, guidance, position, None, None)[:4]


def open_forward(checkpoint: str | None, class_name: str | None, index: float, level: float,
                 seed: float) -> tuple[Any, ...]:
    return forward_process(checkpoint, class_name, index, level, seed, None)


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The diffusion tab; returns its checkpoint picker."""
    gr.Markdown(t("diffusion_intro"))
    names = list(data_mod.class_names("mnist"))
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            pick = common.picker(families())
            found = checkpoint_defaults(pick.checkpoint.value)
            choices, sampler0, steps0, guidance0 = found or (list(SAMPLERS["flow"]), SAMPLERS["flow"][0], 20, 1.0)
            cls = gr.Dropdown([(t("no_class"), NONE), *names], value=names[OPEN_CLASS], label=t("diffusion_class"),
                              allow_custom_value=True, elem_id="diffusion-class")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, label=t("seed"), elem_id="diffusion-seed")
                dice = gr.Button(t("random_seed"), size="sm")
            sampler = gr.Dropdown(choices, value=sampler0, label=t("sampler"), allow_custom_value=True,
                                  elem_id="diffusion-sampler")  # the choices follow the checkpoint; the handler checks
            steps = gr.Slider(1, MAX_SAMPLE_STEPS, value=steps0, step=1, label=t("steps"), elem_id="diffusion-steps")
            guidance = gr.Slider(0, MAX_GUIDANCE, value=guidance0, step=0.25, label=t("guidance"))
            n = gr.Slider(1, MAX_IMAGES, value=16, step=1, label=t("n_images"))
            enlarge_by = enlarge.control("diffusion-enlarge")
            go = gr.Button(t("generate"), variant="primary", elem_id="diffusion-generate")
        with gr.Column(scale=2):
            grid = gr.Image(format="png", type="filepath", label=t("samples"), elem_id="diffusion-grid",
                            elem_classes=LOOK, buttons=BUTTONS)
            grid_file = gr.File(label=t("download_png"))
    gr.Markdown(t("trajectory_title"))
    with gr.Row():
        noisy = gr.Image(format="png", type="filepath", label=t("noisy_image"), elem_id="diffusion-noisy",
                         elem_classes=LOOK, buttons=BUTTONS, height=330)
        clean = gr.Image(format="png", type="filepath", label=t("predicted_clean"), elem_id="diffusion-x0",
                         elem_classes=LOOK, buttons=BUTTONS, height=330)
        gif = gr.Image(type="filepath", label=t("trajectory_gif"), elem_id="diffusion-gif",
                       elem_classes=LOOK, buttons=BUTTONS, height=330)
    with gr.Row():
        position = gr.Slider(0, steps0, value=steps0 // OPEN_STEP_SHARE, step=1, label=t("trajectory_step"),
                             elem_id="diffusion-step", scale=1)
        step_note = gr.Textbox(label=t("noise_level"), interactive=False, elem_id="diffusion-step-note", scale=1)
    cache = gr.State(None)
    gr.Markdown(t("forward_title"))
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            fwd_cls = gr.Dropdown([(t("by_number"), NONE), *names], value=NONE, label=t("forward_class"),
                                  allow_custom_value=True, elem_id="diffusion-forward-class")
            index = gr.Number(0, precision=0, minimum=0, label=t("test_index"))
            level = gr.Slider(0, 1, value=0.5, step=0.01, label=t("noise_t"), elem_id="diffusion-t")
            fwd_go = gr.Button(t("add_noise"), variant="primary")
        with gr.Column(scale=2):
            with gr.Row():
                real_image = gr.Image(format="png", type="pil", label=t("real_image"), elem_id="diffusion-real",
                                      elem_classes=LOOK, buttons=BUTTONS, height=260)
                noised = gr.Image(format="png", type="pil", label=t("noised_image"), elem_id="diffusion-noised",
                                  elem_classes=LOOK, buttons=BUTTONS, height=260)
            fwd_note = gr.Textbox(label=t("noise_level"), interactive=False, elem_id="diffusion-forward-note")
            strip = gr.Image(format="png", type="pil", label=t("noise_strip"), elem_id="diffusion-strip",
                             elem_classes=LOOK, buttons=BUTTONS)
    gr.Markdown(t("diffusion_help"), elem_id="diffusion-help")

    controls = [pick.checkpoint, cls, seed, sampler, steps, guidance]
    view = [noisy, clean, step_note, gif, position, cache]
    fwd_in, fwd_out = [pick.checkpoint, fwd_cls, index, level, seed], [real_image, noised, strip, fwd_note]
    pick.dataset.change(class_choices, pick.dataset, [cls, fwd_cls], api_visibility="private", queue=False)
    pick.checkpoint.change(checkpoint_settings, pick.checkpoint, [sampler, steps, guidance],
                           api_visibility="private", queue=False)
    dice.click(common.random_seed, None, seed, api_visibility="private", queue=False)
    grid_in = [pick.checkpoint, cls, n, seed, sampler, steps, guidance, enlarge_by]
    enlarge.wire(enlarge_by, grid, (sample_diffusion, grid_in, [grid, grid_file]))
    go.click(sample_diffusion, grid_in, [grid, grid_file], api_name="sample_diffusion").success(
        trajectory_view, [*controls, position, cache], view, api_name="diffusion_trajectory")
    position.input(trajectory_view, [*controls, position, cache], view, api_name="diffusion_scrub",
                   api_visibility="private", trigger_mode="always_last", show_progress="hidden")
    gr.on([fwd_go.click, level.input, fwd_cls.input, index.submit], forward_process, fwd_in, fwd_out,
          api_name="diffusion_forward", trigger_mode="always_last")
    # what these open on carries no words (images and "1 / 20 · t = 0.95 · ..."): one cached result for every language
    common.on_open(open_grid, [pick.checkpoint, cls, n, seed, sampler, steps, guidance], [grid, grid_file])
    common.on_open(open_trajectory, [*controls, position], [noisy, clean, step_note, gif])
    common.on_open(open_forward, fwd_in, fwd_out)
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
