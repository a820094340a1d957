"""Several runs (or curricula) side by side: their learning curves overlaid and a table of final
evaluation scores (IQM over seeds x levels with 95% stratified-bootstrap intervals from
rliable). Host only; nothing is jittable.

* :func:`compare_runs`: the figure and the table (:func:`comparison_table`);
* :func:`comparison_markdown`: the table as Markdown;
* :func:`write_comparison`: ``compare.png``, ``compare.md`` and ``compare.json`` in a directory.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from experiments.figures.curves import (
    LEARNING_PANELS,
    _draw_panels,
    final_level_scores,
    panels_with_data,
    without_unpaired_solve_rate,
)
from experiments.figures.style import (
    _note,
    _runs,
    _seed_note,
    _seeds,
    _si,
    _wrap,
    _x_axis,
    load_metrics,
    num_seeds,
    save,
    style_axes,
)
from ued.stats import RATE, iqm_interval, t_interval


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
    With one seed rliable's interval is the value itself (resampling one run changes nothing):
    it is kept here as rliable gives it, and the figure and the Markdown table show none.
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
            method = "stratified bootstrap, levels as tasks"
            if sc.shape[1] == 1:
                # one task: a bootstrap over a few seeds only spans their min and max
                lo, hi = t_interval(sc[:, 0], bounds=RATE)
                method = "Student-t over seeds (one score per seed)"
            if sc.shape[0] < 2:  # one seed: no interval
                lo = hi = None
            row[set_name] = {
                "iqm": iqm,
                "ci95": [lo, hi],
                "interval": method,
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
                cells += ["n/a (not evaluated)", "n/a"]
            elif e["ci95"][0] is None:
                cells += [f"{e['iqm']:.3f} (n={e['seeds']} seed: no interval)", f"{e['mean']:.3f}"]
            else:
                n = f"n={e['seeds']} seeds x {e['tasks']} levels"
                cells += [f"{e['iqm']:.3f} [{e['ci95'][0]:.3f}, {e['ci95'][1]:.3f}] ({n})",
                          f"{e['mean']:.3f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Solve rate at each run's last evaluation. {table['aggregate']}; "
                 f"interval: {table['interval']}; a set scored by one number per seed "
                 "(no per-level scores) gets a 95% Student-t interval over seeds instead, "
                 "clipped to [0, 1].")  # fmt: skip
    return "\n".join(lines) + "\n"


def _single_step(runs: list[tuple[str, dict]], panel) -> float | None:
    """The step at which every run has its only value of ``panel``'s series (``None`` when a
    run has several values, or they differ in step)."""
    steps = set()
    for _, m in runs:
        x, _ = _x_axis(m)
        for key, _ in panel[2]:
            if key in m:
                ok = np.isfinite(_seeds(m[key])).any(1)
                if ok.sum() > 1:
                    return None
                steps |= {float(v) for v in x[ok]}
    return steps.pop() if len(steps) == 1 else None


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
    evaluation IQM per run with its 95% stratified-bootstrap interval (rliable; none for a run
    of one seed). An evaluation every run made only once is not drawn as a curve panel: the
    IQM panel shows it. ``runs``: a list of run directories / metric rows / metric columns, or
    ``{label: run}``; ``labels`` default to the directory names. Every run keeps its colour in
    every panel. Returns ``(figure, table)`` with the table of :func:`comparison_table` (render
    it with :func:`comparison_markdown`)."""
    rs = _runs(runs, labels)
    table = comparison_table({lab: m for lab, m in rs}, reps=reps, seed=seed)
    rs, notes = without_unpaired_solve_rate(rs)
    panels = [
        *LEARNING_PANELS[:2],  # training return; solve rate beside the finished share
        ("Evaluation: prefab mazes", "solve rate", [("eval/prefab_solve_rate", "prefab")], True),
        (
            "Evaluation: validation levels",
            "solve rate",
            [("eval/validation_solve_rate", "validation")],
            True,
        ),  # fmt: skip
    ]
    panels, _ = panels_with_data(rs, panels)
    once = {}
    for p in list(panels):
        x0 = _single_step(rs, p) if p[0].startswith("Evaluation") else None
        if x0 is not None:
            once[p[0]] = x0
            panels.remove(p)
    ncols = 2 if len(panels) == 4 else max(len(panels), 1)
    nrows = max(1, math.ceil(len(panels) / ncols))
    fig = Figure(figsize=(4.0 * (ncols + 1) + 2.0, 3.3 * nrows + 1.0), layout="constrained")
    gs = fig.add_gridspec(nrows, ncols + 1)
    axes = [fig.add_subplot(gs[i // ncols, i % ncols]) for i in range(len(panels))]
    axes.append(fig.add_subplot(gs[:, ncols]))
    info = _draw_panels(list(zip(axes[:-1], panels, strict=True)), rs, panels, smoothing,
                        legends=False)  # fmt: skip
    ax = axes[-1]
    sets = [s for s in ("prefab", "validation") if any(s in r for r in table["runs"])]
    width = 0.8 / max(len(sets), 1)
    for si, s in enumerate(sets):
        for ri, r in enumerate(table["runs"]):
            e = r.get(s)
            if e is None:
                continue
            y = ri + (si - (len(sets) - 1) / 2) * width
            lo, hi = e["ci95"]
            err = None if lo is None else [[e["iqm"] - lo], [hi - e["iqm"]]]  # one seed: none
            ax.errorbar(e["iqm"], y, xerr=err, fmt="o", color=f"C{ri % 10}",
                        mfc="white" if si else None, capsize=3)  # fmt: skip
    style_axes(ax, "Final evaluation: IQM, 95% CI",
               "solve rate" + ("  (filled: prefab, open: validation)" if len(sets) > 1 else ""),
               "run")  # fmt: skip
    ax.set_yticks(range(len(rs)), [f"{lab}\n{num_seeds(m)} seed{'s' * (num_seeds(m) > 1)}"
                                   for lab, m in rs], fontsize=8)  # fmt: skip
    ax.set_ylim(len(rs) - 0.5, -0.5)
    ax.set_xlim(-0.03, 1.03)
    if not sets:
        _note(ax, "no evaluation recorded")
    handles = [axes[0].plot([], [], color=f"C{i % 10}", lw=2)[0] for i in range(len(rs))]
    fig.legend(handles, [f"{lab} (n = {num_seeds(m)})" for lab, m in rs],
               loc="outside right center", fontsize=8, title="run (seeds)",
               title_fontsize=8)  # fmt: skip
    fig.suptitle(title or f"Comparison of {len(rs)} runs", fontsize=12)
    ks = sorted({num_seeds(m) for _, m in rs})
    foot = ["curves: " + _seed_note("/".join(map(str, ks)), info["smoothed"])]
    tasks = []
    for s in sets:
        n = sorted({r[s]["tasks"] for r in table["runs"] if s in r})
        each = "/".join(map(str, n))
        tasks.append(f"{s}: the set's mean solve rate" if n == [1] else f"{s}: {each} levels")
    foot.append("right: IQM over seeds x tasks (" + "; ".join(tasks) + ") with its 95% "
                "stratified-bootstrap interval over seeds (rliable); a run of one seed has no "
                "interval")  # fmt: skip
    for t, x0 in once.items():
        foot.append(f"{t.lower()}: every run evaluated once, after {_si(x0)} env steps "
                    "(the right panel)")  # fmt: skip
    if info["single"]:
        foot.append("one value only: " + "; ".join(info["single"]))
    foot += notes
    both = LEARNING_PANELS[1]
    if any(p[0] == both[0] for p in panels) and len(rs) > 1:
        foot.append(f"{both[0].lower()}: solid, {both[2][0][1]}; dashed, {both[2][1][1]}")
    fig.supxlabel("\n".join(_wrap(f, 190) for f in foot), fontsize=7.5, color="0.35")
    return fig, table


def write_comparison(
    runs: Any,
    out_dir: str | os.PathLike,
    labels: Sequence[str] | None = None,
    *,
    cvar: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> list[Path]:
    """``compare_runs`` written to ``OUT_DIR/compare.png``, ``compare.md`` and ``compare.json``
    (atomically); returns the paths (``openued plot RUN RUN ... --compare --out DIR``).

    ``cvar``: ``{label: run directory, eval.json or its cvar object}`` (:func:`experiments.
    figures.robustness.load_cvar`); where any run has the alpha-CVaR numbers of ``openued eval
    --sample-levels``, ``compare.md`` gets their table, ``compare.json`` a ``cvar`` entry
    ``{label: cvar object}`` and ``cvar.png`` the CVaR-against-alpha figure."""
    from experiments.figures.robustness import cvar_markdown, load_cvar, plot_cvar
    from ued.host import atomic_write_text, ensure_dir, write_json

    out = ensure_dir(out_dir)
    fig, table = compare_runs(runs, labels, **kwargs)
    text = comparison_markdown(table)
    found = {lab: c for lab, c in ((lab, load_cvar(s)) for lab, s in (cvar or {}).items()) if c}
    paths = [save(fig, out / "compare.png")]
    if found:
        table["cvar"] = found
        text += "\n" + cvar_markdown(found)
        paths.append(save(plot_cvar(dict(cvar)), out / "cvar.png"))
    paths.append(atomic_write_text(out / "compare.md", text))
    paths.append(write_json(out / "compare.json", table))
    return paths


__all__ = [
    "compare_runs",
    "comparison_markdown",
    "comparison_table",
    "final_scores",
    "write_comparison",
]
