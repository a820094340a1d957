"""Figures a researcher can put in a paper, drawn from data. Host only; nothing is jittable.

Every function takes data (metric columns as from ``ued.host.metrics_to_arrays``, metric rows
as from ``ued.host.read_metrics``, a run directory, or arrays) and returns a
``matplotlib.figure.Figure`` built without pyplot (no global state, nothing to close); saving
is separate (``ued.host.save_figure(fig, path, dpi=...)`` or :func:`save`). The same functions
back ``openued plot`` and can be called from a notebook.

Conventions of every figure: a title, axis labels with units, no offset notation on the axes,
curves smoothed (a debiased exponential moving average) with the unsmoothed curve faint behind,
and, when the metrics carry a seed axis ``(rows, K)``, the mean over seeds with a band of its
95% percentile-bootstrap interval (:func:`seed_band`). Series with one point are drawn as markers with a note, never as a
line; empty or constant data is said so in the panel.

* :func:`plot_learning_curves`: training return and solve rate, evaluation solve rates, PPO loss
  and entropy, episode length, against env steps;
* :func:`plot_per_level_solve_rate`: solve rate per evaluation level at the last evaluation;
* :func:`plot_curriculum`: curriculum diagnostics grouped into panels named for people
  (:data:`METRIC_NAMES`, :func:`metric_label`);
* :func:`plot_level_evolution`: distributions of the curriculum's stored levels' descriptors
  (and scores) at every level snapshot;
* :func:`compare_runs` / :func:`write_comparison`: several runs or curricula overlaid, and a
  table of final evaluation scores (IQM with 95% stratified-bootstrap intervals from rliable);
* :func:`plot_hades_fitness`, :func:`plot_hades_dataset`: HaDES meta-training and the distilled
  dataset (categorical action colours, PCA axes with explained variance);
* :func:`plot_synth_meta_training`, :func:`plot_synth_reward_map`,
  :func:`plot_synth_initial_states`: synthetic environments (feature names of the state
  dimensions, the learner of every generation).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, ScalarFormatter

from ued.evaluation import iqm_interval

# ----------------------------------------------------------------------------- names

# metric key -> name a reader understands (panel titles, legends, tables)
METRIC_NAMES: dict[str, str] = {
    "env_steps": "env steps",
    "update": "update",
    "generation": "generation",
    "rollout/return": "training episodes: return",
    "rollout/solve_rate": "training episodes: solve rate",
    "rollout/episode_length": "training episodes: length",
    "rollout/num_episodes": "training episodes: count per update",
    "eval/prefab_solve_rate": "evaluation: prefab mazes",
    "eval/validation_solve_rate": "evaluation: validation levels",
    "eval/prefab_return": "evaluation: prefab return",
    "eval/validation_return": "evaluation: validation return",
    "eval/prefab_length": "evaluation: prefab episode length",
    "eval/validation_length": "evaluation: validation episode length",
    "ppo/loss": "PPO: total loss",
    "ppo/pg_loss": "PPO: policy-gradient loss",
    "ppo/value_loss": "PPO: value loss",
    "ppo/entropy": "policy entropy",
    "ppo/approx_kl": "PPO: approximate KL",
    "ppo/clip_frac": "PPO: clipped fraction",
    "ppo/grad_norm": "PPO: gradient norm",
    "ppo/lr": "learning rate",
    "score/mean": "proposed levels: mean score",
    "score/max": "proposed levels: max score",
    "regret/estimated_all": "estimated regret (all levels)",
    "regret/true_all": "true regret (all levels)",
    "regret/estimated_replay": "estimated regret (replayed levels)",
    "regret/true_replay": "true regret (replayed levels)",
    "train_fraction": "share of levels trained on",
    "replay_fraction": "share of levels replayed",
    "cur/buffer/fill": "buffer: share of slots filled",
    "cur/buffer/mean_score": "buffer: mean score",
    "cur/buffer/max_score": "buffer: max score",
    "cur/buffer/min_score": "buffer: min score",
    "cur/buffer/size": "buffer: stored levels",
    "cur/buffer/min_size": "buffer: levels needed to replay",
    "cur/level/solve_rate": "proposed levels: solve rate",
    "level/walls": "levels trained on: wall count",
    "level/shortest_path": "levels trained on: shortest path",
    "cur/level/walls": "proposed levels: wall count",
    "cur/level/shortest_path": "proposed levels: shortest path",
}

# descriptor name -> (human name, unit) for level descriptors
DESCRIPTOR_NAMES: dict[str, tuple[str, str]] = {
    "walls": ("wall count", "walls"),
    "shortest_path": ("shortest path to the goal", "steps"),
    "d0": ("descriptor 0", ""),
    "d1": ("descriptor 1", ""),
}

BRANCHES = ("new", "replay", "mutate", "sfl", "archive")
BRANCH_NAMES = {
    "new": "new (generated)",
    "replay": "replay (from buffer)",
    "mutate": "mutate (edited)",
    "sfl": "SFL (learnable)",
    "archive": "archive (elites)",
}

# target -> names of the (normalised) observation's dimensions
STATE_NAMES: dict[str, tuple[str, ...]] = {
    "cartpole": ("cart position", "cart velocity", "pole angle", "pole angular velocity"),
    "acrobot": (
        "cos θ1",
        "sin θ1",
        "cos θ2",
        "sin θ2",
        "angular velocity 1",
        "angular velocity 2",
    ),
    "mountain-car": ("car position", "car velocity"),
    "pendulum": ("cos θ", "sin θ", "angular velocity"),
}
# target -> names of its discrete actions (or of the continuous action's ends)
ACTION_NAMES: dict[str, tuple[str, ...]] = {
    "cartpole": ("push left", "push right"),
    "acrobot": ("torque −1", "torque 0", "torque +1"),
    "mountain-car": ("push left", "no push", "push right"),
    "breakout": ("no-op", "left", "right"),
    "freeway": ("no-op", "up", "down"),
    "asterix": ("no-op", "left", "up", "right", "down"),
    "space-invaders": ("no-op", "left", "right", "fire"),
}


def clean_name(key: str) -> str:
    """A metric key made readable: ``cur/aleatoric/trained`` -> ``aleatoric: trained``."""
    k = key[4:] if key.startswith("cur/") else key
    parts = [p.replace("_", " ") for p in k.split("/") if p]
    return ": ".join(parts) if parts else key


def metric_label(key: str) -> str:
    """The human name of a metric key (:data:`METRIC_NAMES`, else :func:`clean_name`)."""
    if key in METRIC_NAMES:
        return METRIC_NAMES[key]
    if key.startswith("eval/prefab/"):
        return f"prefab maze {key[len('eval/prefab/') :]}"
    return clean_name(key)


def descriptor_label(name: str) -> tuple[str, str]:
    """``(human name, unit)`` of a level descriptor name."""
    return DESCRIPTOR_NAMES.get(name, (name.replace("_", " "), ""))


def state_names(target: str | None, dim: int) -> list[str]:
    """Names of ``dim`` observation dimensions of ``target`` (:data:`STATE_NAMES`), else
    ``state[i]``."""
    names = STATE_NAMES.get(target or "", ())
    if len(names) == dim:
        return list(names)
    return [f"state[{i}]" for i in range(dim)]


def action_names(target: str | None, n: int) -> list[str]:
    """Names of ``n`` discrete actions of ``target`` (:data:`ACTION_NAMES`), else
    ``action i``."""
    names = ACTION_NAMES.get(target or "", ())
    if len(names) >= n:
        return [f"{i}: {names[i]}" for i in range(n)]
    return [f"action {i}" for i in range(n)]


# ----------------------------------------------------------------------------- data


def load_metrics(source: Any) -> dict[str, np.ndarray]:
    """Metric columns ``{key: (rows,) or (rows, K)}`` float64 from a run directory, a list of
    metric rows (``read_metrics``), a dict of arrays (``metrics_to_arrays`` / ``Run.metrics``)
    or a ``ued.host.Run``. Non-numeric columns are left out."""
    from ued.host import metrics_to_arrays, read_metrics

    if hasattr(source, "metrics") and isinstance(source.metrics, Mapping):
        source = source.metrics
    if isinstance(source, str | os.PathLike):
        return metrics_to_arrays(read_metrics(source))
    if isinstance(source, Mapping):
        out = {}
        for k, v in source.items():
            try:
                a = np.asarray(v, np.float64)
            except (TypeError, ValueError):
                continue
            if a.ndim in (1, 2):
                out[str(k)] = a
        return out
    if isinstance(source, Sequence):
        return metrics_to_arrays([r for r in source if isinstance(r, Mapping)])
    raise TypeError(f"metrics: expected a run directory, rows or a dict of arrays, got {source!r}")


def _label_of(source: Any, i: int) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name or str(source)
    rd = getattr(source, "run_dir", None)
    if rd is not None:
        return Path(rd).name
    return f"run {i + 1}"


def _x_axis(m: Mapping[str, np.ndarray]) -> tuple[np.ndarray, str]:
    for k, label in (
        ("env_steps", "env steps"),
        ("update", "update"),
        ("generation", "generation"),
    ):
        if k in m and len(m[k]):
            x = np.asarray(m[k], float)
            return (x if x.ndim == 1 else np.nanmean(x, 1)), label
    n = len(next(iter(m.values()))) if m else 0
    return np.arange(n, dtype=float), "row"


def _seeds(y: Any) -> np.ndarray:
    """``(T, K)`` float64 from ``(T,)`` or ``(T, K)``."""
    a = np.asarray(y, np.float64)
    return a[:, None] if a.ndim == 1 else a.reshape(a.shape[0], -1)


def num_seeds(m: Mapping[str, np.ndarray]) -> int:
    """Width of the widest per-seed column (1 without a seed axis)."""
    return max((np.shape(v)[1] for v in m.values() if np.ndim(v) == 2), default=1)


def ema(y: Any, weight: float) -> np.ndarray:
    """Centred exponential smoothing along axis 0: point t is the average of the finite points
    s weighted by ``weight ** |t - s|`` (TensorBoard's smoothing run both ways and normalised
    as one kernel, so the curve neither lags behind the data nor follows the last point at the
    ends), skipping NaNs (they stay NaN). ``weight`` in [0, 1): 0 is no smoothing."""
    a = np.asarray(y, np.float64)
    if weight <= 0 or a.shape[0] < 2:
        return a.copy()
    flat = a.reshape(a.shape[0], -1)
    ok = np.isfinite(flat)
    v = np.where(ok, flat, 0.0)
    fs, fn = _ema_sums(v, ok, weight)
    bs, bn = _ema_sums(v[::-1], ok[::-1], weight)
    # both one-sided sums include point t itself: count it once
    num = fs + bs[::-1] - v
    den = fn + bn[::-1] - ok
    out = np.where(ok, num / np.maximum(den, 1e-300), np.nan)
    return out.reshape(a.shape)


def _ema_sums(v: np.ndarray, ok: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Running sums ``sum_{s <= t} weight ** (t - s) * v[s]`` and of the weights over the finite
    points, along axis 0 of ``(T, K)`` arrays."""
    acc, norm = np.zeros_like(v), np.zeros_like(v)
    a, n = np.zeros(v.shape[1:]), np.zeros(v.shape[1:])
    for t in range(v.shape[0]):
        a = weight * a + v[t]
        n = weight * n + ok[t]
        acc[t], norm[t] = a, n
    return acc, norm


def _fill_gaps(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Each column of ``a`` (T, K) linearly interpolated over its NaN gaps between its first
    and last finite value (seeds that log a metric on different updates, e.g. only when they
    trained, then average into one smooth curve)."""
    out = a.copy()
    for j in range(a.shape[1]):
        ok = np.isfinite(a[:, j])
        if ok.sum() >= 2:
            i0, i1 = np.nonzero(ok)[0][[0, -1]]
            xs = x[i0 : i1 + 1]
            out[i0 : i1 + 1, j] = np.interp(xs, x[ok], a[ok, j])
    return out


def auto_smoothing(n: int) -> float:
    """EMA weight for ``n`` points: about ``n / 10`` points of memory (at most 50), none
    below 12 points."""
    if n < 12:
        return 0.0
    return float(np.clip(1.0 - 10.0 / n, 0.0, 0.98))


def seed_band(
    y: Any, confidence: float = 0.95, reps: int = 500, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, low, high)`` over the seed axis of ``(T, K)`` values: the mean of the finite
    seeds and the ``confidence`` percentile-bootstrap interval of that mean (seeds resampled
    ``reps`` times with ``np.random.default_rng(seed)``; NaN where fewer than two seeds). With
    few seeds the interval stays inside the seeds' range (a t-interval with 2 seeds is 12.7
    standard errors wide)."""
    a = _seeds(y)
    t, k = a.shape
    ok = np.isfinite(a)
    n = ok.sum(1)
    a0 = np.where(ok, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, a0.sum(1) / np.maximum(n, 1), np.nan)
    lo = np.full(t, np.nan)
    hi = np.full(t, np.nan)
    if k >= 2 and (n >= 2).any():
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(k, np.full(k, 1.0 / k), size=reps).astype(np.float64)  # (R, K)
        num = a0 @ counts.T  # (T, R)
        den = ok.astype(np.float64) @ counts.T
        with np.errstate(invalid="ignore", divide="ignore"):
            boots = np.where(den > 0, num / den, np.nan)
        rows = n >= 2
        q = (1 - confidence) / 2
        lo[rows] = np.nanquantile(boots[rows], q, axis=1)
        hi[rows] = np.nanquantile(boots[rows], 1 - q, axis=1)
    return mean, lo, hi


# ----------------------------------------------------------------------------- axes


def _si(v: float, _pos=None) -> str:
    a = abs(v)
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            s = f"{v / div:.2f}".rstrip("0").rstrip(".")
            return s + suf
    return f"{v:g}"


def style_axes(ax, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    """Title, labels, grid, no offset notation; ``env steps`` ticks read 200k, 1.5M."""
    if title:
        ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=9)
    fmt = ScalarFormatter(useOffset=False)
    fmt.set_scientific(False)
    ax.yaxis.set_major_formatter(fmt)
    if xlabel == "env steps":
        ax.xaxis.set_major_formatter(FuncFormatter(_si))
    else:
        xf = ScalarFormatter(useOffset=False)
        xf.set_scientific(False)
        ax.xaxis.set_major_formatter(xf)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.25, lw=0.6)


def _note(ax, text: str, loc: str = "upper left") -> None:
    x, ha = (0.02, "left") if "left" in loc else (0.98, "right")
    y, va = (0.96, "top") if "upper" in loc else (0.04, "bottom")
    ax.text(
        x,
        y,
        text,
        transform=ax.transAxes,
        ha=ha,
        va=va,
        fontsize=7.5,
        color="0.25",
        bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="0.8", alpha=0.85),
    )


def _caption(fig: Figure, text: str, fontsize: float = 8, **_: Any) -> None:
    """A grey caption under the panels (kept clear of them by the constrained layout)."""
    fig.supxlabel(text, fontsize=fontsize, color="0.35")


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


def _flat_limits(ax, values: np.ndarray, unit_range: bool) -> str | None:
    """When the finite ``values`` are (nearly) constant, set readable y limits around them and
    return a note; ``None`` otherwise."""
    v = values[np.isfinite(values)]
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    scale = max(abs(lo), abs(hi), 1e-12)
    if hi - lo > 1e-3 * scale and hi - lo > 1e-9:
        return None
    c = 0.5 * (lo + hi)
    if unit_range:
        ax.set_ylim(-0.05, 1.05)
    else:
        pad = max(0.1 * abs(c), 0.05)
        ax.set_ylim(c - pad, c + pad)
    return f"constant {_fmt(c)}" if lo == hi else f"≈ constant {c:.4g}"


def draw_series(
    ax,
    x: np.ndarray,
    y: Any,
    *,
    label: str | None = None,
    color=None,
    smoothing: float | None = None,
    dodge: float = 0.0,
) -> dict:
    """Draw one metric against ``x`` on ``ax``: the mean over seeds (smoothed, the unsmoothed
    mean faint behind) and a 95% bootstrap band (:func:`seed_band`) when ``y`` has K > 1 seeds; rows where every
    seed is NaN are skipped. Series with at most 12 points are drawn as markers joined by a
    line (no smoothing); a single point as a marker with its seed interval, moved sideways by
    ``dodge`` percent of its x so that several runs evaluated at the same step stay visible.
    Returns ``{"points": n, "seeds": K, "values": finite means}``."""
    a = _seeds(y)
    x = np.asarray(x, float)
    rows = ~np.all(np.isnan(a), axis=1)
    x, a = x[rows], a[rows]
    n, k = len(x), a.shape[1]
    info = {"points": n, "seeds": k, "values": np.zeros(0), "line": None}
    if n == 0:
        return info
    w = auto_smoothing(n) if smoothing is None else float(smoothing)
    raw_mean, _, _ = seed_band(a)
    sm = _fill_gaps(x, ema(a, w)) if w > 0 else a
    mean, lo, hi = seed_band(sm)
    if n == 1:
        xd = x + dodge * 0.01 * max(abs(float(x[0])), 1.0)
        (line,) = ax.plot(xd, mean, "o", ms=7, color=color, label=label, zorder=3)
        if k > 1 and np.isfinite(lo).all():
            ax.errorbar(xd, mean, yerr=[mean - lo, hi - mean], fmt="none", color=line.get_color())
    elif n <= 12:
        (line,) = ax.plot(x, mean, "o-", ms=4, lw=1.4, color=color, label=label, zorder=3)
    else:
        if w > 0:
            (faint,) = ax.plot(x, raw_mean, lw=0.7, alpha=0.3, color=color, zorder=1)
            color = faint.get_color()
        (line,) = ax.plot(x, mean, lw=1.6, color=color, label=label, zorder=3)
    if k > 1 and n > 1:
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(x, np.where(ok, lo, mean), np.where(ok, hi, mean), alpha=0.2, lw=0,
                        color=line.get_color())  # fmt: skip
    info.update(values=raw_mean[np.isfinite(raw_mean)], line=line, x=x)
    return info


def _new_figure(n: int, ncols: int, w: float = 4.0, h: float = 3.0):
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = Figure(figsize=(w * ncols, h * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _seed_note(k: int, smoothed: bool = True) -> str:
    parts = []
    if k > 1:
        parts.append(f"mean over {k} seeds, band: 95% bootstrap interval of the mean")
    else:
        parts.append("1 seed")
    if smoothed:
        parts.append("bold: moving average, faint: raw")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- learning curves

# (panel title, y label, [(metric key, series label)], y in [0, 1])
LEARNING_PANELS: list[tuple[str, str, list[tuple[str, str]], bool]] = [
    ("Training episodes: return", "mean episode return", [("rollout/return", "return")], False),
    ("Training episodes: solve rate", "solve rate", [("rollout/solve_rate", "solve rate")], True),
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
    ("Policy entropy", "entropy (nats)", [("ppo/entropy", "entropy")], False),
]


def _runs(sources: Any, labels: Sequence[str] | None) -> list[tuple[str, dict[str, np.ndarray]]]:
    if (
        isinstance(sources, Mapping)
        and sources
        and all(isinstance(v, Mapping | str | os.PathLike | list) for v in sources.values())
    ):
        items = list(sources.items())
        labels = labels or [str(k) for k, _ in items]
        sources = [v for _, v in items]
    elif isinstance(sources, str | os.PathLike | Mapping) or hasattr(sources, "metrics"):
        sources = [sources]
    elif (
        isinstance(sources, Sequence)
        and sources
        and isinstance(sources[0], Mapping)
        and ("update" in sources[0] or "generation" in sources[0])
    ):
        sources = [sources]  # one list of metric rows
    sources = list(sources)
    if labels is not None and len(labels) != len(sources):
        raise ValueError(f"labels: {len(labels)} labels for {len(sources)} runs")
    labels = (
        list(labels) if labels is not None else [_label_of(s, i) for i, s in enumerate(sources)]
    )
    return [(lab, load_metrics(s)) for lab, s in zip(labels, sources, strict=True)]


def _trained_only(m: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    v = _seeds(m[key])
    if key.startswith("ppo/") and "trained" in m:
        t = _seeds(m["trained"])
        if t.shape == v.shape or t.shape[1] == 1:
            v = np.where(t > 0, v, np.nan)  # updates that skipped the gradient step have no loss
    return v


def _draw_panels(
    fig_axes,
    runs: list[tuple[str, dict]],
    panels: Sequence[tuple[str, str, list[tuple[str, str]], bool]],
    smoothing: float | None,
) -> None:
    multi = len(runs) > 1
    colors = [f"C{i % 10}" for i in range(len(runs))]
    for ax, (title, ylabel, series, unit) in fig_axes:
        drawn, singles, vals, single_x = 0, [], [], set()
        xlabel = None
        styles = ["-", "--", ":", "-."]
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
                info = draw_series(ax, x, y, label=lab, color=color,
                                   smoothing=smoothing, dodge=ri - (len(runs) - 1) / 2)  # fmt: skip
                if info["points"] == 0:
                    continue
                seen.append((_seeds(y), info["line"]))
                if multi and len(series) > 1 and info["line"] is not None:
                    info["line"].set_linestyle(styles[si % len(styles)])
                drawn += 1
                vals.append(info["values"])
                if info["points"] == 1:
                    single_x.add(float(info["x"][0]))
                    single = f"one evaluation, at {_si(float(info['x'][0]))}"
                    if single not in singles:  # several runs evaluated at the same step
                        singles.append(single)
        if singles and xlabel:
            # below the axis, where no point can hide it; points of several runs are dodged
            xlabel = f"{xlabel} ({'; '.join(singles)})"
        style_axes(ax, title, xlabel, ylabel)
        if drawn and len(single_x) == 1 and all(len(v) <= 1 for v in vals):
            # every series is one point at the same step: one tick there, the dodged points
            # around it (their offsets are not steps)
            (x0,) = single_x
            half = (len(runs) / 2 + 0.5) * 0.01 * max(abs(x0), 1.0)
            ax.set_xlim(x0 - half, x0 + half)
            ax.set_xticks([x0], [_si(x0)])
        if not drawn:
            _note(ax, "not recorded in this run")
            ax.set_yticks([])
            continue
        allv = np.concatenate(vals) if vals else np.zeros(0)
        note = _flat_limits(ax, allv, unit)
        if unit and note is None:
            ax.set_ylim(-0.03, 1.03)
        if note:
            _note(ax, note, loc="lower right" if unit else "upper left")
        if drawn > 1 or len(series) > 1:  # a panel of several series names even a lone one
            ax.legend(fontsize=7.5, loc="best", framealpha=0.85)


def plot_learning_curves(
    metrics: Any,
    *,
    label: str | None = None,
    title: str | None = None,
    smoothing: float | None = None,
    panels: Sequence[tuple[str, str, list[tuple[str, str]], bool]] | None = None,
) -> Figure:
    """Learning curves of one run against env steps: training return, solve rate and episode
    length, evaluation solve rate (prefab and validation), PPO loss (updates that trained
    only) and policy entropy. ``metrics``: a run directory, metric rows or columns.
    ``smoothing``: EMA weight in [0, 1) (``None``: by the number of points; 0: none).
    Panels whose metrics the run does not have say so. Returns the Figure."""
    runs = _runs(metrics, [label] if label else None)
    panels = list(LEARNING_PANELS if panels is None else panels)
    fig, axes = _new_figure(len(panels), 3)
    _draw_panels(list(zip(axes, panels, strict=True)), runs, panels, smoothing)
    lab, m = runs[0]
    fig.suptitle(title or f"Learning curves: {lab}", fontsize=12)
    _caption(fig, _seed_note(num_seeds(m)), ha="center", va="bottom", fontsize=8,
             color="0.35")  # fmt: skip
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
        ax.legend(fontsize=8, loc="upper right")
    if fin.size and np.all(fin == 0):
        _note(ax, f"all 0: no level solved in any attempt{at}", loc="upper left")
    elif fin.size and np.all(fin == 1):
        _note(ax, f"all 1: every level solved in every attempt{at}", loc="upper left")
    ax.set_xticks(xs, names, rotation=30, ha="right", fontsize=8)
    return fig


# ----------------------------------------------------------------------------- curriculum

# (panel title, y label, [(key, series label)], y in [0, 1])
CURRICULUM_PANELS: list[tuple[str, str, list[tuple[str, str]], bool]] = [
    ("Proposals by branch", "share of proposed levels", [], True),  # filled from branch/*
    ("Share of levels trained on", "share", [("train_fraction", "trained on")], True),
    (
        "Scores of proposed levels",
        "score",
        [("score/max", "max")] + [(f"cur/score/{b}", f"mean, {b}") for b in BRANCHES],
        False,
    ),
    (
        "Regret: estimated vs true",
        "regret",
        [
            ("regret/estimated_all", "estimated = mean score (all)"),
            ("regret/true_all", "true (all)"),
            ("regret/estimated_replay", "estimated (replayed)"),
            ("regret/true_replay", "true (replayed)"),
        ],
        False,
    ),
    (
        "Buffer: scores",
        "score",
        [
            ("cur/buffer/max_score", "max"),
            ("cur/buffer/mean_score", "mean"),
            ("cur/buffer/min_score", "min"),
        ],
        False,
    ),
    ("Buffer: share of slots filled", "share", [("cur/buffer/fill", "filled")], True),
    (
        "Buffer: stored levels",
        "levels",
        [("cur/buffer/size", "stored"), ("cur/buffer/min_size", "needed to replay")],
        False,
    ),
    ("Levels: solve rate", "solve rate", [("cur/level/solve_rate", "proposed levels")], True),
]
# keys that repeat another shown metric (the value in parentheses)
DUPLICATE_KEYS: dict[str, str] = {
    "cur/score/mean": "score/mean (mean score, NaN-free variant)",
    "score/mean": "regret/estimated_all",
    "replay_fraction": "branch/replay",
    "cur/train/share": "train_fraction",
    **{f"cur/branch/{b}": f"branch/{b}" for b in BRANCHES},
}
# keys that are not curriculum diagnostics (drawn elsewhere or bookkeeping)
_NOT_CURRICULUM = ("rollout/", "ppo/", "eval/", "obs/")
_BOOKKEEPING = {"update", "env_steps", "generation", "trained", "nonfinite_loss", "train/share"}


def _branch_shares(m: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    counts = {b: _seeds(m[f"branch/{b}"]) for b in BRANCHES if f"branch/{b}" in m}
    if counts:
        tot = sum(np.nan_to_num(c) for c in counts.values())
        with np.errstate(invalid="ignore", divide="ignore"):
            return {b: np.where(tot > 0, c / tot, np.nan) for b, c in counts.items()}
    return {b: _seeds(m[f"cur/branch/{b}"]) for b in BRANCHES if f"cur/branch/{b}" in m}


def _is_constant(v: np.ndarray) -> float | None:
    f = v[np.isfinite(v)]
    if f.size and np.all(f == f[0]):
        return float(f[0])
    return None


def curriculum_panels(metrics: Any) -> tuple[list[tuple[str, str, list, bool]], list[str]]:
    """The curriculum figure's panels ``(title, y label, [(series label, values)], unit)``
    with data, and footnotes (branches never used, constant metrics, duplicates left out).
    Series without a finite value are dropped; a panel whose series are all constant becomes
    a footnote; keys this module does not know get a panel each, titled with
    :func:`clean_name`."""
    m = load_metrics(metrics)
    used: set[str] = set()
    panels, notes, constant = [], [], []
    shares = _branch_shares(m)
    used |= {f"branch/{b}" for b in BRANCHES} | {f"cur/branch/{b}" for b in BRANCHES}
    active = [b for b, v in shares.items() if np.nanmax(np.nan_to_num(v), initial=0) > 0]
    never = [b for b in shares if b not in active]
    if never:
        notes.append("branches never used: " + ", ".join(never))
    level_panels = []
    desc = sorted({k.split("/")[-1] for k in m if re.match(r"^(cur/)?level/", k)} - {"solve_rate"})
    for d in desc:
        name, unitn = descriptor_label(d)
        series = [(f"level/{d}", "levels trained on"), (f"cur/level/{d}", "proposed levels")]
        level_panels.append((f"Levels: {name}", unitn or name, series, False))
    specs = list(CURRICULUM_PANELS[:-1]) + level_panels + [CURRICULUM_PANELS[-1]]
    for title, ylabel, series, unit in specs:
        if title == "Proposals by branch":
            data = [(BRANCH_NAMES.get(b, b), shares[b]) for b in active]
        else:
            data = []
            for key, lab in series:
                used.add(key)
                if key in m and np.isfinite(m[key]).any():
                    data.append((lab, _seeds(m[key]), key))
            if title == "Scores of proposed levels":
                per_branch = [d for d in data if d[2].startswith("cur/score/")]
                if len(per_branch) <= 1:  # one branch: its mean is the overall mean score
                    data = [d for d in data if not d[2].startswith("cur/score/")]
            data = [(lab, v) for lab, v, _ in data]
        if not data:
            continue
        consts = [_is_constant(v) for _, v in data]
        if all(c is not None for c in consts) and title != "Proposals by branch":
            constant += [f"{title.lower()}: {lab} = {_fmt(c)}" for (lab, _), c in
                         zip(data, consts, strict=True)]  # fmt: skip
            continue
        panels.append((title, ylabel, data, unit))
    used |= set(DUPLICATE_KEYS)
    for k in m:
        if k in used or k in _BOOKKEEPING or k.startswith(_NOT_CURRICULUM):
            continue
        if k.startswith("eval") or not np.isfinite(m[k]).any():
            continue
        c = _is_constant(m[k])
        if c is not None:
            constant.append(f"{clean_name(k)} = {_fmt(c)}")
            continue
        panels.append((clean_name(k).capitalize(), clean_name(k).split(": ")[-1], [("", _seeds(m[k]))],
                       False))  # fmt: skip
    if constant:
        notes.append("constant over the run: " + "; ".join(constant))
    dups = [k for k in DUPLICATE_KEYS if k in m and k not in ("score/mean",)]
    if dups:
        notes.append("left out as duplicates: " + ", ".join(dups))
    return _merge_identical(panels), notes


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, equal_nan=True))


def _merge_identical(panels: list) -> list:
    """Series drawn twice are drawn once: within a panel, a series equal to an earlier one
    joins its label (e.g. levels trained on = proposed when every proposal is trained on); a
    panel whose every series is already drawn in another panel is left out (e.g. a single
    branch's mean score, which the regret panel shows as the estimated regret)."""
    out = []
    for title, ylabel, data, unit in panels:
        if title in _BLOCK_PANELS:
            out.append((title, ylabel, data, unit))
            continue
        merged: list[tuple[str, np.ndarray]] = []
        for lab, v in data:
            j = next((i for i, (_, w) in enumerate(merged) if _same(v, w)), None)
            if j is None:
                merged.append((lab, v))
            else:
                merged[j] = (f"{merged[j][0]} = {lab}", merged[j][1])
        out.append((title, ylabel, merged, unit))
    keep: list = []
    for i, (title, ylabel, data, unit) in enumerate(out):
        if title not in _BLOCK_PANELS:

            def covers(q, data=data):
                return q[0] not in _BLOCK_PANELS and all(
                    any(_same(v, w) for _, w in q[2]) for _, v in data
                )

            # every series already in a panel with more series, or in one kept before
            bigger = any(covers(q) and len(q[2]) > len(data) for j, q in enumerate(out) if j != i)
            if bigger or any(covers(q) for q in keep):
                continue
        keep.append((title, ylabel, data, unit))
    return keep


def plot_curriculum(
    metrics: Any,
    *,
    label: str | None = None,
    title: str | None = None,
    smoothing: float | None = None,
) -> Figure | None:
    """Curriculum diagnostics against env steps, grouped into named panels (branch shares,
    scores, estimated vs true regret, the buffer, level descriptors of the levels trained on
    vs proposed; see :func:`curriculum_panels`). Returns ``None`` when the run has none."""
    runs = _runs(metrics, [label] if label else None)
    lab, m = runs[0]
    panels, notes = curriculum_panels(m)
    if not panels:
        return None
    x, xlabel = _x_axis(m)
    fig, axes = _new_figure(len(panels), 3, w=4.2, h=2.9)
    for ax, (ptitle, ylabel, data, unit) in zip(axes, panels, strict=True):
        if ptitle in _BLOCK_PANELS:
            _block_panel(
                ax, x, xlabel, ptitle, ylabel, data, stacked=ptitle == "Proposals by branch"
            )
            continue
        vals = []
        for i, (slab, v) in enumerate(data):
            info = draw_series(ax, x, v, label=slab or None, color=f"C{i}", smoothing=smoothing)
            vals.append(info["values"])
        style_axes(ax, ptitle, xlabel, ylabel)
        note = _flat_limits(ax, np.concatenate(vals), unit)
        if unit and note is None:
            ax.set_ylim(-0.03, 1.03)
        if note:
            _note(ax, note)
        if len(data) > 1 or " = " in data[0][0]:  # several series, or one that stands for two
            ax.legend(fontsize=7, loc="best", framealpha=0.85)
    fig.suptitle(title or f"Curriculum diagnostics: {lab}", fontsize=12)
    foot = [_seed_note(num_seeds(m))] + notes
    _caption(fig, "\n".join(_wrap(s, 160) for s in foot), ha="center", va="bottom",
             fontsize=7.5, color="0.35")  # fmt: skip
    return fig


_BLOCK_PANELS = ("Proposals by branch", "Share of levels trained on")


def block_mean(x: Any, y: Any, blocks: int = 20) -> tuple[np.ndarray, np.ndarray, int]:
    """``(block centres, block means (B, K), block size)``: ``y`` (T,) or (T, K) averaged over
    consecutive blocks of at least 2 rows (about ``blocks`` of them), NaNs ignored. Shares that
    alternate from one update to the next (ACCEL's replay / new) read as their average."""
    a = _seeds(y)
    x = np.asarray(x, float)
    size = max(2, math.ceil(len(x) / blocks))
    nb = math.ceil(len(x) / size)
    xc = np.array([x[i * size : (i + 1) * size].mean() for i in range(nb)])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ym = np.stack([np.nanmean(a[i * size : (i + 1) * size], 0) for i in range(nb)])
    return xc, ym, size


def _block_panel(ax, x, xlabel, title, ylabel, data, stacked: bool) -> None:
    size = 1
    if stacked:
        ys = []
        for _, v in data:
            xc, ym, size = block_mean(x, v)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ys.append(np.nan_to_num(np.nanmean(ym, 1)))
        ax.stackplot(xc, *ys, labels=[lab for lab, _ in data], alpha=0.85,
                     colors=[f"C{i}" for i in range(len(data))])  # fmt: skip
        ax.legend(fontsize=7, loc="lower right", framealpha=0.85)
    else:
        for i, (lab, v) in enumerate(data):
            xc, ym, size = block_mean(x, v)
            draw_series(ax, xc, ym, label=lab or None, color=f"C{i}", smoothing=0)
    style_axes(ax, f"{title} (mean per {size} updates)", xlabel, ylabel)
    ax.set_ylim(-0.02, 1.02)


def _wrap(s: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(s, width)) or s


# ----------------------------------------------------------------------------- level evolution


def _snapshot_arrays(snap: Mapping) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, int]:
    """``(descriptors (N, D) pooled over seeds, scores (N,), valid (N,), seeds)``."""
    d = snap.get("descriptors")
    s = snap.get("scores")
    v = snap.get("valid")
    k = 1
    if d is not None:
        d = np.asarray(d, float)
        if d.ndim == 3:
            k = d.shape[0]
        d = d.reshape(-1, d.shape[-1])
    n = d.shape[0] if d is not None else (np.size(s) if s is not None else 0)
    s = np.asarray(s, float).reshape(-1) if s is not None else np.full(n, np.nan)
    v = np.asarray(v, bool).reshape(-1) if v is not None else np.ones(n, bool)
    if s.ndim and np.ndim(snap.get("scores")) == 2:
        k = np.shape(snap["scores"])[0]
    return d, s, v, k


def plot_level_evolution(
    history: Sequence[tuple[int, Mapping]] | str | os.PathLike,
    *,
    title: str | None = None,
    label: str | None = None,
    unit_name: str = "update",
) -> Figure | None:
    """How the curriculum's stored levels change over training: for every level descriptor
    (e.g. wall count, shortest path) a heat map of its distribution over the stored levels at
    each level snapshot (colour: share of stored levels; line: median; dashed: 10th and 90th
    percentiles), and the stored levels' scores (median and interquartile band). Seeds are
    pooled. Unsolvable levels (shortest path -1) are left out of the distribution and their
    share is drawn as its own line. ``history``: ``[(unit, snapshot)]`` as from
    ``Run.level_history()``, or a run directory. Returns ``None`` without snapshots."""
    if isinstance(history, str | os.PathLike):
        from ued.host import load_run

        label = label or Path(history).name
        history = load_run(history).level_history()
    rows = [(u, _snapshot_arrays(s), s) for u, s in history]
    rows = [r for r in rows if r[1][2].size]
    if not rows:
        return None
    units = np.array([u for u, _, _ in rows], float)
    with_desc = [r for r in rows if r[1][0] is not None]
    dim = with_desc[-1][1][0].shape[-1] if with_desc else 0
    names = (with_desc[-1][2].get("descriptor_names") if with_desc else None) or [
        f"d{j}" for j in range(dim)
    ]
    k = rows[-1][1][3]
    fig, axes = _new_figure(dim + 1, min(dim + 1, 3), w=4.4, h=3.3)
    pos = np.arange(len(units))
    ticks = pos if len(pos) <= 10 else pos[:: math.ceil(len(pos) / 10)]

    def xaxis(ax):
        ax.set_xticks(ticks, [str(int(units[i])) for i in ticks], fontsize=8)
        ax.set_xlim(-0.5, len(units) - 0.5)

    extra: list[str] = []
    for j in range(dim):
        ax = axes[j]
        name, unitn = descriptor_label(names[j])
        vals, unsolv = [], np.full(len(rows), np.nan)
        for i, (_, (d, _, valid, _), _) in enumerate(rows):
            col = d[valid, j] if d is not None else np.zeros(0)
            if names[j] == "shortest_path":
                unsolv[i] = np.mean(col < 0) if col.size else np.nan
                col = col[col >= 0]
            vals.append(col[np.isfinite(col)])
        allv = np.concatenate(vals) if vals else np.zeros(0)
        style_axes(ax, f"Stored levels: {name}", unit_name, unitn or name)
        if not allv.size:
            _note(ax, "no stored levels")
            continue
        lo, hi = float(allv.min()), float(allv.max())
        integer = np.allclose(allv, np.round(allv)) and hi - lo <= 80
        edges = (np.arange(lo - 0.5, hi + 1.5, 1.0) if integer
                 else np.linspace(lo, hi if hi > lo else lo + 1, 31))  # fmt: skip
        grid = np.full((len(edges) - 1, len(rows)), np.nan)
        for i, col in enumerate(vals):
            if col.size:
                h, _ = np.histogram(col, edges)
                grid[:, i] = h / col.size
        im = ax.pcolormesh(np.arange(len(rows) + 1) - 0.5, edges, grid, cmap="Blues", vmin=0,
                           shading="flat")  # fmt: skip
        med = [np.median(c) if c.size else np.nan for c in vals]
        p10 = [np.percentile(c, 10) if c.size else np.nan for c in vals]
        p90 = [np.percentile(c, 90) if c.size else np.nan for c in vals]
        ax.plot(pos, med, "o-", color="C1", ms=3, lw=1.5, label="median")
        ax.plot(pos, p10, "--", color="C1", lw=0.9, label="10th / 90th percentile")
        ax.plot(pos, p90, "--", color="C1", lw=0.9)
        cb = fig.colorbar(im, ax=ax, pad=0.01)
        cb.set_label("share of stored levels", fontsize=8)
        cb.ax.tick_params(labelsize=7)
        if np.nanmax(np.nan_to_num(unsolv), initial=0) > 0:
            lo_u, hi_u = np.nanmin(unsolv), np.nanmax(unsolv)
            share = f"{hi_u:.0%}" if f"{lo_u:.0%}" == f"{hi_u:.0%}" else f"{lo_u:.0%} to {hi_u:.0%}"
            extra.append(f"{name}: unsolvable levels left out ({share} of those stored)")
        ax.legend(fontsize=7, loc="upper left", framealpha=0.85)
        xaxis(ax)
        ax.yaxis.set_major_locator(MaxNLocator(integer=integer))
    ax = axes[dim]
    med = np.full(len(rows), np.nan)
    q1, q3 = med.copy(), med.copy()
    fill = med.copy()
    for i, (_, (_, s, valid, _), _) in enumerate(rows):
        sv = s[valid & np.isfinite(s)]
        fill[i] = valid.mean() if valid.size else np.nan
        if sv.size:
            med[i], q1[i], q3[i] = np.median(sv), np.percentile(sv, 25), np.percentile(sv, 75)
    style_axes(ax, "Stored levels: score", unit_name, "score")
    if np.isfinite(med).any():
        ax.plot(pos, med, "o-", ms=3, color="C0", label="median")
        ax.fill_between(pos, q1, q3, alpha=0.25, color="C0", lw=0, label="interquartile range")
        ax.legend(fontsize=7, loc="upper left", framealpha=0.85)
    else:
        _note(ax, "no scores stored")
    xaxis(ax)
    seeds = f"{k} seeds pooled" if k > 1 else "1 seed"
    fig.suptitle(title or f"Curriculum levels over training{': ' + label if label else ''}",
                 fontsize=12)  # fmt: skip
    _caption(fig, f"{len(rows)} level snapshots ({unit_name} {int(units[0])} to "
             f"{int(units[-1])}), {seeds}; slots holding a level at the last snapshot: "
             f"{fill[-1]:.0%}" + "".join("; " + e for e in extra), ha="center", va="bottom", fontsize=8, color="0.35")  # fmt: skip
    return fig


# ----------------------------------------------------------------------------- comparison


def final_scores(metrics: Any, set_name: str) -> tuple[np.ndarray, float | None]:
    """Final evaluation scores of one run for rliable: ``(K seeds, L tasks)``, from the last
    evaluation row. ``prefab``: one task per prefab maze (``eval/prefab/<name>``), else the
    set's mean (``eval/<set>_solve_rate``) as one task. ``(empty (0, 0), None)`` when the run
    never evaluated that set."""
    m = load_metrics(metrics)
    if set_name == "prefab":
        names, vals, unit = final_level_scores(m)
        if names and np.isfinite(vals).any():
            return vals, unit
    key = f"eval/{set_name}_solve_rate"
    if key not in m:
        return np.zeros((0, 0)), None
    v = _seeds(m[key])
    ok = np.nonzero(~np.all(np.isnan(v), 1))[0]
    if not len(ok):
        return np.zeros((0, 0)), None
    unit = float(np.nanmax(_seeds(m["update"])[ok[-1]])) if "update" in m else None
    return v[ok[-1]][:, None], unit


def comparison_table(
    runs: Any, labels: Sequence[str] | None = None, *, reps: int = 2000, seed: int = 0
) -> dict:
    """Final evaluation scores of several runs: per run and evaluation set (``prefab``,
    ``validation``) the IQM over seeds x levels with its 95% stratified-bootstrap interval
    (:func:`iqm_interval`, rliable), the plain mean, seeds, tasks and the per-seed means.
    JSON-able."""
    rs = _runs(runs, labels)
    out = {
        "interval": f"95% stratified bootstrap over seeds (rliable, percentile, {reps} reps, "
        f"seed {seed})",
        "aggregate": "IQM over seeds x levels (rliable.metrics.aggregate_iqm)",
        "runs": [],
    }
    for lab, m in rs:
        row: dict[str, Any] = {"label": lab, "seeds": num_seeds(m)}
        if "env_steps" in m and len(m["env_steps"]):
            row["env_steps"] = float(np.nanmax(m["env_steps"]))
        for set_name in ("prefab", "validation"):
            sc, unit = final_scores(m, set_name)
            if not sc.size:
                continue
            sc = np.where(np.isfinite(sc), sc, np.nan)
            sc = sc[~np.all(np.isnan(sc), 1)]
            sc = np.nan_to_num(sc, nan=float(np.nanmean(sc)))
            iqm, lo, hi = iqm_interval({lab: sc}, reps=reps, seed=seed)[lab]
            row[set_name] = {
                "iqm": iqm,
                "ci95": [lo, hi],
                "mean": float(sc.mean()),
                "seeds": int(sc.shape[0]),
                "tasks": int(sc.shape[1]),
                "per_seed": [float(x) for x in sc.mean(1)],
                "update": unit,
            }
        out["runs"].append(row)
    return out


def comparison_markdown(table: Mapping) -> str:
    """The :func:`comparison_table` as a Markdown table (one row per run)."""
    sets = [s for s in ("prefab", "validation") if any(s in r for r in table["runs"])]
    head = ["run", "seeds", "env steps"] + [
        f"{s} {c}" for s in sets for c in ("IQM [95% CI]", "mean")
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table["runs"]:
        cells = [str(r["label"]), str(r["seeds"]), _si(r["env_steps"]) if "env_steps" in r else ""]
        for s in sets:
            e = r.get(s)
            if e is None:
                cells += ["n/a", "n/a"]
            else:
                cells += [f"{e['iqm']:.3f} [{e['ci95'][0]:.3f}, {e['ci95'][1]:.3f}]",
                          f"{e['mean']:.3f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Solve rate at each run's last evaluation. {table['aggregate']}; "
                 f"interval: {table['interval']}.")  # fmt: skip
    return "\n".join(lines) + "\n"


def compare_runs(
    runs: Any,
    labels: Sequence[str] | None = None,
    *,
    smoothing: float | None = None,
    reps: int = 2000,
    seed: int = 0,
    title: str | None = None,
) -> tuple[Figure, dict]:
    """Several runs (or curricula) overlaid: training return, training and evaluation solve
    rates against env steps (mean over seeds with 95% bootstrap bands), and the final
    evaluation IQM per run with its 95% stratified-bootstrap interval (rliable). ``runs``: a
    list of run directories / metric rows / metric columns, or ``{label: run}``; ``labels``
    default to the directory names. Returns ``(figure, table)`` with the table of
    :func:`comparison_table` (render it with :func:`comparison_markdown`)."""
    rs = _runs(runs, labels)
    table = comparison_table({lab: m for lab, m in rs}, reps=reps, seed=seed)
    panels = [
        ("Training episodes: return", "mean episode return", [("rollout/return", "return")], False),
        ("Training episodes: solve rate", "solve rate", [("rollout/solve_rate", "solve")], True),
        ("Evaluation: prefab mazes", "solve rate", [("eval/prefab_solve_rate", "prefab")], True),
        (
            "Evaluation: validation levels",
            "solve rate",
            [("eval/validation_solve_rate", "validation")],
            True,
        ),  # fmt: skip
    ]
    panels = [p for p in panels if any(k in m for _, m in rs for k, _ in p[2])]
    ncols = 2 if len(panels) > 1 else 1
    nrows = max(1, math.ceil(len(panels) / ncols))
    fig = Figure(figsize=(4.3 * (ncols + 1) + 1.4, 3.3 * nrows + 0.7), layout="constrained")
    gs = fig.add_gridspec(nrows, ncols + 1)
    axes = [fig.add_subplot(gs[i // ncols, i % ncols]) for i in range(len(panels))]
    axes.append(fig.add_subplot(gs[:, ncols]))
    _draw_panels(list(zip(axes[:-1], panels, strict=True)), rs, panels, smoothing)
    for ax in axes[:-1]:
        leg = ax.get_legend()
        if leg is not None:
            leg.remove()
    ax = axes[-1]
    sets = [s for s in ("prefab", "validation") if any(s in r for r in table["runs"])]
    width = 0.8 / max(len(sets), 1)
    for si, s in enumerate(sets):
        for ri, r in enumerate(table["runs"]):
            e = r.get(s)
            if e is None:
                continue
            y = ri + (si - (len(sets) - 1) / 2) * width
            ax.errorbar(e["iqm"], y, xerr=[[e["iqm"] - e["ci95"][0]], [e["ci95"][1] - e["iqm"]]],
                        fmt="o", color=f"C{ri % 10}", mfc="white" if si else None, capsize=3,
                        label=s if ri == 0 else None)  # fmt: skip
    style_axes(ax, "Final evaluation: IQM, 95% CI", "solve rate", "run")
    ax.set_yticks(range(len(rs)), [lab for lab, _ in rs], fontsize=8)
    ax.set_ylim(len(rs) - 0.5, -0.5)
    ax.set_xlim(-0.03, 1.03)
    if len(sets) > 1:
        ax.legend(fontsize=7, loc="lower right", title="filled: prefab\nopen: validation",
                  title_fontsize=7)  # fmt: skip
        ax.get_legend().remove()
        _note(ax, "filled: prefab\nopen: validation", loc="lower right")
    if not sets:
        _note(ax, "no evaluation recorded")
    handles = [axes[0].plot([], [], color=f"C{i % 10}", lw=2)[0] for i in range(len(rs))]
    fig.legend(handles, [lab for lab, _ in rs], loc="outside right center", fontsize=8,
               title="run", title_fontsize=8)  # fmt: skip
    fig.suptitle(title or f"Comparison of {len(rs)} runs", fontsize=12)
    ks = sorted({num_seeds(m) for _, m in rs})
    fig.supxlabel(f"curves: mean over seeds ({'/'.join(map(str, ks))}), band: 95% "
             "bootstrap interval of the mean; right: IQM over seeds x levels with 95% stratified-bootstrap interval "
             "(rliable)", ha="center", va="bottom", fontsize=7.5, color="0.35")  # fmt: skip
    return fig, table


def write_comparison(
    runs: Any,
    out_dir: str | os.PathLike,
    labels: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[Path]:
    """``compare_runs`` written to ``OUT_DIR/compare.png``, ``compare.md`` and ``compare.json``
    (atomically); returns the paths (``openued plot RUN RUN ... --compare --out DIR``)."""
    from ued.host import atomic_write_text, ensure_dir, write_json

    out = ensure_dir(out_dir)
    fig, table = compare_runs(runs, labels, **kwargs)
    paths = [save(fig, out / "compare.png")]
    paths.append(atomic_write_text(out / "compare.md", comparison_markdown(table)))
    paths.append(write_json(out / "compare.json", table))
    return paths


# ----------------------------------------------------------------------------- HaDES


def plot_hades_fitness(rows: Sequence[Mapping], *, title: str | None = None) -> Figure:
    """HaDES meta-training: population mean and generation best fitness (return of policies
    trained on each candidate dataset) and the periodic evaluation of the ES mean, against
    generation. ``rows``: metric rows (``read_metrics``) with ``fitness_mean``."""
    recs = [r for r in rows if "fitness_mean" in r]
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    g = np.array([r.get("generation", i) for i, r in enumerate(recs)], float)
    for key, lab in (("fitness_mean", "population mean"), ("fitness_best", "generation best")):
        v = np.array([np.nan if r.get(key) is None else r[key] for r in recs], float)
        draw_series(ax, g, v, label=lab)
    ev = [(r.get("generation"), r["eval_mean_return"]) for r in rows
          if r.get("eval_mean_return") is not None]  # fmt: skip
    if ev:
        gx, gy = map(np.asarray, zip(*ev, strict=True))
        ax.plot(gx, gy, "s-", color="C2", ms=4, label="ES mean: fresh policies")
        if len(ev) == 1:
            _note(ax, "ES mean evaluated once", loc="lower right")
    style_axes(ax, None, "generation", "return on the real environment")
    ax.legend(fontsize=8)
    fig.suptitle(title or "HaDES meta-training", fontsize=12)
    return fig


def _pca(x: np.ndarray, fit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(projection matrix (D, 2), mean, explained variance ratio (2,))`` fitted on ``fit``."""
    mu = fit.mean(0)
    _, s, vt = np.linalg.svd(fit - mu, full_matrices=False)
    var = s**2
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    if vt.shape[0] >= 2:
        return vt[:2].T, mu, ratio[:2]
    return np.eye(fit.shape[1], 2), mu, np.pad(ratio, (0, 2 - len(ratio)))


def plot_hades_dataset(
    states: Any,
    targets: Any,
    *,
    discrete: bool,
    visited: Any = None,
    target: str | None = None,
    image: bool = False,
    title: str | None = None,
) -> Figure:
    """The distilled dataset. Vector states: the dataset's states on the first two principal
    components (fitted on dataset + visited states; axes say the share of variance each
    explains), coloured by action as categories with a legend of action names (continuous
    actions: a colour bar of the first action dimension); with ``visited`` (states a policy
    trained on the dataset visits) a second panel shows them behind the dataset. For 2-D
    states the axes are the named state dimensions instead of PCA. Image states
    (``image=True``): one picture per state, titled with its action name."""
    states = np.asarray(states, float)
    targets = np.asarray(targets, float)
    n = states.shape[0]
    labels = targets.argmax(-1) if discrete else targets.reshape(n, -1)[:, 0]
    na = targets.shape[-1] if discrete else 0
    anames = action_names(target, na) if discrete else []
    name = title or f"HaDES distilled dataset{': ' + target if target else ''} (N={n})"
    if image:
        cols = min(n, 8)
        rows_ = math.ceil(n / cols)
        fig = Figure(figsize=(1.7 * cols, 1.9 * rows_ + 0.5), layout="constrained")
        axes = fig.subplots(rows_, cols, squeeze=False).ravel()
        from matplotlib import colormaps

        hues = colormaps["tab10"](np.arange(states.shape[-1]) % 10)[:, :3]
        for i, a in enumerate(axes):
            a.axis("off")
            if i < n:
                img = np.clip(np.einsum("hwc,cd->hwd", np.clip(states[i], 0, None), hues), 0, 1)
                a.imshow(img, interpolation="nearest")
                a.set_title(anames[labels[i]] if discrete else f"a={labels[i]:.2f}", fontsize=8)
        fig.suptitle(name + "; colour: channel, title: action", fontsize=11)
        return fig
    flat_s = states.reshape(n, -1)
    vis = None if visited is None else np.asarray(visited, float).reshape(-1, flat_s.shape[1])
    d = flat_s.shape[1]
    if d == 2:
        proj, mu, ratio = np.eye(2), np.zeros(2), None
        axis_names = state_names(target, 2)
    else:
        fit = np.concatenate([flat_s, vis]) if vis is not None and len(vis) else flat_s
        proj, mu, ratio = _pca(flat_s, fit)
        axis_names = [f"PC {i + 1} ({ratio[i]:.0%} of variance)" for i in range(2)]
    ps = (flat_s - mu) @ proj
    pv = None if vis is None else (vis - mu) @ proj
    npan = 2 if pv is not None else 1
    fig = Figure(figsize=(5.4 * npan + 1.2, 4.4), layout="constrained")
    axes = fig.subplots(1, npan, squeeze=False, sharex=True, sharey=True)[0]

    def dataset(ax, marker, size):
        if discrete:
            for a in range(na):
                sel = labels == a
                if sel.any():
                    ax.scatter(ps[sel, 0], ps[sel, 1], s=size, marker=marker, color=f"C{a % 10}",
                               edgecolor="black", lw=0.5, label=anames[a], zorder=3)  # fmt: skip
            return None
        return ax.scatter(ps[:, 0], ps[:, 1], c=labels, cmap="coolwarm", s=size, marker=marker,
                          edgecolor="black", lw=0.5, zorder=3)  # fmt: skip

    sc = dataset(axes[0], "o", 60)
    style_axes(axes[0], "dataset states, colour: action", axis_names[0], axis_names[1])
    if pv is not None:
        ax = axes[1]
        ax.scatter(pv[:, 0], pv[:, 1], s=5, alpha=0.35, c="0.5", label="visited by the policy")
        dataset(ax, "*", 110)
        style_axes(ax, "states visited by a policy trained on it", axis_names[0], axis_names[1])
    if discrete:
        handles, labs = axes[-1].get_legend_handles_labels()
        fig.legend(handles, labs, loc="outside right center", fontsize=8, title="action",
                   title_fontsize=8)  # fmt: skip
    elif sc is not None:
        cb = fig.colorbar(sc, ax=list(axes), pad=0.01)
        cb.set_label("action (first dimension)", fontsize=8)
    fig.suptitle(name, fontsize=12)
    if ratio is not None:
        _caption(fig, f"PCA fitted on dataset{' + visited' if vis is not None else ''} "
                 f"states ({d} dimensions); the two components explain {ratio.sum():.0%}",
                 ha="center", va="bottom", fontsize=8, color="0.35")  # fmt: skip
    return fig


# ----------------------------------------------------------------------------- synthetic envs


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
    fig = Figure(figsize=(7.4, 4.6), layout="constrained")
    ax, strip = fig.subplots(2, 1, sharex=True, height_ratios=[6, 1])
    g = np.array([r["generation"] for r in gens], float)
    draw_series(ax, g, np.array([r["fitness_mean"] for r in gens], float), label="population mean")
    draw_series(ax, g, np.array([r.get("fitness_best", np.nan) for r in gens], float),
                label="population best")  # fmt: skip
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
    ax.legend(fontsize=7.5, loc="best")
    what = (
        f"synthetic {({'scb': 'contextual bandit (SCB)', 'mdp': 'MDP'}).get(kind, kind)}"
        if kind
        else "synthetic environment"
    )
    fig.suptitle(title or f"Meta-training a {what}" + (f" for {target}" if target else ""),
                 fontsize=12)  # fmt: skip
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
    (ny, nx)}``; ``dims``: the two dimensions shown (named from :data:`STATE_NAMES`). One
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
    fig = Figure(figsize=(5.6, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.scatter(rs[:, dims[0]], rs[:, dims[1]], s=4, alpha=0.3, color="C0",
               label=f"real {target or 'env'}, random policy (n={len(rs)})")  # fmt: skip
    ax.scatter(ins[:, dims[0]], ins[:, dims[1]], s=4, alpha=0.5, color="C1",
               label=f"synthetic initial states (n={len(ins)})")  # fmt: skip
    style_axes(ax, None, names[dims[0]], names[dims[1]])
    ax.legend(fontsize=8, markerscale=3)
    fig.suptitle(title or "Synthetic initial states vs real visited states", fontsize=12)
    _caption(fig, "states in the normalised observation space (meta.targets)",
             ha="center", va="bottom", fontsize=8, color="0.35")  # fmt: skip
    return fig


# ----------------------------------------------------------------------------- saving


def save(fig: Figure, path: str | os.PathLike, dpi: int = 130) -> Path:
    """``ued.host.save_figure`` (atomic) at ``dpi`` with a tight bounding box."""
    from ued.host import save_figure

    return save_figure(fig, path, dpi=dpi, bbox_inches="tight")


FigureFn = Callable[..., Figure]

__all__ = [
    "ACTION_NAMES",
    "BRANCH_NAMES",
    "CURRICULUM_PANELS",
    "DESCRIPTOR_NAMES",
    "LEARNING_PANELS",
    "METRIC_NAMES",
    "STATE_NAMES",
    "action_names",
    "auto_smoothing",
    "clean_name",
    "compare_runs",
    "comparison_markdown",
    "comparison_table",
    "curriculum_panels",
    "descriptor_label",
    "draw_series",
    "ema",
    "final_level_scores",
    "final_scores",
    "iqm_interval",
    "load_metrics",
    "metric_label",
    "num_seeds",
    "plot_curriculum",
    "plot_hades_dataset",
    "plot_hades_fitness",
    "plot_learning_curves",
    "plot_level_evolution",
    "plot_per_level_solve_rate",
    "plot_synth_initial_states",
    "plot_synth_meta_training",
    "plot_synth_reward_map",
    "save",
    "seed_band",
    "state_names",
    "style_axes",
    "write_comparison",
]
