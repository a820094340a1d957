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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ued.stats import t_interval

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
        lo, hi = (float(np.clip(b, 0.0, 1.0)) for b in t_interval(seed_sr))  # solve rates
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


__all__ = ["CI_METHOD", "eval_report", "report_markdown", "t_interval"]
