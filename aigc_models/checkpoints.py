"""Checkpoint folders that rebuild themselves, and refuse anything else.

A checkpoint is a folder::

    config.json        {"format_version", "family", "dataset", "config": {...}, "training": {...}, "metrics": {...}}
    model.safetensors  the weights (never a pickle)
    README.md          a Hugging Face model card

Loading trusts nothing in the folder: ``config.json`` is checked field by field
(known family and dataset, only the config dataclass's fields, each of the right
type and within bounds) before any module is built; the weights are read only
with safetensors, and their names and shapes must match the model before a
byte is copied. Pickle files (``pytorch_model.bin``, ``*.pt``, ``*.pkl``) are
never opened: unpickling can run arbitrary code.

``save_checkpoint`` writes a temporary sibling folder ``.NAME.tmp-PID-*``, then
swaps it in with two renames (``NAME`` -> ``.NAME.old``, temp -> ``NAME``). A
process killed at any moment leaves either the previous or the new checkpoint
loadable at ``NAME``: if it dies between the two renames, readers fall back to
``.NAME.old`` and the next save puts it back. Leftover temporary folders are
never listed as checkpoints and are removed by the next save to that path.

``load_checkpoint`` takes a local folder, a shipped name or a Hub repo id
``owner/name[@revision]`` (revision ``main`` unless pinned), fetched with
``huggingface_hub`` (only config.json, model.safetensors and README.md;
offline it fails at once with a clear message).
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_model
from safetensors.torch import save as safetensors_bytes
from torch import nn

from . import atomic, hub, models
from .configs import check_config_value, check_options, quote
from .data import DATASETS
from .models import REGISTRY, build_model, make_config
from .validation import show

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
MAX_CONFIG_BYTES = 1_000_000
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


class CheckpointError(RuntimeError):
    """A checkpoint folder or Hub repo is missing, invalid, unsafe or could not be written."""


# ----------------------------------------------------------------------------- config validation

def _is_int(value: Any) -> bool:
    return type(value) is int  # not bool, not 3.0


def check_model_option(family: str, name: str, value: Any) -> Any:
    """``value`` for config field ``name`` of ``family`` (lists become tuples); ``ValueError`` naming
    the field and what it accepts (the bounds live on the config dataclass, ``aigc_models.configs``)."""
    return check_config_value(models.family(family).config, name, value, where=family)


def check_model_options(family: str, options: dict[str, Any]) -> dict[str, Any]:
    """Checked copy of ``options`` for ``family``'s config dataclass: only its fields, each of the
    right type (integers are not booleans, layer sizes are lists of integers) and within bounds.
    Missing fields keep their defaults. Raises ``ValueError`` naming the first bad field."""
    return check_options(models.family(family).config, options, where=family)


def check_meta(meta: Any, source: str) -> dict[str, Any]:
    """``meta`` (a parsed config.json) if it is a valid checkpoint description, else ``CheckpointError``."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{source} must hold a JSON object, not {type(meta).__name__}.")
    allowed = ("format_version", "family", "dataset", "config", "training", "metrics")
    extra = sorted(set(meta) - set(allowed), key=str)
    if extra:
        raise CheckpointError(f"{source} has an unknown field {quote(extra[0])}: not an aigc_models checkpoint config.")
    version = meta.get("format_version")
    if not _is_int(version) or version != FORMAT_VERSION:
        raise CheckpointError(f"{source} has format_version {quote(version)}; this code reads {FORMAT_VERSION}.")
    family = meta.get("family")
    if not isinstance(family, str) or family not in REGISTRY:
        raise CheckpointError(f"{source} names an unknown family {quote(family)}; known: {', '.join(REGISTRY)}.")
    try:
        config = check_model_options(family, meta.get("config"))
        make_config(family, **config)  # the config's own cross-field rules
    except ValueError as err:
        raise CheckpointError(f"{source}: {err}") from err
    dataset = meta.get("dataset")
    if dataset not in DATASETS or config.get("dataset", "mnist") != dataset:
        raise CheckpointError(f"{source} has dataset {quote(dataset)} (config: {quote(config.get('dataset'))}); "
                              f"it must be one of {', '.join(DATASETS)} and the same in both places.")
    for key in ("training", "metrics"):
        if not isinstance(meta.get(key, {}), dict):
            raise CheckpointError(f"{source} field {key!r} must be a JSON object.")
    return meta


def expected_shapes(family: str, config: Any) -> dict[str, tuple[int, ...]]:
    """Weight name -> shape of ``family`` built from ``config``, on the meta device (no memory used)."""
    with torch.device("meta"):
        model = build_model(family, config)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def check_weights(weights: Path, expected: dict[str, tuple[int, ...]]) -> None:
    """``CheckpointError`` unless ``weights`` is a safetensors file with exactly ``expected``'s names and shapes."""
    try:
        with safe_open(str(weights), framework="pt") as f:
            found = {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{weights} is not a valid safetensors file ({err}).") from err
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{weights} does not match its config.json: missing {quote(missing[:3])}, "
                              f"unexpected {quote(unexpected[:3])} ({len(missing)} missing, {len(unexpected)} unexpected).")
    for name, shape in expected.items():
        if found[name] != shape:
            raise CheckpointError(f"{weights} holds {name} with shape {list(found[name])}; "
                                  f"its config.json needs {list(shape)}.")


# ----------------------------------------------------------------------------- save


def weights_bytes(model: nn.Module) -> bytes:
    """The model's state dict as a safetensors file, in memory."""
    state = {name: t.detach().contiguous().cpu() for name, t in model.state_dict().items()}
    return safetensors_bytes(state, metadata={"format": "pt"})


def _save_failure(out: Path, err: OSError, had_previous: bool) -> str:
    kept = "the previous checkpoint there is kept" if had_previous else "nothing was written there"
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"Disk full while saving the checkpoint to {out}; {kept}. Free some space and save again."
    return f"Could not save the checkpoint to {out} ({err.strerror or err}); {kept}."


def save_checkpoint(
    model: nn.Module,
    out_dir: str | os.PathLike,
    *,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` to the folder ``out_dir`` atomically and return its path.

    An existing checkpoint there is replaced only once the new one is complete. A folder there
    that is not a checkpoint is refused (never deleted). A failed write (disk full, permissions)
    raises ``CheckpointError`` and leaves the previous checkpoint and no temporary files.
    """
    out = Path(out_dir)
    meta = {
        "format_version": FORMAT_VERSION,
        "family": model.family,
        "dataset": model.config.dataset,
        "config": dataclasses.asdict(model.config),
        "training": training or {},
        "metrics": metrics or {},
    }
    if not finite_weights(model):
        raise CheckpointError(f"The model has NaN or infinite weights; not saved to {out} (any previous checkpoint there is kept).")
    had_previous = False
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic.clean_leftovers(out)
        if out.is_symlink() or (out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / CONFIG_FILE).is_file()))):
            raise CheckpointError(f"{out} exists and is not a checkpoint folder; pick another output folder.")
        had_previous = out.exists()
        temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
        try:
            atomic.write_file(temp / WEIGHTS_FILE, weights_bytes(model))
            atomic.write_file(temp / CONFIG_FILE, (json.dumps(meta, indent=2) + "\n").encode())
            atomic.write_file(temp / CARD_FILE, hub.model_card(meta).encode())
            atomic.fsync_dir(temp)
            atomic.swap_into_place(temp, out)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    except OSError as err:
        raise CheckpointError(_save_failure(out, err, had_previous)) from err
    return out


def update_metrics(ckpt_dir: str | os.PathLike, metrics: dict[str, Any]) -> None:
    """Merge ``metrics`` into a local checkpoint's config.json and rewrite its model card (each file atomically)."""
    path = _local_folder(ckpt_dir, "metrics")
    meta = read_meta(path)
    meta["metrics"] = {**meta.get("metrics", {}), **metrics}
    try:
        atomic.replace_file(path / CONFIG_FILE, json.dumps(meta, indent=2) + "\n")
        atomic.replace_file(path / CARD_FILE, hub.model_card(meta))
    except OSError as err:
        raise CheckpointError(_save_failure(path, err, True)) from err


def update_sampling_defaults(ckpt_dir: str | os.PathLike, changes: dict[str, Any]) -> dict[str, Any]:
    """Set a local checkpoint's sampling defaults (the config fields its family lists in its config's
    ``SAMPLING_FIELDS``, e.g. a diffusion model's sampler, steps and guidance), checked as any config
    is; the weights are untouched. The stored metrics were measured with the old defaults, so they
    are dropped (``evaluate --save`` measures them again). Returns the new config. ``ValueError`` /
    ``CheckpointError`` in one sentence."""
    path = _local_folder(ckpt_dir, "sampling defaults")
    meta = read_meta(path)
    allowed = getattr(REGISTRY[meta["family"]].config, "SAMPLING_FIELDS", ())
    unknown = sorted(set(changes) - set(allowed))
    if not allowed:
        raise ValueError(f"A {meta['family']} model has no sampling defaults to set.")
    if unknown:
        raise ValueError(f"{', '.join(unknown)} cannot be set here; a {meta['family']} model's sampling defaults are "
                         f"{', '.join(allowed)}.")
    config = {**meta["config"], **changes}
    checked = make_config(meta["family"], **config)
    meta["config"] = {**meta["config"], **{k: getattr(checked, k) for k in changes}}
    meta.pop("metrics", None)
    try:
        atomic.replace_file(path / CONFIG_FILE, json.dumps(meta, indent=2) + "\n")
        atomic.replace_file(path / CARD_FILE, hub.model_card(meta))
    except OSError as err:
        raise CheckpointError(_save_failure(path, err, True)) from err
    return meta["config"]


def _local_folder(ckpt_dir: str | os.PathLike, what: str) -> Path:
    """A local checkpoint folder named by path or shipped name; ``CheckpointError`` otherwise."""
    path = expand_user(ckpt_dir)
    if not _is_dir(path) and _SHIPPED_NAME.fullmatch(str(ckpt_dir)) and (SHIPPED_DIR / str(ckpt_dir)).is_dir():
        path = SHIPPED_DIR / str(ckpt_dir)
    if not _is_dir(path):
        raise CheckpointError(f"{show(str(ckpt_dir))} is not a local checkpoint folder; {what} are stored only in local "
                              "folders (download a Hub checkpoint and pass its folder).")
    return path


# ----------------------------------------------------------------------------- load

_SHIPPED_NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,95}")


def expand_user(text: str | os.PathLike) -> Path:
    """``Path(text).expanduser()``, but ``~name`` stays as it is when there is no such user or the
    name is longer than any user name: looking up a megabyte-long one aborts the process on some
    systems (glibc with systemd's userdb)."""
    text = str(text)
    if re.match(r"~[^/\\]{256}", text):
        return Path(text)
    try:
        return Path(text).expanduser()
    except RuntimeError:  # no such user, or no home folder
        return Path(text)


def _is_dir(path: Path) -> bool:
    """``path.is_dir()``, False where the OS refuses the name (too long, a NUL byte) instead of raising."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def resolve(path_or_repo: str | os.PathLike) -> Path:
    """The local folder for a path, a shipped name (``mnist-dcgan``) or a Hub repo id ``owner/name[@rev]``.

    Error messages quote at most 80 characters of ``path_or_repo``."""
    text = str(path_or_repo)
    path = expand_user(text)
    if _is_dir(path):
        return path
    old = atomic.old_path(path)
    if _is_dir(old) and (old / CONFIG_FILE).is_file():
        return old  # a save was killed between its two renames: the previous checkpoint waits here
    if _SHIPPED_NAME.fullmatch(text) and (SHIPPED_DIR / text).is_dir():
        return SHIPPED_DIR / text
    repo = hub.parse_hub_id(text) if not text.startswith((".", "/", "~")) else None
    if repo is not None:
        try:
            return hub.download(*repo)
        except hub.HubError as err:
            raise CheckpointError(str(err)) from err
    raise CheckpointError(f"No checkpoint folder at {show(text)}, and it is not a Hub repo id owner/name[@revision].")


def read_meta(path_or_repo: str | os.PathLike) -> dict[str, Any]:
    """The validated config.json of a checkpoint."""
    folder = resolve(path_or_repo)
    file = folder / CONFIG_FILE
    if not file.is_file():
        raise CheckpointError(f"{folder} has no {CONFIG_FILE}: not a checkpoint folder.")
    if file.stat().st_size > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{file} is larger than {MAX_CONFIG_BYTES:,} bytes: not a checkpoint config.")
    try:
        meta = json.loads(file.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # ValueError: JSONDecodeError, a 5,000-digit int
        raise CheckpointError(f"{file} is not valid JSON ({type(err).__name__}).") from err
    return check_meta(meta, str(file))


def _missing_weights_message(folder: Path) -> str:
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        return (f"{folder} has no {WEIGHTS_FILE}, only {', '.join(pickles)}: pickle files are never loaded "
                f"(unpickling can run code); convert the weights to safetensors.")
    return f"{folder} has no {WEIGHTS_FILE}."


def load_checkpoint(path_or_repo: str | os.PathLike, *, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from its folder (or Hub repo), in eval mode on ``device``.

    Raises ``CheckpointError`` for a missing or invalid config, missing weights, weights whose
    names and shapes do not match the config (checked before the model is allocated), or weights
    holding NaN or infinity (checked in one pass once loaded: such a model only draws blank images).
    Messages quote at most 80 characters of ``path_or_repo``.
    """
    folder = resolve(path_or_repo)
    meta = read_meta(folder)
    family = meta["family"]
    config = make_config(family, **meta["config"])
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError(_missing_weights_message(folder))
    check_weights(weights, expected_shapes(family, config))
    model = build_model(family, config)
    try:
        load_model(model, str(weights), strict=True, device=str(device))
    except (SafetensorError, RuntimeError, OSError) as err:
        raise CheckpointError(f"{weights} could not be loaded ({type(err).__name__}: {err}).") from err
    bad, total = nonfinite_tensors(model)
    if bad:
        name = Path(str(path_or_repo)).name or folder.resolve().name
        raise CheckpointError(f"{show(name)} has NaN or infinite weights ({bad} of {total} tensors), so it cannot be "
                              f"used; retrain it or load an earlier save.")
    return model.to(device).eval()


def _listed(root: Path) -> list[tuple[str, Path]]:
    """(name, folder) of every candidate checkpoint under ``root``: visible folders, plus a
    ``.NAME.old`` whose ``NAME`` is missing (a save killed between its renames)."""
    found = {}
    for child in root.iterdir():
        if not child.is_dir():
            continue
        if not child.name.startswith("."):
            found[child.name] = child
        elif child.name.endswith(".old") and not (root / child.name[1:-4]).exists():
            found.setdefault(child.name[1:-4], child)
    return sorted(found.items())


def list_checkpoints(root: str | os.PathLike = SHIPPED_DIR) -> list[dict[str, Any]]:
    """Every valid checkpoint folder directly under ``root``: name, path, family, dataset, metrics.

    Temporary folders of unfinished saves, folders without model.safetensors and folders with an
    invalid config.json are skipped. The weights are not read, so a checkpoint whose weights hold
    NaN or infinity is still listed: ``load_checkpoint`` is what refuses it.
    """
    found = []
    base = Path(root)
    if not base.is_dir():
        return found
    for name, folder in _listed(base):
        if not (folder / WEIGHTS_FILE).is_file():
            continue
        try:
            meta = read_meta(folder)
        except (CheckpointError, OSError):
            continue
        found.append({"name": name, "path": str(base / name), "family": meta["family"],
                      "dataset": meta["dataset"], "metrics": meta.get("metrics", {}),
                      "training": meta.get("training", {}), "config": meta["config"]})
    return found


def nonfinite_tensors(model: nn.Module) -> tuple[int, int]:
    """(how many, of how many) floating parameters and buffers of ``model`` hold NaN or infinity
    (one pass over the weights, one device sync)."""
    tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
    if not tensors:
        return 0, 0
    finite = torch.stack([torch.isfinite(t).all() for t in tensors])
    return int((~finite).sum()), len(tensors)


def finite_weights(model: nn.Module) -> bool:
    """True when every parameter and buffer of ``model`` is finite (one device sync)."""
    return nonfinite_tensors(model)[0] == 0


model_card = hub.model_card  # re-exported: the card is written with every save
parse_hub_id = hub.parse_hub_id
is_stale_temp = atomic.is_stale_temp

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "list_checkpoints", "read_meta", "resolve",
           "update_metrics", "model_card", "check_model_options", "parse_hub_id", "finite_weights", "expand_user",
           "nonfinite_tensors",
           "FORMAT_VERSION", "SHIPPED_DIR"]
