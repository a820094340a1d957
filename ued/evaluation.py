"""Evaluating a student on fixed sets of levels, and aggregating results across seeds.

``make_evaluator`` returns a jittable ``evaluate(key, net_params, levels, env_params) ->
EvalResult`` that plays ``num_attempts`` independent episodes on every level (one parallel
environment per attempt, each counting only its first episode), so a level's solve rate is a
share of exactly ``num_attempts`` episodes. An attempt not finished within ``max_steps`` counts as
unsolved with length ``max_steps`` (use the env's episode limit so every attempt finishes).
It is :func:`ued.rollout.rollout` keeping only per-environment episode counters, so thousands
of levels cost no trajectory memory; a recurrent student keeps its state within each episode.

Across seeds, :func:`iqm` is the interquartile mean (mean of the middle 50%, with fractional
weights at the quartile boundaries so it is well defined for any n); :func:`iqm_interval` and
:func:`iqm_ci` give rliable's IQM with its stratified-bootstrap 95% interval (host-side, seeded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from ued.env import Environment
from ued.networks import ActorCritic
from ued.rollout import rollout_levels
from ued.wrappers import AutoReplay, EpisodeStats


@struct.dataclass
class EvalResult:
    """Per-level evaluation results (leaves (N,))."""

    solve_rate: jax.Array  # float32[N] share of attempts solved
    mean_return: jax.Array  # float32[N] mean return over attempts (unfinished: 0)
    mean_length: jax.Array  # float32[N] mean episode length (unfinished: max_steps)


def make_evaluator(
    env: Environment,
    student: ActorCritic,
    num_attempts: int = 10,
    max_steps: int = 250,
    greedy: bool = False,
) -> Callable[[jax.Array, Any, Any, Any], EvalResult]:
    """``evaluate(key, net_params, levels, env_params) -> EvalResult``; jittable.

    Args:
      env: the raw environment (wrapped here with auto-replay and episode statistics).
      student: the actor-critic.
      num_attempts: episodes per level (>= 1).
      max_steps: steps simulated per attempt (>= the env's episode limit to finish them all).
      greedy: the policy's mode (argmax / mean) instead of sampling from it.
    """
    if not isinstance(num_attempts, int) or num_attempts < 1:
        raise ValueError(f"num_attempts must be an integer >= 1, got {num_attempts!r}")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    wrapped = EpisodeStats(AutoReplay(env))

    def evaluate(key, net_params, levels, env_params=None) -> EvalResult:
        ep = env.default_params if env_params is None else env_params
        n = jax.tree.leaves(levels)[0].shape[0]
        # attempt-major copies: copy a of level i sits at a * n + i
        reps = jax.tree.map(lambda x: jnp.tile(x, (num_attempts,) + (1,) * (x.ndim - 1)), levels)
        cnt = rollout_levels(
            key,
            wrapped,
            reps,
            net_params,
            ep,
            net=student,
            num_steps=max_steps,
            greedy=greedy,
            record_trajectory=False,
            count_episodes=True,
        ).counters
        fin = cnt.num_episodes > 0
        solved = jnp.where(fin, cnt.first_solved, 0.0).reshape(num_attempts, n)
        ret = jnp.where(fin, cnt.first_return, 0.0).reshape(num_attempts, n)
        length = jnp.where(fin, cnt.first_length, float(max_steps)).reshape(num_attempts, n)
        return EvalResult(solved.mean(0), ret.mean(0), length.mean(0))

    return evaluate


def iqm(x: Any, axis: int = 0) -> np.ndarray:
    """Interquartile mean along ``axis``: the mean of the middle 50% of the sorted values, with
    the boundary values weighted fractionally (``scipy.stats.trim_mean``-like, exact for any n).
    NaNs are not allowed. Host-side."""
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
    n: int


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
    """IQM of per-seed values ``x`` (1-D; NaNs dropped) with a bootstrap interval over seeds:
    :func:`iqm_interval` with the seeds as runs of one task. Host-side."""
    v = np.asarray(x, np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return IQMResult(float("nan"), float("nan"), float("nan"), 0)
    m, lo, hi = iqm_interval({"x": v[:, None]}, num_bootstrap, seed, confidence)["x"]
    return IQMResult(m, lo, hi, int(v.size))


__all__ = ["EvalResult", "IQMResult", "iqm", "iqm_ci", "iqm_interval", "make_evaluator"]
