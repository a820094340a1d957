"""Figures of synthetic environments meta-learned with ES. Host only; nothing is jittable.

* :func:`plot_synth_meta_training`: population mean and best fitness and the ES mean against
  generation, with the inner learner of every generation;
* :func:`plot_synth_reward_map`: the synthetic reward over two named state dimensions, one
  panel per action (and their difference with two actions);
* :func:`plot_synth_initial_states`: the synthetic initial states against the states the real
  environment visits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from experiments.figures.names import state_names
from experiments.figures.style import _caption, _wrap, draw_series, legend_outside, style_axes


def plot_synth_meta_training(
    rows: Sequence[Mapping],
    *,
    target: str | None = None,
    kind: str | None = None,
    title: str | None = None,
) -> Figure:
    """Synthetic-environment meta-training: population mean and best fitness (return on the
    real environment of agents trained in the synthetic one) and the ES mean, against
    generation, with the inner learner of every generation shown (``learner`` in the rows):
    a coloured strip under the curves, one colour per learner, and markers of the population
    mean coloured by learner when generations alternate between learners."""
    gens = [r for r in rows if "fitness_mean" in r]
    fig = Figure(figsize=(8.4, 4.8), layout="constrained")
    ax, strip = fig.subplots(2, 1, sharex=True, height_ratios=[6, 1])
    g = np.array([r["generation"] for r in gens], float)
    smoothed = draw_series(ax, g, np.array([r["fitness_mean"] for r in gens], float),
                           label="population mean")["smoothed"]  # fmt: skip
    smoothed |= draw_series(ax, g, np.array([r.get("fitness_best", np.nan) for r in gens], float),
                            label="population best")["smoothed"]  # fmt: skip
    mean_recs = [r for r in rows if r.get("mean_fitness") is not None]
    if mean_recs:
        mx = np.array([r["generation"] for r in mean_recs], float)
        my = np.array([r["mean_fitness"] for r in mean_recs], float)
        ax.plot(mx, my, "s-", ms=3.5, color="C2", label="ES mean")
        g0 = [r for r in mean_recs if r["generation"] == 0]
        if g0:
            ax.axhline(g0[0]["mean_fitness"], ls="--", c="0.5", lw=1, label="generation 0")
    learners = [r.get("learner") for r in gens]
    names = sorted({str(lr) for lr in learners if lr is not None})
    style_axes(ax, None, None, f"return on real {target}" if target else "return")
    if names:
        cmap = {nm: f"C{(i + 4) % 10}" for i, nm in enumerate(names)}
        for gi, lr in zip(g, learners, strict=True):
            if lr is not None:
                strip.axvspan(gi - 0.5, gi + 0.5, color=cmap[str(lr)], lw=0)
        if len(names) > 1:
            y = np.array([r["fitness_mean"] for r in gens], float)
            for nm in names:
                sel = np.array([str(lr) == nm for lr in learners])
                ax.plot(g[sel], y[sel], "o", ms=3.5, color=cmap[nm], zorder=4,
                        label=f"learner: {nm}")  # fmt: skip
        handles = [strip.fill_between([], [], color=cmap[nm], label=nm) for nm in names]
        strip.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
                     frameon=False)  # fmt: skip
    else:
        strip.text(0.5, 0.5, "learner not recorded", ha="center", va="center", fontsize=8,
                   transform=strip.transAxes)  # fmt: skip
    strip.set_yticks([])
    strip.set_ylabel("inner\nlearner", fontsize=8, rotation=0, ha="right", va="center")
    style_axes(strip, None, "generation", None)
    strip.grid(False)
    strip.xaxis.set_major_locator(MaxNLocator(integer=True))
    legend_outside(ax)
    what = (
        f"synthetic {({'scb': 'contextual bandit (SCB)', 'mdp': 'MDP'}).get(kind, kind)}"
        if kind
        else "synthetic environment"
    )
    fig.suptitle(title or f"Meta-training a {what}" + (f" for {target}" if target else ""),
                 fontsize=12)  # fmt: skip
    foot = "one ES run (no seed interval)"
    if smoothed:
        foot += ("; bold: trailing (causal) exponential moving average, which lags the data; "
                 "faint: unsmoothed")  # fmt: skip
    _caption(fig, _wrap(foot, 120))
    return fig


def plot_synth_reward_map(
    xs: Any,
    ys: Any,
    rewards: Mapping[str, Any],
    *,
    dims: tuple[int, int],
    target: str | None = None,
    obs_dim: int | None = None,
    title: str | None = None,
) -> Figure:
    """The synthetic reward over two state dimensions (the others held at the mean initial
    state), one panel per action. ``xs`` (nx,), ``ys`` (ny,); ``rewards``: ``{action label:
    (ny, nx)}``; ``dims``: the two dimensions shown (named from the target's registered state names). One
    shared, zero-centred colour scale. With two actions a last panel shows their difference
    (second minus first, its own scale): where the learned reward prefers which action, which
    is what a greedy one-step learner of a contextual bandit follows."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    names = state_names(target, obs_dim or max(dims) + 1)
    items = [(str(k), np.asarray(v, float)) for k, v in rewards.items()]
    vmax = max((np.nanmax(np.abs(v)) for _, v in items), default=1.0) or 1.0
    diff = len(items) == 2
    n = len(items) + diff
    fig = Figure(figsize=(4.2 * n + 1.0 + diff, 3.8), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    im = None
    for ax, (lab, r) in zip(axes, items, strict=False):
        im = ax.contourf(xs, ys, r, levels=np.linspace(-vmax, vmax, 21), cmap="RdBu_r")
        style_axes(ax, f"action {lab}", names[dims[0]], names[dims[1]])
        ax.grid(False)
    cb = fig.colorbar(im, ax=list(axes[: len(items)]), pad=0.01)
    cb.set_label("synthetic reward", fontsize=9)
    if diff:
        (la, ra), (lb, rb) = items
        d = rb - ra
        dmax = float(np.nanmax(np.abs(d))) or 1.0
        ax = axes[-1]
        imd = ax.contourf(xs, ys, d, levels=np.linspace(-dmax, dmax, 21), cmap="PuOr_r")
        ax.contour(xs, ys, d, levels=[0.0], colors="k", linewidths=1.0)
        style_axes(ax, f"preference: {lb} minus {la}", names[dims[0]], names[dims[1]])
        ax.grid(False)
        cbd = fig.colorbar(imd, ax=ax, pad=0.01)
        cbd.set_label("reward difference (black: 0)", fontsize=9)
    fig.suptitle(title or f"Synthetic reward{' for ' + target if target else ''}: "
                 f"{names[dims[0]]} vs {names[dims[1]]}", fontsize=12)  # fmt: skip
    _caption(fig, "other state dimensions held at the mean synthetic initial state",
             ha="center", va="bottom", fontsize=8, color="0.35")  # fmt: skip
    return fig


def plot_synth_initial_states(
    real_states: Any,
    init_states: Any,
    *,
    dims: tuple[int, int],
    target: str | None = None,
    title: str | None = None,
) -> Figure:
    """Initial states of the synthetic environment against the states the real environment
    visits under a random policy, on two named state dimensions."""
    rs, ins = np.asarray(real_states, float), np.asarray(init_states, float)
    names = state_names(target, rs.shape[-1])
    fig = Figure(figsize=(7.6, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.scatter(rs[:, dims[0]], rs[:, dims[1]], s=4, alpha=0.3, color="C0",
               label=f"real {target or 'env'}, random policy (n={len(rs)})")  # fmt: skip
    ax.scatter(ins[:, dims[0]], ins[:, dims[1]], s=4, alpha=0.5, color="C1",
               label=f"synthetic initial states (n={len(ins)})")  # fmt: skip
    style_axes(ax, None, names[dims[0]], names[dims[1]])
    leg = legend_outside(ax)
    for h in leg.legend_handles:
        h.set_sizes([30])  # the points are 4 px: the legend's markers would be invisible
    fig.suptitle(title or "Synthetic initial states vs real visited states", fontsize=12)
    _caption(fig, "states in the normalised observation space (meta.targets)",
             ha="center", va="bottom", fontsize=8, color="0.35")  # fmt: skip
    return fig


__all__ = ["plot_synth_initial_states", "plot_synth_meta_training", "plot_synth_reward_map"]
