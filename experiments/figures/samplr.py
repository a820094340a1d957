"""Figures of the SAMPLR experiment: what each method trains on and stores, against the
ground-truth prior of the aleatoric parameter, and its training return. Host only; nothing is
jittable.

* :func:`samplr_run_data`: one run's series for the figure, from its metrics (and, when given,
  its buffer at the end of the run);
* :func:`plot_samplr_runs`: one figure per environment, every method of that environment in it,
  each method in the same colour (:data:`METHOD_COLORS`) in every panel and every figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.figures.style import (
    _caption,
    _seed_note,
    _seeds,
    _wrap,
    _x_axis,
    draw_series,
    load_metrics,
    reference_line,
    style_axes,
)

# one colour per method, the same in every panel and in every SAMPLR figure
METHOD_COLORS = {"dr": "C0", "robust-plr": "C1", "samplr": "C2"}
# env -> (the prior's mean of the aleatoric parameter, its name, what it is on that maze)
PRIORS = {
    "gamble-maze": (0.25, "P(pay) = 0.25", "share of levels whose coin pays"),
    "lava-maze": (0.2, "Beta(2, 8), mean 0.2", "mean theta (slip probability)"),
}


def method_color(method: str, i: int = 0) -> str:
    """The colour of ``method`` (:data:`METHOD_COLORS`; others ``C3``, ``C4``, ... by
    ``i``)."""
    return METHOD_COLORS.get(method, f"C{3 + i % 7}")


def samplr_run_data(metrics: Any, method: str, buffer: Mapping[str, Any] | None = None) -> dict:
    """One run's data for :func:`plot_samplr_runs` from its metrics (a run directory, rows or
    columns): ``x`` env steps (T,), ``returns`` (T, K) mean training episode return,
    ``trained`` (T, K) the aleatoric parameter averaged over the levels trained on
    (``cur/aleatoric/trained``; NaN where the update did not train), ``buffer_mean`` (T, K) its
    mean over the stored levels (``cur/aleatoric/buffer``; absent for DR or when not logged).
    ``buffer``: ``{"values": (S, N), "filled": (S, N)}`` of the buffer at the end (from a
    checkpoint), optional."""
    m = load_metrics(metrics)
    x, _ = _x_axis(m)
    out: dict[str, Any] = {"method": method, "x": x}
    if "rollout/return" in m:
        out["returns"] = _seeds(m["rollout/return"])
    if "cur/aleatoric/trained" in m:
        tr = _seeds(m["cur/aleatoric/trained"])
        if "trained" in m and _seeds(m["trained"]).shape == tr.shape:
            tr = np.where(_seeds(m["trained"]) > 0, tr, np.nan)
        out["trained"] = tr
    if "cur/aleatoric/buffer" in m and np.isfinite(m["cur/aleatoric/buffer"]).any():
        out["buffer_mean"] = _seeds(m["cur/aleatoric/buffer"])
    if buffer is not None:
        out["buffer_values"] = np.asarray(buffer["values"], np.float64)
        out["buffer_filled"] = np.asarray(buffer["filled"], bool)
    return out


def _panels(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    have = {k for r in runs for k in ("returns", "trained", "buffer_mean", "buffer_values")
            if r.get(k) is not None}  # fmt: skip
    return [k for k in ("returns", "trained", "buffer_mean", "buffer_values") if k in have]


def plot_samplr_runs(env: str, runs: Sequence[Mapping[str, Any]], *, note: str = "") -> Figure:
    """The methods of one aleatoric maze side by side, each in its colour
    (:func:`method_color`) in every panel, mean over seeds with a 95% bootstrap band:

    * training return against env steps;
    * levels trained on: the aleatoric parameter averaged over the levels each update trained
      on, weighted by the episodes finished on each (on ``gamble-maze`` the share whose coin
      pays; on the lava maze the mean theta) against the prior's mean (dashed); the bias SAMPLR
      removes shows here;
    * levels stored: the same average over the buffer's levels (methods with a buffer);
    * the buffer at the end, when a run gives it: on ``gamble-maze`` the share of stored levels
      that pay (bar pooled over seeds, a dot per seed), on the lava maze the density of theta
      over the stored levels against Beta(2, 8).

    ``runs``: :func:`samplr_run_data` of each run (``method``, ``x`` (T,), ``returns``,
    ``trained``, ``buffer_mean`` (T,) or (T, K), ``buffer_values`` / ``buffer_filled`` (S, N));
    a panel is drawn only when some run has its data. ``note``: a line added to the caption
    (e.g. where the metrics come from). Host only."""
    prior, prior_name, pname = PRIORS.get(env, (None, "", "aleatoric parameter"))
    kinds = _panels(runs)
    fig = Figure(figsize=(4.3 * max(len(kinds), 1) + 1.6, 4.1), layout="constrained")
    axes = fig.subplots(1, max(len(kinds), 1), squeeze=False)[0]
    seeds, smoothed, methods = set(), False, []
    for ax, kind in zip(axes, kinds, strict=False):
        bars = []
        for i, r in enumerate(runs):
            color = method_color(r["method"], i)
            if r["method"] not in methods:
                methods.append(r["method"])
            y = r.get(kind)
            if y is None:
                continue
            if kind == "buffer_values":
                bars.append(r["method"])
                _final_buffer(ax, env, r, color, len(bars) - 1)
                continue
            info = draw_series(ax, np.asarray(r["x"], np.float64), y, color=color)
            seeds.add(info["seeds"])
            smoothed |= info["smoothed"]
        if kind == "returns":
            style_axes(ax, "Training return", "env steps", "mean episode return")
        elif kind == "buffer_values":
            _final_buffer_axes(ax, env, bars, prior, prior_name)
        else:
            what = ("Levels trained on (per finished episode)" if kind == "trained"
                    else "Levels stored in the buffer")  # fmt: skip
            style_axes(ax, f"{what}\nvs the prior", "env steps", pname)
            if env == "gamble-maze":
                ax.set_ylim(-0.03, 1.03)
            if prior is not None:
                reference_line(ax, prior, f"prior: {prior_name}")
    handles = [Line2D([], [], color=method_color(mt, i), lw=2) for i, mt in enumerate(methods)]
    labels = list(methods)
    if prior is not None:
        handles.append(Line2D([], [], color="0.3", ls="--", lw=1.1))
        labels.append(f"ground-truth prior\n{prior_name}")
    fig.legend(handles, labels, loc="outside right center", fontsize=8, title="method",
               title_fontsize=8)  # fmt: skip
    k = "/".join(str(n) for n in sorted(seeds)) or "1"
    fig.suptitle(f"{env}: {', '.join(methods)}", fontsize=12)
    foot = [_seed_note(k, smoothed)]
    no_buffer = [r["method"] for r in runs if r.get("buffer_mean") is None]
    if "buffer_mean" in kinds and no_buffer:
        foot.append("no buffer (nothing stored): " + ", ".join(no_buffer))
    if note:
        foot.append(note)
    _caption(fig, "\n".join(_wrap(f, 55 * max(len(kinds), 2)) for f in foot))
    return fig


def _final_buffer(ax, env: str, r: Mapping[str, Any], color: str, nb: int) -> None:
    vals = np.asarray(r["buffer_values"], np.float64)
    filled = np.asarray(r["buffer_filled"], bool)
    vals, filled = vals.reshape(-1, vals.shape[-1]), filled.reshape(-1, filled.shape[-1])
    if env == "gamble-maze":
        # a two-valued parameter: the share of stored levels that pay, pooled over seeds (bar)
        # and per seed (dots)
        per_seed = [v[f].mean() for v, f in zip(vals, filled, strict=True) if f.any()]
        ax.bar(nb, vals[filled].mean(), width=0.6, color=color, alpha=0.75)
        ax.plot(np.full(len(per_seed), nb), per_seed, "o", color="k", ms=4)
    else:
        ax.hist(vals[filled], bins=np.linspace(0, 1, 26), density=True, histtype="step",
                color=color, lw=1.8)  # fmt: skip


def _final_buffer_axes(ax, env: str, bars: list[str], prior, prior_name: str) -> None:
    if env == "gamble-maze":
        style_axes(ax, "Buffer at the end of the run", "level buffer (black dots: one seed each)",
                   "share of stored levels whose coin pays")  # fmt: skip
        ax.set_xticks(range(len(bars)), bars)
        ax.set_xlim(-0.6, max(len(bars), 2) - 0.4)
        ax.set_ylim(0, 1)
        reference_line(ax, prior, f"prior: {prior_name}")
    else:
        from scipy import stats

        t = np.linspace(0, 1, 200)
        ax.plot(t, stats.beta.pdf(t, 2, 8), "--", color="0.3", lw=1.1)
        style_axes(ax, "Buffer at the end of the run (seeds pooled)",
                   "theta (slip probability)", "density over the stored levels")  # fmt: skip


__all__ = ["METHOD_COLORS", "method_color", "plot_samplr_runs", "samplr_run_data"]
