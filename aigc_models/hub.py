"""The Hugging Face Hub side of checkpoints: repo ids, downloads of the three checkpoint files
(never anything else, so never a pickle), and the model card that goes with a checkpoint.

Offline (``HF_HUB_OFFLINE=1``) a download fails at once with one sentence instead of retrying.
Errors are ``HubError``; ``checkpoints.resolve`` reports them as ``CheckpointError``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .models import REGISTRY
from .validation import show

HUB_FILES = ["config.json", "model.safetensors", "README.md"]  # the only files ever fetched from the Hub
DEFAULT_REVISION = "main"
MAX_HUB_ID_CHARS = 300  # owner/name is at most 96 + 1 + 96 characters; the rest is a revision (a 40-character commit, a branch)
HUB_DATASETS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}

_HUB_ID = re.compile(r"(?P<repo>[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})(?:@(?P<revision>[\w.-]+(?:/[\w.-]+)*))?")


class HubError(RuntimeError):
    """A Hub repo could not be fetched (offline, missing, no access)."""


def parse_hub_id(text: str) -> tuple[str, str] | None:
    """``owner/name[@revision]`` -> (repo id, revision, ``main`` by default); None for anything else
    (including ids longer than ``MAX_HUB_ID_CHARS``)."""
    if len(text) > MAX_HUB_ID_CHARS:
        return None
    match = _HUB_ID.fullmatch(text)
    if match is None or ".." in text:
        return None
    return match["repo"], match["revision"] or DEFAULT_REVISION


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set (read now, not only when huggingface_hub was imported)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def download(repo: str, revision: str) -> Path:
    """The local snapshot of Hub ``repo`` at ``revision``: config.json, model.safetensors, README.md only."""
    from huggingface_hub import snapshot_download

    offline = hub_offline()
    shown = show(f"{repo}@{revision}")
    try:
        return Path(snapshot_download(repo, revision=revision, allow_patterns=HUB_FILES, local_files_only=offline))
    except Exception as err:  # noqa: BLE001 - network, auth, missing repo: one clear sentence
        if offline:
            raise HubError(
                f"Cannot fetch {shown} from the Hugging Face Hub: offline (HF_HUB_OFFLINE=1) and not in "
                f"the local cache; unset HF_HUB_OFFLINE and run once with network access, or download the folder "
                f"and pass its path."
            ) from err
        raise HubError(
            f"{shown} is not a local folder and could not be fetched from the Hugging Face Hub "
            f"({type(err).__name__}: {err})."
        ) from err


def model_card(meta: dict[str, Any]) -> str:
    """A Hugging Face model card from checkpoint metadata: YAML front matter written by
    ``huggingface_hub.ModelCardData`` (tags, dataset, and each numeric metric as an ``EvalResult``,
    so that the Hub shows them in the model index), then the text."""
    from huggingface_hub import EvalResult, ModelCardData

    family, dataset = meta["family"], meta["dataset"]
    hub_dataset = HUB_DATASETS[dataset]
    training, metrics = meta.get("training", {}), meta.get("metrics", {})
    task = ("image-classification" if REGISTRY[family].can("classify") else
            "image-to-image" if REGISTRY[family].can("upscale") else "unconditional-image-generation")
    results = [EvalResult(task_type=task, dataset_type=hub_dataset, dataset_name=dataset, metric_type=key,
                          metric_value=float(f"{value:.6g}"))
               for key, value in metrics.items() if isinstance(value, (int, float)) and not isinstance(value, bool)]
    data = ModelCardData(library_name="aigc_models", license="mit", datasets=[hub_dataset],
                         tags=["aigc-lab", family, dataset, "pytorch", "safetensors"],
                         model_name=f"{dataset}-{family}" if results else None, eval_results=results or None)
    lines = ["---", data.to_yaml(), "---", "", f"# {dataset} {family}", ""]
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
        earlier = training.get("continued_from")
        while isinstance(earlier, dict):  # the runs it started from, newest first
            lines += [f"Continued from `{earlier.get('checkpoint')}`, trained for {earlier.get('steps', '?')} steps "
                      f"({earlier.get('seconds', '?')} s, {earlier.get('device', '?')}) by:", "",
                      "```bash", str(earlier.get("command", "?")), "```", ""]
            earlier = earlier.get("continued_from")
    if metrics:
        lines += ["## Evaluation", ""]
        sampling = metrics.get("sampling")
        # the numbers hold for one way of sampling: a diffusion model's sampler, steps and guidance,
        # a PixelCNN's temperature and class guidance
        if isinstance(sampling, dict) and "sampler" in sampling:
            lines += [f"Samples drawn with the {sampling.get('sampler')} sampler in {sampling.get('steps')} steps at "
                      f"classifier-free guidance {sampling.get('guidance')} (the config's defaults).", ""]
        elif isinstance(sampling, dict):
            lines += [f"Samples drawn pixel by pixel at temperature {sampling.get('temperature')} and class guidance "
                      f"{sampling.get('guidance')} (the config's defaults).", ""]
        lines += ["| metric | value |", "| --- | --- |"]
        for key, value in metrics.items():
            shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
            lines.append(f"| {key} | {shown} |")
        lines.append("")
    lines += ["## Config", "", "```json", json.dumps(meta["config"], indent=2), "```", ""]
    return "\n".join(lines)


