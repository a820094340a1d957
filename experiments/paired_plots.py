"""Figures of PAIRED runs (``maze-paired``, ``maze-minimax``, ``maze-population-paired``). Host
only; nothing is jittable.

Like :mod:`experiments.figures`, each figure function takes data and returns a
``matplotlib.figure.Figure`` built without pyplot, so a notebook can call it too:

* :func:`plot_paired_curves`: the teacher's regret estimate (and its reward), the protagonist's
  and the antagonists' returns on the teacher's levels, and what those levels look like (BFS
  shortest path over the solvable ones, share solvable, walls), plus the teacher's policy
  entropy, against env steps (mean over seeds with a 95% bootstrap band);
* :func:`plot_teacher_levels`: a grid of the teacher's levels at several points of training
  (one row per level snapshot, ``RUN_DIR/levels/``: the last batch of levels the teacher built
  before that evaluation), each titled with its shortest path and regret.

:func:`write_paired_plots` writes both for a run (``paired_curves.png``,
``teacher_levels.png``); ``experiments.plots.make_plots`` calls it for PAIRED runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from experiments import figures as F

# PAIRED's metrics (experiments.presets.PAIRED_METRICS) as panels of plot_learning_curves:
# (title, y label, [(metric key, series label)], y in [0, 1])
PAIRED_PANELS: list[tuple[str, str, list[tuple[str, str]], bool]] = [
    (
        "Regret of the teacher's levels",
        "regret (return)",
        [("regret", "regret estimate"), ("teacher_reward", "teacher's reward")],
        False,
    ),
    (
        "Students' returns on the teacher's levels",
        "return",
        [
            ("protagonist_return", "protagonist (mean return)"),
            ("antagonist_return", "best antagonist (max return)"),
        ],
        False,
    ),
    (
        "Teacher's levels: shortest path (solvable only)",
        "BFS shortest path (steps)",
        [("level_path_length", "mean over solvable levels")],
        False,
    ),
    (
        "Teacher's levels: solvable",
        "share of levels",
        [("level_solvable", "solvable")],
        True,
    ),
    ("Teacher's levels: walls", "walls per level", [("level_walls", "walls")], False),
    ("Teacher: policy entropy", "entropy (nats)", [("teacher_entropy", "teacher")], False),
]


def _plain_names(m: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Metric columns with PAIRED's ``cur/<name>`` columns also under ``<name>`` (runs of
    ``ued.make_train`` log them prefixed; ``openued train`` logs the plain names)."""
    out = dict(m)
    for _, _, series, _ in PAIRED_PANELS:
        for key, _ in series:
            if key not in out and f"cur/{key}" in out:
                out[key] = out[f"cur/{key}"]
    return out


def plot_paired_curves(
    metrics: Any,
    *,
    label: str | None = None,
    title: str | None = None,
    smoothing: float | None = None,
) -> Figure:
    """Regret, the students' returns and the teacher's levels (shortest path of the solvable
    ones, share solvable, walls) and the teacher's entropy of one PAIRED run against env steps.
    ``metrics``: a run directory, metric rows or columns. Panels whose metric the run lacks
    (e.g. the antagonist's return of a minimax run) say so."""
    m = _plain_names(F.load_metrics(metrics))
    if label is None:
        label = F._label_of(metrics, 0)
    panels = list(PAIRED_PANELS)
    r = m.get("regret")
    minimax = r is not None and not np.isfinite(np.asarray(r, float)).any()
    if minimax and "teacher_reward" in m:
        # the minimax adversary has no regret estimate (no antagonist): its reward is the
        # protagonist's negative return
        panels[0] = ("Teacher's reward: minus the protagonist's return", "teacher's reward",
                     [("teacher_reward", "teacher's reward")], False)  # fmt: skip
    head = "Minimax adversary: the teacher's reward" if minimax else "PAIRED: regret"
    return F.plot_learning_curves(
        {label: m},
        title=title or f"{head} and the teacher's levels: {label}",
        smoothing=smoothing,
        panels=panels,
    )


def _level_fields(levels: Any) -> dict[str, np.ndarray]:
    if not isinstance(levels, Mapping):
        from flax import serialization

        levels = serialization.to_state_dict(levels)
    return {k: np.asarray(v) for k, v in levels.items()}


def _maze_render() -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """``render(fields) -> uint8[n, h, w, 3]`` of a batch of maze levels (jitted per shape)."""
    import jax

    from envs.maze import MazeLevel, render_level

    fn = jax.jit(jax.vmap(lambda lv: render_level(lv)))

    def render(fields):
        return np.asarray(fn(MazeLevel(**{k: np.asarray(v) for k, v in fields.items()})))

    return render


def _pick(n: int, k: int) -> list[int]:
    """``k`` indices spread over ``range(n)`` (first and last included)."""
    if n <= k:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, k)})


def plot_teacher_levels(
    history: Sequence[tuple[int, Mapping]] | str,
    *,
    render: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = None,
    num_levels: int = 6,
    max_rows: int = 6,
    label: str | None = None,
    title: str | None = None,
    unit_name: str = "update",
) -> Figure | None:
    """The teacher's levels at several points of training: one row per level snapshot (up to
    ``max_rows``, spread over the run, the first and the last included), the first
    ``num_levels`` levels of the batch the teacher built last before that snapshot (seed 0),
    each titled with its BFS shortest path ("unsolvable" when there is none) and its regret
    (the snapshot's scores). ``history``: ``[(unit, snapshot)]`` as from
    ``ued.host.Run.level_history()``, or a run directory. ``render(fields) -> uint8[n, h, w,
    3]`` draws a batch of levels given as ``{field: array (n, ...)}`` (default: the maze's
    ``envs.maze.render_level``). Returns ``None`` without a snapshot holding levels."""
    if isinstance(history, str | Path):
        from ued.host import load_run

        label = label or Path(history).name
        history = load_run(history).level_history()
    rows = []
    seeds = 1
    for unit, snap in history:
        fields = _level_fields(snap.get("levels", {}))
        if not fields:
            continue
        valid = np.asarray(snap.get("valid", np.ones(1, bool)), bool)
        scores = np.asarray(snap.get("scores", np.full(valid.shape, np.nan)), float)
        batched = valid.ndim == 2  # a leading seed axis
        if batched:
            seeds = valid.shape[0]
            fields = {k: v[0] for k, v in fields.items()}
            valid, scores = valid[0], scores[0]
        idx = np.nonzero(valid)[0][:num_levels]
        if not idx.size:
            continue
        desc = snap.get("descriptors")
        names = list(snap.get("descriptor_names") or [])
        path = None
        if desc is not None and "shortest_path" in names:
            d = np.asarray(desc, float)
            d = d[0] if batched else d
            path = d[idx, names.index("shortest_path")]
        rows.append((int(unit), {k: v[idx] for k, v in fields.items()}, scores[idx], path))
    if not rows:
        return None
    rows = [rows[i] for i in _pick(len(rows), max_rows)]
    render = render or _maze_render()
    ncols = max(len(r[2]) for r in rows)
    fig = Figure(figsize=(1.9 * ncols + 0.6, 2.15 * len(rows) + 0.8), layout="constrained")
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    for r, (unit, fields, scores, path) in enumerate(rows):
        images = render(fields)
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(scores):
                ax.set_visible(False)
                continue
            ax.imshow(images[c], interpolation="nearest")
            parts = []
            if path is not None:
                parts.append("unsolvable" if path[c] < 0 else f"path {int(path[c])}")
            if np.isfinite(scores[c]):
                parts.append(f"regret {scores[c]:.2g}")
            ax.set_title(", ".join(parts), fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{unit_name} {unit}", fontsize=9)
    fig.suptitle(title or f"Levels built by the teacher{': ' + label if label else ''}",
                 fontsize=12)  # fmt: skip
    seed_text = f"seed 0 of {seeds}" if seeds > 1 else "1 seed"
    caption = (
        f"rows: level snapshots ({unit_name} {rows[0][0]} to {rows[-1][0]}), each the last "
        f"batch of levels the teacher built by then; {seed_text}; path: BFS shortest path "
        "from the agent to the goal (steps); regret: the curriculum's regret estimate"
    )
    F._caption(fig, F._wrap(caption, 25 * ncols + 15))
    return fig


def paired_learning_check(metrics: Any, warmup: float = 0.5) -> dict:
    """The learning check of a PAIRED run from its per-update metrics (a run directory, rows or
    columns with a seed axis). Warm-up is the first ``warmup`` share of the updates; every
    interval is a 95% Student-t interval over seeds (:func:`experiments.report.t_interval`).

    * ``path_length_slope``: per seed, the least-squares slope (steps per 100 updates) of
      ``level_path_length`` (mean BFS shortest path of the teacher's solvable levels of an
      update) over the updates after warm-up; passes when the mean and the interval's lower end
      are above 0.
    * ``solvable``: per seed, the mean of ``level_solvable`` after warm-up; passes at >= 0.5.
    * ``protagonist_solve_rate``: per seed, the mean over the updates after warm-up of the
      protagonist's solve rate on the teacher's levels (``cur/level/solve_rate``: per level, the
      share of its finished training episodes that were solved, averaged over the levels);
      passes inside [0.1, 0.9].

    Also the first and last tenth of the run's path length, solvable share and regret, to show
    the trend. JSON-able."""
    from experiments.report import t_interval

    m = _plain_names(F.load_metrics(metrics))
    upd = F._seeds(m["update"])[:, 0]
    n = len(upd)
    if n < 4:
        raise ValueError(f"a learning check needs at least 4 updates, got {n}")
    after = upd > upd[0] + warmup * (upd[-1] - upd[0])

    def per_seed(key):
        return F._seeds(m[key]) if key in m else np.full((n, 1), np.nan)

    def summary(v, passes):
        v = np.asarray(v, float)
        a, b = t_interval(v)
        mean = float(np.nanmean(v))
        return {"mean": mean, "ci95": [a, b], "per_seed": v.tolist(), "passes": passes(mean, a)}

    path = per_seed("level_path_length")
    slopes = []
    for s in range(path.shape[1]):
        ok = after & np.isfinite(path[:, s])
        slopes.append(np.polyfit(upd[ok], path[ok, s], 1)[0] * 100 if ok.sum() > 2 else np.nan)
    solv = np.nanmean(per_seed("level_solvable")[after], 0)
    pro = np.nanmean(per_seed("cur/level/solve_rate")[after], 0)
    tenth = max(1, n // 10)
    def mean_or_none(a):  # None (JSON null) where a metric has no finite value, e.g. the
        a = a[np.isfinite(a)]  # regret of a minimax run, which has no antagonist
        return float(a.mean()) if a.size else None

    trend = {
        k: [mean_or_none(per_seed(k)[:tenth]), mean_or_none(per_seed(k)[-tenth:])]
        for k in ("level_path_length", "level_solvable", "level_walls", "regret",
                  "protagonist_return", "cur/level/solve_rate")
    }  # fmt: skip
    res = {
        "updates": int(upd[-1]),
        "seeds": int(path.shape[1]),
        "env_steps_per_student": int(F._seeds(m["env_steps"])[-1, 0]) if "env_steps" in m else None,
        "warmup_updates": int(upd[~after][-1]),
        # the slope's mean and the lower end of its interval above 0; the shares: their means
        "path_length_slope_per_100_updates": summary(slopes, lambda m, lo: m > 0 and lo > 0),
        "solvable_after_warmup": summary(solv, lambda m, lo: m >= 0.5),
        "protagonist_solve_rate_after_warmup": summary(pro, lambda m, lo: 0.1 <= m <= 0.9),
        "first_vs_last_tenth": trend,
    }
    return res


def write_paired_plots(run: Any, out_dir: str | Path, label: str | None = None) -> list[Path]:
    """Write ``paired_curves.png`` and (with level snapshots) ``teacher_levels.png`` of a
    ``ued.host.Run`` (``load_run``) into ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    label = label or Path(run.run_dir).name
    written = [F.save(plot_paired_curves(run.metrics, label=label), out / "paired_curves.png")]
    fig = plot_teacher_levels(run.level_history(), label=label)
    if fig is not None:
        written.append(F.save(fig, out / "teacher_levels.png"))
    return written


__all__ = [
    "PAIRED_PANELS",
    "paired_learning_check",
    "plot_paired_curves",
    "plot_teacher_levels",
    "write_paired_plots",
]


if __name__ == "__main__":  # python -m experiments.paired_plots RUN_DIR [OUT.json]
    import json
    import sys

    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m experiments.paired_plots RUN_DIR [OUT.json]")
    text = json.dumps(paired_learning_check(sys.argv[1]), indent=1)
    if len(sys.argv) == 3:
        Path(sys.argv[2]).write_text(text + "\n")
    print(text)
