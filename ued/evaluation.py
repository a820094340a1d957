"""Evaluating a student on fixed sets of levels.

``make_evaluator`` returns a jittable ``evaluate(key, net_params, levels, env_params) ->
EvalResult`` that plays ``num_attempts`` independent episodes on every level (one parallel
environment per attempt, each counting only its first episode), so a level's solve rate is a
share of exactly ``num_attempts`` episodes. An attempt not finished within ``max_steps`` counts as
unsolved with length ``max_steps`` (use the env's episode limit so every attempt finishes).
It is :func:`ued.rollout.rollout` keeping only per-environment episode counters, so thousands
of levels cost no trajectory memory; a recurrent student keeps its state within each episode.

Aggregating across seeds (:func:`iqm`, :func:`iqm_interval`, :func:`iqm_ci`, t-intervals) is
:mod:`ued.stats`; those names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ued.env import Environment
from ued.networks import ActorCritic
from ued.rollout import rollout_levels
from ued.stats import IQMResult, iqm, iqm_ci, iqm_interval
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


__all__ = ["EvalResult", "IQMResult", "iqm", "iqm_ci", "iqm_interval", "make_evaluator"]
