"""Reading a finished (or running) study: its trials as plain data (``summary``), a text table
(``table``, what ``tune`` and ``tune --summary`` print), and the loss-quality correlations that
measure the source document's choice of the loss as its objective (``loss_correlations``,
Spearman's rank correlation). The study itself runs in ``tune``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from .tune import METRICS, trial_row

if TYPE_CHECKING:
    import optuna


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of ``x`` ``(n,)``, ties given their mean rank."""
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    for value in np.unique(x):
        tied = x == value
        r[tied] = r[tied].mean()
    return r


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation of two equal-length lists, in [-1, 1]; None with fewer than 3
    pairs or when either list is constant."""
    a, b = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(a) < 3 or len(a) != len(b):
        return None
    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def loss_correlations(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """For each final loss the completed trials recorded: Spearman's rho between it and the
    study's quality value across them, and how many trials that is (``n``)."""
    from optuna.trial import TrialState

    done = [t for t in study.trials if t.state == TrialState.COMPLETE and t.user_attrs.get("final_losses")]
    keys = sorted({k for t in done for k in t.user_attrs["final_losses"]})
    out = {}
    for key in keys:
        pairs = [(t.user_attrs["final_losses"][key], t.value) for t in done if key in t.user_attrs["final_losses"]]
        out[key] = {"rho": spearman([p[0] for p in pairs], [p[1] for p in pairs]), "n": len(pairs)}
    return out


def summary(study: optuna.Study) -> dict[str, Any]:
    """A study as plain data: its records, every trial's row, the counts by state, the best trial
    and the loss-quality correlations."""
    from optuna.trial import TrialState

    metric = METRICS[study.user_attrs.get("metric", "fd")]
    rows = [trial_row(t, metric) for t in study.trials]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    best = trial_row(study.best_trial, metric) if complete else None
    baseline = next((r for r in rows if r["baseline"] and r["state"] == "complete"), None)
    return {"study": study.study_name, **{k: study.user_attrs.get(k) for k in ("model", "dataset", "metric")},
            "direction": metric.direction, "metric_key": metric.key, "counts": counts, "trials": rows,
            "best": best, "baseline": baseline, "loss_correlations": loss_correlations(study)}


def table(info: dict[str, Any]) -> str:
    """``summary``'s trials as a fixed-width text table, then the best trial and the correlations."""
    key = info["metric_key"]
    names = sorted({p for r in info["trials"] for p in r["params"]})
    recorded = sorted({k for r in info["trials"] for k in r["final_losses"]})
    losses = [k for k in recorded if "loss" in k] or recorded  # a GAN's D scores stay in the JSON

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "-" if v is None or v == "" else str(v)

    header = ["trial", "state", METRICS[info["metric"] or "fd"].label, "reports", "steps", "s", *names, *losses]
    body = [[cell(r["trial"]) + ("*" if r["baseline"] else ""), r["state"], cell(r[key]),
             "/".join(f"{v:.3g}" for v in r["reports"]) or "-", cell(r["steps"]),
             cell(r["seconds"]), *(cell(r["params"].get(n)) for n in names),
             *(cell(r["final_losses"].get(k)) for k in losses)] for r in info["trials"]]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *body]]
    if any(r["baseline"] for r in info["trials"]):
        lines.append("* the shipped recipe")
    if info["best"] is not None:
        b = info["best"]
        lines.append(f"best: trial {b['trial']}, {key} {b[key]:.4g}, {json.dumps(b['params'])}")
    if info["baseline"] is not None and info["best"] is not None:
        lines.append(f"shipped recipe at the same budget: {key} {info['baseline'][key]:.4g}")
    for loss, c in info["loss_correlations"].items():
        rho = "n/a (too few trials)" if c["rho"] is None else f"{c['rho']:+.2f}"
        trials = f"{c['n']} completed trial{'s' if c['n'] != 1 else ''}"
        lines.append(f"Spearman rho between final {loss} and {key} over {trials}: {rho}")
    return "\n".join(lines)


__all__ = ["summary", "table", "loss_correlations", "spearman", "ranks"]
