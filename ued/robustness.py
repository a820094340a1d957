"""Robustness of a student over a level space: the alpha-CVaR of its win rate (SFL's protocol).

"No Regrets: Investigating and Improving Regret Approximations for Curriculum Discovery"
(Rutherford et al., NeurIPS 2024) reports robustness as the win rate on the worst alpha share
of levels sampled from the level space. Its evaluation code (amacrutherford/
sampling-for-learnability, ``sfl/deploy/eval_*_1_rollout.py`` and ``eval_*_2_analyse.py``)
samples N levels, rolls the student out on every one of them under two rollout seeds, sorts
the levels by the first seed's win rates (``jnp.argsort``, a stable sort) and averages the
*second* seed's win rates over the first ``n`` of that order. Scoring the chosen levels on the
rollouts that chose them would be biased low (the worst of N noisy rates are partly unlucky
draws); the second seed's rollouts are independent of the choice. This module is that
protocol as pure functions:

* :func:`worst_count`: how many levels the worst alpha share is, ``ceil(alpha * N)`` (alpha
  read as the decimal it is written as: ``0.07 * 100`` is 7, not 8 from binary rounding; so
  at least one level for any alpha in (0, 1]; the SFL code's ``int(alpha * N)`` agrees
  wherever ``alpha * N`` is an integer, as in its settings);
* :func:`cvar`: the mean of the ``worst_count`` smallest win rates (alpha = 1: the mean);
* :func:`two_key_cvar`: per alpha, the selection rollouts pick the worst levels, the scoring
  rollouts score them;
* :func:`make_cvar_evaluator`: ``fn(key, net_params) -> CVaRResult`` over N levels drawn with
  ``space.sample``, from any ``evaluate(key, net_params, levels) -> EvalResult`` (usually
  :func:`ued.evaluation.make_evaluator`), so any level space works, one's own included.

Everything here is jittable (alphas and N static); ``jax.vmap`` the evaluator over the
parameters of several seeds. Intervals over seeds are :mod:`ued.stats`' (host side).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from ued.level_space import LevelSpace, require_sample_conformance


def check_alpha(alpha: Any, what: str = "alpha") -> float:
    """``alpha`` as a float, or ``ValueError`` unless it is a number in (0, 1]. Host-side: a
    traced alpha is refused (``TypeError``), since the share's size is a static shape."""
    if isinstance(alpha, jax.core.Tracer):
        raise TypeError(f"{what} must be a Python number (static under jit), got a traced value")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise ValueError(f"{what} must be a number in (0, 1], got {alpha!r}")
    a = float(alpha)
    if not (math.isfinite(a) and 0.0 < a <= 1.0):
        raise ValueError(f"{what} must be a number in (0, 1], got {alpha!r}")
    return a


def worst_count(num_levels: int, alpha: float) -> int:
    """``ceil(alpha * num_levels)``: the number of levels in the worst alpha share (>= 1).

    ``alpha`` is read as the shortest decimal that round-trips to it (``repr``), so products
    that are integers in decimal stay integers (``0.07 * 100 = 7``, where binary floats give
    7.000000000000001). Host-side; ``ValueError`` for ``num_levels < 1`` or alpha outside (0, 1].
    """
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 1:
        raise ValueError(f"the number of levels must be an integer >= 1, got {num_levels!r}")
    a = check_alpha(alpha)
    return max(1, math.ceil(Fraction(repr(a)) * num_levels))


def cvar(win_rates: jax.Array, alpha: float) -> jax.Array:
    """float32[...]: the alpha-CVaR of ``win_rates`` (float32[..., N]), the mean of its
    :func:`worst_count` ``(N, alpha)`` smallest values along the last axis. Jittable (``alpha``
    a Python number; ``ValueError`` outside (0, 1]). ``alpha = 1`` gives the mean; ties do not
    matter (the value of the k smallest is unique). A NaN sorts last, so it enters the mean
    (and makes it NaN) only when the share reaches it."""
    x = jnp.asarray(win_rates, jnp.float32)
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"cvar: win_rates must have a last axis of N >= 1 levels, got {x.shape}")
    k = worst_count(int(x.shape[-1]), alpha)
    return jnp.sort(x, axis=-1)[..., :k].mean(-1)


def worst_order(win_rates: jax.Array) -> jax.Array:
    """int32[N]: level indices from the lowest win rate up (stable: ties keep the sampling
    order, as the SFL code's ``jnp.argsort``; the levels are i.i.d. draws, so that order says
    nothing about them). Jittable."""
    return jnp.argsort(jnp.asarray(win_rates, jnp.float32), stable=True).astype(jnp.int32)


@struct.dataclass
class CVaRResult:
    """Robustness of one student over ``N`` sampled levels, for ``A`` alphas (leaves unbatched;
    a vmap over seeds adds a leading axis).

    ``cvar[a]`` is the headline number: the scoring rollouts' win rate on the worst
    ``num_worst[a]`` levels as ranked by the selection rollouts. ``biased_cvar[a]`` scores the
    same levels with the rollouts that chose them (low by the selection bias; kept to show it).
    ``mean`` is the scoring rollouts' mean over all ``N`` levels, so ``cvar`` at alpha = 1 is
    ``mean`` exactly; ``selection_mean`` is the selection rollouts' mean (an estimate of the same
    quantity from independent rollouts).
    """

    cvar: jax.Array  # float32[A]
    biased_cvar: jax.Array  # float32[A]
    mean: jax.Array  # float32[]
    selection_mean: jax.Array  # float32[]
    select_rate: jax.Array  # float32[N] per-level win rate of the selection rollouts (key 1)
    score_rate: jax.Array  # float32[N] per-level win rate of the scoring rollouts (key 2)
    alphas: tuple[float, ...] = struct.field(pytree_node=False, default=())
    num_worst: tuple[int, ...] = struct.field(pytree_node=False, default=())


def two_key_cvar(
    select_rate: jax.Array, score_rate: jax.Array, alphas: Sequence[float]
) -> CVaRResult:
    """Per alpha, the mean of ``score_rate`` over the :func:`worst_count` levels with the lowest
    ``select_rate`` (:func:`worst_order`), both float32[N] over the same levels. Jittable
    (alphas static; ``ValueError`` for one outside (0, 1] or none)."""
    r1 = jnp.asarray(select_rate, jnp.float32)
    r2 = jnp.asarray(score_rate, jnp.float32)
    if r1.ndim != 1 or r1.shape != r2.shape or r1.shape[0] < 1:
        raise ValueError(
            f"two_key_cvar: select_rate and score_rate must both be float32[N], N >= 1; got "
            f"{r1.shape} and {r2.shape}"
        )
    alphas = tuple(check_alpha(a) for a in alphas)
    if not alphas:
        raise ValueError("two_key_cvar: give at least one alpha in (0, 1]")
    n = int(r1.shape[0])
    ks = tuple(worst_count(n, a) for a in alphas)
    order = worst_order(r1)
    s1, s2 = r1[order], r2[order]
    return CVaRResult(
        cvar=jnp.stack([s2[:k].mean() for k in ks]),
        biased_cvar=jnp.stack([s1[:k].mean() for k in ks]),
        # summed in the sorted order, as cvar's prefixes: alpha = 1 is the mean bit for bit
        mean=s2.mean(),
        selection_mean=s1.mean(),
        select_rate=r1,
        score_rate=r2,
        alphas=alphas,
        num_worst=ks,
    )


def make_cvar_evaluator(
    evaluate: Callable[..., Any],
    space: LevelSpace,
    num_levels: int,
    alphas: Sequence[float],
) -> Callable[[jax.Array, Any], CVaRResult]:
    """``fn(key, net_params) -> CVaRResult``: SFL's robustness evaluation. Jittable.

    ``fn`` splits ``key`` into three (``k_levels, k_select, k_score = jax.random.split(key,
    3)``), draws ``num_levels`` levels with ``space.sample_batch(k_levels, num_levels)``,
    evaluates them with ``evaluate(k_select, net_params, levels)`` (the selection rollouts) and
    again with ``evaluate(k_score, net_params, levels)`` (the scoring rollouts), and returns
    :func:`two_key_cvar` of the two ``solve_rate`` arrays. Every level is re-evaluated, as in
    the SFL code (both rollout seeds cover all N levels): the chosen levels' scores come from
    rollouts independent of the choice, one compiled ``evaluate`` serves both calls, and
    alpha = 1 is the mean exactly.

    Args:
      evaluate: ``evaluate(key, net_params, levels) -> result`` with ``result.solve_rate``
        float32[N] (:func:`ued.evaluation.make_evaluator`'s, or one's own).
      space: any :class:`ued.LevelSpace` (checked with ``ued.testing.check_sample``).
      num_levels: ``N`` (int >= 1).
      alphas: the shares, each in (0, 1].
    """
    require_sample_conformance(space, "make_cvar_evaluator")
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 1:
        raise ValueError(
            f"make_cvar_evaluator: num_levels must be an integer >= 1, got {num_levels!r}"
        )
    alphas = tuple(check_alpha(a) for a in alphas)
    if not alphas:
        raise ValueError("make_cvar_evaluator: give at least one alpha in (0, 1]")

    def fn(key: jax.Array, net_params: Any) -> CVaRResult:
        k_levels, k_select, k_score = jax.random.split(key, 3)
        levels = space.sample_batch(k_levels, num_levels)
        r1 = evaluate(k_select, net_params, levels).solve_rate
        r2 = evaluate(k_score, net_params, levels).solve_rate
        return two_key_cvar(r1, r2, alphas)

    return fn


__all__ = [
    "CVaRResult",
    "check_alpha",
    "cvar",
    "make_cvar_evaluator",
    "two_key_cvar",
    "worst_count",
    "worst_order",
]
