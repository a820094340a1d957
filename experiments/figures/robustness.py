"""Robustness over a level space: the alpha-CVaR of the win rate against alpha (SFL's figure).
Host only; nothing is jittable.

The numbers are the ``cvar`` object that ``openued eval RUN --sample-levels N --cvar ...``
writes into ``RUN/eval.json`` (:func:`experiments.report.cvar_report`):

* :func:`load_cvar`: that object from a run directory, an ``eval.json`` file or a dict;
* :func:`plot_cvar`: win rate on the worst alpha share of the sampled levels against alpha
  (log scale), one line per run with its 95% interval over seeds;
* :func:`cvar_markdown`: the same numbers as a Markdown table (``openued plot --compare``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from experiments.figures.style import _wrap, style_axes


def load_cvar(source: Any) -> dict | None:
    """The ``cvar`` object of an evaluation: ``source`` is a run directory (its ``eval.json``),
    an ``eval.json`` path, a whole ``eval.json`` dict or the ``cvar`` object itself. ``None``
    when there is none (no ``eval.json``, or one evaluated without ``--sample-levels``)."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        path = path / "eval.json" if path.is_dir() else path
        if not path.is_file():
            return None
        source = json.loads(path.read_text())
    if not isinstance(source, Mapping):
        raise TypeError(f"load_cvar: expected a path or a dict, got {type(source).__name__}")
    if "by_alpha" in source:
        return dict(source)
    inner = source.get("cvar")
    return dict(inner) if isinstance(inner, Mapping) else None


def _pct(a: float) -> str:
    return f"{a * 100:g}%"


def _seeds_text(k: int) -> str:
    return f"n = {k} seed{'s' * (k != 1)}"


def plot_cvar(runs: Mapping[str, Any], *, title: str | None = None) -> Figure:
    """Win rate on the worst alpha share of the sampled levels against alpha, one line per run.

    ``runs``: ``{label: source of load_cvar}`` (runs without CVaR numbers are left out and
    named in the caption). Each point is the mean over the run's seeds of the win rate that the
    scoring rollouts give the worst ``ceil(alpha N)`` levels, as ranked by the selection
    rollouts; the band is its 95% Student-t interval over seeds, clipped to [0, 1] (none for one
    seed). alpha is on a log scale, labelled in percent; alpha = 100% is the mean win rate.
    Raises ``ValueError`` when no run has CVaR numbers."""
    data = [(lab, load_cvar(src)) for lab, src in runs.items()]
    missing = [lab for lab, c in data if c is None]
    data = [(lab, c) for lab, c in data if c is not None]
    if not data:
        raise ValueError("plot_cvar: no run has CVaR numbers (openued eval RUN --sample-levels N)")
    fig = Figure(figsize=(7.6, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ticks: set[float] = set()
    for i, (lab, c) in enumerate(data):
        rows = sorted(c["by_alpha"], key=lambda e: e["alpha"])
        x = np.array([e["alpha"] for e in rows], float)
        y = np.array([np.nan if e["win_rate"]["mean"] is None else e["win_rate"]["mean"]
                      for e in rows], float)  # fmt: skip
        lo = np.array([np.nan if e["win_rate"]["ci95"][0] is None else e["win_rate"]["ci95"][0]
                       for e in rows], float)  # fmt: skip
        hi = np.array([np.nan if e["win_rate"]["ci95"][1] is None else e["win_rate"]["ci95"][1]
                       for e in rows], float)  # fmt: skip
        ticks |= set(x.tolist())
        color = f"C{i % 10}"
        k, n = int(c["num_seeds"]), int(c["num_levels"])
        label = f"{_wrap(lab, 40)}\n({_seeds_text(k)}, {n} levels)"
        ax.plot(x, y, marker="o", ms=4, lw=1.8, color=color, label=label, zorder=3)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0, zorder=2)
    ax.set_xscale("log")
    style_axes(ax, title or "Robustness: win rate on the worst levels (\u03b1-CVaR)",
               "\u03b1: share of the sampled levels, worst first (log scale)",
               "win rate on the worst \u03b1 share of levels")  # fmt: skip
    ax.xaxis.set_major_locator(FixedLocator(sorted(ticks)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _pct(v)))
    lo_x, hi_x = min(ticks), max(ticks)
    pad = (hi_x / lo_x) ** 0.04 if hi_x > lo_x else 1.5
    ax.set_xlim(lo_x / pad, hi_x * pad)
    ax.set_ylim(-0.03, 1.03)
    # two-line labels (run; seeds and levels): legend_outside's wrapping would join the lines
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), borderaxespad=0.0, fontsize=7.5,
              frameon=False, title="run", title_fontsize=7.5, labelspacing=0.9)  # fmt: skip
    spaces = sorted({f"{c['space']} ({c['num_attempts']} "
                     f"attempt{'' if c['num_attempts'] == 1 else 's'} per level and key"
                     f"{', greedy' if c.get('greedy') else ''})" for _, c in data})  # fmt: skip
    ks = sorted({int(c["num_seeds"]) for _, c in data})
    foot = [
        "Each point: mean over seeds of the win rate on the worst ceil(\u03b1N) of N levels "
        "drawn from the level space, ranked by one set of rollouts and scored by independent "
        "rollouts with a second key (SFL's protocol: no selection bias); \u03b1 = 100% is the "
        "mean win rate. Band: 95% Student-t interval over seeds, clipped to [0, 1] "
        f"({_seeds_text(ks[0]) if len(ks) == 1 else 'n = ' + '/'.join(map(str, ks)) + ' seeds'}"
        "; one seed: no band).",
        "Levels: " + "; ".join(spaces) + ".",
    ]
    if len({(c["space"], c["num_levels"], c["seed"]) for _, c in data}) > 1:
        foot.append("The runs were scored on different level sets (space, N or --seed differ): "
                    "their curves are not paired.")  # fmt: skip
    if missing:
        foot.append("No CVaR numbers (not evaluated with --sample-levels): "
                    + ", ".join(missing) + ".")  # fmt: skip
    fig.supxlabel("\n".join(_wrap(f, 120) for f in foot), fontsize=7, color="0.35")
    return fig


def cvar_markdown(runs: Mapping[str, Any]) -> str:
    """The CVaR numbers of several runs as a Markdown table: one row per run, one column per
    alpha (mean over seeds with its 95% interval and n), and the mean win rate. Runs without
    CVaR numbers are left out; ``""`` when none has them."""
    data = [(lab, c) for lab, c in ((lab, load_cvar(s)) for lab, s in runs.items()) if c]
    if not data:
        return ""
    alphas = sorted({e["alpha"] for _, c in data for e in c["by_alpha"]})

    def cell(e: Mapping | None) -> str:
        if e is None or e["mean"] is None:
            return "n/a"
        lo, hi = e["ci95"]
        if lo is None:
            return f"{e['mean']:.3f} (n={e['n']}: no interval)"
        return f"{e['mean']:.3f} [{lo:.3f}, {hi:.3f}] (n={e['n']})"

    head = ["run", "levels", *(f"worst {_pct(a)}" for a in alphas), "mean"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lab, c in data:
        by = {e["alpha"]: e["win_rate"] for e in c["by_alpha"]}
        cells = [lab, f"{c['num_levels']} of {c['space']}"]
        cells += [cell(by.get(a)) for a in alphas] + [cell(c["mean_win_rate"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Win rate on the worst alpha share of N sampled levels (alpha-CVaR, SFL's "
              "protocol: ranked by one set of rollouts, scored by independent ones); mean over "
              "seeds with a 95% Student-t interval over seeds clipped to [0, 1] (one seed: "
              "none)."]  # fmt: skip
    return "\n".join(lines) + "\n"


__all__ = ["cvar_markdown", "load_cvar", "plot_cvar"]
