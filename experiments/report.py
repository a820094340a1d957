"""Evaluation numbers for a paper: per-set means with 95% intervals over seeds. Host only.

:func:`eval_report` turns the evaluation results of ``experiments.cli.make_eval_fn``
(``{set name: (level names, EvalResult)}``, leaves ``(N,)`` for one seed or ``(K, N)`` for K
seeds) into one JSON-able dict. It keeps the keys of ``experiments.cli.eval_summary``
(``<set>_solve_rate``, ``<set>_return``, ``<set>_length``, ``prefab/<name>``; a float for one
seed, a list of K floats otherwise) and adds, per evaluation set, an object::

    "prefab": {"mean": 0.41, "ci95": [0.30, 0.52], "ci_method": "...", "per_seed": [...],
               "num_seeds": K, "num_levels": N, "return": ..., "length": ...,
               "iqm": {"value": ..., "ci95": [lo, hi], "method": "..."}}

a per-level table ``"per_level": {set: {level name: [solve rate per seed]}}`` (every set but
``validation``, whose levels are random draws without names of their own), and the headline:
``"headline"`` / ``"mean_solve_rate"`` is the prefab set's mean solve rate when there is one
(else the first set's), never a mean over the levels of all sets pooled, where a validation
set of 100 levels would outweigh the 8 prefabs. ``"set_balanced_solve_rate"`` is the mean of
the per-set means.

The interval of ``mean`` is a Student-t 95% interval over the K seed means (each seed mean is
the mean over the set's levels); with one seed it is ``[null, null]``. ``iqm`` is the
interquartile mean over seeds x levels with rliable's 95% stratified-bootstrap interval.

:func:`paired_learning_check` is the learning check of a PAIRED run from its per-update
metrics (trends of the teacher's levels, the protagonist's solve rate, t-intervals over seeds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ued.stats import RATE, t_interval

CI_METHOD = (
    "Student t, 95%, over the per-seed means (each the mean over the set's levels), clipped to "
    "[0, 1]"
)


def _per_seed(x: Any) -> np.ndarray:
    """``(K, N)`` float64 from ``(N,)`` or ``(K, N)``."""
    a = np.asarray(x, np.float64)
    return a[None] if a.ndim == 1 else a.reshape(-1, a.shape[-1])


def _scalar_or_list(a: np.ndarray, batched: bool) -> Any:
    return [float(x) for x in a] if batched else float(a[0])


def eval_report(
    results: Mapping[str, tuple[Any, Any]],
    *,
    iqm_reps: int = 2000,
    seed: int = 0,
    headline_set: str | None = None,
) -> dict:
    """The evaluation report (see the module docstring). ``results``: ``{set: (names,
    EvalResult)}`` with ``solve_rate``, ``mean_return``, ``mean_length`` of shape ``(N,)`` or
    ``(K, N)``. ``headline_set``: the set of the headline (default ``prefab`` when present,
    else the first set). ``iqm_reps``: bootstrap replications of the IQM interval (0: no IQM).
    Every value is a float, list or dict (``json.dumps`` ready after ``ued.host.jsonable``,
    which turns NaN into ``null``)."""
    from ued.host import jsonable

    out: dict[str, Any] = {}
    per_level: dict[str, dict[str, list[float]]] = {}
    sets: dict[str, dict] = {}
    for set_name, (names, r) in results.items():
        batched = np.ndim(r.solve_rate) == 2
        sr = _per_seed(r.solve_rate)
        ret = _per_seed(r.mean_return)
        length = _per_seed(r.mean_length)
        seed_sr = sr.mean(-1)
        # eval_summary's keys, same values
        out[f"{set_name}_solve_rate"] = _scalar_or_list(seed_sr, batched)
        out[f"{set_name}_return"] = _scalar_or_list(ret.mean(-1), batched)
        out[f"{set_name}_length"] = _scalar_or_list(length.mean(-1), batched)
        if set_name == "prefab":
            for i, n in enumerate(names):
                out[f"prefab/{n}"] = _scalar_or_list(sr[:, i], batched)
        lo, hi = t_interval(seed_sr, bounds=RATE)  # nan (null) from one seed: no interval
        obj = {
            "mean": float(seed_sr.mean()),
            "ci95": [lo, hi],
            "ci_method": CI_METHOD,
            "per_seed": [float(x) for x in seed_sr],
            "num_seeds": int(sr.shape[0]),
            "num_levels": int(sr.shape[1]),
            "return": float(ret.mean()),
            "length": float(length.mean()),
        }
        if iqm_reps > 0:
            from ued.evaluation import iqm_interval

            v, ilo, ihi = iqm_interval({set_name: sr}, reps=iqm_reps, seed=seed)[set_name]
            if sr.shape[0] < 2:  # one seed: no interval
                ilo = ihi = float("nan")
            obj["iqm"] = {
                "value": v,
                "ci95": [ilo, ihi],
                "method": "IQM over seeds x levels, 95% stratified bootstrap over seeds "
                f"(rliable, percentile, {iqm_reps} reps, seed {seed})",
            }
        sets[set_name] = obj
        if set_name != "validation":
            per_level[set_name] = {
                str(n): [float(x) for x in sr[:, i]] for i, n in enumerate(names)
            }
    out.update(sets)
    out["per_level"] = per_level
    if sets:
        head = headline_set or ("prefab" if "prefab" in sets else next(iter(sets)))
        if head not in sets:
            raise ValueError(f"headline_set: no evaluation set {head!r} (have {', '.join(sets)})")
        h = sets[head]
        out["headline"] = {"set": head, "mean": h["mean"], "ci95": h["ci95"]}
        out["mean_solve_rate"] = h["mean"]
        out["set_balanced_solve_rate"] = float(np.mean([s["mean"] for s in sets.values()]))
    return jsonable(out)


def report_markdown(report: Mapping) -> str:
    """A short Markdown summary of :func:`eval_report`: one row per set, then the per-level
    table (mean over seeds)."""
    sets = [k for k, v in report.items() if isinstance(v, Mapping) and "ci95" in v and "mean"
            in v and k != "headline"]  # fmt: skip

    def num(x):
        return "n/a" if x is None else f"{x:.3f}"

    lines = [
        "| set | levels | seeds | mean solve rate [95% CI] | IQM [95% CI] |",
        "|---|---|---|---|---|",
    ]
    for s in sets:
        e = report[s]
        iq = e.get("iqm")
        iqs = f"{num(iq['value'])} [{num(iq['ci95'][0])}, {num(iq['ci95'][1])}]" if iq else ""
        lines.append(
            f"| {s} | {e['num_levels']} | {e['num_seeds']} | {num(e['mean'])} "
            f"[{num(e['ci95'][0])}, {num(e['ci95'][1])}] | {iqs} |"
        )
    for s, table in report.get("per_level", {}).items():
        lines += ["", f"| {s} level | solve rate (mean over seeds) | per seed |", "|---|---|---|"]
        for n, v in table.items():
            vals = [x for x in v if x is not None]
            mean = float(np.mean(vals)) if vals else None
            lines.append(f"| {n} | {num(mean)} | {', '.join(num(x) for x in v)} |")
    lines += ["", f"Mean: {CI_METHOD}."]
    return "\n".join(lines) + "\n"


CVAR_PROTOCOL = (
    "SFL (Rutherford et al. 2024): N levels drawn from the level space; rollouts with a first "
    "key rank them by win rate, the worst ceil(alpha N) are scored with the rollouts of a second "
    "key (all N re-evaluated)"
)
CVAR_INTERVAL = "Student t, 95%, over the per-seed values, clipped to [0, 1]; one seed: none"


def cvar_report(result: Any, *, space: str, num_attempts: int, greedy: bool, seed: int) -> dict:
    """The ``cvar`` object of ``eval.json`` from a ``ued.robustness.CVaRResult`` (leaves
    unbatched for one seed, or with a leading seed axis ``K``). Per alpha (``by_alpha``, in the
    order given): the number of worst levels and the win rate on them as
    :func:`ued.stats.seed_interval` (``per_seed``, ``mean``, ``ci95`` clipped to [0, 1], ``n``
    seeds; one seed: no interval), and the selection-biased win rate of the same levels; the
    mean win rate over all N levels (``mean_win_rate``, which alpha = 1 equals) and the
    selection rollouts' mean. Host only; JSON-able after ``ued.host.jsonable``."""
    from ued.stats import seed_interval

    k_seeds, n_alphas = int(np.size(result.mean)), len(result.alphas)
    cv = np.asarray(result.cvar, np.float64).reshape(k_seeds, n_alphas)
    biased = np.asarray(result.biased_cvar, np.float64).reshape(k_seeds, n_alphas)
    by_alpha = []
    for i, (a, k) in enumerate(zip(result.alphas, result.num_worst, strict=True)):
        b = seed_interval(biased[:, i], bounds=RATE)
        by_alpha.append({
            "alpha": float(a),
            "num_worst": int(k),
            "win_rate": seed_interval(cv[:, i], bounds=RATE),
            "biased_win_rate": {"per_seed": b["per_seed"], "mean": b["mean"]},
        })  # fmt: skip
    n_levels = int(np.shape(result.score_rate)[-1])
    return {
        "protocol": CVAR_PROTOCOL,
        "space": space,
        "num_levels": n_levels,
        "num_attempts": int(num_attempts),
        "greedy": bool(greedy),
        "seed": int(seed),
        "num_seeds": k_seeds,
        "alphas": [float(a) for a in result.alphas],
        "by_alpha": by_alpha,
        "mean_win_rate": seed_interval(np.reshape(result.mean, -1), bounds=RATE),
        "selection_mean_win_rate": seed_interval(
            np.reshape(result.selection_mean, -1), bounds=RATE
        ),
        "interval": CVAR_INTERVAL,
    }


def paired_learning_check(metrics: Any, warmup: float = 0.5) -> dict:
    """The learning check of a PAIRED run from its per-update metrics (a run directory, rows or
    columns with a seed axis). Warm-up is the first ``warmup`` share of the updates; every
    interval is a 95% Student-t interval over seeds (:func:`t_interval`).

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
    the trend. JSON-able. Host only."""
    # the metric columns and PAIRED's names for them are the figures' (openued plot reads the
    # same run); the figures package never imports this module
    from experiments.figures import load_metrics, paired_columns

    m = paired_columns(load_metrics(metrics))

    def by_seed(key):  # (updates, K)
        a = np.asarray(m[key], np.float64)
        return a.reshape(a.shape[0], -1)

    upd = by_seed("update")[:, 0]
    n = len(upd)
    if n < 4:
        raise ValueError(f"a learning check needs at least 4 updates, got {n}")
    after = upd > upd[0] + warmup * (upd[-1] - upd[0])

    def per_seed(key):
        return by_seed(key) if key in m else np.full((n, 1), np.nan)

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
        "env_steps_per_student": int(by_seed("env_steps")[-1, 0]) if "env_steps" in m else None,
        "warmup_updates": int(upd[~after][-1]),
        # the slope's mean and the lower end of its interval above 0; the shares: their means
        "path_length_slope_per_100_updates": summary(slopes, lambda m, lo: m > 0 and lo > 0),
        "solvable_after_warmup": summary(solv, lambda m, lo: m >= 0.5),
        "protagonist_solve_rate_after_warmup": summary(pro, lambda m, lo: 0.1 <= m <= 0.9),
        "first_vs_last_tenth": trend,
    }
    return res


__all__ = [
    "CI_METHOD",
    "CVAR_INTERVAL",
    "CVAR_PROTOCOL",
    "cvar_report",
    "eval_report",
    "paired_learning_check",
    "report_markdown",
    "t_interval",
]


if __name__ == "__main__":  # python -m experiments.report paired-check RUN_DIR [OUT.json]
    import json
    import sys
    from pathlib import Path

    if len(sys.argv) not in (3, 4) or sys.argv[1] != "paired-check":
        sys.exit("usage: python -m experiments.report paired-check RUN_DIR [OUT.json]")
    text = json.dumps(paired_learning_check(sys.argv[2]), indent=1)
    if len(sys.argv) == 4:
        Path(sys.argv[3]).write_text(text + "\n")
    print(text)
