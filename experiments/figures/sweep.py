"""Curves of a sweep run (``openued train --sweep``): one colour per configuration, its seeds
as thin lines and their mean as a thick one. Host only; nothing is jittable.

The rows are the run's ``metrics.jsonl``, one per configuration per update (``config_id``,
``config``: ``ued.sweep.split_lane_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from experiments.figures.style import legend_outside, style_axes

# those of these a sweep run recorded (with a finite value) are drawn, one panel each
SWEEP_METRICS = ("eval/validation_solve_rate", "rollout/return", "score/mean")


def sweep_series(rows: Sequence[dict], metric: str) -> dict[int, tuple[dict, np.ndarray, np.ndarray]]:
    """``{config_id: (config, updates (T,), values (T, K))}`` of ``metric`` (rows without it
    skipped; one seed gives ``(T, 1)``)."""
    out: dict[int, tuple[dict, list, list]] = {}
    for r in rows:
        if "config_id" not in r or r.get(metric) is None:
            continue
        v = r[metric]
        cfg, us, vs = out.setdefault(int(r["config_id"]), (dict(r.get("config", {})), [], []))
        us.append(r.get("update", r.get("generation")))
        vs.append([np.nan if x is None else x for x in (v if isinstance(v, list) else [v])])
    return {c: (cfg, np.asarray(us, float), np.asarray(vs, float))
            for c, (cfg, us, vs) in sorted(out.items())}  # fmt: skip


def plot_sweep(rows: Sequence[dict], metrics: Sequence[str] = SWEEP_METRICS) -> Figure | None:
    """One panel per metric of ``metrics`` the run recorded with a finite value (no empty
    panels); ``None`` when it recorded none."""
    panels = [(m, sweep_series(rows, m)) for m in metrics]
    panels = [(m, s) for m, s in panels
              if any(np.isfinite(v).any() for _, _, v in s.values())]  # fmt: skip
    if not panels:
        return None
    fig = Figure(figsize=(5.2 * len(panels) + 2.4, 3.8), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (metric, series) in zip(axes, panels, strict=True):
        for i, (c, (cfg, us, vs)) in enumerate(series.items()):
            color = f"C{i % 10}"
            seen = np.isfinite(vs).any(axis=1)  # updates without this metric (eval) are gaps
            us, vs = us[seen], vs[seen]
            k = vs.shape[1]
            for s in range(k if k > 1 else 0):
                ax.plot(us, vs[:, s], color=color, lw=0.6, alpha=0.45)
            label = f"{c}: " + ", ".join(f"{n}={v:g}" for n, v in cfg.items()) + f" (n = {k})"
            ax.plot(us, np.nanmean(vs, axis=1), color=color, lw=2.0, marker=".", label=label)
        style_axes(ax, metric, "update", metric.split("/")[-1].replace("_", " "))
    fig.suptitle("Sweep: mean over seeds (thick) and each seed (thin), per configuration",
                 fontsize=10)  # fmt: skip
    legend_outside(axes[-1], title="configuration (n = seeds)")
    fig.text(0.5, -0.02, "Configurations whose values are equal draw on top of each other (the "
             "last one listed shows); per-seed values are in metrics.jsonl.", ha="center",
             fontsize=7.5, color="0.35")  # fmt: skip
    return fig


__all__ = ["SWEEP_METRICS", "plot_sweep", "sweep_series"]
