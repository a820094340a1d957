"""Learning curves of one run against env steps, the panel drawer that learning curves,
comparisons and PAIRED's curves share, and the solve rate per evaluation level. Host only;
nothing is jittable.

* :func:`plot_learning_curves`: training return and solve rate, evaluation solve rates, PPO loss
  and entropy, episode length (:data:`LEARNING_PANELS`), or any panels given;
* :func:`plot_per_level_solve_rate`: solve rate per evaluation level at the last evaluation
  (:func:`final_level_scores`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from experiments.figures.style import (
    _caption,
    _flat_limits,
    _new_figure,
    _note,
    _runs,
    _same,
    _seed_note,
    _seeds,
    _si,
    _wrap,
    _x_axis,
    draw_series,
    legend_outside,
    load_metrics,
    num_seeds,
    reference_line,
    style_axes,
    title_note,
)

# (panel title, y label, [(metric key, series label)], y in [0, 1])
LEARNING_PANELS: list[tuple[str, str, list[tuple[str, str]], bool]] = [
    ("Training episodes: return", "mean episode return", [("rollout/return", "return")], False),
    (
        "Training episodes: solved and finished",
        "share",
        # the solve rate counts finished episodes only: never drawn without the finished share
        [("rollout/solve_rate", "solved / finished"),
         ("rollout/finished_share", "finished inside a rollout")],
        True,
    ),  # fmt: skip
    (
        "Evaluation: solve rate",
        "solve rate",
        [("eval/prefab_solve_rate", "prefab mazes"), ("eval/validation_solve_rate", "validation")],
        True,
    ),
    (
        "Training episodes: length",
        "steps per episode",
        [("rollout/episode_length", "length")],
        False,
    ),  # fmt: skip
    ("PPO loss", "loss", [("ppo/loss", "total loss")], False),
    ("Policy entropy", "entropy (nats)", [("ppo/entropy", "student")], False),
]


ENTROPY_PANEL = "Policy entropy"


def uniform_entropy(num_actions: int) -> tuple[float, str]:
    """``(ln n, label)``: the entropy of the uniform policy over ``n`` discrete actions, the
    most a policy's entropy can be (the reference an entropy panel is read against)."""
    n = int(num_actions)
    return math.log(n), f"uniform over the {n} actions: ln {n} = {math.log(n):.3f}"


def _trained_only(m: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    v = _seeds(m[key])
    if key.startswith("ppo/") and "trained" in m:
        t = _seeds(m["trained"])
        if t.shape == v.shape or t.shape[1] == 1:
            v = np.where(t > 0, v, np.nan)  # updates that skipped the gradient step have no loss
    return v


def panels_with_data(
    runs: list[tuple[str, dict]], panels: Sequence[tuple[str, str, list[tuple[str, str]], bool]]
) -> tuple[list, list[str]]:
    """``(panels some run has a finite value for, titles of the others)``: a figure draws the
    first and names the second in its caption, instead of drawing empty panels."""
    kept, missing = [], []
    for p in panels:
        has = any(
            key in m and np.isfinite(_trained_only(m, key)).any()
            for _, m in runs
            for key, _ in p[2]
        )
        (kept if has else missing).append(p if has else p[0])
    return kept, missing


def without_unpaired_solve_rate(runs: list[tuple[str, dict]]) -> tuple[list, list[str]]:
    """``(runs, notes)``: ``runs`` with ``rollout/solve_rate`` dropped from every run that did
    not record ``rollout/finished_share``, and the caption note that says so (none: empty).
    The rate counts finished episodes only, so alone it reads 1.0 when rollouts are shorter than
    the episodes they cut."""
    out, dropped = [], False
    for lab, m in runs:
        if "rollout/solve_rate" in m and "rollout/finished_share" not in m:
            m, dropped = {k: v for k, v in m.items() if k != "rollout/solve_rate"}, True
        out.append((lab, m))
    note = ("training solve rate left out: the run did not record the share of episodes that "
            "finish inside a rollout, which the rate counts alone")  # fmt: skip
    return out, [note] if dropped else []


def _draw_panels(
    fig_axes,
    runs: list[tuple[str, dict]],
    panels: Sequence[tuple[str, str, list[tuple[str, str]], bool]],
    smoothing: float | None,
    references: Mapping[str, tuple[float, str]] | None = None,
    legends: bool = True,
) -> dict:
    """Draw ``panels`` of ``runs`` on their axes. ``references``: ``{panel title: (value,
    label)}`` drawn as dashed lines. Returns what the caption must say: ``{"smoothed": any
    curve smoothed, "single": ["<series> at <x>"] for series of one point beside curves,
    "once": {panel title: x} for panels whose every series is one point at the same x}``."""
    multi = len(runs) > 1
    colors = [f"C{i % 10}" for i in range(len(runs))]
    styles = ["-", "--", ":", "-."]
    out: dict[str, Any] = {"smoothed": False, "single": [], "once": {}}
    for ax, (title, ylabel, series, unit) in fig_axes:
        drawn, vals, points = 0, [], []
        xlabel = None
        for ri, (rlab, m) in enumerate(runs):
            x, xlabel = _x_axis(m)
            seen: list[tuple[np.ndarray, Any]] = []  # this run's drawn series and their lines
            for si, (key, slab) in enumerate(series):
                if key not in m:
                    continue
                lab = f"{rlab}: {slab}" if multi and len(series) > 1 else rlab if multi else slab
                y = _trained_only(m, key)
                twin = next((ln for v, ln in seen if _same(_seeds(y), v)), None)
                if twin is not None:  # the same numbers under another name: one line, both names
                    twin.set_label(f"{twin.get_label()} = {slab}")
                    continue
                color = colors[ri] if multi else f"C{si}"
                # the first run widest, the last on top narrowest: equal curves stay visible
                width = 1.0 + 0.5 * (len(runs) - 1 - ri) if multi else 1.0
                info = draw_series(ax, x, y, label=lab, color=color, smoothing=smoothing,
                                   dodge=ri - (len(runs) - 1) / 2, width=width)  # fmt: skip
                if info["points"] == 0:
                    continue
                seen.append((_seeds(y), info["line"]))
                if multi and len(series) > 1 and info["line"] is not None:
                    info["line"].set_linestyle(styles[si % len(styles)])
                drawn += 1
                out["smoothed"] |= info["smoothed"]
                vals.append(info["values"])
                points.append((lab, info["points"], float(info["x"][0])))
        style_axes(ax, title, xlabel, ylabel)
        ref = (references or {}).get(title)
        if ref is not None:
            reference_line(ax, *ref)
            vals.append(np.asarray([ref[0]], float))
        single_x = {x0 for _, n, x0 in points if n == 1}
        if drawn and all(n == 1 for _, n, _ in points) and len(single_x) == 1:
            # every series is one point at the same step: there is no training axis here, only
            # the runs side by side (dodged); the step is said in the axis label
            (x0,) = single_x
            half = (len(runs) / 2 + 0.5) * 0.01 * max(abs(x0), 1.0)
            ax.set_xlim(x0 - half, x0 + half)
            ax.set_xticks([])
            ax.set_xlabel(f"evaluated once, after {_si(x0)} {xlabel}", fontsize=9)
            out["once"][title] = x0
        else:
            for lab, n, x0 in points:
                what = f"{lab}, {title.lower()}" if lab else title.lower()
                if n == 1 and f"{what} (at {_si(x0)} {xlabel})" not in out["single"]:
                    out["single"].append(f"{what} (at {_si(x0)} {xlabel})")
        allv = np.concatenate(vals) if vals else np.zeros(0)
        note = _flat_limits(ax, allv, unit)
        if unit and note is None:
            ax.set_ylim(-0.03, 1.03)
        title_note(ax, note)
        several = drawn > 1 or len(series) > 1 or ref is not None
        if legends and several:  # a panel of several series names even a lone one
            legend_outside(ax)
    return out


def plot_learning_curves(
    metrics: Any,
    *,
    label: str | None = None,
    title: str | None = None,
    smoothing: float | None = None,
    panels: Sequence[tuple[str, str, list[tuple[str, str]], bool]] | None = None,
    references: Mapping[str, tuple[float, str]] | None = None,
    num_actions: int | None = None,
) -> Figure:
    """Learning curves of one run against env steps: training return, solve rate and episode
    length, evaluation solve rate (prefab and validation), PPO loss (updates that trained
    only) and policy entropy. ``metrics``: a run directory, metric rows or columns.
    ``smoothing``: EMA weight in [0, 1) (``None``: by the number of points; 0: none).
    ``references``: ``{panel title: (value, label)}``, dashed lines that give a zoomed panel
    its scale; ``num_actions``: the student's discrete actions, whose uniform entropy
    (:func:`uniform_entropy`) the entropy panel then shows. Panels whose metrics the run does
    not have are left out and named in the caption. Returns the Figure."""
    if num_actions:
        references = {ENTROPY_PANEL: uniform_entropy(num_actions), **(references or {})}
    runs = _runs(metrics, [label] if label else None)
    runs, notes = without_unpaired_solve_rate(runs)
    panels, missing = panels_with_data(runs, LEARNING_PANELS if panels is None else panels)
    lab, m = runs[0]
    fig, axes = _new_figure(max(len(panels), 1), 3)
    info = _draw_panels(list(zip(axes, panels, strict=False)), runs, panels, smoothing,
                        references)  # fmt: skip
    if not panels:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "no learning curves recorded in this run", ha="center",
                     va="center", transform=axes[0].transAxes)  # fmt: skip
    fig.suptitle(title or f"Learning curves: {lab}", fontsize=12)
    foot = [_seed_note(num_seeds(m), info["smoothed"]), *notes[:1]]
    if info["single"]:
        foot.append("one value only: " + "; ".join(info["single"]))
    if missing:
        foot.append("not recorded in this run: " + ", ".join(t.lower() for t in missing))
    _caption(fig, "\n".join(_wrap(f, 170) for f in foot))
    return fig


# ----------------------------------------------------------------------------- per level


def final_level_scores(
    metrics: Any, prefix: str = "eval/prefab/"
) -> tuple[list[str], np.ndarray, float | None]:
    """``(level names, solve rates (K, L), unit)`` at the last row where the per-level
    evaluation columns ``<prefix><name>`` have a value; ``([], (K, 0), None)`` without them."""
    m = load_metrics(metrics)
    keys = [k for k in m if k.startswith(prefix)]
    if not keys:
        return [], np.zeros((1, 0)), None
    stack = np.stack([_seeds(m[k]) for k in keys], axis=-1)  # (T, K, L)
    ok = np.nonzero(~np.all(np.isnan(stack), axis=(1, 2)))[0]
    if not len(ok):
        return [k[len(prefix) :] for k in keys], np.full(stack.shape[1:], np.nan), None
    r = ok[-1]
    unit = None
    for uk in ("update", "generation"):
        if uk in m:
            unit = float(np.nanmax(_seeds(m[uk])[r]))
            break
    return [k[len(prefix) :] for k in keys], stack[r], unit


def plot_per_level_solve_rate(
    metrics: Any = None,
    *,
    names: Sequence[str] | None = None,
    values: Any = None,
    title: str | None = None,
    unit: float | None = None,
    set_name: str = "prefab mazes",
) -> Figure:
    """Bars of the solve rate per evaluation level at the last evaluation (mean over seeds,
    one dot per seed, the value printed on each bar, a dashed line at the mean over levels).
    Either ``metrics`` (columns ``eval/prefab/<name>``) or ``names`` and ``values`` (L,) or
    (K, L). When every value is 0 the panel says "all 0" (an empty-looking chart is not a
    bug). Returns the Figure."""
    if values is None:
        names, vals, unit = final_level_scores(metrics)
    else:
        vals = np.asarray(values, float)
        vals = vals[None] if vals.ndim == 1 else vals
        names = list(names) if names is not None else [f"level {i}" for i in range(vals.shape[1])]
    k, n = vals.shape[0], len(names)
    fig = Figure(figsize=(max(6.0, 0.85 * n + 2), 4.0), layout="constrained")
    ax = fig.subplots()
    at = f" at update {int(unit)}" if unit is not None else ""
    seeds = f"mean over {k} seeds, dots: seeds" if k > 1 else "1 seed"
    fig.suptitle(title or f"Solve rate per level, {set_name}{at}", fontsize=12)
    style_axes(ax, seeds, "evaluation level", "solve rate")
    ax.set_ylim(0, 1.12)
    if n == 0:
        _note(ax, "no per-level evaluation recorded")
        ax.set_xticks([])
        return fig
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(vals, 0) if np.isfinite(vals).any() else np.full(n, np.nan)
    xs = np.arange(n)
    ax.bar(xs, np.nan_to_num(mean), color="C0", alpha=0.8, width=0.7)
    if k > 1:
        for s in range(k):
            jitter = (s - (k - 1) / 2) * min(0.5 / k, 0.12)
            ax.plot(xs + jitter, vals[s], "o", ms=3.5, color="black", alpha=0.6, zorder=3)
    for xi, v in zip(xs, mean, strict=True):
        ax.text(xi, (0 if not np.isfinite(v) else v) + 0.02, f"{v:.2f}" if np.isfinite(v) else "n/a",
                ha="center", va="bottom", fontsize=8)  # fmt: skip
    fin = mean[np.isfinite(mean)]
    if fin.size:
        mu = float(fin.mean())
        ax.axhline(mu, ls="--", lw=1, color="C3", label=f"mean over levels: {mu:.3f}")
        legend_outside(ax)
    if fin.size and np.all(fin == 0):
        title_note(ax, f"all 0: no level solved in any attempt{at}")
    elif fin.size and np.all(fin == 1):
        title_note(ax, f"all 1: every level solved in every attempt{at}")
    ax.set_xticks(xs, names, rotation=30, ha="right", fontsize=8)
    return fig


__all__ = [
    "ENTROPY_PANEL",
    "LEARNING_PANELS",
    "final_level_scores",
    "plot_learning_curves",
    "plot_per_level_solve_rate",
    "uniform_entropy",
]
