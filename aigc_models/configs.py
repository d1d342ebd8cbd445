"""Config fields that carry their own bounds, and the one checker that reads them.

A model's config is a frozen dataclass beside its model; each field says what it accepts::

    @dataclass(frozen=True)
    class DCGANConfig:
        dataset: str = dataset_field()
        latent_dim: int = bounded(64, lo=1, hi=1024, help="size of the noise vector z")

``check_config_value`` reads a field's annotation and metadata (range, choices, layer sizes)
and either returns the value in its plain type or raises ``ValueError`` with one sentence
naming the field and what is allowed; ``check_options`` does a whole dict and
``build_config`` also runs the dataclass's own cross-field ``check()`` when it has one.
Checkpoints, the trainer and the CLI all go through here; nothing else keeps a list of
fields.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import typing
from typing import Any

from .data import DATASETS
from .validation import number, show

_META = "aigc_bounds"

# ----------------------------------------------------------------------------- declaring fields


def bounded(default: Any, *, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
            hi_open: bool = False, choices: tuple[Any, ...] | None = None, layers: tuple[int, int] | None = None,
            help: str = "", label: str = "") -> Any:
    """A dataclass field with its bounds: ``lo``/``hi`` for numbers (and for each entry of a
    tuple of layer sizes), ``choices`` for names, ``layers=(fewest, most)`` entries for a tuple.
    ``help`` is what the CLI and the app show; ``label`` names the field in messages (default: its name)."""
    bounds = {"lo": lo, "hi": hi, "lo_open": lo_open, "hi_open": hi_open, "choices": choices, "layers": layers,
              "help": help, "label": label}
    if isinstance(default, (list, tuple)):
        return dataclasses.field(default_factory=lambda: tuple(default), metadata={_META: bounds})
    return dataclasses.field(default=default, metadata={_META: bounds})


def dataset_field() -> Any:
    """The ``dataset`` field every model config has."""
    return bounded("mnist", choices=tuple(DATASETS), help="dataset the model was trained on")


def bounds_of(field: dataclasses.Field) -> dict[str, Any]:
    """The bounds a field was declared with (``{}`` when it declares none)."""
    return dict(field.metadata.get(_META, {}))


def field_type(config_cls: type, name: str) -> Any:
    """The resolved annotation of a config field (``int``, ``float``, ``bool``, ``str``, ``tuple[int, ...]``)."""
    return _type_hints(config_cls)[name]


@functools.cache
def _type_hints(config_cls: type) -> dict[str, Any]:
    # resolving string annotations costs ~0.1 ms a field, and every checkpoint listing checks every field
    return typing.get_type_hints(config_cls)


# ----------------------------------------------------------------------------- checking


def quote(value: Any) -> str:
    """``value`` for an error message, at most about 80 characters (strings through ``show``)."""
    if isinstance(value, str):
        return show(value)
    try:
        text = repr(value)
    except ValueError:  # an int with more than 4,300 digits
        return show(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _interval(b: dict[str, Any]) -> str:
    """``[0, 1)``-style text for a number's bounds."""
    lo, hi = b.get("lo"), b.get("hi")
    left = "(" if b.get("lo_open") or lo is None else "["
    right = ")" if b.get("hi_open") or hi is None else "]"
    return f"{left}{'-inf' if lo is None else number(lo)}, {'inf' if hi is None else number(hi)}{right}"


def _int_text(b: dict[str, Any]) -> str:
    """``an integer from 1 to 1024`` (or with open or missing ends)."""
    if b.get("lo") is not None and b.get("hi") is not None and not b.get("lo_open") and not b.get("hi_open"):
        return f"an integer from {number(b['lo'])} to {number(b['hi'])}"
    return f"an integer {_range_text(b)}"


def _range_text(b: dict[str, Any]) -> str:
    parts = []
    if b.get("lo") is not None:
        parts.append(f"{'greater than' if b.get('lo_open') else 'at least'} {number(b['lo'])}")
    if b.get("hi") is not None:
        parts.append(f"{'less than' if b.get('hi_open') else 'at most'} {number(b['hi'])}")
    return " and ".join(parts)


def _in_range(x: float, b: dict[str, Any]) -> bool:
    lo, hi = b.get("lo"), b.get("hi")
    if lo is not None and (x <= lo if b.get("lo_open") else x < lo):
        return False
    return not (hi is not None and (x >= hi if b.get("hi_open") else x > hi))


def check_config_value(config_cls: type, name: str, value: Any, *, where: str | None = None) -> Any:
    """``value`` for field ``name`` of ``config_cls`` in its plain type (lists become tuples), or
    ``ValueError`` naming the field and what it accepts."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    where = where or config_cls.__name__
    if name not in fields:
        raise ValueError(f"{where} has no option {quote(name)}; its options are {', '.join(fields)}.")
    b, kind = bounds_of(fields[name]), field_type(config_cls, name)
    label = f"{where} option {name!r}"
    if kind is bool:
        if type(value) is not bool:
            raise ValueError(f"{label} must be true or false, got {quote(value)}.")
        return value
    if kind is int:
        if type(value) is not int or not _in_range(value, b):
            raise ValueError(f"{label} must be {_int_text(b)}, got {quote(value)}.")
        return value
    if kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not ok or not math.isfinite(float(value)) or not _in_range(float(value), b):
            raise ValueError(f"{label} must be a number in {_interval(b)}, got {quote(value)}.")
        return float(value)
    if kind is str:
        if not isinstance(value, str) or (b.get("choices") and value not in b["choices"]):
            raise ValueError(f"{label} must be one of {', '.join(map(str, b.get('choices') or ()))}, got {quote(value)}.")
        return value
    if typing.get_origin(kind) is tuple:
        fewest, most = b.get("layers") or (1, 8)
        entries = f"{fewest} to {most}" if fewest != most else str(most)
        if (not isinstance(value, (list, tuple)) or not fewest <= len(value) <= most
                or not all(type(v) is int and _in_range(v, b) for v in value)):
            raise ValueError(f"{label} must be a list of {entries} layer sizes, each {_int_text(b)}, "
                             f"got {quote(value)}.")
        return tuple(value)
    raise TypeError(f"{config_cls.__name__}.{name} has a type ({kind}) that configs.py cannot check.")


def check_options(config_cls: type, options: Any, *, where: str | None = None) -> dict[str, Any]:
    """A checked copy of ``options`` (a dict of field: value) for ``config_cls``; missing fields
    keep their defaults. ``ValueError`` names the first bad field."""
    where = where or config_cls.__name__
    if not isinstance(options, dict):
        raise ValueError(f"{where} options must be a JSON object of field: value, got {type(options).__name__}.")
    return {name: check_config_value(config_cls, name, value, where=where) for name, value in options.items()}


def build_config(config_cls: type, options: dict[str, Any], *, where: str | None = None) -> Any:
    """The frozen config from checked ``options``, after the dataclass's own ``check()`` (cross-field rules)."""
    config = config_cls(**check_options(config_cls, options, where=where))
    check = getattr(config, "check", None)
    if callable(check):
        check()
    return config


def unchecked_fields(config_cls: type) -> list[str]:
    """Fields that declare no bounds although their type needs them (for a test: none may exist)."""
    missing = []
    for f in dataclasses.fields(config_cls):
        kind, b = field_type(config_cls, f.name), bounds_of(f)
        needs = kind in (int, float) or typing.get_origin(kind) is tuple
        if (needs and b.get("lo") is None and b.get("hi") is None) or (kind is str and not b.get("choices")):
            missing.append(f.name)
    return missing


__all__ = ["bounded", "dataset_field", "bounds_of", "field_type", "check_config_value", "check_options",
           "build_config", "unchecked_fields"]
