"""Lesson tab, ensembles (source document 000 §6.3): the same seed through each member, the
documents' average of the members' outputs, and a mixture (each image drawn by one member),
side by side, with the table measured by ``scripts/ensemble_table.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr
import torch
from PIL import Image, ImageDraw, ImageFont

from aigc_models import ensemble, sampling
from aigc_models.models import REGISTRY
from aigc_models.validation import show
from ui import common
from ui.errors import UserError
from ui.i18n import EN, ZH, t

RESULTS = common.REPO_ROOT / "docs" / "ensemble-table.json"
ROW_LABELS_ZH = {"average (the documents' way)": "平均（文档的做法）", "mixture": "混合"}
MAX_PER_ROW = 12
LETTERS = "ABCDEFGH"  # one per member (ensemble.MAX_MEMBERS of them)

# ----------------------------------------------------------------------------- members


def member_choices(dataset: str) -> list[tuple[str, str]]:
    """(label, key) of every checkpoint of ``dataset`` that can be a member (``ensemble.member_families``)."""
    return common.checkpoint_choices(dataset, ensemble.member_families())


def default_members(dataset: str) -> list[str]:
    """The first two unconditional members of ``dataset`` (the measured table's kind of ensemble),
    else the first two of any kind; fewer when fewer exist."""
    infos = common.discover(ensemble.member_families(), dataset)
    plain = [i["key"] for i in infos if not REGISTRY[i["family"]].can("condition")]
    return (plain if len(plain) >= 2 else [i["key"] for i in infos])[:2]


class MemberPicker(common.Picker):
    """The dataset radio and the members' checkbox group; refreshed like the other tabs' pickers
    (runs trained in the Train tab appear when the tab opens), keeping the members still there."""

    def refresh(self, dataset: str, current: Any) -> dict[str, Any]:
        dataset = dataset if dataset in [v for _, v in common.DATASET_CHOICES] else "mnist"
        choices = member_choices(dataset)
        keys = [key for _, key in choices]
        kept = [c for c in current if c in keys] if isinstance(current, list) else []
        return gr.update(choices=choices, value=kept if len(kept) >= 2 else default_members(dataset))


def load_ensemble(dataset: str, members: object, weights: object) -> ensemble.Ensemble:
    """The members a request names (keys of this app's checkpoints of ``dataset``) and the weights
    text, checked (one sentence each) before any weights load, then loaded through the model cache."""
    if not isinstance(members, (list, tuple)) or not all(isinstance(m, str) for m in members):
        raise UserError(f"Members must be a list of checkpoint names, got {show(members)}.")
    try:
        ensemble.check_count(len(members))
    except ValueError as err:
        raise UserError(f"{err} Tick {ensemble.MIN_MEMBERS} to {ensemble.MAX_MEMBERS} members.") from None
    infos = []
    for key in members:
        info = common.find_checkpoint(key)
        if info is None:
            raise UserError(f"{show(key)} is not one of this app's checkpoints; tick members "
                            f"from the list.")
        if info["dataset"] != dataset:
            raise UserError(f"{info['key']} draws {info['dataset']}, not {dataset}: tick members of {dataset}.")
        infos.append(info)
    if weights is not None and not isinstance(weights, str):
        raise UserError(f"Weights must be text such as 1,2, got {show(weights)}.")
    try:
        parsed = ensemble.parse_weights(weights, len(infos))
        ensemble.make([ensemble.outline(i["path"]) for i in infos], names=[i["key"] for i in infos], weights=parsed)
    except ValueError as err:
        raise UserError(str(err)) from None
    models = [common.load_model(i["key"], ensemble.member_families()) for i in infos]
    return ensemble.Ensemble(tuple(models), tuple(i["key"] for i in infos), parsed)


# ----------------------------------------------------------------------------- handlers


def compare_members(dataset: str, members: list[str] | None, weights: str | None, seed: float,
                    per_row: float, request: gr.Request | None = None) -> tuple[Image.Image, str]:
    """The same seed through each member, the documents' average and the mixture.

    Args:
        dataset: 'mnist' or 'fashion-mnist'.
        members: 2..8 checkpoint keys of that dataset (generators, not diffusion models; all
            conditional or none).
        weights: one positive number per member, comma-separated; blank = equal.
        seed: 0..2**31-1; the same seed gives the same picture (latents and mixture choices).
        per_row: images per row, 1..12 (a conditional ensemble draws the classes in turn).
    Returns:
        A PNG-ready figure (one labelled row per member, then the average and the mixture, each
        mixture image tagged with the member that drew it) and a note on the noise and the choices.
    """
    dataset = common.check_dataset(dataset)
    seed = common.check_int(seed, "Seed", 0, 2**31 - 1)
    n = common.check_int(per_row, "Images per row", 1, MAX_PER_ROW)
    ens = load_ensemble(dataset, members, weights)
    rows = ensemble.member_images(ens, n, seed=seed)  # (K, n, 1, 28, 28)
    mean = ensemble.average(ens, n, seed=seed)
    mixed, picked = ensemble.mixture(ens, n, seed=seed)
    letters = [LETTERS[i] for i in picked.tolist()]
    figure = rows_figure([*((f"{LETTERS[i]}: {name}", rows[i], None) for i, name in enumerate(ens.names)),
                          ("average", mean, None), ("mixture", mixed, letters)])
    return figure, ensemble_note(ens, letters, n, seed, common.language(request))


def open_members(dataset: str, members: list[str] | None, weights: str | None, seed: float, per_row: float,
                 lang: str) -> tuple[Image.Image, str]:
    """``compare_members`` for a page opening in ``lang`` (cached per language by ``common.on_open``)."""
    return compare_members(dataset, members, weights, seed, per_row, common.Browser(lang))


def ensemble_note(ens: ensemble.Ensemble, letters: list[str], n: int, seed: int, lang: str) -> str:
    """What the figure shows, in ``lang``: the noise the members share, the weights, how the
    average and the mixture are made and how many images each member drew."""
    said = ZH if lang == "zh" else EN
    sizes = [m.latent_dim for m in ens.members]
    if ens.shares_noise:
        noise = said["ens_noise_shared"].format(size=sizes[0])
    else:
        noise = said["ens_noise_own"].format(listed=", ".join(f"{name}: {d}" for name, d in zip(ens.names, sizes)))
    shares = ", ".join(f"{LETTERS[i]} {w:.2f}" for i, w in enumerate(ens.weights))
    drawn = ", ".join(said["ens_drew"].format(letter=LETTERS[i], k=letters.count(LETTERS[i]))
                      for i in range(len(ens.names)))
    return said["ens_note"].format(noise=noise, shares=shares, drawn=drawn, n=n, seed=seed)


def rows_figure(rows: list[tuple[str, torch.Tensor, list[str] | None]], *, scale: int = 3) -> Image.Image:
    """One labelled row per ``(label, images, tags)``: the label on the left, then the images
    ``(n, 1, 28, 28)`` in [-1, 1] side by side, each tag (if any) written under its image; RGB."""
    tile, pad, size = 28 * scale, 4, 18
    font = ImageFont.load_default(size=size)
    n = max(len(images) for _, images, _ in rows)
    label_w = 12 + max(int(font.getlength(label[:28])) for label, _, _ in rows)
    row_h = tile + size + 6
    out = Image.new("RGB", (label_w + n * (tile + pad) + pad, len(rows) * (row_h + pad) + pad), "black")
    draw = ImageDraw.Draw(out)
    for r, (label, images, tags) in enumerate(rows):
        y = pad + r * (row_h + pad)
        draw.text((6, y + tile // 2 - size // 2), label[:28], fill=(255, 220, 90), font=font)
        for c, image in enumerate(images):
            x = label_w + pad + c * (tile + pad)
            out.paste(sampling.grid(image[None], nrow=1, padding=0, scale=scale).convert("RGB"), (x, y))
            if tags:
                draw.text((x + tile // 2 - size // 3, y + tile + 2), tags[c], fill=(120, 200, 255), font=font)
    return out


def measured_table(path: Path = RESULTS, lang: str = "en") -> str:
    """The measured table as Markdown in ``lang``, read from ``docs/ensemble-table.json`` (never typed
    here), or one sentence saying how to make it."""
    said = ZH if lang == "zh" else EN
    try:
        results = json.loads(path.read_text())
        if lang == "zh":  # the rows' labels, as scripts/ensemble_table.py writes them
            for row in results.get("rows", []):
                row["label"] = ROW_LABELS_ZH.get(row["label"], row["label"].replace(" alone", " 单独"))
            results["device"] = common.device_words(str(results.get("device", "?")), lang)
        table = ensemble.results_table(results, {key: said[f"ens_table_{key}"] for key in ensemble.TABLE_TEXT})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return said["ens_table_missing"].format(name=path.name)
    commands = "\n".join(f"    {row['command']}" for row in results.get("rows", []))
    noise = results.get("noise", "") if lang == "en" else ""  # a measured sentence, kept in the language it was written
    return f"{table}\n\n{said['ens_table_commands']}\n\n{commands}\n\n{noise}".rstrip() + "\n"


def measured_table_in(lang: str) -> str:
    return measured_table(RESULTS, lang)


# ----------------------------------------------------------------------------- layout


def build_tab() -> list[common.Picker]:
    """The ensembles lesson; returns its member picker for app-wide refreshes."""
    gr.Markdown(t("ens_intro"))
    with gr.Row():
        with gr.Column(scale=1):
            dataset = gr.Radio(common.DATASET_CHOICES, value="mnist", label=t("dataset"))
            members = gr.CheckboxGroup(member_choices("mnist"), value=default_members("mnist"),
                                       label=t("ens_members"), elem_id="ensemble-members")
            weights = gr.Textbox("", label=t("ens_weights"), placeholder="1,1", max_lines=1)
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, label=t("seed"), elem_id="ensemble-seed")
                dice = gr.Button(t("random_seed"), size="sm")
            per_row = gr.Slider(1, MAX_PER_ROW, value=8, step=1, label=t("ens_per_row"))
            go = gr.Button(t("ens_button"), variant="primary", elem_id="ensemble-go")
        with gr.Column(scale=2):
            figure = gr.Image(format="png", type="pil", label=t("ens_figure"), elem_id="ensemble-figure",
                              elem_classes=["pixelated", "below-label"])
            note = gr.Markdown(elem_id="ensemble-note")
    gr.Markdown(t("ens_lesson"))
    gr.Markdown(t("ens_measured"))
    table = gr.Markdown(measured_table(), elem_id="ensemble-table")
    common.on_open(measured_table_in, [], [table], speaks=True)
    pick = MemberPicker(dataset, members, ensemble.member_families())
    dataset.change(pick.refresh, [dataset, members], members, api_visibility="private", queue=False)
    dice.click(common.random_seed, None, seed, api_visibility="private", queue=False)
    inputs = [dataset, members, weights, seed, per_row]
    go.click(compare_members, inputs, [figure, note], api_name="ensemble")
    common.on_open(open_members, inputs, [figure, note], speaks=True)
    return [pick]


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
