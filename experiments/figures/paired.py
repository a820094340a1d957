"""Figures of PAIRED runs (``maze-paired``, ``maze-minimax``, ``maze-population-paired``). Host
only; nothing is jittable.

* :func:`plot_paired_curves`: the teacher's regret estimate (and its reward), the protagonist's
  and the antagonists' returns on the teacher's levels, and what those levels look like (BFS
  shortest path over the solvable ones, share solvable, walls), plus the teacher's policy
  entropy, against env steps (mean over seeds with a 95% bootstrap band);
* :func:`plot_teacher_levels`: a grid of the teacher's levels at several points of training
  (one row per level snapshot: the last batch of levels the teacher built before that
  evaluation), each titled with its shortest path and regret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from experiments.figures.curves import plot_learning_curves, uniform_entropy
from experiments.figures.levels import level_fields, maze_renderer
from experiments.figures.style import _caption, _label_of, _wrap, load_metrics

# PAIRED's metrics (curricula.paired_registration.PAIRED_METRICS) as panels of plot_learning_curves:
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
ENTROPY_PANEL = PAIRED_PANELS[-1][0]


def paired_columns(m: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
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
    teacher_actions: int | None = None,
) -> Figure:
    """Regret, the students' returns and the teacher's levels (shortest path of the solvable
    ones, share solvable, walls) and the teacher's entropy of one PAIRED run against env steps.
    ``metrics``: a run directory, metric rows or columns. ``teacher_actions``: the number of
    the teacher's actions (the level space's ``num_edit_actions``, e.g. 169 cells on a 13x13
    maze); the entropy panel then shows the uniform policy's entropy, ln of it, as a dashed
    line, the scale its zoomed axis needs. Panels whose metric the run lacks (e.g. the
    antagonist's return of a minimax run) are left out and named in the caption."""
    m = paired_columns(load_metrics(metrics))
    if label is None:
        label = _label_of(metrics, 0)
    panels = list(PAIRED_PANELS)
    r = m.get("regret")
    minimax = r is not None and not np.isfinite(np.asarray(r, float)).any()
    if minimax and "teacher_reward" in m:
        # the minimax adversary has no regret estimate (no antagonist): its reward is the
        # protagonist's negative return
        panels[0] = ("Teacher's reward: minus the protagonist's return", "teacher's reward",
                     [("teacher_reward", "teacher's reward")], False)  # fmt: skip
    refs = {ENTROPY_PANEL: uniform_entropy(teacher_actions)} if teacher_actions else {}
    head = "Minimax adversary: the teacher's reward" if minimax else "PAIRED: regret"
    return plot_learning_curves(
        {label: m},
        title=title or f"{head} and the teacher's levels: {label}",
        smoothing=smoothing,
        panels=panels,
        references=refs,
    )


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
        fields = level_fields(snap.get("levels", {}))
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
    render = render or maze_renderer()
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
    _caption(fig, _wrap(caption, 25 * ncols + 15))
    return fig


__all__ = ["PAIRED_PANELS", "paired_columns", "plot_paired_curves", "plot_teacher_levels"]
