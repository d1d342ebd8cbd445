"""Checks at the library's boundary: numbers and names that a caller (the API,
the CLI, a script) passes in, refused with one sentence that names the field and
what is allowed.

Each check returns the value in its plain Python type (``64.0`` -> ``64``,
``np.float32(0.5)`` -> ``0.5``) or raises ``ValueError``. Sliders protect the
browser; these protect everything else (``gradio_client``, scripts, notebooks),
where NaN, ``True``, ``-1`` or ``10**100`` arrive unfiltered.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes 64-bit seeds; seed + 1 must still fit

# ----------------------------------------------------------------------------- display


def show(value: object) -> str:
    """``value`` as a short string for an error message: at most 80 characters (a longer repr is
    cut, so a megabyte-long argument cannot flood a message), huge numbers abbreviated."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral) and abs(int(value)) >= 10**16:
        return f"{float(value):.3g}" if abs(int(value)) < 10**300 else "a number with more than 300 digits"
    if isinstance(value, numbers.Real):
        return number(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def number(x: float) -> str:
    """``5``, ``0.0002``, ``1e-06``, ``10000000``: whole numbers without an exponent."""
    x = float(x)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e16:
        return str(int(x))
    return f"{x:g}"


def fixed(value: object, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or "-" where it is missing or not a number (a table cell)."""
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def _range_text(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    low = f"greater than {number(lo)}" if lo_open else f"at least {number(lo)}"
    high = f"less than {number(hi)}" if hi_open else f"at most {number(hi)}"
    if not lo_open and not hi_open:
        return f"between {number(lo)} and {number(hi)}"
    return f"{low} and {high}"


# ----------------------------------------------------------------------------- numbers


def check_int(value: object, name: str, *, lo: int, hi: int) -> int:
    """``value`` as an ``int`` in ``[lo, hi]``, else ``ValueError`` naming ``name`` and the range.

    Accepts Python and numpy integers and whole floats (``3.0``, as number boxes
    send); refuses ``bool``, ``None``, strings, NaN, infinities and fractions.
    """
    problem = f"{name} must be a whole number between {lo} and {hi}, got {show(value)}."
    if isinstance(value, bool) or value is None:
        raise ValueError(problem)
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        as_float = float(value)
        if not math.isfinite(as_float) or not as_float.is_integer():
            raise ValueError(problem)
        out = int(as_float)
    else:
        raise ValueError(problem)
    if not lo <= out <= hi:
        raise ValueError(problem)
    return out


def check_float(
    value: object, name: str, *, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False
) -> float:
    """``value`` as a finite ``float`` in the range (closed unless ``lo_open`` / ``hi_open``),
    else ``ValueError`` naming ``name`` and the range. Refuses ``bool``, ``None``,
    strings, NaN and infinities."""
    problem = f"{name} must be a number {_range_text(lo, hi, lo_open, hi_open)}, got {show(value)}."
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(problem)
    try:
        out = float(value)
    except OverflowError:  # an int with hundreds of digits
        raise ValueError(problem) from None
    if not math.isfinite(out):
        raise ValueError(problem)
    too_low = out <= lo if lo_open else out < lo
    too_high = out >= hi if hi_open else out > hi
    if too_low or too_high:
        raise ValueError(problem)
    return out


def check_optional_float(value: object, name: str, *, lo: float, hi: float, lo_open: bool = False,
                         hi_open: bool = False, none_means: str = "off") -> float | None:
    """``None`` (meaning ``none_means``) or a float as ``check_float`` checks it."""
    if value is None:
        return None
    try:
        return check_float(value, name, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
    except ValueError:
        raise ValueError(f"{name} must be None ({none_means}) or a number "
                         f"{_range_text(lo, hi, lo_open, hi_open)}, got {show(value)}.") from None


def check_seed(value: object, name: str = "seed") -> int:
    """A random seed: a whole number from 0 to 2**63 - 1."""
    return check_int(value, name, lo=0, hi=MAX_SEED)


# ----------------------------------------------------------------------------- names


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``, else ``ValueError`` listing them."""
    allowed = tuple(choices)
    if isinstance(value, str) and value in allowed:
        return value
    raise ValueError(f"Unknown {name} {show(value)}; choose one of: {', '.join(allowed)}.")


__all__ = ["MAX_SEED", "check_int", "check_float", "check_optional_float", "check_seed", "check_choice", "show", "fixed",
           "number"]
