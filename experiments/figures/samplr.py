"""Figures of the SAMPLR experiment: training return of each method and the aleatoric
parameter of the levels its buffer holds, against the ground-truth prior. Host only; nothing is
jittable.

* :func:`plot_samplr_runs`: one figure per environment, every method of that environment in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from experiments.figures.style import _note, draw_series, style_axes


def plot_samplr_runs(env: str, runs: Sequence[Mapping[str, Any]]) -> Figure:
    """Left: the training return of each run against env steps (mean over seeds with its 95%
    bootstrap band). Right: the aleatoric parameter of the levels each run's buffer holds
    against the ground-truth prior: on ``gamble-maze`` the share of stored levels whose coin
    pays (a bar pooled over seeds, a dot per seed) against P(pay) = 0.25; on the lava maze the
    density of theta (the slip probability) over the stored levels against Beta(2, 8).

    ``runs``: one mapping per run, drawn in colour ``C<i>``: ``method`` (the curriculum's
    name), ``x`` (T,) env steps, ``returns`` (T,) or (T, K) mean episode return,
    ``buffer_values`` (S, N) the aleatoric parameter (coin or theta) of the N slots of each of
    the S seeds' buffers with ``buffer_filled`` (S, N) bool, both absent or ``None`` for a
    method that keeps no buffer (DR). Host only."""
    fig = Figure(figsize=(11, 4.0))
    ax = fig.subplots(1, 2)
    seeds, bars = set(), []
    for i, r in enumerate(runs):
        y = np.asarray(r["returns"], np.float64)
        y = y.reshape(y.shape[0], -1)
        seeds.add(y.shape[1])
        name = r["method"]
        draw_series(ax[0], np.asarray(r["x"], np.float64), y, label=name, color=f"C{i}")
        if r.get("buffer_values") is None:
            continue
        vals = np.asarray(r["buffer_values"], np.float64)
        filled = np.asarray(r["buffer_filled"], bool)
        vals, filled = vals.reshape(-1, vals.shape[-1]), filled.reshape(-1, filled.shape[-1])
        if env == "gamble-maze":
            # a two-valued parameter: the share of stored levels that pay, pooled over seeds
            # (bar) and per seed (dots)
            per_seed = [v[f].mean() for v, f in zip(vals, filled, strict=True) if f.any()]
            nb = len(bars)
            ax[1].bar(nb, vals[filled].mean(), width=0.6, color=f"C{i}", alpha=0.75)
            ax[1].plot(np.full(len(per_seed), nb), per_seed, "o", color="k", ms=4,
                       label="one seed" if nb == 0 else None)  # fmt: skip
            bars.append(f"{name} buffer")
        else:
            ax[1].hist(vals[filled], bins=np.linspace(0, 1, 26), density=True,
                       histtype="step", color=f"C{i}", lw=1.8, label=f"{name} buffer")  # fmt: skip
    if env == "gamble-maze":
        ax[1].axhline(0.25, ls="--", color="0.3", label="ground-truth prior P(pay) = 0.25")
        ax[1].set_xticks(range(len(bars)), bars)
        ax[1].set_xlim(-0.6, max(len(bars), 2) - 0.4)
        ax[1].set_ylim(0, 1)
        ax[1].set_ylabel("share of stored levels whose coin pays")
        ax[1].set_xlabel("level buffer")
    else:
        from scipy import stats

        t = np.linspace(0, 1, 200)
        ax[1].plot(t, stats.beta.pdf(t, 2, 8), "--", color="0.4", label="prior Beta(2, 8)")
        ax[1].set_xlabel("theta (slip probability)")
        ax[1].set_ylabel("density over the stored levels")
    style_axes(ax[0], "Training return", "env steps", "mean episode return")
    for a in ax:
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8)
        elif a is ax[0]:
            _note(a, "no finished training episode recorded")
    ax[1].set_title("Aleatoric parameter of the buffer's levels vs the prior")
    k = "/".join(str(n) for n in sorted(seeds))
    fig.suptitle(f"{env}: {k} seeds per method (curves: mean over seeds, 95% band; "
                 "buffer: newest checkpoint)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return fig


__all__ = ["plot_samplr_runs"]
