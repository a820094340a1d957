"""The toolkit's statistics over seeds: Student-t intervals of a mean, the interquartile mean and
rliable's IQM interval. Host-side only (NumPy, SciPy, rliable); every consumer (``openued
eval`` and ``compare``, the evaluation report, the figures, SAMPLR's ground-truth evaluation)
takes its intervals from here, and each interval comes with the ``n`` it was computed from.

* :func:`t_interval`: the two-sided Student-t interval of the mean of per-seed values,
  ``mean -+ t_{(1 + confidence) / 2, n - 1} * sd / sqrt(n)`` (SciPy's exact quantile).
* :func:`seed_interval`: the same interval as a JSON-ready record ``{"per_seed", "mean",
  "ci95", "n"}``; :func:`summarize` maps it over a dict of per-seed arrays and
  :func:`intervals_apart` tells whether two such intervals are disjoint.
* :func:`iqm`: the interquartile mean (mean of the middle 50%, with fractional weights at the
  quartile boundaries so it is well defined for any n).
* :func:`iqm_interval` / :func:`iqm_ci`: rliable's IQM with its stratified-bootstrap interval
  (seeded, reproducible).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np


def _finite(values: Any) -> np.ndarray:
    v = np.asarray(values, np.float64).reshape(-1)
    return v[np.isfinite(v)]


RATE = (0.0, 1.0)  # the bounds of a rate or a share: its intervals never leave them


def t_interval(
    per_seed: Any, confidence: float = 0.95, bounds: tuple[float, float] | None = None
) -> tuple[float, float]:
    """Student-t ``confidence`` interval of the mean of ``per_seed`` values (NaNs dropped):
    ``(low, high)`` floats; ``(nan, nan)`` with fewer than two values (one seed gives no
    interval), ``(m, m)`` when they are all equal. ``bounds``: the range the quantity lives in
    (:data:`RATE` for a rate); the interval is clipped to it. Host."""
    from scipy import stats

    v = _finite(per_seed)
    if v.size < 2:
        return float("nan"), float("nan")
    m = float(v.mean())
    se = float(v.std(ddof=1) / np.sqrt(v.size))
    if se == 0:
        return m, m
    h = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1) * se)
    lo, hi = m - h, m + h
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return lo, hi


def seed_interval(
    values: Any, confidence: float = 0.95, bounds: tuple[float, float] | None = None
) -> dict[str, Any]:
    """``{"per_seed", "mean", "ci95", "n"}`` over the finite values of ``values`` (one per
    seed): the mean and its :func:`t_interval` (clipped to ``bounds``). With fewer than two
    values there is no interval: ``[None, None]`` (and ``"mean": None`` for none); NaN per-seed
    values become ``None``. ``n``: the values the mean is computed from. Host."""
    v = np.asarray(values, np.float64).reshape(-1)
    per = [float(x) if math.isfinite(x) else None for x in v]
    f = v[np.isfinite(v)]
    if f.size == 0:
        return {"per_seed": per, "mean": None, "ci95": [None, None], "n": 0}
    m = float(f.mean())
    if f.size == 1:
        return {"per_seed": per, "mean": m, "ci95": [None, None], "n": 1}
    lo, hi = t_interval(f, confidence, bounds)
    return {"per_seed": per, "mean": m, "ci95": [lo, hi], "n": int(f.size)}


def is_rate(name: str) -> bool:
    """Whether a quantity named ``name`` is a rate or a share (its intervals lie in [0, 1])."""
    return any(w in name for w in ("rate", "share", "fraction", "solved"))


def summarize(per_seed: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """:func:`seed_interval` of every entry of ``{name: per-seed values}``; the intervals of
    rates and shares (:func:`is_rate` of the name) are clipped to [0, 1]. Host."""
    return {
        k: seed_interval(np.asarray(v), bounds=RATE if is_rate(k) else None)
        for k, v in per_seed.items()
    }


def intervals_apart(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """The intervals of two :func:`seed_interval` records do not overlap (``False`` when either
    has no interval: no mean, or a single seed). Host."""
    if a["mean"] is None or b["mean"] is None or None in (*a["ci95"], *b["ci95"]):
        return False
    return a["ci95"][1] < b["ci95"][0] or b["ci95"][1] < a["ci95"][0]


def iqm(x: Any, axis: int = 0) -> np.ndarray:
    """Interquartile mean along ``axis``: the mean of the middle 50% of the sorted values, with
    the boundary values weighted fractionally (``scipy.stats.trim_mean``-like, exact for any n).
    NaNs are not allowed. Host-side; float64 (a scalar for 1-D input)."""
    a = np.sort(np.asarray(x, np.float64), axis=axis)
    a = np.moveaxis(a, axis, -1)
    n = a.shape[-1]
    if n == 0:
        raise ValueError("iqm of an empty array")
    # weight of sorted value i: overlap of [i, i+1) with [n/4, 3n/4), normalised by n/2
    lo, hi = n / 4.0, 3.0 * n / 4.0
    i = np.arange(n)
    w = np.clip(np.minimum(i + 1, hi) - np.maximum(i, lo), 0.0, 1.0)
    return (a * w).sum(-1) / w.sum()


class IQMResult(NamedTuple):
    iqm: float
    low: float  # lower end of the interval (2.5% bootstrap percentile at 95%)
    high: float  # upper end
    n: int  # finite per-seed values used


def iqm_interval(
    scores: Mapping[str, Any], reps: int = 2000, seed: int = 0, confidence: float = 0.95
) -> dict[str, tuple[float, float, float]]:
    """``{label: (IQM, low, high)}``: the interquartile mean over runs x tasks of each entry of
    ``scores`` (float[K runs, L tasks], no NaN; empty entries are left out) and its
    stratified-bootstrap interval, from ``rliable.library.get_interval_estimates`` with
    ``rliable.metrics.aggregate_iqm`` (percentile method, ``reps`` replications). rliable 1.2
    resamples with NumPy's global generator, which is seeded with ``seed`` for the call and
    restored after it, so the intervals are reproducible. Host-side."""
    import warnings

    from rliable import library as rly
    from rliable import metrics as rm

    data = {k: np.asarray(v, float) for k, v in scores.items() if np.size(v)}
    if not data:
        return {}
    saved = np.random.get_state()
    try:
        np.random.seed(seed)
        with warnings.catch_warnings():
            # arch (under rliable) deprecates random_state; rliable 1.2 still passes it
            warnings.simplefilter("ignore", FutureWarning)
            point, ci = rly.get_interval_estimates(
                data,
                lambda x: np.array([rm.aggregate_iqm(x)]),
                reps=reps,
                confidence_interval_size=confidence,
                random_state=np.random.RandomState(seed),
            )
    finally:
        np.random.set_state(saved)
    return {k: (float(point[k][0]), float(ci[k][0, 0]), float(ci[k][1, 0])) for k in data}


def iqm_ci(x: Any, num_bootstrap: int = 2000, confidence: float = 0.95, seed: int = 0) -> IQMResult:
    """IQM with a stratified-bootstrap interval (:func:`iqm_interval`) of ``x``: per-seed
    values (1-D; NaNs dropped; the seeds as runs of one task) or ``(K seeds, L tasks)`` scores
    (e.g. per-level solve rates: the levels as tasks, so a few seeds still give an interval
    that is not just their min and max). Fewer than two seeds give no interval (``nan``
    ends). ``n``: the seeds. Host-side."""
    a = np.asarray(x, np.float64)
    if a.ndim < 2:
        a = _finite(a)[:, None]
    a = a[np.isfinite(a).all(1)]
    if a.shape[0] == 0:
        return IQMResult(float("nan"), float("nan"), float("nan"), 0)
    if a.shape[0] < 2:
        return IQMResult(float(iqm(a.reshape(-1))), float("nan"), float("nan"), 1)
    m, lo, hi = iqm_interval({"x": a}, num_bootstrap, seed, confidence)["x"]
    return IQMResult(m, lo, hi, int(a.shape[0]))


__all__ = [
    "IQMResult",
    "RATE",
    "is_rate",
    "intervals_apart",
    "iqm",
    "iqm_ci",
    "iqm_interval",
    "seed_interval",
    "summarize",
    "t_interval",
]
