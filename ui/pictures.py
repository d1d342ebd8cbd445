"""Tab "Your pictures" (Train section): upload a zip, image files or a folder; see each picture as
the model will (28 x 28, framed like MNIST or Fashion-MNIST); train a model on them with
DiffAugment through the Train tab's one-run-at-a-time queue and live view.

Reading is the library's (``aigc_models.pictures``: bounded names, bytes and pictures; each
picture through ``preprocess``). A set read here is saved under ``<runs>/pictures/`` named by
its content's SHA-256 (the same pictures, framed the same way, are one file), and a run names it
by that key only: a request never names a server path. Until something is uploaded the tab shows
an example: 100 sneakers of Fashion-MNIST's training split, read the same way.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import pictures as pictures_mod
from aigc_models import validation
from aigc_models.checkpoints import SHIPPED_DIR
from aigc_models.models import DEFAULT_FAMILY, REGISTRY
from aigc_models.training import shipped_recipe
from ui import common, components, train
from ui.errors import UserError
from ui.i18n import t

SET_KEY = re.compile(r"[0-9a-f]{16}")
MAX_SETS = 64  # picture sets kept on the server (the oldest go first); each is at most 1.6 MB
EXAMPLE_CLASS, EXAMPLE_COUNT = 7, 100  # Sneaker: the class the README's measurement uses
# measured on 100 sneakers (docs/own-pictures.json): DiffAugment overtakes the plain DCGAN between 2,000 and 3,000
# steps and leads from then on; 4,000 steps take about 4 minutes on a 2-core CPU
OPEN_STEPS = 4000
REASONS = (  # the library's reasons (English) -> i18n keys, by how they start
    ("not an image file", "reason_not_image"), ("encrypted", "reason_encrypted"), ("a link", "reason_link"),
    ("larger than", "reason_large"), ("cannot be read", "reason_unreadable"),
    ("This file is not a readable image", "reason_unreadable"), ("The picture is empty", "reason_empty"),
    ("The image is", "reason_size"),
)
FRAMINGS = [("pic_objects", "fashion-mnist"), ("pic_digits", "mnist")]


def sets_dir() -> Path:
    """Where picture sets read in the app are kept: ``<runs folder>/pictures``."""
    return common.runs_dir() / "pictures"


def set_path(key: object, lang: str = "en") -> Path:
    """The saved set a run names by ``key`` (16 hex digits); ``UserError`` (in ``lang``) when
    missing, malformed or gone."""
    if not isinstance(key, str) or not key.strip():
        raise UserError(train.words(lang)["pic_need"])
    if not SET_KEY.fullmatch(key.strip()):
        raise UserError("Picture set: expected the 16-hex-digit key this tab shows after an upload.")
    path = sets_dir() / f"{key.strip()}{pictures_mod.SET_SUFFIX}"
    if not path.is_file():
        raise UserError(train.words(lang)["pic_gone"])
    return path


def modified(path: Path) -> float:
    """``path``'s modification time; 0 for a file another request removed meanwhile."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def keep_set(picture_set: pictures_mod.PictureSet) -> str:
    """Save ``picture_set`` under its content key (once), drop the oldest sets beyond ``MAX_SETS``; the key."""
    key = picture_set.digest()[:16]
    path = sets_dir() / f"{key}{pictures_mod.SET_SUFFIX}"
    if path.is_file():
        os.utime(path)  # newest again: pruned last
    else:
        pictures_mod.save_set(picture_set, path)
    kept = sorted(sets_dir().glob(f"*{pictures_mod.SET_SUFFIX}"), key=modified, reverse=True)
    for old in kept[MAX_SETS:]:
        old.unlink(missing_ok=True)
    return key


@lru_cache(maxsize=1)
def example_zip() -> str:
    """A zip of ``EXAMPLE_COUNT`` Fashion-MNIST training sneakers as PNG files (written once per process)."""
    split = data_mod.load_split("fashion-mnist", train=True)
    members = torch.nonzero(split.labels == EXAMPLE_CLASS).flatten()[:EXAMPLE_COUNT]
    path = Path(tempfile.mkdtemp(prefix="aigc-example-")) / "sneakers.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for i in members.tolist():
            png = io.BytesIO()
            Image.fromarray(split.images[i, 0].numpy()).save(png, format="PNG")
            archive.writestr(f"sneakers/{i:05d}.png", png.getvalue())
    path.write_bytes(buf.getvalue())
    return str(path)


def reason_in(reason: str, lang: str) -> str:
    """A skipped file's reason in ``lang`` (the library says it in English)."""
    if lang != "zh":
        return reason
    said = train.words(lang)
    for start, key in REASONS:
        if reason.startswith(start):
            return said[key].format(mb=pictures_mod.MAX_FILE_BYTES // 2**20)
    return reason


def shown_name(name: str) -> str:
    """A file's name as a code span can hold it: no backticks or line breaks, at most 60 characters."""
    return " ".join(name.replace("`", "'").split())[:60]


def skipped_names(skipped: Any, lang: str) -> str:
    """Skipped files as "`name` (reason); ..." in ``lang``."""
    form, sep = ("`{}`（{}）", "；") if lang == "zh" else ("`{}` ({})", "; ")
    return sep.join(form.format(shown_name(name), reason_in(reason, lang)) for name, reason in skipped)


def summary(picture_set: pictures_mod.PictureSet, lang: str, example: bool = False) -> str:
    """What was read, framed how, what was left out and skipped (and why), in ``lang``."""
    said = train.words(lang)
    what = said["pic_what_mnist" if picture_set.dataset == "mnist" else "pic_what_fashion"]
    text = said["pic_read"].format(n=len(picture_set), what=what)
    if picture_set.left_out:
        text += said["pic_left_out"].format(n=picture_set.left_out, max=pictures_mod.MAX_PICTURES)
    if picture_set.skipped:
        names = skipped_names(picture_set.skipped[:5], lang)
        if len(picture_set.skipped) > 5:
            names += " " + said["pic_more"].format(n=len(picture_set.skipped) - 5)
        text += said["pic_skipped"].format(n=len(picture_set.skipped), names=names)
    if example:
        text = said["pic_example"] + ("" if lang == "zh" else " ") + text
    return text


def uploaded(files: Any, folder: Any) -> list[str]:
    """The paths gradio handed over for the two upload boxes (a list, a path, or None each), each
    checked to be a file uploaded to this server (``components.uploaded_file``)."""
    paths: list[str] = []
    for value in (files, folder):
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            path = getattr(item, "path", None) or (item.get("path") if isinstance(item, dict) else item)
            paths.append(components.uploaded_file(path))  # only files uploaded to this server, never a path named
    return paths


def read_upload(files: Any, folder: Any, framing: str, request: gr.Request | None = None) -> tuple[Any, str, str]:
    """Read the uploads (or, with none, the example sneakers) framed like ``framing``'s dataset.
    Returns (a grid of the first 100 framed pictures, the summary in the page's language, the set's key)."""
    lang = common.language(request)
    dataset = common.check_dataset(framing)
    paths = uploaded(files, folder)
    example = not paths
    try:
        picture_set = pictures_mod.read_pictures(paths or [example_zip()], dataset=dataset)
    except data_mod.DatasetUnavailableError:
        return None, train.words(lang)["pic_none"], ""
    except pictures_mod.PictureReadError as err:  # too few pictures, too many files or bytes, a broken zip
        raise UserError(read_error(err, lang)) from None
    except ValueError as err:
        raise UserError(str(err)) from None
    key = keep_set(picture_set)
    preview = common.to_grid(data_mod.to_signed(picture_set.images[:100]), nrow=10, target=400)
    return preview, summary(picture_set, lang, example), key


def read_error(err: pictures_mod.PictureReadError, lang: str) -> str:
    """The library's refusal in ``lang`` from its kind and numbers (its own sentence for a kind not named here)."""
    key = f"pic_error_{err.kind}"
    said = train.words(lang)
    if key not in said:
        return str(err)
    facts = dict(err.facts)
    if err.kind == "too_few":
        skipped = facts.pop("skipped", ())
        facts["why"] = said["pic_skipped"].format(n=len(skipped), names=skipped_names(skipped, lang)) if skipped else ""
    return said[key].format(**facts, least=pictures_mod.MIN_PICTURES)


def opening(framing: str, lang: str) -> tuple[Any, str, str]:
    """The tab on open: the example set, read as an upload would be."""
    return read_upload(None, None, framing, common.Browser(lang))


def queue_pictures(name: str | None, family: str, key: str, request: gr.Request | None = None) -> tuple[str, str]:
    """Reserve the run's ticket (as ``train.queue_run``), named ``pictures-<model>-<time>`` unless named."""
    set_path(key, common.language(request))
    if name is not None and not isinstance(name, str):
        raise UserError(f"Run name must be text, got {validation.show(name)}.")
    return train.queue_run((name or "").strip() or default_name(family), family, "mnist", request)


def default_name(family: object) -> str:
    """A run's folder name when none is given: ``pictures-<model>-<time>``."""
    return f"pictures-{family if isinstance(family, str) else 'model'}-{time.strftime('%Y%m%d-%H%M%S')}"


def shipped_start(family: str, dataset: str, lang: str) -> str:
    """The shipped checkpoint a fine-tune starts from, or ``UserError`` naming it when there is none."""
    name = f"{dataset}-{family}"
    if not (SHIPPED_DIR / name / "model.safetensors").is_file():
        raise UserError(train.words(lang)["pic_no_shipped"].format(name=name))
    return str(SHIPPED_DIR / name)


@train.gpu
def train_pictures(family: str, framing: str, steps: float, key: str, diffaugment: bool, fine_tune: bool,
                   seed: float, name: str | None, run_id: str | None = None,
                   request: gr.Request | None = None) -> Iterator[tuple[Any, ...]]:
    """Train ``family`` on the picture set ``key`` (from ``read_upload``) with the shipped recipe of
    that model on ``framing``'s dataset (its EMA included, as measured), DiffAugment when asked,
    from scratch or (``fine_tune``) from the shipped model. Yields (status, loss table, D-score table, samples, warning, saved run,
    run id) at least once a second; the run joins the Train tab's queue and is saved under runs/."""
    train.check_held(request)
    lang = common.language(request)
    train.check_family_choice(family)
    dataset = common.check_dataset(framing)
    path = set_path(key, lang)
    start = shipped_start(family, dataset, lang) if fine_tune else None
    count = len(pictures_mod.load_set(path))
    ticket = train.claim_ticket(run_id, lambda: train.run_name(name or default_name(family), family, dataset), request)
    batch, lr_g, lr_d, lr, beta1, beta2, loss, _, _ = train.recipe_form(family, dataset)
    ema = shipped_recipe(family, dataset).ema  # as measured (README): the grid trails, the result is better

    def build(out: str):
        return train.make_config(family, dataset, steps, batch, lr_g, lr_d, lr, beta1, beta2, loss, diffaugment, ema,
                                 seed, out, pictures=str(path), init_from=start)

    for status, losses, scores, grid, _hist, warning, saved, rid in train.live_run(ticket, build, lang, pictures=count):
        yield status, losses, scores, grid, warning, saved, rid


def conditional_note(family: str, lang: str) -> str:
    """A line under the model choice for a class-conditional model ('' otherwise)."""
    entry = REGISTRY.get(family)
    if entry is None or not entry.can("condition"):
        return ""
    return train.words(lang)["pic_conditional"].format(model=entry.label)


def model_note(family: str, request: gr.Request | None = None) -> str:
    """``conditional_note`` in the page's language."""
    return conditional_note(family, common.language(request))


def build_tab() -> list[common.Picker]:
    """The tab (no checkpoint picker: its runs appear in the other tabs' pickers like any run)."""
    gr.Markdown(t("pic_intro"))
    with gr.Row():
        with gr.Column(scale=1):
            files = components.FileUpload(file_count="multiple", file_types=[".zip", "image"], label=t("pic_files"),
                            elem_id="pic-files")
            folder = components.FileUpload(file_count="directory", label=t("pic_folder"), elem_id="pic-folder")
            framing = gr.Radio([(t(k), v) for k, v in FRAMINGS], value="fashion-mnist", label=t("pic_framing"),
                               elem_id="pic-framing")
            read_note = gr.Markdown(elem_id="pic-summary")
            key = gr.Textbox(visible=False, elem_id="pic-key")
            family = gr.Radio(train.family_choices(), value=DEFAULT_FAMILY, label=t("model"), elem_id="pic-model")
            family_note = gr.Markdown(elem_id="pic-model-note")
            with gr.Row():
                steps = train.setting_number("steps", OPEN_STEPS, t("steps"), elem_id="pic-steps")
                seed = train.setting_number("seed", 0, t("seed"))
            diffaug = gr.Checkbox(True, label=t("diffaugment"), elem_id="pic-diffaugment")
            fine_tune = gr.Checkbox(False, label=t("pic_fine_tune"), elem_id="pic-fine-tune")
            name = gr.Textbox(label=t("run_name"), placeholder="my-sneakers")
            with gr.Row():
                start = gr.Button(t("pic_train"), variant="primary", elem_id="pic-start")
                stop = gr.Button(t("stop"), variant="stop", elem_id="pic-stop")
            stop_note = gr.Markdown()
            run_id = gr.Textbox("", visible=False)
        with gr.Column(scale=2):
            preview = gr.Image(format="png", type="pil", label=t("pic_preview"), elem_id="pic-preview",
                               elem_classes=["pixelated", "below-label"], height=420)
            status = gr.Markdown(t("pic_idle"), elem_id="pic-status")
            with gr.Row():
                loss_plot = gr.LinePlot(x="step", y="value", color="series", label=t("losses"), height=340,
                                        color_map=train.SERIES_COLOURS, colors_in_legend=[], y_title="loss",
                                        elem_id="pic-loss")
                d_plot = gr.LinePlot(x="step", y="value", color="series", label=t("d_scores"), height=340,
                                     color_map=train.SERIES_COLOURS, colors_in_legend=[], y_title="mean",
                                     elem_id="pic-scores")
            grid = gr.Image(format="png", type="pil", label=t("samples_fixed"), elem_id="pic-grid",
                            elem_classes=["pixelated", "below-label"])
            warning = gr.Markdown()
            saved = gr.Textbox(label=t("saved_run"), interactive=False, elem_id="pic-saved")
    common.on_open(opening, [framing], [preview, read_note, key], speaks=True)
    common.on_open(conditional_note, [family], [family_note], speaks=True)
    # queued (not queue=False): a refusal shows as a toast only then
    for trigger in (files.upload, files.clear, folder.upload, folder.clear, framing.change):
        trigger(read_upload, [files, folder, framing], [preview, read_note, key], api_visibility="private")
    family.change(model_note, [family], family_note, api_visibility="private", queue=False)
    queued = start.click(queue_pictures, [name, family, key], [run_id, stop_note], api_visibility="private")
    trained = queued.success(train_pictures, [family, framing, steps, key, diffaug, fine_tune, seed, name, run_id],
                             [status, loss_plot, d_plot, grid, warning, saved, run_id], api_name="train_pictures",
                             concurrency_limit=1, concurrency_id="train", time_limit=int(train.MAX_SECONDS) + 120)
    trained.then(lambda: "", None, stop_note, api_visibility="private", queue=False)
    stop.click(train.stop_training, [run_id], stop_note, api_visibility="private", queue=False)
    return []
