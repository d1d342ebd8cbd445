"""Checkpoint folders that rebuild themselves.

A checkpoint is a folder::

    config.json        {"format_version", "family", "dataset", "config": {...}, "training": {...}, "metrics": {...}}
    model.safetensors  the weights (never a pickle)
    README.md          a Hugging Face model card

``save_checkpoint`` writes into a temporary sibling folder and renames it into
place, so an interrupted save never leaves a half-written checkpoint and never
destroys the previous one. ``load_checkpoint`` takes a local folder or a Hub repo
id (``owner/name``, downloaded with ``huggingface_hub``; honours ``HF_HUB_OFFLINE``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model
from torch import nn

from .models import build_model, check_family, make_config

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


class CheckpointError(RuntimeError):
    """A checkpoint folder or Hub repo is missing, incomplete or of an unknown format."""


# ----------------------------------------------------------------------------- save


def save_checkpoint(
    model: nn.Module,
    out_dir: str | os.PathLike,
    *,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` to ``out_dir`` atomically and return the folder path."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": FORMAT_VERSION,
        "family": model.family,
        "dataset": model.config.dataset,
        "config": dataclasses.asdict(model.config),
        "training": training or {},
        "metrics": metrics or {},
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        save_model(model, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        (tmp / CARD_FILE).write_text(model_card(meta))
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def update_metrics(ckpt_dir: str | os.PathLike, metrics: dict[str, Any]) -> None:
    """Merge ``metrics`` into a saved checkpoint's config.json and rewrite its model card."""
    path = Path(ckpt_dir)
    meta = read_meta(path)
    meta["metrics"] = {**meta.get("metrics", {}), **metrics}
    (path / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    (path / CARD_FILE).write_text(model_card(meta))


def model_card(meta: dict[str, Any]) -> str:
    """A Hugging Face model card (YAML front matter + text) from checkpoint metadata."""
    family, dataset = meta["family"], meta["dataset"]
    hub_dataset = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}[dataset]
    training, metrics = meta.get("training", {}), meta.get("metrics", {})
    lines = [
        "---",
        "library_name: aigc_models",
        "license: mit",
        "tags:",
        *[f"- {t}" for t in ("aigc-lab", family, dataset, "pytorch", "safetensors")],
        "datasets:",
        f"- {hub_dataset}",
    ]
    if metrics:
        lines += ["model-index:", f"- name: {dataset}-{family}", "  results:", "  - task:",
                  "      type: unconditional-image-generation" if family != "classifier" else "      type: image-classification",
                  "    dataset:", f"      name: {dataset}", f"      type: {hub_dataset}", "    metrics:"]
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                lines += [f"    - type: {key}", f"      value: {value:.6g}"]
    lines += ["---", "", f"# {dataset} {family}", ""]
    lines += [f"A `{family}` model from the AIGC lab (`aigc_models`), trained on {dataset}.", ""]
    lines += ["```python", "from aigc_models.checkpoints import load_checkpoint",
              "model = load_checkpoint(\"PATH_OR_REPO_ID\")", "```", ""]
    if training:
        lines += ["## Training", ""]
        if "command" in training:
            lines += ["```bash", training["command"], "```", ""]
        for key in ("device", "steps", "seconds", "batch_size", "seed", "images_seen", "torch"):
            if key in training:
                lines.append(f"- {key}: {training[key]}")
        lines.append("")
    if metrics:
        lines += ["## Evaluation", "", "| metric | value |", "| --- | --- |"]
        for key, value in metrics.items():
            shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
            lines.append(f"| {key} | {shown} |")
        lines.append("")
    lines += ["## Config", "", "```json", json.dumps(meta["config"], indent=2), "```", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- load


def resolve(path_or_repo: str | os.PathLike) -> Path:
    """A local checkpoint folder for a path, a shipped name (``mnist-dcgan``) or a Hub repo id."""
    path = Path(path_or_repo).expanduser()
    if path.is_dir():
        return path
    if (SHIPPED_DIR / str(path_or_repo)).is_dir():
        return SHIPPED_DIR / str(path_or_repo)
    text = str(path_or_repo)
    if text.count("/") == 1 and not text.startswith((".", "/", "~")):
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(text, allow_patterns=[CONFIG_FILE, WEIGHTS_FILE, CARD_FILE]))
        except Exception as err:
            raise CheckpointError(
                f"{text!r} is not a local folder and could not be fetched from the Hugging Face Hub "
                f"({type(err).__name__}: {err})."
            ) from err
    raise CheckpointError(f"No checkpoint folder at {path} (and {text!r} is not a Hub repo id).")


def read_meta(path_or_repo: str | os.PathLike) -> dict[str, Any]:
    """The parsed config.json of a checkpoint."""
    folder = resolve(path_or_repo)
    file = folder / CONFIG_FILE
    if not file.is_file():
        raise CheckpointError(f"{folder} has no {CONFIG_FILE}: not a checkpoint folder.")
    meta = json.loads(file.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{file} has format_version {meta.get('format_version')!r}; this code reads {FORMAT_VERSION}."
        )
    return meta


def load_checkpoint(path_or_repo: str | os.PathLike, *, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from its folder (or Hub repo), in eval mode on ``device``."""
    folder = resolve(path_or_repo)
    meta = read_meta(folder)
    family = check_family(meta["family"])
    model = build_model(family, make_config(family, **meta["config"]))
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError(f"{folder} has no {WEIGHTS_FILE}.")
    load_model(model, str(weights), device=str(device))
    return model.to(device).eval()


def list_checkpoints(root: str | os.PathLike = SHIPPED_DIR) -> list[dict[str, Any]]:
    """Every checkpoint folder directly under ``root``: name, path, family, dataset, metrics."""
    found = []
    base = Path(root)
    if not base.is_dir():
        return found
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            meta = read_meta(folder)
        except (CheckpointError, json.JSONDecodeError):
            continue
        found.append({"name": folder.name, "path": str(folder), "family": meta["family"],
                      "dataset": meta["dataset"], "metrics": meta.get("metrics", {}),
                      "training": meta.get("training", {}), "config": meta["config"]})
    return found
