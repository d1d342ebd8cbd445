"""A study's pictures as plotly figures (the app shows them with ``gr.Plot``).

Optuna draws the optimisation history and the parameter importances; the third picture is the
source document's mistake measured: each completed trial's final loss against its quality, with
Spearman's rho in the title (``tune_report.loss_correlations``). Each function returns a figure even
when the study is too young for it (then the figure says so), so a live view can always show one.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .tune import METRICS
from .tune_report import spearman

if TYPE_CHECKING:
    import optuna
    import plotly.graph_objects as go

FIGURE_TEXT = {
    "history": "Optimisation history",
    "importance": "Parameter importances",
    "scatter": "Final {loss} against {metric}",
    "trial": "trial",
    "rho": "Spearman rho = {rho} over {n} trials",
    "too_few_history": "No finished trial yet.",
    "too_few_importance": "Parameter importances need two completed trials whose settings differ.",
    "too_few_scatter": "No completed trial has recorded its losses yet.",
    "trial_axis": "Trial", "best": "Best so far", "infeasible": "Infeasible trial", "parameter": "Setting", "importance_axis": "Importance",
}
"""The figures' English words; the app passes its own for other languages."""
HEIGHT = 360


def _empty(title: str, message: str) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title, height=HEIGHT)
    return fig


def _complete(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]


def history_figure(study: optuna.Study, *, text: dict[str, str] | None = None) -> go.Figure:
    """Each completed trial's quality and the best so far (``optuna.visualization.plot_optimization_history``)."""
    from optuna.visualization import plot_optimization_history

    words = {**FIGURE_TEXT, **(text or {})}
    if not _complete(study):
        return _empty(words["history"], words["too_few_history"])
    fig = plot_optimization_history(study, target_name=_label(study))
    fig.update_layout(title=words["history"], height=HEIGHT)
    fig.update_xaxes(title=words["trial_axis"])
    names = {"Best Value": words["best"], "Infeasible Trial": words["infeasible"]}  # Optuna's legend entries
    fig.for_each_trace(lambda trace: trace.update(name=names.get(trace.name, trace.name)))
    return fig


def importance_figure(study: optuna.Study, *, text: dict[str, str] | None = None) -> go.Figure:
    """How much each setting explains the quality (``optuna.visualization.plot_param_importances``,
    Optuna's default evaluator), once two completed trials differ in their settings."""
    from optuna.visualization import plot_param_importances

    words = {**FIGURE_TEXT, **(text or {})}
    done = _complete(study)
    if len(done) < 2 or len({repr(sorted(t.params.items())) for t in done}) < 2:
        return _empty(words["importance"], words["too_few_importance"])
    try:
        with warnings.catch_warnings():  # "importances will be equal" on a young study: the figure shows it
            warnings.simplefilter("ignore")
            fig = plot_param_importances(study, target_name=_label(study))
    except (RuntimeError, ValueError):  # every searched value alike among completed trials
        return _empty(words["importance"], words["too_few_importance"])
    fig.update_layout(title=words["importance"], height=HEIGHT)
    fig.update_xaxes(title=words["importance_axis"])
    fig.update_yaxes(title=words["parameter"])
    return fig


def loss_quality_figure(study: optuna.Study, *, loss: str | None = None,
                        text: dict[str, str] | None = None) -> go.Figure:
    """One point per completed trial: its final ``loss`` (default: G's, else the first recorded)
    against its quality, labelled with the trial number, Spearman's rho in the title."""
    import plotly.graph_objects as go

    words = {**FIGURE_TEXT, **(text or {})}
    done = [t for t in _complete(study) if t.user_attrs.get("final_losses")]
    keys = sorted({k for t in done for k in t.user_attrs["final_losses"]})
    loss = loss or ("loss_g" if "loss_g" in keys else (keys[0] if keys else "loss"))
    title = words["scatter"].format(loss=loss, metric=_label(study))
    points = [(t.user_attrs["final_losses"][loss], t.value, t.number) for t in done
              if loss in t.user_attrs["final_losses"]]
    if not points:
        return _empty(title, words["too_few_scatter"])
    rho = spearman([p[0] for p in points], [p[1] for p in points])
    shown = "n/a" if rho is None else f"{rho:+.2f}"
    xs = [p[0] for p in points]
    fig = go.Figure(go.Scatter(x=xs, y=[p[1] for p in points], mode="markers+text",
                               text=[f"{words['trial']} {p[2]}" for p in points],
                               textposition=[_inward(x, min(xs), max(xs)) for x in xs],
                               cliponaxis=False, marker={"size": 10}))  # a name may reach into the margin, uncut
    fig.update_layout(title=f"{title}<br><sub>{words['rho'].format(rho=shown, n=len(points))}</sub>",
                      xaxis_title=loss, yaxis_title=_label(study), height=HEIGHT, showlegend=False)
    return fig


def _inward(x: float, lo: float, hi: float) -> str:
    """A point's name leans towards the middle when the point is the leftmost or rightmost third
    of ``lo``..``hi``, so that it is not cut off by the panel's border at a projector's width."""
    where = (x - lo) / (hi - lo) if hi > lo else 0.5
    return "top left" if where > 2 / 3 else "top right" if where < 1 / 3 else "top center"


def _label(study: optuna.Study) -> str:
    return METRICS[study.user_attrs.get("metric") or "fd"].label


def figures(study: optuna.Study, *, text: dict[str, str] | None = None) -> tuple[Any, Any, Any]:
    """(history, importances, loss against quality) for ``study``."""
    return (history_figure(study, text=text), importance_figure(study, text=text),
            loss_quality_figure(study, text=text))


__all__ = ["FIGURE_TEXT", "history_figure", "importance_figure", "loss_quality_figure", "figures"]
